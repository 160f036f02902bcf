"""The gateway and account checks: `auth`, `budget`, `models`, `live` (one module each).

They talk to the LiteLLM proxy behind CBorg through `request.call` (bounded by
`request.Window`) and read its answers with the pure functions of
`cborg_doctor.probes.gatewayanswer`; `gate` (IP authorization) and `account`
(budget, money, who) hold what several of them raise.
"""

from __future__ import annotations

from cborg_doctor.api import Check

from . import auth, budget, live, models

CHECKS: tuple[Check, ...] = (
    auth.CHECK,
    budget.CHECK,
    models.CHECK,
    live.CHECK,
)
