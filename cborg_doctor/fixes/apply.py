"""`--fix`: plan each remedy, show it, ask, write it, run the affected checks again.

Plans are made one at a time, in run order, just before they are shown: a remedy
for a file an earlier remedy changed starts from the file as it is now, and one
whose change is already in place is a no-op and is not offered (a second `--fix`
changes nothing). Before writing, the file must still have the bytes the plan
was made from. Outcomes (the report's ``fixes``):

    fixed                   applied, and the re-run check no longer raises the finding
    applied, still failing  applied, and the re-run still raises it (detail: its message)
    needs you               what is left is a step for the person (e.g. `wsl --shutdown`)
    declined                not applied: answered no, --dry-run, no terminal and no --yes,
                            or Ctrl-C / SIGTERM at a prompt (then nothing more is asked)
    refused                 not safe to do (detail: why); nothing was changed
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..check import CheckResult
from ..findings import Finding, Severity
from ..secrets import Scrubber
from .edit import EditRefused, read_assignments
from .guard import Refused, read_for_edit
from .journal import Journal, apply_change, planned_modes
from .model import Change, FixContext, Plan, sha256

Asker = Callable[[str], str]  # prompt -> answer ("y", "n", "a", "q")


@dataclass
class FixRecord:
    """One remedy offered, for the report."""

    plan: Plan
    outcome: str
    detail: str = ""
    files: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.plan.code, "remedy": self.plan.remedy, "files": self.files,
                "outcome": self.outcome, "detail": self.detail}


def _mode_text(mode: int) -> str:
    return f"{mode:04o}"


_URL_CREDENTIALS = re.compile(r"(?<=://)[^/@\s\"']+@")


def _no_credentials(line: str) -> str:
    """``https://user:password@host`` → ``https://…@host``: a password is a secret like the key."""
    return _URL_CREDENTIALS.sub("…@", line)


def render_change(change: Change, scrub: Scrubber) -> list[str]:
    """A unified diff of one file (the key shown as its fingerprint), or its mode change."""
    lines: list[str] = []
    if change.summary:
        lines.append(f"{change.shown}: {change.summary}")
    elif change.before != change.after:
        old = (change.before or b"").decode("utf-8", "replace").splitlines()
        new = (change.after or b"").decode("utf-8", "replace").splitlines()
        crlf = b"\r\n" in (change.after or change.before or b"")
        lines += [_no_credentials(scrub(line.rstrip("\n"))) for line in difflib.unified_diff(
            old, new, "/dev/null" if change.before is None else change.shown,
            "/dev/null" if change.after is None else change.shown, lineterm="", n=2)]
        if crlf:
            lines.append("(Windows line endings (CRLF) are kept)")
    if change.mode is not None and change.before is not None:
        try:
            current = change.path.stat().st_mode & 0o7777
        except OSError:
            current = None
        if current is not None and current != change.mode:
            lines.append(f"{change.shown}: mode {_mode_text(current)} → {_mode_text(change.mode)}")
    return lines


def describe(plan: Plan, scrub: Scrubber) -> list[str]:
    lines = [f"{plan.code}: {plan.remedy}"]
    for change in plan.changes:
        lines += ["  " + line for line in render_change(change, scrub)]
    for step in plan.needs_you:
        lines.append(f"  then you: {step.text}")
    return lines


def _still_current(change: Change, ctx: FixContext) -> None:
    now = read_for_edit(change.path, ctx.allowed)
    if now != change.before:
        raise Refused(f"{change.shown} changed since the diagnosis; run the doctor again")


def write_plan(plan: Plan, ctx: FixContext, journal: Journal) -> list[dict[str, Any]]:
    """Check every file first, then write each (atomic, backed up, journalled)."""
    for change in plan.changes:
        _still_current(change, ctx)
    files = []
    from .guard import target_of

    for change in plan.changes:
        if not change.changes_anything:
            continue
        real = target_of(change.path, ctx.allowed)
        journal.record(change, real, planned_modes(change, real))  # the backup before the write
        apply_change(change, real)
        files.append({"path": change.shown, "before": sha256(change.before),
                      "after": sha256(change.after)})
    return files


def rerun_env(records: Iterable[FixRecord], env: Mapping[str, str]) -> dict[str, str]:
    """The environment a new terminal will have: variables the applied changes set."""
    new = dict(env)
    for record in records:
        names = record.plan.finding_data.get("reload") or []
        for change in record.plan.changes:
            values = read_assignments((change.after or b"").decode("utf-8", "replace"))
            for name in names:
                if (name,) in values:
                    new[name] = values[(name,)]
    return new


def _same_target(finding: Finding, plan: Plan) -> bool:
    """The re-run's finding is the one this plan fixes: same file, and the facts in ``match``."""
    for name in ("file", "path"):
        mine = plan.finding_data.get(name)
        if mine is not None and finding.data.get(name) not in (None, mine):
            return False
    match = plan.finding_data.get("match") or {}
    return all(finding.data.get(name) == value for name, value in match.items())


