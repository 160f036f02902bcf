"""What the gateway said, as plain data: LiteLLM error bodies and account/model shapes.

Shared by the gateway checks and clients.paths (which names a tool's error answer), so it
lives below both; each family maps an `ErrorKind` to its own codes.

Pure functions, no I/O. Everything here reads bytes that came from the network,
so every function accepts *any* JSON value (or None) and never raises: a shape
it does not know gives ``None`` fields or the ``OTHER`` kind, not an exception.

How an error answer becomes a kind (first match wins; LiteLLM's wording changed
between versions, so the type and the message decide, the status only breaks ties)::

    error.type / message (case-insensitive)                        kind
    ──────────────────────────────────────────────────────────────  ───────────────
    type budget_exceeded, "Budget has been exceeded", "ExceededBudget",
      "over budget", "Max budget limit reached"                      BUDGET_EXCEEDED
    type expired_key, "Expired Key"                                  KEY_EXPIRED
    "Key is blocked"                                                 KEY_BLOCKED
    "Access forbidden: IP address X not allowed", "IP address…not allowed"
                                                                     IP_NOT_ALLOWED
    "No api key passed in"                                           NO_KEY
    type no_db_connection, "No connected db", "Database not connected",
      "No DB Connected"                                              NO_DB
    type *_model_access_denied, "not allowed to access model"        MODEL_DENIED
    "Only proxy admin can be used"                                   ADMIN_ONLY
    "litellm.<Provider>Error: …", "Received Model Group=" (not 429)  UPSTREAM
    type token_not_found_in_db, "Invalid proxy server token",
      "Invalid API key", other auth_error with 401                   KEY_INVALID
    status 429, type/message "rate limit"                            RATE_LIMITED
    status 403 with a LiteLLM error body ({"error": …} / {"detail": …}) ACCESS_DENIED
    status 403 without a LiteLLM error (CBorg's own IP gate)         FORBIDDEN
    status 404                                                       NOT_FOUND
    status 5xx                                                       SERVER_ERROR
    anything else                                                    OTHER

A RATE_LIMITED answer says which limit it hit (`parse_rate_limit`)::

    message / headers                                                 limit
    ──────────────────────────────────────────────────────────────  ────────────────────
    "Limit type: max_parallel_requests" (v3 limiter, LiteLLM ≥ 1.70),  parallel requests
      "Max parallel request limit reached", v1 figures with
      current max_parallel_requests ≥ max_parallel_requests
    "Limit type: tokens", v1 figures with current tpm ≥ tpm limit     tokens per minute
    "Limit type: requests", other v1 figures                          requests per minute
    "litellm.RateLimitError: …" (the provider behind the gateway)     upstream
    anything else                                                     unknown
    whose: "Rate limit exceeded for api_key|user|team|end_user|model…", "rate limit type = key"
    when it resets: "Limit resets at: … UTC" / `reset_at` header, else `retry-after` seconds
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from enum import Enum
from typing import Any

MESSAGE_LIMIT = 300


class ErrorKind(str, Enum):
    """What a non-2xx answer (or a 2xx with an error body) means for the user."""

    BUDGET_EXCEEDED = "budget_exceeded"
    KEY_EXPIRED = "key_expired"
    KEY_BLOCKED = "key_blocked"
    IP_NOT_ALLOWED = "ip_not_allowed"
    NO_KEY = "no_key"
    NO_DB = "no_db"
    MODEL_DENIED = "model_denied"
    ADMIN_ONLY = "admin_only"
    UPSTREAM = "upstream"  # the provider behind the gateway failed (litellm.XxxError: ...)
    KEY_INVALID = "key_invalid"
    RATE_LIMITED = "rate_limited"
    ACCESS_DENIED = "access_denied"  # LiteLLM's own 403: a route or object this key may not use
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not_found"
    SERVER_ERROR = "server_error"
    OTHER = "other"


@dataclass(frozen=True)
class GatewayError:
    """One error answer, classified. `message` is the gateway's own words, shortened."""

    kind: ErrorKind
    status: int | None
    message: str
    type: str | None = None
    litellm: bool = False  # the body had LiteLLM's {"error": {...}} shape
    scope: str | None = None  # budget: "key", "user", "team", "end_user", ...
    spend: float | None = None
    max_budget: float | None = None
    expires: str | None = None  # as the gateway wrote it
    address: str | None = None  # IP_NOT_ALLOWED: the address the gateway saw

    @property
    def said(self) -> str:
        """The gateway's answer in one short phrase for a finding message."""
        status = f"HTTP {self.status}" if self.status is not None else "no status"
        return f"{status}: {self.message}" if self.message else status


