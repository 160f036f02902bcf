"""`budget`: how much of the key's and the user's budget is spent.

The key's figures come from what `auth` read on ``/key/info``; the user's from
``GET /user/info``. An error answer that says the budget is exceeded counts as
an answer too: it is the most important one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from cborg_doctor.api import Check, Code, Finding, Outcome, RunContext, Severity
from cborg_doctor.cborg import HELPDESK, KEY_PAGE
from cborg_doctor.facts import AUTH_ERRORS, KEY_INFO
from cborg_doctor.formats.text import percent_text
from cborg_doctor.probes.gatewayanswer import ErrorKind, GatewayError, KeyInfo, UserInfo, parse_user_info

from .account import BUDGET_EXCEEDED, budget_exceeded, day, identity, money
from .request import Window, call

LOW_PERCENT = 90.0

BUDGET_LOW = Code(
    "BUDGET_LOW",
    Severity.WARN,
    "{what} has used {percent} of its budget: {spend} of {max_budget}{reset}.",
    fix=(
        "When the budget is used up every model stops working, the free ones too; "
        "prefer the free lbl/* models for bulk work.",
        "Email " + HELPDESK + " early if you need more (include your username and the "
        "key's alias, never the key).",
    ),
    explain="The doctor warns when spend reaches 90 % of the key's or the user's max budget.",
)
BUDGET_UNKNOWN = Code(
    "BUDGET_UNKNOWN",
    Severity.WARN,
    "The gateway did not show any spend or budget ({why}).",
    fix=(
        "Check your spend on the CBorg key page (" + KEY_PAGE + ") "
        "or ask " + HELPDESK + ".",
    ),
    explain="Neither /key/info nor /user/info gave budget figures (no database behind the "
    "gateway, an older LiteLLM, or the routes are closed to user keys).",
)
CODES = (BUDGET_EXCEEDED, BUDGET_LOW, BUDGET_UNKNOWN)


@dataclass(frozen=True)
class Budget:
    """One budget line: whose, how much spent, the cap, when it resets."""

    what: str  # "This key", "Your user account"
    spend: float | None
    max_budget: float | None
    reset: datetime | None = None
    duration: str | None = None

    @property
    def percent(self) -> float | None:
        if self.spend is None or not self.max_budget or self.max_budget <= 0:
            return None
        return 100.0 * self.spend / self.max_budget

    def line(self) -> str:
        label = "key" if self.what == "This key" else "user"
        if self.max_budget is None:
            return f"{label} {money(self.spend)} spent, no cap"
        text = f"{label} {money(self.spend)} of {money(self.max_budget)}"
        if self.percent is not None:
            text += f" ({percent_text(self.percent)})"
        if self.reset is not None:
            text += f", resets {day(self.reset)}"
        return text

    def to_dict(self) -> dict[str, object]:
        return {"spend": self.spend, "max_budget": self.max_budget, "percent": self.percent,
                "reset": self.reset.isoformat() if self.reset else None,
                "duration": self.duration}


def from_key(info: KeyInfo) -> Budget:
    return Budget("This key", info.spend, info.max_budget, info.budget_reset_at,
                  info.budget_duration)


def from_user(info: UserInfo) -> Budget:
    return Budget("Your user account", info.spend, info.max_budget, info.budget_reset_at,
                  info.budget_duration)


def judge(ctx: RunContext, budget: Budget) -> Finding | None:
    """BUDGET_EXCEEDED at or over the cap, BUDGET_LOW from 90 %, else nothing."""
    if budget.spend is None or budget.max_budget is None:
        return None
    reset = f", resets {day(budget.reset)}" if budget.reset else ""
    if budget.spend >= budget.max_budget:
        return BUDGET_EXCEEDED.finding(
            what=budget.what,
            amounts=f"spent {money(budget.spend)} of {money(budget.max_budget)}{reset}",
            identity=identity(ctx),
            data=budget.to_dict(),
        )
    percent = budget.percent
    if percent is not None and percent >= LOW_PERCENT:
        return BUDGET_LOW.finding(
            what=budget.what, percent=percent_text(percent), spend=money(budget.spend),
            max_budget=money(budget.max_budget), reset=reset, data=budget.to_dict())
    return None


def run(ctx: RunContext) -> Outcome:
    deadline = Window(ctx)
    budgets: list[Budget] = []
    unknown: list[str] = []
    refusals: list[tuple[GatewayError, str]] = [
        (error, "the gateway") for error in ctx.fact(AUTH_ERRORS) or ()
        if isinstance(error, GatewayError) and error.kind is ErrorKind.BUDGET_EXCEEDED
    ]
    key_info = ctx.fact(KEY_INFO)
    if isinstance(key_info, KeyInfo):
        budgets.append(from_key(key_info))
    else:
        unknown.append("/key/info: no details (see auth)")
    reply = call(ctx, deadline, "GET", "/user/info")
    user = parse_user_info(reply.body) if reply is not None and reply.ok else None
    if user is not None:
        budgets.append(from_user(user))
    elif reply is not None and reply.error is not None and \
            reply.error.kind is ErrorKind.BUDGET_EXCEEDED:
        refusals.append((reply.error, "GET /user/info"))
    else:
        unknown.append(f"/user/info: {reply.said() if reply else 'no time left'}")
    findings: list[Finding] = []
    scopes: set[str | None] = set()
    for error, where in refusals:  # one finding per budget, however many routes said it
        if error.scope not in scopes:
            scopes.add(error.scope)
            findings.append(budget_exceeded(ctx, error, where))
    for budget in budgets:
        found = judge(ctx, budget)
        if found is not None:
            findings.append(found)
    known = [b for b in budgets if b.spend is not None or b.max_budget is not None]
    data = {"key": budgets[0].to_dict() if budgets and budgets[0].what == "This key" else None,
            "user": user and from_user(user).to_dict()}
    if not known and not findings:
        findings.append(BUDGET_UNKNOWN.finding(why="; ".join(unknown)))
        return Outcome("budget unknown", findings, data)
    summary = "; ".join(b.line() for b in known) or "budget exceeded"
    return Outcome(summary, findings, data)


CHECK = Check(
    id="budget",
    title="Budget",
    run=run,
    needs=("auth",),
    codes=CODES,
    order=140,
    description="spend against the key's and the user's budget",
)
