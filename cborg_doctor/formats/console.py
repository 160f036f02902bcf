"""The console rendering, shared by the terminal and the HTML report."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..check import CheckResult
from ..findings import Severity, Status
from ..report import Report
from .text import SYMBOLS, verdict_line

if TYPE_CHECKING:
    from rich.console import Console

STYLES = {
    Status.PASS: "green",
    Status.WARN: "yellow",
    Status.FAIL: "bold red",
    Status.SKIP: "dim",
    Status.ERROR: "bold magenta",
}
SEVERITY_STYLES = {Severity.INFO: "cyan", Severity.WARN: "yellow", Severity.FAIL: "red"}


def header(report_target: str, key_text: str) -> str:
    return f"[bold]cborg-doctor[/] · {report_target} · key {key_text}"


def render_check(check: CheckResult, console: Console, verbose: bool = False) -> None:
    """One check: a status line, then each finding with numbered fix steps."""
    from rich.markup import escape
    from rich.padding import Padding
    from rich.table import Table
    from rich.text import Text

    style = STYLES[check.status]
    line = Table.grid(padding=(0, 1), expand=True)
    line.add_column(width=1)
    line.add_column(width=16, no_wrap=True)
    line.add_column(width=18, no_wrap=True)
    line.add_column(ratio=1)
    line.add_column(justify="right", width=8, no_wrap=True)
    summary = check.summary if check.status is not Status.SKIP else f"skipped: {check.summary}"
    line.add_row(
        f"[{style}]{SYMBOLS[check.status]}[/]",
        f"[{style}]{escape(check.id)}[/]",
        escape(check.title),
        escape(summary),
        f"[dim]{check.duration_ms} ms[/]" if check.status is not Status.SKIP else "",
    )
    console.print(line)
    for finding in check.findings:
        if finding.severity is Severity.INFO and not verbose and not finding.fix:
            continue
        sev = SEVERITY_STYLES[finding.severity]
        console.print(
            Padding(Text.from_markup(f"[{sev}]{finding.code}[/] {escape(finding.message)}"),
                    (0, 0, 0, 4))
        )
        if finding.severity is not Severity.INFO or verbose:
            steps = Table.grid(padding=(0, 1))
            steps.add_column(justify="right", no_wrap=True)
            steps.add_column(ratio=1)
            for n, step in enumerate(finding.fix, 1):
                steps.add_row(f"{n}.", Text(step))
            console.print(Padding(steps, (0, 0, 0, 6)))
    if verbose and check.status is Status.ERROR and check.data.get("traceback"):
        console.print(f"[dim]{escape(str(check.data['traceback']))}[/]", highlight=False)


def render_footer(report: Report, console: Console) -> None:
    from rich.markup import escape

    style = STYLES[report.status]
    console.print()
    console.print(f"[{style}]{SYMBOLS[report.status]} {escape(verdict_line(report))}[/]")


def render_report(report: Report, console: Console, verbose: bool = False) -> None:
    key = report.key
    key_text = f"{key['fingerprint']} ({key['source']})" if key.get("fingerprint") else "none"
    console.print(header(str(report.target.get("base_url")), key_text))
    console.print()
    for check in report.checks:
        render_check(check, console, verbose)
    render_footer(report, console)
