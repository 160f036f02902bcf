"""`config.key` and `config.base_url`: what the user is told about their key and URL."""

from __future__ import annotations

from pathlib import Path

import pytest
from cborg_doctor_checks.config import base_url as config_base_url
from cborg_doctor_checks.config import key as config_key

from cborg_doctor.cborg import length_hint
from cborg_doctor.context import RunContext
from cborg_doctor.options import Options
from cborg_doctor.secrets import resolve_key
from cborg_doctor.target import choose_target
from tests.doctor import run_doctor

GOOD = "sk-Q3kT9xWq1LmZpR7vYb2NcA"


def ctx_for(env: dict[str, str], base_url: str | None = None) -> RunContext:
    return RunContext(Options(base_url=base_url), env, resolve_key(None, env), choose_target(base_url, env))


def codes(outcome: object) -> list[str]:
    return [f.code for f in outcome.findings]  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        (GOOD + "\n", "ends with whitespace"),
        (" " + GOOD, "starts with whitespace"),
        (f'"{GOOD}"', "is wrapped in quotes"),
        (f"“{GOOD}”", "is wrapped in quotes"),
        (GOOD[:10] + "\n" + GOOD[10:], "contains a line break"),
        (GOOD.replace("-", "\u2011"), "U+2011"),
    ],
)
def test_malformed_keys_say_exactly_what_is_wrong(raw: str, problem: str) -> None:
    outcome = config_key.run(ctx_for({"CBORG_API_KEY": raw}))
    messages = [f.message for f in outcome.findings if f.code == "KEY_MALFORMED"]
    assert any(problem in m for m in messages), messages
    assert all(f.code in ("KEY_MALFORMED", "KEY_UNUSUAL") for f in outcome.findings)
    assert all(raw.strip() not in f.message for f in outcome.findings)


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("ghp_" + GOOD[3:], "does not start with `sk-`"),
        ("sk-abc123", "is only 9 characters long; CBorg keys are 25"),
        ("sk-1234", "is only 7 characters long; CBorg keys are 25"),
    ],
)
def test_an_unusual_key_is_only_a_warning_the_gateway_decides(raw: str, problem: str) -> None:
    outcome = config_key.run(ctx_for({"CBORG_API_KEY": raw}))
    (finding,) = outcome.findings
    assert finding.code == "KEY_UNUSUAL" and finding.status.value == "warn"
    assert problem in finding.message and "the auth check asks the gateway" in finding.message
    assert raw not in finding.message


@pytest.mark.parametrize(
    ("raw", "hint"),
    [
        ("sk-" + "a" * 7, "it is 10 characters; CBorg keys are 25: probably cut short"),
        ("ghp_abcdefghijklmnopqrstuv", "does not start with `sk-`"),
        (" " + GOOD + "\n", ""),
        (GOOD, ""),
    ],
)
def test_length_hint_for_a_rejected_key(raw: str, hint: str) -> None:
    found = length_hint(raw)
    assert (hint in found) if hint else found == ""


def test_good_key_passes_with_fingerprint() -> None:
    outcome = config_key.run(ctx_for({"CBORG_API_KEY": GOOD}))
    assert list(outcome.findings) == []
    assert outcome.summary == "sk-…NcA from env:CBORG_API_KEY".replace("…NcA", "…" + GOOD[-4:])


def test_missing_key_names_variables_and_safe_ways_to_set_one() -> None:
    outcome = config_key.run(ctx_for({}))
    (finding,) = outcome.findings
    assert finding.code == "KEY_MISSING"
    assert "$CBORG_API_KEY, $OPENAI_API_KEY" in finding.message
    assert any("not in source code" in step for step in finding.fix)


def test_different_keys_in_the_two_variables_is_noted() -> None:
    outcome = config_key.run(ctx_for({"CBORG_API_KEY": GOOD, "OPENAI_API_KEY": "sk-" + "z" * 30}))
    assert codes(outcome) == ["KEY_SOURCES_DIFFER"]


