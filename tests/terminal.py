"""Run the doctor on a pseudo-terminal, to see what a person at a terminal sees.

Rich decides on colours, spinners and progress bars by asking whether stdout
is a terminal; a pipe never is, so tests of live output need a real pty.
"""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

from tests.doctor import clean_env


def run_on_terminal(*args: str, home: Path, env: dict[str, str] | None = None,
                    timeout: float = 60) -> tuple[int, str]:
    """(exit code, everything written to the terminal, control sequences included)."""
    master, child_side = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "cborg_doctor", *args],
        env=clean_env(home, **{"TERM": "xterm-256color", **(env or {})}),
        stdin=child_side, stdout=child_side, stderr=child_side, cwd=str(home),
    )
    os.close(child_side)
    output = b""
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.5)
            if not ready:
                if proc.poll() is not None:
                    break
                continue
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            output += chunk
        code = proc.wait(timeout=max(deadline - time.monotonic(), 1))
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)
    return code, output.decode("utf-8", errors="replace")
