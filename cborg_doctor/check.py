"""The check API: what a check is, and what it gives back. Plugins use exactly this.

A check is data plus one function::

    from cborg_doctor.api import Check, Code, Outcome, RunContext, Severity

    LAB_PROXY_DOWN = Code("LAB_PROXY_DOWN", Severity.FAIL, "The lab proxy does not answer.",
                          fix=("Start it: systemctl start lab-proxy",))

    def run(ctx: RunContext) -> Outcome:
        ...
        return Outcome("proxy answered", findings=[LAB_PROXY_DOWN.finding(...)])

    CHECK = Check(id="lab.proxy", title="Lab proxy", run=run, needs=("dns",),
                  codes=(LAB_PROXY_DOWN,))

`needs` lists checks that must have passed or warned first; an entry written
``"net.ipv4|net.ipv6"`` is satisfied by either. `uses` lists checks whose result
this one reads whatever their status: the runner starts it only after each of
them has finished (when selected), and never skips it because of them. A check
waits for another only through these two declarations, never by polling.
A check's status is the worst severity among its findings (`info` counts as pass).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .findings import Code, Finding, RootCause, Status

if TYPE_CHECKING:
    from .context import RunContext
    from .options import Options

# Built-in checks use small numbers to keep the contract's order; plugins that
# give none run after every built-in they could depend on.
PLUGIN_ORDER = 1000


@dataclass(frozen=True)
class Outcome:
    """What a check's function returns: a one-line summary, findings, facts."""

    summary: str
    findings: Iterable[Finding] = ()
    data: Mapping[str, Any] = field(default_factory=dict)
    # Set when there was nothing to test (e.g. no IPv6 address to connect to): the
    # check is reported as `skip` with this reason, and checks needing it wait on others.
    skipped_because: str | None = None
    # The earlier finding that explains this check's failure (the verdict names it).
    explained_by: RootCause | None = None


@dataclass(frozen=True)
class Check:
    """A registered check. `run` must finish within the run's time bound."""

    id: str
    title: str
    run: Callable[[RunContext], Outcome]
    needs: tuple[str, ...] = ()
    codes: tuple[Code, ...] = ()
    uses: tuple[str, ...] = ()
    order: int = PLUGIN_ORDER
    opt_in: str | None = None  # an Options attribute that must be true, e.g. "live"
    # With `opt_in` given, this check joins an ``--only`` selection by itself
    # (``--only config.base_url --repeat 3`` repeats the probes; ``--live`` does not).
    joins_only: bool = False
    description: str = ""
    # The check's time bound when its work grows with an option (``--repeat N``);
    # default `Timeouts.check`.
    bound: Callable[[Options], float] | None = None

    def time_bound(self, options: Options) -> float:
        return self.bound(options) if self.bound is not None else options.timeouts.check

    def needed_groups(self) -> list[tuple[str, ...]]:
        """`needs` as alternatives: each group is satisfied by any one of its ids."""
        return [tuple(part.strip() for part in need.split("|")) for need in self.needs]

    def needs_text(self) -> str:
        return ", ".join(" or ".join(group) for group in self.needed_groups()) or "–"


@dataclass(frozen=True)
class CheckResult:
    """One check's result in the report, in run order."""

    id: str
    title: str
    status: Status
    duration_ms: int
    summary: str
    findings: tuple[Finding, ...] = ()
    skipped_because: str | None = None
    data: Mapping[str, Any] = field(default_factory=dict)
    explained_by: RootCause | None = None

    @property
    def usable(self) -> bool:
        """Whether checks that need this one may run.

        A failure whose findings all have ``blocks=False`` is about the user's other
        tools, not about the path the doctor tests (the OpenAI SDK pointed at
        OpenAI): it stays a failure, and the checks after it still run.
        """
        if self.status is Status.FAIL:
            return all(not f.blocks for f in self.findings if f.status is Status.FAIL)
        return self.status in (Status.PASS, Status.WARN)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "status": self.status.value,
            "duration_ms": self.duration_ms,
            "summary": self.summary,
            "findings": [f.to_dict() for f in self.findings],
            "skipped_because": self.skipped_because,
            "data": {**self.data, **({"explained_by": self.explained_by.to_dict()}
                                      if self.explained_by else {})},
        }
