"""Every time limit of a run, derived once from ``--timeout``; and a check's `Deadline`.

One number comes from the user: ``--timeout T``, the limit for one network
operation. Every other limit is derived here, and nowhere else::

    limit        value (T = 5)      what it bounds
    ───────────  ─────────────────  ───────────────────────────────────────────────
    operation    T       (5 s)      one connect, TLS handshake or DNS query; the
                                    wait for an answer once a request is sent
    request      2T      (10 s)     one HTTP request end to end (connect + answer);
                                    a watchdog shuts the socket down after it
    join         T + 1   (6 s)      waiting for threads that each do one operation
                                    (a little slack for the threads themselves)
    command      min(T, 4) (4 s)    one external command (wslinfo, powershell.exe)
    aside        min(T, 3) (3 s)    a lookup that only adds context (VPN route)
    check        2T + 1  (11 s)     one check; the runner abandons it after this
    margin       0.8 s              kept back from a check's bound to build its result
    run          2T + 1  (11 s)     what one stall may add to the whole run: checks
                                    that meet the same stall share one window
    rounds(N, S) N × (S + 2T + 1)   the `repeat` check: N rounds, S seconds apart,
                 + 2T + 1           each bounded like a check
    grace        1 s                after Ctrl-C, what running checks may still hand back

>>> t = Timeouts.from_option(5)
>>> (t.operation, t.request, t.check, t.command)
(5.0, 10.0, 11.0, 4.0)

A check reads its own `Deadline` as ``ctx.deadline`` (set by the runner when the
check starts): `remaining` is what is left of its bound minus the margin, and
`bound(cap)` hands one operation what is left, at most `cap`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

DEFAULT_TIMEOUT = 5.0
COMMAND_CAP = 4.0
ASIDE_CAP = 3.0
MARGIN = 0.8
GRACE = 1.0


@dataclass(frozen=True)
class Timeouts:
    """The run's limits in seconds (see the module's table)."""

    operation: float = DEFAULT_TIMEOUT

    @classmethod
    def from_option(cls, timeout: float) -> Timeouts:
        return cls(float(timeout))

    @property
    def request(self) -> float:
        return 2 * self.operation

    @property
    def join(self) -> float:
        return self.operation + 1.0

    @property
    def command(self) -> float:
        return min(self.operation, COMMAND_CAP)

    @property
    def aside(self) -> float:
        return min(self.operation, ASIDE_CAP)

    @property
    def check(self) -> float:
        return self.request + 1.0

    @property
    def margin(self) -> float:
        return MARGIN

    @property
    def run(self) -> float:
        return self.check

    @property
    def grace(self) -> float:
        return GRACE

    def rounds(self, count: int, interval: float) -> float:
        """The bound of `count` rounds of probes, `interval` seconds apart."""
        return count * (interval + self.check) + self.check

    def operation_within(self, seconds: float) -> float:
        """The operation limit for a request that must end within `seconds` (a request
        may take `request`, two operations)."""
        return min(self.operation, seconds * self.operation / self.request)

    def deadline(self, bound: float | None = None) -> Deadline:
        """A check's deadline, starting now: its bound (default `check`) minus the margin."""
        return Deadline((self.check if bound is None else bound) - self.margin)


@dataclass(frozen=True)
class Deadline:
    """The time left to one check (or one round of work): `seconds` from `start`."""

    seconds: float
    start: float = field(default_factory=time.monotonic)

    @property
    def end(self) -> float:
        return self.start + self.seconds

    @property
    def remaining(self) -> float:
        return max(0.0, self.end - time.monotonic())

    def at(self, fraction: float) -> float:
        """The monotonic time `fraction` of the way through (a phase's own end)."""
        return self.start + self.seconds * fraction

    def bound(self, cap: float) -> float:
        """What one operation may take: what is left, at most `cap`."""
        return max(0.0, min(cap, self.remaining))
