"""The real LiteLLM proxy (the software CBorg runs), started once per test session.

Mock models named like CBorg's answer with ``mock_response`` so no request ever
leaves loopback. Without a database LiteLLM cannot hold virtual keys, so a small
``custom_auth`` function accepts fixed test key prefixes and raises for anything
else (a real 401 from LiteLLM's own exception handler). Keys starting with
``sk-broke`` get LiteLLM's own ``BudgetExceededError`` on chat completions, which
LiteLLM turns into its real ``budget_exceeded`` error, on free models too (the
CBorg FAQ's known bug). Keys starting with ``sk-expired`` carry a past expiry that
LiteLLM's own post-custom-auth check refuses (``enable_post_custom_auth_checks``);
keys starting with ``sk-limited`` may send one request a minute (LiteLLM's own limiter).

Offline rules (see issue 4): HF_HUB_OFFLINE, LITELLM_LOCAL_MODEL_COST_MAP,
telemetry off, no ``llama-3`` in underlying model names, never a LITELLM_LICENSE.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

MASTER_KEY = "sk-master-test-0123456789abcdef"
GOOD_PREFIX = "sk-canary"  # tests/conftest.py's canary_key is a good key here
ALSO_GOOD_PREFIX = "sk-good"
BROKE_PREFIX = "sk-broke"
EXPIRED_PREFIX = "sk-expired"
LIMITED_PREFIX = "sk-limited"
STARTUP_BOUND_S = 60.0
START_ATTEMPTS = 3

CONFIG = """\
model_list:
  - model_name: lbl/cborg-chat
    litellm_params: {model: openai/cborg-chat-upstream, api_key: mock,
                     mock_response: "Hello from cborg-chat"}
    model_info: {input_cost_per_token: 0, output_cost_per_token: 0,
                 max_input_tokens: 131072, supports_function_calling: true}
  - model_name: lbl/llama
    litellm_params: {model: openai/lbl-meta-llama-instruct, api_key: mock,
                     mock_response: "Hello from llama"}
    model_info: {input_cost_per_token: 0, output_cost_per_token: 0, max_input_tokens: 131072}
  - model_name: anthropic/claude-sonnet
    litellm_params: {model: anthropic/claude-sonnet-4-20250514, api_key: mock,
                     mock_response: "Hello from claude"}
    model_info: {input_cost_per_token: 0.000003, output_cost_per_token: 0.000015}
  - model_name: openai/gpt-4o
    litellm_params: {model: openai/gpt-4o-2024-08-06, api_key: mock,
                     mock_response: "Hello from gpt-4o"}
litellm_settings:
  telemetry: false
  enable_post_custom_auth_checks: true
general_settings:
  master_key: {master_key}
{auth_settings}"""
CUSTOM_AUTH_SETTINGS = """\
  custom_auth: custom_auth.user_api_key_auth
  custom_auth_run_common_checks: true
"""
# LiteLLM's docs use the master key sk-1234; LiteLLM >= 1.108 refuses to start with such a
# publicly known key unless told this is local development (master_key_boot_check.py).
WEAK_MASTER_KEY = "sk-1234"
WEAK_KEY_SETTINGS = """\
  dangerously_permit_weak_or_unset_master_key: true
"""

CUSTOM_AUTH = '''\
"""Fixed test keys for a LiteLLM proxy without a database."""
import litellm
from fastapi import Request
from litellm.proxy._types import UserAPIKeyAuth


async def user_api_key_auth(request: Request, api_key: str) -> UserAPIKeyAuth:
    if not api_key:
        raise Exception("No api key passed in.")
    if api_key.startswith("{broke}"):
        if request.url.path.endswith("/chat/completions"):
            raise litellm.BudgetExceededError(current_cost=12.5, max_budget=10.0)
        return UserAPIKeyAuth(api_key=api_key, token="hashed-broke", user_id="broke@lbl.gov",
                              key_alias="broke", max_budget=10.0, spend=12.5)
    if api_key.startswith("{limited}"):  # 1 request a minute, per key
        return UserAPIKeyAuth(api_key=api_key, token="hashed-limited-" + api_key[-6:],
                              user_id="busy@lbl.gov", key_alias="busy", rpm_limit=1)
    if api_key.startswith("{expired}"):  # LiteLLM's own expiry check refuses it
        return UserAPIKeyAuth(api_key=api_key, token="hashed-expired", user_id="old@lbl.gov",
                              key_alias="old-laptop", expires="2025-01-02T03:04:05+00:00")
    if api_key.startswith(("{good}", "{also_good}")):
        return UserAPIKeyAuth(api_key=api_key, token="hashed-good", user_id="alice@lbl.gov",
                              key_alias="alice-laptop", max_budget=50.0, spend=3.25)
    raise Exception("Invalid API key provided.")
'''


@dataclass(frozen=True)
class LiteLLMProxy:
    base_url: str
    port: int
    startup_s: float
    log: Path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def offline_env() -> dict[str, str]:
    """The environment that keeps LiteLLM from reaching the internet by itself."""
    env = {k: v for k, v in os.environ.items() if "PROXY" not in k.upper()}
    env.pop("LITELLM_LICENSE", None)
    env.update(
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        LITELLM_LOCAL_MODEL_COST_MAP="True",
        LITELLM_TELEMETRY="False",
        DISABLE_SCHEMA_UPDATE="True",
        NO_PROXY="*",
        PYTHONUNBUFFERED="1",
    )
    return env


def _litellm_command() -> list[str]:
    exe = shutil.which("litellm")
    if exe:
        return [exe]
    return [sys.executable, "-m", "litellm.proxy.proxy_cli"]


def _wait_alive(proc: subprocess.Popen[bytes], url: str, bound: float) -> None:
    deadline = time.monotonic() + bound
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"LiteLLM exited with {proc.returncode} during startup")
        try:
            if httpx.get(url, timeout=1.0, trust_env=False).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"LiteLLM did not answer {url} within {bound:.0f} s")


def warm_up(base_url: str, master_key: str) -> None:
    """One pass over the authenticated routes, so no test's first request pays LiteLLM's
    first-request set-up (seconds on a loaded machine) inside the doctor's time bound."""
    for path in ("/key/info", "/v1/models", "/model/info"):
        with contextlib.suppress(httpx.HTTPError):
            httpx.get(base_url + path, headers={"Authorization": f"Bearer {master_key}"},
                      timeout=30, trust_env=False)


