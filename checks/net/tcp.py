"""`net.ipv4`, `net.ipv6`: TCP to every address of one family, all at once.

Each check probes both families (concurrently, each connect bounded by
``--timeout``) because whether a broken family is a warning or a failure depends
on the other one: when one family works, clients can be told to use it. Through
a proxy the path that matters is the one to the proxy; the direct path is only
reported as information.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import MappingProxyType
from typing import Any

from cborg_doctor.api import Check, Code, Finding, Outcome, RootCause, RunContext, Severity
from cborg_doctor.facts import PROXY_ADDRESSES
from cborg_doctor.facts import reachable as reachable_fact
from cborg_doctor.probes import proxy, resolve, tcp
from cborg_doctor.probes.errors import Kind
from cborg_doctor.probes.family import family as ip_family
from cborg_doctor.shellfiles import where_set

from . import offline
from .dns import listed
from .proxied import PROXY_DOWN, down_finding

FAMILIES = MappingProxyType({4: ("ipv4", "IPv4"), 6: ("ipv6", "IPv6")})
# Clients try the first few addresses; a hostile answer with thousands must not cost
# thousands of connections.
MAX_PER_FAMILY = 8
WHY_NO_HAPPY_EYEBALLS = (
    "Why it matters: httpx (used by openai-python and many tools) has no Happy Eyeballs; "
    "it tries addresses in order, so a silently dropped {broken} address costs the full "
    "connect timeout on every new connection before {working} is tried."
)

TCP_REFUSED = Code(
    "TCP_REFUSED",
    Severity.FAIL,
    "TCP to {target} port {port} is refused on {which} ({addresses}).",
    fix=(
        "Check the port in the base URL: the gateway listens on 443 (https).",
        "A firewall or VPN may be rejecting the connection: try another network or the LBL VPN.",
    ),
    explain="The address answered with a reset: nothing listens on that port there, or a "
    "firewall rejects the connection actively.",
    also=((Severity.WARN, 'when other addresses of the same family connect'),),
)
TCP_TIMEOUT = Code(
    "TCP_TIMEOUT",
    Severity.FAIL,
    "TCP to {target} port {port} got no answer within {seconds:g} s on {which} ({addresses}).",
    fix=(
        "Packets are being dropped: a firewall, a captive network that is not signed in, or "
        "a VPN that routes the gateway into a tunnel that is down.",
        "Open any web page to check that the network works; sign in to a guest network; "
        "reconnect the VPN.",
    ),
    explain="SYNs went unanswered until the timeout: the address is black-holed from here.",
    also=((Severity.WARN, 'when other addresses of the same family connect'),),
)
NO_ROUTE = Code(
    "NO_ROUTE",
    Severity.FAIL,
    "There is no route from this machine to {target} over {family} ({addresses}): {reason}.",
    fix=(
        "Check that the network is connected and has a default route (`ip route`, "
        "`route print`, `netstat -rn`).",
        "On a VPN with a full tunnel, reconnect it; under WSL 2 with a VPN use mirrored "
        "networking mode.",
    ),
    explain="The operating system refused to send: no route to the network, the host is "
    "unreachable, or this machine has no address of that family at all.",
    also=((Severity.WARN, 'when other addresses of the same family connect'),),
)
IPV6_BROKEN = Code(
    "IPV6_BROKEN",
    Severity.WARN,
    "IPv6 to {target} does not work ({problem} on {addresses}) while IPv4 does.",
    fix=(
        "Python/openai-python: force IPv4 with `OpenAI(base_url=..., http_client=httpx.Client("
        "transport=httpx.HTTPTransport(local_address=\"0.0.0.0\")))`.",
        "curl: add -4, e.g. `curl -4 https://api.cborg.lbl.gov/health/liveliness`.",
        WHY_NO_HAPPY_EYEBALLS.format(broken="IPv6", working="IPv4"),
        "IP authorization: the gateway sees your IPv4 address; authorize that one.",
    ),
    explain="One family is broken and the other works. Clients that try the broken family "
    "first are slow or fail; forcing the working family fixes that.",
    also=((Severity.INFO,
           'when there is no route at all: clients fall back to IPv4 at once, without '
           'waiting'),),
)
IPV4_BROKEN = Code(
    "IPV4_BROKEN",
    Severity.WARN,
    "IPv4 to {target} does not work ({problem} on {addresses}) while IPv6 does.",
    fix=(
        "Python/openai-python: force IPv6 with `OpenAI(base_url=..., http_client=httpx.Client("
        "transport=httpx.HTTPTransport(local_address=\"::\")))`.",
        "curl: add -6, e.g. `curl -6 https://api.cborg.lbl.gov/health/liveliness`.",
        WHY_NO_HAPPY_EYEBALLS.format(broken="IPv4", working="IPv6"),
        "IP authorization: legacy IPv4-only applications cannot connect from here; the "
        "gateway sees your IPv6 address, authorize that one.",
    ),
    explain="One family is broken and the other works. Clients that try the broken family "
    "first are slow or fail; forcing the working family fixes that.",
    also=((Severity.INFO,
           'when there is no route at all: clients fall back to IPv6 at once, without '
           'waiting'),),
)
CODES = (TCP_REFUSED, TCP_TIMEOUT, NO_ROUTE, IPV6_BROKEN, IPV4_BROKEN)
# Which code each connect kind (cborg_doctor.probes.errors) becomes.
TCP_CODE = MappingProxyType({Kind.REFUSED: "TCP_REFUSED", Kind.TIMEOUT: "TCP_TIMEOUT",
                             Kind.NO_ROUTE: "NO_ROUTE"})
_BY_NAME = MappingProxyType({code.code: code for code in CODES})
_PROBLEM = MappingProxyType({"timeout": "no answer (dropped)", "refused": "refused", "no_route": "no route",
            "reset": "reset", "failed": "failed"})
# Which kind names a family's failure when its addresses fail differently.
_PRIORITY = ("timeout", "refused", "no_route", "reset", "failed")


def main_kind(results: Sequence[tcp.ConnectResult]) -> str:
    kinds = {r.error for r in results if not r.ok}
    return next((k for k in _PRIORITY if k in kinds), "failed")


def judge(
    family: int,
    own: Sequence[tcp.ConnectResult],
    other: Sequence[tcp.ConnectResult],
    target: str,
    port: int,
    timeout: float,
) -> list[Finding]:
    """The findings for one family, given how the other family fared (pure)."""
    failed = [r for r in own if not r.ok]
    if not failed:
        return []
    name = FAMILIES[family][1]
    kind = main_kind(failed)
    addresses = listed([r.address for r in failed])
    facts: dict[str, Any] = dict(
        target=target, port=port, seconds=timeout, family=name, addresses=addresses,
        reason=failed[0].detail or kind, problem=_PROBLEM.get(kind, kind),
        data={"kind": kind, "failed": [r.address for r in failed]},
    )
    if len(failed) < len(own):  # some addresses of this family work
        code = _BY_NAME.get(TCP_CODE.get(kind, "TCP_TIMEOUT"), TCP_TIMEOUT)
        which = f"{len(failed)} of {len(own)} {name} addresses"
        return [code.finding(severity=Severity.WARN, which=which, **facts)]
    if any(r.ok for r in other):
        broken = IPV6_BROKEN if family == 6 else IPV4_BROKEN
        # A missing route fails at once, so clients fall back without waiting.
        severity = Severity.INFO if kind == "no_route" else Severity.WARN
        return [broken.finding(severity=severity, **facts)]
    code = _BY_NAME.get(TCP_CODE.get(kind, "TCP_TIMEOUT"), TCP_TIMEOUT)
    which = f"every {name} address" if len(own) > 1 else f"its {name} address"
    return [code.finding(which=which, **facts)]


def _endpoints(ctx: RunContext) -> tuple[dict[int, list[str]], int, str, bool]:
    """Addresses per family, port, what they are, and whether it is the proxy."""
    decision = proxy.decision(ctx)
    if decision.url:
        fact = ctx.fact(PROXY_ADDRESSES)
        if not isinstance(fact, dict):
            host, port = decision.host_port or ("", 0)
            fact = {"host": host, "port": port, **resolve.lookup(ctx, host).to_fact()}
        label = f"the proxy {fact['host']}"
        return {4: list(fact["ipv4"]), 6: list(fact["ipv6"])}, int(fact["port"]), label, True
    addresses = resolve.target_addresses(ctx)
    return ({4: list(addresses.get("ipv4", [])), 6: list(addresses.get("ipv6", []))},
            ctx.target.port, ctx.target.host, False)


def _result_data(results: Sequence[tcp.ConnectResult]) -> list[dict[str, Any]]:
    return [{"address": r.address, "ok": r.ok, "ms": round(r.ms, 1), "error": r.error,
             "detail": r.detail} for r in results]


def run_family(ctx: RunContext, family: int) -> Outcome:
    key, name = FAMILIES[family]
    other_family = 6 if family == 4 else 4
    per_family, port, label, via_proxy = _endpoints(ctx)
    resolved = len(per_family[family])
    per_family = {f: found[:MAX_PER_FAMILY] for f, found in per_family.items()}
    own_addresses = per_family[family]
    if not own_addresses:
        ctx.share(reachable_fact(family), [])
        return Outcome(f"{label} has no {name} address: nothing to test", (),
                       {"addresses": []},
                       skipped_because=f"{label} has no {name} address")
    # Through a proxy the direct path is measured too, but only reported as information.
    direct = (resolve.target_addresses(ctx).get(key, [])[:MAX_PER_FAMILY] if via_proxy else [])
    everything = own_addresses + per_family[other_family] + direct
    endpoints = [(a, port) for a in everything[: len(everything) - len(direct)]]
    endpoints += [(a, ctx.target.port) for a in direct]
    results = tcp.connect_many(endpoints, ctx.timeout)
    own = results[: len(own_addresses)]
    other = results[len(own_addresses): len(own_addresses) + len(per_family[other_family])]
    direct_results = results[len(everything) - len(direct):] if direct else []
    ctx.share(reachable_fact(family), [r.address for r in own if r.ok])
    down = network_down(ctx, [*own, *other], label, port)
    if down is not None:
        if family == 6 and per_family[4]:  # net.ipv4 says it: the root cause once
            return Outcome(f"no network: see net.ipv4 ({offline.NETWORK_DOWN.code})", (),
                           {"port": port, "results": _result_data(own)},
                           skipped_because="this machine has no network (NETWORK_DOWN in "
                           "net.ipv4)")
        return Outcome(f"no network: no route to {label}", [down],
                       {"port": port, "via_proxy": via_proxy, "results": _result_data(own)})
    findings = judge(family, own, other, label, port, ctx.timeout)
    if via_proxy:
        findings = as_proxy_down(ctx, findings)
    data: dict[str, Any] = {"port": port, "via_proxy": via_proxy, "results": _result_data(own)}
    ok = [r for r in own if r.ok]
    explained_by: RootCause | None = None
    if ok:
        times = ", ".join(f"{r.address} {r.ms:.0f} ms" for r in ok[:4])
        more = f" (+{len(ok) - 4} more)" if len(ok) > 4 else ""
        summary = f"{len(ok)}/{len(own)} {name} addresses of {label} connect: {times}{more}"
    else:
        summary = f"no {name} address of {label} connects ({main_kind(own)})"
    if resolved > len(own_addresses):
        summary += f" (the first {len(own_addresses)} of {resolved} addresses were tested)"
    if not ok and _dns_disagrees(ctx):
        # A stale hosts entry (or split DNS) sent the clients to the wrong address.
        explained_by = RootCause("dns", "DNS_INCONSISTENT")
    if direct_results:
        data["direct"] = _result_data(direct_results)
        fine = sum(r.ok for r in direct_results)
        summary += (f"; without the proxy {fine}/{len(direct_results)} {name} addresses of "
                    f"{ctx.target.host} connect")
    return Outcome(summary, findings, data, explained_by=explained_by)


def as_proxy_down(ctx: RunContext, findings: list[Finding]) -> list[Finding]:
    """A proxy that accepts no connection at all is PROXY_DOWN: the advice is about the
    proxy and its setting, not about the gateway's port."""
    decision = proxy.decision(ctx)
    out: list[Finding] = []
    for finding in findings:
        if finding.code in _BY_NAME and finding.code not in ("IPV4_BROKEN", "IPV6_BROKEN") and (
                finding.severity is Severity.FAIL):
            where = where_set(decision.source or "", ctx.home)
            finding = down_finding(decision, str(finding.data.get("kind", "failed")),
                                   listed(list(finding.data.get("failed", []))), ctx.target.host,
                                   where)
        out.append(finding)
    return out


