"""TCP connect probes: one address, one port, bounded by a timeout; or many at once.

`connect_all` probes every address concurrently, so eight black-holed addresses
cost one timeout, not eight.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

from cborg_doctor.timeouts import Timeouts

from .errors import classify_os_error


@dataclass(frozen=True)
class ConnectResult:
    """The result of one TCP connect; `error` is a short classification or None."""

    address: str
    port: int
    ok: bool
    ms: float
    error: str | None = None  # "refused" | "timeout" | "no_route" | "reset" | "failed"
    detail: str = ""

    @property
    def family(self) -> int:
        return 6 if ":" in self.address else 4


def open_socket(address: str, port: int, timeout: float) -> socket.socket:
    """A connected socket to `address` (an IP literal); raises OSError."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
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


def connect_all(addresses: Sequence[str], port: int, timeout: float) -> list[ConnectResult]:
    """Connect to every address at once; results in the order of `addresses`."""
    return connect_many([(address, port) for address in addresses], timeout)


def connect_many(endpoints: Sequence[tuple[str, int]], timeout: float) -> list[ConnectResult]:
    """Connect to every (address, port) at once; results in the same order."""
    results: dict[int, ConnectResult] = {}

    def one(index: int, address: str, port: int) -> None:
        results[index] = connect(address, port, timeout)

    threads = [
        threading.Thread(target=one, args=(i, a, p), daemon=True, name=f"tcp:{a}")
        for i, (a, p) in enumerate(endpoints)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(Timeouts.from_option(timeout).join)
    late = "the probe did not finish in time"
    return [
        results.get(i, ConnectResult(a, p, False, timeout * 1000, "timeout", late))
        for i, (a, p) in enumerate(endpoints)
    ]


def _ms(start: float) -> float:
    return (time.monotonic() - start) * 1000
