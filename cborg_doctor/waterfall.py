"""Where the time of one request goes, drawn: DNS, TCP per family, TLS, first byte.

A person sees at a glance that IPv6 takes 3 s to connect, or that the time is
all in the TLS handshake (an intercepting proxy), where a table of numbers
would need reading. Drawn from the report's facts (the dns, net.ipv4, net.ipv6
and http checks), so the console and the HTML report show the same picture;
after ``--repeat`` a table of the rounds' latencies and failures follows.

::

    DNS         ███                                              12 ms
    TCP IPv4       ██                                             8 ms
    TCP IPv6       ██████                                        25 ms
    TLS              ██████████                                  41 ms
    First byte                 ████████████████████████████     110 ms
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .report import Report

if TYPE_CHECKING:
    from rich.console import Console

BAR_WIDTH = 50
# The phases of a request as the report names them (the `repeat` check's table too).
PHASE_LABELS = {"dns": "DNS", "connect": "TCP connect", "tls": "TLS handshake", "ttfb": "first byte",
                "total": "whole request", "live": "live completion"}
STYLES = {"dns": "cyan", "tcp": "blue", "tls": "magenta", "ttfb": "green"}


@dataclass(frozen=True)
class Bar:
    """One row: starts `start` ms after the request began and lasts `ms` (None: it failed at once).

    A `stalled` row is the phase that never finished: it lasts until the doctor gave up.
    """

    label: str
    kind: str
    start: float
    ms: float | None
    note: str = ""
    stalled: bool = False


def _data(report: Report, check_id: str) -> Mapping[str, Any]:
    check = next((c for c in report.checks if c.id == check_id), None)
    return check.data if check is not None and isinstance(check.data, Mapping) else {}


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _tcp(report: Report, check_id: str) -> tuple[float | None, str] | None:
    """(fastest connect in ms, or None when every address failed, and why) for one family."""
    results = _data(report, check_id).get("results")
    if not isinstance(results, list) or not results:
        return None
    times = [_number(r.get("ms")) for r in results if isinstance(r, Mapping) and r.get("ok")]
    good = [t for t in times if t is not None]
    if good:
        return min(good), ""
    errors = sorted({str(r.get("error")) for r in results if isinstance(r, Mapping) and r.get("error")})
    return None, ", ".join(errors) or "failed"


_PHASES = (("connect", "TCP", "tcp"), ("tls", "TLS", "tls"), ("ttfb", "First byte", "ttfb"))


def bars(report: Report) -> list[Bar]:
    """The waterfall's rows; empty when the run has no request timings (e.g. --only config.key)."""
    http = _data(report, "http")
    timings = http.get("timings")
    if not isinstance(timings, Mapping):
        return []
    primary = _data(report, "dns").get("primary")
    dns = _number(primary.get("ms")) if isinstance(primary, Mapping) else None
    rows: list[Bar] = []
    clock = 0.0
    if dns is not None:
        rows.append(Bar("DNS", "dns", 0.0, dns))
        clock = dns
    families = [(label, _tcp(report, check_id)) for label, check_id in (("IPv4", "net.ipv4"), ("IPv6", "net.ipv6"))]
    for label, found in families:
        if found is not None:
            ms, why = found
            rows.append(Bar(f"TCP {label}", "tcp", clock, ms, why))
    has_family_rows = any(found for _, found in families)
    total = _number(timings.get("total"))
    stalled = http.get("error") in ("timeout", "too_slow")
    for key, label, kind in _PHASES:
        ms = _number(timings.get(key))
        if ms is None:
            if stalled:  # the phase that never finished, up to when the doctor gave up
                given_up = (total - clock) if total is not None and total > clock else None
                detail = str(http.get("detail") or "no answer")
                rows.append(Bar(label, kind, clock, given_up, f"stalled: {detail}", stalled=True))
            break
        if key != "connect" or not has_family_rows:
            rows.append(Bar(label, kind, clock, ms))
        clock += ms
    return rows


def _ms_text(ms: float) -> str:
    return f"{ms / 1000:.1f} s" if ms >= 10000 else f"{ms:.0f} ms"


def waterfall_lines(report: Report, width: int | None) -> list[tuple[str, str, str]]:
    """(label, bar, figure) rows sized for `width` columns (None: the full 50-column bar)."""
    rows = bars(report)
    if not rows:
        return []
    figures = [_figure_for(row) for row in rows]
    room = None if width is None else width - 12 - max(len(f) for f in figures)
    bar_width = BAR_WIDTH if room is None else max(4, min(BAR_WIDTH, room))
    end = max(row.start + (row.ms or 0.0) for row in rows) or 1.0
    scale = bar_width / end
    out = []
    for row, figure in zip(rows, figures, strict=True):
        offset = min(int(row.start * scale), bar_width - 1)
        if row.stalled:
            length = bar_width - offset if row.ms is None else max(1, round(row.ms * scale))
            out.append((row.label, " " * offset + "░" * min(length, bar_width - offset), figure))
        elif row.ms is None:
            out.append((row.label, " " * offset + "✖", figure))
        else:
            length = max(1, min(round(row.ms * scale), bar_width - offset))
            out.append((row.label, " " * offset + "█" * length, figure))
    return out


