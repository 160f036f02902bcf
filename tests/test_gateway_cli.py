"""The gateway checks as a user meets them: `--explain`, `--list-checks`, whole runs.

Whole runs go through `run_doctor` with ``--base-url http://127.0.0.1:PORT``;
the network checks that `auth` needs run too, against loopback. Every output and
every report file is searched for the key.
"""

from __future__ import annotations

import functools
import subprocess
import sys
from pathlib import Path

import pytest

from tests.doctor import DoctorRun, run_doctor
from tests.litellm_proxy import (
    LiteLLMProxy,
    litellm_proxy_fixture,  # noqa: F401  (the litellm_proxy fixture)
)
from tests.standin_gateway import (
    Account,
    StandinGateway,
    cloudflare_forbidden,
    happy_key_info,
    key_budget_exceeded,
    standin_gateway_fixture,  # noqa: F401  (the standin_gateway fixture)
)

GATEWAY_CODES = (
    "KEY_INVALID", "KEY_EXPIRED", "KEY_BLOCKED", "IP_NOT_ALLOWED", "AUTH_UNVERIFIED",
    "BUDGET_EXCEEDED", "BUDGET_LOW", "BUDGET_UNKNOWN", "MODEL_NOT_FOUND", "MODEL_ALIAS",
    "MODEL_SYSTEM_PROMPT", "MODELS_UNAVAILABLE", "CLIENT_MODEL_UNKNOWN", "LIVE_OK",
    "LIVE_TIMEOUT", "LIVE_RATE_LIMITED", "LIVE_FAILED", "COST_HEADER_MISSING",
    # added beside the contract's codes
    "KEY_EXPIRES_SOON", "KEY_RESTRICTED", "MODEL_DETAILS", "MODELS_EMPTY",
)


@functools.cache
def _registered_ids() -> frozenset[str]:
    listing = subprocess.run([sys.executable, "-m", "cborg_doctor", "--list-checks"],
                             capture_output=True, text=True, timeout=60)
    return frozenset(line.split()[1] for line in listing.stdout.splitlines()[1:]
                     if len(line.split()) > 1)


def needs_network_checks() -> None:
    if "http" not in _registered_ids():
        pytest.skip("the network checks (dns … http) that auth needs are not registered yet")


def doctor(home: Path, key: str, base_url: str, *args: str) -> DoctorRun:
    reports = [home / f"report{ext}" for ext in (".json", ".md", ".html", ".xml")]
    run = run_doctor(
        "--base-url", base_url, "--timeout", "3", "--json",
        *[arg for path in reports for arg in ("--report", str(path))], *args,
        home=home, env={"CBORG_API_KEY": key},
    )
    texts = [run.stdout, run.stderr] + [p.read_text(encoding="utf-8") for p in reports
                                        if p.exists()]
    for text in texts:
        assert key not in text, "the key leaked into the output or a report"
    return run


def check(run: DoctorRun, check_id: str) -> dict:
    return next(c for c in run.json()["checks"] if c["id"] == check_id)


@pytest.mark.parametrize("code", GATEWAY_CODES)
def test_every_gateway_code_explains_itself(home: Path, code: str) -> None:
    run = run_doctor("--explain", code, home=home)
    assert run.code == 0, run.output
    assert code in run.stdout
    if code not in ("LIVE_OK", "MODEL_DETAILS"):
        assert "How to fix" in run.stdout or "fix" in run.stdout.lower()


def test_list_checks_shows_the_gateway_checks_in_order(home: Path) -> None:
    run = run_doctor("--list-checks", home=home)
    lines = [line.split() for line in run.stdout.splitlines()]
    ids = [parts[1] for parts in lines[1:] if len(parts) > 1]
    assert [i for i in ids if i in ("auth", "budget", "models", "live")] == [
        "auth", "budget", "models", "live"]
    assert "(only with --live)" in run.stdout


