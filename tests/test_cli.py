"""The command line as a user meets it: usage errors, --json, reports, exit codes, plugins."""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.doctor import run_doctor
from tests.plugin_site import LAB_PLUGIN, install_plugin

# Only local checks: engine tests never touch the network.
LOCAL = ("--only", "config.key,config.base_url")


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--frobnicate"], "unrecognized arguments: --frobnicate"),
        (["--timeout", "-1"], "--timeout '-1'"),
        (["--timeout", "abc"], "not a number"),
        (["--timeout", "nan"], "--timeout 'nan'"),
        (["--api-key-file", "/nonexistent/key"], "no such file"),
        (["--report", "/nonexistent-dir/r.json"], "does not exist"),
        (["--report", "out.pdf"], "unknown report type '.pdf'"),
        (["--report", "noext"], "unknown report type"),
        (["--only", "nope"], "unknown check id nope; valid ids: config.key"),
        (["--skip", "dns2"], "unknown check id dns2"),
        (["--explain", "DNS_NXDOMIAN"], "unknown finding code"),
        (["--explain", "KEY_MISIGN"], "did you mean KEY_MISSING"),
        (["--fail-on", "error"], "invalid choice"),
        (["--nameserver", "dns.google"], "not an IP address"),
        (["--no-report", "--report", "x.md"], "cannot be used together"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(home: Path, args: list[str], says: str) -> None:
    run = run_doctor(*args, home=home)
    assert run.code == 2
    assert run.stdout == ""
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    assert lines[0].startswith("cborg-doctor: error:")
    assert says in lines[0]
    assert "Traceback" not in run.stderr


def test_unwritable_report_folder_fails_before_any_check(home: Path) -> None:
    if os.geteuid() == 0:
        target = Path("/proc/cborg-doctor-report.md")  # not writable even for root
    else:
        locked = home / "locked"
        locked.mkdir(mode=0o500)
        target = locked / "r.md"
    run = run_doctor(*LOCAL, "--report", str(target), home=home)
    assert run.code == 2
    assert "cannot write" in run.stderr
    assert "config.key" not in run.stdout  # nothing ran


def test_unreadable_key_file_is_usage_error(home: Path) -> None:
    run = run_doctor(*LOCAL, "--api-key-file", str(home), home=home)
    assert run.code == 2 and "is a directory" in run.stderr


def test_key_file_from_stdin(home: Path, canary_key: str) -> None:
    run = run_doctor(*LOCAL, "--api-key-file", "-", "--json", "--no-report", home=home,
                     stdin=canary_key + "\n")
    report = run.json()
    assert report["key"]["source"] == "file:-"
    assert canary_key not in run.output


def test_version_and_help(home: Path) -> None:
    run = run_doctor("--version", home=home)
    assert run.code == 0 and run.stdout.startswith("cborg-doctor ")
    lines = run.stdout.splitlines()
    assert lines[1].startswith("Python 3.") and lines[2].startswith("httpx 0.") and lines[3].startswith("OS ")
    text = run_doctor("--help", home=home).stdout
    for group in ("what to test:", "output:", "selection:", "other:", "examples:", "exit codes:"):
        assert f"\n{group}\n" in text, group
    assert "  130  interrupted" in text and "  2    bad usage" in text
    assert text.index("what to test:") < text.index("  --base-url URL") < text.index("output:")


def test_version_imports_neither_argparse_nor_httpx_nor_rich(home: Path) -> None:
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "cborg_doctor", "--version"],
                          capture_output=True, text=True, timeout=60)
    imported = {line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines() if "|" in line}
    assert "cborg_doctor.version" in imported  # importtime saw the run
    assert not imported & {"argparse", "httpx", "rich", "rich.console", "importlib.metadata",
                           "cborg_doctor.cli", "cborg_doctor.options", "dataclasses"}


@pytest.mark.parametrize(("args", "says"), [
    (["--timeout", "0"], "cborg-doctor: error: --timeout '0': must be more than 0 and at most 3600 seconds"),
    (["--timeout", "abc"], "cborg-doctor: error: --timeout 'abc': not a number of seconds"),
    (["--interval", "-1", "--repeat", "2"], "--interval '-1': must be at least 0 and at most 3600 seconds"),
])
def test_option_errors_say_the_option_once(home: Path, args: list[str], says: str) -> None:
    run = run_doctor(*args, home=home)
    assert run.code == 2 and says in run.stderr.splitlines()[0], run.stderr
    assert "argument --" not in run.stderr


