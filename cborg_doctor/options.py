"""The run's options, parsed once by the CLI (or given by `diagnose()`)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from .timeouts import DEFAULT_TIMEOUT, Timeouts


class FailOn(str, Enum):
    """What makes the exit code non-zero."""

    FAIL = "fail"
    WARN = "warn"


class ReportFormat(str, Enum):
    """Report formats, chosen by the file's extension."""

    JSON = ".json"
    MARKDOWN = ".md"
    JUNIT = ".xml"
    HTML = ".html"


__all__ = ["DEFAULT_TIMEOUT", "FailOn", "Options", "ReportFormat", "parse_nameserver"]


@dataclass(frozen=True)
class Options:
    """Everything the user asked for. Frozen: a run never changes its own options."""

    base_url: str | None = None
    api_key_file: str | None = None
    model: str | None = None
    timeout: float = DEFAULT_TIMEOUT
    nameservers: tuple[str, ...] = ()
    only: tuple[str, ...] = ()
    skip: tuple[str, ...] = ()
    live: bool = False
    repeat: int = 0  # --repeat N: probe the request path N more times (the `repeat` check)
    interval: float = 1.0  # --interval S between those rounds
    json: bool = False
    reports: tuple[str, ...] = ()
    no_report: bool = False
    fail_on: FailOn = FailOn.FAIL
    color: bool = True
    verbose: bool = False
    quiet: bool = False  # print only problems and the closing summary
    fix: bool = False  # --fix (with dry_run / yes); --undo is its own mode in the CLI
    dry_run: bool = False
    yes: bool = False

    @property
    def timeouts(self) -> Timeouts:
        """Every limit of the run, derived from `timeout` (see `cborg_doctor.timeouts`)."""
        return Timeouts.from_option(self.timeout)

    @property
    def check_time_bound(self) -> float:
        """`Timeouts.check` (kept for plugins and callers that read it here)."""
        return self.timeouts.check


def parse_nameserver(text: str) -> tuple[str, int]:
    """``ADDR[:PORT]`` → (address, port); IPv6 as ``::1`` or ``[::1]:5353``."""
    import ipaddress

    value, port = text.strip(), 53
    if value.startswith("["):
        host, _, rest = value[1:].partition("]")
        if rest:
            if not rest.startswith(":"):
                raise ValueError(f"--nameserver {text!r}: expected [ADDR]:PORT")
            port = _port(rest[1:], text)
        value = host
    elif value.count(":") == 1:
        value, port_text = value.split(":")
        port = _port(port_text, text)
    try:
        ipaddress.ip_address(value)
    except ValueError:
        raise ValueError(f"--nameserver {text!r}: not an IP address") from None
    return value, port


def _port(text: str, whole: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise ValueError(f"--nameserver {whole!r}: bad port {text!r}")
    return int(text)