def test_whole_run_against_the_standin(home: Path, canary_key: str,
                                       standin_gateway: StandinGateway) -> None:
    needs_network_checks()
    standin_gateway.add(canary_key, Account(key_info=happy_key_info(spend=46.0)))
    run = doctor(home, canary_key, standin_gateway.base_url,
                 "--only", "auth,budget,models,live", "--model", "lbl/cborg-chat", "--live")
    report = run.json()
    assert check(run, "auth")["status"] == "pass", report
    assert check(run, "budget")["status"] == "warn"
    assert [f["code"] for f in check(run, "budget")["findings"]] == ["BUDGET_LOW"]
    assert "MODEL_SYSTEM_PROMPT" in [f["code"] for f in check(run, "models")["findings"]]
    assert [f["code"] for f in check(run, "live")["findings"]] == ["LIVE_OK"]
    assert run.code == 0
    strict = doctor(home, canary_key, standin_gateway.base_url, "--only", "budget",
                    "--fail-on", "warn")
    assert strict.code == 1


def test_whole_run_budget_exceeded_is_the_verdict(home: Path, canary_key: str,
                                                  standin_gateway: StandinGateway) -> None:
    needs_network_checks()
    standin_gateway.add(canary_key, Account(auth_error=key_budget_exceeded(12.5, 10.0, 429)))
    run = doctor(home, canary_key, standin_gateway.base_url, "--only", "budget")
    assert run.code == 1
    verdict = run.json()["verdict"]
    assert verdict["check"] == "budget" and verdict["code"] == "BUDGET_EXCEEDED"
    assert "$12.50 of $10.00" in verdict["message"]


def test_whole_run_unknown_key_echoed_by_the_gateway(home: Path, canary_key: str,
                                                     standin_gateway: StandinGateway) -> None:
    needs_network_checks()
    run = doctor(home, canary_key, standin_gateway.base_url, "--only", "auth")
    assert run.code == 1
    assert run.json()["verdict"]["code"] == "KEY_INVALID"


@pytest.mark.litellm
def test_whole_run_against_litellm(home: Path, canary_key: str,
                                   litellm_proxy: LiteLLMProxy) -> None:
    needs_network_checks()
    # A generous --timeout (the last one given wins): a loaded machine must not turn the
    # mock completion into LIVE_TIMEOUT.
    run = doctor(home, canary_key, litellm_proxy.base_url, "--only", "auth,budget,models,live",
                 "--live", "--model", "anthropic/claude-sonnet", "--timeout", "10")
    assert check(run, "auth")["status"] == "pass"
    assert [f["code"] for f in check(run, "auth")["findings"]] == ["AUTH_UNVERIFIED"]
    assert check(run, "budget")["status"] == "warn"
    assert check(run, "models")["summary"].startswith("4 models (2 free, 2 paid)")
    live = check(run, "live")
    assert live["status"] == "pass" and live["data"]["cost"] > 0
    assert run.code == 0


@pytest.mark.litellm
def test_whole_run_missing_key_against_litellm(home: Path, litellm_proxy: LiteLLMProxy) -> None:
    run = run_doctor("--base-url", litellm_proxy.base_url, "--only", "auth", "--json",
                     "--no-report", home=home)
    assert run.code == 1
    report = run.json()
    assert report["verdict"]["code"] == "KEY_MISSING"
    auth = next(c for c in report["checks"] if c["id"] == "auth")
    assert auth["status"] == "skip"


def test_whole_run_ip_refused_names_the_egress_address(home: Path, canary_key: str,
                                                       standin_gateway: StandinGateway) -> None:
    needs_network_checks()
    if "egress" not in _registered_ids():
        pytest.skip("the egress check is not registered yet")
    standin_gateway.add(canary_key, Account(auth_error=cloudflare_forbidden()))
    run = doctor(home, canary_key, standin_gateway.base_url, "--only", "auth,egress")
    assert run.code == 1
    report = run.json()
    assert report["verdict"]["code"] == "IP_NOT_ALLOWED"
    auth = check(run, "auth")
    fix = auth["findings"][0]["fix"][0]
    assert f"Authorize {standin_gateway.trace_ip} (IPv4) at https://api.cborg.lbl.gov" in fix
