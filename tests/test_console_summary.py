"""The closing summary, the helpdesk subject and CI annotations, from report data (no network)."""

from __future__ import annotations

import io

from rich.console import Console

from cborg_doctor.ci import annotations
from cborg_doctor.formats.console import render_check, render_summary, summary_lines, wrap
from cborg_doctor.formats.text import headline
from cborg_doctor.helpdesk import compose
from cborg_doctor.secrets import Scrubber
from tests.report_samples import LONG_PATH, SCENARIOS, hostile, no_key_no_dns, passing, security_only


def terminal(width: int) -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, width=width, force_terminal=True, no_color=True, highlight=False,
                   color_system=None), out


def test_security_only_says_cborg_works_everywhere() -> None:
    report = security_only()
    assert headline(report) == "CBorg works from this machine; there is 1 security problem to fix."
    email = compose(report, ["/tmp/r.md"], None, Scrubber(None))
    assert email.subject == "CBorg API works; 1 security problem to fix: CLIENT_KEY_IN_FILE (config.clients)"
    assert email.body.splitlines()[2].startswith("CBorg works from this machine, but")
    (note,) = annotations(report)
    assert note.startswith("::error title=CLIENT_KEY_IN_FILE::CBorg works from this machine; there is 1 security")


def test_a_path_failure_is_not_security_only() -> None:
    assert headline(no_key_no_dns()) == "CBorg does not work from this machine yet. The cause:"
    assert headline(passing()) == "CBorg works from this machine: no problems found."


def test_no_key_and_no_dns_are_both_named() -> None:
    lines = [line for line, _ in summary_lines(no_key_no_dns(), 80, [LONG_PATH])]
    text = "\n".join(lines)
    assert "KEY_MISSING (config.key): No API key found" in text
    assert "also: 1 more problem" in text and "✖ DNS_NXDOMAIN (dns): api.cborg.lbl.gov does not exist" in text
    assert lines[-1] == LONG_PATH and lines[-2] == "Report:"  # wider than 80: alone on its line


def test_summary_fits_one_screen_at_80x24_for_every_scenario() -> None:
    for name, build in SCENARIOS.items():
        lines = list(summary_lines(build(), 80, [LONG_PATH]))
        assert len(lines) <= 23, name
        assert all(len(line) <= 80 or line == LONG_PATH for line, _ in lines), name


def test_piped_output_is_never_cut_or_padded() -> None:
    out = io.StringIO()
    console = Console(file=out, width=80, force_terminal=False, no_color=True, highlight=False)
    for check in hostile().checks:
        render_check(check, console)
    render_summary(hostile(), console, [LONG_PATH])
    text = out.getvalue()
    assert all(line == line.rstrip() for line in text.splitlines())
    assert f"Report: {LONG_PATH}" in text.splitlines()
    assert "…" not in text  # nothing elided
    assert max(len(line) for line in text.splitlines()) > 80


def test_wrapping_never_splits_a_url_path_or_command() -> None:
    text = ("Put it in an environment variable: add `export CBORG_API_KEY=sk-...` to ~/.bashrc, "
            "see https://api.cborg.lbl.gov/key/manage and " + LONG_PATH)
    for width in (40, 60, 80):
        lines = wrap(text, width, 6, "      1. ")
        assert any("`export CBORG_API_KEY=sk-...`" in line for line in lines)
        spans = wrap("3. If it persists, send the report to scienceit@lbl.gov (`cborg-doctor --repeat 50 "
                     "--helpdesk`).", width, 9)
        assert any("(`cborg-doctor --repeat 50 --helpdesk`)." in line for line in spans), spans
        assert any("https://api.cborg.lbl.gov/key/manage" in line for line in lines)
        assert LONG_PATH in lines  # too wide even alone: its own line from column 0
        assert all(len(line) <= width for line in lines if LONG_PATH not in line)


def test_narrow_terminal_keeps_marks_and_codes() -> None:
    console, out = terminal(40)
    for check in no_key_no_dns().checks:
        render_check(check, console)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("✖ config.key      ")
    assert any(line.startswith("    KEY_MISSING ") for line in lines)
    assert any(line.startswith("✖ dns ") for line in lines)
    assert all(len(line) <= 40 for line in lines)


