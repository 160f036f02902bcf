"""`platform.vpn`: on LBLnet, on a VPN, or off-site; and does the gateway's traffic use the VPN.

CBorg accepts requests from LBLnet and the LBL VPN without more ado; from
anywhere else the public IP must be authorized. So the user needs to know
three things: is a VPN up (which client, which interface), does this machine
hold an LBL address, and would traffic to the gateway leave through the
tunnel or around it (split tunnel: the gateway then sees the home address).

Where the gateway's address comes from, in order: the base URL when it is an
IP literal; the `dns` check's ``DNS_ADDRESSES`` fact when it already ran; else the
system resolver, bounded by ``min(--timeout, 3 s)``. The last one is a real
lookup, which a user needs (api.cborg.lbl.gov is a name) and which the `dns`
check repeats anyway. With ``--nameserver`` the doctor does not resolve here
(the system resolver may not be the one wanted) and says the route is unknown.
"""

from __future__ import annotations

import ipaddress

from cborg_doctor.api import Check, Code, Finding, Outcome, RunContext, Severity
from cborg_doctor.cborg import KEY_PAGE, LBL_RANGES, is_lbl_address
from cborg_doctor.facts import DNS_ADDRESSES
from cborg_doctor.osfacts import OSFacts, Snapshot, for_context
from cborg_doctor.probes.route import LocalRoute
from cborg_doctor.vpnclients import Tunnel, find_tunnels, running_clients

from .wsl import detect as detect_wsl
from .wsl import parse_adapters

RANGES = ", ".join(str(n) for n in LBL_RANGES)

VPN_ACTIVE = Code(
    "VPN_ACTIVE",
    Severity.INFO,
    "{client} is connected: {interface} has {addresses}.{route}",
    explain="A VPN tunnel interface is up with an address: Linux cscotun0 (Cisco), tun*, "
    "wg*, ppp*, gpd*; macOS utun* (only with a VPN client running or the gateway's route "
    "through it, since macOS keeps idle utun interfaces); Windows adapters whose description "
    "names Cisco AnyConnect/Secure Client, PANGP, WireGuard, TAP. The client is named from "
    "its running process (vpnagentd, PanGPS, openvpn, ...). The route lookup tells whether "
    "traffic to the gateway goes through the tunnel or around it (split tunnel).",
)
ON_LBLNET = Code(
    "ON_LBLNET",
    Severity.INFO,
    "This machine has an LBL address: {addresses}.",
    explain=f"A local address is in LBL's public ranges ({RANGES}): the machine is on "
    "LBLnet or on the LBL VPN, where CBorg needs no IP authorization. The egress check "
    "confirms which address the gateway actually sees.",
)
OFFSITE = Code(
    "OFFSITE",
    Severity.INFO,
    "No local address is in LBL's ranges: this machine is off-site (or behind NAT).{note}",
    fix=(
        f"Off-site, CBorg accepts only authorized IP addresses: authorize this network's "
        f"public IP at {KEY_PAGE} (LBL login), or connect to the LBL VPN (Cisco Secure "
        "Client) and run the doctor again.",
        "Applications that speak only IPv4 need the IPv4 address authorized (and IPv6-only "
        "ones the IPv6 address): the egress check shows both.",
    ),
    explain=f"No interface holds an address in LBL's ranges ({RANGES}). That is normal "
    "at home, while travelling, and on LBL's visitor wireless or eduroam (separate networks, "
    "not LBLnet), and CBorg then requires IP authorization. Some LBLnet subnets use private "
    "addresses behind NAT: there the egress check tells the real picture.",
)
VPN_SPLIT_TUNNEL = Code(
    "VPN_SPLIT_TUNNEL",
    Severity.INFO,
    "The VPN is up, but traffic to the gateway ({destination}) leaves around it, via "
    "{interface} ({local}): the gateway sees this network's address, not the VPN's.",
    fix=(
        f"If the gateway refuses you (IP_NOT_ALLOWED), authorize this network's public IP at "
        f"{KEY_PAGE}, or connect with the VPN's full-tunnel profile so all traffic uses it.",
    ),
    explain="A split-tunnel VPN carries only some destinations; the gateway's address is "
    "not among them, so requests reach CBorg from your local network's public address.",
)


