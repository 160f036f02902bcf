"""Worst whole-run time under each stalled phase, against the bound 2 × --timeout + 1 s.

For each phase of tests/stalls.py (DNS, TCP connect, TLS handshake, HTTP headers,
body trickle, account routes, a proxy trickling its CONNECT answer) and each --timeout, runs the real command several
times against a loopback gateway stalled in that phase and prints the worst wall
time, the same minus the fixed work of a run where nothing stalls (interpreter
start, imports, the other checks), and whether that is within the bound.

    python benchmarks/bounds.py                  # --timeout 1, 2 and 5; 3 runs each
    python benchmarks/bounds.py --timeouts 1 --runs 1
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PHASES = ("dns", "connect", "tls", "headers", "trickle", "account", "proxy")


def main() -> int:
    from tests.stalls import stalled_run

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeouts", type=float, nargs="+", default=[1.0, 2.0, 5.0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    failed = False
    with tempfile.TemporaryDirectory(prefix="bounds-") as tmp:
        folder = Path(tmp)
        baseline = max(stalled_run("baseline", 5.0, folder / f"base{n}").seconds for n in range(args.runs))
        print(f"fixed work (nothing stalls, whole run): {baseline:.2f} s")
        print(f"{'phase':10s} {'--timeout':>9s} {'worst run':>10s} {'minus fixed':>12s} "
              f"{'bound 2T+1':>11s}  within")
        for timeout in args.timeouts:
            bound = 2 * timeout + 1
            for phase in PHASES:
                worst = max(stalled_run(phase, timeout, folder / f"{phase}-{timeout:g}-{n}").seconds
                            for n in range(args.runs))
                net = worst - baseline
                ok = net <= bound
                failed |= not ok
                print(f"{phase:10s} {timeout:9g} {worst:9.2f}s {net:11.2f}s {bound:10g}s  "
                      f"{'yes' if ok else 'NO'}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
