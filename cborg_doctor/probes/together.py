"""Run a few bounded probes at once, so a check costs its slowest probe, not their sum."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any


def together(*jobs: Callable[[], Any]) -> list[Any]:
    """Call every job in its own daemon thread; results in order (an exception is returned
    in place of its job's result). Each job must bound its own time."""
    results: list[Any] = [None] * len(jobs)

    def work(index: int, job: Callable[[], Any]) -> None:
        try:
            results[index] = job()
        except Exception as exc:  # handed back to the caller
            results[index] = exc

    threads = [threading.Thread(target=work, args=(i, job), daemon=True, name="probe")
               for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results
