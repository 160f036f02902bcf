"""Name resolution: the system resolver (getaddrinfo) and direct DNS queries (dnspython).

The user's clients resolve through getaddrinfo (hosts file, nsswitch, VPN DNS);
a direct query to the configured nameservers shows whether DNS itself agrees.
With ``--nameserver`` the doctor resolves only through those servers and every
connection uses the addresses they return (that is how tests reach loopback).

The shared fact ``DNS_ADDRESSES`` (set by the dns check, read by every probe) is::

    {"host": "api.cborg.lbl.gov", "ipv4": ["104.18.1.1", ...], "ipv6": ["2606:...", ...],
     "order": [... both families in connection-preference order ...],
     "source": "system" | "nameserver" | "literal"}
"""

from __future__ import annotations

import ipaddress
import os
import queue
import socket
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, TypeVar

from cborg_doctor.facts import DNS_ADDRESSES

from .errors import classify_dns_error, classify_gai_error, describe, dns_socket_kind, server_errors
from .together import together

if TYPE_CHECKING:
    from cborg_doctor.context import RunContext

T = TypeVar("T")

RESOLV_CONF = "/etc/resolv.conf"


@dataclass(frozen=True)
class Answer:
    """One family's answer from one method: addresses or an error kind."""

    addresses: tuple[str, ...] = ()
    error: str | None = None  # nxdomain, no_answer, timeout, servfail, refused_dns, ...
    detail: str = ""
    servers: tuple[tuple[str, str], ...] = ()  # (server, kind) for each server that failed


@dataclass(frozen=True)
class Lookup:
    """A and AAAA for one host by one method."""

    host: str
    method: str  # "system", "nameserver" (direct to configured or --nameserver), "literal"
    a: Answer
    aaaa: Answer
    ms: float = 0.0
    servers: tuple[str, ...] = ()
    order: tuple[str, ...] = field(default=())
    source: str = ""  # where `servers` came from: "/etc/resolv.conf", "--nameserver", ...

    @property
    def addresses(self) -> tuple[str, ...]:
        return self.order or (*self.aaaa.addresses, *self.a.addresses)

    @property
    def ok(self) -> bool:
        return bool(self.a.addresses or self.aaaa.addresses)

    @property
    def error(self) -> str | None:
        """The lookup's failure when neither family has an address."""
        if self.ok:
            return None
        for kind in ("nxdomain", "timeout", "servfail", "refused_dns", "dns_closed",
                     "dns_unreachable", "no_nameserver", "dns"):
            if kind in (self.a.error, self.aaaa.error):
                return kind
        return self.a.error or self.aaaa.error or "no_answer"

    @property
    def detail(self) -> str:
        return self.a.detail or self.aaaa.detail

    @property
    def failed_servers(self) -> tuple[tuple[str, str], ...]:
        """(server, kind) of the servers that gave no address, A's view first."""
        return tuple(dict.fromkeys((*self.a.servers, *self.aaaa.servers)))

    def to_fact(self) -> dict[str, Any]:
        return {
            "host": self.host,
            "ipv4": list(self.a.addresses),
            "ipv6": list(self.aaaa.addresses),
            "order": list(self.addresses),
            "source": self.method,
        }


def run_bounded(func: Callable[[], T], timeout: float) -> tuple[bool, T | BaseException | None]:
    """Run a blocking call in a daemon thread; (finished, result or exception).

    getaddrinfo cannot be cancelled; an abandoned daemon thread never delays exit.
    """
    box: queue.Queue[tuple[bool, Any]] = queue.Queue(maxsize=1)

    def work() -> None:
        try:
            box.put((True, func()))
        except BaseException as exc:  # handed to the caller
            box.put((False, exc))

    threading.Thread(target=work, daemon=True, name="probe").start()
    try:
        _, value = box.get(timeout=timeout)
    except queue.Empty:
        return False, None
    return True, value


def literal_lookup(host: str) -> Lookup:
    ip = ipaddress.ip_address(host.strip("[]"))
    text = str(ip)
    if ip.version == 4:
        return Lookup(host, "literal", Answer((text,)), Answer(error="no_answer"), order=(text,))
    return Lookup(host, "literal", Answer(error="no_answer"), Answer((text,)), order=(text,))


