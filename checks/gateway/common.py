"""What the four gateway checks share: the time bound, one request helper, shared codes.

A check may make several requests (``/key/info`` then ``/v1/models``; a cost
estimate, a streamed and a plain completion), but the runner abandons a check
after ``Timeouts.check``. `Window` hands each request what is left,
so a slow gateway gives a finding instead of an abandoned check.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from cborg_doctor.api import Code, Finding, RunContext, Severity
from cborg_doctor.cborg import HELPDESK, KEY_PAGE
from cborg_doctor.facts import EGRESS_ADDRESSES, GATEWAY_STALLED_AT, KEY_INFO
from cborg_doctor.probes import http

from .classify import ErrorKind, GatewayError, classify_error


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


# ── the network gate: shared by auth, models and live ───────────────────────

IP_NOT_ALLOWED = Code(
    "IP_NOT_ALLOWED",
    Severity.FAIL,
    "The gateway refused this network ({said}); {seen}.",
    fix=(
        "Authorize {addresses} at " + KEY_PAGE + " (LBL login), then run the doctor again.",
        "Or connect to LBLnet or the LBL VPN (Cisco): from there no authorization is needed.",
        "IPv4 and IPv6 are separate entries: a tool that only speaks IPv4 needs the IPv4 "
        "address authorized even when the IPv6 one is.",
        "Authorizations are tied to the address: on a new network (home, travel, a new "
        "DHCP lease) authorize again.",
    ),
    explain="CBorg only accepts requests from LBLnet, the LBL VPN, trusted networks, and "
    "addresses the user has authorized for their key. A 403 from LiteLLM ('Access forbidden: "
    "IP address ... not allowed') or from CBorg's own gate in front of it means the public "
    "address this machine uses is not authorized.",
)


def egress_text(ctx: RunContext, seen: str | None = None) -> str:
    """The addresses to authorize, as the egress check found them (or what the gateway saw)."""
    fact = ctx.fact(EGRESS_ADDRESSES)
    found: list[str] = []
    if isinstance(fact, Mapping):
        for family, label in (("ipv4", "IPv4"), ("ipv6", "IPv6")):
            value = fact.get(family)
            if isinstance(value, str) and value:
                found.append(f"{value} ({label})")
    if seen and not any(item.startswith(seen + " ") for item in found):
        found.insert(0, seen)
    if not found:
        return "this machine's public IPv4 and IPv6 addresses (run without --skip egress to see them)"
    return " and ".join(found)


def ip_not_allowed(ctx: RunContext, error: GatewayError) -> Finding:
    seen = (
        f"the gateway saw the address {error.address}"
        if error.address
        else "a 403 that is not a LiteLLM key error is most likely CBorg's IP authorization"
    )
    return IP_NOT_ALLOWED.finding(
        said=error.said, seen=seen, addresses=egress_text(ctx, error.address),
        data={"address": error.address, "status": error.status},
    )


BUDGET_EXCEEDED = Code(
    "BUDGET_EXCEEDED",
    Severity.FAIL,
    "{what} has reached its budget: {amounts}.",
    fix=(
        "Once the cap is reached every model stops working, the free lbl/* models too "
        "(a known bug of the LiteLLM version CBorg runs).",
        "Email " + HELPDESK + " to raise or reset the budget. Include your LBL username, "
        "the key's alias or fingerprint ({identity}; never the key itself), the budget line "
        "above, and this report.",
        "Spend is logged with a delay of up to 5 s: a request made just now may not be "
        "counted yet, so the figures may still rise a little.",
    ),
    explain="LiteLLM refuses every request once the spend of the key (or of its user or "
    "team) reaches the max budget; the error says 'Budget has been exceeded!' or "
    "'ExceededBudget: User=... over budget' with status 400, 422 or 429 depending on the "
    "version.",
)


def money(value: float | None) -> str:
    if value is None:
        return "unknown"
    if value == 0:
        return "$0"
    if abs(value) < 0.01:
        return f"${value:.6f}".rstrip("0")
    return f"${value:,.2f}"


def day(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d") if value else "unknown"


def days_until(value: datetime, now: datetime | None = None) -> float:
    now = now or datetime.now(timezone.utc)
    return (value - now).total_seconds() / 86400


def budget_exceeded(ctx: RunContext, error: GatewayError, where: str) -> Finding:
    """BUDGET_EXCEEDED from an error answer (on /chat/completions, /key/info, ...)."""
    scope = {"key": "This key", "user": "Your user account", "team": "Your team",
             "team_member": "Your share of the team", "end_user": "The end user"}
    what = scope.get(error.scope or "", "The account")
    if error.spend is not None and error.max_budget is not None:
        amounts = f"spent {money(error.spend)} of {money(error.max_budget)}"
    else:
        amounts = "the gateway did not say how much"
    return BUDGET_EXCEEDED.finding(
        "{what} has reached its budget: {amounts} ({where} answered {said}).",
        what=what, amounts=amounts, where=where, said=error.said,
        identity=identity(ctx),
        data={"status": error.status, "scope": error.scope, "spend": error.spend,
              "max_budget": error.max_budget},
    )


def identity(ctx: RunContext) -> str:
    """How the helpdesk can find the account without the key: user, alias, fingerprint."""
    key_info = ctx.fact(KEY_INFO)
    parts = []
    for label, value in (("user", getattr(key_info, "user_id", None)),
                         ("alias", getattr(key_info, "alias", None))):
        if value:
            parts.append(f"{label} {value}")
    key = ctx.key
    parts.append(f"fingerprint {key.fingerprint if key else '…'}")
    return ", ".join(parts)


def is_auth_kind(kind: ErrorKind) -> bool:
    return kind in (ErrorKind.KEY_INVALID, ErrorKind.NO_KEY, ErrorKind.KEY_EXPIRED,
                    ErrorKind.KEY_BLOCKED)
