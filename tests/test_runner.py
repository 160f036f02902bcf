"""The runner: prerequisites, skip reasons, crash isolation, time bounds, order."""

from __future__ import annotations

import threading
import time

from cborg_doctor.check import Check, Outcome
from cborg_doctor.context import RunContext
from cborg_doctor.facts import DNS_ADDRESSES
from cborg_doctor.findings import Code, Severity, Status
from cborg_doctor.options import Options
from cborg_doctor.runner import run_checks
from cborg_doctor.secrets import ApiKey, KeyResolution
from cborg_doctor.target import parse_target

KEY = "sk-RunnerCanary0123456789abc"
BOOM = Code("BOOM", Severity.FAIL, "boom {what}")
MEH = Code("MEH", Severity.WARN, "meh")
FYI = Code("FYI", Severity.INFO, "fyi")


def make_ctx(**options: object) -> RunContext:
    return RunContext(
        options=Options(**options),  # type: ignore[arg-type]
        env={},
        key_resolution=KeyResolution(ApiKey(KEY, "env:CBORG_API_KEY"), ()),
        target=parse_target("http://127.0.0.1:9", "option"),
    )


def outcome(*findings: object) -> object:
    return lambda ctx: Outcome("done", list(findings))  # type: ignore[arg-type]


def statuses(record: object) -> dict[str, str]:
    return {r.id: r.status.value for r in record.results}  # type: ignore[attr-defined]


def test_status_is_worst_finding_and_info_is_pass() -> None:
    checks = [
        Check("a", "A", outcome(FYI.finding()), order=1),
        Check("b", "B", outcome(FYI.finding(), MEH.finding()), order=2),
        Check("c", "C", outcome(MEH.finding(), BOOM.finding(what="x")), order=3),
    ]
    assert statuses(run_checks(checks, make_ctx())) == {"a": "pass", "b": "warn", "c": "fail"}


def test_dependents_skip_naming_the_check_they_waited_for() -> None:
    checks = [
        Check("dns", "DNS", outcome(BOOM.finding(what="nx"))),
        Check("net", "Net", outcome(), needs=("dns",)),
        Check("tls", "TLS", outcome(), needs=("net",)),
        Check("warned", "W", outcome(MEH.finding())),
        Check("after-warn", "AW", outcome(), needs=("warned",)),
    ]
    record = run_checks(checks, make_ctx())
    by_id = {r.id: r for r in record.results}
    assert by_id["net"].status is Status.SKIP
    assert by_id["net"].skipped_because == "needs dns, which ended with fail"
    assert by_id["tls"].skipped_because == "needs net, which was skipped"
    assert by_id["after-warn"].status is Status.PASS  # warn satisfies a prerequisite


def test_any_of_prerequisite() -> None:
    checks = [
        Check("v4", "4", outcome(BOOM.finding(what="x"))),
        Check("v6", "6", outcome()),
        Check("tls", "T", outcome(), needs=("v4|v6",)),
    ]
    assert statuses(run_checks(checks, make_ctx()))["tls"] == "pass"


def test_crash_is_error_with_scrubbed_reason_and_the_run_goes_on() -> None:
    def crash(ctx: RunContext) -> Outcome:
        raise RuntimeError(f"server said Received API Key = {KEY}")

    checks = [Check("bad", "Bad", crash), Check("good", "Good", outcome())]
    record = run_checks(checks, make_ctx())
    bad = record.results[0]
    assert bad.status is Status.ERROR
    assert bad.findings[0].code == "CHECK_CRASHED"
    assert "RuntimeError: server said Received API Key = sk-" in bad.summary
    assert KEY not in str(bad.to_dict())
    assert "Traceback" in bad.data["traceback"]
    assert record.results[1].status is Status.PASS


def test_wrong_return_type_is_an_error() -> None:
    record = run_checks([Check("x", "X", lambda ctx: "fine")], make_ctx())  # type: ignore[arg-type,return-value]
    assert record.results[0].status is Status.ERROR
    assert "not Outcome" in record.results[0].summary


def test_a_stalled_check_is_abandoned_at_its_bound() -> None:
    release = threading.Event()

    def stall(ctx: RunContext) -> Outcome:
        release.wait(30)
        return Outcome("late")

    checks = [Check("slow", "Slow", stall), Check("next", "Next", outcome(), needs=("slow",))]
    record = run_checks(checks, make_ctx(timeout=0.05))  # bound = 2 * 0.05 + 1 s
    release.set()
    slow, nxt = record.results
    assert slow.status is Status.ERROR and slow.findings[0].code == "CHECK_TIMEOUT"
    assert "1.1 s" in slow.findings[0].message
    assert nxt.status is Status.SKIP


