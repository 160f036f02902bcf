"""Writing a change atomically, with a backup and a journal entry that `--undo` reads.

Each `--fix` run that changes a file gets a folder under the report folder::

    <report folder>/fixes/20261201-161500-4242/journal.json
    <report folder>/fixes/20261201-161500-4242/0.bak, 1.bak ...

The journal lists, per file, its path, the sha256 before and after, the mode
before and after and the backup's name (none when the file did not exist).

A backup never holds a key: every key-shaped token (``sk-...``) of the old file is
replaced by a marker, and the journal says where to find it again at `--undo`:
at an offset of the file as the fix left it (the cleaned key file still holds the
key), or in an environment variable whose sha256 it records (a key the fix
replaced by ``{env:CBORG_API_KEY}``). The restored bytes must have the old sha256.
`--undo` takes the newest journal not yet undone, restores each file byte for
byte when it still has the "after" bytes, and refuses that file (one line) when
it has changed since; then it renames the journal ``journal.undone.json``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

from ..atomicfile import replace_atomically
from ..reportfiles import default_report_dir
from .model import Change, sha256

JOURNAL = "journal.json"
_KEYISH = re.compile(rb"sk-[A-Za-z0-9_\-]{8,}")


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def without_keys(before: bytes, after: bytes | None, env: Mapping[str, str]
                 ) -> tuple[bytes, list[dict[str, object]]]:
    """`before` with its keys replaced by markers, and where each one is found again."""
    template, found = before, []
    env_values = {v.strip().encode(): n for n, v in env.items() if v.strip().startswith("sk-")}
    for secret in sorted(set(_KEYISH.findall(before)), key=len, reverse=True):
        if after is not None and secret in after:
            where: dict[str, object] = {"after_offset": after.index(secret)}
        elif secret in env_values:
            where = {"env": env_values[secret]}
        else:
            continue  # not the user's key and not kept anywhere: it stays in the 0600 backup
        marker = b"\x00cborg-doctor-key-%d\x00" % len(found)
        template = template.replace(secret, marker)
        found.append({**where, "length": len(secret), "sha256": _digest(secret)})
    return template, found


def with_keys(template: bytes, found: list[dict[str, object]], after: bytes | None,
              env: Mapping[str, str]) -> bytes | None:
    """The old bytes again, or None when a key cannot be found where the journal says."""
    for index, where in enumerate(found):
        length = int(where["length"])  # type: ignore[call-overload]
        if "after_offset" in where and after is not None:
            start = int(where["after_offset"])  # type: ignore[call-overload]
            secret = after[start:start + length]
        else:
            secret = env.get(str(where.get("env")), "").strip().encode()
        if _digest(secret) != where["sha256"]:
            return None
        template = template.replace(b"\x00cborg-doctor-key-%d\x00" % index, secret)
    return template
UNDONE = "journal.undone.json"


def fixes_dir(env: Mapping[str, str]) -> Path:
    return default_report_dir(env) / "fixes"


def write_bytes_atomic(path: Path, data: bytes, mode: int, uid: int | None, gid: int | None) -> None:
    """Temp file in the same folder, same mode and owner, fsync, rename: whole or not at all."""
    replace_atomically(path, data, mode=mode, uid=uid, gid=gid, suffix=".cborg-doctor")


def planned_modes(change: Change, real: Path) -> tuple[int | None, int | None]:
    """(mode before, mode after) of the file: its own mode is kept unless the change sets one."""
    try:
        mode_before: int | None = real.stat().st_mode & 0o7777
    except FileNotFoundError:
        mode_before = None
    if change.after is None:
        return mode_before, None
    return mode_before, change.mode if change.mode is not None else (mode_before or 0o600)


def apply_change(change: Change, real: Path) -> None:
    """Make the change on disk: atomic, the owner kept."""
    mode_before, mode_after = planned_modes(change, real)
    if change.after is None:
        real.unlink()
        return
    assert mode_after is not None
    if change.after == change.before and mode_before is not None:
        os.chmod(real, mode_after)
        return
    try:
        info = real.stat()
        uid, gid = info.st_uid, info.st_gid
    except FileNotFoundError:
        uid, gid = None, None
    real.parent.mkdir(parents=True, exist_ok=True)
    write_bytes_atomic(real, change.after, mode_after, uid, gid)


class Journal:
    """One `--fix` run's backups and journal, created on the first change."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self._env = env
        self._folder: Path | None = None
        self._entries: list[dict[str, object]] = []

    @property
    def folder(self) -> Path | None:
        return self._folder

    def _open(self) -> Path:
        if self._folder is None:
            stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
            folder = fixes_dir(self._env) / f"{stamp}-{os.getpid()}"
            folder.mkdir(parents=True, exist_ok=True)
            os.chmod(folder, 0o700)  # backups hold what the files held
            self._folder = folder
        return self._folder

    def record(self, change: Change, real: Path, modes: tuple[int | None, int | None]) -> None:
        folder = self._open()
        backup, keys = None, []
        if change.before is not None:
            backup = f"{len(self._entries)}.bak"
            template, keys = without_keys(change.before, change.after, self._env)
            write_bytes_atomic(folder / backup, template, 0o600, None, None)
        self._entries.append({
            "path": str(real), "shown": change.shown, "before": sha256(change.before),
            "after": sha256(change.after), "mode_before": modes[0], "mode_after": modes[1],
            "backup": backup, "keys": keys,
        })
        text = json.dumps({"entries": self._entries}, indent=2) + "\n"
        write_bytes_atomic(folder / JOURNAL, text.encode(), 0o600, None, None)


