"""One diagnosis from options to report: the `Session` the CLI, `diagnose()` and the
pytest plugin share."""

from __future__ import annotations

import math
import os
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .check import Check, CheckResult
from .context import RunContext, current_directory, home_directory, snapshot_environment
from .environment import describe_environment
from .findings import Status
from .options import DEFAULT_TIMEOUT, Options, ReportFormat, parse_nameserver
from .registry import Registry, load_registry
from .report import Report
from .reportfiles import check_writable, default_report_path, format_for, write_atomic
from .runner import PLUGIN_LOAD_FAILED, Listener, run_checks
from .secrets import resolve_key
from .target import choose_target


def build_context(
    options: Options, env: Mapping[str, str] | None = None, osfacts: Any = None
) -> RunContext:
    """Resolve the key and the target once. Raises `KeyFileError` for a bad key file."""
    env = dict(env) if env is not None else snapshot_environment()
    return RunContext(
        options=options,
        env=env,
        key_resolution=resolve_key(options.api_key_file, env),
        target=choose_target(options.base_url, env),
        home=home_directory(env),
        cwd=current_directory(),
        osfacts=osfacts,
    )


def _load_problem_results(registry: Registry) -> list[CheckResult]:
    return [
        CheckResult(
            id=f"plugin:{problem.source.split(' ')[0]}",
            title=f"Plugin {problem.source}",
            status=Status.ERROR,
            duration_ms=0,
            summary=f"could not be loaded: {problem.reason}",
            findings=(PLUGIN_LOAD_FAILED.finding(reason=f"{problem.source}: {problem.reason}"),),
        )
        for problem in registry.problems
    ]


def run_diagnosis(
    ctx: RunContext, registry: Registry, listener: Listener | None = None
) -> Report:
    """Run the selected checks and assemble the report (the runner handles Ctrl-C)."""
    started = time.monotonic()
    created = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    checks = registry.select(ctx.options.only, ctx.options.skip)
    record = run_checks(checks, ctx, listener)
    key = ctx.key
    return Report(
        created=created,
        duration_ms=int((time.monotonic() - started) * 1000),
        target=ctx.target.to_dict(),
        key={
            "source": key.source if key else None,
            "fingerprint": key.fingerprint if key else None,
        },
        environment=describe_environment(ctx.env),
        checks=(*record.results, *_load_problem_results(registry)),
        interrupted=record.interrupted,
    )


def requested(registry: Registry, options: Options) -> tuple[str, ...]:
    """Opt-in checks that their option alone selects (``--repeat N``: `Check.joins_only`)."""
    return tuple(c.id for c in registry.checks
                 if c.opt_in and c.joins_only and getattr(options, c.opt_in, False)
                 and c.id not in options.only)


@dataclass(frozen=True)
class Session:
    """One diagnosis: `prepare` (refuse bad input before any check runs), `run`, `write`.

    The command line, `diagnose()` and the pytest plugin all run the doctor this way::

        session = Session.prepare(options)          # ReportPathError, SelectionError, KeyFileError
        report = session.run(listener)
        written, failed = session.write(report)
    """

    ctx: RunContext
    registry: Registry
    checks: tuple[Check, ...]
    reports: tuple[tuple[str, ReportFormat], ...]

    @property
    def options(self) -> Options:
        return self.ctx.options

    @classmethod
    def prepare(
        cls,
        options: Options,
        *,
        env: Mapping[str, str] | None = None,
        osfacts: Any = None,
        registry: Registry | None = None,
        default_report: bool = False,
    ) -> Session:
        """Check what can be refused up front, resolve the key and the target once.

        `default_report`: with no ``--report`` (and no ``--no-report``), write the
        Markdown report to the default folder, as the command line does.
        """
        reports = [(path, format_for(path)) for path in options.reports]
        for path, _ in reports:
            check_writable(path)
        registry = registry if registry is not None else load_registry()
        checks = tuple(registry.select(options.only, options.skip))
        asked = requested(registry, options)
        if options.only and asked:  # --repeat N asks for its check even with --only
            options = replace(options, only=(*options.only, *asked))
            checks = tuple(registry.select(options.only, options.skip))
        ctx = build_context(options, env, osfacts)
        if default_report and not reports and not options.no_report:
            reports = [(str(default_report_path(ctx.env)), ReportFormat.MARKDOWN)]
        return cls(ctx, registry, checks, tuple(reports))

    def run(self, listener: Listener | None = None) -> Report:
        return run_diagnosis(self.ctx, self.registry, listener)

    def write(
        self, report: Report, reports: Iterable[tuple[str, ReportFormat]] | None = None
    ) -> tuple[list[str], list[tuple[str, OSError]]]:
        """Write each report whole or not at all: (paths written, (path, error) that failed)."""
        from .formats import render

        written: list[str] = []
        failed: list[tuple[str, OSError]] = []
        for path, fmt in self.reports if reports is None else reports:
            try:
                write_atomic(Path(path), render(report, fmt, self.ctx.scrub, self.options.verbose))
            except OSError as exc:
                failed.append((path, exc))
                continue
            written.append(path)
        return written, failed


