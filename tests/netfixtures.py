"""Real network faults on loopback: a DNS server, TCP listeners, HTTP(S) servers, a proxy.

Everything binds to 127.0.0.1 or ::1 (or inside a namespace a test made) and is
stopped by the fixture that started it. Servers run in daemon threads and answer
with what the real thing sends (LiteLLM, Cloudflare block pages, captive portals).
"""

from __future__ import annotations

import contextlib
import datetime
import re
import select
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


def accept_loop(sock: socket.socket, stop: threading.Event,
                handle: Callable[[socket.socket, str], None]) -> None:
    """Accept connections until `stop` is set or `sock` closes, each handled in its own thread.

    select, not a blocking accept: a closed listener must stop listening at once.
    """
    while not stop.is_set():
        try:
            ready, _, _ = select.select([sock], [], [], 0.1)
            if not ready:
                continue
            conn, peer = sock.accept()
        except (OSError, ValueError):
            return
        threading.Thread(target=handle, args=(conn, peer[0]), daemon=True).start()


# ── DNS ──────────────────────────────────────────────────────────────────────


@dataclass
class DnsServer:
    """A UDP DNS server on loopback. `zone[name]` is {"A": [...], "AAAA": [...]} or a mode:
    "nxdomain", "servfail", "refused", "drop" (never answer)."""

    zone: dict[str, Any] = field(default_factory=dict)
    host: str = "127.0.0.1"
    bind_port: int = 0
    queries: list[tuple[str, str]] = field(default_factory=list)
    _sock: socket.socket | None = None
    _stop: threading.Event = field(default_factory=threading.Event)

    @property
    def port(self) -> int:
        assert self._sock is not None
        return self._sock.getsockname()[1]

    @property
    def arg(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    def start(self) -> DnsServer:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        self._sock = socket.socket(family, socket.SOCK_DGRAM)
        self._sock.bind((self.host, self.bind_port))
        threading.Thread(target=self._serve, daemon=True).start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._sock is not None:
            self._sock.close()

    def _serve(self) -> None:
        import dns.flags
        import dns.message
        import dns.rcode
        import dns.rdatatype
        import dns.rrset

        assert self._sock is not None
        while not self._stop.is_set():
            try:
                ready, _, _ = select.select([self._sock], [], [], 0.2)
                if not ready:
                    continue
                wire, peer = self._sock.recvfrom(4096)
                query = dns.message.from_wire(wire)
            except Exception:
                continue
            question = query.question[0]
            name = question.name.to_text().rstrip(".").lower()
            rdtype = dns.rdatatype.to_text(question.rdtype)
            self.queries.append((name, rdtype))
            entry = self.zone.get(name, "nxdomain")
            if entry == "drop":
                continue
            response = dns.message.make_response(query)
            response.flags |= dns.flags.RA
            if entry == "nxdomain":
                response.set_rcode(dns.rcode.NXDOMAIN)
            elif entry == "servfail":
                response.set_rcode(dns.rcode.SERVFAIL)
            elif entry == "refused":
                response.set_rcode(dns.rcode.REFUSED)
            else:
                values = entry.get(rdtype, [])
                if values:
                    response.answer.append(
                        dns.rrset.from_text(question.name, 60, "IN", rdtype, *values)
                    )
            with contextlib.suppress(OSError):
                self._sock.sendto(response.to_wire(), peer)



# ── TCP listeners ────────────────────────────────────────────────────────────


def closed_port(host: str = "127.0.0.1") -> int:
    """A port where nothing listens: connecting is refused."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


class FullBacklog:
    """A listener that never accepts, with its backlog filled: new SYNs go unanswered."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.host = host
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.bind((host, port))
        self.sock.listen(0)
        self.port = self.sock.getsockname()[1]
        self.fillers: list[socket.socket] = []
        for _ in range(8):
            filler = socket.socket(family, socket.SOCK_STREAM)
            filler.setblocking(False)
            with contextlib.suppress(BlockingIOError, OSError):
                filler.connect((host, self.port))
            self.fillers.append(filler)
        time.sleep(0.2)

    def close(self) -> None:
        for filler in self.fillers:
            filler.close()
        self.sock.close()


# ── HTTP(S) servers ──────────────────────────────────────────────────────────


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    peer: str
    sni: str | None = None


Handler = Callable[[Request, socket.socket], None]


def respond(
    conn: socket.socket,
    status: int,
    body: bytes | str = b"",
    headers: dict[str, str] | None = None,
    reason: str = "",
) -> None:
    data = body.encode() if isinstance(body, str) else body
    reasons = {200: "OK", 302: "Found", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
               407: "Proxy Authentication Required", 429: "Too Many Requests",
               502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}
    lines = [f"HTTP/1.1 {status} {reason or reasons.get(status, 'Status')}"]
    all_headers = {"content-length": str(len(data)), "connection": "close"}
    all_headers.update(headers or {})
    lines += [f"{k}: {v}" for k, v in all_headers.items()]
    conn.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + data)