def latest(env: Mapping[str, str]) -> Path | None:
    root = fixes_dir(env)
    try:
        folders = sorted((p for p in root.iterdir() if (p / JOURNAL).is_file()),
                         key=lambda p: p.stat().st_mtime)
    except OSError:
        return None
    return folders[-1] if folders else None


def _current(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def undo(env: Mapping[str, str]) -> tuple[list[str], bool]:
    """Restore the last `--fix`'s files. Returns (lines to print, everything restored)."""
    folder = latest(env)
    if folder is None:
        return ["Nothing to undo: no --fix has changed a file (or it was undone already)."], True
    entries = json.loads((folder / JOURNAL).read_text(encoding="utf-8"))["entries"]
    lines: list[str] = []
    ok = True
    kept: list[dict[str, object]] = []
    for entry in reversed(entries):
        path, shown = Path(entry["path"]), entry.get("shown") or entry["path"]
        now = _current(path)
        if sha256(now) != entry["after"] or (
                now is not None and entry["mode_after"] is not None
                and path.stat().st_mode & 0o7777 != entry["mode_after"]
                and entry["before"] == entry["after"]):
            lines.append(f"refused: {shown} changed since the fix; left as it is "
                         f"(its old version is {folder / entry['backup']})" if entry["backup"]
                         else f"refused: {shown} changed since the fix; left as it is")
            ok = False
            kept.insert(0, entry)
            continue
        if entry["backup"] is None:
            path.unlink(missing_ok=True)
            lines.append(f"restored: {shown} (removed: it did not exist before the fix)")
            continue
        data = with_keys((folder / entry["backup"]).read_bytes(), entry.get("keys") or [], now, env)
        if data is None or sha256(data) != entry["before"]:
            lines.append(f"refused: {shown}: the key it held cannot be found again (set the "
                         "variable it came from, e.g. CBORG_API_KEY, and run --undo again)")
            ok = False
            kept.insert(0, entry)
            continue
        info = path.stat() if now is not None else None
        write_bytes_atomic(path, data, entry["mode_before"] if entry["mode_before"] is not None
                           else 0o600, info.st_uid if info else None, info.st_gid if info else None)
        lines.append(f"restored: {shown}")
    if ok:
        os.replace(folder / JOURNAL, folder / UNDONE)
    else:  # a later --undo tries again only what was refused
        text = json.dumps({"entries": kept}, indent=2) + "\n"
        write_bytes_atomic(folder / JOURNAL, text.encode(), 0o600, None, None)
    return lines, ok
