"""`config.key` and `config.base_url`: what the user is told about their key and URL."""

from __future__ import annotations

from pathlib import Path

import pytest
from cborg_doctor_checks.config import base_url as config_base_url
from cborg_doctor_checks.config import key as config_key

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
        ("ghp_" + GOOD[3:], "does not start with `sk-`"),
        ("sk-abc123", "is only 9 characters long"),
    ],
)
def test_malformed_keys_say_exactly_what_is_wrong(raw: str, problem: str) -> None:
    outcome = config_key.run(ctx_for({"CBORG_API_KEY": raw}))
    messages = [f.message for f in outcome.findings]
    assert any(problem in m for m in messages), messages
    assert all(f.code == "KEY_MALFORMED" for f in outcome.findings)
    assert all(raw.strip() not in m for m in messages)


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
