"""The gateway checks against the real LiteLLM proxy: its start-up, and the checks' time.

Starts LiteLLM (as the test fixture does: mock models, offline) and prints its
time to /health/liveliness, then the median wall time of the gateway checks
(auth, budget, models, and live) run in-process against it.

    python benchmarks/gateway.py
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.gateway_harness import diagnose, result
from tests.litellm_proxy import GOOD_PREFIX, start_proxy, stop

RUNS = 5
KEY = GOOD_PREFIX + "benchmarkbenchmark01"


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        proc, proxy = start_proxy(Path(folder))
        try:
            print(f"LiteLLM start-up to /health/liveliness   {proxy.startup_s * 1000:8.0f} ms")
            for live in (False, True):
                walls: list[float] = []
                per_check: dict[str, list[int]] = {}
                for _ in range(RUNS):
                    start = time.perf_counter()
                    report = diagnose(proxy.base_url, KEY, live=live)
                    walls.append((time.perf_counter() - start) * 1000)
                    for check_id in ("auth", "budget", "models", "live"):
                        per_check.setdefault(check_id, []).append(
                            result(report, check_id).duration_ms)
                label = "with --live" if live else "without --live"
                print(f"gateway checks {label:15s}          {statistics.median(walls):8.0f} ms")
                for check_id, values in per_check.items():
                    print(f"  {check_id:8s}                               "
                          f"{statistics.median(values):8.0f} ms")
        finally:
            stop(proc)


if __name__ == "__main__":
    main()
