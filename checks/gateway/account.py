"""Money and the account, shared by budget and live: `BUDGET_EXCEEDED`, amounts, dates, who."""

from __future__ import annotations

import re
from datetime import datetime, timezone

from cborg_doctor.api import Code, Finding, RunContext, Severity
from cborg_doctor.cborg import HELPDESK
from cborg_doctor.facts import KEY_INFO
from cborg_doctor.probes.gatewayanswer import GatewayError

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


def expired_on(value: datetime, now: datetime | None = None) -> str:
    """`` on 2026-11-20, 11 days ago`` (the KEY_EXPIRED message's ``{when}``)."""
    ago = int(-days_until(value, now))
    if ago < 1:
        return f" on {day(value)}, today"
    return f" on {day(value)}, {ago} day{'s' if ago != 1 else ''} ago"


# LiteLLM writes Python datetimes into its messages: "2025-11-20 19:00:00.123456+00:00".
_RAW_TIME = re.compile(r"(\d{4}-\d{2}-\d{2})[ T]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[+-]\d{2}:?\d{2}|Z)?")


def tidy_times(text: str) -> str:
    """The gateway's words with raw timestamps shortened to their date."""
    return _RAW_TIME.sub(r"\1", text)


def budget_exceeded(ctx: RunContext, error: GatewayError, where: str, note: str = "") -> Finding:
    """BUDGET_EXCEEDED from an error answer (on /chat/completions, /key/info, ...)."""
    scope = {"key": "This key", "user": "Your user account", "team": "Your team",
             "team_member": "Your share of the team", "end_user": "The end user"}
    what = scope.get(error.scope or "", "The account")
    if error.spend is not None and error.max_budget is not None:
        amounts = f"spent {money(error.spend)} of {money(error.max_budget)}"
    else:
        amounts = "the gateway did not say how much"
    return BUDGET_EXCEEDED.finding(
        "{what} has reached its budget: {amounts} ({where} answered {said}){note}.",
        what=what, amounts=amounts, where=where, said=error.said, note=note,
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
