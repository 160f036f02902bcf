"""`config.clients`: the AI tools configured on this machine (one parser per tool)."""

from __future__ import annotations

from .check import CHECKS

__all__ = ["CHECKS"]
