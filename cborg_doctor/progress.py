"""Live progress on the terminal: results print in run order as soon as they can.

A check's block prints once it and every check before it have finished, so the
output reads the same on every run. While checks run, a spinner line names
them (only on an interactive terminal; CI logs and pipes get plain lines).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING

from .check import Check, CheckResult
from .formats.console import View, render_check

if TYPE_CHECKING:
    from rich.console import Console
    from rich.live import Live


class ConsoleProgress:
    """A `runner.Listener` that renders to a rich console."""

    def __init__(self, console: Console, checks: Sequence[Check], view: View | bool = False) -> None:
        self._console = console
        self._order = [c.id for c in checks]
        self._view = view if isinstance(view, View) else View(verbose=view)
        self._notes: dict[str, str] = {}  # a long check's progress line, by id
        self._done: dict[str, CheckResult] = {}
        self._running: list[str] = []
        self._printed = 0
        self._lock = threading.Lock()
        self._live: Live | None = None

    def __enter__(self) -> ConsoleProgress:
        if self._console.is_terminal and not self._console.is_dumb_terminal:
            from rich.live import Live

            self._live = Live(self._spinner(), console=self._console, transient=True,
                              refresh_per_second=10)
            self._live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.__exit__(None, None, None)
            self._live = None

    def _spinner(self) -> object:
        from rich.spinner import Spinner

        names = ", ".join(
            f"{name} ({self._notes[name]})" if name in self._notes else name for name in self._running
        ) or "…"
        return Spinner("dots", text=f"[dim]running {names}[/]")

    def started(self, check: Check) -> None:
        with self._lock:
            self._running.append(check.id)
            self._refresh()

    def progress(self, check_id: str, text: str) -> None:
        """A long check's progress (``repeating probes 3/5``), shown beside the spinner."""
        with self._lock:
            self._notes[check_id] = text
            self._refresh()

    def finished(self, result: CheckResult) -> None:
        with self._lock:
            self._done[result.id] = result
            if result.id in self._running:
                self._running.remove(result.id)
            while self._printed < len(self._order) and self._order[self._printed] in self._done:
                render_check(self._done[self._order[self._printed]], self._console, self._view)
                self._printed += 1
            self._refresh()

    def _refresh(self) -> None:
        if self._live is not None:
            self._live.update(self._spinner())