def test_json_stdout_is_only_the_report(home: Path, canary_key: str) -> None:
    run = run_doctor(*LOCAL, "--json", home=home, env={"CBORG_API_KEY": canary_key})
    report = json.loads(run.stdout)  # the whole of stdout parses
    assert report["schema"] == "cborg-doctor/report/v1"
    assert report["status"] == "pass" and run.code == 0
    assert [c["id"] for c in report["checks"]] == ["config.key", "config.base_url"]
    assert report["key"] == {"source": "env:CBORG_API_KEY", "fingerprint": canary_key[:3] + "…" + canary_key[-4:]}
    assert report["target"] == {"base_url": "https://api.cborg.lbl.gov", "host": "api.cborg.lbl.gov", "port": 443}
    assert report["verdict"] is None
    assert set(report["counts"]) == {"pass", "warn", "fail", "skip", "error"}
    # the default Markdown report was still written, and its path named on stderr
    written = list((home / "reports").glob("cborg-doctor-*.md"))
    assert len(written) == 1 and f"Report: {written[0]}" in run.stderr


def test_console_run_shows_code_fix_verdict_and_report_path(home: Path) -> None:
    run = run_doctor(*LOCAL, home=home)
    assert run.code == 1
    assert "KEY_MISSING" in run.stdout
    assert "1. Get or view your key at https://api.cborg.lbl.gov/key/manage" in run.stdout
    assert "KEY_MISSING (config.key): No API key found: looked at $CBORG_API_KEY, $OPENAI_API_KEY." in run.stdout
    last = run.stdout.strip().splitlines()[-1]
    assert last.startswith("Report: ") and Path(last.removeprefix("Report: ")).is_file()


def test_exit_codes_and_fail_on_warn(home: Path, canary_key: str) -> None:
    # Another key (an OpenAI one) in OPENAI_API_KEY, no base URL: BASE_URL_OPENAI warn.
    env = {"CBORG_API_KEY": canary_key, "OPENAI_API_KEY": "sk-openai" + canary_key[9:]}
    assert run_doctor(*LOCAL, "--no-report", home=home, env=env).code == 0
    warned = run_doctor(*LOCAL, "--no-report", "--fail-on", "warn", "--json", home=home, env=env)
    assert warned.code == 1
    assert warned.json()["verdict"]["code"] == "BASE_URL_OPENAI"


def test_list_checks_shows_order_ids_titles_and_needs(home: Path) -> None:
    run = run_doctor("--list-checks", home=home)
    assert run.code == 0
    lines = run.stdout.splitlines()
    assert lines[0].split() == ["#", "id", "title", "needs", "looks", "at"]
    assert lines[1].split()[:2] == ["1", "config.key"]
    assert lines[1].endswith("which key the clients will use; its shape")


def test_explain_prints_the_same_fix_text_the_finding_uses(home: Path) -> None:
    run = run_doctor("--explain", "key_missing", home=home)
    assert run.code == 0
    assert run.stdout.startswith("KEY_MISSING  (fail, raised by config.key)")
    finding_run = run_doctor(*LOCAL, "--json", "--no-report", home=home).json()
    fix = finding_run["checks"][0]["findings"][0]["fix"]
    for step in fix:
        assert step in run.stdout


def test_all_four_reports_from_one_run(home: Path, tmp_path: Path, canary_key: str) -> None:
    paths = {ext: tmp_path / f"r.{ext}" for ext in ("json", "md", "xml", "html")}
    args = [a for p in paths.values() for a in ("--report", str(p))]
    run = run_doctor(*LOCAL, *args, home=home, env={"CBORG_API_KEY": "  " + canary_key})
    assert run.code == 1
    report = json.loads(paths["json"].read_text())
    assert report["verdict"]["code"] == "KEY_MALFORMED"
    suite = ET.parse(paths["xml"]).getroot().find("testsuite")
    assert suite is not None and suite.get("tests") == "2" and suite.get("failures") == "1"
    failure = suite.find("testcase/failure")
    assert failure is not None and failure.get("type") == "KEY_MALFORMED"
    md = paths["md"].read_text()
    assert "| ✖ | `config.key` API key | fail |" in md and "**`KEY_MALFORMED`** (fail)" in md
    html = paths["html"].read_text()
    assert html.startswith("<!DOCTYPE html>") and "KEY_MALFORMED" in html
    for path in paths.values():
        assert canary_key not in path.read_text()
    assert not list(tmp_path.glob(".*tmp"))  # no half-written leftovers
    assert canary_key not in run.output


