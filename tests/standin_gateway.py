"""A loopback stand-in for what the LiteLLM proxy cannot do without its database.

`/key/info`, `/user/info`, expired and blocked keys, budgets, CBorg's IP gate:
the real proxy needs Postgres (or a licence) for those, so this server answers
them with exactly LiteLLM's shapes and messages. Each answer names the LiteLLM
source file it copies. Every account is registered per key by the test, so one
server serves the whole session; unknown keys get LiteLLM's 401.

Only loopback, only the standard library, one thread per request.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

LITELLM_VERSION = "1.72.6"  # an older release, for the x-litellm-version header


def litellm_error(message: str, type_: str | None, param: str | None, code: int | str) -> dict:
    """`ProxyException.to_dict()` inside ``{"error": ...}``; `code` is a string.

    litellm/proxy/_types.py (class ProxyException) and the exception handler in
    litellm/proxy/proxy_server.py (openai_exception_handler).
    """
    return {"error": {"message": message, "type": type_, "param": param, "code": str(code)}}


# ── the answers, each from LiteLLM's source ─────────────────────────────────


def invalid_key(key: str) -> tuple[int, dict]:
    # litellm/proxy/auth/user_api_key_auth.py (1.5x–1.7x): the 401 of get_key_object,
    # re-worded "... Received API Key = {abbreviated}, Key Hash (Token) ={hash}. Unable to
    # find token in cache or `LiteLLM_VerificationTokenTable`". LiteLLM abbreviates the
    # key (sk-...Xm0w); the stand-in echoes the whole key, the worst case, so the tests
    # prove the doctor scrubs whatever a gateway echoes.
    return 401, litellm_error(
        f"Authentication Error, Invalid proxy server token passed. Received API Key = {key}, "
        "Key Hash (Token) =3f9d1c0e8b7a6f5e4d3c2b1a09f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2a1f0. "
        "Unable to find token in cache or `LiteLLM_VerificationTokenTable`",
        "token_not_found_in_db", "key", 401,
    )


def invalid_key_new() -> tuple[int, dict]:
    # litellm/proxy/auth/resolvers/exceptions.py (KeyNotFoundError) with
    # litellm/constants.py INVALID_API_KEY_ERROR_MESSAGE (1.108).
    return 401, litellm_error(
        "Authentication Error, Invalid API key provided.", "token_not_found_in_db", "key", 401
    )


def expired_key(key: str, expires: datetime, status: int = 400) -> tuple[int, dict]:
    # litellm/proxy/auth/user_api_key_auth.py: ProxyException(type=expired_key,
    # code=400, param=api_key) in 1.5x (the whole key in `param`), 401 in 1.108.
    now = datetime.now(timezone.utc)
    return status, litellm_error(
        f"Authentication Error - Expired Key. Key Expiry time {expires} and current time {now}",
        "expired_key", key, status,
    )


def blocked_key() -> tuple[int, dict]:
    # litellm/proxy/auth/user_api_key_auth.py: raise Exception("Key is blocked. ...")
    # wrapped by litellm/proxy/auth/auth_exception_handler.py into auth_error, 401.
    return 401, litellm_error(
        "Authentication Error, Key is blocked. Update via `/key/unblock` if you're an admin.",
        "auth_error", "None", 401,
    )


def ip_forbidden(address: str) -> tuple[int, dict]:
    # litellm/proxy/auth/auth_utils.py (pre_db_read_auth_checks, Check 3):
    # HTTPException(403, detail=f"Access forbidden: IP address {ip} not allowed.")
    # → auth_error via litellm/proxy/auth/auth_exception_handler.py.
    return 403, litellm_error(
        f"Access forbidden: IP address {address} not allowed.", "auth_error", "None", 403
    )


def cloudflare_forbidden() -> tuple[int, str]:
    """A 403 that is not LiteLLM's: an IP gate in front of it (undocumented; HTML)."""
    return 403, "<html><head><title>403 Forbidden</title></head><body>Access denied</body></html>"


