"""`--version`'s text: what a bug report needs, read without importing anything heavy.

`cborg_doctor.entry` answers ``--version`` with this before the CLI (argparse,
dataclasses, the options) is imported, so it starts about as fast as the interpreter.
"""

from __future__ import annotations

import sys

from . import __version__

PROG = "cborg-doctor"


def _installed_version(name: str) -> str | None:
    """A distribution's version from its ``NAME-VERSION.dist-info`` folder name.

    Reading the folder names on sys.path costs a few stat calls; importlib.metadata
    costs more than the rest of ``--version`` together.
    """
    import os

    prefix = f"{name.lower()}-"
    for folder in sys.path:
        try:
            entries = os.listdir(folder or ".")
        except OSError:
            continue
        for entry in entries:
            if entry.lower().startswith(prefix) and entry.endswith(".dist-info"):
                return entry[len(prefix):-len(".dist-info")]
    return None


def version_text() -> str:
    """``--version``: what a bug report needs, read without importing httpx or rich."""
    import platform

    httpx_version = _installed_version("httpx") or "not installed"
    system = f"{platform.system()} {platform.release()} ({platform.machine()})"
    try:
        with open("/etc/os-release", encoding="utf-8") as handle:
            pretty = next((line.split("=", 1)[1].strip().strip('"') for line in handle
                           if line.startswith("PRETTY_NAME=")), "")
        system += f", {pretty}" if pretty else ""
    except OSError:
        pass
    return (f"{PROG} {__version__}\n"
            f"Python {platform.python_version()} ({platform.python_implementation()}, {sys.executable})\n"
            f"httpx {httpx_version}\n"
            f"OS {system}")