@pytest.mark.parametrize(
    ("env", "base_url", "expected"),
    [
        ({}, None, []),
        ({"CBORG_BASE_URL": "api.cborg.lbl.gov"}, None, ["BASE_URL_INVALID"]),
        ({"CBORG_BASE_URL": "http://api.cborg.lbl.gov"}, None, ["BASE_URL_INSECURE"]),
        ({}, "http://127.0.0.1:4000", []),
        ({}, "https://api.cborg.lbl.gov/v1", []),
        ({}, "https://api.cborg.lbl.gov/v1/chat/completions", ["BASE_URL_PATH"]),
        ({"CBORG_BASE_URL": "https://gw.example.org"}, None, ["BASE_URL_UNKNOWN_HOST"]),
        ({}, "https://gw.example.org", []),  # --base-url is trusted as given
        ({"OPENAI_BASE_URL": "https://api.openai.com/v1"}, None, ["BASE_URL_OPENAI"]),
        ({"OPENAI_API_KEY": GOOD}, None, ["BASE_URL_OPENAI"]),
        ({"OPENAI_API_KEY": GOOD, "OPENAI_API_BASE": "https://api.cborg.lbl.gov"}, None, []),
        ({"CBORG_API_KEY": GOOD, "OPENAI_API_KEY": "sk-" + "o" * 22}, None, ["BASE_URL_OPENAI"]),
        ({"OPENAI_BASE_URL": "https://api.cborg.lbl.gov"}, None, []),
        ({"OPENAI_BASE_URL": "https://other.example.org/v1"}, None, ["BASE_URL_UNKNOWN_HOST"]),
    ],
)
def test_base_url_findings(env: dict[str, str], base_url: str | None, expected: list[str]) -> None:
    assert codes(config_base_url.run(ctx_for(env, base_url))) == expected


def test_openai_base_url_pointing_at_openai_is_a_fail_and_the_doctor_tests_cborg(home: Path) -> None:
    run = run_doctor(
        "--only", "config.base_url", "--json", "--no-report", home=home,
        env={"OPENAI_BASE_URL": "https://api.openai.com/v1", "CBORG_API_KEY": GOOD},
    )
    report = run.json()
    assert report["target"]["host"] == "api.cborg.lbl.gov"
    (finding,) = report["checks"][0]["findings"]
    assert finding["code"] == "BASE_URL_OPENAI" and finding["severity"] == "fail"
    assert "Incorrect API key provided" in finding["message"]
    assert finding["fix"][0].startswith("Run `export OPENAI_BASE_URL=https://api.cborg.lbl.gov`")
    assert run.code == 1


@pytest.mark.parametrize(
    ("env", "severity"),
    [
        ({"OPENAI_API_KEY": GOOD}, "fail"),  # the only key: every OpenAI() sends it to OpenAI
        ({"CBORG_API_KEY": GOOD, "OPENAI_API_KEY": GOOD}, "fail"),  # the same key in both
        ({"CBORG_API_KEY": GOOD, "OPENAI_API_KEY": "sk-" + "o" * 22}, "warn"),  # an OpenAI key
    ],
)
def test_the_cborg_key_in_openai_api_key_without_a_base_url(env: dict[str, str],
                                                            severity: str) -> None:
    (finding,) = [f for f in config_base_url.run(ctx_for(env)).findings
                  if f.code == "BASE_URL_OPENAI"]
    assert finding.severity.value == severity
    assert "Incorrect API key provided" in finding.message
    assert finding.fix[0].startswith("Run `export OPENAI_BASE_URL=https://api.cborg.lbl.gov`")
    if severity == "fail":  # broken scripts, but the doctor still tests CBorg after it
        assert finding.blocks is False
        assert "neither OPENAI_BASE_URL nor OPENAI_API_BASE is set" in finding.message
    assert GOOD not in finding.message


def test_a_base_url_path_is_a_warning_naming_the_urls_the_sdk_will_use() -> None:
    outcome = config_base_url.run(ctx_for({}, "https://api.cborg.lbl.gov/v1/chat/completions"))
    (finding,) = outcome.findings
    assert finding.code == "BASE_URL_PATH" and finding.severity.value == "warn"
    assert "https://api.cborg.lbl.gov/v1/chat/completions/chat/completions" in finding.message
    assert "the models check tries https://api.cborg.lbl.gov/v1/chat/completions/models" in (
        finding.message)
