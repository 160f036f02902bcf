"""Run a few bounded probes at once, so a check costs its slowest probe, not their sum."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any


def together(*jobs: Callable[[], Any], timeout: float | None = None, late: Any = None) -> list[Any]:
    """Call every job in its own daemon thread; results in order (an exception is returned
    in place of its job's result). Each job must bound its own time; with `timeout` the
    wait for all of them ends then anyway, and a job not finished gives `late` (its
    thread is abandoned: a blocking call such as getaddrinfo cannot be cancelled)."""
    results: list[Any] = [late] * len(jobs)

    def work(index: int, job: Callable[[], Any]) -> None:
        try:
            results[index] = job()
        except Exception as exc:  # handed back to the caller
            results[index] = exc

    threads = [threading.Thread(target=work, args=(i, job), daemon=True, name="probe")
               for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    until = None if timeout is None else time.monotonic() + timeout
    for thread in threads:
        thread.join(None if until is None else max(0.0, until - time.monotonic()))
    return list(results)
