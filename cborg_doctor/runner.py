"""Runs the selected checks: prerequisites, concurrency, time bounds, isolation.

Each check runs in its own daemon thread as soon as what it needs has finished,
so independent checks overlap (the whole run stays near the slowest path, not
the sum). Results are stored and reported in run order. A check that raises
becomes `error` with a short reason; one that outlives its time bound is
abandoned and becomes `error` too; Ctrl-C marks what was running as interrupted.
Each check gets its own view of the context (`RunContext.for_check`): the shared
results and facts, its own `deadline`.
"""

from __future__ import annotations

import queue
import signal
import threading
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from .check import Check, CheckResult, Outcome
from .context import RunContext
from .findings import Code, Finding, Severity, Status
from .secrets import Scrubber

CHECK_CRASHED = Code(
    "CHECK_CRASHED",
    Severity.FAIL,
    "The check itself crashed: {reason}.",
    fix=(
        "This is a bug in the check, not necessarily a problem with your setup.",
        "Run again with -v to see the traceback, and attach the report when you report it.",
    ),
    explain="A check raised an exception. The rest of the run went on; this check's "
    "result is unknown.",
)
CHECK_TIMEOUT = Code(
    "CHECK_TIMEOUT",
    Severity.FAIL,
    "The check did not finish within {seconds:.1f} s and was abandoned.",
    fix=(
        "Run again with a larger --timeout; if it still stalls, report it with this report.",
    ),
    explain="Every check has a time bound derived from --timeout so the doctor never hangs.",
)
INTERRUPTED = Code(
    "INTERRUPTED",
    Severity.FAIL,
    "The run was interrupted while this check was running.",
    fix=("Run the doctor again and let it finish.",),
    explain="Ctrl-C or SIGTERM arrived; the report holds what was found until then.",
)
PLUGIN_LOAD_FAILED = Code(
    "PLUGIN_LOAD_FAILED",
    Severity.FAIL,
    "A plugin's checks could not be loaded: {reason}.",
    fix=("Upgrade or uninstall the plugin package named above.",),
    explain="An installed package registers checks in the cborg_doctor.checks entry-point "
    "group, and loading them failed.",
)
ENGINE_CODES = (CHECK_CRASHED, CHECK_TIMEOUT, INTERRUPTED, PLUGIN_LOAD_FAILED)


class Listener(Protocol):
    """Told about progress, e.g. by the console's live display."""

    def started(self, check: Check) -> None: ...

    def finished(self, result: CheckResult) -> None: ...

    # Optional: ``progress(check_id, text)`` for a long check's progress line.


@dataclass(frozen=True)
class RunRecord:
    results: tuple[CheckResult, ...]
    interrupted: str | None = None  # "SIGINT" or "SIGTERM"


def outcome_to_result(check: Check, outcome: object, duration_ms: int) -> CheckResult:
    """Turn what a check returned into its result; anything but an `Outcome` is a crash."""
    if not isinstance(outcome, Outcome):
        raise TypeError(f"check returned {type(outcome).__name__}, not Outcome")
    findings = tuple(outcome.findings)
    if not all(isinstance(f, Finding) for f in findings):
        raise TypeError("check returned findings that are not Finding objects")
    status = Status.worst([f.status for f in findings])
    skipped = outcome.skipped_because
    if skipped and status is Status.PASS:
        status = Status.SKIP
    return CheckResult(
        id=check.id,
        title=check.title,
        status=status,
        duration_ms=duration_ms,
        summary=str(outcome.summary),
        findings=findings,
        skipped_because=str(skipped) if status is Status.SKIP else None,
        data=dict(outcome.data),
        explained_by=outcome.explained_by,
    )


def error_result(check: Check, finding: Finding, duration_ms: int, **data: object) -> CheckResult:
    return CheckResult(
        id=check.id,
        title=check.title,
        status=Status.ERROR,
        duration_ms=duration_ms,
        summary=finding.message,
        findings=(finding,),
        data=data,
    )


