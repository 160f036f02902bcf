"""`dns`: A and AAAA of the gateway host, the system resolver against a direct query.

The user's clients resolve through getaddrinfo (hosts file, nsswitch, the VPN's
DNS); a direct query to the configured nameservers tells whether DNS agrees.
With ``--nameserver`` only those servers are asked, and every later connection
uses what they return. Through a proxy the proxy resolves the gateway, so a local
failure is only information, but the proxy's own name must resolve.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from types import MappingProxyType
from typing import Any

from cborg_doctor.api import Cause, Check, Code, Finding, Outcome, RunContext, Severity
from cborg_doctor.facts import DNS_ADDRESSES, PROXY_ADDRESSES
from cborg_doctor.findings import fill
from cborg_doctor.options import parse_nameserver
from cborg_doctor.osfacts import for_context
from cborg_doctor.probes import proxy, resolve
from cborg_doctor.probes.errors import Kind
from cborg_doctor.probes.http import prefetch_httpx
from cborg_doctor.probes.together import together
from cborg_doctor.target import LOCAL_ONLY_HOST, is_cborg_host, is_ip_literal, is_loopback

from . import offline

LOCAL_ONLY_STEP = (
    f"{LOCAL_ONLY_HOST} resolves only on LBLnet and the LBL VPN: connect the VPN, or use "
    "https://api.cborg.lbl.gov from anywhere else."
)

DNS_NXDOMAIN = Code(
    "DNS_NXDOMAIN",
    Severity.FAIL,
    "{host} does not exist according to {resolver} (NXDOMAIN).",
    causes={
        "typo": Cause("the name is not a CBorg host", (
            "Check the spelling of the base URL ({host}): the gateway is "
            "https://api.cborg.lbl.gov.",
        )),
        "filtered": Cause("api.cborg.lbl.gov, which exists in public DNS, is denied", (
            "{host} exists in public DNS, so this network's DNS hides it (a DNS filter, or a "
            "VPN's DNS without a view of it): try another network or reconnect the VPN, or ask "
            "the network's administrators to allow it.",
        )),
        "local_only": Cause("api-local.cborg.lbl.gov is asked for off LBLnet", (LOCAL_ONLY_STEP,)),
        "proxy": Cause("the proxy's host name does not exist", (
            "Check the proxy's host name ({host}) in HTTPS_PROXY/HTTP_PROXY: a proxy that "
            "exists only on one network (the office's) does not resolve elsewhere, so unset "
            "the variable there.",
        )),
    },
    explain="The name server answered that the name does not exist. Typical causes: a typo "
    "in the base URL, the LBLnet-only host api-local used off-site, or a DNS filter.",
    also=((Severity.INFO, 'when your clients use a proxy, which resolves names itself'),),
)
DNS_TIMEOUT = Code(
    "DNS_TIMEOUT",
    Severity.FAIL,
    "No DNS answer for {host} within {seconds:g} s: {who} did not answer.",
    causes={
        "timeout": Cause("the name server never answers", (
            "Check that {who} is the DNS server this network gives you: one left behind by a "
            "VPN that is no longer connected never answers. Reconnect the VPN, or reconnect "
            "to the network so that it hands out its own DNS server.",
            "If it is the right server, it (or a firewall on the way) drops DNS queries: try "
            "another network, or ask its administrators to let DNS (port 53) through.",
        )),
    },
    fix=(LOCAL_ONLY_STEP,),
    explain="The name servers did not answer in time: a firewall dropping DNS, a server that "
    "is down, or a DNS server that is only reachable through a VPN that is down. (With no "
    "network at all the doctor says NETWORK_DOWN instead.)",
    also=((Severity.INFO, 'when your clients use a proxy, which resolves names itself'),),
)
DNS_FAILED = Code(
    "DNS_FAILED",
    Severity.FAIL,
    "The DNS lookup of {host} failed: {reason}.",
    causes={
        "servfail": Cause("the name server answered SERVFAIL", (
            "Try again in a minute: {who} could not resolve {host} (SERVFAIL). If it "
            "persists, that server cannot reach the Internet's DNS: use another DNS server, "
            "or ask the network's administrators.",
        )),
        "refused_dns": Cause("the name server REFUSED the query", (
            "Use a DNS server that serves you: {who} refuses to answer this machine, it "
            "serves only its own network (often one left behind by a VPN or another network). "
            "Reconnect to the network or the VPN so that it gives you one, or {change}.",
        )),
        "dns_closed": Cause("nothing listens for DNS at the name server (port unreachable)", (
            "Nothing listens for DNS at {who}: if it is this machine's own resolver "
            "(systemd-resolved, dnsmasq), start it (`sudo systemctl start systemd-resolved`); "
            "otherwise {change}.",
        )),
        "dns_unreachable": Cause("there is no route to the name server", (
            "Reconnect the VPN or the network so that DNS is set up again: {who} cannot be "
            "reached from here (no route), it came from a network or VPN that is gone; or "
            "{change}.",
        )),
        "no_nameserver": Cause("no name server is configured", (
            "Put your network's DNS server in {resolv_conf} as a line `nameserver <address>`, "
            "or reconnect the network so that its manager (NetworkManager, systemd-resolved, "
            "DHCP) writes it again.",
        )),
        "dns": Cause("the system resolver fails while the name servers give no reason", (
            "The system resolver said \"{detail}\": restart this machine's resolver (Linux: "
            "`sudo systemctl restart systemd-resolved`; macOS: `sudo killall -HUP "
            "mDNSResponder`; Windows: `ipconfig /flushdns`) and check the `hosts:` line of "
            "/etc/nsswitch.conf.",
        )),
    },
    fix=(LOCAL_ONLY_STEP,),
    explain="The name server could not answer (SERVFAIL), refused to (REFUSED), does not "
    "listen on port 53, cannot be reached, or no name server is configured at all. The "
    "message names the server and where it was configured.",
    also=((Severity.INFO, 'when your clients use a proxy, which resolves names itself'),),
)
DNS_NO_IPV6 = Code(
    "DNS_NO_IPV6",
    Severity.INFO,
    "{host} has no IPv6 address (AAAA); clients connect over IPv4 ({ipv4}).",
    fix=("Nothing to do; IP authorization must name your IPv4 address.",),
    explain="Only IPv4 addresses were returned, so only IPv4 is tested.",
)
DNS_NO_IPV4 = Code(
    "DNS_NO_IPV4",
    Severity.INFO,
    "{host} has no IPv4 address (A); only IPv6 ({ipv6}).",
    fix=("Clients on IPv4-only networks cannot reach it; use https://api.cborg.lbl.gov.",),
    explain="Only IPv6 addresses were returned, so only IPv6 is tested.",
)
HOSTS_FILE = "/etc/hosts"
_CACHE_STEP = ("Flush the DNS cache (macOS: `sudo killall -HUP mDNSResponder`; Windows: "
               "`ipconfig /flushdns`; Linux: `resolvectl flush-caches`).")
_SPLIT_STEP = "On a VPN, the VPN's DNS may not be in use (split DNS): reconnect the VPN."
DNS_INCONSISTENT = Code(
    "DNS_INCONSISTENT",
    Severity.WARN,
    "The system resolver and DNS disagree about {host}: the system gives {system}, the "
    "name servers ({servers}) give {direct}.{hosts_note}",
    causes={
        "hosts": Cause("the hosts file names the host", (
            "Remove the line `{hosts_line}` from {hosts_file}: it sends {host} to {system}, "
            "away from what DNS gives ({direct}).",
        )),
        "split_dns": Cause("no hosts entry, and a VPN is up", (_SPLIT_STEP,)),
        "cache": Cause("no hosts entry and no VPN", (_CACHE_STEP,)),
        "system_only": Cause("only the system resolver answers", (
            "Nothing to do while your clients connect: the system's own resolver (a VPN's "
            "scoped DNS, a local resolver) knows {host} although {servers} do not answer for "
            "it.",
        )),
        "unknown": Cause("the hosts file could not be read", (
            "Look for a stale entry for {host} in /etc/hosts (Windows: "
            "C:\\Windows\\System32\\drivers\\etc\\hosts) and remove it.",
            _CACHE_STEP,
            _SPLIT_STEP,
        )),
    },
    explain="getaddrinfo (what your programs use) and a direct DNS query returned different "
    "addresses: a hosts-file entry, split-horizon DNS, or a VPN whose DNS is not in use.",
    also=((Severity.INFO,
           'when the system resolver answers and the name servers do not'
           ' (often split DNS on a VPN)'),),
)
CODES = (DNS_NXDOMAIN, DNS_TIMEOUT, DNS_FAILED, DNS_NO_IPV6, DNS_NO_IPV4, DNS_INCONSISTENT,
         offline.NETWORK_DOWN)
_BY_NAME = MappingProxyType({code.code: code for code in CODES})
# Which code each lookup kind (cborg_doctor.probes.errors) becomes.
DNS_CODE = MappingProxyType({
    Kind.NXDOMAIN: "DNS_NXDOMAIN",
    Kind.TIMEOUT: "DNS_TIMEOUT",
    Kind.SERVFAIL: "DNS_FAILED",
    Kind.REFUSED_DNS: "DNS_FAILED",
    Kind.DNS_CLOSED: "DNS_FAILED",
    Kind.DNS_UNREACHABLE: "DNS_FAILED",
    Kind.NO_NAMESERVER: "DNS_FAILED",
    Kind.DNS: "DNS_FAILED",
    "network_down": "NETWORK_DOWN",  # not an exception's kind: offline.py decides it
})
_REASONS = MappingProxyType({
    "servfail": "{who} answered SERVFAIL",
    "refused_dns": "{who} REFUSED the query",
    "dns_closed": "nothing listens for DNS at {who} (port unreachable)",
    "dns_unreachable": "there is no route to {who} ({detail})",
    "no_nameserver": "no name server is configured ({detail})",
    "dns": "{resolver} says \"{detail}\"",
})
_SOURCES = MappingProxyType({"--nameserver": "given with --nameserver"})


def listed(items: Sequence[str], limit: int = 4) -> str:
    """A list for a one-line message: a hostile or odd DNS answer may hold thousands."""
    shown = ", ".join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def describe_resolver(found: resolve.Lookup) -> str:
    if found.method == "system":
        return "the system resolver"
    return "the name server " + ", ".join(found.servers) if found.servers else "DNS"


def who(found: resolve.Lookup, kind: str, other: resolve.Lookup | None = None) -> str:
    """The name servers behind a failure, and where they were configured."""
    for lookup in (found, other):
        if lookup is None or lookup.method != "nameserver" or not lookup.servers:
            continue
        failed = [server for server, k in lookup.failed_servers if k == kind]
        servers = failed or list(lookup.servers)
        source = _SOURCES.get(lookup.source, f"from {lookup.source}" if lookup.source else "")
        noun = "the name server" if len(servers) == 1 else "the name servers"
        return f"{noun} {listed(servers)}" + (f" ({source})" if source else "")
    return "the system's name servers"


def nxdomain_cause(host: str, proxy_host: bool = False) -> str:
    if proxy_host:
        return "proxy"
    name = host.lower().rstrip(".")
    if name == LOCAL_ONLY_HOST:
        return "local_only"
    return "filtered" if is_cborg_host(name) else "typo"


def failure(found: resolve.Lookup, host: str, timeout: float,
            other: resolve.Lookup | None = None, proxy_host: bool = False) -> Finding:
    """The finding for a lookup with no address; `other` refines the system's vague errors."""
    kind = found.error or "dns"
    if kind == "dns" and other is not None and not other.ok and other.error in DNS_CODE:
        kind = other.error  # getaddrinfo's EAI_AGAIN: the direct query says timeout/SERVFAIL
    code = _BY_NAME[DNS_CODE.get(kind, "DNS_FAILED")]
    detail = (found.detail if kind == found.error or other is None else other.detail) or kind
    facts = dict(host=host, resolver=describe_resolver(found), seconds=timeout, detail=detail,
                 who=who(found, kind, other), resolv_conf=resolve.RESOLV_CONF,
                 change=_change(found, other))
    cause = nxdomain_cause(host, proxy_host) if kind == "nxdomain" else kind
    finding = code.finding(
        cause=cause, reason=fill(_REASONS.get(kind, detail), facts),
        data={"kind": kind, "detail": detail, "system_said": found.detail
              if found.method == "system" else ""}, **facts,
    )
    return for_host(finding, host)


