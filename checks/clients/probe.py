"""The two facts about this machine that `config.clients` needs, each replaceable in tests.

- Is a local proxy up? `tcp_probe` opens one TCP connection per loopback address
  (`cborg_doctor.probes.tcp.connect`); ``localhost`` tries 127.0.0.1, then ::1.
- Is this machine off-site? `offsite_from(local_addresses)`: yes when it has
  addresses and none is in LBL's ranges (`cborg_doctor.cborg`); unknown (None)
  when its addresses cannot be read, in which case nothing is claimed.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass

from cborg_doctor.cborg import is_lbl_address
from cborg_doctor.probes.tcp import connect


@dataclass(frozen=True)
class ProxyState:
    up: bool
    detail: str


Probe = Callable[[str, int], ProxyState]


def _loopback_addresses(host: str) -> list[str]:
    clean = host.strip("[]")
    if clean.lower() == "localhost":
        return ["127.0.0.1", "::1"]
    try:
        ip = ipaddress.ip_address(clean)
    except ValueError:
        return []
    if ip.is_unspecified:  # 0.0.0.0 and :: reach this machine
        return ["127.0.0.1"] if ip.version == 4 else ["::1"]
    return [str(ip)]


def tcp_probe(timeout: float) -> Probe:
    """A probe that opens one TCP connection to each address of a loopback host."""

    def probe(host: str, port: int) -> ProxyState:
        details: list[str] = []
        for address in _loopback_addresses(host):
            result = connect(address, port, timeout)
            if result.ok:
                return ProxyState(True, "connected")
            details.append(f"{address}: {result.detail or result.error}")
        return ProxyState(False, "; ".join(details) or "not a loopback address")

    return probe


def local_addresses() -> list[str] | None:
    """This machine's interface addresses, or None when they cannot be read."""
    try:
        import psutil

        interfaces = psutil.net_if_addrs()
    except Exception:  # psutil missing or the OS refused: unknown, not an error
        return None
    found: list[str] = []
    for addresses in interfaces.values():
        for address in addresses:
            text = str(getattr(address, "address", "") or "").split("%", 1)[0]
            try:
                ip = ipaddress.ip_address(text)
            except ValueError:
                continue
            if not (ip.is_loopback or ip.is_link_local):
                found.append(text)
    return found


def offsite_from(addresses: Callable[[], list[str] | None]) -> Callable[[], bool | None]:
    """True when no local address is in LBL's ranges; None when that cannot be told."""
    memo: list[bool | None] = []

    def offsite() -> bool | None:
        if not memo:
            found = addresses()
            memo.append(None if not found else not any(is_lbl_address(a) for a in found))
        return memo[0]

    return offsite
