"""The gateway and account checks: `auth`, `budget`, `models`, `live` (one module each).

They talk to the LiteLLM proxy behind CBorg through `cborg_doctor.probes.http`
and read its answers with the pure functions of `gateway_classify`.
"""

from __future__ import annotations

from cborg_doctor.api import Check

from . import gateway_auth, gateway_budget, gateway_live, gateway_models

CHECKS: tuple[Check, ...] = (
    gateway_auth.CHECK,
    gateway_budget.CHECK,
    gateway_models.CHECK,
    gateway_live.CHECK,
)
