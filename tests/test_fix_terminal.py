"""`--fix` at a terminal: each remedy is shown, then asked about (y / n / a / q) on a real pty."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.doctor import clean_env
from tests.fixkit import LOOPBACK
from tests.test_fix_cli import LBL_OPENCODE, _write

PROMPT = b"Apply this change? [y]es / [n]o / [a]ll / [q]uit: "


def answer_on_terminal(home: Path, answers: list[str], env: dict[str, str],
                       timeout: float = 60) -> tuple[int, str, int]:
    """Run `--fix` on a pty, typing one answer at each prompt: (exit code, output, prompts seen)."""
    report = home / "fix.json"
    master, child = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "cborg_doctor", "--only", "config.clients", "--base-url", LOOPBACK,
         "--report", str(report), "--fix", "--no-color"],
        env=clean_env(home, **{"TERM": "xterm-256color", **env}),
        stdin=child, stdout=child, stderr=child, cwd=str(home))
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
                    os.write(master, (answers.pop(0) if answers else "q").encode() + b"\n")
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
