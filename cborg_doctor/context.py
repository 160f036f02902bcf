"""One run's context: options, environment snapshot, key, target, results so far.

Built once per run and passed to every check: there is no module-level state.
Checks read earlier results with `result(id)` and leave typed facts for later
checks (resolved addresses, egress IPs, ...: `cborg_doctor.facts`) with
`share()`; both are safe to use from checks that run at the same time.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

from .check import CheckResult
from .facts import Fact
from .options import Options
from .secrets import ApiKey, KeyResolution, Scrubber
from .target import Target
from .timeouts import Deadline, Timeouts

T = TypeVar("T")


@dataclass
class RunContext:
    """Passed to every check. Only the runner adds results."""

    options: Options
    env: Mapping[str, str]
    key_resolution: KeyResolution
    target: Target
    home: Path | None = None
    cwd: Path | None = None
    osfacts: Any = None  # platform checks' source of OS facts; tests pass recorded ones
    # This check's own deadline: the runner gives each check a fresh one as it starts
    # (a copy of the context sharing results and facts); outside a run, one bound from now.
    deadline: Deadline = field(default_factory=lambda: Deadline(0.0))
    # Set by the runner on Ctrl-C/SIGTERM: a long check (repeat) stops and returns what it has.
    stopping: threading.Event = field(default_factory=threading.Event, repr=False)
    # This check's progress line (a spinner's text); set by the runner for each check.
    on_progress: Callable[[str], None] | None = field(default=None, repr=False)
    _checks: dict[str, Any] = field(default_factory=dict, repr=False)  # the run's, by id
    _results: dict[str, CheckResult] = field(default_factory=dict, repr=False)
    _facts: dict[str, Any] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def key(self) -> ApiKey | None:
        return self.key_resolution.key

    def __post_init__(self) -> None:
        if not self.deadline.seconds:
            self.deadline = self.timeouts.deadline()

    @property
    def timeout(self) -> float:
        """The limit for one network operation (`--timeout`)."""
        return self.options.timeout

    @property
    def timeouts(self) -> Timeouts:
        """Every limit of the run (see `cborg_doctor.timeouts`)."""
        return self.options.timeouts

    def for_check(
        self, bound: float | None = None, on_progress: Callable[[str], None] | None = None
    ) -> RunContext:
        """The context one check runs with: the same results, facts and stop signal; its
        own deadline (`bound`, default `Timeouts.check`) and progress line."""
        return replace(self, deadline=self.timeouts.deadline(bound), on_progress=on_progress)

    def progress(self, text: str) -> None:
        """Say how far a long check is (shown beside the spinner on a terminal only)."""
        if self.on_progress is not None:
            self.on_progress(text)

    def rerun(self, check_id: str) -> Any:
        """Run a check of this run again (``repeat`` reruns ``live``) with a fresh deadline;
        None when it is not part of the run or its result was not usable."""
        with self._lock:
            check = self._checks.get(check_id)
            done = self._results.get(check_id)
        if check is None or done is None or not done.usable:
            return None
        return check.run(self.for_check())

    def take_part(self, checks: Iterable[Any]) -> None:
        """The runner names the run's checks (for `rerun`)."""
        with self._lock:
            self._checks.update({c.id: c for c in checks})

    @property
    def scrub(self) -> Scrubber:
        from .probes.proxy import passwords

        return Scrubber(self.key, passwords(self.env))

    def result(self, check_id: str) -> CheckResult | None:
        with self._lock:
            return self._results.get(check_id)

    def results(self) -> dict[str, CheckResult]:
        with self._lock:
            return dict(self._results)

    def add_result(self, result: CheckResult) -> None:
        with self._lock:
            self._results[result.id] = result

    def share(self, fact: Fact[T], value: T) -> None:
        """Leave a fact for later checks, e.g. ``share(facts.DNS_ADDRESSES, {...})``."""
        if not isinstance(fact, Fact):
            raise TypeError(f"facts are cborg_doctor.facts.Fact constants, not {fact!r}")
        with self._lock:
            self._facts[fact.name] = value

    def fact(self, fact: Fact[T]) -> T | None:
        """A fact an earlier check left, or None."""
        if not isinstance(fact, Fact):
            raise TypeError(f"facts are cborg_doctor.facts.Fact constants, not {fact!r}")
        with self._lock:
            return self._facts.get(fact.name)


def snapshot_environment() -> dict[str, str]:
    """A copy of the environment as valid text.

    Bytes that are not UTF-8 (a broken locale, a binary paste) arrive as lone
    surrogates; they become U+FFFD so the checks can name them instead of
    every later print failing.
    """
    clean: dict[str, str] = {}
    for name, value in os.environ.items():
        clean[_as_text(name)] = _as_text(value)
    return clean


def _as_text(value: str) -> str:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return value


def home_directory(env: Mapping[str, str]) -> Path | None:
    """The user's home, or None when it cannot be known (HOME unset, no passwd entry)."""
    home = env.get("HOME") or env.get("USERPROFILE")
    if home:
        return Path(home)
    try:
        return Path.home()
    except (RuntimeError, KeyError, OSError):
        return None


def current_directory() -> Path | None:
    try:
        return Path.cwd()
    except OSError:  # the directory was deleted under us
        return None
