"""Canary scenarios run and leaks found (target: 0 leaks).

Runs every scenario of tests/test_canary_scenarios.py in both output modes with a
fresh canary key each time and counts the runs in which any 8-character piece of
the key showed up in stdout, stderr or a report; then the wrong-listener tests of
tests/test_canary_listeners.py (redirects, OpenAI, plain http, proxies) through
pytest, counting listeners that received the key.

    python benchmarks/canary.py [--rounds N]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> int:
    import pytest

    from tests.standin_gateway import StandinGateway
    from tests.test_canary_scenarios import SCENARIOS, Servers, leaks, new_canary, run_everywhere

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    runs = leaked = 0
    standin = StandinGateway()
    standin.start()
    try:
        for _ in range(args.rounds):
            for name, setup in SCENARIOS.items():
                for json_mode in (False, True):
                    with tempfile.TemporaryDirectory(prefix="canary-") as tmp:
                        servers = Servers(standin)
                        canary = new_canary()
                        try:
                            seen = run_everywhere(setup(canary, Path(tmp), servers), canary, Path(tmp), json_mode)
                        finally:
                            for closer in servers.closers:
                                closer.close()  # type: ignore[attr-defined]
                        runs += 1
                        found = leaks(canary, seen.everything)
                        if found:
                            leaked += 1
                            print(f"  LEAK in {name} ({'json' if json_mode else 'console'}): {found[:3]}")
    finally:
        standin.stop()
    print(f"canary scenario runs: {runs} ({len(SCENARIOS)} scenarios × console/JSON × {args.rounds}), "
          f"leaks: {leaked}")
    code = pytest.main(["-q", "-p", "no:cacheprovider", str(ROOT / "tests" / "test_canary_listeners.py")])
    print(f"wrong-listener tests: {'all passed, 0 leaks' if code == 0 else 'FAILED (see above)'}")
    return 1 if leaked or code else 0


if __name__ == "__main__":
    sys.exit(main())