@pytest.fixture
def plugin_env(tmp_path: Path) -> dict[str, str]:
    site = install_plugin(
        tmp_path / "site", "labplugin", LAB_PLUGIN, {"lab": "labplugin:CHECKS", "broken": "nosuchmod:X"}
    )
    return {"PYTHONPATH": f"{site}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}


def test_plugin_checks_load_order_and_isolation(home: Path, plugin_env: dict[str, str]) -> None:
    listing = run_doctor("--list-checks", home=home, env=plugin_env).stdout
    assert "lab.note" in listing and "plugin not loaded: broken (nosuchmod:X)" in listing
    run = run_doctor("--only", "lab.note,lab.crash", "--json", "--no-report", home=home, env=plugin_env)
    report = run.json()
    ids = [c["id"] for c in report["checks"]]
    assert ids[:3] == ["config.key", "lab.note", "lab.crash"]  # prerequisite pulled in and first
    by_id = {c["id"]: c for c in report["checks"]}
    assert by_id["lab.note"]["status"] == "skip"  # config.key failed: no key
    assert by_id["lab.note"]["skipped_because"] == "needs config.key, which ended with fail"
    assert by_id["lab.crash"]["status"] == "error"
    assert by_id["plugin:broken"]["status"] == "error"
    assert report["counts"]["error"] == 2
    assert run.code == 1
    assert "LAB_NOTE" in run_doctor("--explain", "LAB_NOTE", home=home, env=plugin_env).stdout


@pytest.mark.parametrize("fmt", ["console", "verbose", "json"])
def test_canary_key_never_leaves_the_process(
    home: Path, tmp_path: Path, plugin_env: dict[str, str], canary_key: str, fmt: str
) -> None:
    reports = [a for ext in ("json", "md", "xml", "html") for a in ("--report", str(tmp_path / f"r.{ext}"))]
    extra = {"console": [], "verbose": ["-v"], "json": ["--json"]}[fmt]
    run = run_doctor(
        "--only", "config.key,config.base_url,lab.note,lab.crash,lab.leak", *extra, *reports,
        home=home, env={**plugin_env, "CBORG_API_KEY": canary_key},
    )
    assert run.code == 1
    assert "lab.crash" in run.output
    # tracebacks only with -v and in the JSON data, scrubbed either way
    assert ("Traceback" in run.stdout) == (fmt != "console")
    assert canary_key not in run.output
    for ext in ("json", "md", "xml", "html"):
        assert canary_key not in (tmp_path / f"r.{ext}").read_text()
    data = json.loads((tmp_path / "r.json").read_text())
    crash = next(c for c in data["checks"] if c["id"] == "lab.crash")
    assert "upstream rejected Authorization: Bearer sk-" in crash["summary"]
    assert "Traceback" in crash["data"]["traceback"]


def test_two_runs_at_once_write_two_default_reports(home: Path) -> None:
    import subprocess
    import sys

    from tests.doctor import clean_env

    procs = [
        subprocess.Popen([sys.executable, "-m", "cborg_doctor", *LOCAL], env=clean_env(home),
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(3)
    ]
    for proc in procs:
        proc.wait(timeout=60)
    assert len(list((home / "reports").glob("cborg-doctor-*.md"))) == 3


def test_default_reports_are_pruned_to_the_last_20(home: Path) -> None:
    reports = home / "reports"
    reports.mkdir()
    old = [reports / f"cborg-doctor-202601{d:02d}-120000-{100 + d}.md" for d in range(1, 26)]
    for path in old:
        path.write_text("old report\n")
    mine = reports / "keep-me.md"  # not a default report name: never touched
    mine.write_text("mine\n")
    run = run_doctor(*LOCAL, home=home)
    written = sorted(reports.glob("cborg-doctor-*.md"))
    assert len(written) == 20
    assert written[-1].name.startswith("cborg-doctor-2026") and written[-1] not in old  # this run's
    assert written[:-1] == old[-19:]  # the 19 newest of the old ones
    assert mine.exists()
    assert run.stdout.splitlines()[-1] == f"Report: {written[-1]}"


def test_explain_shows_every_severity_a_code_can_have(home: Path) -> None:
    run = run_doctor("--explain", "TLS_INTERCEPTED", home=home)
    assert run.stdout.startswith("TLS_INTERCEPTED  (fail or info, raised by tls)")
    assert "Severity: fail as a rule;\n  info when only your SSL_CERT_FILE/SSL_CERT_DIR trusts the issuer" in run.stdout
    single = run_doctor("--explain", "KEY_MISSING", home=home).stdout
    assert "Severity:" not in single  # one severity: said once, in the first line
