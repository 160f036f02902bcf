"""The oracle: CBorg's documented example, run with the real OpenAI SDK, against each scenario.

"The doctor passes" must mean the user's own script works, "fails" that it does not.
For each scenario the real `openai` package runs the example from CBorg's API
examples page (``openai.OpenAI(api_key=os.environ.get('CBORG_API_KEY'),
base_url=...)`` then ``client.chat.completions.create(...)``, plus the
``client.models.list()`` that editors and agents call first) in its own process, and
the whole doctor runs against the same gateway. Both must agree: the SDK's success
is the doctor's exit code 0, and a failure is the doctor's exit code 1 with the
verdict that names the cause of the SDK's error.

Peers: the real LiteLLM proxy (with the test keys of tests/litellm_proxy.py, and
stock LiteLLM with its quick-start master key ``sk-1234``), and a Cloudflare block
page served on loopback. Nothing leaves loopback.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests import netfixtures as nf
from tests.doctor import DoctorRun, clean_env, run_doctor
from tests.litellm_proxy import (
    BROKE_PREFIX,
    LIMITED_PREFIX,
    WEAK_MASTER_KEY,
    LiteLLMProxy,
    litellm_master_proxy_fixture,  # noqa: F401  (the litellm_master_proxy fixture)
    litellm_proxy_fixture,  # noqa: F401  (the litellm_proxy fixture)
)

pytestmark = pytest.mark.litellm
# Generous: LiteLLM's first answers on a loaded machine can take seconds, and a timeout
# here would be a disagreement about the machine, not about the gateway.
TIMEOUT = "8"

# CBorg's example (content/english/pages/api_examples.md), with the base URL and model as
# the scenario sets them; the outcome is printed as JSON for the test to read.
EXAMPLE = r'''
import json, os, sys
import openai

client = openai.OpenAI(
    api_key=os.environ.get('CBORG_API_KEY'),
    base_url=os.environ["EXAMPLE_BASE_URL"],
    max_retries=int(os.environ.get("EXAMPLE_MAX_RETRIES", "2")),
    timeout=20,
)
outcome = {"ok": True, "steps": []}
try:
    listed = client.models.list()
    outcome["steps"].append("models.list")
    response = client.chat.completions.create(
        model=os.environ["EXAMPLE_MODEL"],
        messages=[{"role": "user", "content": "What is the Lawrence Berkeley National Laboratory?"}],
        temperature=0.0,
    )
    outcome["steps"].append("chat.completions.create")
    outcome["answer"] = response.choices[-1].message.content
except openai.APIStatusError as exc:
    outcome.update(ok=False, error=type(exc).__name__, status=exc.status_code,
                   url=str(exc.response.request.url),
                   retry_after=exc.response.headers.get("retry-after"))
except openai.APIError as exc:
    outcome.update(ok=False, error=type(exc).__name__, status=None)
print(json.dumps(outcome))
'''


@dataclass(frozen=True)
class SdkOutcome:
    ok: bool
    error: str | None
    status: int | None
    url: str | None
    retry_after: str | None
    steps: list[str]


def run_example(home: Path, base_url: str, key: str, model: str = "lbl/llama",
                max_retries: int = 2) -> SdkOutcome:
    """CBorg's documented example in a fresh interpreter, with a clean, proxy-free env."""
    env = clean_env(home, CBORG_API_KEY=key, EXAMPLE_BASE_URL=base_url, EXAMPLE_MODEL=model,
                    EXAMPLE_MAX_RETRIES=str(max_retries))
    proc = subprocess.run([sys.executable, "-c", EXAMPLE], env=env, capture_output=True,
                          text=True, timeout=90)
    assert proc.returncode == 0, proc.stderr[-2000:]
    seen: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return SdkOutcome(seen["ok"], seen.get("error"), seen.get("status"), seen.get("url"),
                      seen.get("retry_after"), seen["steps"])


def doctor(home: Path, base_url: str, key: str, *args: str) -> DoctorRun:
    run = run_doctor("--base-url", base_url, "--timeout", TIMEOUT, "--json", "--no-report", *args,
                     home=home, env={"CBORG_API_KEY": key})
    assert key not in run.output, "the key leaked"
    return run


def check(run: DoctorRun, check_id: str) -> dict[str, Any]:
    return next(c for c in run.json()["checks"] if c["id"] == check_id)


def findings(run: DoctorRun) -> dict[str, dict[str, Any]]:
    return {f["code"]: f for c in run.json()["checks"] for f in c["findings"]}


def agree(sdk: SdkOutcome, run: DoctorRun, verdict: str | None) -> None:
    """The doctor's exit code says what the SDK did, and its verdict names the cause."""
    report = run.json()
    assert (run.code == 0) is sdk.ok, (sdk, report["verdict"])
    if verdict is None:
        assert report["status"] != "fail", report["verdict"]
    else:
        assert report["verdict"] is not None and report["verdict"]["code"] == verdict


