"""The HTML report in a real browser: title, verdict, one row per check, no overflow, no script.

Each scenario's page (tests/report_samples.py) is opened from a file:// URL by
headless Chromium at 375 px (a phone) and 1280 px (a laptop); the DOM after
load is what the assertions read. Skips when Chromium is not installed.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cborg_doctor.formats import render
from cborg_doctor.formats.text import headline
from cborg_doctor.options import ReportFormat
from cborg_doctor.secrets import Scrubber
from tests import browser
from tests.report_samples import SCENARIOS


def page_for(name: str, folder: Path) -> tuple[Path, object]:
    report = SCENARIOS[name]()
    page = folder / f"{name}.html"
    page.write_text(render(report, ReportFormat.HTML, Scrubber(None)), encoding="utf-8")
    return page, report


@pytest.mark.parametrize("width", [375, 1280])
@pytest.mark.parametrize("name", list(SCENARIOS))
def test_page_in_chromium(name: str, width: int, tmp_path: Path) -> None:
    page, report = page_for(name, tmp_path)
    dom = browser.Dom(browser.dump_dom(browser.with_probe(page, tmp_path, width)))
    (title,) = dom.find("title")
    verdict = report.verdict
    assert title["text"] == f"cborg-doctor: {verdict.code} ({verdict.check}) – 2026-11-25" if verdict \
        else title["text"] == "cborg-doctor: no problems found – 2026-11-25"
    (box,) = dom.find("section", id="verdict")
    assert headline(report) in box["text"]
    if verdict is not None:  # the verdict's fix steps are in the box, in order
        steps = [e["text"] for e in dom.elements if e["tag"] == "li" and e in _inside(dom, box)]
        assert len(steps) >= len(verdict.fix)
        assert verdict.fix[0].split("`")[0].strip() in steps[0]
    rows = [e for e in dom.find("tr") if e.get("id", "").startswith("check-")]
    assert [r["id"].removeprefix("check-") for r in rows] == [c.id for c in report.checks]
    assert [r["class"] for r in rows] == [c.status.value for c in report.checks]
    (layout,) = dom.find("output", id="cborg-layout")
    assert int(layout["data-scroll-width"]) <= int(layout["data-client-width"]), layout["data-wide"]
    assert layout["data-wide"] == ""
    # No script but our probe, whatever the server sent (the hostile scenario).
    assert [e.get("id") for e in dom.find("script")] == ["cborg-probe"]
    assert not [e for e in dom.elements if any(k.startswith("on") for k in e)]


def _inside(dom: browser.Dom, parent: dict[str, str]) -> list[dict[str, str]]:
    start = dom.elements.index(parent)
    out = []
    for element in dom.elements[start + 1:]:
        if element["tag"] == "section":
            break
        out.append(element)
    return out


def test_the_stalled_phase_is_drawn_up_to_when_it_was_given_up(tmp_path: Path) -> None:
    page, _ = page_for("stalled", tmp_path)
    dom = browser.Dom(browser.dump_dom(page))
    (stalled,) = dom.find("div", **{"class": "stalled"})
    left, width = map(float, re.findall(r"([\d.]+)%", stalled["style"]))
    assert left < 5 and left + width == pytest.approx(100, abs=0.1)  # from TLS's end to the end
    figures = [e["text"] for e in dom.find("div", **{"class": "figure"})]
    assert figures[-1] == "gave up after 5000 ms"
    assert "First byte stalled: no response within 5 s of the request" in page.read_text()


def test_repeat_statistics_are_a_table_with_the_kinds_of_failure(tmp_path: Path) -> None:
    page, _ = page_for("intermittent", tmp_path)
    dom = browser.Dom(browser.dump_dom(page))
    (table,) = dom.find("table", **{"class": "repeat"})
    cells = [e["text"] for e in _inside(dom, table) if e["tag"] == "td"]
    assert cells[:7] == ["DNS", "20", "0", "0 %", "3 ms", "9 ms", "12 ms"]
    assert "99.8 %" in cells  # not rounded up to 100 %
    (section,) = dom.find("section", id="repeat")
    assert "What failed: HTTP 503 × 5, timed out × 2" in section["text"]
    # the retry sample is a code block that parses as Python
    code = next(e["text"] for e in dom.find("code") if "language-python" in e.get("class", ""))
    compile(code, "retry.py", "exec")


def test_security_only_says_cborg_works(tmp_path: Path) -> None:
    page, _ = page_for("security_only", tmp_path)
    text = page.read_text()
    assert "CBorg works from this machine; there is 1 security problem to fix." in text
    assert "<title>cborg-doctor: CLIENT_KEY_IN_FILE (config.clients) – 2026-11-25</title>" in text


def test_page_is_self_contained(tmp_path: Path) -> None:
    for name in SCENARIOS:
        text = page_for(name, tmp_path)[0].read_text()
        assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", text), name
        assert "@import" not in text and "url(" not in text
        assert "@media print" in text


def test_a_real_runs_page(home: Path, tmp_path: Path) -> None:
    """The page the command line writes, for the checks that need no network."""
    import json

    from tests.doctor import run_doctor

    page, data = tmp_path / "r.html", tmp_path / "r.json"
    run = run_doctor("--only", "config.key,config.base_url,config.proxy", "--report", str(page),
                     "--report", str(data), home=home, env={"REQUESTS_CA_BUNDLE": str(home / "missing.pem")})
    assert run.code == 1
    report = json.loads(data.read_text())
    dom = browser.Dom(browser.dump_dom(browser.with_probe(page, tmp_path, 375)))
    (title,) = dom.find("title")
    assert title["text"] == f"cborg-doctor: KEY_MISSING (config.key) – {report['created'][:10]}"
    rows = [e["id"].removeprefix("check-") for e in dom.find("tr") if e.get("id", "").startswith("check-")]
    assert rows == [c["id"] for c in report["checks"]]
    (env,) = dom.find("section", id="environment")
    assert "Python" in env["text"] and report["environment"]["python"] in env["text"]
    assert "CA_BUNDLE_MISSING" in dom.find("section", id="findings")[0]["text"]
    (layout,) = dom.find("output", id="cborg-layout")
    assert int(layout["data-scroll-width"]) <= int(layout["data-client-width"]), layout["data-wide"]