def test_info_notes_only_with_verbose_and_quiet_hides_passing_checks() -> None:
    from cborg_doctor.formats.console import View

    console, out = terminal(100)
    for check in passing().checks:
        render_check(check, console)
    assert "OFFSITE" not in out.getvalue() and "EGRESS_IP" not in out.getvalue()
    assert len(out.getvalue().splitlines()) == len(passing().checks)  # one line per passing check
    console, out = terminal(100)
    for check in passing().checks:
        render_check(check, console, View(verbose=True))
    assert "OFFSITE" in out.getvalue()
    console, out = terminal(100)
    for check in no_key_no_dns().checks:
        render_check(check, console, View(quiet=True))
    text = out.getvalue()
    assert "config.base_url" not in text and "net.ipv4" not in text and "✖ config.key" in text
    assert "KEY_MISSING" not in text  # the closing summary names it, once


def _quiet_run(report, width: int) -> str:
    from cborg_doctor.formats.console import View

    console, out = terminal(width)
    for check in report.checks:
        render_check(check, console, View(quiet=True))
    render_summary(report, console, ["/tmp/r.md"], quiet=True)
    return out.getvalue()


def test_quiet_prints_each_problem_once() -> None:
    text = _quiet_run(no_key_no_dns(), 100)
    assert text.count("KEY_MISSING") == 1 and text.count("DNS_NXDOMAIN") == 1, text
    assert text.startswith("✖ config.key") and "\n✖ dns " in text  # the check lines stay
    assert "  1. " in text  # the verdict's fix steps
    assert "also: 1 more problem (fix steps in the report)" in text


def test_quiet_prints_problems_that_do_not_fit_the_summary_whole_above_it() -> None:
    from cborg_doctor.findings import Status
    from tests.report_samples import _report, finding, result

    hosts = [f"h{n}.example" for n in range(9)]
    report = _report(*(result(f"dns{n}", Status.FAIL, "no such name",
                              finding("DNS_NXDOMAIN", host=host, resolver="the system resolver"))
                       for n, host in enumerate(hosts)))
    text = _quiet_run(report, 80)
    assert "more above" in text
    for host in hosts:  # every problem is printed, and only once
        assert text.count(host) == 1, (host, text)


def test_without_quiet_the_check_shows_its_findings_and_the_summary_repeats_them() -> None:
    console, out = terminal(100)
    for check in no_key_no_dns().checks:
        render_check(check, console)
    render_summary(no_key_no_dns(), console, ["/tmp/r.md"])
    text = out.getvalue()
    assert text.count("KEY_MISSING") == 2 and "also: 1 more problem (above, and in the report)" in text


def test_helpdesk_email_names_html_instead_of_pasting_it() -> None:
    from dataclasses import replace

    from cborg_doctor.findings import Status
    from tests.report_samples import result

    report = hostile()
    page = "<html>\n<head><title>Blocked</title></head>\n<body>\n<p>Access denied</p>\n</body>\n</html>"
    http = next(c for c in report.checks if c.id == "http")
    report = replace(report, checks=tuple(
        result("http", Status.FAIL, http.summary, *http.findings, data={**http.data, "body_start": page})
        if c.id == "http" else c for c in report.checks))
    body = compose(report, [], None, Scrubber(None)).body
    assert "<title>Blocked</title>" not in body and "<body>" not in body
    assert "body_start: (an HTML page, 86 characters shown; its start is in the report)" in body
    assert "Public IP: not measured (the egress check did not run)" in body


def test_stalled_waterfall_and_repeat_table_fit_40_columns() -> None:
    from cborg_doctor.waterfall import render_timings
    from tests.report_samples import intermittent, stalled

    for width in (40, 80):
        console, out = terminal(width)
        render_timings(stalled(), console)
        render_timings(intermittent(), console)
        lines = out.getvalue().splitlines()
        assert all(len(line) <= width and line == line.rstrip() for line in lines)
        stall = next(line for line in lines if line.startswith("First byte ░"))
        assert stall.endswith("░ gave up after 5000 ms")
        assert "  First byte stalled: no response within 5 s of the request" in lines or width == 40
        assert "  what failed: HTTP 503 × 5, timed out × 2" in lines or width == 40
    assert any(line.split()[-4:] == ["99.8 %", "170 ms", "950 ms", "1.5 s"] or "99.8 %" in line for line in lines)