class HttpServer:
    """A threaded HTTP/1.1 server on loopback; TLS when `tls` (an SSLContext) is given.

    `handler(request, conn)` writes the whole answer; `None` means "accept and stall".
    """

    def __init__(self, handler: Handler | None, host: str = "127.0.0.1",
                 tls: ssl.SSLContext | None = None, port: int = 0,
                 handshake: bool = True, banner: bytes | None = None) -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.host = host
        self.handler = handler
        self.tls = tls
        self.handshake = handshake
        self.banner = banner  # sent at once on accept, then closed (a non-TLS service)
        self.requests: list[Request] = []
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, port))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self._stop = threading.Event()
        self._conns: list[socket.socket] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        accept_loop(self.sock, self._stop, self._track)

    def _track(self, conn: socket.socket, peer: str) -> None:
        self._conns.append(conn)
        self._one(conn, peer)

    def _one(self, conn: socket.socket, peer: str) -> None:
        sni: list[str | None] = [None]
        try:
            conn.settimeout(30)
            if self.banner is not None:
                conn.sendall(self.banner)
                return
            if self.tls is not None:
                if not self.handshake:  # TCP up, TLS never answered
                    self._stop.wait(60)
                    return
                self.tls.sni_callback = lambda s, name, c: sni.__setitem__(0, name) or None
                conn = self.tls.wrap_socket(conn, server_side=True)
                self._conns.append(conn)
            if self.handler is None:
                self._stop.wait(60)
                return
            request = read_request(conn, peer)
            if request is None:
                return
            request.sni = sni[0]
            self.requests.append(request)
            self.handler(request, conn)
        except (OSError, ssl.SSLError, ValueError):
            pass
        finally:
            with contextlib.suppress(OSError):
                conn.close()

    @property
    def url_host(self) -> str:
        return f"[{self.host}]" if ":" in self.host else self.host

    def close(self) -> None:
        self._stop.set()
        self.sock.close()
        for conn in self._conns:
            with contextlib.suppress(OSError):
                conn.close()


def read_request(conn: socket.socket, peer: str) -> Request | None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            return None
        data += chunk
        if len(data) > 65536:
            return None
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, path, _ = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0") or 0)
    while len(rest) < length:
        chunk = conn.recv(4096)
        if not chunk:
            break
        rest += chunk
    return Request(method, path, headers, rest, peer)


# ── What real servers answer ─────────────────────────────────────────────────

CF_RAY = "8e1f2a3b4c5d6e7f-SJC"
PAGES = Path(__file__).parent / "netpages"


def _page(name: str) -> str:
    """Pages as the real servers send them (kept verbatim in tests/netpages/)."""
    return (PAGES / name).read_text(encoding="utf-8")



def http_date(offset: float = 0.0) -> str:
    from email.utils import formatdate

    return formatdate(time.time() + offset, usegmt=True)


def cf_headers(extra: dict[str, str] | None = None) -> dict[str, str]:
    headers = {
        "date": http_date(),
        "server": "cloudflare",
        "cf-ray": CF_RAY,
        "cf-cache-status": "DYNAMIC",
    }
    headers.update(extra or {})
    return headers


