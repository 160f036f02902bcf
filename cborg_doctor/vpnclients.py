"""Which VPN clients run here and which tunnel interfaces are up, from `OSFacts`.

Read by two check families: platform.vpn (VPN_ACTIVE, VPN_SPLIT_TUNNEL) and
net.offline (a VPN that dropped, taking the routes with it), and Windows adapter
descriptions by platform.wsl too. No codes here: each check says what it means.

    what                  Linux / BSD                  macOS                  Windows
    ────────────────────  ───────────────────────────  ─────────────────────  ──────────────────────────
    a tunnel              cscotun*, tun*, wg*, ppp*,   utun* with a client    an adapter whose
                          gpd*, vpn*, tailscale*,      running or the         description names a VPN
                          ipsec*                       gateway's route on it  (`VPN_ADAPTER_WORDS`)
    its client            the interface prefix, else   the running client     the adapter's words, else
                          the running client                                  the running client
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from .osfacts import Interface, OSFacts, Snapshot

VPN_ADAPTER_WORDS = (
    "cisco anyconnect", "cisco secure client", "pangp", "globalprotect", "wireguard",
    "tap-windows", "openvpn", "fortinet", "fortissl", "juniper", "pulse secure", "ivanti",
    "f5 ", "zscaler", "wintun", "check point", "sonicwall", "vpn",
)


@dataclass(frozen=True)
class Client:
    """A VPN client: its process names, interface name prefixes, adapter description words."""

    name: str
    processes: tuple[str, ...]
    interfaces: tuple[str, ...] = ()
    adapters: tuple[str, ...] = ()


CLIENTS = (
    Client("Cisco Secure Client (AnyConnect)",
           ("vpnagentd", "acvpnagent", "vpnagent", "csc_vpnagent", "vpnui", "acvpnui", "csc_ui",
            "cisco secure client", "cisco anyconnect secure mobility client"),
           ("cscotun",), ("cisco anyconnect", "cisco secure client")),
    Client("openconnect", ("openconnect",)),
    Client("GlobalProtect", ("pangps", "pangpa", "gpd", "globalprotect"), ("gpd",),
           ("pangp", "globalprotect")),
    Client("WireGuard", ("wireguard", "wireguard-go"), ("wg",), ("wireguard",)),
    Client("OpenVPN", ("openvpn", "openvpn-gui", "openvpnconnect", "openvpn connect",
                       "openvpnserv"), (), ("tap-windows", "openvpn")),
    Client("FortiClient", ("openfortivpn", "forticlient", "fortitray", "fortisslvpndaemon"), (),
           ("fortinet", "fortissl")),
    Client("Tailscale", ("tailscaled", "tailscale-ipn"), ("tailscale",), ("tailscale",)),
)
# Interface names that are tunnels on Linux and BSD; macOS utun* is handled apart.
TUNNEL_PREFIXES = ("cscotun", "tun", "wg", "ppp", "gpd", "vpn", "tailscale", "ipsec")


def _process_key(name: str) -> str:
    return re.sub(r"\.exe$", "", name.strip().lower())


def running_clients(processes: Iterable[str]) -> list[Client]:
    names = {_process_key(p) for p in processes}
    return [c for c in CLIENTS if names & set(c.processes)]


@dataclass(frozen=True)
class Tunnel:
    interface: Interface
    client: str


def find_tunnels(
    facts: OSFacts, snap: Snapshot, clients: list[Client], route_interfaces: set[str],
    adapters: dict[str, dict[str, str]] | None,
) -> list[Tunnel]:
    """The VPN tunnels that are up and carry an address, named after their client."""
    found = []
    for interface in snap.interfaces or ():
        if interface.up is False or not interface.routable():
            continue
        name = interface.name.lower()
        client: str | None = None
        if facts.system == "Windows":
            adapter = (adapters or {}).get(interface.name)
            text = f"{adapter['description']} {interface.name}" if adapter else interface.name
            if adapter is None and "vpn" not in name:
                continue
            if adapter is not None and not is_vpn_adapter(adapter):
                continue
            client = _client_by(text.lower(), "adapters") or _first(clients)
        elif facts.system == "Darwin" and name.startswith("utun"):
            if not clients and interface.name not in route_interfaces:
                continue
            client = _first(clients)
        elif name.startswith(TUNNEL_PREFIXES):
            client = _client_by(name, "interfaces", prefix=True) or _first(clients)
        else:
            continue
        found.append(Tunnel(interface, client or "A VPN"))
    return found


def _client_by(text: str, field: str, prefix: bool = False) -> str | None:
    for client in CLIENTS:
        words = getattr(client, field)
        if any(text.startswith(w) if prefix else w in text for w in words):
            return client.name
    return None


def _first(clients: list[Client]) -> str | None:
    return clients[0].name if clients else None


def is_vpn_adapter(adapter: dict[str, str]) -> bool:
    text = f" {adapter.get('description', '')} {adapter.get('name', '')} ".lower()
    return any(word in text for word in VPN_ADAPTER_WORDS)
