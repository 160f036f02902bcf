"""`config.clients` (the AI tools configured here, one parser per tool) and `clients.paths`
(the request each of those tools really sends)."""

from __future__ import annotations

from . import check, paths

CHECKS = (check.CHECK, paths.CHECK)

__all__ = ["CHECKS"]