def system_lookup(host: str, port: int, timeout: float) -> Lookup:
    """What the user's clients get: getaddrinfo, bounded by `timeout`."""
    start = time.monotonic()
    finished, value = run_bounded(
        lambda: socket.getaddrinfo(host, port, socket.AF_UNSPEC, socket.SOCK_STREAM), timeout
    )
    ms = (time.monotonic() - start) * 1000
    if not finished:
        bad = Answer(error="timeout", detail=f"the system resolver gave no answer in {timeout:g} s")
        return Lookup(host, "system", bad, bad, ms)
    if isinstance(value, BaseException):
        kind = classify_gai_error(value) if isinstance(value, socket.gaierror) else "dns"
        bad = Answer(error=kind, detail=describe(value))
        return Lookup(host, "system", bad, bad, ms)
    order: list[str] = []
    for family, _, _, _, sockaddr in value:  # type: ignore[union-attr]
        address = str(sockaddr[0]).split("%", 1)[0]
        if family in (socket.AF_INET, socket.AF_INET6) and address not in order:
            order.append(address)
    v4 = tuple(a for a in order if ":" not in a)
    v6 = tuple(a for a in order if ":" in a)
    return Lookup(
        host, "system", _answer(v4), _answer(v6), ms, order=tuple(order)
    )


def _answer(addresses: tuple[str, ...]) -> Answer:
    return Answer(addresses) if addresses else Answer(error="no_answer", detail="no such record")


def direct_lookup(
    host: str, servers: Sequence[tuple[str, int]] | None, timeout: float
) -> Lookup:
    """A and AAAA straight from nameservers (`None`: the system's configured ones)."""
    start = time.monotonic()
    source = "--nameserver" if servers else system_servers_source()
    try:
        resolver, shown = _resolver(servers, timeout)
    except Exception as exc:  # no resolv.conf, no nameservers in it
        bad = Answer(error="no_nameserver", detail=no_nameserver_detail(exc))
        return Lookup(host, "nameserver", bad, bad, 0.0, source=source)
    results: dict[str, Answer] = {}
    threads = [
        threading.Thread(
            target=lambda rd=rdtype: results.__setitem__(rd, _query(resolver, host, rd, timeout)),
            daemon=True,
        )
        for rdtype in ("A", "AAAA")
    ]
    for thread in threads:
        thread.start()
    until = time.monotonic() + timeout + 0.5  # one wait for both: A and AAAA run together
    for thread in threads:
        thread.join(max(until - time.monotonic(), 0.0))
    late = Answer(error="timeout", detail=f"no answer from {', '.join(shown)} in {timeout:g} s")
    a, aaaa = results.get("A", late), results.get("AAAA", late)
    if "timeout" in (a.error, aaaa.error) and not (a.addresses or aaaa.addresses):
        a, aaaa = _why_silent(resolver, shown, host, min(timeout, SILENCE_BOUND), a, aaaa)
    ms = (time.monotonic() - start) * 1000
    return Lookup(host, "nameserver", a, aaaa, ms, tuple(shown),
                  order=(*aaaa.addresses, *a.addresses), source=source)


# How long the follow-up to a silent lookup may take: port-unreachable and no-route
# come back at once, so a longer wait only confirms the silence.
SILENCE_BOUND = 1.0


def _why_silent(resolver: Any, shown: list[str], host: str, bound: float,
                a: Answer, aaaa: Answer) -> tuple[Answer, Answer]:
    """dnspython's socket is unconnected, so a closed port 53 looks like silence. Ask each
    server once more over a connected socket, which hears ICMP port unreachable."""
    targets = [(str(ns.address), int(ns.port)) for ns in resolver.nameservers
               if hasattr(ns, "address")] or [(str(ns), int(resolver.port))
                                              for ns in resolver.nameservers]
    found = together(*[lambda t=t: ask_server(t[0], t[1], host, bound) for t in targets])
    kinds = [k if isinstance(k, str) else "timeout" for k in found]
    per_server = tuple(zip(shown, kinds, strict=False))
    if kinds and all(k == kinds[0] for k in kinds) and kinds[0] in _SILENT_DETAIL:
        kind = kinds[0]
        detail = _SILENT_DETAIL[kind].format(servers=", ".join(shown))
        bad = Answer(error=kind, detail=detail, servers=per_server)
        return bad, bad
    return (replace(a, servers=a.servers or per_server),
            replace(aaaa, servers=aaaa.servers or per_server))


