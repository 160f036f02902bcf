"""The run's limits come from --timeout in one place; facts are typed constants."""

from __future__ import annotations

import pytest

from cborg_doctor import facts
from cborg_doctor.options import Options
from cborg_doctor.session import build_context
from cborg_doctor.timeouts import Deadline, Timeouts


@pytest.mark.parametrize("t", [0.5, 1.0, 5.0, 30.0])
def test_every_limit_is_derived_from_the_one_option(t: float) -> None:
    limits = Options(timeout=t).timeouts
    assert limits.operation == t
    assert limits.request == 2 * t  # what the HTTP watchdog allows one request
    assert limits.check == 2 * t + 1  # what the runner allows one check
    assert limits.command == min(t, 4.0) and limits.aside == min(t, 3.0)
    # a request that must fit in what is left gets an operation limit that fits it
    assert limits.operation_within(limits.request) == t
    assert limits.operation_within(1.0) == min(t, 0.5)
    assert limits.rounds(3, 0.5) == 3 * (0.5 + limits.check) + limits.check


def test_a_deadline_hands_out_what_is_left_and_never_less_than_nothing() -> None:
    spent = Deadline(1.0, start=0.0)  # started at monotonic 0: long over
    assert spent.remaining == 0.0 and spent.bound(4.0) == 0.0
    fresh = Timeouts.from_option(5).deadline()
    assert 0 < fresh.bound(4.0) <= 4.0
    assert fresh.at(0.5) == fresh.start + fresh.seconds / 2


def test_each_check_gets_its_own_deadline_and_shares_results_and_facts() -> None:
    ctx = build_context(Options(timeout=2), env={})
    one = ctx.for_check()
    one.share(facts.DNS_ADDRESSES, {"order": ["127.0.0.1"]})
    assert ctx.fact(facts.DNS_ADDRESSES) == {"order": ["127.0.0.1"]}
    assert one.deadline is not ctx.deadline and one.stopping is ctx.stopping
    assert ctx.fact(facts.EGRESS_ADDRESSES) is None


def test_a_fact_named_by_a_string_is_refused() -> None:
    ctx = build_context(Options(), env={})
    with pytest.raises(TypeError, match="Fact constants"):
        ctx.share("dns.addresses", [])  # type: ignore[arg-type]
