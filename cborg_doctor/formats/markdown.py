"""The Markdown report: what a person pastes into a helpdesk email."""

from __future__ import annotations

from ..report import Report
from . import fixes
from .text import SYMBOLS, counts_line, verdict_line


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render(report: Report, verbose: bool = False) -> str:
    env = report.environment
    key = report.key
    key_text = f"`{key['fingerprint']}` from {key['source']}" if key.get("fingerprint") else "none"
    libs = ", ".join(f"{k} {v}" for k, v in (env.get("libraries") or {}).items())
    lines = [
        "# cborg-doctor report",
        "",
        f"**Result:** {report.status.value} — {verdict_line(report)}",
        "",
        "| | |",
        "|---|---|",
        f"| Gateway | {_cell(str(report.target.get('base_url')))} |",
        f"| Key | {key_text} |",
        f"| Created | {report.created} ({report.duration_ms} ms) |",
        f"| Checks | {counts_line(report)} |",
        f"| Doctor | cborg-doctor {report.tool.get('version')} |",
        f"| OS | {_cell(str(env.get('platform') or env.get('os')))} |",
        f"| Python | {env.get('python')} |",
        f"| Libraries | {_cell(libs) or '–'} |",
    ]
    if env.get("ci"):
        lines.append(f"| CI | {env['ci']} |")
    lines += ["", "## Checks", "", "| | Check | Status | Summary | Time |", "|---|---|---|---|---|"]
    for check in report.checks:
        lines.append(
            f"| {SYMBOLS[check.status]} | `{check.id}` {_cell(check.title)} | {check.status.value} "
            f"| {_cell(check.summary)} | {check.duration_ms} ms |"
        )
    problems = [c for c in report.checks if c.findings]
    if problems:
        lines += ["", "## Findings and fixes"]
    for check in problems:
        lines += ["", f"### {SYMBOLS[check.status]} `{check.id}` — {check.title} ({check.status.value})"]
        for finding in check.findings:
            lines += ["", f"**`{finding.code}`** ({finding.severity.value}): {finding.message}"]
            if finding.fix:
                lines.append("")
                lines += [f"{n}. {step}" for n, step in enumerate(finding.fix, 1)]
    lines += fixes.markdown_lines(report)
    return "\n".join(lines) + "\n"