def gateway_addresses(ctx: RunContext, facts: OSFacts) -> tuple[list[str], str]:
    """The gateway's addresses for the route lookup, and where they came from."""
    target = ctx.target
    if not target.valid or not target.host:
        return [], "the base URL is not valid"
    host = target.host.strip("[]")
    try:
        return [str(ipaddress.ip_address(host))], "the base URL's address"
    except ValueError:
        pass
    shared = _addresses(ctx.fact(DNS_ADDRESSES))
    if shared:
        return shared, "the dns check's answer"
    if ctx.options.nameservers:
        return [], f"{host} was not resolved here: --nameserver is given, the dns check uses it"
    bound = ctx.timeouts.aside
    found = facts.resolve(host, bound)
    if found.addresses:
        return list(found.addresses), "the system resolver"
    return [], f"{host} {found.why()} (the dns check says why)"


def _addresses(value: object) -> list[str]:
    """Addresses shared by the dns check (``{"order": [...], "ipv4": ..., "ipv6": ...}``)."""
    if isinstance(value, dict):
        value = value.get("order") or [*(value.get("ipv4") or ()), *(value.get("ipv6") or ())]
    if not isinstance(value, (list, tuple, set, frozenset)):
        return []
    found = []
    for item in value:
        text = item if isinstance(item, str) else (
            item.get("address") if isinstance(item, dict) else getattr(item, "address", None))
        if isinstance(text, str):
            found.append(text)
    return found


def lookup_routes(facts: OSFacts, addresses: list[str], port: int) -> list[LocalRoute]:
    """One route lookup per family: the first IPv4 and the first IPv6 address."""
    picked: dict[int, str] = {}
    for address in addresses:
        try:
            version = ipaddress.ip_address(address.split("%", 1)[0]).version
        except ValueError:
            continue
        picked.setdefault(version, address)
    return [facts.route(picked[v], port) for v in sorted(picked)]


def windows_adapters(facts: OSFacts, ctx: RunContext) -> tuple[dict[str, dict[str, str]] | None, str]:
    if facts.system != "Windows":
        return None, ""
    result = facts.command("windows.adapters", ctx.timeouts.command)
    parsed = parse_adapters(result.stdout) if result.ok else None
    if parsed is None:
        why = result.describe("Get-NetAdapter") if not result.ok else "Get-NetAdapter output unreadable"
        return None, why
    return {a["name"]: a for a in parsed}, ""


def run(ctx: RunContext) -> Outcome:
    facts = for_context(ctx)
    snap = facts.snapshot()
    clients = running_clients(snap.processes or ())
    addresses, source = gateway_addresses(ctx, facts)
    routes = lookup_routes(facts, addresses, ctx.target.port or 443)
    route_ifaces = {}
    for route in routes:
        iface = snap.interface_of(route.local_address) if route.local_address else None
        route_ifaces[route.destination] = iface.name if iface else None
    adapters, adapters_why = windows_adapters(facts, ctx)
    tunnels = find_tunnels(facts, snap, clients, {n for n in route_ifaces.values() if n}, adapters)
    tunnel_names = {t.interface.name for t in tunnels}

    route_data = []
    route_texts = []
    for route in routes:
        iface = route_ifaces[route.destination]
        through = iface in tunnel_names if iface else None
        route_data.append({"destination": route.destination, "local_address": route.local_address,
                           "interface": iface, "through_vpn": through, "error": route.error})
        route_texts.append(_route_text(route, iface, through, bool(tunnels)))

    findings: list[Finding] = []
    joined = "; ".join(route_texts)
    vpn_route = f" {joined[:1].upper()}{joined[1:]}." if route_texts and tunnels else ""
    for tunnel in tunnels:
        addrs = ", ".join(a.address for a in tunnel.interface.routable())
        findings.append(VPN_ACTIVE.finding(client=tunnel.client, interface=tunnel.interface.name,
                                           addresses=addrs, route=vpn_route))
    for route in routes:
        iface = route_ifaces[route.destination]
        if tunnels and iface and iface not in tunnel_names and not _is_loopback(route.destination):
            findings.append(VPN_SPLIT_TUNNEL.finding(destination=route.destination,
                                                     interface=iface, local=route.local_address))

    lbl = _lbl_addresses(snap, routes)
    if lbl:
        findings.append(ON_LBLNET.finding(addresses=", ".join(f"{a} on {i}" for a, i in lbl)))
    elif snap.interfaces is not None:
        findings.append(OFFSITE.finding(note=_wsl_note(facts)))

    summary = _summary(tunnels, clients, lbl, snap, route_texts, source, addresses, adapters_why)
    data = {
        "clients": [c.name for c in clients] if snap.processes is not None else "unknown",
        "tunnels": [{"interface": t.interface.name, "client": t.client,
                     "addresses": [a.address for a in t.interface.routable()]} for t in tunnels],
        "lbl_addresses": [a for a, _ in lbl],
        "gateway_addresses": addresses,
        "address_source": source,
        "routes": route_data,
    }
    if snap.interfaces is None:
        data["interfaces"] = "unknown"
    return Outcome(summary, findings, data)


