"""TCP connect probes: one address, one port, bounded by a timeout; or many at once.

`connect_many` probes every address concurrently, so eight black-holed addresses
cost one timeout, not eight.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Sequence
from dataclasses import dataclass

from cborg_doctor.timeouts import Timeouts

from .errors import classify_os_error
from .family import family as ip_family
from .together import together


@dataclass(frozen=True)
class ConnectResult:
    """The result of one TCP connect; `error` is a short classification or None."""

    address: str
    port: int
    ok: bool
    ms: float
    error: str | None = None  # "refused" | "timeout" | "no_route" | "reset" | "failed"
    detail: str = ""


def open_socket(address: str, port: int, timeout: float) -> socket.socket:
    """A connected socket to `address` (an IP literal); raises OSError."""
    sock = socket.socket(ip_family(address).socket, socket.SOCK_STREAM)
    try:
        sock.settimeout(timeout)
        sock.connect((address, port))
    except BaseException:
        sock.close()
        raise
    return sock


def connect(address: str, port: int, timeout: float) -> ConnectResult:
    """Open and close one TCP connection to `address` (an IP literal)."""
    start = time.monotonic()
    try:
        open_socket(address, port, timeout).close()
    except OSError as exc:
        kind = classify_os_error(exc)
        if kind == "timeout":
            detail = f"no answer within {timeout:g} s"
        elif kind == "refused":
            detail = "connection refused"
        else:
            detail = exc.strerror or str(exc) or type(exc).__name__
        return ConnectResult(address, port, False, _ms(start), kind, detail)
    return ConnectResult(address, port, True, _ms(start))


def connect_many(endpoints: Sequence[tuple[str, int]], timeout: float) -> list[ConnectResult]:
    """Connect to every (address, port) at once; results in the same order."""
    found = together(*(lambda a=a, p=p: connect(a, p, timeout) for a, p in endpoints),
                     timeout=Timeouts.from_option(timeout).join)
    late = "the probe did not finish in time"
    return [
        r if isinstance(r, ConnectResult) else ConnectResult(a, p, False, timeout * 1000, "timeout", late)
        for r, (a, p) in zip(found, endpoints, strict=True)
    ]


def _ms(start: float) -> float:
    return (time.monotonic() - start) * 1000
