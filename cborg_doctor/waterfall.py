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
    """One row: starts `start` ms after the request began and lasts `ms` (None: it failed)."""

    label: str
    kind: str
    start: float
    ms: float | None
    note: str = ""


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


def bars(report: Report) -> list[Bar]:
    """The waterfall's rows; empty when the run has no request timings (e.g. --only config.key)."""
    timings = _data(report, "http").get("timings")
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
    connect = _number(timings.get("connect"))
    for label, found in families:
        if found is not None:
            ms, why = found
            rows.append(Bar(f"TCP {label}", "tcp", clock, ms, why))
    if connect is not None and not any(found for _, found in families):
        rows.append(Bar("TCP", "tcp", clock, connect))
    clock += connect or 0.0
    tls = _number(timings.get("tls"))
    if tls is not None:
        rows.append(Bar("TLS", "tls", clock, tls))
        clock += tls
    ttfb = _number(timings.get("ttfb"))
    if ttfb is not None:
        rows.append(Bar("First byte", "ttfb", clock, ttfb))
    return rows


def render_waterfall(report: Report, console: Console) -> None:
    """Draw the waterfall (nothing when there are no timings)."""
    from rich.table import Table
    from rich.text import Text

    rows = bars(report)
    if not rows:
        return
    end = max(row.start + (row.ms or 0.0) for row in rows) or 1.0
    scale = BAR_WIDTH / end
    grid = Table.grid(padding=(0, 1))
    grid.add_column(width=10, no_wrap=True)
    grid.add_column(width=BAR_WIDTH, no_wrap=True)
    grid.add_column(justify="right", no_wrap=True)
    for row in rows:
        offset = min(int(row.start * scale), BAR_WIDTH - 1)
        if row.ms is None:
            note = f"✖ {row.note}"[:BAR_WIDTH]
            bar = Text(" " * min(offset, BAR_WIDTH - len(note)))
            bar.append(note, style="bold red")
            grid.add_row(row.label, bar, Text("failed", style="red"))
            continue
        bar = Text(" " * offset)
        bar.append("█" * max(1, min(round(row.ms * scale), BAR_WIDTH - offset)), style=STYLES[row.kind])
        grid.add_row(row.label, bar, f"{row.ms:.0f} ms")
    console.print()
    console.print(f"[bold]Timing of one request[/] [dim](0 – {end:.0f} ms)[/]")
    console.print(grid)


def render_repeat(report: Report, console: Console) -> None:
    """The --repeat table: per phase attempts, failures, p50/p95/max; where failures were."""
    from rich.markup import escape
    from rich.table import Table

    data = _data(report, "repeat")
    phases = data.get("phases")
    if not isinstance(phases, Mapping) or not phases:
        return
    title = f"Repeated probes: {data.get('rounds')} rounds, every {data.get('interval_s'):g} s"
    table = Table(title=title, title_justify="left", box=None, padding=(0, 2), header_style="bold")
    for name, justify in (("phase", "left"), ("attempts", "right"), ("failed", "right"), ("rate", "right"),
                          ("p50", "right"), ("p95", "right"), ("max", "right")):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for phase, stats in phases.items():
        failed = int(stats.get("failed", 0))
        table.add_row(
            PHASE_LABELS.get(phase, phase), str(stats.get("attempts")),
            f"[red]{failed}[/]" if failed else "0", f"{stats.get('rate', 0):.0%}",
            *(f"{stats[k]:.0f} ms" if k in stats else "–" for k in ("p50", "p95", "max")),
        )
    console.print()
    console.print(table)
    if data.get("failed"):
        failed_in = ", ".join(f"{PHASE_LABELS.get(k, k)} {v}" for k, v in data.get("failed_in", {}).items())
        console.print(f"  failed in: {escape(failed_in)}")
        for title, key in (("by family", "by_family"), ("by address", "by_address")):
            groups = data.get(key) or {}
            text = ", ".join(f"{name} {e['failed']}/{e['attempts']}" for name, e in groups.items())
            if text:
                console.print(f"  {title}: {escape(text)}")


def render_timings(report: Report, console: Console) -> None:
    render_waterfall(report, console)
    render_repeat(report, console)
