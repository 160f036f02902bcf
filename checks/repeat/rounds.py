"""The rounds of the `repeat` check: probe the request path again and again, and count.

Each round (one every `interval` seconds) probes the path a request takes:

- DNS: the gateway's name, as the clients resolve it (skipped for an IP literal);
- one request to each address (at most two per family), pinned to it, timing
  TCP connect, TLS handshake and time to first byte (through the proxy instead,
  by name, when the clients use one);
- with ``--live`` the ``live`` check's completion too.

`summarize` then gives per phase the failure rate and p50/p95/max latency, and
whether failures cluster on one address family or one address. A 429 or 5xx
answer counts as a failure of the response phase; any other status means the
gateway answered.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from cborg_doctor.api import RunContext
from cborg_doctor.probes.family import family as ip_family
from cborg_doctor.probes.together import together

PROBE_PATH = "/health/liveliness"  # LiteLLM's unauthenticated liveness answer, as the http check uses
PER_FAMILY = 2
PHASES = ("dns", "connect", "tls", "ttfb", "total", "live")
# The phases an attempt goes through, in order; the first one without a timing failed.
_STEPS = ("connect", "tls", "ttfb")


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
    from cborg_doctor.probes import http, proxy, resolve

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
        for label in ("IPv4", "IPv6"):
            addresses += [a for a in found.addresses if ip_family(a).label == label][:PER_FAMILY]

    def one(address: str | None) -> Attempt:
        result = http.request(ctx, "GET", PROBE_PATH, address=address, max_body=64 * 1024)
        times = {k: v for k, v in result.timings.items() if k in ("connect", "tls", "ttfb", "total")}
        failed, error = _classify(result, https)
        if failed is not None:  # a 503's time to first byte is not a latency of success
            times.pop(failed, None)
            times.pop("total", None)
        return Attempt(number, times, failed, error, address or result.address,
                       ip_family(address).label if address else "proxy")

    targets: list[str | None] = list(addresses) if via is None else [None]
    # Each request is bounded (`Timeouts.request`); the join adds the threads' slack.
    found = together(*(lambda a=a: one(a) for a in targets), timeout=ctx.timeouts.check)
    for address, attempt in zip(targets, found, strict=True):
        attempts.append(attempt if isinstance(attempt, Attempt) else Attempt(
            number, {}, "ttfb", "timeout", address, ip_family(address).label if address else "proxy"))
    if live is not None:
        attempts.append(live())
    return attempts


def run_rounds(
    ctx: RunContext, rounds: Rounds, live: Callable[[int], Attempt] | None = None,
    on_round: Callable[[Rounds], None] | None = None,
) -> Rounds:
    """Run the rounds, one every `interval` seconds; Ctrl-C (``ctx.stopping``) ends them
    early, keeping what was seen."""
    started = time.monotonic()
    for number in range(1, rounds.planned + 1):
        if number > 1:
            pause = started + (number - 1) * rounds.interval - time.monotonic()
            if pause > 0 and ctx.stopping.wait(pause):
                break
        if ctx.stopping.is_set():
            break
        probe = (lambda n=number: live(n)) if live is not None else None
        rounds.attempts += _probe_round(ctx, number, probe)
        rounds.done = number
        if on_round is not None:
            on_round(rounds)
    if rounds.done < rounds.planned and ctx.stopping.is_set():
        rounds.interrupted = "interrupted"
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
        "kinds": dict(Counter(a.error or "failed" for a in failures).most_common()),
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