def _figure_for(row: Bar) -> str:
    if row.stalled:
        return f"gave up after {_ms_text(row.ms)}" if row.ms is not None else "gave up"
    if row.ms is None:
        return f"failed: {row.note}"
    return _ms_text(row.ms)


def render_waterfall(report: Report, console: Console) -> None:
    """Draw the waterfall (nothing when there are no timings), never wider than the terminal."""
    from rich.text import Text

    from .formats.console import width_of

    lines = waterfall_lines(report, width_of(console))
    if not lines:
        return
    rows = bars(report)
    end = max(row.start + (row.ms or 0.0) for row in rows)
    console.print()
    console.print(Text(f"Timing of one request (0 – {_ms_text(end)})", style="bold"), soft_wrap=True)
    for (label, bar, figure), row in zip(lines, rows, strict=False):
        style = "red" if row.stalled or row.ms is None else STYLES[row.kind]
        text = Text(f"{label:<10} ")
        text.append(bar, style=style)
        text.append(f" {figure}", style="red" if style == "red" else "")
        console.print(text, soft_wrap=True)
    stalled = next((row for row in rows if row.stalled), None)
    if stalled is not None:
        from .formats.console import wrap

        for line in wrap(f"{stalled.label} {stalled.note}", width_of(console), 4, "  "):
            console.print(Text(line, style="red"), soft_wrap=True)


_KIND_WORDS = {"refused": "connection refused", "timeout": "timed out", "reset": "connection reset",
               "no_route": "no route", "dns": "DNS failed", "too_slow": "too slow", "proxy": "proxy error",
               "protocol": "protocol error"}


def failure_kinds(data: Mapping[str, Any]) -> str:
    """What the failed probes met, e.g. "HTTP 503 × 3, timed out × 2"."""
    kinds = data.get("kinds")
    if not isinstance(kinds, Mapping) or not kinds:
        return ""
    return ", ".join(f"{_KIND_WORDS.get(kind, kind)} × {n}" for kind, n in kinds.items())


def repeat_rows(report: Report) -> list[tuple[str, ...]]:
    """The --repeat statistics: phase, attempts, failed, rate, p50, p95, max."""
    data = _data(report, "repeat")
    phases = data.get("phases")
    if not isinstance(phases, Mapping) or not phases:
        return []
    rows = []
    for phase, stats in phases.items():
        rows.append((
            PHASE_LABELS.get(phase, phase), str(stats.get("attempts")), str(int(stats.get("failed", 0))),
            rate_text(stats.get("rate", 0)),
            *(_ms_text(stats[k]) if k in stats else "–" for k in ("p50", "p95", "max")),
        ))
    return rows


def rate_text(rate: float) -> str:
    """A failure rate (0–1) as a share people can trust: 99.8 % is not "100 %"."""
    from .formats.text import percent_text

    return percent_text(rate * 100)


REPEAT_HEADER = ("phase", "attempts", "failed", "rate", "p50", "p95", "max")


def table_lines(header: tuple[str, ...], rows: list[tuple[str, ...]], width: int | None) -> list[str]:
    """A plain table: the first column left-aligned, the others right; columns dropped from
    the right until it fits `width` (None: all of them); never a trailing space."""
    columns = len(header)
    while True:
        cells = [row[:columns] for row in (header, *rows)]
        widths = [max(len(r[i]) for r in cells) for i in range(columns)]
        lines = ["  " + "  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                                  for i, (c, w) in enumerate(zip(r, widths, strict=True))).rstrip()
                 for r in cells]
        if width is None or columns <= 3 or max(len(line) for line in lines) <= width:
            return lines
        columns -= 1


def render_repeat(report: Report, console: Console) -> None:
    """The --repeat table: per phase attempts, failures, p50/p95/max; what and where failures were."""
    from rich.text import Text

    from .formats.console import width_of

    rows = repeat_rows(report)
    if not rows:
        return
    data = _data(report, "repeat")
    title = (f"Repeated probes: {data.get('rounds')} rounds, every {data.get('interval_s'):g} s")
    console.print()
    console.print(Text(title, style="bold"), soft_wrap=True)
    for n, line in enumerate(table_lines(REPEAT_HEADER, rows, width_of(console))):
        console.print(Text(line, style="bold" if n == 0 else ""), soft_wrap=True)
    if data.get("failed"):
        lines = [("failed in", ", ".join(f"{PHASE_LABELS.get(k, k)} {v}"
                                         for k, v in data.get("failed_in", {}).items())),
                 ("what failed", failure_kinds(data))]
        for title, key in (("by family", "by_family"), ("by address", "by_address")):
            groups = data.get(key) or {}
            lines.append((title, ", ".join(f"{name} {e['failed']}/{e['attempts']}" for name, e in groups.items())))
        from .formats.console import wrap

        for title, text in lines:
            for line in wrap(text, width_of(console), 4, f"  {title}: ") if text else ():
                console.print(Text(line), soft_wrap=True)


def render_timings(report: Report, console: Console) -> None:
    render_waterfall(report, console)
    render_repeat(report, console)