def network_down(ctx: RunContext, results: Sequence[tcp.ConnectResult], label: str,
                 port: int) -> Finding | None:
    """NETWORK_DOWN when no address of either family has a route, and nothing leads out."""
    if not results or any(r.error != "no_route" for r in results):
        return None
    picked = {ip_family(r.address).number: r.address for r in reversed(results)}  # the first of each family
    what = "the proxy" if label.startswith("the proxy") else "the gateway"
    destinations = [(f"{what}'s address {address}", address)
                    for _, address in sorted(picked.items())]
    down = offline.offline(ctx, destinations, port, name_outside=False)
    if down is None:
        return None
    said = results[0].detail or "Network is unreachable"
    return offline.finding(down, [f"Connecting to {results[0].address} gives \"{said}\"."])


def _dns_disagrees(ctx: RunContext) -> bool:
    result = ctx.result("dns")
    return result is not None and any(
        f.code == "DNS_INCONSISTENT" and f.severity is Severity.WARN for f in result.findings)


def run_ipv4(ctx: RunContext) -> Outcome:
    return run_family(ctx, 4)


def run_ipv6(ctx: RunContext) -> Outcome:
    return run_family(ctx, 6)


IPV4_CHECK = Check(
    id="net.ipv4",
    title="TCP over IPv4",
    run=run_ipv4,
    needs=("dns",),
    codes=(TCP_REFUSED, TCP_TIMEOUT, NO_ROUTE, IPV4_BROKEN, offline.NETWORK_DOWN, PROXY_DOWN),
    order=80,
    description="TCP to each IPv4 address",
)
IPV6_CHECK = Check(
    id="net.ipv6",
    title="TCP over IPv6",
    run=run_ipv6,
    needs=("dns",),
    codes=(TCP_REFUSED, TCP_TIMEOUT, NO_ROUTE, IPV6_BROKEN, offline.NETWORK_DOWN, PROXY_DOWN),
    order=90,
    description="TCP to each IPv6 address",
)
