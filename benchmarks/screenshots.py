"""Screenshots of the HTML report, one per scenario, at phone and laptop width, and the printed PDF.

    .venv/bin/python -m benchmarks.screenshots [FOLDER]   (default: ./screenshots)

Uses headless Chromium (Debian's `chromium`) exactly as tests/test_html_report.py
does; prints each file written and how long rendering and the browser took.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from cborg_doctor.formats import render
from cborg_doctor.options import ReportFormat
from cborg_doctor.secrets import Scrubber
from tests import browser
from tests.report_samples import SCENARIOS

WIDTHS = {"phone": (375, 1800), "laptop": (1280, 1400)}


def main() -> None:
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as work:
        for name, build in SCENARIOS.items():
            started = time.perf_counter()
            page = Path(work) / f"{name}.html"
            page.write_text(render(build(), ReportFormat.HTML, Scrubber(None)), encoding="utf-8")
            render_ms = (time.perf_counter() - started) * 1000
            (folder / page.name).write_text(page.read_text(encoding="utf-8"), encoding="utf-8")
            for label, (width, height) in WIDTHS.items():
                target = folder / f"{name}-{label}.png"
                started = time.perf_counter()
                # Narrower than Chromium's 500 px minimum window: the page in an iframe that wide.
                shown = page if width >= browser.MIN_WINDOW else browser.framed(
                    page.read_text(encoding="utf-8"), Path(work) / f"framed-{page.name}", width, height)
                browser.screenshot(shown, target, max(width, browser.MIN_WINDOW), height)
                print(f"{target}  ({page.stat().st_size} bytes of HTML, rendered in {render_ms:.1f} ms; "
                      f"browser {time.perf_counter() - started:.1f} s)")
            pdf = folder / f"{name}-printed.pdf"
            browser.print_pdf(page, pdf)
            print(f"{pdf}  ({pdf.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
