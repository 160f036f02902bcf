"""Which IP family an address is: one answer, in each spelling the doctor needs.

    address          number  key     label   socket
    ───────────────  ──────  ──────  ──────  ────────────────
    104.18.5.1       4       ipv4    IPv4    socket.AF_INET
    2606:4700::1     6       ipv6    IPv6    socket.AF_INET6

``key`` names facts and report data (``by_family``, ``egress.addresses``),
``label`` is what a user reads. An address is an IP literal; anything with a
colon is IPv6.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass


@dataclass(frozen=True)
class Family:
    number: int
    key: str
    label: str
    socket: int


IPV4 = Family(4, "ipv4", "IPv4", socket.AF_INET)
IPV6 = Family(6, "ipv6", "IPv6", socket.AF_INET6)
FAMILIES = (IPV4, IPV6)


def family(address: str) -> Family:
    """The family of an IP literal."""
    return IPV6 if ":" in address else IPV4


def by_number(value: int | None) -> Family | None:
    """4, 6, socket.AF_INET or socket.AF_INET6 → its family; anything else None."""
    return next((f for f in FAMILIES if value in (f.number, f.socket)), None)
