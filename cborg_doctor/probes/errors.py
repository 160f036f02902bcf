"""The one place where network errors become error kinds, and kinds become finding codes.

Probes never raise for network trouble: they catch, call `classify()`, and return
a short *kind* that the checks turn into a finding code. The map::

    exception (walked through __cause__/__context__)       kind          code
    ───────────────────────────────────────────────────   ───────────   ──────────────────────
    DNS  (dnspython's exceptions; getaddrinfo's EAI_* numbers)
      socket.gaierror EAI_NONAME / dns.resolver.NXDOMAIN   nxdomain      DNS_NXDOMAIN
      dns.resolver.NoAnswer, EAI_NODATA, EAI_ADDRFAMILY    no_answer     DNS_NO_IPV6 (AAAA)
      dns.exception.Timeout (LifetimeTimeout), our bound   timeout       DNS_TIMEOUT
      dns.resolver.NoNameservers, a SERVFAIL answer        servfail      DNS_FAILED
      dns.resolver.NoNameservers, a REFUSED answer         refused_dns   DNS_FAILED
      NoNameservers holding ECONNREFUSED (ICMP port
        unreachable: nothing listens on port 53)           dns_closed    DNS_FAILED
      NoNameservers holding ENETUNREACH / EHOSTUNREACH
        (no route to the name server)                      dns_unreachable DNS_FAILED / NETWORK_DOWN
      dns.resolver.NoResolverConfiguration                 no_nameserver DNS_FAILED
      socket.gaierror EAI_AGAIN ("Temporary failure in
        name resolution"), EAI_FAIL, other                 dns           DNS_FAILED / NETWORK_DOWN
    TCP
      ConnectionRefusedError (ECONNREFUSED)                refused       TCP_REFUSED
      socket.timeout / TimeoutError / ConnectTimeout       timeout       TCP_TIMEOUT
      ENETUNREACH, EHOSTUNREACH, EADDRNOTAVAIL,
        EAFNOSUPPORT (no route, no IPv6 here)              no_route      NO_ROUTE
      ECONNRESET, EPIPE, ECONNABORTED                      reset         TLS_FAILED / HTTP_*
      other OSError                                        failed        TCP_* by phase
    TLS  (ssl.SSLCertVerificationError.verify_code)
      20, 19, 21, 2 (unknown issuer, self-signed chain)    untrusted     TLS_UNTRUSTED / TLS_INTERCEPTED
      62 (X509_V_ERR_HOSTNAME_MISMATCH)                    hostname      TLS_HOSTNAME_MISMATCH
      10 (CERT_HAS_EXPIRED)                                expired       TLS_EXPIRED / TLS_CLOCK_SKEW
      9 (CERT_NOT_YET_VALID)                               not_yet_valid TLS_CLOCK_SKEW
      "Basic Constraints of CA cert not marked critical"
        (Python >= 3.13, VERIFY_X509_STRICT)               ca_strict     TLS_CA_NOT_STRICT
      other verify errors                                  untrusted     TLS_UNTRUSTED
      ssl.SSLError (protocol, alert), EOF in handshake     tls           TLS_FAILED
      handshake timeout                                    tls_timeout   TLS_TIMEOUT
    HTTP (httpx, after the connection is up)
      httpx.ReadTimeout before the headers                 timeout       HTTP_TIMEOUT
      body still arriving at the time bound                too_slow      HTTP_TIMEOUT
      httpx.RemoteProtocolError, LocalProtocolError        protocol      HTTP_NOT_GATEWAY
      httpx.ProxyError / a non-2xx CONNECT answer          proxy         HTTP_PROXY_AUTH (407),
                                                                         HTTP_PROXY_DENIED
      httpx.UnsupportedProtocol, InvalidURL                invalid       (config.base_url)

The kinds are the `Kind` enum, whose members are their own strings, so results stay
plain data (JSON, reports, tests). Which code a kind becomes is decided by the check
family that owns the code, next to its codes (``checks/net/dns.py`` DNS_CODE,
``checks/net/tcp.py`` TCP_CODE, ``checks/net/tls.py`` TLS_CODE).
``NETWORK_DOWN`` is not an exception's kind: ``checks/net/offline.py`` decides it from
the interfaces and routes when a lookup or every connection fails.
"""

from __future__ import annotations

import errno
import socket
import ssl
from collections.abc import Iterator
from enum import Enum
from types import MappingProxyType


