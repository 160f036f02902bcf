"""cborg-doctor: finds out why the CBorg API does not work here, and how to fix it.

From Python::

    import cborg_doctor
    report = cborg_doctor.diagnose(model="lbl/llama")   # a `Report`; prints nothing

Kept import-light on purpose: `cborg-doctor --version` must start about as fast as
a bare interpreter, so `diagnose` and `Report` are imported when first used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["Report", "__version__", "diagnose"]

if TYPE_CHECKING:
    from .report import Report
    from .session import diagnose


def __getattr__(name: str) -> Any:
    """Lazy `diagnose` and `Report`, with their real signatures and docstrings."""
    if name == "diagnose":
        from .session import diagnose

        return diagnose
    if name == "Report":
        from .report import Report

        return Report
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