def test_independent_checks_overlap() -> None:
    both_running = threading.Barrier(2, timeout=5)

    def meet(ctx: RunContext) -> Outcome:
        both_running.wait()  # raises BrokenBarrierError if the other never starts
        return Outcome("met")

    record = run_checks([Check("a", "A", meet), Check("b", "B", meet)], make_ctx())
    assert statuses(record) == {"a": "pass", "b": "pass"}


def test_opt_in_check_skips_without_its_flag() -> None:
    check = Check("live", "Live", outcome(), opt_in="live")
    assert run_checks([check], make_ctx()).results[0].skipped_because == "runs only with --live"
    assert run_checks([check], make_ctx(live=True)).results[0].status is Status.PASS


def test_results_stay_in_run_order_even_when_finishing_out_of_order() -> None:
    def slow(ctx: RunContext) -> Outcome:
        time.sleep(0.2)
        return Outcome("slow")

    record = run_checks([Check("first", "F", slow), Check("second", "S", outcome())], make_ctx())
    assert [r.id for r in record.results] == ["first", "second"]


def test_later_checks_read_earlier_results_and_shared_facts() -> None:
    def producer(ctx: RunContext) -> Outcome:
        ctx.share(DNS_ADDRESSES, ["127.0.0.1"])
        return Outcome("made")

    def consumer(ctx: RunContext) -> Outcome:
        earlier = ctx.result("producer")
        return Outcome(f"{earlier.summary if earlier else '?'} {ctx.fact(DNS_ADDRESSES)}")

    record = run_checks(
        [Check("producer", "P", producer), Check("consumer", "C", consumer, needs=("producer",))],
        make_ctx(),
    )
    assert record.results[1].summary == "made ['127.0.0.1']"


def test_a_non_blocking_failure_still_lets_dependents_run() -> None:
    elsewhere = Code("ELSEWHERE", Severity.FAIL, "your other tools are misconfigured")
    checks = [
        Check("config", "C", outcome(elsewhere.finding(blocks=False))),
        Check("dns", "D", outcome(), needs=("config",)),
        Check("mixed", "M", outcome(elsewhere.finding(blocks=False), BOOM.finding(what="x"))),
        Check("after", "A", outcome(), needs=("mixed",)),
    ]
    assert statuses(run_checks(checks, make_ctx())) == {
        "config": "fail", "dns": "pass", "mixed": "fail", "after": "skip"}


def test_ctrl_c_gives_every_check_a_result() -> None:
    """Wherever the interrupt lands, each selected check ends recorded: finished ones keep
    their result, running ones are INTERRUPTED, unstarted ones skip."""
    import os
    import signal

    started = threading.Event()

    def fast(ctx: RunContext) -> Outcome:
        return Outcome("fast")

    def slow(ctx: RunContext) -> Outcome:
        time.sleep(0.3)
        started.set()
        os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C; Python delivers it to the runner's thread
        time.sleep(30)
        return Outcome("late")

    checks = [Check("fast", "F", fast), Check("slow", "S", slow),
              Check("after", "A", outcome(), needs=("slow",))]
    record = run_checks(checks, make_ctx(timeout=30))
    assert started.is_set()
    assert record.interrupted == "SIGINT"
    assert statuses(record) == {"fast": "pass", "slow": "error", "after": "skip"}
    assert record.results[1].findings[0].code == "INTERRUPTED"


def test_uses_waits_for_a_slow_check_whatever_its_status_and_never_skips() -> None:
    """A check that reads another's result sees it even when that one is slow or failed."""
    release = threading.Event()

    def slow_failing(ctx: RunContext) -> Outcome:
        release.wait(2)
        time.sleep(0.3)  # still running when `reader` could otherwise start
        return Outcome("slow", [BOOM.finding(what="late")])

    def reader(ctx: RunContext) -> Outcome:
        seen = ctx.result("slow")
        return Outcome(f"saw {seen.status.value if seen else 'nothing'}")

    def quick(ctx: RunContext) -> Outcome:
        release.set()  # runs concurrently with `slow`: the reader must not start before it
        return Outcome("quick")

    checks = [
        Check("slow", "Slow", slow_failing, order=1),
        Check("quick", "Quick", quick, order=2),
        Check("reader", "Reader", reader, needs=("quick",), uses=("slow",), order=3),
    ]
    record = run_checks(checks, make_ctx())
    by_id = {r.id: r for r in record.results}
    assert by_id["reader"].status is Status.PASS
    assert by_id["reader"].summary == "saw fail"


def test_uses_of_an_unselected_check_does_not_wait() -> None:
    checks = [Check("reader", "Reader", lambda ctx: Outcome("ran"), uses=("absent",))]
    assert statuses(run_checks(checks, make_ctx())) == {"reader": "pass"}


def test_order_puts_used_checks_first() -> None:
    from cborg_doctor.registry import order_checks

    reader = Check("reader", "R", outcome(), uses=("late",), order=1)
    late = Check("late", "L", outcome(), order=5)
    assert [c.id for c in order_checks([reader, late])] == ["late", "reader"]
