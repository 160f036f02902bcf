"""Fuzz the doctor with many hostile answers; print cases run, crashes and hangs.

Runs the strategies of tests/test_fuzz_{http,dns,tls}.py (tls also has the hostile
proxies) through hypothesis with
the `fuzz-bench` profile (no shrinking, no database), each case a real doctor run
(in-process CLI) against real loopback servers. A "crash" is any case that broke a
promise (exit other than 0/1, a traceback, a check ending as `error`, a report
that is missing or unparseable, a multi-line or empty summary, the canary in any
output); a "hang" is a run that did not end at all. Target: ≥ 10,000 cases, 0, 0.

    python benchmarks/fuzz.py                 # 10,000 cases over 2 worker processes
    python benchmarks/fuzz.py --cases 500 --workers 1 --family http
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# Share of the cases per family (the HTTP surface is the largest).
SHARES = {"http": 0.65, "dns": 0.15, "tls": 0.1, "proxy": 0.1}


def _family(name: str) -> tuple[object, object]:
    """(strategy, setup) where setup(folder) is a context manager giving run_one(case) -> problems."""
    if name == "http":
        from tests import test_fuzz_http as mod
    elif name == "dns":
        from tests import test_fuzz_dns as mod  # type: ignore[no-redef]
    else:
        from tests import test_fuzz_tls as mod  # type: ignore[no-redef]
        if name == "proxy":
            return mod.PROXY_STRATEGY, mod.proxy_bench_setup
    return mod.STRATEGY, mod.bench_setup


def worker(job: tuple[str, int, int, str | None]) -> tuple[str, int, list[str], list[str], float]:
    """Run `count` cases of one family; (family, cases, crash lines, hang lines, worst seconds).

    With a `keep` path, each failing case is appended there in full (its repr replays it).
    """
    name, count, seed, args_keep = job
    from hypothesis import given, settings
    from hypothesis import seed as hseed

    strategy, setup = _family(name)
    cases = 0
    crashes: list[str] = []
    hangs: list[str] = []
    worst = [0.0]
    with tempfile.TemporaryDirectory(prefix=f"fuzz-{name}-") as tmp, setup(Path(tmp)) as run_one:

        @hseed(seed)
        @settings(settings.get_profile("fuzz-bench"), max_examples=count, phases=_generate_only())
        @given(case=strategy)
        def each(case: object) -> None:
            nonlocal cases
            cases += 1
            start = time.monotonic()
            found = run_one(case)
            worst[0] = max(worst[0], time.monotonic() - start)
            for problem in found:
                (hangs if problem.startswith("hang") else crashes).append(f"{problem[:300]} | case {case!r:.300}")
            if found and args_keep is not None:
                with open(args_keep, "a", encoding="utf-8") as out:
                    out.write(f"{name}\t{found!r}\t{case!r}\n")

        each()
    return name, cases, crashes, hangs, worst[0]


def _generate_only() -> list[object]:
    from hypothesis import Phase

    return [Phase.generate]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--family", choices=[*SHARES, "all"], default="all")
    parser.add_argument("--seed", type=int, default=20261125)
    parser.add_argument("--keep", metavar="FILE", help="append every failing case here, in full")
    args = parser.parse_args()
    import tests.fuzzcases  # noqa: F401  (registers the profiles)

    families = SHARES if args.family == "all" else {args.family: 1.0}
    jobs: list[tuple[str, int, int, str | None]] = []
    for name, share in families.items():
        total = round(args.cases * share / sum(families.values()))
        for n in range(args.workers):
            part = total // args.workers + (1 if n < total % args.workers else 0)
            if part:
                jobs.append((name, part, args.seed + 1000 * len(jobs), args.keep))
    started = time.monotonic()
    cases: Counter[str] = Counter()
    crashes: list[str] = []
    hangs: list[str] = []
    worst: dict[str, float] = {}
    context = multiprocessing.get_context("spawn")
    pool = context.Pool(args.workers) if args.workers > 1 else None
    with pool if pool is not None else contextlib.nullcontext():
        results = pool.imap_unordered(worker, jobs) if pool is not None else map(worker, jobs)
        for name, count, crashed, hung, slowest in results:
            cases[name] += count
            crashes += crashed
            hangs += hung
            worst[name] = max(worst.get(name, 0.0), slowest)
            print(f"  {name}: {count} cases, {len(crashed)} crashes, {len(hung)} hangs, "
                  f"slowest case {slowest:.1f} s", flush=True)
    minutes = (time.monotonic() - started) / 60
    print(f"fuzzed cases run: {sum(cases.values())} ({', '.join(f'{k} {v}' for k, v in cases.items())})")
    print(f"crashes: {len(crashes)}")
    print(f"hangs: {len(hangs)}")
    print(f"wall time: {minutes:.1f} min")
    for line in (crashes + hangs)[:20]:
        print("  " + line)
    return 1 if crashes or hangs else 0


if __name__ == "__main__":
    sys.exit(main())
