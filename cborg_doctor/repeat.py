"""``--repeat N [--interval S]``: rerun the network probes N times to catch intermittent loss.

The CBorg FAQ warns that requests "may fail due to network interruptions". One
run of the doctor sees one moment; this reruns, after the normal checks, the
path a request takes, N rounds, one round every `interval` seconds:

- DNS: the gateway's name, as the clients resolve it (skipped for an IP literal);
- one request to each address (at most two per family), pinned to it, timing
  TCP connect, TLS handshake and time to first byte (through the proxy instead,
  by name, when the clients use one);
- with ``--live`` the ``live`` check's completion too.

It then reports per phase the failure rate and p50/p95/max latency, which
phase fails when a request fails, and whether failures cluster on one address
family or one address. The result is one more entry in the report, ``repeat``,
with `INTERMITTENT_LOSS` (warn, with retry code done right), `REPEAT_ALL_FAILED`
or `NETWORK_STABLE`.

A 429 or 5xx answer counts as a failure of the response phase; any other
status means the gateway answered.
"""

from __future__ import annotations

import math
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from .check import CheckResult
from .findings import Code, Finding, Severity, Status

if TYPE_CHECKING:
    from rich.console import Console

    from .context import RunContext
    from .registry import Registry
    from .report import Report

PROBE_PATH = "/health/liveliness"  # LiteLLM's unauthenticated liveness answer, as the http check uses
PER_FAMILY = 2
TITLE = "Repeated probes"
PHASES = ("dns", "connect", "tls", "ttfb", "total", "live")
PHASE_LABELS = {"dns": "DNS", "connect": "TCP connect", "tls": "TLS handshake", "ttfb": "first byte",
                "total": "whole request", "live": "live completion"}
# The phases an attempt goes through, in order; the first one without a timing failed.
_STEPS = ("connect", "tls", "ttfb")

RETRY_SAMPLE = '''```python
import os, random, time
import openai

client = openai.OpenAI(base_url="https://api.cborg.lbl.gov",
                       api_key=os.environ["CBORG_API_KEY"], max_retries=0)

def create_with_retry(attempts=6, cap=60.0, **request):
    for attempt in range(attempts):
        try:
            return client.chat.completions.create(**request)
        except openai.APIConnectionError as exc:   # network errors and timeouts
            error, wait = exc, 0.0
        except openai.APIStatusError as exc:
            if exc.status_code != 429 and exc.status_code < 500:
                raise                               # 400, 401, 403, 404: retrying cannot help
            error = exc
            try:
                wait = float(exc.response.headers.get("retry-after", 0))
            except ValueError:
                wait = 0.0
        if attempt == attempts - 1:
            raise error
        # exponential backoff with full jitter, never sooner than the server asked
        time.sleep(max(wait, random.uniform(0, min(cap, 2 ** attempt))))
```'''

INTERMITTENT_LOSS = Code(
    "INTERMITTENT_LOSS",
    Severity.WARN,
    "{failed} of {attempts} attempts failed ({rate}) over {rounds} rounds, mostly in {phase}{cluster}.",
    fix=(
        "Make your scripts retry with exponential backoff and jitter, and only on connection "
        "errors, 429 and 5xx answers (as the CBorg FAQ recommends); the openai SDK retries "
        "twice by default, raise it with OpenAI(max_retries=5) or use the code below.",
        "Long requests: stream the response or raise the client's timeout, so a slow answer "
        "is not mistaken for a lost one.",
        "If it persists, send the report to scienceit@lbl.gov (`cborg-doctor --repeat 50 --helpdesk`).",
        "Retry done right (Python, openai SDK):\n" + RETRY_SAMPLE,
    ),
    explain="Some repeated requests failed and others succeeded: the path to the gateway "
    "loses requests now and then (Wi-Fi, VPN, an overloaded proxy, one bad address, "
    "gateway maintenance). Clients that do not retry will fail at random; the last fix "
    "step is a retry that backs off exponentially with jitter and retries only what can succeed.",
)
REPEAT_ALL_FAILED = Code(
    "REPEAT_ALL_FAILED",
    Severity.FAIL,
    "All {attempts} attempts over {rounds} rounds failed, in {phase}: {detail}",
    fix=(
        "This is not intermittent: follow the fix of the first failing check above.",
        "If the checks above passed, the path broke during the run: run cborg-doctor again.",
    ),
    explain="Every repeated request failed, so the gateway is unreachable from here right now.",
)
NETWORK_STABLE = Code(
    "NETWORK_STABLE",
    Severity.INFO,
    "All {attempts} attempts over {rounds} rounds succeeded; whole request p50 {p50}, p95 {p95}.",
    explain="No request was lost while the doctor repeated them.",
)
FAMILY_FIX = {
    "IPv6": "Failures cluster on IPv6: clients that prefer IPv6 fail at random. Fix IPv6 on this "
            "network, or make the clients prefer IPv4 (Linux: `precedence ::ffff:0:0/96 100` in "
            "/etc/gai.conf; WSL: mirrored networking).",
    "IPv4": "Failures cluster on IPv4: fix the IPv4 path (VPN split tunnel, firewall), or ask "
            "scienceit@lbl.gov whether IPv6 is the better path from here.",
}
ADDRESS_FIX = ("Failures cluster on one address of the gateway ({address}): tell scienceit@lbl.gov "
               "which one (`--helpdesk`); it may be one edge or a stale DNS answer.")
