"""Nothing lost, nothing crashes: signals mid-run, broken environments, odd key files."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.doctor import clean_env, run_doctor
from tests.plugin_site import install_plugin

SLOW_PLUGIN = '''
import os, time
from cborg_doctor.api import Check, Outcome

def slow(ctx):
    time.sleep(0.5)  # lab.fast, started alongside, is recorded by the time the signal comes
    open(os.environ["SLOW_MARKER"], "w").close()
    time.sleep(60)
    return Outcome("late")

def fast(ctx):
    return Outcome("fast")

CHECKS = [Check("lab.fast", "Fast", fast), Check("lab.slow", "Slow", slow),
          Check("lab.after", "After", fast, needs=("lab.slow",))]
'''


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_signal_mid_run_writes_the_report_so_far(
    tmp_path: Path, home: Path, canary_key: str, sig: int, code: int
) -> None:
    site = install_plugin(tmp_path / "site", "slowplugin", SLOW_PLUGIN, {"slow": "slowplugin:CHECKS"})
    marker = tmp_path / "started"
    report = tmp_path / "r.json"
    env = clean_env(home, PYTHONPATH=str(site), SLOW_MARKER=str(marker), CBORG_API_KEY=canary_key)
    proc = subprocess.Popen(
        [sys.executable, "-m", "cborg_doctor", "--only", "config.key,lab.fast,lab.slow,lab.after",
         "--timeout", "30", "--report", str(report)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    deadline = time.monotonic() + 30
    while not marker.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert marker.exists(), "the slow check never started"
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == code
    assert "Traceback" not in out + err
    assert canary_key not in out + err
    data = json.loads(report.read_text())
    by_id = {c["id"]: c for c in data["checks"]}
    assert data["interrupted"] == signal.Signals(sig).name
    assert by_id["lab.fast"]["status"] == "pass"
    assert by_id["lab.slow"]["status"] == "error"
    assert by_id["lab.slow"]["findings"][0]["code"] == "INTERRUPTED"
    assert by_id["lab.after"]["status"] == "skip"
    assert "Interrupted." in out


def test_non_utf8_key_is_named_not_a_crash(tmp_path: Path, home: Path) -> None:
    env = {k.encode(): v.encode() for k, v in clean_env(home).items()}
    env[b"CBORG_API_KEY"] = b"sk-abc\xff\xfedefghijklmnopqrstu"
    proc = subprocess.run(
        [sys.executable, "-m", "cborg_doctor", "--only", "config.key", "--json", "--no-report"],
        env=env, capture_output=True, timeout=60,
    )
    assert proc.returncode == 1, proc.stderr
    report = json.loads(proc.stdout)
    messages = [f["message"] for f in report["checks"][0]["findings"]]
    assert any("non-ASCII or control characters (U+FFFD)" in m for m in messages)


def test_home_unset_still_writes_a_default_report(home: Path) -> None:
    env = clean_env(home)
    for name in ("HOME", "CBORG_DOCTOR_REPORT_DIR", "XDG_STATE_HOME"):
        env.pop(name, None)
    proc = subprocess.run(
        [sys.executable, "-m", "cborg_doctor", "--only", "config.key"],
        env=env, capture_output=True, text=True, timeout=60, cwd=home,
    )
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    path = Path(proc.stdout.strip().splitlines()[-1].removeprefix("Report: "))
    assert path.is_file() and "KEY_MISSING" in path.read_text()
    path.unlink()


def test_read_only_current_directory(home: Path) -> None:
    ro = home / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        run = run_doctor("--only", "config.key,config.base_url", "--no-report", home=home, cwd=ro)
    finally:
        ro.chmod(0o755)
    assert run.code == 1 and "Traceback" not in run.output


def test_report_folder_removed_mid_run_is_a_message_not_a_traceback(tmp_path: Path, home: Path) -> None:
    # The folder exists at start (so validation passes) and is gone when the report is written.
    site = install_plugin(tmp_path / "site", "rmplugin", '''
import os, shutil
from cborg_doctor.api import Check, Outcome
def rm(ctx):
    shutil.rmtree(os.environ["DOOMED"])
    return Outcome("removed")
CHECKS = [Check("lab.rm", "Remove", rm)]
''', {"rm": "rmplugin:CHECKS"})
    doomed = tmp_path / "doomed"
    doomed.mkdir()
    run = run_doctor("--only", "lab.rm", "--report", str(doomed / "r.md"), home=home,
                     env={"PYTHONPATH": str(site), "DOOMED": str(doomed)})
    assert run.code == 0
    assert "could not write report" in run.stderr and "Traceback" not in run.output
    assert not os.path.exists(doomed)
