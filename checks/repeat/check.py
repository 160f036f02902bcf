"""`repeat` (``--repeat N [--interval S]``): the request path probed N more times.

The CBorg FAQ warns that requests "may fail due to network interruptions". One
run of the doctor sees one moment; this check reruns, after the other checks,
the path a request takes (see `rounds`), and reports `INTERMITTENT_LOSS` (warn,
with retry code done right), `REPEAT_ALL_FAILED` or `NETWORK_STABLE`.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from cborg_doctor.api import Check, Code, Finding, Options, Outcome, RunContext, Severity
from cborg_doctor.formats.text import plural
from cborg_doctor.waterfall import PHASE_LABELS, failure_kinds, rate_text

from .rounds import Attempt, Rounds, run_rounds, summarize

TITLE = "Repeated probes"

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
    "{failed} of {attempts} failed ({rate}: {kinds}) over {rounds}, mostly in {phase}{cluster}.",
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
    "Every attempt failed ({attempts} over {rounds}), in {phase}: {detail}.",
    fix=(
        "This is not intermittent: follow the fix of the first failing check above.",
        "If the checks above passed, the path broke during the run: run cborg-doctor again.",
    ),
    explain="Every repeated request failed, so the gateway is unreachable from here right now.",
)
NETWORK_STABLE = Code(
    "NETWORK_STABLE",
    Severity.INFO,
    "Every attempt succeeded ({attempts} over {rounds}); whole request p50 {p50}, p95 {p95}.",
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




def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value:.0f} ms"


def outcome_of(rounds: Rounds) -> Outcome:
    """What the rounds saw, as the `repeat` entry of the report."""
    stats = summarize(rounds)
    attempts, failed = stats["attempts"], stats["failed"]
    findings: list[Finding] = []
    facts = {"rounds": plural(stats["rounds"], "round"), "attempts": plural(attempts, "attempt"),
             "failed": failed}
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
            phase=PHASE_LABELS[phase], cluster=where, rate=rate_text(failed / attempts), kinds=failure_kinds(stats),
            extra_fix=tuple(step for step in extra if step), **facts))
    elif attempts:
        total = stats["phases"].get("total") or stats["phases"].get("live") or {}
        findings.append(NETWORK_STABLE.finding(p50=_ms(total.get("p50")), p95=_ms(total.get("p95")), **facts))
    per_round = attempts // stats["rounds"] if stats["rounds"] else 0
    summary = (f"{plural(stats['rounds'], 'round')} × {plural(per_round, 'probe')}: "
               + (f"{failed} of {attempts} failed" if failed else "no failure"))
    if rounds.interrupted:
        summary += f" (interrupted after {rounds.done} of {rounds.planned} rounds)"
    skipped = "the run was interrupted before the first round" if not attempts else None
    return Outcome(summary, findings, stats, skipped_because=skipped)


def _live_probe(ctx: RunContext) -> Callable[[int], Attempt] | None:
    """With --live, the live check itself, rerun each round (when it could run at all)."""
    done = ctx.result("live")
    if not ctx.options.live or done is None or not done.usable:
        return None

    def probe(number: int) -> Attempt:
        start = time.monotonic()
        try:
            outcome = ctx.rerun("live")
            codes = [f.code for f in outcome.findings] if outcome is not None else []
            ok = "LIVE_OK" in codes
            error = "" if ok else next(iter(codes), "failed")
        except Exception as exc:  # a crash of the live check is one failed attempt
            ok, error = False, type(exc).__name__
        ms = round((time.monotonic() - start) * 1000, 2)
        return Attempt(number, {"live": ms} if ok else {}, None if ok else "live", error, kind="live")

    return probe


def run(ctx: RunContext) -> Outcome:
    if not ctx.target.valid:
        reason = "the base URL is not a usable http(s) URL"
        return Outcome(reason, skipped_because=reason)
    options = ctx.options
    rounds = Rounds(options.repeat, options.interval)

    def show(seen: Rounds) -> None:
        failed = sum(1 for a in seen.attempts if a.failed)
        ctx.progress(f"repeating probes {seen.done}/{seen.planned}"
                     + (f", [red]{failed} failed[/]" if failed else ", [green]no failure[/]"))

    run_rounds(ctx, rounds, _live_probe(ctx), show)
    return outcome_of(rounds)


def _bound(options: Options) -> float:
    return options.timeouts.rounds(options.repeat, options.interval)


CHECK = Check(
    id="repeat",
    title=TITLE,
    run=run,
    # The request path must have worked once (the contract's `needs http`): otherwise the
    # check that failed is the root cause, and repeating it says nothing new. After the
    # account checks, whatever their status, so the rounds never overlap them.
    needs=("http",),
    uses=("egress", "auth", "budget", "models", "live"),
    codes=CODES,
    order=180,  # last: it probes again what every check above tested
    opt_in="repeat",
    joins_only=True,
    bound=_bound,
    description="the request path probed again N times: failure rate per phase, latency "
    "percentiles",
)

CHECKS = (CHECK,)
