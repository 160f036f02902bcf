"""Whatever stalls, the run ends by itself, each check inside its own bound.

One stalled phase per case (tests/stalls.py). Asserted structurally, not by the
clock: the run finishes (the harness would kill a hang), no check is abandoned
(CHECK_TIMEOUT: a bound kept by the runner instead of by the check), and the
stalled check says, with its own code, what it met. How long the runs take
against 2 × --timeout + 1 s is measured by benchmarks/bounds.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.stalls import CANARY, stalled_run

TIMEOUT = 1.0
EXPECTED = {
    "dns": ("dns", "DNS_TIMEOUT"),
    "connect": ("net.ipv4", "TCP_TIMEOUT"),
    "tls": ("tls", "TLS_TIMEOUT"),
    "headers": ("http", "HTTP_TIMEOUT"),
    "trickle": ("http", "HTTP_TIMEOUT"),  # was HTTP_NOT_GATEWAY: the cut body looked complete
    # Was 2 × the bound: auth, then budget and models, each waited out the same stall.
    "account": ("models", "MODELS_UNAVAILABLE"),
    # Was abandoned (CHECK_TIMEOUT): the CONNECT answer was read one trickled byte at a time.
    "proxy": ("tls", "TLS_FAILED"),
}


@pytest.mark.parametrize("phase", list(EXPECTED))
def test_a_stall_in_any_phase_ends_the_run_within_the_bound(tmp_path: Path, phase: str) -> None:
    timed = stalled_run(phase, TIMEOUT, tmp_path)
    abandoned = [c["id"] for c in timed.report["checks"]
                 if any(f["code"] == "CHECK_TIMEOUT" for f in c["findings"])]
    assert abandoned == [], f"{phase}: abandoned at their bound: {abandoned}"
    assert timed.code == 1
    check_id, code = EXPECTED[phase]
    check = next(c for c in timed.report["checks"] if c["id"] == check_id)
    assert code in [f["code"] for f in check["findings"]], check
    assert "error" not in timed.statuses().values(), timed.statuses()
    assert CANARY not in str(timed.report)
    if phase == "account":  # the stall is named, not passed off as "HTTP 200"
        budget = next(c for c in timed.report["checks"] if c["id"] == "budget")
        assert "then the body was still arriving after" in budget["findings"][0]["message"], budget
