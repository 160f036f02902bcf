"""The check registry: load checks from entry points, order them, select a subset.

Built-in checks and plugins arrive the same way, through the entry-point group
``cborg_doctor.checks``. An entry point names a `Check`, an iterable of checks,
or a callable returning either. A plugin that fails to load becomes an `error`
result in the report rather than breaking the run.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .check import Check
from .findings import Code

ENTRY_POINT_GROUP = "cborg_doctor.checks"


class SelectionError(ValueError):
    """`--only`/`--skip` named a check that does not exist (exit 2)."""


@dataclass(frozen=True)
class LoadProblem:
    """An entry point that could not be turned into checks."""

    source: str
    reason: str


@dataclass(frozen=True)
class Registry:
    """The checks of this installation, in run order."""

    checks: tuple[Check, ...]
    problems: tuple[LoadProblem, ...] = field(default=())

    @property
    def ids(self) -> list[str]:
        return [check.id for check in self.checks]

    def get(self, check_id: str) -> Check | None:
        return next((c for c in self.checks if c.id == check_id), None)

    def codes(self) -> dict[str, tuple[Check, Code]]:
        """Every finding code any check declares, with the check that owns it."""
        owned: dict[str, tuple[Check, Code]] = {}
        for check in self.checks:
            for code in check.codes:
                owned.setdefault(code.code, (check, code))
        return owned

    def select(self, only: Iterable[str] = (), skip: Iterable[str] = ()) -> list[Check]:
        """The checks to run: `only` plus everything they need, minus `skip`."""
        only, skip = list(only), list(skip)
        unknown = [i for i in (*only, *skip) if self.get(i) is None]
        if unknown:
            raise SelectionError(
                f"unknown check id {', '.join(unknown)}; valid ids: {', '.join(self.ids)}"
            )
        wanted = set(self.ids)
        if only:
            wanted = set()
            pending = list(only)
            while pending:
                check = self.get(pending.pop())
                if check is None or check.id in wanted:
                    continue
                wanted.add(check.id)
                pending.extend(i for group in check.needed_groups() for i in group)
        wanted -= set(skip)
        return [c for c in self.checks if c.id in wanted]


def order_checks(checks: Iterable[Check]) -> list[Check]:
    """Prerequisites (`needs` and `uses`) first; among ready checks, lowest `order`, then
    registration order."""
    pending = list(checks)
    ids = {c.id for c in pending}
    placed: list[Check] = []
    done: set[str] = set()
    while pending:
        ready = [
            c
            for c in pending
            if all(any(i in done or i not in ids for i in group) for group in c.needed_groups())
            and all(i in done or i not in ids for i in c.uses)
        ]
        if not ready:  # a cycle: keep registration order rather than refuse to run
            ready = pending
        nxt = min(ready, key=lambda c: (c.order, pending.index(c)))
        pending.remove(nxt)
        placed.append(nxt)
        done.add(nxt.id)
    return placed


def _as_checks(obj: Any) -> list[Check]:
    if callable(obj) and not isinstance(obj, Check):
        obj = obj()
    if isinstance(obj, Check):
        return [obj]
    if isinstance(obj, Iterable) and not isinstance(obj, (str, bytes)):
        items = list(obj)
        if all(isinstance(item, Check) for item in items):
            return items
    raise TypeError(f"expected a Check or checks, got {type(obj).__name__}")


def build_registry(sources: Iterable[tuple[str, Any]]) -> Registry:
    """Make a registry from (name, loader) pairs; a loader returns the entry point's object."""
    checks: list[Check] = []
    problems: list[LoadProblem] = []
    seen: set[str] = set()
    for name, load in sources:
        try:
            loaded = _as_checks(load())
        except Exception as exc:  # a broken plugin must not break the doctor
            problems.append(LoadProblem(name, f"{type(exc).__name__}: {exc}"))
            continue
        for check in loaded:
            if check.id in seen:
                problems.append(LoadProblem(name, f"check id {check.id!r} is already registered"))
                continue
            seen.add(check.id)
            checks.append(check)
    return Registry(tuple(order_checks(checks)), tuple(problems))


def load_registry() -> Registry:
    """The registry of this installation, from the ``cborg_doctor.checks`` entry points."""
    from importlib.metadata import entry_points

    found = sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: (ep.value, ep.name))
    return build_registry((f"{ep.name} ({ep.value})", ep.load) for ep in found)


def closest(word: str, choices: Iterable[str], n: int = 3) -> list[str]:
    """Near matches for a mistyped id, code or model name."""
    pool = list(choices)
    upper = {c.upper(): c for c in pool}
    hits = difflib.get_close_matches(word.upper(), list(upper), n=n, cutoff=0.5)
    return [upper[h] for h in hits]