def skip_result(check: Check, reason: str) -> CheckResult:
    return CheckResult(check.id, check.title, Status.SKIP, 0, reason, skipped_because=reason)


def _execute(check: Check, ctx: RunContext, done: queue.Queue[CheckResult]) -> None:
    start = time.monotonic()
    try:
        outcome = check.run(ctx)
        result = outcome_to_result(check, outcome, _ms_since(start))
    except Exception as exc:  # isolation: one broken check never stops the run
        scrub = ctx.scrub
        reason = scrub(f"{type(exc).__name__}: {exc}".strip())[:300]
        result = error_result(
            check,
            CHECK_CRASHED.finding(reason=reason),
            _ms_since(start),
            traceback=scrub(traceback.format_exc()),
        )
    done.put(result)


def scrub_data(value: object, scrub: Scrubber) -> object:
    """A JSON-safe, scrubbed copy of a check's data (unknown objects become text)."""
    if isinstance(value, str):
        return scrub(value)
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, Mapping):
        return {scrub(str(k)): scrub_data(v, scrub) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [scrub_data(v, scrub) for v in value]
    return scrub(str(value))


def scrub_result(result: CheckResult, scrub: Scrubber) -> CheckResult:
    """The result with the key removed from every string it holds."""
    findings = tuple(
        replace(
            f,
            message=scrub(f.message),
            fix=tuple(scrub(step) for step in f.fix),
            data=scrub_data(dict(f.data), scrub),  # type: ignore[arg-type]
        )
        for f in result.findings
    )
    return replace(
        result,
        summary=scrub(result.summary),
        findings=findings,
        skipped_because=scrub(result.skipped_because) if result.skipped_because else None,
        data=scrub_data(dict(result.data), scrub),  # type: ignore[arg-type]
    )


def _ms_since(start: float) -> int:
    return int((time.monotonic() - start) * 1000)


def _waiting_on(check: Check, results: dict[str, CheckResult], selected: set[str]) -> str | None:
    """None when the check may start; "" while it must wait; else why it is skipped."""
    if any(i in selected and i not in results for i in check.uses):
        return ""
    for group in check.needed_groups():
        if any(i in results and results[i].usable for i in group):
            continue
        present = [i for i in group if i in selected]
        if any(i not in results for i in present):
            return ""
        if not present:
            return f"needs {' or '.join(group)}, which was not selected to run"
        blocker = results[present[0]]
        verb = "was skipped" if blocker.status is Status.SKIP else f"ended with {blocker.status.value}"
        return f"needs {' or '.join(group)}, which {verb}"
    return None


class _Signals:
    """Ctrl-C and SIGTERM during the run: the handler only notes the signal; the loop acts.

    A handler that raised `KeyboardInterrupt` could land while the main thread holds a
    lock (the result queue's, the context's, the console's); settling the run would then
    wait on that lock forever. Only signals whose handler is Python's own (Ctrl-C's, the
    CLI's SIGTERM) are taken over, and only in the main thread; they are restored after.
    """

    def __init__(self) -> None:
        self.received: str | None = None
        self._previous: dict[int, object] = {}

    def _note(self, signum: int, frame: object) -> None:
        self.received = self.received or signal.Signals(signum).name

    def __enter__(self) -> _Signals:
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGINT, signal.SIGTERM):
                previous = signal.getsignal(signum)
                if callable(previous):
                    self._previous[signum] = signal.signal(signum, self._note)
        return self

    def __exit__(self, *exc: object) -> None:
        for signum, previous in self._previous.items():
            signal.signal(signum, previous)  # type: ignore[arg-type]


# How often the loop looks at a noted signal while it waits for results.
SIGNAL_CHECK_S = 0.1