def _change(found: resolve.Lookup, other: resolve.Lookup | None) -> str:
    if found.source == "--nameserver":
        return "give a working server with --nameserver"
    if ((other and other.source) or found.source) == resolve.RESOLV_CONF:
        return f"set a working server in {resolve.RESOLV_CONF} (or your network settings)"
    return "set a working DNS server in your network settings"


def network_down(ctx: RunContext, failed: Sequence[resolve.Lookup]) -> Finding | None:
    """NETWORK_DOWN when the lookups failed because nothing leaves this machine."""
    servers: list[tuple[str, str]] = []
    said: list[str] = []
    for found in failed:
        if found.ok or found.error in ("nxdomain", "no_answer"):
            return None  # a name server answered: the network works
        if found.method == "nameserver" and found.source == "--nameserver" \
                and found.error != "dns_unreachable":
            return None  # servers chosen by hand, and they are reachable
        for server in found.servers:
            try:
                servers.append((f"the name server {server}", parse_nameserver(server)[0]))
            except ValueError:  # a scoped IPv6 address: its route is the interface's
                continue
        if found.method == "system" and found.detail and found.error == "dns":
            said.append(f"The system resolver says \"{found.detail}\".")
    down = offline.offline(ctx, list(dict.fromkeys(servers)), port=53)
    if down is None:
        return None
    return offline.finding(down, said)