def test_a_healthy_gateway_passes_and_the_example_works(home: Path, litellm_proxy: LiteLLMProxy,
                                                        canary_key: str) -> None:
    sdk = run_example(home, litellm_proxy.base_url, canary_key)
    assert sdk.ok and sdk.steps == ["models.list", "chat.completions.create"]
    run = doctor(home, litellm_proxy.base_url, canary_key, "--live")
    agree(sdk, run, None)
    assert check(run, "auth")["status"] == "pass" and check(run, "live")["status"] == "pass"


def test_the_master_key_sk_1234_passes_because_the_gateway_accepts_it(
        home: Path, litellm_master_proxy: LiteLLMProxy) -> None:
    sdk = run_example(home, litellm_master_proxy.base_url, WEAK_MASTER_KEY)
    assert sdk.ok, sdk
    run = doctor(home, litellm_master_proxy.base_url, WEAK_MASTER_KEY, "--live")
    agree(sdk, run, None)
    key = check(run, "config.key")
    assert key["status"] == "warn"  # the length is only a hint; the gateway decided
    (unusual,) = key["findings"]
    assert unusual["code"] == "KEY_UNUSUAL"
    assert "is only 7 characters long; CBorg keys are 25" in unusual["message"]
    for check_id in ("auth", "models", "live"):
        assert check(run, check_id)["status"] == "pass", check(run, check_id)


def test_a_wrong_key_fails_as_the_example_does(home: Path, litellm_proxy: LiteLLMProxy,
                                               canary_key: str) -> None:
    wrong = "sk-wrong" + canary_key[8:]
    sdk = run_example(home, litellm_proxy.base_url, wrong)
    assert (sdk.ok, sdk.error, sdk.status) == (False, "AuthenticationError", 401)
    run = doctor(home, litellm_proxy.base_url, wrong)
    agree(sdk, run, "KEY_INVALID")
    assert "characters" not in findings(run)["KEY_INVALID"]["message"]  # a normal length: no hint


def test_a_short_wrong_key_is_rejected_by_the_gateway_and_the_hint_says_why(
        home: Path, litellm_master_proxy: LiteLLMProxy) -> None:
    short = "sk-1234567"  # 10 characters: not the master key
    sdk = run_example(home, litellm_master_proxy.base_url, short)
    # Stock LiteLLM without a database answers any key but its master key with 400.
    assert (sdk.ok, sdk.error, sdk.status) == (False, "BadRequestError", 400)
    run = doctor(home, litellm_master_proxy.base_url, short)
    agree(sdk, run, "KEY_INVALID")
    message = findings(run)["KEY_INVALID"]["message"]
    assert "No connected db." in message and "accepts only its master key" in message
    assert message.endswith("; it is 10 characters; CBorg keys are 25: probably cut short.")
    assert check(run, "config.key")["status"] == "warn"  # the heuristic did not block auth


@pytest.mark.parametrize("path", ["/v1/chat/completions", "/api", "/v1/v1"])
def test_a_base_url_with_an_endpoint_path_fails_where_the_sdk_gets_404(
        home: Path, litellm_proxy: LiteLLMProxy, canary_key: str, path: str) -> None:
    base_url = litellm_proxy.base_url + path
    sdk = run_example(home, base_url, canary_key)
    assert (sdk.ok, sdk.error, sdk.status) == (False, "NotFoundError", 404)
    assert sdk.url == base_url + "/models"
    run = doctor(home, base_url, canary_key)
    agree(sdk, run, "BASE_URL_PATH")
    models = check(run, "models")
    assert models["status"] == "fail"
    failing = next(f for f in models["findings"] if f["code"] == "BASE_URL_PATH")
    assert f"requests {base_url}/models, which answers HTTP 404" in failing["message"]
    assert failing["fix"][0] == f"Use this base URL instead: {litellm_proxy.base_url}"
    assert check(run, "config.base_url")["status"] == "warn"  # the heuristic, then the proof


@pytest.mark.parametrize("path", ["/v1", "/v1/", ""])
def test_a_base_url_whose_path_works_passes(home: Path, litellm_proxy: LiteLLMProxy,
                                            canary_key: str, path: str) -> None:
    base_url = litellm_proxy.base_url + path
    sdk = run_example(home, base_url, canary_key)
    assert sdk.ok, sdk
    run = doctor(home, base_url, canary_key, "--live")
    agree(sdk, run, None)
    expected = litellm_proxy.base_url + path.rstrip("/") + "/models"
    assert check(run, "models")["data"]["sdk_listing"] == {"url": expected, "status": 200}


