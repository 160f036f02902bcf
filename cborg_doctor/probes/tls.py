"""TLS handshakes to one address with SNI, keeping the peer certificate even when
verification fails (a second, unverified handshake reads it), optionally through
an HTTP CONNECT proxy, bounded in time.
"""

from __future__ import annotations

import contextlib
import os
import socket
import ssl
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any

from . import errors, proxyanswer, tcp
from .proxyanswer import ProxyAnswer


@dataclass(frozen=True)
class PeerCert:
    """The facts of a certificate that a person needs to recognise it."""

    subject: str
    issuer: str
    issuer_org: str
    not_before: datetime | None
    not_after: datetime | None
    names: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "issuer": self.issuer,
            "issuer_org": self.issuer_org,
            "not_before": _iso(self.not_before),
            "not_after": _iso(self.not_after),
            "names": list(self.names),
        }


@dataclass(frozen=True)
class TlsResult:
    """One handshake: `error` is a kind from `errors` (untrusted, hostname, ...)."""

    address: str
    port: int
    server_name: str
    ok: bool
    ms: float
    error: str | None = None
    detail: str = ""
    protocol: str = ""
    cipher: str = ""
    cert: PeerCert | None = None
    server_date: datetime | None = None
    proxy_status: int | None = None
    proxy_answer: ProxyAnswer | None = None  # the proxy's refusal of CONNECT, when it refused
    extra: Mapping[str, Any] = field(default_factory=dict)


def _iso(value: datetime | None) -> str | None:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


def _name(parts: Any, key: str) -> str:
    for rdn in parts or ():
        for name, value in rdn:
            if name == key:
                return str(value)
    return ""