def for_host(finding: Finding, host: str) -> Finding:
    """Keep the api-local fix step only when the host is api-local."""
    if host.lower() == LOCAL_ONLY_HOST:
        return finding
    return replace(finding, fix=tuple(s for s in finding.fix if s != LOCAL_ONLY_STEP))


def disagreement(system: resolve.Lookup, direct: resolve.Lookup,
                 hosts_line: str | None = None, vpn: bool = False) -> Finding | None:
    """DNS_INCONSISTENT when the two methods share no address for a family both answer,
    or the system resolver answers while the name servers do not. `hosts_line` is the
    hosts file's line for the host ("" when it has none, None when unknown)."""
    if system.ok and direct.ok:
        pairs = ((system.a, direct.a), (system.aaaa, direct.aaaa))
        if not any(
            mine.addresses and theirs.addresses and not set(mine.addresses) & set(theirs.addresses)
            for mine, theirs in pairs
        ):
            return None
    elif not system.ok or direct.error == "no_nameserver":
        return None  # nothing to compare against
    # The system answers and the name servers do not: often split DNS (a VPN's scoped
    # resolver, macOS), which works for the clients; worth knowing, not a warning.
    severity = Severity.WARN if direct.ok else Severity.INFO
    if hosts_line:
        cause = "hosts"
    elif hosts_line is None:
        cause = "unknown"
    elif not direct.ok:
        cause = "system_only"
    else:
        cause = "split_dns" if vpn else "cache"
    return DNS_INCONSISTENT.finding(
        severity=severity,
        cause=cause,
        host=system.host,
        system=_shown(system),
        direct=_shown(direct),
        servers=", ".join(direct.servers) or "configured",
        hosts_line=hosts_line or "", hosts_file=HOSTS_FILE,
        hosts_note=f" {HOSTS_FILE} has `{hosts_line}`." if hosts_line else "",
        data={"system": list(system.addresses), "direct": list(direct.addresses),
              "cause": cause},
    )


