"""One request helper for the gateway checks, and the time each request may take.

A check may make several requests (``/key/info`` then ``/v1/models``; a cost
estimate, a streamed and a plain completion), but the runner abandons a check
at its deadline (``ctx.deadline``, `Timeouts.check`). `Window` hands each
request what is left, so a slow gateway gives a finding instead of an abandoned
check; once the gateway has stalled, the checks share one window from that stall.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cborg_doctor.api import RunContext
from cborg_doctor.facts import GATEWAY_STALLED_AT
from cborg_doctor.probes import http
from cborg_doctor.probes.gatewayanswer import GatewayError, classify_error


@dataclass(frozen=True)
class Window:
    """What is left of this check's deadline, shared out between its requests."""

    ctx: RunContext

    @property
    def remaining(self) -> float:
        ctx = self.ctx
        own = ctx.deadline.remaining
        # Once the gateway has stalled, every check shares one window from that stall on,
        # so auth, then budget and models, do not each wait out the same stall again.
        stalled = ctx.fact(GATEWAY_STALLED_AT)
        if isinstance(stalled, float):
            window_end = stalled + ctx.timeouts.run
            now = time.monotonic()
            if now < window_end:  # past it (a --repeat round), a check starts afresh
                own = min(own, window_end - ctx.timeouts.margin - now)
        return own

    def timeout_for(self, share: float = 1.0) -> float | None:
        """The per-operation limit for one request that must fit in `share` of what is
        left, or None if no time is left."""
        room = self.ctx.timeouts.operation_within(self.remaining * share)
        return None if room < 0.2 else room


@dataclass(frozen=True)
class Reply:
    """One request's result: the raw answer and, when it failed, its classification."""

    path: str
    result: http.HttpResult
    body: Any  # parsed JSON or None
    error: GatewayError | None  # None for a 2xx answer
    timeout: float = 0.0  # the per-operation limit this request had

    @property
    def ok(self) -> bool:
        return self.error is None and self.result.status is not None

    @property
    def network_error(self) -> bool:
        return self.result.status is None

    def said(self) -> str:
        """What happened, in one phrase: "HTTP 500: Database not connected…" or the network error."""
        if self.result.status is None:
            return f"{self.result.error or 'no answer'}: {self.result.detail}".strip(": ")
        if self.result.error == "too_slow":  # the headers came, the body stalled
            return f"HTTP {self.result.status}, then {self.result.detail}"
        if self.error is not None:
            return self.error.said
        return f"HTTP {self.result.status}"


def call(
    ctx: RunContext,
    deadline: Window,
    method: str,
    path: str,
    *,
    json_body: Any = None,
    stream: bool = False,
    share: float = 1.0,
    max_body: int = 1 << 20,
) -> Reply | None:
    """One request with the key; None when the check has no time left for it."""
    timeout = deadline.timeout_for(share)
    if timeout is None:
        return None
    started = time.monotonic()
    result = http.request(
        ctx, method, path, send_key=True, json_body=json_body, stream=stream,
        timeout=timeout, max_body=max_body,
    )
    if result.error in ("timeout", "too_slow"):
        first = ctx.fact(GATEWAY_STALLED_AT)
        ctx.share(GATEWAY_STALLED_AT, min(first, started) if isinstance(first, float) else started)
    body = result.json()
    error: GatewayError | None = None
    if result.status is None:
        error = None
    elif not 200 <= result.status < 300:
        error = classify_error(result.status, body, result.text)
    elif isinstance(body, Mapping) and isinstance(body.get("error"), Mapping):
        error = classify_error(result.status, body)  # an error inside a 200
    return Reply(path, result, body, error, timeout)
