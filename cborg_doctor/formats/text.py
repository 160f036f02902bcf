"""Small text helpers shared by the human-readable formats.

`headline` and `other_problems` decide what the closing summary (console),
the helpdesk subject and the CI annotations say, so the three never differ:
the verdict, whether CBorg works from this machine anyway (a security-only
finding), and the problems that are not the verdict.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..check import CheckResult
from ..findings import Finding, Severity, Status
from ..report import Report

SYMBOLS = {
    Status.PASS: "✔",
    Status.WARN: "!",
    Status.FAIL: "✖",
    Status.SKIP: "–",
    Status.ERROR: "✖",
}
SEVERITY_SYMBOLS = {Severity.INFO: "i", Severity.WARN: "!", Severity.FAIL: "✖"}

# The checks on the path a request takes: when they all pass, CBorg works from here.
PATH_CHECKS = ("dns", "net.ipv4", "net.ipv6", "tls", "http", "auth")

# Findings about how a secret is kept, not about whether requests get through.
SECURITY_CODES = frozenset({"CLIENT_KEY_IN_FILE", "KEY_FILE_READABLE", "KEY_IN_SOURCE"})

# A fenced code sample inside a fix step (``` ... ```): not for a console.
CODE_FENCE = re.compile(r"\s*```[a-z]*\n.*?```", re.S)


def plural(n: int, word: str, many: str | None = None) -> str:
    """``1 probe``, ``2 probes`` (``many`` for irregular plurals)."""
    return f"{n} {word if n == 1 else many or word + 's'}"


def percent_text(percent: float) -> str:
    """A share people can trust: 99.8 % is not "100 %", 0.2 % is not "0 %"."""
    if percent in (0, 100) or 1 <= percent <= 99:
        return f"{percent:.0f} %"
    return f"{percent:.1f} %"


def counts_line(report: Report) -> str:
    return ", ".join(f"{n} {status}" for status, n in report.counts.items() if n)


def verdict_line(report: Report) -> str:
    verdict = report.verdict
    prefix = "Interrupted. " if report.interrupted else ""
    if verdict is None:
        return f"{prefix}No problems found ({counts_line(report)})."
    return f"{prefix}{verdict.code} ({verdict.check}): {verdict.message}"


@dataclass(frozen=True)
class Problem:
    """One warn/fail finding (or a crashed check) and the check that raised it."""

    check: CheckResult
    finding: Finding

    @property
    def symbol(self) -> str:
        if self.check.status is Status.ERROR:
            return SYMBOLS[Status.ERROR]
        return SEVERITY_SYMBOLS[self.finding.severity]


def problems(report: Report) -> list[Problem]:
    """Every finding worth a person's attention, in run order."""
    found = []
    for check in report.checks:
        for finding in check.findings:
            if finding.severity is not Severity.INFO or check.status is Status.ERROR:
                found.append(Problem(check, finding))
    return found


def other_problems(report: Report) -> list[Problem]:
    """The problems that are not the verdict (each one line in the summary)."""
    verdict = report.verdict
    return [p for p in problems(report)
            if verdict is None or (p.finding.code, p.check.id) != (verdict.code, verdict.check)]


def is_security_only(report: Report) -> bool:
    """True when requests get through and every problem is about how a secret is kept."""
    found = problems(report)
    if not found or report.interrupted:
        return False
    if any(p.finding.code not in SECURITY_CODES and not p.finding.data.get("security") for p in found):
        return False
    ran = [c for c in report.checks if c.id in PATH_CHECKS and c.status is not Status.SKIP]
    return all(c.status in (Status.PASS, Status.WARN) for c in ran)


def headline(report: Report) -> str:
    """The first line of the summary, the helpdesk subject's gist and the CI title."""
    if report.interrupted:
        return f"Interrupted. What was found before {report.interrupted} is above and in the report."
    verdict = report.verdict
    if verdict is None:
        return "CBorg works from this machine: no problems found."
    if is_security_only(report):
        n = len(problems(report))
        return (f"CBorg works from this machine; there {'is' if n == 1 else 'are'} "
                f"{plural(n, 'security problem')} to fix.")
    if report.status is Status.WARN:
        n = len(problems(report))
        return f"CBorg should work from this machine, with {plural(n, 'warning')}."
    return "CBorg does not work from this machine yet. The cause:"


def console_step(step: str, code: str) -> str:
    """A fix step for a terminal: a code sample becomes a pointer to where it is printed whole."""
    return CODE_FENCE.sub(f" (the code is in the report, and `cborg-doctor --explain {code}` prints it)",
                          step).rstrip()
