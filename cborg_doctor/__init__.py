"""cborg-doctor: finds out why the CBorg API does not work here, and how to fix it.

Kept import-light on purpose: `cborg-doctor --version` must start about as fast as
a bare interpreter, so heavy libraries are imported where they are used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from .report import Report


def diagnose(**options: Any) -> Report:
    """Run the doctor from Python (tests, notebooks) and return the report object."""
    from .session import diagnose as _diagnose

    return _diagnose(**options)
