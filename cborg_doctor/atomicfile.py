"""Writing a file whole or not at all: the one temp-file + fsync + rename the doctor uses.

Reports (`reportfiles.write_atomic`) and `--fix` changes, backups and the journal
(`fixes.journal.write_bytes_atomic`) all go through `replace_atomically`, so a run
killed mid-write leaves the previous file intact and no half-written one.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def replace_atomically(path: Path, data: bytes, *, mode: int | None = None,
                       uid: int | None = None, gid: int | None = None,
                       suffix: str = ".tmp") -> None:
    """Temp file beside `path` (mode and owner set when given), fsync, rename over `path`."""
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=suffix)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            if mode is not None:
                os.fchmod(handle.fileno(), mode)
            if uid is not None and hasattr(os, "fchown"):
                with contextlib.suppress(OSError):
                    os.fchown(handle.fileno(), uid, gid if gid is not None else -1)
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