def test_an_exceeded_budget_fails_the_example_and_the_live_doctor(
        home: Path, litellm_proxy: LiteLLMProxy, canary_key: str) -> None:
    broke = BROKE_PREFIX + canary_key[9:]
    sdk = run_example(home, litellm_proxy.base_url, broke)
    # Listing models still works; the chat call gets LiteLLM's own budget error.
    assert sdk.steps == ["models.list"]
    assert (sdk.ok, sdk.status) == (False, 422), sdk
    run = doctor(home, litellm_proxy.base_url, broke, "--live")
    agree(sdk, run, "BUDGET_EXCEEDED")
    assert "spent $12.50 of $10.00" in findings(run)["BUDGET_EXCEEDED"]["message"]


def test_a_used_up_rate_limit_is_a_warning_with_the_wait_the_sdk_honours(
        home: Path, litellm_proxy: LiteLLMProxy, canary_key: str) -> None:
    limited = LIMITED_PREFIX + canary_key[9:]
    spent = httpx.post(litellm_proxy.base_url + "/v1/chat/completions", trust_env=False,
                       headers={"Authorization": f"Bearer {limited}"},
                       json={"model": "lbl/llama", "messages": [{"role": "user", "content": "hi"}]})
    assert spent.status_code == 200
    # Without retries the example meets the 429; with its default retries the SDK waits
    # retry-after (it honours up to 60 s) and then succeeds: a slowdown, not a breakage.
    sdk = run_example(home, litellm_proxy.base_url, limited, max_retries=0)
    assert (sdk.ok, sdk.error, sdk.status) == (False, "RateLimitError", 429)
    assert sdk.retry_after is not None and 0 < float(sdk.retry_after) <= 60
    run = doctor(home, litellm_proxy.base_url, limited, "--live")
    assert run.code == 0  # the user's script with default retries gets through
    rate = findings(run)["LIVE_RATE_LIMITED"]
    assert rate["severity"] == "warn"
    assert "rate limited: the key's limit of 1 request per minute" in rate["message"]
    assert f"retry after {float(sdk.retry_after):g} s" in rate["message"]
    assert rate["fix"][1].startswith(f"Retry after {float(sdk.retry_after):g} s: the OpenAI client")


def test_a_cloudflare_block_fails_the_example_and_the_doctor(home: Path, canary_key: str) -> None:
    server = nf.HttpServer(nf.cloudflare_1020())
    base_url = f"http://127.0.0.1:{server.port}"
    try:
        sdk = run_example(home, base_url, canary_key)
        run = doctor(home, base_url, canary_key)
    finally:
        server.close()
    assert (sdk.ok, sdk.error, sdk.status) == (False, "PermissionDeniedError", 403)
    agree(sdk, run, "HTTP_BLOCKED")
    assert "error 1020" in findings(run)["HTTP_BLOCKED"]["message"]


SDK_DESTINATION = "import openai; print(openai.OpenAI().base_url)"


def sdk_destination(home: Path, env: dict[str, str]) -> str:
    """Where a bare OpenAI() in this environment sends requests (nothing is sent)."""
    proc = subprocess.run([sys.executable, "-c", SDK_DESTINATION], env=clean_env(home, **env),
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout.strip()


def test_the_key_only_in_openai_api_key_fails_without_stopping_the_run(
        home: Path, litellm_proxy: LiteLLMProxy, canary_key: str) -> None:
    env = {"OPENAI_API_KEY": canary_key}
    assert sdk_destination(home, env) == "https://api.openai.com/v1/"  # the key would go there
    run = run_doctor("--base-url", litellm_proxy.base_url, "--timeout", TIMEOUT, "--json",
                     "--no-report", home=home, env=env)
    assert canary_key not in run.output
    assert run.code == 1
    report = run.json()
    assert report["verdict"]["code"] == "BASE_URL_OPENAI"
    (openai_finding,) = [f for f in check(run, "config.base_url")["findings"]
                         if f["code"] == "BASE_URL_OPENAI"]
    assert openai_finding["severity"] == "fail"
    assert openai_finding["fix"][0].startswith("Run `export OPENAI_BASE_URL=https://api.cborg.lbl.gov`")
    # Not a blocker: the gateway under test is still tested with the key, and only it.
    assert check(run, "auth")["status"] == "pass" and check(run, "models")["status"] == "pass"


def test_with_openai_base_url_set_the_sdk_and_the_doctor_agree_it_works(
        home: Path, litellm_proxy: LiteLLMProxy, canary_key: str) -> None:
    env = {"OPENAI_API_KEY": canary_key, "OPENAI_BASE_URL": litellm_proxy.base_url}
    assert sdk_destination(home, env).rstrip("/") == litellm_proxy.base_url
    run = run_doctor("--base-url", litellm_proxy.base_url, "--timeout", TIMEOUT, "--json",
                     "--no-report", home=home, env=env)
    assert canary_key not in run.output
    assert run.code == 0, run.json()["verdict"]
    assert "BASE_URL_OPENAI" not in findings(run)
