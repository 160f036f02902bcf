"""The terminal view: one line per check, the problems with their fix steps, a closing summary.

Lines are wrapped here, not by rich, so that nothing a person copies is ever
cut: a URL, a path or a `backticked command` stays whole on one line (a token
wider than the terminal gets a line of its own), file contents and code are
printed verbatim from column 0 or not at all (a code sample is named by its
``--explain`` code instead), and piped or CI output is never wrapped, padded
or elided. At 40–60 columns the title column is dropped so the status mark and
the check id stay visible.

The closing summary fits one 80×24 screen: the verdict and its numbered fix
steps, "also: N more problems" one line each, then the report path alone on
the last line.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..check import CheckResult
from ..findings import Finding, Severity, Status
from ..report import Report
from .text import SYMBOLS, console_step, headline, other_problems, plural, verdict_line

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
NARROW = 60  # below this the title column is dropped
ID_WIDTH, TITLE_WIDTH = 15, 18
SUMMARY_HEIGHT = 23  # 24 lines, one left for the shell prompt
ALSO_SHOWN = 4

# Units that must never be split: `code spans`, then anything without a space.
_TOKENS = re.compile(r"[^\s`]*`[^`\n]*`\S*|\S+")


@dataclass(frozen=True)
class View:
    """How much to show: -v adds info notes and tracebacks; --quiet shows only problems."""

    verbose: bool = False
    quiet: bool = False


def width_of(console: Console) -> int | None:
    """The wrapping width: the terminal's, or None (no wrapping) for pipes and CI logs."""
    return console.width if console.is_terminal else None


def wrap(text: str, width: int | None, indent: int = 0, first: str = "") -> list[str]:
    """Word-wrap `text` after `first` (which sets the first line's start), never inside a token."""
    lead = first or " " * indent
    if width is None:
        return [(lead + " ".join(_TOKENS.findall(text))).rstrip()]
    lines: list[str] = []
    line = lead
    fresh = True  # nothing but the lead on this line yet
    for token in _TOKENS.findall(text):
        candidate = token if fresh else " " + token
        if len(line) + len(candidate) <= width or (fresh and not line.strip()):
            line += candidate
            fresh = False
            continue
        if line.strip():
            lines.append(line.rstrip())
        line = " " * indent + token
        if indent + len(token) > width:
            line = token  # too wide even alone: its own line from column 0, never split
        fresh = False
    lines.append(line.rstrip())
    return lines


def _print(console: Console, line: str, style: str = "") -> None:
    from rich.text import Text

    console.print(Text(line, style=style), soft_wrap=True, highlight=False)


def _block(console: Console, text: str, width: int | None, indent: int, first: str,
           style: str = "") -> None:
    """A paragraph that may hold verbatim lines (a file to copy): those print as they are."""
    head, *rest = text.split("\n")
    for line in wrap(head, width, indent, first):
        _print(console, line, style)
    for raw in rest:
        _print(console, raw.rstrip())


def check_line(check: CheckResult, width: int | None) -> list[str]:
    """``✔ dns             DNS              api.cborg.lbl.gov → 2 IPv4  14 ms``, wrapped."""
    summary = check.summary if check.status is not Status.SKIP else f"skipped: {check.summary}"
    summary = summary.split("\n")[0]
    if check.status is not Status.SKIP and check.duration_ms:
        summary += f" · {check.duration_ms} ms"
    mark = f"{SYMBOLS[check.status]} {check.id:<{ID_WIDTH}} "
    if width is not None and width < NARROW:
        return wrap(summary, width, len(mark), mark)
    first = f"{mark}{check.title:<{TITLE_WIDTH}} "
    return wrap(summary, width, len(first), first)


def render_finding(finding: Finding, console: Console, width: int | None, steps: bool = True) -> None:
    sev = SEVERITY_STYLES[finding.severity]
    _block(console, f"{finding.code} {finding.message}", width, 6, "    ", sev)
    if not steps:
        return
    for n, step in enumerate(finding.fix, 1):
        _block(console, console_step(step, finding.code), width, 9, f"      {n}. ")


def render_check(check: CheckResult, console: Console, view: View | bool = False) -> None:
    """One check: a status line, then each problem with numbered fix steps (info notes with -v)."""
    view = view if isinstance(view, View) else View(verbose=view)
    if view.quiet and check.status in (Status.PASS, Status.SKIP):
        return
    width = width_of(console)
    style = STYLES[check.status]
    for n, line in enumerate(check_line(check, width)):
        _print(console, line, style if n == 0 else "")
    if view.quiet:  # its problems are printed once, by the closing summary (render_summary)
        return
    for finding in check.findings:
        if finding.severity is Severity.INFO and not view.verbose and check.status is not Status.ERROR:
            continue
        render_finding(finding, console, width)
    if view.verbose and check.status is Status.ERROR and check.data.get("traceback"):
        _print(console, str(check.data["traceback"]), "dim")