def key_budget_exceeded(spend: float, max_budget: float, status: int) -> tuple[int, dict]:
    # litellm/proxy/auth/auth_checks.py (virtual_key_max_budget_check):
    # BudgetExceededError(message=f"Budget has been exceeded! Key={...} Current cost: ..."),
    # made a ProxyException(type=budget_exceeded, code=e.status_code) by
    # litellm/proxy/auth/auth_exception_handler.py (_as_proxy_exception). The status is
    # litellm/__init__.py budget_exceeded_status_code: 422 in 1.108, 429 before ("set to
    # 429 to restore the pre-422 budget_exceeded response code"), 400 in older releases.
    return status, litellm_error(
        f"Budget has been exceeded! Key=alice-laptop Current cost: {spend}, "
        f"Max budget: {max_budget}",
        "budget_exceeded", None, status,
    )


def user_budget_exceeded(user: str, spend: float, max_budget: float, status: int) -> tuple[int, dict]:
    # litellm/proxy/auth/auth_checks.py (common_checks, user budget):
    # f"ExceededBudget: User={user_id} over budget. Spend={spend}, Budget={budget}"
    return status, litellm_error(
        f"ExceededBudget: User={user} over budget. Spend={spend}, Budget={max_budget}",
        "budget_exceeded", None, status,
    )


def max_budget_limit() -> tuple[int, dict]:
    # litellm/proxy/hooks/max_budget_limiter.py: HTTPException(429, "Max budget limit
    # reached.") in a pre-call hook; the chat route turns it into a ProxyException
    # (litellm/proxy/common_request_processing.py proxy_exception_from_http_exception, the
    # type from litellm/proxy/common_utils/openai_error_payload.py for status 429).
    return 429, litellm_error("Max budget limit reached.", "rate_limit_error", None, 429)


def rate_limited() -> tuple[int, dict]:
    # litellm/proxy/hooks/parallel_request_limiter.py: ProxyRateLimitError(detail=f"LiteLLM
    # Rate Limit Handler for rate limit type = {rate_limit_type}. Crossed TPM / RPM / Max
    # Parallel Request Limit. current rpm: ...", headers={"retry-after": ...}), 429; the
    # retry-after header is the test's chat_headers.
    return 429, litellm_error(
        "LiteLLM Rate Limit Handler for rate limit type = key. Crossed TPM / RPM / Max "
        "Parallel Request Limit. current rpm: 5, rpm limit: 5, current tpm: 120, tpm limit: "
        "100000, current max_parallel_requests: 5, max_parallel_requests: 5",
        "rate_limit_error", None, 429,
    )


def rate_limited_v3(scope: str, kind: str, limit: int, resets_at: str,
                    window_s: int = 60) -> tuple[int, dict, dict[str, str]]:
    """LiteLLM's v3 limiter (the default since ~1.70; 1.108 and 1.110 alike):
    litellm/proxy/hooks/parallel_request_limiter_v3.py raises ProxyRateLimitError(detail=
    "Rate limit exceeded for {descriptor_key}: {value}. Limit type: {rate_limit_type}. Current
    limit: {n}, Remaining: 0. Limit resets at: %Y-%m-%d %H:%M:%S UTC", headers={"retry-after":
    window, "rate_limit_type": ..., "reset_at": ...}). Returns (status, body, headers)."""
    detail = (f"Rate limit exceeded for {scope}: 5f1c0e2a. Limit type: {kind}. Current limit: "
              f"{limit}, Remaining: 0. Limit resets at: {resets_at}")
    return 429, litellm_error(detail, "rate_limit_error", None, 429), {
        "retry-after": str(window_s), "rate_limit_type": kind, "reset_at": resets_at}


def key_info_internal_error_110() -> tuple[int, dict]:
    # LiteLLM 1.110.x, litellm/proxy/management_endpoints/key_management_endpoints.py
    # (info_key_fn): any unhandled error, "Database not connected" included, becomes
    # ProxyException(message="Internal server error from /key/info. Details are in the proxy
    # server logs.", type="internal_error", code=500). /user/info still says "Database not
    # connected" (internal_user_endpoints.py, handle_exception_on_proxy).
    return 500, litellm_error(
        "Internal server error from /key/info. Details are in the proxy server logs.",
        "internal_error", None, 500,
    )