def _when(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromtimestamp(ssl.cert_time_to_seconds(text), tz=timezone.utc)
    except (ValueError, OverflowError):
        return None


def peer_cert_from_dict(info: Mapping[str, Any]) -> PeerCert:
    """From `SSLSocket.getpeercert()`'s dictionary."""
    subject, issuer = info.get("subject", ()), info.get("issuer", ())
    return PeerCert(
        subject=_name(subject, "commonName") or _name(subject, "organizationName"),
        issuer=_name(issuer, "commonName") or _name(issuer, "organizationName"),
        issuer_org=_name(issuer, "organizationName") or _name(issuer, "organizationalUnitName"),
        not_before=_when(info.get("notBefore")),
        not_after=_when(info.get("notAfter")),
        names=tuple(str(v) for k, v in info.get("subjectAltName", ()) if k in ("DNS", "IP Address")),
    )


def decode_der(der: bytes) -> PeerCert | None:
    """Parse a DER certificate with the ssl module's own decoder (no extra dependency)."""
    pem = ssl.DER_cert_to_PEM_cert(der)
    handle, path = tempfile.mkstemp(suffix=".pem")
    try:
        with os.fdopen(handle, "w") as out:
            out.write(pem)
        info = ssl._ssl._test_decode_cert(path)  # type: ignore[attr-defined]
    except (ssl.SSLError, OSError, AttributeError, ValueError):
        return None
    finally:
        with contextlib.suppress(OSError):
            os.unlink(path)
    return peer_cert_from_dict(info)


class TlsInTls:
    """A TLS session inside another one (the tunnel of an https:// proxy), run through
    memory buffers; offers the few SSLSocket methods `handshake` uses."""

    def __init__(self, outer: ssl.SSLSocket, context: ssl.SSLContext, sni: str | None) -> None:
        self.outer = outer
        self._in, self._out = ssl.MemoryBIO(), ssl.MemoryBIO()
        self.obj = context.wrap_bio(self._in, self._out, server_hostname=sni)

    def _pump(self, operation: Any) -> Any:
        while True:
            try:
                result = operation()
            except ssl.SSLWantReadError:
                self._flush()
                data = self.outer.recv(65536)
                if not data:
                    raise ConnectionResetError("the proxy closed the tunnel") from None
                self._in.write(data)
                continue
            self._flush()
            return result

    def _flush(self) -> None:
        pending = self._out.read()
        if pending:
            self.outer.sendall(pending)

    def do_handshake(self) -> None:
        self._pump(self.obj.do_handshake)

    def sendall(self, data: bytes) -> None:
        self._pump(lambda: self.obj.write(data))

    def recv(self, size: int) -> bytes:
        try:
            return self._pump(lambda: self.obj.read(size))
        except ssl.SSLZeroReturnError:
            return b""

    def getpeercert(self, binary_form: bool = False) -> Any:
        return self.obj.getpeercert(binary_form)

    def cipher(self) -> Any:
        return self.obj.cipher()

    def version(self) -> str | None:
        return self.obj.version()

    def __enter__(self) -> TlsInTls:
        return self

    def __exit__(self, *_: object) -> None:
        self.outer.close()


def proxy_context() -> ssl.SSLContext:
    """How httpcore verifies an https:// proxy: the OpenSSL defaults plus certifi."""
    import certifi

    context = ssl.create_default_context()
    context.load_verify_locations(certifi.where())
    return context


def open_tunnel(proxy: tuple[str, int], host: str, port: int, timeout: float,
                auth: str | None = None, proxy_tls: bool = False, proxy_name: str | None = None
                ) -> tuple[socket.socket | None, ProxyAnswer | None, str]:
    """CONNECT through an HTTP(S) proxy at `proxy` (an address, or a name the system
    resolves): (socket, the proxy's answer, detail); socket None on failure, answer None
    when the proxy could not be reached or said nothing. A refusal's page is read too
    (bounded), because it holds the proxy's reason. `proxy_name` is the name an
    https:// proxy's certificate must carry."""
    proxy_host, proxy_port = proxy
    try:
        sock = socket.create_connection((proxy_host, proxy_port), timeout=timeout)
        if proxy_tls:
            sock = proxy_context().wrap_socket(sock, server_hostname=proxy_name or proxy_host)
    except (OSError, ssl.SSLError) as exc:
        return None, None, f"cannot reach the proxy {proxy_host}:{proxy_port}: {errors.describe(exc)}"
    target = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    until = time.monotonic() + timeout  # a proxy may trickle its answer forever
    try:
        login = f"Proxy-Authorization: {auth}\r\n" if auth else ""
        sock.sendall(f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n{login}\r\n".encode("ascii"))
        data = b""
        while b"\r\n\r\n" not in data and len(data) < proxyanswer.MAX_HEAD:
            if time.monotonic() >= until:
                sock.close()
                return None, None, f"the proxy did not finish answering CONNECT within {timeout:.3g} s"
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
    except OSError as exc:
        sock.close()
        return None, None, f"the proxy did not answer CONNECT: {errors.describe(exc)}"
    head, _, rest = data.partition(b"\r\n\r\n")
    answer = proxyanswer.parse(head)
    if answer.status is None or not 200 <= answer.status < 300:
        body = _read_refusal(sock, rest, proxyanswer.body_length(answer.headers), until)
        sock.close()
        answer = proxyanswer.parse(head, body)
        shown = answer.line[:100] or "nothing"
        return None, answer if data else None, f"the proxy answered CONNECT with {shown}"
    return sock, answer, ""


def _read_refusal(sock: socket.socket, body: bytes, length: int | None, until: float) -> bytes:
    """The page after a refusal: Content-Length bytes, or until the proxy closes, within
    the CONNECT's time bound and at most `proxyanswer.MAX_BODY` bytes."""
    wanted = proxyanswer.MAX_BODY if length is None else length
    try:
        while len(body) < wanted:
            remaining = until - time.monotonic()
            if remaining <= 0:
                break
            sock.settimeout(remaining)
            chunk = sock.recv(4096)
            if not chunk:
                break
            body += chunk
    except OSError:
        pass
    return body[:wanted]


def handshake(
    address: str,
    port: int,
    server_name: str,
    context: ssl.SSLContext,
    timeout: float,
    *,
    proxy: tuple[str, int] | None = None,
    proxy_auth: str | None = None,
    proxy_tls: bool = False,
    proxy_name: str | None = None,
    read_date: bool = False,
) -> TlsResult:
    """Connect (or CONNECT through `proxy`) and do one TLS handshake with SNI."""
    start = time.monotonic()
    sni = None if _is_ip(server_name) and not context.check_hostname else server_name

    def fail(kind: str, detail: str, **extra: Any) -> TlsResult:
        return TlsResult(address, port, server_name, False, _ms(start), kind, detail, **extra)

    if proxy is not None:
        raw, answer, detail = open_tunnel(proxy, server_name, port, timeout, proxy_auth,
                                          proxy_tls, proxy_name)
        if raw is None:
            return fail("proxy", detail, proxy_status=answer.status if answer else None,
                        proxy_answer=answer)
    else:
        try:
            raw = tcp.open_socket(address, port, timeout)
        except OSError as exc:
            return fail(errors.classify_os_error(exc), errors.describe(exc))
    try:
        raw.settimeout(timeout)
        tls_sock: Any
        if isinstance(raw, ssl.SSLSocket):  # through an https:// proxy: TLS inside TLS
            tls_sock = TlsInTls(raw, context, sni)
            tls_sock.do_handshake()
        else:
            tls_sock = context.wrap_socket(raw, server_hostname=sni)
    except TimeoutError:
        raw.close()
        return fail("tls_timeout", f"the TLS handshake did not finish in {timeout:g} s")
    except ssl.SSLError as exc:
        raw.close()
        return fail(errors.classify_ssl_error(exc), errors.describe(exc))
    except OSError as exc:
        raw.close()
        kind = errors.classify_os_error(exc)
        return fail("tls" if kind in ("reset", "failed") else kind,
                    f"the connection broke during the TLS handshake: {errors.describe(exc)}")
    with tls_sock:
        ms = _ms(start)
        der = tls_sock.getpeercert(binary_form=True)
        info = tls_sock.getpeercert() if context.verify_mode != ssl.CERT_NONE else None
        cert = peer_cert_from_dict(info) if info else (decode_der(der) if der else None)
        cipher = tls_sock.cipher()
        server_date = _read_date(tls_sock, server_name, port) if read_date else None
        return TlsResult(address, port, server_name, True, ms, protocol=tls_sock.version() or "",
                         cipher=cipher[0] if cipher else "", cert=cert, server_date=server_date,
                         extra={"chain": sent_chain(tls_sock)})


def sent_chain(sock: Any) -> tuple[bytes, ...]:
    """The certificates the peer sent, leaf first, as DER: `get_unverified_chain()` is public
    from Python 3.13 and exists on the private SSL object since 3.10. Empty when unavailable."""
    inner = getattr(sock, "obj", sock)  # TlsInTls wraps an SSLObject
    for holder in (inner, getattr(inner, "_sslobj", None)):
        getter = getattr(holder, "get_unverified_chain", None)
        if getter is None:
            continue
        try:
            certs = getter() or []
            return tuple(c if isinstance(c, bytes) else c.public_bytes(_ENCODING_DER)
                         for c in certs)[:8]
        except (AttributeError, ValueError, TypeError, ssl.SSLError):
            return ()
    return ()


_ENCODING_DER = getattr(ssl, "_ssl", ssl).__dict__.get("ENCODING_DER", 2)


def _read_date(sock: Any, host: str, port: int) -> datetime | None:
    """The server's clock, from a keyless HEAD request's Date header."""
    authority = host if port == 443 else f"{host}:{port}"
    until = time.monotonic() + (sock.gettimeout() or 5.0)  # a trickled answer: give up on time
    try:
        sock.sendall(f"HEAD / HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n"
                     "User-Agent: cborg-doctor\r\n\r\n".encode("ascii"))
        data = b""
        while b"\r\n\r\n" not in data and len(data) < 16384 and time.monotonic() < until:
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
    except (OSError, ssl.SSLError):
        return None
    for line in data.decode("latin-1", "replace").split("\r\n")[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "date":
            with contextlib.suppress(TypeError, ValueError, IndexError, OverflowError):
                when = parsedate_to_datetime(value.strip())
                # "-0000" (RFC 2822: zone unknown) parses naive; compare it as UTC.
                return when if when.tzinfo else when.replace(tzinfo=timezone.utc)
    return None


def _is_ip(host: str) -> bool:
    from cborg_doctor.target import is_ip_literal

    return is_ip_literal(host)


def _ms(start: float) -> float:
    return (time.monotonic() - start) * 1000
