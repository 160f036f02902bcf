"""The environment summary in every report: enough to diagnose, nothing personal.

No user names, no paths, no full PATH: only OS, Python, library versions and
whether this is CI, WSL or a container.
"""

from __future__ import annotations

import platform
import sys
from collections.abc import Mapping
from importlib import metadata
from typing import Any

from . import __version__

LIBRARIES = ("httpx", "openai", "dnspython", "certifi", "truststore", "rich", "psutil", "litellm")
CI_VARIABLES = ("CI", "GITHUB_ACTIONS", "GITLAB_CI", "JENKINS_URL", "BUILDKITE", "TF_BUILD")


def _library_versions() -> dict[str, str]:
    found: dict[str, str] = {}
    for name in LIBRARIES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
        except Exception:  # a broken installation's metadata is not our problem
            continue
    return found


def describe_environment(env: Mapping[str, str]) -> dict[str, Any]:
    """Facts that help a helpdesk reproduce the problem."""
    ci = next((name for name in CI_VARIABLES if env.get(name)), None)
    return {
        "os": f"{platform.system()} {platform.release()}".strip(),
        "platform": platform.platform(terse=True),
        "machine": platform.machine(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "doctor": __version__,
        "libraries": _library_versions(),
        "ci": ci,
        "wsl": "microsoft" in platform.release().lower(),
        "frozen": bool(getattr(sys, "frozen", False)),
    }