def run_checks(
    checks: Sequence[Check], ctx: RunContext, listener: Listener | None = None
) -> RunRecord:
    """Run `checks` (already in run order) and return their results in that order."""
    selected = {c.id for c in checks}
    pending = list(checks)
    running: dict[str, tuple[Check, float, float]] = {}  # id → (check, start, bound)
    started: dict[str, float] = {}  # every check ever started, for Ctrl-C bookkeeping
    done: queue.Queue[CheckResult] = queue.Queue()
    ctx.take_part(checks)
    scrub = ctx.scrub
    progress = getattr(listener, "progress", None)

    def record(result: CheckResult) -> None:
        result = scrub_result(result, scrub)
        ctx.add_result(result)
        if listener is not None:
            listener.finished(result)

    def start(check: Check) -> None:
        bound = check.time_bound(ctx.options)
        started[check.id] = time.monotonic()
        running[check.id] = (check, started[check.id], bound)
        if listener is not None:
            listener.started(check)
        on_progress = (lambda text, i=check.id: progress(i, text)) if progress else None
        threading.Thread(
            target=_execute, args=(check, ctx.for_check(bound, on_progress), done),
            name=f"check:{check.id}", daemon=True,
        ).start()

    with _Signals() as signals:
        try:
            while (pending or running) and not signals.received:
                for check in list(pending):
                    if check.opt_in and not getattr(ctx.options, check.opt_in, False):
                        reason = f"runs only with --{check.opt_in.replace('_', '-')}"
                    else:
                        reason = _waiting_on(check, ctx.results(), selected)
                    if reason == "":
                        continue
                    pending.remove(check)
                    if reason is not None:
                        record(skip_result(check, reason))
                    else:
                        start(check)
                if not running:
                    continue
                wait = min(begun + bound for _, begun, bound in running.values()) - time.monotonic()
                try:
                    result = done.get(timeout=min(max(wait, 0.01), SIGNAL_CHECK_S))
                except queue.Empty:
                    result = None
                if result is not None and result.id in running:
                    del running[result.id]
                    record(result)
                now = time.monotonic()
                for check_id, (check, begun, bound) in list(running.items()):
                    if now - begun >= bound:
                        del running[check_id]
                        record(error_result(
                            check, CHECK_TIMEOUT.finding(seconds=bound), int((now - begun) * 1000)))
        except KeyboardInterrupt as exc:  # not the main thread: the signal came as an exception
            signals.received = getattr(exc, "signal_name", "SIGINT")
        if signals.received:
            ctx.stopping.set()
            _settle_after_interrupt(checks, ctx, started, set(running), done, record)
            return RunRecord(_in_order(checks, ctx), signals.received)
    return RunRecord(_in_order(checks, ctx))


def _settle_after_interrupt(
    checks: Sequence[Check],
    ctx: RunContext,
    started: dict[str, float],
    running: set[str],
    done: queue.Queue[CheckResult],
    record: Callable[[CheckResult], None],
) -> None:
    """Give every selected check a result after Ctrl-C, wherever the interrupt landed.

    Results that finished but were not yet recorded are kept, and running checks get
    `Timeouts.grace` to hand back what they have (``ctx.stopping`` is set); checks still
    running then are `INTERRUPTED`; checks never started are skipped.
    """
    finished: dict[str, CheckResult] = {}
    until = time.monotonic() + ctx.timeouts.grace
    while True:
        wait = max(0.0, until - time.monotonic()) if running - set(finished) else 0.0
        try:
            result = done.get(timeout=wait)
        except queue.Empty:
            break
        finished.setdefault(result.id, result)
    now = time.monotonic()
    recorded = ctx.results()
    for check in checks:
        if check.id in recorded:
            continue
        if check.id in finished:
            record(finished[check.id])
        elif check.id in started:
            record(error_result(check, INTERRUPTED.finding(), int((now - started[check.id]) * 1000)))
        else:
            record(skip_result(check, "the run was interrupted before this check started"))


def _in_order(checks: Sequence[Check], ctx: RunContext) -> tuple[CheckResult, ...]:
    results = ctx.results()
    return tuple(results[c.id] for c in checks if c.id in results)
