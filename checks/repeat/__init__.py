"""`repeat`: with ``--repeat N``, the request path probed N more times after the other checks."""

from __future__ import annotations

from cborg_doctor.api import Check

from . import check

CHECKS: tuple[Check, ...] = (check.CHECK,)
