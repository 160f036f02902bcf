"""A real terminal of a given size: the doctor run inside tmux, the screen read back.

Each `Screen` is its own tmux server (a private socket in the test's folder),
so tests never touch a user's tmux. `run` starts the command in a detached
session of exactly `width` × `height`, waits for it to end (the shell writes
a marker with the exit code), and returns what is on the screen: `visible`
is the last screen as a person sees it (soft-wrapped lines split), `joined`
the whole history with soft wraps undone (what a copy gives).
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.doctor import clean_env

DONE = "__cborg_doctor_done__"


@dataclass
class Screen:
    code: int
    visible: list[str]
    joined: list[str]


def tmux() -> str:
    found = shutil.which("tmux")
    if found is None:
        pytest.skip("tmux is not installed (Debian: apt-get install tmux)")
    return found


def run(*args: str, home: Path, width: int = 80, height: int = 24, env: dict[str, str] | None = None,
        timeout: float = 90) -> Screen:
    """`python -m cborg_doctor ARGS` on a `width`×`height` terminal."""
    socket = home.parent / f"tmux-{width}x{height}.sock"
    full_env = clean_env(home, TERM="xterm-256color", **(env or {}))
    full_env.pop("COLUMNS", None)  # the terminal's size, not a fixed one
    full_env.pop("LINES", None)
    command = " ".join(shlex.quote(a) for a in (sys.executable, "-m", "cborg_doctor", *args))
    shell = f"cd {shlex.quote(str(home))}; clear; {command}; rc=$?; echo; echo {DONE}$rc; sleep 600"
    base = [tmux(), "-S", str(socket), "-f", "/dev/null"]
    subprocess.run([*base, "new-session", "-d", "-x", str(width), "-y", str(height), "-s", "doctor",
                    "sh", "-c", shell], env=full_env, check=True, timeout=30)
    try:
        subprocess.run([*base, "set-option", "-g", "history-limit", "5000"], check=True, timeout=30)
        deadline = time.monotonic() + timeout
        while True:
            screen = _capture(base, "-J", "-S", "-")
            done = [line for line in screen if line.startswith(DONE)]
            if done:
                break
            if time.monotonic() > deadline:
                raise AssertionError("the doctor did not finish on the terminal:\n" + "\n".join(screen))
            time.sleep(0.2)
        code = int(done[-1].removeprefix(DONE))
        # The last screen, without the marker lines that our shell wrapper printed.
        visible = _capture(base)
        joined = screen
    finally:
        subprocess.run([*base, "kill-server"], check=False, timeout=30,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return Screen(code, _strip_marker(visible), _strip_marker(joined))


def _capture(base: list[str], *extra: str) -> list[str]:
    proc = subprocess.run([*base, "capture-pane", "-p", "-t", "doctor", *extra],
                          capture_output=True, text=True, check=True, timeout=30)
    return proc.stdout.splitlines()


def _strip_marker(lines: list[str]) -> list[str]:
    """Everything before our marker (and the blank line echoed before it)."""
    for i, line in enumerate(lines):
        if line.startswith(DONE):
            lines = lines[:i]
            break
    while lines and not lines[-1].strip():
        lines = lines[:-1]
    return lines