def judge(records: list[FixRecord], results: Mapping[str, CheckResult],
          dependants: Mapping[str, set[str]] | None = None) -> None:
    """Turn "applied" into fixed / applied, still failing / needs you, from the re-run.

    Still failing: the re-run raises the same finding for the same file, or a check
    that needs the fixed one now fails (the clean key is rejected by the gateway).
    """
    for record in records:
        if record.outcome != "applied":
            continue
        plan = record.plan
        result = results.get(plan.check)
        still = [f for f in (result.findings if result else ())
                 if f.code == plan.code and _same_target(f, plan) and f.severity is not Severity.INFO]
        for later in sorted((dependants or {}).get(plan.check, ())):
            other = results.get(later)
            if other is not None and other.status.value in ("fail", "error"):
                still += [f for f in other.findings if f.severity is Severity.FAIL]
        detail = str(plan.finding_data.get("detail") or "")
        if plan.needs_you:
            record.outcome = "needs you"
            record.detail = " ".join(step.text for step in plan.needs_you)
        elif still:
            record.outcome = "applied, still failing"
            record.detail = still[0].message
        else:
            record.outcome = "fixed"
            record.detail = detail or (f"{plan.check} no longer reports {plan.code}"
                                       if result else "")


@dataclass
class FixSession:
    """One `--fix` pass over a report's findings."""

    ctx: FixContext
    scrub: Scrubber
    say: Callable[[str], None]
    ask: Asker | None  # None: no terminal
    yes: bool = False
    dry_run: bool = False
    records: list[FixRecord] = field(default_factory=list)
    unfixable: list[tuple[str, str]] = field(default_factory=list)  # (check, code)

    def __post_init__(self) -> None:
        self.journal = Journal(self.ctx.env)
        self._all = self.yes
        self._quit = False
        self.interrupted: str | None = None  # "SIGINT"/"SIGTERM" when the person stopped at a prompt
        self._seen: set[tuple[str, str, tuple[str, ...]]] = set()

    def offer(self, finding: Finding, remedy: Any) -> None:
        try:
            plans = remedy.plan(finding, self.ctx)
        except (Refused, EditRefused, OSError) as exc:
            reason = str(exc) if not isinstance(exc, OSError) else (exc.strerror or str(exc))
            plans = [Plan(finding.code, remedy.name, refused=reason)]
        for plan in plans:
            signature = (plan.code, plan.remedy, tuple(str(c.path) for c in plan.changes))
            if signature in self._seen:
                continue
            self._seen.add(signature)
            if plan.is_noop:
                if plan.finding_data.get("reload"):  # in the file already; this shell predates it
                    detail = f"already done in the file; {plan.finding_data.get('detail')}"
                    self.say(f"{plan.code}: {detail}")
                    self.records.append(FixRecord(plan, "needs you", detail))
                continue
            self._offer_plan(plan)

    def _offer_plan(self, plan: Plan) -> None:
        if self.interrupted:  # stopped at a prompt: nothing more is shown or asked
            self.records.append(FixRecord(plan, "declined", f"not asked (interrupted by {self.interrupted})"))
            return
        if plan.refused:
            self.say(f"{plan.code}: {plan.remedy}: refused: {plan.refused}")
            self.records.append(FixRecord(plan, "refused", plan.refused))
            return
        for line in describe(plan, self.scrub):
            self.say(line)
        if not any(c.changes_anything for c in plan.changes):
            self.records.append(FixRecord(plan, "applied"))  # only a step for the person
            return
        answer = self._decide(plan)
        if answer != "y":
            self.records.append(FixRecord(plan, "declined", answer))
            return
        try:
            files = write_plan(plan, self.ctx, self.journal)
        except (Refused, OSError) as exc:
            reason = str(exc) if isinstance(exc, Refused) else f"could not write: {exc.strerror or exc}"
            self.say(f"  refused: {reason}")
            self.records.append(FixRecord(plan, "refused", reason))
            return
        self.records.append(FixRecord(plan, "applied", files=files))

    def _decide(self, plan: Plan) -> str:
        if self.dry_run:
            return "--dry-run: nothing changed"
        if self._quit:
            return "not asked (quit)"
        if self._all:
            return "y"
        if self.ask is None:
            return "not on a terminal and no --yes: nothing changed"
        try:
            while True:
                answer = self.ask("Apply this change? [y]es / [n]o / [a]ll / [q]uit: ").strip().lower()[:1]
                if answer in ("y", "n", "a", "q"):
                    break
        except KeyboardInterrupt as exc:  # Ctrl-C (or SIGTERM) at the prompt: stop asking, keep what is done
            self.interrupted = getattr(exc, "signal_name", "SIGINT")
            self.say("")
            return f"interrupted by {self.interrupted}: nothing changed"
        if answer == "a":
            self._all = True
            return "y"
        if answer == "q":
            self._quit = True
            return "you quit"
        return "y" if answer == "y" else "you answered no"
