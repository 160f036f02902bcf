"""Shared fixtures. Every network fixture listens on loopback only."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A fresh home directory for one doctor run."""
    path = tmp_path / "home"
    path.mkdir()
    return path


@pytest.fixture
def canary_key() -> str:
    """A unique, well-formed key that must never appear in any output."""
    return "sk-canary" + secrets.token_urlsafe(18).replace("-", "x").replace("_", "y")
