"""The report's fixes section (a run with `--fix`), for Markdown and the HTML/console view."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..report import Report

if TYPE_CHECKING:
    from rich.console import Console


def _files(fix: dict) -> str:  # type: ignore[type-arg]
    return ", ".join(f"{f['path']} ({str(f['before'] or 'new')[:15]}… → {str(f['after'] or 'removed')[:15]}…)"
                     for f in fix.get("files") or [])


def markdown_lines(report: Report) -> list[str]:
    if report.fixes is None:
        return []
    lines = ["", "## Fixes (`--fix`)", ""]
    if not report.fixes:
        return [*lines, "Nothing to fix automatically."]
    lines += ["| Code | Remedy | Outcome | Files | Detail |", "|---|---|---|---|---|"]
    for fix in report.fixes:
        cells = [f"`{fix['code']}`", fix["remedy"], f"**{fix['outcome']}**", _files(dict(fix)) or "–",
                 fix.get("detail") or "–"]
        lines.append("| " + " | ".join(str(c).replace("|", "\\|").replace("\n", " ") for c in cells) + " |")
    return lines


def render(report: Report, console: Console) -> None:
    if report.fixes is None:
        return
    from rich.markup import escape

    console.print("\n[bold]Fixes[/]")
    if not report.fixes:
        console.print("  Nothing to fix automatically.")
    for fix in report.fixes:
        detail = f" ({fix['detail']})" if fix.get("detail") else ""
        console.print(f"  {escape(fix['outcome'])}: {escape(fix['code'])}: {escape(fix['remedy'])}"
                      f"{escape(detail)}", soft_wrap=True, highlight=False)
        if fix.get("files"):
            console.print(f"    {escape(_files(dict(fix)))}", soft_wrap=True, highlight=False)
