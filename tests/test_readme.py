"""The README's set-up commands: what CI runs, and what works on a stock Debian/Ubuntu Python."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def setup_commands() -> list[str]:
    block = re.search(r"```sh\n(.*?)```", (ROOT / "README.md").read_text(encoding="utf-8"), re.S)
    assert block is not None
    return block.group(1).strip().splitlines()


def test_ci_runs_exactly_the_readme_test_command() -> None:
    _, second = setup_commands()
    commands = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()
                if line.strip() and not line.strip().startswith("#")]
    assert second in commands
    assert second == "python3 -m venv .venv && .venv/bin/pip install -e '.[test]' && .venv/bin/python -m pytest"


def test_setup_commands_never_pip_install_into_the_system_python() -> None:
    # PEP 668: Debian 12 / Ubuntu 24.04 refuse `python3 -m pip install` outside a virtual environment.
    for command in setup_commands():
        assert command.startswith("python3 -m venv ")
        assert "python3 -m pip install" not in command and "--break-system-packages" not in command
        venv = command.split()[3]
        assert f"{venv}/bin/pip install" in command


def test_ci_installs_the_browser_and_terminal_the_tests_use() -> None:
    text = (ROOT / ".ci" / "run").read_text()
    apt = re.search(r"apt-get install[^\n]*\\\n([^\n]*)", text)
    assert apt is not None
    assert {"iproute2", "nftables", "chromium", "tmux", "python3-venv"} <= set(apt.group(1).split())
