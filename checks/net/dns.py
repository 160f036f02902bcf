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

from cborg_doctor.api import Check, Code, Finding, Outcome, RunContext, Severity
from cborg_doctor.facts import DNS_ADDRESSES, PROXY_ADDRESSES
from cborg_doctor.probes import proxy, resolve
from cborg_doctor.probes.errors import DNS_CODE
from cborg_doctor.probes.http import prefetch_httpx
from cborg_doctor.probes.together import together
from cborg_doctor.target import LOCAL_ONLY_HOST, is_ip_literal, is_loopback

LOCAL_ONLY_STEP = (
    f"{LOCAL_ONLY_HOST} resolves only on LBLnet and the LBL VPN: connect the VPN, or use "
    "https://api.cborg.lbl.gov from anywhere else."
)

DNS_NXDOMAIN = Code(
    "DNS_NXDOMAIN",
    Severity.FAIL,
    "{host} does not exist according to {resolver} (NXDOMAIN).",
    fix=(
        "Check the spelling of the base URL: the gateway is https://api.cborg.lbl.gov.",
        LOCAL_ONLY_STEP,
        "If other names resolve but this one does not, your network filters DNS: try "
        "another network, or ask its administrators.",
    ),
    explain="The name server answered that the name does not exist. Typical causes: a typo "
    "in the base URL, the LBLnet-only host api-local used off-site, or a DNS filter.",
)
DNS_TIMEOUT = Code(
    "DNS_TIMEOUT",
    Severity.FAIL,
    "No DNS answer for {host} from {resolver} within {seconds:g} s.",
    fix=(
        "Check that this machine is online (open any web page).",
        "On a VPN, the VPN's DNS servers may be unreachable: reconnect the VPN.",
        "Under WSL 2 with a VPN: set dnsTunneling=true in %UserProfile%\\.wslconfig, "
        "run `wsl --shutdown`, reopen WSL.",
        LOCAL_ONLY_STEP,
    ),
    explain="The name servers did not answer in time: no network, a firewall dropping DNS, "
    "or DNS servers that are only reachable through a VPN that is down.",
)
DNS_FAILED = Code(
    "DNS_FAILED",
    Severity.FAIL,
    "The DNS lookup of {host} through {resolver} failed: {reason}.",
    fix=(
        "SERVFAIL or REFUSED come from the name server: try again in a minute, or use "
        "another network's DNS.",
        "No name server configured: check /etc/resolv.conf (Linux/WSL) or your network "
        "settings.",
        LOCAL_ONLY_STEP,
    ),
    explain="The name server could not answer (SERVFAIL), refused to (REFUSED), or no name "
    "server is configured at all.",
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
DNS_INCONSISTENT = Code(
    "DNS_INCONSISTENT",
    Severity.WARN,
    "The system resolver and DNS disagree about {host}: the system gives {system}, the "
    "name servers ({servers}) give {direct}.",
    fix=(
        "Look for a stale entry for {host} in /etc/hosts (Windows: "
        "C:\\Windows\\System32\\drivers\\etc\\hosts) and remove it.",
        "Flush the DNS cache (macOS: `sudo killall -HUP mDNSResponder`; Windows: "
        "`ipconfig /flushdns`; Linux: `resolvectl flush-caches`).",
        "On a VPN, the VPN's DNS may not be in use (split DNS): reconnect the VPN.",
    ),
    explain="getaddrinfo (what your programs use) and a direct DNS query returned different "
    "addresses: a hosts-file entry, split-horizon DNS, or a VPN whose DNS is not in use.",
)
CODES = (DNS_NXDOMAIN, DNS_TIMEOUT, DNS_FAILED, DNS_NO_IPV6, DNS_NO_IPV4, DNS_INCONSISTENT)
_BY_NAME = MappingProxyType({code.code: code for code in CODES})
_REASONS = MappingProxyType({
    "servfail": "the name server answered SERVFAIL",
    "refused_dns": "the name server REFUSED the query",
    "no_nameserver": "no name server is configured",
    "dns": "the resolver reported a temporary failure",
})


def listed(items: Sequence[str], limit: int = 4) -> str:
    """A list for a one-line message: a hostile or odd DNS answer may hold thousands."""
    shown = ", ".join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def describe_resolver(found: resolve.Lookup) -> str:
    if found.method == "system":
        return "the system resolver"
    return "the name server " + ", ".join(found.servers) if found.servers else "DNS"


def failure(found: resolve.Lookup, host: str, timeout: float,
            other: resolve.Lookup | None = None) -> Finding:
    """The finding for a lookup with no address; `other` refines the system's vague errors."""
    kind = found.error or "dns"
    if kind == "dns" and other is not None and other.error in DNS_CODE:
        kind = other.error  # getaddrinfo's EAI_AGAIN: the direct query says timeout/SERVFAIL
    code = _BY_NAME[DNS_CODE.get(kind, "DNS_FAILED")]
    finding = code.finding(
        host=host, resolver=describe_resolver(found), seconds=timeout,
        reason=_REASONS.get(kind, found.detail or kind),
        data={"kind": kind, "detail": found.detail},
    )
    return for_host(finding, host)


def for_host(finding: Finding, host: str) -> Finding:
    """Keep the api-local fix step only when the host is api-local."""
    if host.lower() == LOCAL_ONLY_HOST:
        return finding
    return replace(finding, fix=tuple(s for s in finding.fix if s != LOCAL_ONLY_STEP))


def disagreement(system: resolve.Lookup, direct: resolve.Lookup) -> Finding | None:
    """DNS_INCONSISTENT when the two methods share no address for a family both answer,
    or the system resolver answers while the name servers do not."""
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
    return DNS_INCONSISTENT.finding(
        severity=severity,
        host=system.host,
        system=_shown(system),
        direct=_shown(direct),
        servers=", ".join(direct.servers) or "configured",
        data={"system": list(system.addresses), "direct": list(direct.addresses)},
    )


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


def proxy_findings(ctx: RunContext, decision: proxy.ProxyDecision) -> tuple[list[Finding], dict]:
    """The proxy's own name must resolve: clients connect to it first."""
    host, port = decision.host_port or ("", 0)
    found = resolve.literal_lookup(host) if is_ip_literal(host) else resolve.lookup(ctx, host)
    ctx.share(PROXY_ADDRESSES, {"host": host, "port": port, **found.to_fact()})
    data = {"proxy": decision.shown, "proxy_lookup": lookup_data(found)}
    if found.ok:
        return [], data
    finding = failure(found, host, ctx.timeout)
    message = f"The proxy's host name cannot be resolved: {finding.message}"
    return [replace(finding, message=message)], data


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
        lambda: proxy_findings(ctx, decision) if proxied else ([], {}),
        lambda: resolve.direct_lookup(host, None, ctx.timeout) if direct_wanted else None,
        lambda: None if is_ip_literal(host) else resolve.lookup(ctx),
    ]
    proxy_part, second, primary = together(*jobs)
    for part in (proxy_part, second, primary):
        if isinstance(part, BaseException):
            raise part
    found_proxy, proxy_data = proxy_part
    findings += found_proxy
    data.update(proxy_data)
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
        return Outcome(f"{host}: {primary.error} ({describe_resolver(primary)})", findings, data)
    findings += family_notes(primary)
    if second is not None:
        odd = disagreement(primary, second)
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