_SILENT_DETAIL = MappingProxyType({
    "dns_closed": "nothing listens for DNS at {servers} (port unreachable)",
    "dns_unreachable": "{servers} cannot be reached (no route)",
})


def ask_server(address: str, port: int, host: str, timeout: float) -> str:
    """One A query over a connected UDP socket: ``answered`` or the kind of silence."""
    import dns.message

    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    wire = dns.message.make_query(host, "A").to_wire()
    try:
        with socket.socket(family, socket.SOCK_DGRAM) as sock:
            sock.settimeout(timeout)
            sock.connect((address, port))
            sock.send(wire)
            sock.recv(4096)
    except OSError as exc:
        return dns_socket_kind(exc)
    return "answered"


def system_servers_source() -> str:
    """Where the system resolver's name servers are configured, in words."""
    if os.name == "nt":
        return "Windows' network settings"
    return RESOLV_CONF


def no_nameserver_detail(exc: BaseException) -> str:
    if os.name != "nt" and not os.path.exists(RESOLV_CONF):
        return f"there is no {RESOLV_CONF}"
    if os.name != "nt":
        return f"{RESOLV_CONF} has no nameserver line"
    return describe(exc)


def _load_dnspython() -> None:
    """Import dnspython without its DNS-over-HTTPS/QUIC, trio and DNSSEC extras: detecting
    them imports httpx's async stack and trio (~200 ms); plain UDP/TCP queries need none."""
    import sys

    from . import owns_process

    if "dns.query" not in sys.modules and owns_process():
        import dns._features

        for feature in ("doh", "doq", "trio", "dnssec"):
            dns._features.force(feature, False)


def _resolver(servers: Sequence[tuple[str, int]] | None, timeout: float) -> tuple[Any, list[str]]:
    _load_dnspython()
    import dns.nameserver
    import dns.resolver

    if servers:
        resolver = dns.resolver.Resolver(configure=False)
        resolver.nameservers = [dns.nameserver.Do53Nameserver(ip, port) for ip, port in servers]
        shown = [(f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}") if port != 53 else ip
                 for ip, port in servers]
    else:
        resolver = dns.resolver.Resolver()
        shown = [str(ns) for ns in resolver.nameservers]
    resolver.timeout = timeout
    resolver.lifetime = timeout
    resolver.retry_servfail = False
    return resolver, shown


def _query(resolver: Any, host: str, rdtype: str, timeout: float) -> Answer:
    try:
        answer = resolver.resolve(host, rdtype, search=False, lifetime=timeout)
    except Exception as exc:  # every dnspython and socket failure: classified, not raised
        return _failed(exc, host, rdtype, timeout)
    addresses = tuple(dict.fromkeys(r.to_text() for r in answer if hasattr(r, "address")))
    return _answer(addresses)


def _failed(exc: BaseException, host: str, rdtype: str, timeout: float) -> Answer:
    kind = classify_dns_error(exc)
    servers = tuple(server_errors(exc))
    detail = {
        "nxdomain": f"{host} does not exist (NXDOMAIN)",
        "no_answer": f"no {rdtype} record",
        "timeout": f"no answer in {timeout:g} s",
        "no_nameserver": no_nameserver_detail(exc),
    }.get(kind) or _first_line(exc)
    return Answer(error=kind, detail=detail, servers=servers)


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return (lines[0] if lines else type(exc).__name__)[:200]


def nameservers(ctx: RunContext) -> list[tuple[str, int]]:
    """``--nameserver`` values, parsed (the CLI has validated them)."""
    from cborg_doctor.options import parse_nameserver

    return [parse_nameserver(text) for text in ctx.options.nameservers]


def lookup(ctx: RunContext, host: str | None = None, timeout: float | None = None) -> Lookup:
    """The addresses the clients would connect to, by the doctor's resolver rules."""
    host = host or ctx.target.host
    timeout = ctx.timeout if timeout is None else timeout
    from cborg_doctor.target import is_ip_literal

    if is_ip_literal(host):
        return literal_lookup(host)
    servers = nameservers(ctx)
    if servers:
        return direct_lookup(host, servers, timeout)
    return system_lookup(host, ctx.target.port, timeout)


def target_addresses(ctx: RunContext) -> dict[str, Any]:
    """The ``dns.addresses`` fact, resolving now when the dns check has not run."""
    fact = ctx.fact(DNS_ADDRESSES)
    if isinstance(fact, dict):
        return fact
    return lookup(ctx).to_fact()
