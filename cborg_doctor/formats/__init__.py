"""Report formats: one small module per format, all behind `render()`.

Each module has ``render(report, verbose) -> str``. The result is scrubbed of the
key once more here, whatever the format, before anything is written.
"""

from __future__ import annotations

from importlib import import_module

from ..options import ReportFormat
from ..report import Report
from ..secrets import Scrubber

_MODULES = {
    ReportFormat.JSON: "json_format",
    ReportFormat.MARKDOWN: "markdown",
    ReportFormat.JUNIT: "junit",
    ReportFormat.HTML: "html",
}


def render(report: Report, fmt: ReportFormat, scrub: Scrubber, verbose: bool = False) -> str:
    module = import_module(f"{__name__}.{_MODULES[fmt]}")
    return scrub(module.render(report, verbose))