def no_db_master() -> tuple[int, dict]:
    # litellm/proxy/management_endpoints/key_management_endpoints.py (info_key_fn)
    # and internal_user_endpoints.py (user_info): "Database not connected ..." 500.
    return 500, litellm_error(
        "Database not connected. Connect a database to your proxy - "
        "https://docs.litellm.ai/docs/simple_proxy#managing-auth---virtual-keys",
        "internal_server_error", None, 500,
    )


def no_db_user() -> tuple[int, dict]:
    # litellm/proxy/auth/user_api_key_auth.py: ProxyException("No connected db.",
    # type=no_db_connection, code=400) for a non-master key without a database.
    return 400, litellm_error("No connected db.", "no_db_connection", None, 400)


def model_not_found(model: str) -> tuple[int, dict]:
    # litellm/proxy/route_llm_request.py (ProxyModelNotFoundError, 400, detail={"error":
    # "/chat/completions: Invalid model name passed in model=... Call `/v1/models` ..."}),
    # rendered by proxy_exception_from_http_exception as below.
    return 400, litellm_error(
        f"/chat/completions: Invalid model name passed in model={model}. Call `/v1/models` "
        "to view available models for your key.",
        "invalid_request_error", None, 400,
    )


# ── catalogue like CBorg's, shaped like /model/info ─────────────────────────


def model_row(name: str, underlying: str, free: bool, **info: Any) -> dict:
    """One row of litellm/proxy/proxy_server.py model_info_v1's `data`."""
    costs = (0.0, 0.0) if free else (3e-06, 1.5e-05)
    return {
        "model_name": name,
        "litellm_params": {"model": underlying},
        "model_info": {
            "id": f"id-{name}",
            "mode": "chat",
            "input_cost_per_token": costs[0],
            "output_cost_per_token": costs[1],
            "max_input_tokens": 131072,
            "max_output_tokens": 8192,
            "supports_vision": False,
            "supports_function_calling": True,
            "supports_prompt_caching": False,
            **info,
        },
    }


def cborg_catalogue() -> list[dict]:
    return [
        model_row("lbl/cborg-chat", "openai/lbl-cborg-chat-upstream", True),
        model_row("lbl/cborg-coder", "openai/lbl-cborg-coder-upstream", True),
        model_row("lbl/llama", "openai/lbl-meta-llama-instruct", True),
        model_row("lbl/qwen-coder", "openai/lbl-qwen-coder", True),
        model_row("anthropic/claude-sonnet", "anthropic/claude-sonnet-4-20250514", False,
                  supports_vision=True, supports_prompt_caching=True, max_input_tokens=200000),
        model_row("openai/gpt-4o", "openai/gpt-4o-2024-08-06", False, supports_vision=True),
    ]


# ── accounts and the server ─────────────────────────────────────────────────

Answer = tuple[int, Any]


@dataclass
class Account:
    """How the stand-in treats one key. Fields left None give the happy path."""

    key_info: dict[str, Any] | None = None  # the "info" object of /key/info
    user_info: dict[str, Any] | None = None  # the "user_info" object of /user/info
    auth_error: Answer | None = None  # every authenticated route answers this
    key_info_error: Answer | None = None
    user_info_error: Answer | None = None
    model_info_error: Answer | None = None
    models_error: Answer | None = None
    chat_error: Answer | None = None
    chat_headers: dict[str, str] = field(default_factory=dict)
    chat_delay: float = 0.0  # seconds before the chat answer's headers
    trickle: bool = False  # stream one token every 0.3 s, without end
    break_stream: bool = False  # stream one token, then drop the connection
    cost_header: bool = True
    catalogue: list[dict] = field(default_factory=cborg_catalogue)
    cost_path: str = "/spend/calculate"
    requests: list[str] = field(default_factory=list)