def _route_text(route: LocalRoute, iface: str | None, through: bool | None, vpn: bool) -> str:
    if route.local_address is None:
        if route.error == "no_route":
            family = "IPv6" if route.family == "ipv6" else "IPv4"
            return f"no route to the gateway's {family} address {route.destination}"
        return f"the route to {route.destination} is unknown"
    if _is_loopback(route.destination):
        return f"the gateway ({route.destination}) is on this machine (loopback)"
    where = iface or f"an interface not listed ({route.local_address})"
    if through:
        return f"the gateway ({route.destination}) is reached through the VPN ({where})"
    if vpn and iface:
        return f"the gateway ({route.destination}) is reached around the VPN, via {where} " \
            "(split tunnel)"
    return f"the gateway ({route.destination}) is reached via {where}"


def _is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


def _lbl_addresses(snap: Snapshot, routes: list[LocalRoute]) -> list[tuple[str, str]]:
    found: dict[str, str] = {}
    for interface in snap.interfaces or ():
        if interface.up is False:
            continue
        for address in interface.routable():
            if is_lbl_address(address.address):
                found.setdefault(address.address, interface.name)
    for route in routes:
        if route.local_address and is_lbl_address(route.local_address):
            found.setdefault(route.local_address, "the route's source address")
    return list(found.items())


def _wsl_note(facts: OSFacts) -> str:
    info = detect_wsl(facts)
    if info is not None and info.version != 1:
        return (" This is WSL 2: unless it runs in mirrored mode, a VPN on Windows is not "
                "visible here (see platform.wsl).")
    return ""


def _summary(tunnels: list[Tunnel], clients: list, lbl: list[tuple[str, str]], snap: Snapshot,
             route_texts: list[str], source: str, addresses: list[str], adapters_why: str) -> str:
    parts = []
    if snap.interfaces is None:
        parts.append("interfaces unknown (psutil could not read them)")
    elif tunnels:
        parts.append(", ".join(f"{t.client} on {t.interface.name}" for t in tunnels))
    else:
        parts.append("no VPN")
    if adapters_why:
        parts.append(f"adapter descriptions unknown ({adapters_why})")
    if snap.processes is None:
        parts.append("VPN processes unknown")
    if snap.interfaces is not None:
        parts.append(f"on LBLnet ({lbl[0][0]})" if lbl else "off-site")
    if route_texts:
        parts.append("; ".join(route_texts))
    elif not addresses:
        parts.append(f"route to the gateway unknown: {source}")
    return "; ".join(parts)


CHECK = Check(
    id="platform.vpn",
    title="VPN and LBLnet",
    run=run,
    codes=(VPN_ACTIVE, ON_LBLNET, OFFSITE, VPN_SPLIT_TUNNEL),
    order=50,
    description="VPN interfaces, LBLnet addresses, the route to the gateway",
)
