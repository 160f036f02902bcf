"""`--fix` at a terminal: each remedy is shown, then asked about (y / n / a / q) on a real pty."""

from __future__ import annotations

import json
import os
import pty
import select
import signal
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from tests.doctor import clean_env
from tests.fixkit import LOOPBACK
from tests.test_fix_cli import LBL_OPENCODE, _write

PROMPT = b"Apply this change? [y]es / [n]o / [a]ll / [q]uit: "
CTRL_C = "\x03"  # typed on the terminal: its line discipline sends SIGINT to the doctor
SIGTERM = "SIGTERM"  # not typed: the signal is sent to the doctor


def _own_terminal() -> None:
    """In the child: the pty becomes its controlling terminal, so Ctrl-C there is a real SIGINT."""
    import fcntl

    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def answer_on_terminal(home: Path, answers: list[str], env: dict[str, str],
                       timeout: float = 60) -> tuple[int, str, int]:
    """Run `--fix` on a pty, typing one answer at each prompt: (exit code, output, prompts seen)."""
    report = home / "fix.json"
    master, child = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "cborg_doctor", "--only", "config.clients", "--base-url", LOOPBACK,
         "--report", str(report), "--fix", "--no-color"],
        env=clean_env(home, **{"TERM": "xterm-256color", **env}),
        stdin=child, stdout=child, stderr=child, cwd=str(home),
        start_new_session=True, preexec_fn=_own_terminal)
    os.close(child)
    output, prompts, deadline = b"", 0, time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:
                    break
                if not chunk:
                    break
                output += chunk
                if output.count(PROMPT) > prompts:
                    prompts += 1
                    answer = answers.pop(0) if answers else "q"
                    if answer == SIGTERM:
                        proc.send_signal(signal.SIGTERM)
                    else:
                        os.write(master, answer.encode() + (b"" if answer == CTRL_C else b"\n"))
            elif proc.poll() is not None:
                break
    finally:
        os.close(master)
        proc.wait(timeout=10)
    text = output.decode("utf-8", "replace")
    return proc.returncode, text, prompts


def _fixes(home: Path) -> list[tuple[str, str]]:
    data = json.loads((home / "fix.json").read_text())
    return [(f["remedy"].split(" ")[0], f["outcome"]) for f in data["fixes"]]


@pytest.fixture
def opencode(home: Path, canary_key: str) -> Path:
    return _write(home / ".config/opencode/opencode.json", LBL_OPENCODE.format(key=canary_key), 0o644)


def test_no_then_yes_then_quit(home: Path, opencode: Path, canary_key: str) -> None:
    before = opencode.read_bytes()
    code, text, prompts = answer_on_terminal(home, ["n", "y", "q"], {"CBORG_API_KEY": canary_key})
    assert prompts == 3, text
    assert '+        "baseURL": "https://api.cborg.lbl.gov/v1",' in text  # shown before asking
    assert _fixes(home) == [("set", "declined"), ("chmod", "fixed"), ("in", "declined")]
    assert opencode.read_bytes() == before and opencode.stat().st_mode & 0o777 == 0o600
    assert canary_key not in text
    assert code == 1  # the base URL is still wrong


def test_all_applies_the_rest_without_asking_again(home: Path, opencode: Path, canary_key: str) -> None:
    code, text, prompts = answer_on_terminal(home, ["a"], {"CBORG_API_KEY": canary_key})
    assert prompts == 1, text
    assert _fixes(home) == [("set", "fixed"), ("chmod", "fixed"), ("in", "fixed")]
    assert '"apiKey": "{env:CBORG_API_KEY}"' in opencode.read_text()
    assert canary_key not in text and canary_key not in (home / "fix.json").read_text()
    assert code == 0


def test_an_unknown_answer_asks_again(home: Path, opencode: Path, canary_key: str) -> None:
    _, text, prompts = answer_on_terminal(home, ["maybe", "", "y", "n", "n"], {"CBORG_API_KEY": canary_key})
    assert prompts == 5, text
    assert _fixes(home) == [("set", "fixed"), ("chmod", "declined"), ("in", "declined")]


def test_ctrl_c_at_a_prompt_keeps_what_was_applied_and_writes_the_report(
        home: Path, opencode: Path, canary_key: str) -> None:
    code, text, prompts = answer_on_terminal(home, ["y", CTRL_C], {"CBORG_API_KEY": canary_key})
    assert prompts == 2, text
    assert code == 130, text
    report = (home / "fix.json").read_text()
    data = json.loads(report)  # whole, not half-written
    assert data["interrupted"] == "SIGINT"
    assert _fixes(home) == [("set", "needs you"), ("chmod", "declined"), ("in", "declined")]
    assert "interrupted by SIGINT" in data["fixes"][1]["detail"]
    assert '"baseURL": "https://api.cborg.lbl.gov/v1"' in opencode.read_text()  # the applied one stays
    assert canary_key in opencode.read_text()  # the declined key move was not made
    assert "Report:" in text and "Traceback" not in text
    assert canary_key not in text and canary_key not in report


def test_ctrl_c_at_the_first_prompt_changes_nothing(home: Path, opencode: Path, canary_key: str) -> None:
    before = opencode.read_bytes()
    code, text, prompts = answer_on_terminal(home, [CTRL_C], {"CBORG_API_KEY": canary_key})
    assert (code, prompts) == (130, 1), text
    assert [outcome for _, outcome in _fixes(home)] == ["declined"] * 3
    assert opencode.read_bytes() == before
    assert canary_key not in text and canary_key not in (home / "fix.json").read_text()


def test_sigterm_at_a_prompt_writes_the_report_and_exits_143(home: Path, opencode: Path,
                                                             canary_key: str) -> None:
    code, text, prompts = answer_on_terminal(home, [SIGTERM], {"CBORG_API_KEY": canary_key})
    assert (code, prompts) == (143, 1), text
    data = json.loads((home / "fix.json").read_text())
    assert data["interrupted"] == "SIGTERM"
    assert [f["outcome"] for f in data["fixes"]] == ["declined"] * 3
