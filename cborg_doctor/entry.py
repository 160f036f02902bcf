"""The `cborg-doctor` command: ``--version`` is answered before the CLI is imported."""

from __future__ import annotations

import sys


def main() -> int:
    if sys.argv[1:] == ["--version"]:
        from .version import version_text

        sys.stdout.write(version_text() + "\n")
        return 0
    from .cli import main as run

    return run()
