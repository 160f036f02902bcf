"""Where reports go, and writing them whole or not at all.

Every target is checked before any check runs (folder exists, a file can be
created there), so a long run never ends with "cannot write report". Writes go
to a temporary file in the same folder and are renamed into place.

Default place (without --report/--no-report), a new file per run:
  $CBORG_DOCTOR_REPORT_DIR, else
  Linux:   $XDG_STATE_HOME/cborg-doctor (default ~/.local/state/cborg-doctor)
  macOS:   ~/Library/Logs/cborg-doctor
  Windows: %LOCALAPPDATA%\\cborg-doctor\\reports
  and the system's temporary folder when none of those can be created.
Only the newest `KEEP_DEFAULT_REPORTS` default reports are kept there (older
ones are removed when a new run starts); reports written with --report are
never touched.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

from .atomicfile import replace_atomically
from .options import ReportFormat


class ReportPathError(ValueError):
    """A --report path that cannot be used (exit 2)."""


def format_for(path: str) -> ReportFormat:
    suffix = Path(path).suffix.lower()
    for fmt in ReportFormat:
        if fmt.value == suffix:
            return fmt
    known = ", ".join(f.value for f in ReportFormat)
    raise ReportPathError(f"--report {path}: unknown report type {suffix or '(none)'!r}; use {known}")


def check_writable(path: str) -> None:
    """Fail now, before any check runs, if `path` cannot be written."""
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    if target.is_dir():
        raise ReportPathError(f"--report {path}: is a directory")
    if not folder.is_dir():
        raise ReportPathError(f"--report {path}: folder {folder} does not exist")
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".cborg-doctor-", delete=True):
            pass
    except OSError as exc:
        raise ReportPathError(
            f"--report {path}: cannot write in {folder} ({exc.strerror or exc})"
        ) from None


def default_report_dir(env: Mapping[str, str]) -> Path:
    if env.get("CBORG_DOCTOR_REPORT_DIR"):
        return Path(env["CBORG_DOCTOR_REPORT_DIR"])
    home = env.get("HOME") or env.get("USERPROFILE")
    if sys.platform == "win32" and env.get("LOCALAPPDATA"):
        return Path(env["LOCALAPPDATA"]) / "cborg-doctor" / "reports"
    if sys.platform == "darwin" and home:
        return Path(home) / "Library" / "Logs" / "cborg-doctor"
    if env.get("XDG_STATE_HOME"):
        return Path(env["XDG_STATE_HOME"]) / "cborg-doctor"
    if home:
        return Path(home) / ".local" / "state" / "cborg-doctor"
    return Path(tempfile.gettempdir()) / "cborg-doctor"


KEEP_DEFAULT_REPORTS = 20
_DEFAULT_NAME = re.compile(r"^cborg-doctor-\d{8}-\d{6}-\d+\.md$")


def prune_default_reports(folder: Path, keep: int = KEEP_DEFAULT_REPORTS) -> list[Path]:
    """Remove all but the newest `keep` default reports in `folder`; returns what was removed."""
    try:
        found = [p for p in folder.iterdir() if _DEFAULT_NAME.match(p.name) and p.is_file()]
    except OSError:
        return []
    found.sort(key=lambda p: (p.name[13:28], p.stat().st_mtime), reverse=True)
    removed = []
    for old in found[keep:]:
        with contextlib.suppress(OSError):
            old.unlink()
            removed.append(old)
    return removed


def default_report_path(env: Mapping[str, str], now: datetime | None = None) -> Path:
    """A new file name per run: two doctors started together never share one."""
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
    name = f"cborg-doctor-{stamp}-{os.getpid()}.md"
    for folder in (default_report_dir(env), Path(tempfile.gettempdir()) / "cborg-doctor"):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            check_writable(str(folder / name))
        except (OSError, ReportPathError):
            continue
        prune_default_reports(folder, KEEP_DEFAULT_REPORTS - 1)  # with this run's: the last 20
        return folder / name
    raise ReportPathError("no writable folder for the default report; use --report PATH")


def write_atomic(path: Path, text: str) -> None:
    """Write to a temporary file beside `path`, then rename: whole or not at all."""
    replace_atomically(path, text.encode("utf-8"))
