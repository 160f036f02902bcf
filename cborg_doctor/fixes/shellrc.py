"""The user's shell start-up file, and the block cborg-doctor writes in it.

The file is chosen by ``$SHELL``: zsh ``~/.zshrc``, bash ``~/.bashrc``, fish
``~/.config/fish/config.fish``, anything else ``~/.profile``. Variables go in one
marked block, so a second `--fix` finds it and changes nothing::

    # >>> cborg-doctor >>> (written by `cborg-doctor --fix`; `cborg-doctor --undo` removes it)
    export OPENAI_BASE_URL=https://api.cborg.lbl.gov
    # <<< cborg-doctor <<<
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

BEGIN = "# >>> cborg-doctor >>> (written by `cborg-doctor --fix`; `cborg-doctor --undo` removes it)"
END = "# <<< cborg-doctor <<<"
CANDIDATES = (".bashrc", ".bash_profile", ".zshrc", ".zshenv", ".profile", ".config/fish/config.fish")


def startup_file(home: Path, env: Mapping[str, str]) -> Path:
    shell = Path(env.get("SHELL", "")).name
    if shell == "zsh":
        return home / ".zshrc"
    if shell == "bash":
        return home / ".bashrc"
    if shell == "fish":
        return home / ".config" / "fish" / "config.fish"
    return home / ".profile"


def is_fish(path: Path) -> bool:
    return path.suffix == ".fish"


def export_line(name: str, value: str, fish: bool) -> str:
    from .edit import quoted_like

    shown = quoted_like("", value, "shell")
    return f"set -gx {name} {shown}" if fish else f"export {name}={shown}"


def newline_of(text: str) -> str:
    return "\r\n" if "\r\n" in text else "\n"


def with_exports(text: str, exports: Mapping[str, str], fish: bool) -> str:
    """`text` with `exports` set in the cborg-doctor block (added at the end if missing)."""
    nl = newline_of(text)
    lines = text.splitlines()
    wanted = {name: export_line(name, value, fish) for name, value in exports.items()}
    begin = text.find(BEGIN)
    end = text.find(END, begin) if begin >= 0 else -1
    if begin >= 0 and end >= 0:
        # Only the block's own lines change: every byte before and after it is kept.
        inner = text[begin + len(BEGIN):end].splitlines(keepends=True)
        for name, line in wanted.items():
            pattern = re.compile(rf"^\s*(?:export\s+|set\s+-gx\s+){re.escape(name)}[=\s]")
            at = next((i for i, row in enumerate(inner) if pattern.match(row)), None)
            if at is None:
                inner.append(line + nl)
            else:
                inner[at] = line + inner[at][len(inner[at].rstrip("\r\n")):]
        return text[:begin + len(BEGIN)] + "".join(inner) + text[end:]
    block = [BEGIN, *wanted.values(), END]
    if not text:
        return nl.join(block) + nl
    sep = "" if text.endswith(("\n", "\r")) else nl
    blank = nl if lines and lines[-1].strip() else ""
    return text + sep + blank + nl.join(block) + nl
