"""Reading every configuration `config.clients` may read, into `ClientEntry` rows.

Candidates come from `clients_files` (where each tool keeps its settings, plus any
file VS Code's ``*.autoImportSettingsPath`` names); each file is read once, even when
two names lead to it, and at most `MAX_FILES` files are read per run. A file that
cannot be read or parsed becomes a `FileNote`, never an exception.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cborg_doctor.api import Severity

from .files import (
    MAX_FILES,
    Candidate,
    ReadProblem,
    ReadResult,
    Roots,
    expand_user_path,
    home_candidates,
    project_candidates,
    read_config,
    vscode_settings_files,
)
from .model import ClientEntry, KeyJudge
from .parsers import PARSERS, ConfigError, ParseInput, autoimport_paths, finish


@dataclass(frozen=True)
class FileNote:
    """A file that exists but could not be used."""

    tool: str
    path: Path
    reason: str
    severity: Severity


@dataclass
class Collection:
    """Everything read in one run: setups, files, and the files that could not be used."""

    entries: list[ClientEntry] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)
    notes: list[FileNote] = field(default_factory=list)
    world_readable: dict[Path, int] = field(default_factory=dict)


def _problem_note(candidate: Candidate, problem: ReadProblem) -> FileNote:
    severity = Severity.WARN if problem.severity == "warn" else Severity.INFO
    return FileNote(candidate.tool, candidate.path, problem.reason, severity)


def _roo_import_candidates(roots: Roots, env: Mapping[str, str], seen: set[Path],
                           budget: list[int]) -> list[Candidate]:
    """Settings files named by VS Code's ``*.autoImportSettingsPath``."""
    if roots.home is None:
        return []
    found: list[Candidate] = []
    for settings in vscode_settings_files(roots.home, env):
        result = _read_once(Candidate("VS Code", settings, ""), roots, seen, budget)
        if result is None or result.text is None:
            continue
        try:
            pairs = autoimport_paths(result.text)
        except ConfigError:
            continue  # VS Code's own settings are not ours to judge
        for tool, value in pairs:
            path = expand_user_path(value, roots.home, settings.parent)
            if path is not None:
                found.append(Candidate(tool, path, "roo_export"))
    return found


def _read_once(candidate: Candidate, roots: Roots, seen: set[Path],
               budget: list[int]) -> ReadResult | None:
    """Read a file unless it was read already (by another name) or the budget is spent."""
    try:
        real = candidate.path.resolve()
    except (OSError, RuntimeError):
        real = candidate.path
    if real in seen or budget[0] <= 0:
        return None
    result = read_config(candidate.path, roots)
    if result is None:
        return None
    seen.add(real)
    budget[0] -= 1
    return result


def collect(roots: Roots, env: Mapping[str, str], judge: KeyJudge,
            deadline: float | None = None) -> Collection:
    """Find and parse every configuration this run may read."""
    out = Collection()
    seen: set[Path] = set()
    budget = [MAX_FILES]
    shared: dict[str, Any] = {}
    candidates: list[Candidate] = []
    if roots.home is not None:
        candidates += home_candidates(roots.home, env)
    candidates += project_candidates(roots.home, roots.cwd)
    candidates += _roo_import_candidates(roots, env, seen, budget)
    for candidate in candidates:
        if deadline is not None and time.monotonic() > deadline:
            break
        result = _read_once(candidate, roots, seen, budget)
        if result is None:
            continue
        if result.problem is not None or result.text is None:
            out.notes.append(_problem_note(candidate, result.problem or ReadProblem("is empty")))
            continue
        inp = ParseInput(result.text, candidate.path, candidate.tool, judge, env, shared)
        try:
            entries = PARSERS[candidate.parser](inp)
        except ConfigError as exc:
            where = f" (line {exc.line})" if exc.line else ""
            out.notes.append(FileNote(candidate.tool, candidate.path,
                                      f"is not valid{where}: {exc}", Severity.WARN))
            continue
        out.files.append(candidate.path)
        out.entries += entries
        if result.world_readable:
            out.world_readable[candidate.path] = result.mode
    out.entries += finish(shared, env, judge)
    return out
