"""The public API for checks, built-in and third-party alike.

Everything a check module needs is importable from here; the rest of the
package is the engine's business and may change.
"""

from __future__ import annotations

from .check import PLUGIN_ORDER, Check, CheckResult, Outcome
from .context import RunContext
from .findings import Cause, Code, Finding, RootCause, Severity, Status
from .fixes.model import Change, FixContext, NeedsYou, Plan, Remedy
from .options import Options
from .target import Target

__all__ = [
    "PLUGIN_ORDER",
    "Cause",
    "Change",
    "Check",
    "CheckResult",
    "Code",
    "Finding",
    "FixContext",
    "NeedsYou",
    "Options",
    "Outcome",
    "Plan",
    "Remedy",
    "RootCause",
    "RunContext",
    "Severity",
    "Status",
    "Target",
]
