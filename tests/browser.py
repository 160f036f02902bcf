"""Headless Chromium (Debian's `chromium` package) for the HTML report tests and screenshots.

Each call is a fresh browser with its own profile folder, no network services
(no component updates, sync or background fetches): it only opens a file://
page. Layout facts a DOM dump cannot show (horizontal overflow) are written
into the page by a probe script appended to a copy of the page, so the
report itself stays script-free.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from html.parser import HTMLParser
from pathlib import Path

import pytest

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars")

# Measures, after layout, whether anything is wider than the viewport.
PROBE = """<script id="cborg-probe">
addEventListener('load', () => {
  const d = document.documentElement;
  const wide = [...document.querySelectorAll('body *')]
    .filter(e => e.getBoundingClientRect().right > d.clientWidth + 1 && !e.closest('.scroll, pre'))
    .slice(0, 5).map(e => e.tagName + '.' + e.className).join(' ');
  const out = document.createElement('output');
  out.id = 'cborg-layout';
  out.dataset.scrollWidth = d.scrollWidth;
  out.dataset.clientWidth = d.clientWidth;
  out.dataset.wide = wide;
  document.body.appendChild(out);
  if (window.parent !== window) {  // inside the narrow frame: show the measured page as the host page
    const host = parent.document;
    host.title = document.title;
    host.body.replaceWith(host.importNode(document.body, true));
  }
});
</script>"""

# Chromium's headless window is at least 500 px wide: narrower viewports are an iframe.
MIN_WINDOW = 500


def chromium() -> str:
    """The browser's path, or skip the test with the reason."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None and Path("/usr/bin/chromium").exists():
        found = "/usr/bin/chromium"
    if found is None:
        pytest.skip("headless Chromium is not installed (Debian: apt-get install chromium)")
    return found


def _run(page: Path, *extra: str, timeout: float = 90) -> subprocess.CompletedProcess[str]:
    with tempfile.TemporaryDirectory(prefix="cborg-chromium-") as profile:
        return subprocess.run(
            [chromium(), *FLAGS, f"--user-data-dir={profile}", *extra, page.resolve().as_uri()],
            capture_output=True, text=True, timeout=timeout, check=False,
        )


def dump_dom(page: Path, width: int = 1280, height: int = 900) -> str:
    """The page's DOM after load (and after any script on it ran), as HTML text."""
    proc = _run(page, f"--window-size={width},{height}", "--virtual-time-budget=3000", "--dump-dom")
    if proc.returncode != 0 or "<html" not in proc.stdout:
        raise AssertionError(f"chromium failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return proc.stdout


def screenshot(page: Path, target: Path, width: int = 1280, height: int = 2000) -> None:
    proc = _run(page, f"--window-size={width},{height}", f"--screenshot={target.resolve()}")
    if not target.exists():
        raise AssertionError(f"chromium wrote no screenshot ({proc.returncode}): {proc.stderr[-2000:]}")


def print_pdf(page: Path, target: Path) -> None:
    """The page as the browser prints it (the report's print styles), for people to look at."""
    proc = _run(page, "--no-pdf-header-footer", f"--print-to-pdf={target.resolve()}")
    if not target.exists():
        raise AssertionError(f"chromium wrote no PDF ({proc.returncode}): {proc.stderr[-2000:]}")


def with_probe(page: Path, folder: Path, width: int = 1280) -> Path:
    """A copy of `page` with the layout probe appended (the report itself has no script).

    Below `MIN_WINDOW` the copy is shown in an iframe `width` px wide (srcdoc, same
    origin), and the probe then replaces the host page by the measured page.
    """
    probed = page.read_text(encoding="utf-8").replace("</body>", PROBE + "</body>")
    copy = folder / f"probed-{width}-{page.name}"
    if width >= MIN_WINDOW:
        copy.write_text(probed, encoding="utf-8")
        return copy
    return framed(probed, copy, width)


def framed(page_text: str, target: Path, width: int, height: int = 900) -> Path:
    """A host page showing `page_text` in an iframe `width` px wide (srcdoc: same origin)."""
    from html import escape

    target.write_text(
        '<!DOCTYPE html><html><head><meta charset="utf-8"><title>frame</title></head>'
        f'<body style="margin:0"><iframe style="border:0;width:{width}px;height:{height}px" '
        f'srcdoc="{escape(page_text, quote=True)}"></iframe></body></html>', encoding="utf-8")
    return target


class Dom(HTMLParser):
    """Just enough of the DOM for assertions: elements with id/class/data-*, their text."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[dict[str, str]] = []
        self._open: list[dict[str, str]] = []
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = {"tag": tag, "text": "", **{k: v or "" for k, v in attrs}}
        self.elements.append(element)
        if tag not in ("br", "img", "meta", "input", "link", "hr"):
            self._open.append(element)

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self._open) - 1, -1, -1):
            if self._open[i]["tag"] == tag:
                del self._open[i:]
                break

    def handle_data(self, data: str) -> None:
        for element in self._open:
            element["text"] += data

    def find(self, tag: str | None = None, **attrs: str) -> list[dict[str, str]]:
        return [e for e in self.elements if (tag is None or e["tag"] == tag)
                and all(attrs[k] in e.get(k.replace("_", "-"), "").split() if k == "class"
                        else e.get(k.replace("_", "-")) == v for k, v in attrs.items())]
