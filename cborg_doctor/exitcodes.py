"""Exit codes, as the contract lists them. Nothing else is ever returned."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0  # nothing at or above --fail-on
    PROBLEMS = 1  # a check failed (or warned with --fail-on warn), or crashed
    USAGE = 2  # bad command line or unusable input
    INTERRUPTED = 130  # Ctrl-C: the report so far was still written
    TERMINATED = 143  # SIGTERM: likewise
