"""Start-up time: `cborg-doctor --version` and `--list-checks` against a bare interpreter.

Prints the median of several runs of each. Target: --version within 2x of
`python -c pass` (heavy imports stay lazy).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

RUNS = 15
COMMANDS = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "cborg-doctor --version": [sys.executable, "-m", "cborg_doctor", "--version"],
    "cborg-doctor --list-checks": [sys.executable, "-m", "cborg_doctor", "--list-checks"],
    "cborg-doctor --explain KEY_MISSING": [sys.executable, "-m", "cborg_doctor", "--explain", "KEY_MISSING"],
}


def median_ms(cmd: list[str]) -> float:
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    base = None
    for name, cmd in COMMANDS.items():
        ms = median_ms(cmd)
        base = base or ms
        print(f"{name:38s} {ms:7.1f} ms  ({ms / base:4.2f}x bare interpreter)")


if __name__ == "__main__":
    main()
