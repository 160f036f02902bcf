"""A report is replaced whole or not at all, even when the writer dies mid-write.

The kernel kills the doctor the moment a write passes the file-size limit
(RLIMIT_FSIZE with SIGXFSZ at its default action), which lands inside the
report's write. A writer that wrote in place would leave the previous report
truncated; temp file + rename leaves it untouched.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.doctor import clean_env, run_doctor

resource = pytest.importorskip("resource", reason="RLIMIT_FSIZE needs a POSIX system")

# The doctor under a file-size limit, with SIGXFSZ killing it (Python ignores it by default).
KILLED_MID_WRITE = """
import resource, runpy, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_DFL)
limit = int(sys.argv.pop(1))
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
sys.argv[0] = "cborg-doctor"
runpy.run_module("cborg_doctor", run_name="__main__")
"""


def test_killing_the_writer_mid_write_leaves_the_previous_report_intact(
        tmp_path: Path, home: Path, canary_key: str) -> None:
    report = tmp_path / "r.json"
    args = ["--only", "config.key", "--report", str(report)]
    first = run_doctor(*args, home=home, env={"CBORG_API_KEY": canary_key})
    assert first.code == 0, first.output
    previous = report.read_bytes()
    assert json.loads(previous)["checks"][0]["id"] == "config.key"

    limit = len(previous) // 2  # the new report (the same size) cannot be written whole
    proc = subprocess.run(
        [sys.executable, "-c", KILLED_MID_WRITE, str(limit), *args],
        env=clean_env(home, CBORG_API_KEY=canary_key), capture_output=True, text=True, timeout=60, cwd=str(home),
    )
    assert proc.returncode == -signal.SIGXFSZ, (proc.returncode, proc.stderr)
    assert report.read_bytes() == previous  # the old report, whole
    assert json.loads(report.read_text())["checks"][0]["id"] == "config.key"
    assert canary_key not in proc.stdout + proc.stderr
