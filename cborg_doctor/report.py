"""The report of one run (schema ``cborg-doctor/report/v1``) and its verdict.

Every output format reads this one object. `verdict` is the single most likely
root cause: the first failing finding in run order (else the first warning),
unless that check names an earlier finding as its explanation
(``CheckResult.explained_by``, a `RootCause`), or an earlier warning or failure
declares that it explains failures of that check (``Finding.explains``, from its
`Code`: WSL in NAT mode behind a VPN explains a DNS failure).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from . import __version__
from .check import CheckResult
from .exitcodes import ExitCode
from .findings import Finding, RootCause, Severity, Status
from .options import FailOn

SCHEMA = "cborg-doctor/report/v1"


@dataclass(frozen=True)
class Verdict:
    check: str
    code: str
    message: str
    fix: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, str]:
        return {"check": self.check, "code": self.code, "message": self.message}


@dataclass(frozen=True)
class Report:
    created: str
    duration_ms: int
    target: Mapping[str, Any]
    key: Mapping[str, Any]
    environment: Mapping[str, Any]
    checks: tuple[CheckResult, ...]
    interrupted: str | None = None  # the signal that stopped the run
    fixes: tuple[Mapping[str, Any], ...] | None = None  # set by a run with --fix
    tool: Mapping[str, str] = field(
        default_factory=lambda: {"name": "cborg-doctor", "version": __version__}
    )

    @property
    def status(self) -> Status:
        return Status.worst([c.status for c in self.checks])

    @property
    def counts(self) -> dict[str, int]:
        counts = {s.value: 0 for s in (Status.PASS, Status.WARN, Status.FAIL, Status.SKIP, Status.ERROR)}
        for check in self.checks:
            counts[check.status.value] += 1
        return counts

    @property
    def verdict(self) -> Verdict | None:
        return find_verdict(self.checks)

    def exit_code(self, fail_on: FailOn) -> ExitCode:
        worst = self.status
        threshold = Status.WARN if fail_on is FailOn.WARN else Status.FAIL
        return ExitCode.PROBLEMS if worst.rank >= threshold.rank else ExitCode.OK

    def to_dict(self) -> dict[str, Any]:
        verdict = self.verdict
        return {
            "schema": SCHEMA,
            "tool": dict(self.tool),
            "created": self.created,
            "duration_ms": self.duration_ms,
            "status": self.status.value,
            "verdict": verdict.to_dict() if verdict else None,
            "counts": self.counts,
            "target": dict(self.target),
            "key": dict(self.key),
            "environment": dict(self.environment),
            "interrupted": self.interrupted,
            "checks": [c.to_dict() for c in self.checks],
            **({"fixes": [dict(f) for f in self.fixes]} if self.fixes is not None else {}),
        }


def _first(checks: tuple[CheckResult, ...], statuses: tuple[Status, ...]) -> tuple[CheckResult, Finding] | None:
    for check in checks:
        if check.status not in statuses:
            continue
        for finding in check.findings:
            if finding.status.rank >= check.status.rank or check.status is Status.ERROR:
                return check, finding
    return None


def find_verdict(checks: tuple[CheckResult, ...]) -> Verdict | None:
    hit = _first(checks, (Status.FAIL, Status.ERROR)) or _first(checks, (Status.WARN,))
    if hit is None:
        return None
    check, finding = hit
    cause = _explanation(checks, check.explained_by) or _declared_cause(checks, check)
    if cause is not None:
        check, finding = cause
    return Verdict(check.id, finding.code, finding.message, finding.fix)


def _explanation(checks: tuple[CheckResult, ...], ref: RootCause | None) -> tuple[CheckResult, Finding] | None:
    if ref is None:
        return None
    for check in checks:
        if check.id == ref.check:
            for finding in check.findings:
                if finding.code == ref.code:
                    return check, finding
    return None


def _declared_cause(checks: tuple[CheckResult, ...], failed: CheckResult) -> tuple[CheckResult, Finding] | None:
    for check in checks:
        if check.id == failed.id:
            return None
        for finding in check.findings:
            if failed.id in finding.explains and finding.severity is not Severity.INFO:
                return check, finding
    return None
