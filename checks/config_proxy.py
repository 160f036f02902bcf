"""Placeholder: this module's checks are being built (see the open issues)."""

from __future__ import annotations

from cborg_doctor.api import Check

CHECKS: tuple[Check, ...] = ()
