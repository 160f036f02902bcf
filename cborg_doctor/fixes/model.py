"""What a remedy plans: file changes and steps for the person, as plain data.

A `Remedy` sits next to the `Code` it fixes (``Code(..., remedy=...)``). Given the
finding and the run's `FixContext` it returns `Plan`s: each is one thing to ask
about (one `y/n`), made of `Change`s (a file's bytes before and after, or its mode),
`NeedsYou` steps (commands only the person can run) and the environment variables
the change sets for new shells (``finding_data["reload"]``: the re-run reads them from the changed files, as a new
terminal will).
A plan that cannot be made safely is ``Plan(refused="why")``.

Finding data a remedy reads is documented on the remedy (`cborg_doctor.fixes.remedies`);
it never holds the key: a remedy re-reads the key from where the finding says it is.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..findings import Finding


def sha256(data: bytes | None) -> str | None:
    return None if data is None else "sha256:" + hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Change:
    """One file: its bytes before (None: it does not exist) and after (None: delete it)."""

    path: Path
    before: bytes | None
    after: bytes | None
    mode: int | None = None  # permission bits to set; None keeps the file's own
    shown: str = ""  # how the report names the file (``~/.bashrc``)
    summary: str = ""  # shown instead of a diff (a file that holds only the key)

    @property
    def changes_anything(self) -> bool:
        if self.before != self.after:
            return True
        if self.mode is None or self.before is None:
            return False
        try:
            return (self.path.stat().st_mode & 0o7777) != self.mode
        except OSError:
            return True


@dataclass(frozen=True)
class NeedsYou:
    """A step only the person can take (it would end their session, or needs Windows)."""

    text: str
    command: str = ""


@dataclass(frozen=True)
class Plan:
    """One remedy for one finding, asked about once."""

    code: str
    remedy: str  # what it does, one line: "set OPENAI_BASE_URL in ~/.bashrc"
    changes: tuple[Change, ...] = ()
    needs_you: tuple[NeedsYou, ...] = ()
    refused: str = ""  # why nothing can be done safely
    check: str = ""  # the check to run again afterwards
    finding_data: Mapping[str, Any] = field(default_factory=dict)

    @property
    def is_noop(self) -> bool:
        return not self.refused and not self.needs_you and not any(
            c.changes_anything for c in self.changes)


@dataclass(frozen=True)
class FixContext:
    """What remedies may look at: the run's environment, home, key and OS facts."""

    env: Mapping[str, str]
    home: Path | None
    key_source: str | None  # where the run's key came from ("file:PATH", "env:NAME")
    osfacts: Any = None
    allowed: tuple[Path, ...] = ()  # folders a change may touch (home, the Windows profile)
    cwd: Path | None = None

    def resolve(self, shown: str) -> Path | None:
        """The file a finding names as ``~/x`` or ``./x`` (config.clients' display form)."""
        for prefix, base in (("~/", self.home), ("./", self.cwd)):
            if shown.startswith(prefix) and base is not None:
                return base / shown[len(prefix):]
        return None

    def shown(self, path: Path) -> str:
        """``~/x`` for files in the home folder, the path otherwise."""
        if self.home is not None:
            try:
                return "~/" + str(path.relative_to(self.home))
            except ValueError:
                pass
        return str(path)


@dataclass(frozen=True)
class Remedy:
    """An automatic remedy: its one-line name and the function that plans it."""

    name: str
    plan: Callable[[Finding, FixContext], list[Plan]]
