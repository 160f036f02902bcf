"""`cborg_doctor.diagnose()` and `pytest --cborg-preflight`, as a test suite uses them."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import cborg_doctor
from cborg_doctor.options import FailOn
from cborg_doctor.secrets import KeyFileError
from tests.doctor import clean_env

LOCAL_ARGS = "--only config.key,config.base_url"

SUITE = '''
from pathlib import Path

def test_calls_the_gateway():
    Path("tests-ran").write_text("yes")
'''


# ----- the Python API -----------------------------------------------------------


def test_diagnose_returns_the_report_and_prints_nothing(capfd: pytest.CaptureFixture[str], canary_key: str) -> None:
    report = cborg_doctor.diagnose(only="config.key,config.base_url", env={"CBORG_API_KEY": canary_key})
    assert isinstance(report, cborg_doctor.Report)
    assert report.status == "pass" and report.verdict is None
    assert [c.id for c in report.checks] == ["config.key", "config.base_url"]
    assert report.key["fingerprint"] == canary_key[:3] + "…" + canary_key[-4:]
    out, err = capfd.readouterr()
    assert out == "" and err == ""
    assert canary_key not in json.dumps(report.to_dict())


def test_diagnose_names_the_root_cause_with_its_fix() -> None:
    report = cborg_doctor.diagnose(only=["config.key"], env={})
    assert report.status == "fail"
    assert report.verdict is not None and report.verdict.code == "KEY_MISSING"
    assert report.verdict.fix[0].startswith("Get or view your key at https://api.cborg.lbl.gov/key/manage")
    assert report.exit_code(FailOn.FAIL) == 1


def test_diagnose_writes_requested_reports(tmp_path: Path, canary_key: str) -> None:
    paths = [tmp_path / "r.json", tmp_path / "r.xml"]
    cborg_doctor.diagnose(only="config.key", env={"CBORG_API_KEY": "  " + canary_key}, reports=paths)
    assert json.loads(paths[0].read_text())["verdict"]["code"] == "KEY_MALFORMED"
    assert ET.parse(paths[1]).getroot().find("testsuite/testcase/failure") is not None
    for path in paths:
        assert canary_key not in path.read_text()


@pytest.mark.parametrize(
    ("kwargs", "says"),
    [
        ({"only": "nope"}, "unknown check id nope"),
        ({"timeout": 0}, "timeout 0"),
        ({"timeout": float("nan")}, "timeout nan"),
        ({"nameservers": ["dns.google"]}, "not an IP address"),
        ({"reports": "out.pdf"}, "unknown report type"),
        ({"reports": "/nonexistent-dir/r.md"}, "does not exist"),
    ],
)
def test_diagnose_rejects_bad_options_before_running(kwargs: dict[str, object], says: str) -> None:
    with pytest.raises(ValueError, match=says):
        cborg_doctor.diagnose(env={}, **kwargs)  # type: ignore[arg-type]


def test_diagnose_unreadable_key_file(tmp_path: Path) -> None:
    with pytest.raises(KeyFileError, match="no such file"):
        cborg_doctor.diagnose(only="config.key", api_key_file=tmp_path / "missing", env={})


# ----- the pytest plugin --------------------------------------------------------


def run_pytest(project: Path, home: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """A user's test suite, run by a fresh pytest in its own folder."""
    (project / "test_suite.py").write_text(SUITE)
    full_env = clean_env(home, **env)
    full_env.pop("PYTEST_ADDOPTS", None)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
        cwd=project, env=full_env, capture_output=True, text=True, timeout=120,
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    path = tmp_path / "project"
    path.mkdir()
    return path


def test_unusable_gateway_stops_the_session_with_verdict_and_fix(project: Path, home: Path) -> None:
    run = run_pytest(project, home, "--cborg-preflight", f"--cborg-preflight-args={LOCAL_ARGS}")
    assert run.returncode == 2  # pytest's "interrupted"
    assert not (project / "tests-ran").exists()
    out = run.stdout
    assert "cborg-doctor preflight: the CBorg gateway is not usable here" in out
    assert "KEY_MISSING No API key found" in out
    assert "1. Get or view your key at https://api.cborg.lbl.gov/key/manage" in out
    assert "cborg-doctor preflight failed: KEY_MISSING (config.key); no test ran" in out
    # the report to attach was written, and named
    (written,) = (home / "reports").glob("cborg-doctor-*.md")
    assert f"Report: {written}" in out
    assert "KEY_MISSING" in written.read_text()


def test_usable_gateway_lets_the_tests_run(project: Path, home: Path, canary_key: str) -> None:
    run = run_pytest(project, home, "--cborg-preflight", f"--cborg-preflight-args={LOCAL_ARGS}",
                     CBORG_API_KEY=canary_key)
    assert run.returncode == 0, run.stdout
    assert (project / "tests-ran").read_text() == "yes"
    assert "cborg-doctor preflight: ✔ No problems found (2 pass)." in run.stdout
    assert canary_key not in run.stdout + run.stderr
    assert not (home / "reports").exists()  # nothing to attach when all is well


def test_without_the_option_the_doctor_stays_out_of_the_way(project: Path, home: Path) -> None:
    run = run_pytest(project, home)
    assert run.returncode == 0
    assert (project / "tests-ran").exists()
    assert "preflight" not in run.stdout
    assert not (home / "reports").exists()


def test_ini_switches_it_on_and_a_warning_can_stop_the_session(
    project: Path, home: Path, canary_key: str
) -> None:
    (project / "pytest.ini").write_text(
        f"[pytest]\ncborg_preflight = true\ncborg_preflight_args = {LOCAL_ARGS} --fail-on warn\n"
    )
    # An OpenAI key beside the CBorg key, no OPENAI_BASE_URL: a warning.
    run = run_pytest(project, home, CBORG_API_KEY=canary_key,
                     OPENAI_API_KEY="sk-openai" + canary_key[9:])
    assert run.returncode == 2
    assert "BASE_URL_OPENAI" in run.stdout
    assert not (project / "tests-ran").exists()
    assert canary_key not in run.stdout + run.stderr


def test_a_warning_alone_is_shown_and_the_tests_run(project: Path, home: Path, canary_key: str) -> None:
    run = run_pytest(project, home, "--cborg-preflight", f"--cborg-preflight-args={LOCAL_ARGS}",
                     CBORG_API_KEY=canary_key, OPENAI_API_KEY="sk-openai" + canary_key[9:])
    assert run.returncode == 0
    assert "cborg-doctor preflight: ! BASE_URL_OPENAI (config.base_url)" in run.stdout
    assert (project / "tests-ran").exists()


def test_preflight_writes_the_junit_report_it_is_asked_for(project: Path, home: Path) -> None:
    run = run_pytest(project, home, "--cborg-preflight",
                     f"--cborg-preflight-args={LOCAL_ARGS} --report doctor.xml")
    assert run.returncode == 2
    failure = ET.parse(project / "doctor.xml").getroot().find("testsuite/testcase/failure")
    assert failure is not None and failure.get("type") == "KEY_MISSING"
    assert "Report: doctor.xml" in run.stdout
    assert not (home / "reports").exists()  # the named report replaces the default one


@pytest.mark.parametrize(("args", "says"), [("--only nope", "unknown check id nope"),
                                            ("--timeout x", "not a number")])
def test_bad_preflight_args_are_a_usage_error(project: Path, home: Path, args: str, says: str) -> None:
    run = run_pytest(project, home, "--cborg-preflight", f"--cborg-preflight-args={args}")
    assert run.returncode == 4  # pytest's usage error
    assert says in run.stderr
    assert not (project / "tests-ran").exists()