# ── small, total readers ────────────────────────────────────────────────────


def as_text(value: Any, limit: int = MESSAGE_LIMIT) -> str | None:
    """A string field as one line of text; other types (except numbers) give None."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        value = str(value)
    if not isinstance(value, str):
        return None
    text = " ".join(value.split())
    return text[:limit] + ("…" if len(text) > limit else "")


def as_number(value: Any) -> float | None:
    """A finite number from a number or numeric string; anything else is None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def as_int(value: Any) -> int | None:
    number = as_number(value)
    if number is None or abs(number) > 1e15:
        return None
    return int(number)


def as_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return None


def as_datetime(value: Any) -> datetime | None:
    """An aware UTC datetime from an ISO-8601 string or epoch seconds."""
    if isinstance(value, str):
        text = value.strip()
        if not text or len(text) > 64:
            return None
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            return None
    else:
        number = as_number(value)
        if number is None or not 0 <= number < 1e11:
            return None
        try:
            parsed = datetime.fromtimestamp(number, tz=timezone.utc)
        except (OverflowError, OSError, ValueError):
            return None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    try:
        return parsed.astimezone(timezone.utc)
    except (OverflowError, ValueError):
        return None


def as_strings(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(t for t in (as_text(v, 200) for v in value[:1000]) if t)


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


# ── error bodies ────────────────────────────────────────────────────────────

_FLOAT = r"(-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)"
_BUDGET_NUMBERS = (
    re.compile(rf"current cost:\s*{_FLOAT}.*?max budget:\s*{_FLOAT}", re.I),
    re.compile(rf"spend=\s*{_FLOAT}.*?budget=\s*{_FLOAT}", re.I),
)
_IP = re.compile(r"ip address\s+([0-9A-Fa-f:.%]+?)\s+not allowed", re.I)
_UPSTREAM = re.compile(r"\blitellm\.[A-Za-z]*(?:Error|Exception)\b")
_EXPIRY = re.compile(r"expiry time\s+(.+?)\s+and current time", re.I)


_HASH = re.compile(r"\b[0-9a-fA-F]{32,}\b")


def _error_fields(body: Any) -> tuple[str, str | None, bool]:
    """(message, type, is_litellm_shape) from any JSON body; long hashes are elided."""
    message, etype, litellm = _raw_error_fields(body)
    return _HASH.sub("…", message), etype, litellm


def _raw_error_fields(body: Any) -> tuple[str, str | None, bool]:
    root = _mapping(body)
    error = root.get("error")
    if isinstance(error, Mapping):
        message = as_text(error.get("message")) or as_text(error.get("detail")) or ""
        return message, as_text(error.get("type"), 80), "message" in error or "type" in error
    if isinstance(error, str):  # {"error": "..."} (some LiteLLM HTTPException details)
        return as_text(error) or "", None, True
    detail = root.get("detail")
    if isinstance(detail, Mapping):  # FastAPI HTTPException(detail={"error": ...})
        return as_text(detail.get("error")) or as_text(detail.get("message")) or "", None, True
    if isinstance(detail, str):
        return as_text(detail) or "", None, False
    return as_text(root.get("message")) or "", as_text(root.get("type"), 80), False


def _budget_scope(message: str) -> str | None:
    lowered = message.lower()
    for marker, scope in (
        ("end user=", "end_user"), ("teammember=", "team_member"), ("in team=", "team_member"),
        ("team=", "team"),
        ("user=", "user"), ("key=", "key"), ("organization=", "organization"),
        ("project=", "project"), ("tag=", "tag"),
    ):
        if marker in lowered:
            return scope
    return "key" if "max budget limit reached" in lowered else None


def classify_error(status: int | None, body: Any, text: str = "") -> GatewayError:
    """Classify an error answer; `body` is the parsed JSON (any shape) or None."""
    message, etype, litellm = _error_fields(body)
    if not message and text and not litellm:
        message = as_text(text, 200) or ""
    low = message.lower()
    low_type = (etype or "").lower()
    status = status if isinstance(status, int) and not isinstance(status, bool) else None

    def made(kind: ErrorKind, **extra: Any) -> GatewayError:
        return GatewayError(kind, status, message, etype, litellm, **extra)

    if (
        low_type == "budget_exceeded"
        or "budget has been exceeded" in low
        or "exceededbudget" in low
        or "over budget" in low
        or "max budget limit reached" in low
    ):
        spend = max_budget = None
        for pattern in _BUDGET_NUMBERS:
            hit = pattern.search(message)
            if hit:
                spend, max_budget = as_number(hit.group(1)), as_number(hit.group(2))
                break
        return made(
            ErrorKind.BUDGET_EXCEEDED, scope=_budget_scope(message), spend=spend,
            max_budget=max_budget,
        )
    if low_type == "expired_key" or "expired key" in low:
        hit = _EXPIRY.search(message)
        return made(ErrorKind.KEY_EXPIRED, expires=hit.group(1) if hit else None)
    if "key is blocked" in low:
        return made(ErrorKind.KEY_BLOCKED)
    if "ip address" in low and "not allowed" in low:
        hit = _IP.search(message)
        return made(ErrorKind.IP_NOT_ALLOWED, address=hit.group(1) if hit else None)
    if "no api key passed in" in low:
        return made(ErrorKind.NO_KEY)
    if (
        low_type == "no_db_connection"
        or "no connected db" in low
        or "database not connected" in low
        or "no db connected" in low
    ):
        return made(ErrorKind.NO_DB)
    if low_type.endswith("_model_access_denied") or "not allowed to access model" in low:
        return made(ErrorKind.MODEL_DENIED)
    if "only proxy admin" in low:
        return made(ErrorKind.ADMIN_ONLY)
    if status != 429 and (_UPSTREAM.search(message) or "received model group" in low):
        return made(ErrorKind.UPSTREAM)
    if (
        low_type == "token_not_found_in_db"
        or "invalid proxy server token" in low
        or "invalid api key" in low
        or (status == 401 and (low_type == "auth_error" or "authentication error" in low))
    ):
        return made(ErrorKind.KEY_INVALID)
    if status == 429 or "rate_limit" in low_type or "rate limit" in low:
        return made(ErrorKind.RATE_LIMITED)
    if status == 401:
        return made(ErrorKind.KEY_INVALID)
    if status == 403:
        shaped = isinstance(body, Mapping) and ("error" in body or "detail" in body)
        return made(ErrorKind.ACCESS_DENIED if shaped else ErrorKind.FORBIDDEN)
    if status == 404:
        return made(ErrorKind.NOT_FOUND)
    if status is not None and 500 <= status <= 599:
        return made(ErrorKind.SERVER_ERROR)
    return made(ErrorKind.OTHER)


@dataclass(frozen=True)
class RateLimit:
    """Which limit a 429 hit, whose it is, and when it resets."""

    limit: str  # "parallel_requests", "rpm", "tpm", "upstream", "unknown"
    scope: str | None = None  # "api_key", "user", "team", "end_user", "model", ...
    allowed: int | None = None  # the limit's value (5 parallel requests, 1 request a minute)
    retry_after: float | None = None
    resets_at: str | None = None  # as the gateway wrote it: "2026-12-01 16:20:00 UTC"

    def describe(self) -> str:
        """'the key's limit of 1 request per minute', in words for a finding."""
        whose = {"api_key": "the key's", "key": "the key's", "user": "your user's",
                 "team": "your team's", "end_user": "the end user's", "model": "the model's",
                 "model_per_key": "the key's per-model"}.get(self.scope or "", "a")
        if self.limit == "upstream":
            return "the provider behind the gateway is rate limiting"
        if self.limit == "unknown":
            return "a rate limit of the gateway"
        unit = {"parallel_requests": ("parallel request", "parallel requests"),
                "rpm": ("request per minute", "requests per minute"),
                "tpm": ("token per minute", "tokens per minute")}[self.limit]
        if self.allowed is None:
            return f"{whose} limit on {unit[1]}"
        return f"{whose} limit of {self.allowed:,} {unit[0] if self.allowed == 1 else unit[1]}"

    def when(self) -> str:
        """'; it resets at 16:20:00 UTC (retry after 60 s)', or '' when unknown."""
        parts = []
        if self.resets_at:
            parts.append(f"it resets at {self.resets_at}")
        if self.retry_after is not None:
            parts.append(f"retry after {self.retry_after:g} s")
        if not parts:
            return ""
        return "; " + (f"{parts[0]} ({parts[1]})" if len(parts) == 2 else parts[0])


_V3_LIMIT = re.compile(r"rate limit exceeded for ([a-z_]+)\b.*?limit type:\s*([a-z_]+)", re.I | re.S)
_V3_CURRENT = re.compile(r"current limit:\s*(\d+)", re.I)
_V3_RESET = re.compile(r"limit resets at:\s*([0-9][0-9:\- ]{8,30}?(?:UTC)?)\s*$", re.I)
_V1_FIGURE = re.compile(r"(current rpm|rpm limit|current tpm|tpm limit|current max_parallel_requests"
                        r"|max_parallel_requests):\s*(\d+)", re.I)
_V1_SCOPE = re.compile(r"rate limit type\s*=\s*([a-z_]+)", re.I)


def _v1_limit(figures: dict[str, int]) -> tuple[str, int | None]:
    """LiteLLM's own order (parallel_request_limiter.py): concurrent, then tpm, then rpm."""
    parallel, allowed = figures.get("current max_parallel_requests"), figures.get(
        "max_parallel_requests")
    if parallel is not None and allowed is not None and parallel >= allowed:
        return "parallel_requests", allowed
    tpm, tpm_limit = figures.get("current tpm"), figures.get("tpm limit")
    if tpm is not None and tpm_limit is not None and tpm >= tpm_limit:
        return "tpm", tpm_limit
    return "rpm", figures.get("rpm limit")


def parse_rate_limit(message: str, headers: Mapping[str, str] | None = None) -> RateLimit:
    """Which limit a 429 names (LiteLLM's v1 and v3 limiters, a provider's own limit)."""
    text = message if isinstance(message, str) else ""
    headers = headers if isinstance(headers, Mapping) else {}
    wait = retry_after_seconds(headers)
    reset_header = as_text(headers.get("reset_at"), 40)
    low = text.lower()
    hit = _V3_LIMIT.search(text)
    kind = as_text(headers.get("rate_limit_type"), 40) or (hit.group(2) if hit else "")
    kinds = {"max_parallel_requests": "parallel_requests", "concurrent_requests": "parallel_requests",
             "requests": "rpm", "tokens": "tpm"}
    if hit or kind.lower() in kinds:
        current = _V3_CURRENT.search(text)
        reset = _V3_RESET.search(text)
        return RateLimit(kinds.get(kind.lower(), "unknown"), hit.group(1).lower() if hit else None,
                         int(current.group(1)) if current else None, wait,
                         reset_header or (reset.group(1).strip() if reset else None))
    figures = {name.lower(): int(value) for name, value in _V1_FIGURE.findall(text)}
    scope_hit = _V1_SCOPE.search(text)
    scope = scope_hit.group(1).lower() if scope_hit else None
    if figures:
        limit, allowed = _v1_limit(figures)
        return RateLimit(limit, scope, allowed, wait, reset_header)
    if "max parallel request limit reached" in low:
        return RateLimit("parallel_requests", scope, None, wait, reset_header)
    if _UPSTREAM.search(text):
        return RateLimit("upstream", None, None, wait, reset_header)
    return RateLimit("unknown", scope, None, wait, reset_header)


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """`retry-after` (seconds form) or `x-ratelimit-reset-requests` style hints."""
    for name in ("retry-after", "x-ratelimit-reset-requests", "x-ratelimit-reset"):
        value = as_number(headers.get(name)) if isinstance(headers, Mapping) else None
        if value is not None and 0 <= value < 86400 * 7:
            return value
    return None


# ── /key/info and /user/info ────────────────────────────────────────────────


@dataclass(frozen=True)
class KeyInfo:
    """The fields of ``GET /key/info`` that matter; never the key itself."""

    alias: str | None = None
    user_id: str | None = None
    team_id: str | None = None
    spend: float | None = None
    max_budget: float | None = None
    budget_duration: str | None = None
    budget_reset_at: datetime | None = None
    expires: datetime | None = None
    created_at: datetime | None = None
    models: tuple[str, ...] = ()
    blocked: bool | None = None
    status: str | None = None  # newer LiteLLM: "active", "expired", "revoked", "deleted"
    tpm_limit: int | None = None
    rpm_limit: int | None = None
    max_parallel_requests: int | None = None


def parse_key_info(body: Any) -> KeyInfo | None:
    """``{"key": ..., "info": {...}}`` → KeyInfo; None when `info` is not an object."""
    info = _mapping(body).get("info")
    if not isinstance(info, Mapping):
        return None
    budget_table = _mapping(info.get("litellm_budget_table"))
    max_budget = as_number(info.get("max_budget"))
    if max_budget is None:
        max_budget = as_number(budget_table.get("max_budget"))
    return KeyInfo(
        alias=as_text(info.get("key_alias"), 120),
        user_id=as_text(info.get("user_id"), 120),
        team_id=as_text(info.get("team_id"), 120),
        spend=as_number(info.get("spend")),
        max_budget=max_budget,
        budget_duration=as_text(info.get("budget_duration"), 40)
        or as_text(budget_table.get("budget_duration"), 40),
        budget_reset_at=as_datetime(info.get("budget_reset_at")),
        expires=as_datetime(info.get("expires")),
        created_at=as_datetime(info.get("created_at")),
        models=as_strings(info.get("models")),
        blocked=as_bool(info.get("blocked")),
        status=as_text(info.get("status"), 40),
        tpm_limit=as_int(info.get("tpm_limit")),
        rpm_limit=as_int(info.get("rpm_limit")),
        max_parallel_requests=as_int(info.get("max_parallel_requests")),
    )


@dataclass(frozen=True)
class UserInfo:
    """The fields of ``GET /user/info`` that matter."""

    user_id: str | None = None
    spend: float | None = None
    max_budget: float | None = None
    budget_duration: str | None = None
    budget_reset_at: datetime | None = None
    keys: int = 0
    teams: int = 0


def parse_user_info(body: Any) -> UserInfo | None:
    """``{"user_id", "user_info": {...}, "keys": [...], "teams": [...]}`` → UserInfo."""
    root = _mapping(body)
    info = root.get("user_info")
    if not isinstance(info, Mapping):
        return None
    keys, teams = root.get("keys"), root.get("teams")
    return UserInfo(
        user_id=as_text(root.get("user_id"), 120) or as_text(info.get("user_id"), 120),
        spend=as_number(info.get("spend")),
        max_budget=as_number(info.get("max_budget")),
        budget_duration=as_text(info.get("budget_duration"), 40),
        budget_reset_at=as_datetime(info.get("budget_reset_at")),
        keys=len(keys) if isinstance(keys, list) else 0,
        teams=len(teams) if isinstance(teams, list) else 0,
    )


# ── /model/info and /v1/models ──────────────────────────────────────────────


@dataclass(frozen=True)
class ModelEntry:
    """One callable model name and what the gateway says about it."""

    name: str
    underlying: str | None = None
    mode: str | None = None
    input_cost_per_token: float | None = None
    output_cost_per_token: float | None = None
    max_input_tokens: int | None = None
    max_output_tokens: int | None = None
    supports_vision: bool | None = None
    supports_prompt_caching: bool | None = None
    supports_function_calling: bool | None = None

    @property
    def free(self) -> bool | None:
        """True when both prices are 0, False when one is above 0, None when unknown."""
        costs = [c for c in (self.input_cost_per_token, self.output_cost_per_token) if c is not None]
        if not costs:
            return None
        if any(c > 0 for c in costs):
            return False
        return True if len(costs) == 2 else None

    def price_per_million(self) -> tuple[float, float] | None:
        if self.input_cost_per_token is None or self.output_cost_per_token is None:
            return None
        return self.input_cost_per_token * 1e6, self.output_cost_per_token * 1e6


_DATED = re.compile(r"(?:^|[-_@/.:])(?:20\d{2}-?[01]\d-?[0-3]\d|v\d+(?:[.:]\d+)+)(?:$|[-_@/.:])")


def is_dated(model: str) -> bool:
    """Whether a model id pins a version: a date (20250514, 2024-08-06) or v1:0 suffix."""
    return bool(_DATED.search(model))


def alias_target(entry: ModelEntry) -> str | None:
    """The dated model a name points to, when the name itself is not pinned."""
    if not entry.underlying or is_dated(entry.name) or not is_dated(entry.underlying):
        return None
    return entry.underlying


def _unique_rows(body: Any, name_field: str) -> list[tuple[str, Mapping[str, Any]]] | None:
    """The ``data`` rows of a model listing, first of each name, at most 5000: None if no list."""
    data = _mapping(body).get("data")
    if not isinstance(data, list):
        return None
    rows: dict[str, Mapping[str, Any]] = {}
    for item in data[:5000]:
        row = _mapping(item)
        name = as_text(row.get(name_field), 200)
        if name and name not in rows:
            rows[name] = row
    return list(rows.items())


def parse_model_info(body: Any) -> list[ModelEntry] | None:
    """``{"data": [{"model_name", "litellm_params": {"model"}, "model_info": {...}}]}``."""
    rows = _unique_rows(body, "model_name")
    if rows is None:
        return None
    entries = []
    for name, row in rows:
        params, info = _mapping(row.get("litellm_params")), _mapping(row.get("model_info"))
        entries.append(ModelEntry(
            name=name,
            underlying=as_text(params.get("model"), 200) or as_text(info.get("key"), 200),
            mode=as_text(info.get("mode"), 40),
            input_cost_per_token=as_number(info.get("input_cost_per_token")),
            output_cost_per_token=as_number(info.get("output_cost_per_token")),
            max_input_tokens=as_int(info.get("max_input_tokens")),
            max_output_tokens=as_int(info.get("max_output_tokens")),
            supports_vision=as_bool(info.get("supports_vision")),
            supports_prompt_caching=as_bool(info.get("supports_prompt_caching")),
            supports_function_calling=as_bool(info.get("supports_function_calling")),
        ))
    return entries


def parse_model_list(body: Any) -> list[ModelEntry] | None:
    """OpenAI-style ``{"data": [{"id": ...}]}`` from ``GET /v1/models``."""
    rows = _unique_rows(body, "id")
    if rows is None:
        return None
    return [
        ModelEntry(
            name=name,
            mode=as_text(row.get("mode"), 40),
            max_input_tokens=as_int(row.get("max_input_tokens")),
            max_output_tokens=as_int(row.get("max_output_tokens")),
        )
        for name, row in rows
    ]


def parse_cost(body: Any) -> float | None:
    """``{"cost": 0.0012}`` from /spend/calculate, /cost/calculate or /cost/estimate."""
    root = _mapping(body)
    for name in ("cost", "estimated_cost", "total_cost", "response_cost"):
        value = as_number(root.get(name))
        if value is not None and value >= 0:
            return value
    return None


def parse_stream(body: bytes) -> tuple[int, GatewayError | None]:
    """Count content chunks in an SSE body; an in-stream ``{"error": ...}`` is returned too."""
    import json

    chunks = 0
    for raw in body.split(b"\n"):
        line = raw.strip()
        if not line.startswith(b"data:"):
            continue
        payload = line[5:].strip()
        if payload == b"[DONE]" or not payload:
            continue
        try:
            event = json.loads(payload)
        except (ValueError, RecursionError):
            continue
        if isinstance(event, Mapping) and isinstance(event.get("error"), Mapping):
            return chunks, classify_error(None, event)
        if isinstance(event, Mapping) and isinstance(event.get("choices"), list):
            chunks += 1
    return chunks, None


def is_auth_kind(kind: ErrorKind) -> bool:
    return kind in (ErrorKind.KEY_INVALID, ErrorKind.NO_KEY, ErrorKind.KEY_EXPIRED,
                    ErrorKind.KEY_BLOCKED)