def trace_body(request: Request, host: str = "api.cborg.lbl.gov", colo: str = "SJC",
               warp: str = "off") -> str:
    return (
        f"fl=465f1\nh={host}\nip={request.peer}\nts=1795636800.123\nvisit_scheme=https\n"
        f"uag={request.headers.get('user-agent', '')}\ncolo={colo}\nsliver=none\n"
        f"http=http/1.1\nloc=US\ntls=TLSv1.3\nsni=plaintext\nwarp={warp}\ngateway=off\n"
        "rbi=off\nkex=X25519\n"
    )


def litellm(behind_cloudflare: bool = True, trace: bool = True, clock_offset: float = 0.0
            ) -> Handler:
    """Answers like CBorg: LiteLLM (uvicorn) behind Cloudflare, with /cdn-cgi/trace.
    `clock_offset` (seconds) sets the server's Date header off from real time."""

    def handle(request: Request, conn: socket.socket) -> None:
        base = cf_headers() if behind_cloudflare else {"server": "uvicorn"}
        base["date"] = http_date(clock_offset)
        path = request.path.split("?", 1)[0]
        if request.method == "HEAD":
            respond(conn, 404, "", base)
        elif path == "/cdn-cgi/trace" and trace and behind_cloudflare:
            respond(conn, 200, trace_body(request), {**base, "content-type": "text/plain"})
        elif path in ("/health/liveliness", "/health/liveness"):
            respond(conn, 200, '"I\'m alive!"', {**base, "content-type": "application/json"})
        elif path == "/key/info" and "authorization" in request.headers:
            respond(conn, 200, '{"key": "x", "info": {"spend": 0}}',
                    {**base, "content-type": "application/json"})
        else:
            respond(conn, 404, '{"detail":"Not Found"}', {**base, "content-type": "application/json"})

    return handle


CF_1020_HTML = _page("cloudflare_1020.html")

CF_CHALLENGE_HTML = _page("cloudflare_challenge.html")

CF_502_HTML = _page("cloudflare_502.html")

PORTAL_HTML = _page("portal.html")


def cloudflare_1020() -> Handler:
    def handle(request: Request, conn: socket.socket) -> None:
        respond(conn, 403, CF_1020_HTML, cf_headers({
            "content-type": "text/html; charset=UTF-8",
            "x-frame-options": "SAMEORIGIN",
            "referrer-policy": "same-origin",
            "cache-control": "private, max-age=0, no-store, no-cache, must-revalidate",
            "expires": "Thu, 01 Jan 1970 00:00:01 GMT",
        }))

    return handle


def cloudflare_challenge() -> Handler:
    def handle(request: Request, conn: socket.socket) -> None:
        respond(conn, 403, CF_CHALLENGE_HTML, cf_headers({
            "content-type": "text/html; charset=UTF-8",
            "cf-mitigated": "challenge",
            "critical-ch": "Sec-CH-UA-Bitness, Sec-CH-UA-Arch",
        }))

    return handle


def cloudflare_502() -> Handler:
    def handle(request: Request, conn: socket.socket) -> None:
        respond(conn, 502, CF_502_HTML, cf_headers({"content-type": "text/html; charset=UTF-8"}))

    return handle


def captive_portal() -> Handler:
    def handle(request: Request, conn: socket.socket) -> None:
        respond(conn, 302, "", {"location": "http://portal.guest-wifi.example/login?orig=1",
                                "server": "nginx"})

    return handle


def portal_page() -> Handler:
    def handle(request: Request, conn: socket.socket) -> None:
        respond(conn, 200, PORTAL_HTML, {"content-type": "text/html", "server": "nginx"})

    return handle


def status(code: int, body: str = "", headers: dict[str, str] | None = None) -> Handler:
    def handle(request: Request, conn: socket.socket) -> None:
        respond(conn, code, body, headers)

    return handle


def endless_body(chunk: bytes = b"x" * 4096, pause: float = 0.0) -> Handler:
    """Headers at once, then a body that never ends (pause=… makes it trickle)."""

    def handle(request: Request, conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\nserver: uvicorn\r\n"
                     b"transfer-encoding: chunked\r\n\r\n")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            conn.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            if pause:
                time.sleep(pause)

    return handle


