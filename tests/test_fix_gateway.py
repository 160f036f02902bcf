"""After `--fix`, the checks that need the fixed one run again against a loopback gateway.

The gateway decides the outcome: the cleaned key is accepted (`fixed`, auth passes in the
same run) or rejected (`applied, still failing`, with what the gateway said).
"""

from __future__ import annotations

from pathlib import Path

from tests.fixkit import fix, fixes, snapshot, undo
from tests.standin_gateway import StandinGateway, standin_gateway_fixture  # noqa: F401
from tests.test_fix_cli import _write

ONLY = "config.key,auth"


def _checks(run) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {c["id"]: c["status"] for c in run.json()["checks"]}


def test_a_cleaned_key_file_is_accepted_by_the_gateway_in_the_same_run(
        standin_gateway: StandinGateway, home: Path, canary_key: str) -> None:
    standin_gateway.add(canary_key)
    key_file = _write(home / "cborg.key", f'"{canary_key}"\r\n')
    before = snapshot(home)
    run = fix(home, "--yes", "--api-key-file", str(key_file), only=ONLY,
              base_url=standin_gateway.base_url)
    assert [(f["code"], f["outcome"]) for f in fixes(run)] == [("KEY_MALFORMED", "fixed")], run.output
    assert _checks(run)["config.key"] == "pass" and _checks(run)["auth"] == "pass"
    assert run.code == 0
    assert canary_key not in run.output
    undo(home)
    assert snapshot(home) == before


def test_a_cleaned_key_the_gateway_rejects_is_applied_still_failing(
        standin_gateway: StandinGateway, home: Path, canary_key: str) -> None:
    key_file = _write(home / "cborg.key", f"  {canary_key}  \n")  # not registered: LiteLLM's 401
    run = fix(home, "--yes", "--api-key-file", str(key_file), only=ONLY,
              base_url=standin_gateway.base_url)
    entry = fixes(run)[0]
    assert (entry["code"], entry["outcome"]) == ("KEY_MALFORMED", "applied, still failing"), run.output
    assert entry["detail"].startswith(f"The gateway at {standin_gateway.base_url} does not accept the key")
    assert _checks(run)["auth"] == "fail" and run.code == 1
    assert key_file.read_text() == canary_key + "\n"
    assert canary_key not in run.output