CODES = (INTERMITTENT_LOSS, REPEAT_ALL_FAILED, NETWORK_STABLE)


@dataclass(frozen=True)
class Attempt:
    """One probe in one round: what each phase took, and where it failed."""

    round: int
    times: dict[str, float]  # ms per phase that completed
    failed: str | None = None  # the phase that failed
    error: str = ""  # short kind: timeout, refused, tls, HTTP 503, ...
    address: str | None = None
    family: str | None = None  # "IPv4", "IPv6", "proxy"
    kind: str = "request"  # "dns" (one lookup per round), "request", "live"


@dataclass
class Rounds:
    """Everything the rounds saw (filled in by `run_rounds`)."""

    planned: int
    interval: float
    attempts: list[Attempt] = field(default_factory=list)
    done: int = 0
    interrupted: str | None = None


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (p50 of [1, 2, 3, 4] is 2): a value that was measured."""
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def _family(address: str) -> str:
    return "IPv6" if ":" in address else "IPv4"


def _classify(result: Any, https: bool) -> tuple[str | None, str]:
    """(failed phase, error) of one `HttpResult`; (None, "") when the gateway answered."""
    if result.error is None and result.status is not None:
        if result.status == 429 or result.status >= 500:
            return "ttfb", f"HTTP {result.status}"
        return None, ""
    error = str(result.error or "failed")
    if error == "tls":
        return "tls", f"tls ({result.cause})" if result.cause and result.cause != "tls" else "tls"
    for step in _STEPS:
        if step == "tls" and not https:
            continue
        if step not in result.timings:
            return step, error
    return "ttfb", error


def _probe_round(ctx: RunContext, number: int, live: Callable[[], Attempt] | None) -> list[Attempt]:
    from .probes import http, proxy, resolve

    attempts: list[Attempt] = []
    https = ctx.target.scheme == "https"
    via = proxy.decision(ctx).url
    addresses: list[str] = []
    if via is None:
        found = resolve.lookup(ctx)
        if found.method != "literal":
            if not found.ok:
                return [Attempt(number, {}, "dns", found.error or "dns", kind="dns")]
            attempts.append(Attempt(number, {"dns": round(found.ms, 2)}, kind="dns"))
        for family in ("IPv4", "IPv6"):
            addresses += [a for a in found.addresses if _family(a) == family][:PER_FAMILY]

    def one(address: str | None) -> Attempt:
        result = http.request(ctx, "GET", PROBE_PATH, address=address, max_body=64 * 1024)
        times = {k: v for k, v in result.timings.items() if k in ("connect", "tls", "ttfb", "total")}
        failed, error = _classify(result, https)
        if failed is not None:  # a 503's time to first byte is not a latency of success
            times.pop(failed, None)
            times.pop("total", None)
        return Attempt(number, times, failed, error, address or result.address,
                       _family(address) if address else "proxy")

    targets: list[str | None] = list(addresses) if via is None else [None]
    found_attempts: dict[int, Attempt] = {}

    def work(index: int, address: str | None) -> None:
        found_attempts[index] = one(address)

    threads = [threading.Thread(target=work, args=(i, a), daemon=True, name=f"repeat:{a}")
               for i, a in enumerate(targets)]
    for thread in threads:
        thread.start()
    bound = ctx.timeouts.check  # a request (`Timeouts.request`) and the thread's slack
    for thread in threads:
        thread.join(bound)
    for index, address in enumerate(targets):
        attempts.append(found_attempts.get(index) or Attempt(
            number, {}, "ttfb", "timeout", address, _family(address) if address else "proxy"))
    if live is not None:
        attempts.append(live())
    return attempts


def _live_probe(ctx: RunContext, registry: Registry, report: Report) -> Callable[[int], Attempt] | None:
    """With --live, the live check itself, rerun each round (when it could run at all)."""
    check = registry.get("live")
    done = next((c for c in report.checks if c.id == "live"), None)
    if not ctx.options.live or check is None or done is None or not done.usable:
        return None

    def probe(number: int) -> Attempt:
        start = time.monotonic()
        try:
            outcome = check.run(ctx.for_check())
            codes = [f.code for f in outcome.findings]
            ok = "LIVE_OK" in codes
            error = "" if ok else next(iter(codes), "failed")
        except Exception as exc:  # a crash of the live check is one failed attempt
            ok, error = False, type(exc).__name__
        ms = round((time.monotonic() - start) * 1000, 2)
        return Attempt(number, {"live": ms} if ok else {}, None if ok else "live", error, kind="live")

    return probe


def run_rounds(
    ctx: RunContext, rounds: Rounds, live: Callable[[int], Attempt] | None = None,
    on_round: Callable[[Rounds], None] | None = None,
) -> Rounds:
    """Run the rounds, one every `interval` seconds; Ctrl-C ends them early, keeping what was seen."""
    started = time.monotonic()
    try:
        for number in range(1, rounds.planned + 1):
            if number > 1:
                pause = started + (number - 1) * rounds.interval - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
            probe = (lambda n=number: live(n)) if live is not None else None
            rounds.attempts += _probe_round(ctx, number, probe)
            rounds.done = number
            if on_round is not None:
                on_round(rounds)
    except KeyboardInterrupt as exc:
        rounds.interrupted = getattr(exc, "signal_name", "SIGINT")
    return rounds


def summarize(rounds: Rounds) -> dict[str, Any]:
    """Per phase: attempts that reached it, failures in it, rate, p50/p95/max; clusters."""
    seen = rounds.attempts
    # What counts as an attempt: each request, each live call, and a round whose lookup failed.
    attempts = [a for a in seen if a.kind != "dns" or a.failed]
    phases: dict[str, dict[str, Any]] = {}
    for phase in PHASES:
        times = [a.times[phase] for a in seen if phase in a.times]
        failed = sum(1 for a in seen if a.failed == phase)
        reached = len(times) + failed
        if phase == "total":
            reached = sum(1 for a in seen if a.kind == "request")
            failed = reached - len(times)
        if not reached:
            continue
        phases[phase] = {
            "attempts": reached, "failed": failed, "rate": round(failed / reached, 4),
            **({"p50": percentile(times, 50), "p95": percentile(times, 95), "max": max(times)}
               if times else {}),
        }
    failures = [a for a in attempts if a.failed]
    by_family: dict[str, dict[str, int]] = {}
    by_address: dict[str, dict[str, int]] = {}
    for a in attempts:
        if a.family:
            entry = by_family.setdefault(a.family, {"attempts": 0, "failed": 0})
            entry["attempts"] += 1
            entry["failed"] += bool(a.failed)
        if a.address:
            entry = by_address.setdefault(a.address, {"attempts": 0, "failed": 0})
            entry["attempts"] += 1
            entry["failed"] += bool(a.failed)
    return {
        "rounds": rounds.done,
        "planned": rounds.planned,
        "interval_s": rounds.interval,
        "attempts": len(attempts),
        "failed": len(failures),
        "phases": phases,
        "failed_in": dict(Counter(a.failed for a in failures if a.failed).most_common()),
        "errors": dict(Counter(f"{a.failed}: {a.error}" for a in failures).most_common(5)),
        "by_family": by_family,
        "by_address": by_address,
        "cluster": _cluster(by_family, by_address),
    }


def _cluster(by_family: dict[str, dict[str, int]], by_address: dict[str, dict[str, int]]) -> dict[str, str]:
    """Where the failures are, when they are all in one place and that place is not all there is."""
    out: dict[str, str] = {}
    bad = [f for f, e in by_family.items() if e["failed"]]
    if len(bad) == 1 and any(e["attempts"] and not e["failed"] for f, e in by_family.items() if f != bad[0]):
        out["family"] = bad[0]
    bad = [a for a, e in by_address.items() if e["failed"]]
    if len(bad) == 1 and len(by_address) > 1:
        out["address"] = bad[0]
    return out


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value:.0f} ms"


def result_of(rounds: Rounds, duration_ms: int) -> CheckResult:
    """The `repeat` entry of the report."""
    stats = summarize(rounds)
    attempts, failed = stats["attempts"], stats["failed"]
    findings: list[Finding] = []
    facts = {"rounds": stats["rounds"], "attempts": attempts, "failed": failed}
    if attempts and failed == attempts:
        phase = next(iter(stats["failed_in"]), "dns")
        detail = next(iter(stats["errors"]), "").split(": ", 1)[-1]
        findings.append(REPEAT_ALL_FAILED.finding(phase=PHASE_LABELS[phase], detail=detail, **facts))
    elif failed:
        phase = next(iter(stats["failed_in"]))
        cluster = stats["cluster"]
        where = ""
        extra: list[str] = []
        if "family" in cluster:
            family = cluster["family"]
            entry = stats["by_family"][family]
            where = f"; all on {family} ({entry['failed']} of {entry['attempts']} failed, the other family none)"
            extra.append(FAMILY_FIX.get(family, ""))
        if "address" in cluster:
            address = cluster["address"]
            where += f"; all on one address, {address}"
            extra.append(ADDRESS_FIX.format(address=address))
        findings.append(INTERMITTENT_LOSS.finding(
            phase=PHASE_LABELS[phase], cluster=where, rate=f"{failed / attempts:.0%}",
            extra_fix=tuple(step for step in extra if step), **facts))
    elif attempts:
        total = stats["phases"].get("total") or stats["phases"].get("live") or {}
        findings.append(NETWORK_STABLE.finding(p50=_ms(total.get("p50")), p95=_ms(total.get("p95")), **facts))
    status = Status.worst([f.status for f in findings])
    per_round = attempts // stats["rounds"] if stats["rounds"] else 0
    summary = (f"{stats['rounds']} rounds × {per_round} probes: "
               + (f"{failed} of {attempts} failed" if failed else "no failure"))
    if rounds.interrupted:
        summary += f" (interrupted after {rounds.done} of {rounds.planned} rounds)"
    if not attempts:
        status = Status.SKIP
    return CheckResult(
        id="repeat", title=TITLE, status=status, duration_ms=duration_ms,
        summary=summary, findings=tuple(findings),
        skipped_because="the run was interrupted before the first round" if not attempts else None,
        data=stats,
    )


def repeat(
    ctx: RunContext, registry: Registry, report: Report, count: int, interval: float,
    console: Console | None = None,
) -> Report:
    """Run the rounds after the normal checks and return the report with `repeat` added."""
    from .runner import scrub_result

    if not ctx.target.valid:
        reason = "the base URL is not a usable http(s) URL"
        skipped = CheckResult("repeat", TITLE, Status.SKIP, 0, reason, skipped_because=reason)
        return replace(report, checks=(*report.checks, skipped))
    live = _live_probe(ctx, registry, report)
    rounds = Rounds(count, interval)
    started = time.monotonic()
    with _ProgressBar(console, count) as on_round:
        run_rounds(ctx, rounds, live, on_round)
    result = scrub_result(result_of(rounds, int((time.monotonic() - started) * 1000)), ctx.scrub)
    return replace(report, checks=(*report.checks, result),
                   interrupted=report.interrupted or rounds.interrupted)


class _ProgressBar:
    """A live progress bar on a terminal; nothing in logs and CI (the result says it all)."""

    def __init__(self, console: Console | None, count: int) -> None:
        self._console = console
        self._count = count
        self._bar: Any = None
        self._task: Any = None

    def __enter__(self) -> Callable[[Rounds], None]:
        console = self._console
        if console is not None and console.is_terminal and not console.is_dumb_terminal:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self._bar = Progress(TextColumn("repeating probes"), BarColumn(), MofNCompleteColumn(),
                                 TextColumn("{task.fields[failed]}"), TimeElapsedColumn(),
                                 console=console, transient=True)
            self._bar.__enter__()
            self._task = self._bar.add_task("repeat", total=self._count, failed="")
        return self.update

    def update(self, rounds: Rounds) -> None:
        if self._bar is not None:
            failed = sum(1 for a in rounds.attempts if a.failed)
            self._bar.update(self._task, completed=rounds.done,
                             failed=f"[red]{failed} failed[/]" if failed else "[green]no failure[/]")

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
