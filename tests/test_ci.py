"""CI output as a pipeline sees it: GitHub annotations, the step summary, plain logs."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from cborg_doctor.ci import escape_data, escape_property, in_ci
from tests.doctor import run_doctor
from tests.plugin_site import install_plugin
from tests.terminal import run_on_terminal

LOCAL = ("--only", "config.key,config.base_url")


def github(home: Path, **extra: str) -> dict[str, str]:
    summary = home / "step-summary.md"
    return {"CI": "true", "GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary), **extra}


def commands(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith("::")]


def unescape(text: str) -> str:
    return text.replace("%0D", "\r").replace("%0A", "\n").replace("%3A", ":").replace("%2C", ",").replace("%25", "%")


def test_escaping_follows_github() -> None:
    assert escape_data("100% done\r\nnext: a,b") == "100%25 done%0D%0Anext: a,b"
    assert escape_property("100% done\r\nnext: a,b") == "100%25 done%0D%0Anext%3A a%2Cb"
    assert escape_data("%0A") == "%250A"  # an already-escaped-looking text survives


@pytest.mark.parametrize(
    ("env", "expected"),
    [({}, False), ({"CI": "true"}, True), ({"CI": "false"}, False), ({"CI": "0"}, False),
     ({"GITLAB_CI": "true"}, True), ({"JENKINS_URL": "https://ci.example/"}, True)],
)
def test_what_counts_as_ci(env: dict[str, str], expected: bool) -> None:
    assert in_ci(env) is expected


def test_failure_becomes_an_error_annotation_and_a_step_summary(home: Path) -> None:
    env = github(home)
    Path(env["GITHUB_STEP_SUMMARY"]).write_text("## Earlier step\n")
    run = run_doctor(*LOCAL, home=home, env=env)
    assert run.code == 1
    assert commands(run.stdout) == [
        "::error title=KEY_MISSING::No API key found: looked at $CBORG_API_KEY, $OPENAI_API_KEY. (config.key)"
        "%0AFix: Get or view your key at https://api.cborg.lbl.gov/key/manage (LBL login)."
    ]
    summary = Path(env["GITHUB_STEP_SUMMARY"]).read_text()
    assert summary.startswith("## Earlier step\n# cborg-doctor report\n")  # appended, not replaced
    assert "**Result:** fail — KEY_MISSING (config.key)" in summary
    assert "| ✖ | `config.key` API key | fail |" in summary
    # the report path is still the last line of the log
    assert run.stdout.strip().splitlines()[-1].startswith("Report: ")


def test_warning_annotation_and_no_key_anywhere(home: Path, canary_key: str) -> None:
    # An OpenAI key in OPENAI_API_KEY beside the CBorg key: a warning, not a failure.
    env = github(home, CBORG_API_KEY=canary_key, OPENAI_API_KEY="sk-openai" + canary_key[9:])
    run = run_doctor(*LOCAL, home=home, env=env)
    assert run.code == 0  # a warning does not fail the job without --fail-on warn
    (line,) = commands(run.stdout)
    assert line.startswith("::warning title=BASE_URL_OPENAI::")
    assert "%0AFix: " in line
    summary = Path(env["GITHUB_STEP_SUMMARY"]).read_text()
    assert "BASE_URL_OPENAI" in summary
    assert canary_key not in run.output and canary_key not in summary


def test_passing_run_annotates_nothing(home: Path, canary_key: str) -> None:
    env = github(home, CBORG_API_KEY=canary_key)
    run = run_doctor(*LOCAL, home=home, env=env)
    assert run.code == 0
    assert commands(run.output) == []
    assert "No problems found" in Path(env["GITHUB_STEP_SUMMARY"]).read_text()


def test_messages_with_newlines_percent_and_commas_stay_one_annotation(home: Path, tmp_path: Path) -> None:
    site = install_plugin(tmp_path / "site", "oddplugin", '''
        from cborg_doctor.api import Check, Code, Outcome, Severity
        ODD = Code("ODD_TEXT", Severity.FAIL, "odd", fix=("step: one, two\\r\\nthree",))
        def run(ctx):
            return Outcome("odd", [ODD.finding("100% of a, b:\\nsecond line")])
        CHECK = Check("lab.odd", "Odd text", run, codes=(ODD,))
    ''', {"odd": "oddplugin:CHECK"})
    env = github(home, PYTHONPATH=f"{site}{os.pathsep}{os.environ.get('PYTHONPATH', '')}")
    run = run_doctor("--only", "lab.odd", "--no-report", home=home, env=env)
    assert run.code == 1
    (line,) = commands(run.stdout)
    prefix = "::error title=ODD_TEXT::"
    assert line.startswith(prefix)
    assert unescape(line.removeprefix(prefix)) == "100% of a, b:\nsecond line (lab.odd)\nFix: step: one, two\r\nthree"


def test_json_stdout_stays_pure_annotations_go_to_stderr(home: Path) -> None:
    run = run_doctor(*LOCAL, "--json", "--no-report", home=home, env=github(home))
    assert json.loads(run.stdout)["verdict"]["code"] == "KEY_MISSING"
    assert commands(run.stderr)[0].startswith("::error title=KEY_MISSING::")


def test_ci_log_has_no_colour_or_cursor_codes_even_when_forced(home: Path) -> None:
    run = run_doctor(*LOCAL, home=home, env={"CI": "true", "FORCE_COLOR": "1", "TERM": "xterm-256color"})
    assert run.code == 1 and "KEY_MISSING" in run.stdout
    assert "\x1b" not in run.output
    assert commands(run.output) == []  # workflow commands only on GitHub


def test_unwritable_step_summary_is_one_line_and_changes_nothing_else(home: Path) -> None:
    env = github(home, GITHUB_STEP_SUMMARY=str(home))  # a directory
    run = run_doctor(*LOCAL, "--no-report", home=home, env=env)
    assert run.code == 1
    assert "could not write the step summary" in run.stderr
    assert "Traceback" not in run.stderr
    assert commands(run.stdout)[0].startswith("::error title=KEY_MISSING::")


def test_in_ci_a_terminal_gets_no_spinner_and_no_colour(home: Path) -> None:
    """Some CI runners give jobs a pseudo-terminal: CI=true still means a plain log."""
    code, text = run_on_terminal(*LOCAL, "--no-report", home=home, env={"CI": "true"})
    assert code == 1 and "KEY_MISSING" in text
    assert "\x1b" not in text  # no colour, no cursor movement, no spinner frames
    code, text = run_on_terminal(*LOCAL, "--no-report", home=home)
    assert code == 1 and "\x1b[" in text  # the same run outside CI is in colour
