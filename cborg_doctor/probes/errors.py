"""The one place where network errors become error kinds, and kinds become finding codes.

Probes never raise for network trouble: they catch, call `classify()`, and return
a short *kind* that the checks turn into a finding code. The map::

    exception (walked through __cause__/__context__)       kind          code
    ───────────────────────────────────────────────────   ───────────   ──────────────────────
    DNS
      socket.gaierror EAI_NONAME / dns.resolver.NXDOMAIN   nxdomain      DNS_NXDOMAIN
      dns.resolver.NoAnswer, EAI_NODATA                    no_answer     DNS_NO_IPV6 (AAAA)
      dns.resolver.LifetimeTimeout, our resolve bound      timeout       DNS_TIMEOUT
      dns.resolver.NoNameservers (SERVFAIL)                servfail      DNS_FAILED
      dns.resolver.NoNameservers (REFUSED)                 refused_dns   DNS_FAILED
      dns.resolver.NoResolverConfiguration                 no_nameserver DNS_FAILED
      socket.gaierror EAI_AGAIN / other                    dns           DNS_FAILED
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
      other verify errors                                  untrusted     TLS_UNTRUSTED
      ssl.SSLError (protocol, alert), EOF in handshake     tls           TLS_FAILED
      handshake timeout                                    tls_timeout   TLS_TIMEOUT
    HTTP (httpx, after the connection is up)
      httpx.ReadTimeout before the headers                 timeout       HTTP_TIMEOUT
      body still arriving at the time bound                too_slow      HTTP_TIMEOUT
      httpx.RemoteProtocolError, LocalProtocolError        protocol      HTTP_NOT_GATEWAY
      httpx.ProxyError (CONNECT refused; 407 is a status)  proxy         HTTP_PROXY_AUTH / TCP_*
      httpx.UnsupportedProtocol, InvalidURL                invalid       (config.base_url)

A kind is a `Kind`: a str Enum, so it compares equal to its text (``"timeout"``)
and results stay plain data (JSON, reports, tests).
"""

from __future__ import annotations

import errno
import socket
import ssl
from collections.abc import Iterator
from enum import Enum
from types import MappingProxyType


class Kind(str, Enum):
    """What went wrong, in one word (the middle column of the module's table)."""

    NXDOMAIN = "nxdomain"
    NO_ANSWER = "no_answer"
    SERVFAIL = "servfail"
    REFUSED_DNS = "refused_dns"
    NO_NAMESERVER = "no_nameserver"
    DNS = "dns"
    REFUSED = "refused"
    TIMEOUT = "timeout"
    NO_ROUTE = "no_route"
    RESET = "reset"
    FAILED = "failed"
    UNTRUSTED = "untrusted"
    HOSTNAME = "hostname"
    EXPIRED = "expired"
    NOT_YET_VALID = "not_yet_valid"
    TLS = "tls"
    TLS_TIMEOUT = "tls_timeout"
    TOO_SLOW = "too_slow"
    PROTOCOL = "protocol"
    PROXY = "proxy"
    INVALID = "invalid"

    def __str__(self) -> str:  # the text, in f-strings and reports alike
        return self.value

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)

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

# Which finding code each kind becomes, per phase (checks declare the codes).
TCP_CODE = MappingProxyType({Kind.REFUSED: "TCP_REFUSED", Kind.TIMEOUT: "TCP_TIMEOUT", Kind.NO_ROUTE: "NO_ROUTE"})
DNS_CODE = MappingProxyType({
    Kind.NXDOMAIN: "DNS_NXDOMAIN",
    Kind.TIMEOUT: "DNS_TIMEOUT",
    Kind.SERVFAIL: "DNS_FAILED",
    Kind.REFUSED_DNS: "DNS_FAILED",
    Kind.NO_NAMESERVER: "DNS_FAILED",
    Kind.DNS: "DNS_FAILED",
})
TLS_CODE = MappingProxyType({
    Kind.UNTRUSTED: "TLS_UNTRUSTED",
    Kind.HOSTNAME: "TLS_HOSTNAME_MISMATCH",
    Kind.EXPIRED: "TLS_EXPIRED",
    Kind.NOT_YET_VALID: "TLS_CLOCK_SKEW",
    Kind.TLS_TIMEOUT: "TLS_TIMEOUT",
    Kind.TIMEOUT: "TLS_TIMEOUT",
})


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
    number = exc.errno
    if number == socket.EAI_NONAME:
        return Kind.NXDOMAIN
    if number == getattr(socket, "EAI_NODATA", object()):
        return Kind.NO_ANSWER
    return Kind.DNS


def classify_ssl_error(exc: ssl.SSLError) -> Kind:
    """A TLS error's kind; certificate problems are told apart by OpenSSL's verify code."""
    if isinstance(exc, ssl.SSLCertVerificationError):
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
            if kind != "failed":
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
