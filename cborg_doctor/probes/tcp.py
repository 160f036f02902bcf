"""TCP connect probes: one address, one port, bounded by a timeout."""

from __future__ import annotations

import errno
import socket
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class ConnectResult:
    """The result of one TCP connect; `error` is a short classification or None."""

    address: str
    port: int
    ok: bool
    ms: float
    error: str | None = None  # "refused" | "timeout" | "no_route" | "failed"
    detail: str = ""


_NO_ROUTE = {errno.ENETUNREACH, errno.EHOSTUNREACH, errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT}


def connect(address: str, port: int, timeout: float) -> ConnectResult:
    """Open and close one TCP connection to `address` (an IP literal)."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    start = time.monotonic()
    try:
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect((address, port))
    except (socket.timeout, TimeoutError):
        return _result(address, port, start, "timeout", f"no answer within {timeout:g} s")
    except ConnectionRefusedError:
        return _result(address, port, start, "refused", "connection refused")
    except OSError as exc:
        kind = "no_route" if exc.errno in _NO_ROUTE else "failed"
        return _result(address, port, start, kind, exc.strerror or str(exc))
    return ConnectResult(address, port, True, (time.monotonic() - start) * 1000)


def _result(address: str, port: int, start: float, error: str, detail: str) -> ConnectResult:
    return ConnectResult(address, port, False, (time.monotonic() - start) * 1000, error, detail)
