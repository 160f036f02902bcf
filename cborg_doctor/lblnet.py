"""LBL's public address ranges: one table, used by the VPN check and the egress check.

Source: ARIN registrations for Lawrence Berkeley National Laboratory
(NET-128-3-0-0-1 128.3.0.0/16, NET-131-243-0-0-1 131.243.0.0/16, and the IPv6
allocation 2620:83:8000::/48), as listed in the cborg-doctor issue on platform checks.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

LBL_RANGES = tuple(
    ipaddress.ip_network(net) for net in ("128.3.0.0/16", "131.243.0.0/16", "2620:83:8000::/48")
)


def is_lbl_address(address: str) -> bool:
    """Whether an address (IPv4 or IPv6, with or without %zone) is in LBL's public ranges."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    return any(ip.version == net.version and ip in net for net in LBL_RANGES)


def lbl_addresses(addresses: Iterable[str]) -> list[str]:
    return [a for a in addresses if is_lbl_address(a)]
