"""The gateway and account checks: `auth`, `budget`, `models`, `live` (one module each).

They talk to the LiteLLM proxy behind CBorg through `cborg_doctor.probes.http`
and read its answers with the pure functions of `classify`.
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
