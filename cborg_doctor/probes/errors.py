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

The kinds are plain strings so results stay plain data (JSON, reports, tests).
"""

from __future__ import annotations

import errno
import socket
import ssl
from collections.abc import Iterator
from types import MappingProxyType

NO_ROUTE_ERRNOS = frozenset(
    {errno.ENETUNREACH, errno.EHOSTUNREACH, errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT}
)
RESET_ERRNOS = frozenset({errno.ECONNRESET, errno.EPIPE, errno.ECONNABORTED})

# OpenSSL X509_V_ERR_* numbers that ssl.SSLCertVerificationError carries.
_VERIFY_KIND = MappingProxyType({
    2: "untrusted",  # unable to get issuer certificate
    9: "not_yet_valid",
    10: "expired",
    18: "untrusted",  # self-signed leaf
    19: "untrusted",  # self-signed certificate in chain
    20: "untrusted",  # unable to get local issuer certificate
    21: "untrusted",  # unable to verify the first certificate
    62: "hostname",
})

# Which finding code each kind becomes, per phase (checks declare the codes).
TCP_CODE = MappingProxyType({"refused": "TCP_REFUSED", "timeout": "TCP_TIMEOUT", "no_route": "NO_ROUTE"})
DNS_CODE = MappingProxyType({
    "nxdomain": "DNS_NXDOMAIN",
    "timeout": "DNS_TIMEOUT",
    "servfail": "DNS_FAILED",
    "refused_dns": "DNS_FAILED",
    "no_nameserver": "DNS_FAILED",
    "dns": "DNS_FAILED",
})
TLS_CODE = MappingProxyType({
    "untrusted": "TLS_UNTRUSTED",
    "hostname": "TLS_HOSTNAME_MISMATCH",
    "expired": "TLS_EXPIRED",
    "not_yet_valid": "TLS_CLOCK_SKEW",
    "tls_timeout": "TLS_TIMEOUT",
    "timeout": "TLS_TIMEOUT",
})


def chain(exc: BaseException | None) -> Iterator[BaseException]:
    """The exception and every cause behind it, outermost first (cycle-safe)."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def classify_os_error(exc: BaseException) -> str:
    """A socket-level error's kind."""
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return "timeout"
    if isinstance(exc, ConnectionRefusedError):
        return "refused"
    if isinstance(exc, socket.gaierror):
        return classify_gai_error(exc)
    if isinstance(exc, OSError):
        if exc.errno in NO_ROUTE_ERRNOS:
            return "no_route"
        if exc.errno in RESET_ERRNOS or isinstance(exc, ConnectionResetError):
            return "reset"
    return "failed"


def classify_gai_error(exc: socket.gaierror) -> str:
    number = exc.errno
    if number == socket.EAI_NONAME:
        return "nxdomain"
    if number == getattr(socket, "EAI_NODATA", object()):
        return "no_answer"
    return "dns"


def classify_ssl_error(exc: ssl.SSLError) -> str:
    """A TLS error's kind; certificate problems are told apart by OpenSSL's verify code."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        return _VERIFY_KIND.get(exc.verify_code, "untrusted")
    return "tls"


def classify(exc: BaseException, *, phase: str = "") -> str:
    """Any probe exception's kind. `phase` ("connect", "tls", "read") breaks ties for timeouts."""
    names = [type(item).__name__ for item in chain(exc)]
    for item in chain(exc):
        if isinstance(item, ssl.SSLError):
            return classify_ssl_error(item)
    outer = type(exc).__name__
    if outer in ("ConnectTimeout", "PoolTimeout"):
        return "tls_timeout" if phase == "tls" else "timeout"
    if outer in ("ReadTimeout", "WriteTimeout"):
        return "timeout"
    if outer == "ProxyError":
        return "proxy"
    if outer in ("UnsupportedProtocol", "InvalidURL"):
        return "invalid"
    for item in chain(exc):
        if isinstance(item, OSError) and not isinstance(item, ssl.SSLError):
            kind = classify_os_error(item)
            if kind != "failed":
                return kind
    if any(n in ("RemoteProtocolError", "LocalProtocolError", "ProtocolError") for n in names):
        return "protocol"
    if any("Timeout" in n for n in names):
        return "timeout"
    return "failed"


def describe(exc: BaseException) -> str:
    """One line for humans: the innermost informative message."""
    for item in reversed(list(chain(exc))):
        if isinstance(item, ssl.SSLCertVerificationError):
            return f"certificate verify failed: {item.verify_message}"
        if isinstance(item, OSError) and item.strerror:
            return item.strerror
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:200]