_STASH = pytest.StashKey["_Running"]()


@dataclass
class _Running:
    proxy: LiteLLMProxy | None
    failure: str | None


def start_proxy(folder: Path, config_text: str = CONFIG, master_key: str = MASTER_KEY,
                custom_auth: bool = True) -> tuple[subprocess.Popen[bytes], LiteLLMProxy]:
    """Write the config (default: `CONFIG`) and custom auth, start LiteLLM, wait for
    liveliness (bounded).

    Without `custom_auth` it is stock LiteLLM without a database: only `master_key` is
    accepted, as in LiteLLM's own quick start.
    """
    config = folder / "config.yaml"
    settings = CUSTOM_AUTH_SETTINGS if custom_auth else ""
    if master_key == WEAK_MASTER_KEY:
        settings += WEAK_KEY_SETTINGS
    config.write_text(config_text.replace("{master_key}", master_key)
                      .replace("{auth_settings}", settings), encoding="utf-8")
    (folder / "custom_auth.py").write_text(
        CUSTOM_AUTH.replace("{broke}", BROKE_PREFIX)
        .replace("{expired}", EXPIRED_PREFIX)
        .replace("{limited}", LIMITED_PREFIX)
        .replace("{good}", GOOD_PREFIX)
        .replace("{also_good}", ALSO_GOOD_PREFIX),
        encoding="utf-8",
    )
    failure = ""
    for attempt in range(1, START_ATTEMPTS + 1):
        port = free_port()
        log = folder / f"litellm-{attempt}.log"
        started = time.monotonic()
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [*_litellm_command(), "--config", str(config), "--host", "127.0.0.1",
                 "--port", str(port), "--num_workers", "1"],
                cwd=folder, env=offline_env(), stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        base_url = f"http://127.0.0.1:{port}"
        try:
            _wait_alive(proc, base_url + "/health/liveliness", STARTUP_BOUND_S)
        except RuntimeError as exc:
            stop(proc)
            tail = log.read_text(encoding="utf-8", errors="replace")[-3000:]
            failure = f"{exc}\n--- litellm log ---\n{tail}"
            if "exited" in str(exc):  # e.g. the free port was taken meanwhile: try another
                continue
            break
        if proc.poll() is None:  # it is our process that answered, not a stranger's
            startup = time.monotonic() - started
            warm_up(base_url, master_key)
            return proc, LiteLLMProxy(base_url, port, startup, log)
        failure = f"LiteLLM exited with {proc.returncode} right after starting"
    raise RuntimeError(failure)


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


def session_proxy(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
                  key: pytest.StashKey[_Running], folder: str, master_key: str = MASTER_KEY,
                  custom_auth: bool = True) -> LiteLLMProxy:
    """A LiteLLM proxy started once per session (kept in the pytest config's stash under
    `key`, so every test module shares it) and stopped at the end; fails the test when it
    could not start."""
    running = request.config.stash.get(key, None)
    if running is None:
        try:
            proc, proxy = start_proxy(tmp_path_factory.mktemp(folder), master_key=master_key,
                                      custom_auth=custom_auth)
        except RuntimeError as exc:
            running = _Running(None, str(exc))
        else:
            running = _Running(proxy, None)
            request.config.add_cleanup(lambda: stop(proc))
        request.config.stash[key] = running
    if running.proxy is None:
        pytest.fail(f"LiteLLM could not be started: {running.failure}")
    return running.proxy


@pytest.fixture(scope="session", name="litellm_proxy")
def litellm_proxy_fixture(request: pytest.FixtureRequest,
                          tmp_path_factory: pytest.TempPathFactory) -> LiteLLMProxy:
    """A running LiteLLM proxy on a free loopback port, started once per session (kept in
    the pytest config's stash, so every test module shares it) and stopped at the end."""
    return session_proxy(request, tmp_path_factory, _STASH, "litellm")


_MASTER_STASH = pytest.StashKey["_Running"]()


@pytest.fixture(scope="session", name="litellm_master_proxy")
def litellm_master_proxy_fixture(request: pytest.FixtureRequest,
                                 tmp_path_factory: pytest.TempPathFactory) -> LiteLLMProxy:
    """Stock LiteLLM as its quick start sets it up: master key sk-1234, no database, no
    custom auth. Started once per session like `litellm_proxy`."""
    return session_proxy(request, tmp_path_factory, _MASTER_STASH, "litellm-master",
                         master_key=WEAK_MASTER_KEY, custom_auth=False)
