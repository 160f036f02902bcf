"""From a finished diagnosis to its fixes: offer each remedy, re-run, report.

`fix_report` is the whole of `--fix` after the diagnosis: it finds, in run order,
the findings whose `Code` has a `remedy`, lets a `FixSession` show/ask/write each,
runs the affected checks again (with the variables the changes set, as a new
terminal will have them) and returns the report with those checks' new results
and its ``fixes``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from ..context import RunContext
from ..findings import Severity
from ..registry import Registry
from ..report import Report
from .apply import Asker, FixSession, judge, rerun_env
from .model import FixContext


def _dependants(registry: Registry, ids: list[str]) -> dict[str, set[str]]:
    return {i: set(downstream(registry, {i}, {c.id for c in registry.checks})) - {i} for i in ids}


def downstream(registry: Registry, changed: set[str], selected: set[str]) -> list[str]:
    """`changed` and every selected check that needs one of them, directly or not, in run order."""
    found = set(changed)
    for check in registry.checks:  # run order: a check's prerequisites come before it
        wanted = [i for g in check.needed_groups() for i in g] + list(getattr(check, "uses", ()))
        if check.id in selected and any(i in found for i in wanted):
            found.add(check.id)
    return [c.id for c in registry.checks if c.id in found]


def allowed_folders(ctx: RunContext, report: Report) -> tuple[Path, ...]:
    """The home folder, and on WSL the Windows profile the WSL check found (under /mnt)."""
    folders: list[Path] = [ctx.home] if ctx.home is not None else []
    for check in report.checks:
        profile = check.data.get("profile") if check.id == "platform.wsl" else None
        if isinstance(profile, str) and profile.startswith("/mnt/"):
            from .remedies import physical

            folders.append(physical(fix_context(ctx, ()), profile))
    return tuple(folders)


def fix_context(ctx: RunContext, allowed: tuple[Path, ...]) -> FixContext:
    from ..osfacts import for_context

    key = ctx.key
    return FixContext(env=ctx.env, home=ctx.home, key_source=key.source if key else None, osfacts=for_context(ctx),
                      allowed=allowed, cwd=ctx.cwd)


def fix_report(report: Report, ctx: RunContext, registry: Registry, say: Callable[[str], None],
               ask: Asker | None, yes: bool = False, dry_run: bool = False) -> Report:
    fctx = fix_context(ctx, allowed_folders(ctx, report))
    session = FixSession(fctx, ctx.scrub, say, ask, yes=yes, dry_run=dry_run)
    codes = registry.codes()
    for check in report.checks:
        for finding in check.findings:
            if finding.severity is Severity.INFO:
                continue
            code = codes.get(finding.code, (None, None))[1]
            remedy = getattr(code, "remedy", None)
            if remedy is None:
                session.unfixable.append((check.id, finding.code))
                continue
            session.offer(finding, remedy)
    applied = [r for r in session.records if r.outcome == "applied"]
    results = {}
    affected = downstream(registry, {r.plan.check for r in applied if r.plan.check},
                          {c.id for c in report.checks})
    if affected and not session.interrupted:  # stopped at a prompt: no re-run, the person asked to stop
        from ..runner import run_checks
        from ..session import build_context

        try:
            again = build_context(ctx.options, rerun_env(applied, ctx.env), ctx.osfacts)
            run_checks(registry.select(tuple(affected), ()), again)
            results = again.results()
        except Exception as exc:  # a re-run that cannot start leaves the outcome unknown
            say(f"could not run the checks again: {type(exc).__name__}")
    if session.interrupted:
        for record in applied:  # written and journalled, but not checked again
            record.outcome = "needs you"
            record.detail = ("applied; the run was interrupted before the check ran again: "
                             "run the doctor again to confirm")
    judge(session.records, results, _dependants(registry, affected))
    for record in session.records:
        say(f"{record.outcome}: {record.plan.code}: {record.plan.remedy}"
            + (f" ({record.detail})" if record.detail else ""))
    if session.unfixable:
        shown = ", ".join(f"{code} ({check})" for check, code in dict.fromkeys(session.unfixable))
        say(f"Not fixed automatically (follow the printed steps): {shown}")
    if not session.records and not session.unfixable:
        say("Nothing to fix.")
    if session.journal.folder is not None:
        say(f"Backups and journal: {session.journal.folder} (`cborg-doctor --undo` restores them)")
    checks = tuple(results.get(c.id, c) if c.id in affected else c for c in report.checks)
    return replace(report, checks=checks, fixes=tuple(r.to_dict() for r in session.records),
                   interrupted=session.interrupted or report.interrupted)
