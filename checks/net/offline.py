"""`NETWORK_DOWN`: no network at all, told apart from DNS or gateway trouble by local facts.

On a machine with no network a lookup fails like any DNS failure (glibc says
"Temporary failure in name resolution") and a connection like any routing problem
("Network is unreachable"). What tells "no network" apart is on the machine itself:
the kernel has no route out (a route lookup is a UDP connect: it sends nothing), and
the interfaces say why: none is up but loopback, one is up without an address, or one
has an address but no gateway (often a VPN that dropped and took the routes with it).

The dns check asks `offline()` when a lookup fails; net.ipv4/net.ipv6 when no address
of either family has a route. `judge()` is pure and decides from the facts alone:

    every route lookup says no route?   interfaces (not loopback) up     cause
    ─────────────────────────────────   ─────────────────────────────   ───────────
    no (or unknown)                     –                               not offline
    yes                                 none                            no_interface
    yes                                 some, none with an address      no_address
    yes                                 with addresses; a VPN client    vpn_dropped
                                        runs or a tunnel is up
    yes                                 with addresses                  no_route
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from cborg_doctor.api import Cause, Code, Finding, RunContext, Severity
from cborg_doctor.osfacts import Interface, OSFacts, Snapshot, for_context
from cborg_doctor.probes.route import LocalRoute
from cborg_doctor.vpnclients import find_tunnels, running_clients

# Stand-ins for "anywhere outside this network" (documentation ranges: only a default
# route covers them). Only their routes are looked up; no packet is ever sent to them.
OUTSIDE = ("198.51.100.1", "2001:db8::1")

NETWORK_DOWN = Code(
    "NETWORK_DOWN",
    Severity.FAIL,
    "This machine has no network connection: {seen}.{said}",
    causes={
        "no_interface": Cause(
            "no network interface but loopback is up",
            ("Connect to a network: turn Wi-Fi on or plug in the network cable ({bring_up}), "
             "then run the doctor again.",)),
        "no_address": Cause(
            "an interface is up but has no IP address",
            ("Reconnect to the network so it gives {interfaces} an address: turn Wi-Fi off "
             "and on or replug the cable (Linux: `nmcli connection up <name>` or `sudo "
             "dhclient {interfaces}`); on a network without DHCP set the address by hand.",)),
        "vpn_dropped": Cause(
            "a VPN client runs but no route leads out (the VPN dropped)",
            ("Reconnect the VPN ({vpn}): when it dropped it took its routes with it. If it "
             "will not reconnect, quit it (its routes go with it) and reconnect to your "
             "network.",)),
        "no_route": Cause(
            "an interface has an address but there is no route out",
            ("Reconnect to the network so it gives this machine a gateway (turn Wi-Fi off "
             "and on, replug the cable); afterwards `ip route` (macOS: `netstat -rn`, "
             "Windows: `route print`) must show a default route.",)),
    },
    explain="Nothing leaves this machine: the kernel has no route to the name servers, to "
    "the gateway or to any address outside. The interfaces tell why: none is up but "
    "loopback (Wi-Fi off, cable out), one is up without an address (no DHCP lease), or "
    "one has an address but no gateway (a VPN that dropped and took the routes with it). "
    "Every later check would fail for the same reason, so they are skipped.",
)


@dataclass(frozen=True)
class Offline:
    """Why this machine is offline: a `NETWORK_DOWN` cause and what was seen."""

    cause: str
    seen: str
    interfaces: str = ""
    vpn: str = ""


def _is_loopback(interface: Interface) -> bool:
    name = interface.name.lower()
    if name in ("lo", "lo0") or name.startswith("loopback"):
        return True
    addresses = [a.address.split("%", 1)[0] for a in interface.addresses]
    try:
        return bool(addresses) and all(ipaddress.ip_address(a).is_loopback for a in addresses)
    except ValueError:
        return False


def _names(interfaces: Iterable[Interface]) -> str:
    return ", ".join(i.name for i in interfaces)


def _route_text(routes: Sequence[tuple[str, LocalRoute]]) -> str:
    reason = next((r.detail for _, r in routes if r.detail), "") or "Network is unreachable"
    places = [label for label, _ in routes]
    joined = ", ".join(places[:-1]) + (" or to " if len(places) > 1 else "") + places[-1]
    return f"there is no route to {joined} ({reason})"


def judge(snap: Snapshot, routes: Sequence[tuple[str, LocalRoute]],
          vpn_clients: Sequence[str] = (), tunnels: Sequence[str] = ()) -> Offline | None:
    """Offline, and why, when every route lookup says "no route"; None otherwise (pure).

    `routes` pairs a label ("the name server 10.0.0.53") with its lookup.
    """
    if not routes or any(r.error != "no_route" for _, r in routes):
        return None
    no_route = _route_text(routes)
    if snap.interfaces is None:
        return Offline("no_route", no_route)
    up = [i for i in snap.interfaces if i.up is not False and not _is_loopback(i)]
    addressed = [i for i in up if i.routable()]
    if not up:
        down = [i for i in snap.interfaces if i.up is False and not _is_loopback(i)]
        note = f" ({_names(down)} {'is' if len(down) == 1 else 'are'} down)" if down else ""
        return Offline("no_interface", f"no network interface is up except loopback{note}, "
                       f"and {no_route}", interfaces=_names(down))
    if not addressed:
        verb = "is" if len(up) == 1 else "are"
        return Offline("no_address", f"{_names(up)} {verb} up but without an IP address, and "
                       f"{no_route}", interfaces=_names(up))
    held = "; ".join(f"{i.name} has {', '.join(a.address for a in i.routable()[:2])}"
                     for i in addressed[:3])
    if vpn_clients or tunnels:
        vpn = vpn_clients[0] if vpn_clients else f"the VPN on {tunnels[0]}"
        state = "its tunnel is up" if tunnels else "no tunnel is up"
        return Offline("vpn_dropped", f"{held}, but {no_route}; {vpn} is running and {state}",
                       interfaces=_names(addressed), vpn=vpn)
    return Offline("no_route", f"{held}, but {no_route}", interfaces=_names(addressed))


def finding(found: Offline, said: Sequence[str] = (), data: dict | None = None) -> Finding:
    """The NETWORK_DOWN finding; `said` quotes the resolver's and sockets' own words."""
    quoted = "".join(f" {text}" for text in said if text)
    return NETWORK_DOWN.finding(
        cause=found.cause, seen=found.seen, said=quoted, interfaces=found.interfaces,
        vpn=found.vpn, bring_up=_bring_up(found), data={"kind": "network_down",
                                                      "cause": found.cause, **(data or {})})


def _bring_up(found: Offline) -> str:
    """The command that brings the interfaces up, when the doctor saw which are down."""
    if found.cause == "no_interface" and found.interfaces:
        first = found.interfaces.split(", ")[0]
        return f"Linux: `sudo ip link set {first} up` or `nmcli radio wifi on`"
    return "Linux: `nmcli radio wifi on`"


def vpn_state(facts: OSFacts, snap: Snapshot) -> tuple[list[str], list[str]]:
    clients = running_clients(snap.processes or ())
    tunnels = find_tunnels(facts, snap, clients, set(), None)
    return [c.name for c in clients], [t.interface.name for t in tunnels]


def offline(ctx: RunContext, destinations: Sequence[tuple[str, str]], port: int = 443,
            name_outside: bool = True) -> Offline | None:
    """Look the routes up (and, when none exists, the interfaces): is this machine offline?

    `destinations` are (label, IP address) pairs; loopback ones are left out. The
    `OUTSIDE` stand-ins are always looked up too (a machine with IPv4 but no IPv6 is not
    offline), and named "the Internet" in the message when `name_outside` is true.
    """
    facts = for_context(ctx)
    wanted = [(label, address) for label, address in destinations if not _loopback(address)]
    wanted += [("the Internet" if name_outside else "", OUTSIDE[0]), ("", OUTSIDE[1])]
    routes = [(label, facts.route(address, port)) for label, address in wanted]
    if any(r.error != "no_route" for _, r in routes):
        return None  # the usual case: a route lookup or two, no interface scan
    labelled = [(label, r) for label, r in routes if label]
    snap = facts.snapshot()
    clients, tunnels = vpn_state(facts, snap)
    return judge(snap, labelled, clients, tunnels)


def _loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address.split("%", 1)[0].strip("[]")).is_loopback
    except ValueError:
        return True  # not an address: nothing to look up
