"""LBL's public address ranges: one table, used by the VPN check and the egress check.

Source: LBL IT, "Private (RFC1918) IP Address Assignments at LBL"
(https://commons.lbl.gov/display/itfaq/Private+%28RFC1918%29+IP+Address+Assignments+at+LBL):
the main LBL network (AS16: desktops, labs and instruments in the Berkeley and
Emeryville buildings) has public IPv4 addresses in 128.3.0.0/16 and 131.243.0.0/16
and IPv6 addresses in 2620:83:8000::/48; these match ARIN's registrations for
Lawrence Berkeley National Laboratory (NET-128-3-0-0-1, NET-131-243-0-0-1).

Not covered, by the same page: LBL's visitor wireless and eduroam, ESnet and NERSC
(separate autonomous systems), so a machine there is not on LBLnet. Inside LBLnet
some subnets use private RFC 1918 addresses, so "no LBL address here" does not
prove a machine is off-site: the egress check's view of the public address does.
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