def hosts_line(ctx: RunContext, host: str) -> str | None:
    """The hosts file's line naming `host`: "" when none does, None when it cannot be read."""
    facts = for_context(ctx)
    if facts.system == "Windows":
        return None
    text = facts.read_text(HOSTS_FILE)
    if text is None:
        return None
    wanted = host.lower().rstrip(".")
    for line in text.splitlines():
        fields = line.split("#", 1)[0].split()
        if len(fields) > 1 and wanted in (name.lower().rstrip(".") for name in fields[1:]):
            return " ".join(fields)[:200]
    return ""


def _shown(found: resolve.Lookup) -> str:
    if found.ok:
        return listed(found.addresses)
    return found.error or "nothing"


def family_notes(found: resolve.Lookup) -> list[Finding]:
    host = found.host
    if found.a.addresses and not found.aaaa.addresses:
        return [DNS_NO_IPV6.finding(host=host, ipv4=listed(found.a.addresses))]
    if found.aaaa.addresses and not found.a.addresses:
        return [DNS_NO_IPV4.finding(host=host, ipv6=listed(found.aaaa.addresses))]
    return []


def lookup_data(found: resolve.Lookup) -> dict[str, Any]:
    return {
        "method": found.method,
        "servers": list(found.servers),
        "ipv4": list(found.a.addresses),
        "ipv6": list(found.aaaa.addresses),
        "error": found.error,
        "detail": found.detail,
        "ms": round(found.ms, 1),
    }


