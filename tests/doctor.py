"""Run the real `cborg-doctor` as a user would, in a clean, loopback-only environment.

Every test that runs the doctor goes through `run_doctor`: a subprocess with a
fresh HOME, no proxy variables, reports in a temporary folder, and a hard
timeout so a hang fails the test instead of freezing the suite.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Variables from the developer's shell that would change what the doctor sees.
_DROPPED = (
    "CBORG_API_KEY", "OPENAI_API_KEY", "CBORG_BASE_URL", "OPENAI_BASE_URL", "OPENAI_API_BASE",
    "HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "NO_PROXY", "https_proxy", "http_proxy",
    "all_proxy", "no_proxy", "SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE", "CI", "GITHUB_ACTIONS", "GITHUB_STEP_SUMMARY", "NO_COLOR",
    "WSL_DISTRO_NAME", "WSL_INTEROP",
)


@dataclass
class DoctorRun:
    code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def json(self) -> dict[str, Any]:
        return json.loads(self.stdout)


def clean_env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _DROPPED}
    env.update(
        HOME=str(home),
        CBORG_DOCTOR_REPORT_DIR=str(home / "reports"),
        PYTHONDONTWRITEBYTECODE="1",
        COLUMNS="120",
        TERM="dumb",
    )
    env.update(extra)
    return env


def run_doctor(
    *args: str,
    home: Path,
    env: dict[str, str] | None = None,
    timeout: float = 120,
    cwd: Path | None = None,
    stdin: str | None = None,
) -> DoctorRun:
    """`python -m cborg_doctor ARGS`; `env` adds to the clean environment."""
    full_env = clean_env(home, **(env or {}))
    proc = subprocess.run(
        [sys.executable, "-m", "cborg_doctor", *args],
        env=full_env,
        cwd=str(cwd or home),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return DoctorRun(proc.returncode, proc.stdout, proc.stderr)