class Kind(str, Enum):
    """What went wrong, as the table above names it. A `Kind` is its own string in every
    way that reaches a user (``==``, hashing, ``str()``, f-strings, JSON), so results that
    hold one stay plain data and the tables keyed by it accept the bare string too."""

    # DNS
    NXDOMAIN = "nxdomain"
    NO_ANSWER = "no_answer"
    TIMEOUT = "timeout"
    SERVFAIL = "servfail"
    REFUSED_DNS = "refused_dns"
    DNS_CLOSED = "dns_closed"
    DNS_UNREACHABLE = "dns_unreachable"
    NO_NAMESERVER = "no_nameserver"
    DNS = "dns"
    # TCP
    REFUSED = "refused"
    NO_ROUTE = "no_route"
    RESET = "reset"
    FAILED = "failed"
    # TLS
    UNTRUSTED = "untrusted"
    HOSTNAME = "hostname"
    EXPIRED = "expired"
    NOT_YET_VALID = "not_yet_valid"
    CA_STRICT = "ca_strict"
    TLS = "tls"
    TLS_TIMEOUT = "tls_timeout"
    # HTTP
    TOO_SLOW = "too_slow"
    PROTOCOL = "protocol"
    PROXY = "proxy"
    INVALID = "invalid"

    __str__ = str.__str__
    __format__ = str.__format__
    __hash__ = str.__hash__


NO_ROUTE_ERRNOS = frozenset(
    {errno.ENETUNREACH, errno.EHOSTUNREACH, errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT}
)
RESET_ERRNOS = frozenset({errno.ECONNRESET, errno.EPIPE, errno.ECONNABORTED})

# OpenSSL X509_V_ERR_* numbers that ssl.SSLCertVerificationError carries.
_VERIFY_KIND = MappingProxyType({
    2: Kind.UNTRUSTED,  # unable to get issuer certificate
    9: Kind.NOT_YET_VALID,
    10: Kind.EXPIRED,
    18: Kind.UNTRUSTED,  # self-signed leaf
    19: Kind.UNTRUSTED,  # self-signed certificate in chain
    20: Kind.UNTRUSTED,  # unable to get local issuer certificate
    21: Kind.UNTRUSTED,  # unable to verify the first certificate
    62: Kind.HOSTNAME,
})

# The kinds a TLS handshake fails with (each one a code of the tls check, TLS_CODE there).
TLS_KINDS = frozenset({Kind.UNTRUSTED, Kind.HOSTNAME, Kind.EXPIRED, Kind.NOT_YET_VALID,
                       Kind.TLS_TIMEOUT, Kind.CA_STRICT})


def chain(exc: BaseException | None) -> Iterator[BaseException]:
    """The exception and every cause behind it, outermost first (cycle-safe)."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def classify_os_error(exc: BaseException) -> Kind:
    """A socket-level error's kind."""
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return Kind.TIMEOUT
    if isinstance(exc, ConnectionRefusedError):
        return Kind.REFUSED
    if isinstance(exc, socket.gaierror):
        return classify_gai_error(exc)
    if isinstance(exc, OSError):
        if exc.errno in NO_ROUTE_ERRNOS:
            return Kind.NO_ROUTE
        if exc.errno in RESET_ERRNOS or isinstance(exc, ConnectionResetError):
            return Kind.RESET
    return Kind.FAILED


def classify_gai_error(exc: socket.gaierror) -> Kind:
    """getaddrinfo's EAI_* number → kind. EAI_AGAIN ("Temporary failure in name
    resolution") is glibc's answer for every unreachable, refusing or silent name server,
    so it stays the vague ``dns`` that a direct query or the routes then explain."""
    number = exc.errno
    if number == socket.EAI_NONAME:
        return Kind.NXDOMAIN
    if number in (getattr(socket, "EAI_NODATA", None), getattr(socket, "EAI_ADDRFAMILY", None)):
        return Kind.NO_ANSWER
    return Kind.DNS


# The order in which one query's failures name the lookup's kind: an answer from a
# server (SERVFAIL, REFUSED) says more than silence or a missing route.
_SERVER_KINDS = (Kind.SERVFAIL, Kind.REFUSED_DNS, Kind.DNS_CLOSED, Kind.DNS_UNREACHABLE, Kind.TIMEOUT, Kind.DNS)


