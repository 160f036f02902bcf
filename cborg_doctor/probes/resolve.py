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
import queue
import socket
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from cborg_doctor.facts import DNS_ADDRESSES

from .errors import classify_gai_error, describe

if TYPE_CHECKING:
    from cborg_doctor.context import RunContext

T = TypeVar("T")



@dataclass(frozen=True)
class Answer:
    """One family's answer from one method: addresses or an error kind."""

    addresses: tuple[str, ...] = ()
    error: str | None = None  # nxdomain, no_answer, timeout, servfail, refused_dns, ...
    detail: str = ""


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
        for kind in ("nxdomain", "timeout", "servfail", "refused_dns", "no_nameserver", "dns"):
            if kind in (self.a.error, self.aaaa.error):
                return kind
        return self.a.error or self.aaaa.error or "no_answer"

    @property
    def detail(self) -> str:
        return self.a.detail or self.aaaa.detail

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
    try:
        resolver, shown = _resolver(servers, timeout)
    except Exception as exc:  # no resolv.conf, no nameservers in it
        bad = Answer(error="no_nameserver", detail=describe(exc))
        return Lookup(host, "nameserver", bad, bad, 0.0)
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
    ms = (time.monotonic() - start) * 1000
    return Lookup(host, "nameserver", a, aaaa, ms, tuple(shown),
                  order=(*aaaa.addresses, *a.addresses))


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
    import dns.exception
    import dns.rcode
    import dns.resolver

    try:
        answer = resolver.resolve(host, rdtype, search=False, lifetime=timeout)
    except dns.resolver.NXDOMAIN:
        return Answer(error="nxdomain", detail=f"{host} does not exist (NXDOMAIN)")
    except dns.resolver.NoAnswer:
        return Answer(error="no_answer", detail=f"no {rdtype} record")
    except dns.resolver.NoNameservers as exc:
        return Answer(error=_no_nameservers_kind(exc), detail=_first_line(exc))
    except dns.exception.Timeout:
        return Answer(error="timeout", detail=f"no answer in {timeout:g} s")
    except dns.resolver.NoResolverConfiguration as exc:
        return Answer(error="no_nameserver", detail=_first_line(exc))
    except (dns.exception.DNSException, OSError) as exc:
        return Answer(error="dns", detail=_first_line(exc))
    addresses = tuple(dict.fromkeys(r.to_text() for r in answer if hasattr(r, "address")))
    return _answer(addresses)


def _no_nameservers_kind(exc: Any) -> str:
    """SERVFAIL vs REFUSED, from the answers dnspython collected."""
    import dns.rcode

    text = str(exc)
    errors = exc.kwargs.get("errors", []) if hasattr(exc, "kwargs") else []
    for error in errors:
        answer = error[-1] if isinstance(error, tuple) else None
        rcode = getattr(answer, "rcode", None)
        if callable(rcode):
            if rcode() == dns.rcode.REFUSED:
                return "refused_dns"
            if rcode() == dns.rcode.SERVFAIL:
                return "servfail"
    if "REFUSED" in text:
        return "refused_dns"
    return "servfail"


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
