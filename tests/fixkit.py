"""Helpers for the `--fix` tests: a temporary home's files, byte for byte, and fix runs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.doctor import DoctorRun, run_doctor

LOOPBACK = "http://127.0.0.1:9"  # config checks only: nothing is sent anywhere


def snapshot(root: Path) -> dict[str, tuple[bytes, int]]:
    """Every file under `root` (but the doctor's reports and journal): bytes and mode."""
    found = {}
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if relative.parts[0] == "reports" or not path.is_file() or path.is_symlink():
            continue
        found[str(relative)] = (path.read_bytes(), path.stat().st_mode & 0o7777)
    return found


def fix(home: Path, *args: str, env: dict[str, str] | None = None, only: str = "config.key,"
        "config.base_url,config.clients", base_url: str = LOOPBACK, stdin: str | None = None) -> DoctorRun:
    """`cborg-doctor --fix ... --json` on the config checks."""
    return run_doctor("--only", only, "--base-url", base_url, "--no-report", "--json", "--fix",
                      *args, home=home, env=env, stdin=stdin)


def fixes(run: DoctorRun) -> list[dict[str, Any]]:
    return run.json()["fixes"]


def outcomes(run: DoctorRun) -> list[tuple[str, str]]:
    return [(f["code"], f["outcome"]) for f in fixes(run)]


def undo(home: Path, env: dict[str, str] | None = None) -> DoctorRun:
    return run_doctor("--undo", home=home, env=env)


def report(run: DoctorRun) -> dict[str, Any]:
    return json.loads(run.stdout)
