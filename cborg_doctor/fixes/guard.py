"""Which files `--fix` may touch, and reading them for an edit.

A file is edited only when all of these hold, else the one-line reason is the
plan's refusal: it is inside an allowed folder (the home, and on WSL the Windows
profile) after following symlinks; it is a regular file (or does not exist yet)
no larger than `MAX_BYTES`; as root, it belongs to root (never another user's
file); and, when written, its bytes are still those the plan was made from.
"""

from __future__ import annotations

import os
from pathlib import Path

MAX_BYTES = 1024 * 1024


class Refused(Exception):
    """The file may not be edited; the message is one clause, never the file's content."""


def _inside(path: Path, folders: tuple[Path, ...]) -> bool:
    for folder in folders:
        try:
            path.relative_to(folder.resolve())
            return True
        except (ValueError, OSError):
            continue
    return False


def target_of(path: Path, allowed: tuple[Path, ...]) -> Path:
    """The real file behind `path`, or `Refused` when it is outside the allowed folders."""
    if not _inside(path.absolute(), tuple(f.absolute() for f in allowed)) and not _inside(
            path.absolute(), allowed):
        raise Refused(f"{path} is outside your home folder")
    real = path.resolve()
    if not _inside(real, allowed):
        raise Refused(f"{path} is a symlink to {real}, outside your home folder")
    return real


def read_for_edit(path: Path, allowed: tuple[Path, ...]) -> bytes | None:
    """The file's bytes (None when it does not exist), after every safety check."""
    real = target_of(path, allowed)
    try:
        info = real.stat()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise Refused(f"{path} cannot be read ({exc.strerror})") from None
    if not real.is_file():
        raise Refused(f"{path} is not a regular file")
    if info.st_size > MAX_BYTES:
        raise Refused(f"{path} is larger than {MAX_BYTES // 1024} KiB, not a configuration file")
    if hasattr(os, "geteuid") and os.geteuid() == 0 and info.st_uid != 0:
        raise Refused(f"{path} belongs to another user and the doctor runs as root; "
                      "run it as that user")
    try:
        return real.read_bytes()
    except OSError as exc:
        raise Refused(f"{path} cannot be read ({exc.strerror})") from None


def decode(data: bytes, path: Path) -> tuple[str, bytes]:
    """(text, BOM) of a UTF-8 file; `Refused` for anything else."""
    bom = b"\xef\xbb\xbf" if data.startswith(b"\xef\xbb\xbf") else b""
    try:
        return data[len(bom):].decode("utf-8"), bom
    except UnicodeDecodeError:
        raise Refused(f"{path} is not UTF-8 text") from None
