"""One diagnosis from options to report: shared by the CLI and `diagnose()`."""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from .check import CheckResult
from .context import RunContext, current_directory, home_directory, snapshot_environment
from .environment import describe_environment
from .findings import Status
from .options import Options
from .registry import Registry, load_registry
from .report import Report
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


def diagnose(env: Mapping[str, str] | None = None, **fields: Any) -> Report:
    """`cborg_doctor.diagnose(model="lbl/llama", timeout=3)`: run quietly, return the report."""
    options = Options(**fields)
    ctx = build_context(options, env if env is not None else snapshot_environment())
    return run_diagnosis(ctx, load_registry())