def classify_dns_error(exc: BaseException) -> Kind:
    """A dnspython exception's kind (see the table above)."""
    import dns.exception
    import dns.resolver

    if isinstance(exc, dns.resolver.NXDOMAIN):
        return Kind.NXDOMAIN
    if isinstance(exc, dns.resolver.NoAnswer):
        return Kind.NO_ANSWER
    if isinstance(exc, dns.resolver.NoResolverConfiguration):
        return Kind.NO_NAMESERVER
    if isinstance(exc, dns.resolver.NoNameservers):
        kinds = [kind for _, kind in server_errors(exc)]
        return next((k for k in _SERVER_KINDS if k in kinds), Kind.SERVFAIL)
    if isinstance(exc, dns.exception.Timeout):
        return Kind.TIMEOUT
    if isinstance(exc, OSError):
        return dns_socket_kind(exc)
    return Kind.DNS


def dns_socket_kind(exc: BaseException) -> Kind:
    """A socket error met while talking to a name server."""
    kind = classify_os_error(exc)
    return {Kind.REFUSED: Kind.DNS_CLOSED, Kind.NO_ROUTE: Kind.DNS_UNREACHABLE,
            Kind.TIMEOUT: Kind.TIMEOUT}.get(kind, Kind.DNS)


def server_errors(exc: BaseException) -> list[tuple[str, Kind]]:
    """(server, kind) for each attempt dnspython recorded in NoNameservers/LifetimeTimeout."""
    import dns.rcode

    kwargs = getattr(exc, "kwargs", None) or {}
    found = []
    for entry in kwargs.get("errors") or ():
        if not isinstance(entry, tuple) or len(entry) < 5:
            continue
        server, error, answer = str(entry[0]), entry[3], entry[4]
        rcode = getattr(answer, "rcode", None)
        code = rcode() if callable(rcode) else None
        if code == dns.rcode.REFUSED:
            kind = Kind.REFUSED_DNS
        elif code == dns.rcode.SERVFAIL:
            kind = Kind.SERVFAIL
        elif isinstance(error, OSError):
            kind = dns_socket_kind(error)
        elif error is not None and "Timeout" in type(error).__name__:
            kind = Kind.TIMEOUT
        else:
            kind = Kind.DNS
        found.append((_server_text(server), kind))
    return found


def _server_text(server: str) -> str:
    """dnspython's ``Do53:10.0.0.1@53`` as the doctor prints servers: ``10.0.0.1``,
    ``127.0.0.1:5353``, ``[::1]:5353``."""
    address, _, port = server.removeprefix("Do53:").rpartition("@")
    if not address or port == "53":
        return address or server
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"


def classify_ssl_error(exc: ssl.SSLError) -> Kind:
    """A TLS error's kind; certificate problems are told apart by OpenSSL's verify code."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        if "basic constraints" in str(exc.verify_message or "").lower():
            return Kind.CA_STRICT  # VERIFY_X509_STRICT (Python >= 3.13): the CA's, not the issuer's
        return _VERIFY_KIND.get(exc.verify_code, Kind.UNTRUSTED)
    return Kind.TLS


def classify(exc: BaseException, *, phase: str = "") -> Kind:
    """Any probe exception's kind. `phase` ("connect", "tls", "read") breaks ties for timeouts."""
    names = [type(item).__name__ for item in chain(exc)]
    for item in chain(exc):
        if isinstance(item, ssl.SSLError):
            return classify_ssl_error(item)
    outer = type(exc).__name__
    if outer in ("ConnectTimeout", "PoolTimeout"):
        return Kind.TLS_TIMEOUT if phase == "tls" else Kind.TIMEOUT
    if outer in ("ReadTimeout", "WriteTimeout"):
        return Kind.TIMEOUT
    if outer == "ProxyError":
        return Kind.PROXY
    if outer in ("UnsupportedProtocol", "InvalidURL"):
        return Kind.INVALID
    for item in chain(exc):
        if isinstance(item, OSError) and not isinstance(item, ssl.SSLError):
            kind = classify_os_error(item)
            if kind != Kind.FAILED:
                return kind
    if any(n in ("RemoteProtocolError", "LocalProtocolError", "ProtocolError") for n in names):
        return Kind.PROTOCOL
    if any("Timeout" in n for n in names):
        return Kind.TIMEOUT
    return Kind.FAILED


def describe(exc: BaseException) -> str:
    """One line for humans: the innermost informative message."""
    for item in reversed(list(chain(exc))):
        if isinstance(item, ssl.SSLCertVerificationError):
            return f"certificate verify failed: {item.verify_message}"
        if isinstance(item, OSError) and item.strerror:
            return item.strerror
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:200]