def stall_after_headers_read() -> Handler:
    """Reads the request and never answers."""

    def handle(request: Request, conn: socket.socket) -> None:
        time.sleep(60)

    return handle


# ── Certificates ─────────────────────────────────────────────────────────────


@dataclass
class Pki:
    """A trustme CA, its PEM on disk, and helpers to make server contexts."""

    ca: Any
    ca_file: Path

    def server_context(self, *names: str, not_before: datetime.datetime | None = None,
                       not_after: datetime.datetime | None = None) -> ssl.SSLContext:
        cert = self.ca.issue_cert(*names, not_before=not_before, not_after=not_after)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        cert.configure_cert(context)
        return context


def make_pki(folder: Path, name: str = "ca", organization: str = "trustme") -> Pki:
    import trustme

    ca = trustme.CA(organization_name=organization)
    path = folder / f"{name}.pem"
    ca.cert_pem.write_to_path(str(path))
    return Pki(ca, path)


# ── CONNECT proxy ────────────────────────────────────────────────────────────


class ConnectProxy:
    """A tiny HTTP CONNECT proxy on loopback. `hosts` maps names to loopback IPs (the
    proxy resolves, as real proxies do); `require_auth` answers 407 without credentials."""

    def __init__(self, hosts: dict[str, str], require_auth: str | None = None,
                 tls: ssl.SSLContext | None = None, name: str = "127.0.0.1") -> None:
        self.hosts = hosts
        self.require_auth = require_auth
        self.tunnels: list[str] = []
        self.server = HttpServer(self._handle, tls=tls)
        self.port = self.server.port
        self.url = f"{'https' if tls else 'http'}://{name}:{self.port}"

    def _handle(self, request: Request, conn: socket.socket) -> None:
        import base64

        if self.require_auth is not None:
            given = request.headers.get("proxy-authorization", "")
            wanted = "Basic " + base64.b64encode(self.require_auth.encode()).decode()
            if given != wanted:
                respond(conn, 407, "<html><body>Proxy authentication required</body></html>",
                        {"proxy-authenticate": 'Basic realm="corp"', "content-type": "text/html"})
                return
        if request.method != "CONNECT":
            respond(conn, 405, "CONNECT only")
            return
        host, _, port = request.path.rpartition(":")
        host = host.strip("[]")
        address = self.hosts.get(host, host)
        if not re.match(r"^(127\.|::1$)", address):
            respond(conn, 502, "refusing to leave loopback")
            return
        try:
            upstream = socket.create_connection((address, int(port)), timeout=10)
        except OSError:
            respond(conn, 502, "upstream connect failed")
            return
        self.tunnels.append(request.path)
        conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        pipe(conn, upstream)

    def close(self) -> None:
        self.server.close()


def pipe(a: socket.socket, b: socket.socket, on_a_data: Callable[[bytes], None] | None = None,
         idle: float = 30) -> None:
    """Copy bytes both ways until either side closes or `idle` seconds pass; `on_a_data`
    sees everything `a` sends (recording proxies)."""
    a.settimeout(None)
    b.settimeout(None)
    try:
        while True:
            ready, _, _ = select.select([a, b], [], [], idle)
            if not ready:
                return
            for src in ready:
                data = src.recv(65536)
                if not data:
                    return
                # TLS may hold decrypted bytes that select() cannot see: drain them too.
                while isinstance(src, ssl.SSLSocket) and src.pending():
                    data += src.recv(src.pending())
                if src is a and on_a_data is not None:
                    on_a_data(data)
                (b if src is a else a).sendall(data)
    except OSError:
        return
    finally:
        b.close()


@contextlib.contextmanager
def serving(handler: Handler | None, **kwargs: Any) -> Iterator[HttpServer]:
    server = HttpServer(handler, **kwargs)
    try:
        yield server
    finally:
        server.close()


def ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as sock:
            sock.bind(("::1", 0))
    except OSError:
        return False
    return True