def happy_key_info(**overrides: Any) -> dict[str, Any]:
    """A /key/info "info" object like litellm/proxy/_types.py LiteLLM_VerificationToken."""
    now = datetime.now(timezone.utc)
    info: dict[str, Any] = {
        "key_name": "sk-...Ab12",
        "key_alias": "alice-laptop",
        "spend": 3.25,
        "max_budget": 50.0,
        "expires": (now + timedelta(days=200)).isoformat(),
        "models": [],
        "aliases": {},
        "config": {},
        "user_id": "alice@lbl.gov",
        "team_id": None,
        "max_parallel_requests": 5,
        "metadata": {},
        "tpm_limit": None,
        "rpm_limit": None,
        "budget_duration": "30d",
        "budget_reset_at": (now + timedelta(days=12)).isoformat(),
        "allowed_cache_controls": [],
        "permissions": {},
        "model_spend": {},
        "model_max_budget": {},
        "soft_budget_cooldown": False,
        "blocked": None,
        "litellm_budget_table": None,
        "org_id": None,
        "created_at": (now - timedelta(days=165)).isoformat(),
        "updated_at": now.isoformat(),
        "status": "active",
    }
    info.update(overrides)
    return info


def happy_user_info(**overrides: Any) -> dict[str, Any]:
    now = datetime.now(timezone.utc)
    info: dict[str, Any] = {
        "user_id": "alice@lbl.gov",
        "user_email": "alice@lbl.gov",
        "user_role": "internal_user",
        "spend": 4.5,
        "max_budget": 100.0,
        "budget_duration": "30d",
        "budget_reset_at": (now + timedelta(days=12)).isoformat(),
        "models": [],
    }
    info.update(overrides)
    return info


class StandinGateway:
    """The server: register accounts with `add(key, Account(...))`."""

    def __init__(self) -> None:
        self._accounts: dict[str, Account] = {}
        self.trace_ip = "198.51.100.23"  # what /cdn-cgi/trace says the gateway sees
        self._lock = threading.Lock()
        handler = _make_handler(self)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._server.block_on_close = False  # a stalled answer must not hold up the end
        self.port = int(self._server.server_address[1])
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def add(self, key: str, account: Account | None = None) -> Account:
        account = account or Account()
        with self._lock:
            self._accounts[key] = account
        return account

    def account(self, key: str | None) -> Account | None:
        with self._lock:
            return self._accounts.get(key or "")


def _bearer(headers: Mapping[str, str]) -> str | None:
    value = headers.get("Authorization") or headers.get("authorization")
    if value and value.startswith("Bearer "):
        return value[len("Bearer "):]
    return headers.get("x-litellm-api-key") or headers.get("api-key")


