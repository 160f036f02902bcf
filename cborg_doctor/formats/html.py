"""HTML: the console rendering itself, recorded by rich and exported."""

from __future__ import annotations

import io

from ..report import Report


def render(report: Report, verbose: bool = False) -> str:
    from rich.console import Console

    from .console import render_report

    console = Console(
        record=True, file=io.StringIO(), width=110, force_terminal=True, color_system="truecolor"
    )
    render_report(report, console, verbose=verbose)
    from ..waterfall import render_timings

    render_timings(report, console)  # the request's timing waterfall, and the --repeat table
    from .fixes import render as render_fixes

    render_fixes(report, console)
    return console.export_html(inline_styles=True, clear=True)