def _names(value: str | Iterable[str]) -> tuple[str, ...]:
    """``"dns,tls"`` or ``["dns", "tls"]`` → ``("dns", "tls")``."""
    parts = value.split(",") if isinstance(value, str) else list(value)
    return tuple(str(p).strip() for p in parts if str(p).strip())


def diagnose(
    *,
    base_url: str | None = None,
    api_key_file: str | os.PathLike[str] | None = None,
    model: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    nameservers: str | Iterable[str] = (),
    only: str | Iterable[str] = (),
    skip: str | Iterable[str] = (),
    live: bool = False,
    reports: str | os.PathLike[str] | Iterable[str | os.PathLike[str]] = (),
    repeat: int = 0,
    interval: float = 1.0,
    env: Mapping[str, str] | None = None,
    listener: Listener | None = None,
) -> Report:
    """Run the doctor from Python (test suites, notebooks) and return the `Report`.

    The options mean what the command line's options mean; nothing is printed::

        report = cborg_doctor.diagnose(model="lbl/llama", timeout=3)
        if report.status in ("fail", "error"):
            print(report.verdict.code, report.verdict.message, *report.verdict.fix, sep="\n")

    `env` replaces ``os.environ`` for this run (key, base URL, proxies, CA bundle).
    `repeat` reruns the network probes that many times, `interval` seconds apart
    (``--repeat``/``--interval``), adding the ``repeat`` entry to the report.
    `reports` are written after the run, format by extension (``.json .md .xml
    .html``), each whole or not at all; nothing is written without it.

    Raises `ValueError` for what the command line rejects with exit 2 (an unknown
    check id, a bad timeout or nameserver, a report path that cannot be written)
    and `KeyFileError` when `api_key_file` cannot be read, all before any check runs.
    """
    if not (isinstance(timeout, (int, float)) and math.isfinite(timeout) and 0 < timeout <= 3600):
        raise ValueError(f"timeout {timeout!r}: must be between 0 and 3600 seconds")
    if not (isinstance(repeat, int) and 0 <= repeat <= 10000):
        raise ValueError(f"repeat {repeat!r}: must be a whole number from 0 to 10000")
    if not (isinstance(interval, (int, float)) and math.isfinite(interval) and 0 <= interval <= 3600):
        raise ValueError(f"interval {interval!r}: must be between 0 and 3600 seconds")
    servers = _names(nameservers)
    for server in servers:
        parse_nameserver(server)
    paths = [reports] if isinstance(reports, (str, os.PathLike)) else list(reports)
    options = Options(
        base_url=base_url,
        api_key_file=os.fspath(api_key_file) if api_key_file is not None else None,
        model=model,
        timeout=float(timeout),
        nameservers=servers,
        only=_names(only),
        skip=_names(skip),
        live=live,
        repeat=repeat,
        interval=float(interval),
        reports=tuple(os.fspath(p) for p in paths),
        color=False,
    )
    session = Session.prepare(options, env=env)
    report = session.run(listener)
    _, failed = session.write(report)
    if failed:
        raise failed[0][1]
    return report
