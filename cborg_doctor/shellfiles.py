"""Where a variable is set: the shell start-up files that assign it, for "remove it there".

Used by config.proxy (a proxy variable to fix) and net.ipv4/6 (the proxy that is down).
"""

from __future__ import annotations

import re
from pathlib import Path

STARTUP_FILES = (".bashrc", ".bash_profile", ".bash_login", ".profile", ".zshrc", ".zshenv",
                 ".zprofile", ".config/fish/config.fish")
SYSTEM_FILES = ("/etc/environment", "/etc/profile")


def where_set(variable: str, home: Path | None) -> str:
    """Where a variable is set, for "remove it there": the shell start-up files that
    assign it (with line numbers), else "your environment"."""
    if not variable.replace("_", "").isalpha():
        return "the system proxy settings"
    pattern = re.compile(rf"^\s*(?:export\s+|set\s+-[a-z]*x[a-z]*\s+|setenv\s+)?{variable}(?:=|\s)")
    places: list[str] = []
    candidates = [(home / name, f"~/{name}") for name in STARTUP_FILES] if home else []
    candidates += [(Path(name), name) for name in SYSTEM_FILES]
    for path, shown in candidates:
        try:
            lines = path.read_text(encoding="utf-8", errors="replace").splitlines()[:5000]
        except OSError:
            continue
        places += [f"{shown} line {n}" for n, line in enumerate(lines, 1) if pattern.match(line)]
    return ", ".join(places[:3]) if places else "your shell, IDE or CI settings"