def summary_lines(report: Report, width: int | None, report_paths: Sequence[str] = (),
                  quiet: bool = False) -> Iterator[tuple[str, str]]:
    """(line, style) of the closing summary, fitted to SUMMARY_HEIGHT lines on a terminal."""
    yield from _summary(report, width, report_paths, quiet)[0]


def _summary(report: Report, width: int | None, report_paths: Sequence[str], quiet: bool
             ) -> tuple[list[tuple[str, str]], int]:
    """The summary's lines, and how many of the other problems got an "also:" line."""
    style = STYLES[report.status]
    verdict = report.verdict
    rule = "─" * min(width or 60, 60)
    out: list[tuple[str, str]] = [(rule, "dim"), (f"{SYMBOLS[report.status]} {headline(report)}", style)]
    if verdict is not None:
        out += [(line, "bold") for line in wrap(f"{verdict.code} ({verdict.check}): {verdict.message}",
                                                 width, 2, "  ")]
        for n, step in enumerate(verdict.fix, 1):
            text = console_step(step, verdict.code)
            if "\n" in text:  # file contents to copy: printed whole above and in the report
                text = text.split("\n")[0].rstrip(" :") + " (the text to copy is above)."
            out += [(line, "") for line in wrap(text, width, 5, f"  {n}. ")]
    elif not report.interrupted:
        out.append((f"  {verdict_line(report)}", ""))
    tail: list[tuple[str, str]] = []
    for path in report_paths:  # alone on its line: a path wider than the terminal is never wrapped
        if width is not None and len(path) + 8 > width:
            tail += [("Report:", ""), (path, "")]
        else:
            tail.append((f"Report: {path}", ""))
    others = other_problems(report)
    room = 0
    if others:
        room = len(others) if width is None else max(
            0, min(ALSO_SHOWN, SUMMARY_HEIGHT - len(out) - len(tail) - 1))
        if room < len(others) and width is not None:
            room = max(0, room - 1)  # a line to say where the rest are
        out.append((f"also: {plural(len(others), 'more problem')}"
                    + ("" if width is None else " (fix steps in the report)" if quiet
               else " (above, and in the report)"), "bold"))
        for p in others[:room]:
            out.append((_one_line(f"  {p.symbol} {p.finding.code} ({p.check.id}): {p.finding.message}",
                                  width), SEVERITY_STYLES[p.finding.severity]))
        if room < len(others):
            out.append((f"  … {len(others) - room} more above", "dim"))
    return out + tail, room


def _one_line(text: str, width: int | None) -> str:
    """One line at most `width` wide, cut between words (never inside a path or URL)."""
    lead = text[: len(text) - len(text.lstrip())]
    text = lead + " ".join(text.split())
    if width is None or len(text) <= width:
        return text
    cut = text.rfind(" ", 0, width - 1)
    return (text[:cut] if cut > len(lead) else text[: width - 1]).rstrip() + " …"


def render_summary(report: Report, console: Console, report_paths: Sequence[str] = (),
                   quiet: bool = False) -> None:
    """The last screen of every run.

    With --quiet the check lines came without their findings: the summary shows each
    problem once (the verdict with its steps, the others on "also:" lines); those that
    do not fit one screen are printed whole just above it.
    """
    width = width_of(console)
    lines, room = _summary(report, width, report_paths, quiet)
    if quiet:
        for problem in other_problems(report)[room:]:
            render_finding(problem.finding, console, width)
    console.print()
    for line, style in lines:
        _print(console, line, style)


def render_footer(report: Report, console: Console) -> None:
    """The summary without report paths (kept for callers that write no report)."""
    render_summary(report, console)


def header_line(base_url: str, key_text: str, version: str) -> str:
    return f"cborg-doctor {version} · {base_url} · key {key_text}"


def render_report(report: Report, console: Console, verbose: bool = False) -> None:
    key = report.key
    key_text = f"{key['fingerprint']} ({key['source']})" if key.get("fingerprint") else "none"
    _print(console, header_line(str(report.target.get("base_url")), key_text,
                                str(report.tool.get("version"))), "bold")
    for check in report.checks:
        render_check(check, console, View(verbose=verbose))
    render_summary(report, console)
