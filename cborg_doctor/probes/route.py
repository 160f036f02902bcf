"""Route lookup: the local address traffic to a destination would leave from.

``connect()`` on a UDP socket asks the kernel to pick a route and a source
address for the destination and binds the socket to it; it sends no packet.
``getsockname()`` then tells which local address (and so which interface)
the gateway would be reached by: through the VPN tunnel or around it.
"""

from __future__ import annotations

import errno
import ipaddress
import socket
from dataclasses import dataclass

from .family import family as ip_family

_NO_ROUTE = {errno.ENETUNREACH, errno.EHOSTUNREACH, errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT}


@dataclass(frozen=True)
class LocalRoute:
    """``local_address`` is None when there is no route (``error="no_route"``) or it is unknown."""

    destination: str
    local_address: str | None
    error: str | None = None  # "no_route" | "failed" | "unknown"
    detail: str = ""

    @property
    def family(self) -> str:
        return ip_family(self.destination).key


def local_route(destination: str, port: int = 443) -> LocalRoute:
    """Which local address the kernel would use for `destination` (an IP literal)."""
    try:
        ip = ipaddress.ip_address(destination.split("%", 1)[0])
    except ValueError:
        return LocalRoute(destination, None, "failed", "not an IP address")
    try:
        with socket.socket(ip_family(str(ip)).socket, socket.SOCK_DGRAM) as sock:
            sock.connect((destination, port))  # UDP: picks a route, sends nothing
            local = sock.getsockname()[0]
    except OSError as exc:
        kind = "no_route" if exc.errno in _NO_ROUTE else "failed"
        return LocalRoute(destination, None, kind, exc.strerror or str(exc))
    return LocalRoute(destination, str(local).split("%", 1)[0])
