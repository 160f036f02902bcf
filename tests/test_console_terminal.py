"""The console as a person sees it: tmux at 80×24 and 40 columns, a pipe, NO_COLOR, GitHub Actions.

The scenarios are local (no key; a CA bundle variable pointing nowhere; a
report folder with a long path), so the checks need no network at all.
"""

from __future__ import annotations

import re
from pathlib import Path

from tests import tmux
from tests.doctor import run_doctor
from tests.terminal import run_on_terminal

LOCAL = ("--only", "config.key,config.base_url,config.proxy")
URL = "https://api.cborg.lbl.gov/key/manage"
# An SGR sequence that sets a foreground or background colour (bold and dim are not colours).
COLOUR = re.compile(r"\x1b\[(?:[0-9]+;)*(?:3[0-8]|4[0-8]|9[0-7]|10[0-7])[;m]")


def scenario(home: Path) -> dict[str, str]:
    """No key, and REQUESTS_CA_BUNDLE pointing at a file that is not there; reports deep down."""
    reports = home / "a-rather-long-folder-name-for-reports" / "that-goes-on-and-on" / "cborg-doctor"
    reports.mkdir(parents=True)
    return {"CBORG_DOCTOR_REPORT_DIR": str(reports),
            "REQUESTS_CA_BUNDLE": str(home / "corporate" / "missing-ca-bundle.pem")}


def the_report(home: Path) -> Path:
    (path,) = home.glob("a-rather-long-folder-name-for-reports/*/cborg-doctor/*.md")
    return path


def test_summary_is_the_whole_last_screen_at_80x24(home: Path) -> None:
    screen = tmux.run(*LOCAL, home=home, env=scenario(home))
    assert screen.code == 1
    last = screen.visible
    assert len(last) <= 24
    text = "\n".join(last)
    # the whole block: rule, headline, verdict, every fix step, the other problem, the report path
    start = next(i for i, line in enumerate(last) if line.startswith("────"))
    block = last[start:]
    assert block[1] == "✖ CBorg does not work from this machine yet. The cause:"
    assert block[2].startswith("  KEY_MISSING (config.key): No API key found")
    assert [line[:5] for line in block if re.match(r"  \d\. ", line)] == ["  1. ", "  2. ", "  3. "]
    assert "also: 1 more problem (above, and in the report)" in text
    assert any(line.startswith("  ✖ CA_BUNDLE_MISSING (config.proxy): ") for line in block)
    report = the_report(home)
    assert len(str(report)) > 80
    at = block.index("Report:")
    assert "".join(block[at + 1:]) == str(report)  # alone on its line (soft-wrapped by the terminal)
    assert str(report) in screen.joined  # and a copy gives it whole
    # no line is wider than the terminal, no URL or command is cut
    assert all(len(line) <= 80 for line in last)
    assert URL in text and "`export CBORG_API_KEY=sk-...`" in text
    assert not any(line.rstrip().endswith(("https:", "https://", "`export")) for line in last)
    assert all(line.count("`") % 2 == 0 for line in last), "a `command` split across lines"


def test_forty_columns_keep_marks_codes_and_whole_urls(home: Path) -> None:
    screen = tmux.run(*LOCAL, "--no-report", home=home, env=scenario(home), width=40, height=60)
    lines = screen.joined
    assert any(line.startswith("✖ config.key      ") for line in lines)
    assert any(line.startswith("    KEY_MISSING ") for line in lines)
    assert any(line.startswith("✖ config.proxy ") for line in lines)
    assert any(line.strip() == URL or URL in line for line in lines)
    assert all(len(line) <= 40 for line in screen.visible)
    assert all(line.count("`") % 2 == 0 for line in lines), "a `command` split across lines"


def test_explain_prints_code_that_parses_when_copied(home: Path) -> None:
    screen = tmux.run("--explain", "INTERMITTENT_LOSS", home=home, height=60)
    text = "\n".join(screen.joined)
    code = re.search(r"```python\n(.*?)```", text, re.S)
    assert code is not None, text
    compile(code.group(1), "copied.py", "exec")
    assert "def create_with_retry(" in code.group(1)


def test_console_names_the_code_sample_instead_of_printing_it(home: Path) -> None:
    screen = tmux.run("--explain", "INTERMITTENT_LOSS", home=home)
    assert screen.code == 0
    run = run_doctor("--explain", "INTERMITTENT_LOSS", home=home)
    assert "import openai" in run.stdout  # --explain is where the code is printed whole


def test_piped_output_is_not_cut_at_80_columns(home: Path) -> None:
    env = scenario(home)
    run = run_doctor(*LOCAL, home=home, env={**env, "COLUMNS": "80"})
    lines = run.stdout.splitlines()
    assert max(len(line) for line in lines) > 80
    assert all(line == line.rstrip() for line in lines), "trailing spaces"
    assert "…" not in run.stdout
    assert env["REQUESTS_CA_BUNDLE"] in run.stdout
    assert lines[-1] == f"Report: {the_report(home)}"


def test_no_color_on_a_terminal(home: Path) -> None:
    code, out = run_on_terminal(*LOCAL, "--no-report", home=home, env={"NO_COLOR": "1"})
    assert code == 1 and "KEY_MISSING" in out
    assert not COLOUR.search(out), "colour codes despite NO_COLOR"
    code, coloured = run_on_terminal(*LOCAL, "--no-report", home=home)
    assert COLOUR.search(coloured)  # colours otherwise


def test_github_actions_gets_plain_text_and_annotations(home: Path) -> None:
    code, out = run_on_terminal(*LOCAL, "--no-report", home=home, env={"GITHUB_ACTIONS": "true", "CI": "true"})
    assert code == 1
    assert "\x1b" not in out  # no colour, no spinner, even on a terminal
    assert "::error title=KEY_MISSING::No API key found" in out
    assert "✖ CBorg does not work from this machine yet. The cause:" in out


def test_quiet_prints_only_problems_and_the_summary(home: Path) -> None:
    run = run_doctor(*LOCAL, "--quiet", home=home, env=scenario(home))
    assert run.code == 1
    out = run.stdout
    assert "config.base_url" not in out and "cborg-doctor 0.1" not in out
    assert out.startswith("✖ config.key")
    assert "CA_BUNDLE_MISSING" in out and "also: 1 more problem" in out
    assert out.splitlines()[-1].startswith("Report: ")
