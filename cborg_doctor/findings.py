"""Findings: what a check says, as plain data.

A `Code` is declared once, next to the check that raises it, with its severity,
its meaning and its fix steps. `Code.finding(...)` makes the `Finding` a run
reports; `--explain CODE` prints the same `Code`, so the two never drift apart.

Root-cause links are fields, not conventions: a `Code` may declare the checks whose
failures it `explains` (WSL in NAT mode behind a VPN explains a DNS timeout) and
whether a failure `blocks` the checks that need its check; a check's `Outcome`
may name the earlier finding it is `explained_by` (a `RootCause`). The report's
verdict reads these fields.

Fix steps and messages are `str.format` templates: the check fills in the facts
(`{host}`, `{addresses}` ...); `--explain` shows the placeholders as ``<host>``.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any


class Severity(str, Enum):
    """How bad one finding is. `info` never changes a check's status."""

    INFO = "info"
    WARN = "warn"
    FAIL = "fail"


class Status(str, Enum):
    """A check's result. Ordered from best to worst by `rank`."""

    PASS = "pass"
    SKIP = "skip"
    WARN = "warn"
    FAIL = "fail"
    ERROR = "error"

    @property
    def rank(self) -> int:
        return _STATUS_RANK[self]

    @staticmethod
    def worst(statuses: list[Status]) -> Status:
        return max(statuses, key=lambda s: s.rank, default=Status.PASS)


_STATUS_RANK = {Status.PASS: 0, Status.SKIP: 0, Status.WARN: 1, Status.FAIL: 2, Status.ERROR: 3}

_SEVERITY_STATUS = {Severity.INFO: Status.PASS, Severity.WARN: Status.WARN, Severity.FAIL: Status.FAIL}

CODE_PATTERN = re.compile(r"^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*$")


class _Placeholders(dict):  # type: ignore[type-arg]
    """Formats a template with every missing field shown as ``<field>``."""

    def __missing__(self, key: str) -> str:
        return f"<{key}>"


def fill(template: str, facts: Mapping[str, Any]) -> str:
    """Fill a template with facts; unknown fields stay visible as ``<name>``."""
    try:
        return string.Formatter().vformat(template, (), _Placeholders(facts))
    except (ValueError, IndexError, AttributeError, KeyError):
        return template


@dataclass(frozen=True)
class RootCause:
    """Names the finding that explains a failure: ``RootCause("dns", "DNS_INCONSISTENT")``."""

    check: str
    code: str

    def to_dict(self) -> dict[str, str]:
        return {"check": self.check, "code": self.code}


@dataclass(frozen=True)
class Finding:
    """One problem (or fact) a check found, ready for every report format.

    `explains`: ids of later checks whose failure this finding is the cause of.
    `blocks`: False for a failure about the user's other tools, not about the path
    the doctor tests: the checks that need this one still run.
    """

    code: str
    severity: Severity
    message: str
    fix: tuple[str, ...] = ()
    data: Mapping[str, Any] = field(default_factory=dict)
    explains: tuple[str, ...] = ()
    blocks: bool = True

    @property
    def status(self) -> Status:
        return _SEVERITY_STATUS[self.severity]

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity.value,
            "message": self.message,
            "fix": list(self.fix),
        }


@dataclass(frozen=True)
class Cause:
    """One of the causes a code covers, with the fix steps for that cause alone."""

    when: str  # what the doctor saw, for --explain: "the name server answered SERVFAIL"
    fix: tuple[str, ...]


@dataclass(frozen=True)
class Code:
    """A stable finding code with its meaning and fix text: the one source of truth.

    >>> KEY_MISSING = Code("KEY_MISSING", Severity.FAIL, "No API key was found.",
    ...                    fix=("export CBORG_API_KEY=...",))
    >>> KEY_MISSING.finding("Looked at {where}.", where="CBORG_API_KEY").message
    'Looked at CBORG_API_KEY.'
    """

    code: str
    severity: Severity
    summary: str
    fix: tuple[str, ...] = ()
    explain: str = ""
    # Other severities a check may give this code, each with when: (Severity.INFO, "when ...").
    also: tuple[tuple[Severity, str], ...] = ()
    explains: tuple[str, ...] = ()  # check ids whose failures a finding of this code explains
    blocks: bool = True  # False: a failure of this code does not stop the checks after it
    # A code several causes share gives each its own steps: a finding made with
    # ``cause=`` carries that cause's steps (then the common `fix`), never the others'.
    causes: Mapping[str, Cause] = field(default_factory=dict, hash=False, compare=False)
    # An automatic remedy for `--fix` (`cborg_doctor.fixes.model.Remedy`), or None.
    remedy: Any = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if not CODE_PATTERN.match(self.code):
            raise ValueError(f"finding code {self.code!r} is not UPPER_SNAKE_CASE")

    def finding(
        self,
        message: str | None = None,
        *,
        severity: Severity | None = None,
        extra_fix: tuple[str, ...] = (),
        data: Mapping[str, Any] | None = None,
        blocks: bool | None = None,
        cause: str | None = None,
        **facts: Any,
    ) -> Finding:
        """Make a finding; `message` and the fix steps are filled with `facts`.
        `blocks` overrides the code's own for this finding; `cause` picks that cause's
        steps."""
        own = self.causes[cause].fix if cause is not None and cause in self.causes else ()
        if cause is not None and cause not in self.causes:
            facts = {"cause": cause, **facts}  # a template's {cause} fact, not a cause key
        return Finding(
            code=self.code,
            severity=severity or self.severity,
            message=fill(message if message is not None else self.summary, facts),
            fix=tuple(fill(step, facts) for step in (*own, *self.fix, *extra_fix)),
            data=dict(data or {}),
            explains=self.explains,
            blocks=self.blocks if blocks is None else blocks,
        )