def _make_handler(gateway: StandinGateway) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            return

        def _send(self, status: int, body: Any, headers: Mapping[str, str] | None = None) -> None:
            data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
            headers = dict(headers or {})
            ctype = headers.pop("content-type", None) or (
                "text/html" if isinstance(body, str) else "application/json")
            self.send_response(status)
            self.send_header("content-type", ctype)
            self.send_header("content-length", str(len(data)))
            self.send_header("x-litellm-version", LITELLM_VERSION)
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def _body(self) -> Any:
            length = int(self.headers.get("content-length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                return json.loads(raw) if raw else {}
            except ValueError:
                return {}

        def do_GET(self) -> None:
            self._quietly("GET")

        def do_POST(self) -> None:
            self._quietly("POST")

        def _quietly(self, method: str) -> None:
            # The doctor may give up waiting (timeout tests): that is the point.
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self._route(method, self._body() if method == "POST" else {})

        def _route(self, method: str, body: Any) -> None:
            path = self.path.split("?", 1)[0]
            if path.startswith("/v1/") and path != "/v1/models":
                path = path[3:]
            if path == "/health/liveliness":
                self._send(200, "I'm alive!")
                return
            if path == "/cdn-cgi/trace":  # Cloudflare's edge answers this for every host
                trace = f"fl=1f1\nh=api.cborg.lbl.gov\nip={gateway.trace_ip}\nts=1\n" \
                        "visit_scheme=https\ncolo=SJC\nhttp=http/2\ntls=TLSv1.3\nwarp=off\n"
                self._send(200, trace, {"content-type": "text/plain"})
                return
            key = _bearer(self.headers)
            if not key:
                # litellm/proxy/auth/user_api_key_auth.py: raise Exception("No api key passed in.")
                self._send(401, litellm_error(
                    "Authentication Error, No api key passed in.", "auth_error", "None", 401))
                return
            account = gateway.account(key)
            if account is None:
                self._send(*invalid_key(key))
                return
            account.requests.append(f"{method} {path}")
            if account.auth_error is not None:
                self._send(*account.auth_error)
                return
            if path == "/key/info":
                self._answer(account.key_info_error,
                             {"key": key, "info": account.key_info or happy_key_info()})
            elif path == "/user/info":
                info = account.user_info or happy_user_info()
                self._answer(account.user_info_error, {
                    "user_id": info.get("user_id"), "user_info": info,
                    "keys": [{"key_alias": "alice-laptop", "token": "3f9d1c0e"}], "teams": []})
            elif path == "/model/info":
                self._answer(account.model_info_error, {"data": account.catalogue})
            elif path in ("/v1/models", "/models"):
                data = [{"id": row["model_name"], "object": "model", "created": 1677610602,
                         "owned_by": "openai"} for row in account.catalogue]
                self._answer(account.models_error, {"data": data, "object": "list"})
            elif method == "POST" and path == account.cost_path:
                # litellm/proxy/spend_tracking/spend_management_endpoints.py
                # (calculate_spend): {"cost": float}
                self._send(200, {"cost": 2.4e-05})
            elif method == "POST" and path == "/chat/completions":
                self._chat(account, body)
            else:
                self._send(404, {"detail": "Not Found"})

        def _answer(self, error: Answer | None, ok: Any) -> None:
            if error is not None:
                self._send(*error)
            else:
                self._send(200, ok)

        def _chat(self, account: Account, body: Any) -> None:
            if account.chat_delay:
                time.sleep(account.chat_delay)
            if account.chat_error is not None:
                self._send(*account.chat_error, headers=account.chat_headers)
                return
            model = body.get("model") if isinstance(body, dict) else None
            names = {row["model_name"] for row in account.catalogue}
            if model not in names:
                self._send(*model_not_found(str(model)))
                return
            common = {"x-litellm-model-id": f"id-{model}", "x-litellm-key-spend": "3.25",
                      "x-litellm-key-max-budget": "50.0", **account.chat_headers}
            if body.get("stream") and (account.trickle or account.break_stream):
                self.send_response(200)
                self.send_header("content-type", "text/event-stream; charset=utf-8")
                self.send_header("transfer-encoding", "chunked")
                self.end_headers()
                event = json.dumps({"choices": [{"index": 0, "delta": {"content": "."}}]})
                line = f"data: {event}\n\n".encode()
                for _ in range(1 if account.break_stream else 200):  # or until hung up
                    self.wfile.write(f"{len(line):x}\r\n".encode() + line + b"\r\n")
                    self.wfile.flush()
                    time.sleep(0.3)
                self.close_connection = True  # no terminating chunk: the stream breaks off
                return
            if body.get("stream"):
                chunks = [
                    {"id": "chatcmpl-1", "object": "chat.completion.chunk", "model": model,
                     "choices": [{"index": 0, "delta": {"role": "assistant", "content": word}}]}
                    for word in ("Hel", "lo")
                ]
                payload = "".join(f"data: {json.dumps(c)}\n\n" for c in chunks) + "data: [DONE]\n\n"
                data = payload.encode()
                self.send_response(200)
                self.send_header("content-type", "text/event-stream; charset=utf-8")
                self.send_header("content-length", str(len(data)))
                self.send_header("x-litellm-version", LITELLM_VERSION)
                for name, value in common.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)
                return
            headers = dict(common)
            if account.cost_header:
                headers["x-litellm-response-cost"] = "2.4e-05"
            self._send(200, {
                "id": "chatcmpl-1", "object": "chat.completion", "model": model,
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": "Hello"}}],
                "usage": {"prompt_tokens": 8, "completion_tokens": 2, "total_tokens": 10},
            }, headers=headers)

    return Handler


_STASH = pytest.StashKey[StandinGateway]()


@pytest.fixture(scope="session", name="standin_gateway")
def standin_gateway_fixture(request: pytest.FixtureRequest) -> StandinGateway:
    """One stand-in server for the whole session (kept in the pytest config's stash, so
    test modules that import this fixture share it); tests register their own keys."""
    gateway = request.config.stash.get(_STASH, None)
    if gateway is None:
        gateway = StandinGateway()
        gateway.start()
        request.config.stash[_STASH] = gateway
        request.config.add_cleanup(gateway.stop)
    return gateway