def summary(found: resolve.Lookup) -> str:
    parts = [f"{len(found.a.addresses)} IPv4", f"{len(found.aaaa.addresses)} IPv6"]
    return f"{found.host} → {', '.join(parts)} ({describe_resolver(found)}, {found.ms:.0f} ms)"


def proxy_findings(ctx: RunContext, decision: proxy.ProxyDecision
                   ) -> tuple[list[Finding], dict, resolve.Lookup]:
    """The proxy's own name must resolve: clients connect to it first."""
    host, port = decision.host_port or ("", 0)
    found = resolve.literal_lookup(host) if is_ip_literal(host) else resolve.lookup(ctx, host)
    ctx.share(PROXY_ADDRESSES, {"host": host, "port": port, **found.to_fact()})
    data = {"proxy": decision.shown, "proxy_lookup": lookup_data(found)}
    if found.ok:
        return [], data, found
    finding = failure(found, host, ctx.timeout, proxy_host=True)
    message = f"The proxy's host name cannot be resolved: {finding.message}"
    return [replace(finding, message=message)], data, found


def run(ctx: RunContext) -> Outcome:
    prefetch_httpx()  # TLS and HTTP need it soon; its import overlaps with the lookups
    target = ctx.target
    host = target.host
    decision = proxy.decision(ctx)
    proxied = decision.url is not None
    findings: list[Finding] = []
    data: dict[str, Any] = {"host": host}
    # The proxy's name, the clients' lookup and the direct query run at once.
    direct_wanted = not is_ip_literal(host) and not is_loopback(host) and not ctx.options.nameservers
    jobs: list[Any] = [
        lambda: proxy_findings(ctx, decision) if proxied else ([], {}, None),
        lambda: resolve.direct_lookup(host, None, ctx.timeout) if direct_wanted else None,
        lambda: None if is_ip_literal(host) else resolve.lookup(ctx),
    ]
    proxy_part, second, primary = together(*jobs)
    for part in (proxy_part, second, primary):
        if isinstance(part, BaseException):
            raise part
    found_proxy, proxy_data, proxy_lookup = proxy_part
    data.update(proxy_data)
    if found_proxy:
        down = network_down(ctx, [proxy_lookup])
        findings += [down] if down is not None else found_proxy
    if is_ip_literal(host):
        found = resolve.literal_lookup(host)
        ctx.share(DNS_ADDRESSES, found.to_fact())
        data["addresses"] = found.to_fact()
        return Outcome(f"{host} is an IP address: no lookup needed", findings, data)
    if second is not None:  # no direct query for localhost: DNS never answers for it
        data["direct"] = lookup_data(second)
    data["primary"] = lookup_data(primary)
    ctx.share(DNS_ADDRESSES, primary.to_fact())
    data["addresses"] = primary.to_fact()
    if not primary.ok:
        down = None if proxied else network_down(
            ctx, [primary, *([second] if second is not None else [])])
        if down is not None:
            findings.append(down)
            seen = offline.NETWORK_DOWN.causes.get(str(down.data.get("cause")))
            why = f": {seen.when}" if seen is not None else ""
            return Outcome(f"{host}: no network{why}", findings, data)
        finding = failure(primary, host, ctx.timeout, second)
        if second is not None and second.ok:
            finding = replace(finding, message=finding.message + (
                f" A direct query to {', '.join(second.servers)} does answer "
                f"({', '.join(second.addresses)}): the system's resolver setup is at fault."))
        if proxied:
            finding = replace(finding, severity=Severity.INFO, message=finding.message + (
                f" Your clients go through the proxy {decision.shown}, which resolves names "
                "itself, so this only matters without the proxy."))
        findings.append(finding)
        kind = finding.data.get("kind") or primary.error
        return Outcome(f"{host}: {kind} ({describe_resolver(primary)})", findings, data)
    findings += family_notes(primary)
    if second is not None and disagreement(primary, second) is not None:
        facts = for_context(ctx)
        vpn = bool(offline.vpn_state(facts, facts.snapshot())[1]) if second.ok else False
        odd = disagreement(primary, second, hosts_line(ctx, host), vpn)
        if odd is not None:
            findings.append(odd)
    return Outcome(summary(primary), findings, data)


CHECK = Check(
    id="dns",
    title="DNS",
    run=run,
    needs=("config.base_url",),
    codes=CODES,
    order=70,
    description="A and AAAA of the gateway host, system resolver vs direct query",
)
