"""One HTTP request to the gateway, pinned to one address, bounded in time and size.

Every HTTP request of every check goes through `request()`: the key goes only to
the gateway's own origin over HTTPS (or plain HTTP to loopback), redirects are
returned rather than followed, the body read is capped, and the whole request is
bounded (connect within ``timeout``, the answer within ``timeout`` of sending the
request, everything within `Timeouts.request`: a watchdog
shuts the socket down when a server stalls or trickles). Network trouble is a
result (`HttpResult.error`), never an exception.

Pinning: the URL is built on the IP address, the ``Host`` header and the TLS SNI
(httpx's ``sni_hostname`` extension) carry the gateway's name, so certificate
checks still use the name, and the transport is bound to the address's family
(``local_address``). With a proxy (see `proxy.decide`), the request goes through
it by name, as the user's clients send it.
"""

from __future__ import annotations

import contextlib
import json as jsonlib
import socket
import threading
import time
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from cborg_doctor.facts import DNS_ADDRESSES
from cborg_doctor.facts import reachable as reachable_fact
from cborg_doctor.timeouts import Timeouts

from . import errors, proxy, resolve, trust
from .family import by_number
from .family import family as ip_family

if TYPE_CHECKING:
    from cborg_doctor.context import RunContext
    from cborg_doctor.secrets import ApiKey



@dataclass(frozen=True)
class HttpResult:
    """What one request gave: a response (possibly cut short) or an error kind."""

    url: str
    status: int | None  # None when no response arrived
    headers: Mapping[str, str]  # lower-case names; duplicates joined with ", "
    body: bytes  # at most max_body bytes
    truncated: bool  # body longer than max_body, or the read hit the time bound
    error: str | None  # timeout, refused, tls, no_route, dns, protocol, too_slow, proxy, ...
    detail: str  # one line for humans ("" if no error)
    address: str | None  # the peer IP actually used (None through a proxy)
    timings: Mapping[str, float]  # ms: dns, connect, tls, ttfb, first_byte, total
    cause: str | None = None  # the finer kind behind `error` (e.g. "untrusted", "hostname")
    key_sent: bool = False
    via_proxy: str | None = None  # the proxy URL (password removed) when one was used
    http_version: str = ""

    def json(self) -> Any | None:
        """The body parsed as JSON, or None if it is not valid JSON (never raises)."""
        try:
            return jsonlib.loads(self.body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError, RecursionError):
            return None

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def header(self, name: str, default: str = "") -> str:
        return self.headers.get(name.lower(), default)


def family_of(address: str) -> int:
    return ip_family(address).number


def _family_number(value: int | None) -> int | None:
    found = by_number(value)
    return found.number if found else None


def candidates(ctx: RunContext, family: int | None = None) -> tuple[list[str], float, str]:
    """Addresses to try, best first: (addresses, ms spent resolving, why-empty detail).

    Addresses the net checks reached come first; a family they found unreachable is
    tried last, so one black-holed family does not cost every request a timeout.
    """
    start = time.monotonic()
    fact = ctx.fact(DNS_ADDRESSES)
    spent = 0.0
    detail = ""
    if not isinstance(fact, dict):
        found = resolve.lookup(ctx)
        fact = found.to_fact()
        spent = (time.monotonic() - start) * 1000
        detail = found.detail or (found.error or "")
    order = [a for a in fact.get("order", []) if family is None or family_of(a) == family]
    reachable = {
        name: found
        for number, name in ((4, "ipv4"), (6, "ipv6"))
        if (found := ctx.fact(reachable_fact(number))) is not None
    }
    if reachable:
        good = [a for a in order if a in reachable.get(ip_family(a).key, ())]
        rest = [a for a in order if a not in good]
        tested_bad = [a for a in rest if ip_family(a).key in reachable]
        untested = [a for a in rest if a not in tested_bad]
        order = good + untested + tested_bad
    return order, spent, detail


def reachable(ctx: RunContext, order: list[str] | None = None) -> list[str] | None:
    """Addresses the net checks reached, in `order` (default: the gateway's DNS order).
    None: neither family's check ran. A caller declares ``uses=("net.ipv4", "net.ipv6")``
    so both have finished when it asks."""
    if order is None:
        order = resolve.target_addresses(ctx).get("order", [])
    found = [ctx.fact(reachable_fact(family)) for family in (4, 6)]
    if all(f is None for f in found):
        return None
    good = {a for family in found if family for a in family}
    return [a for a in order if a in good]


def _request_headers(
    ctx: RunContext, send_key: bool, extra: Mapping[str, str] | None, has_json: bool,
    credential: Credential | None = None,
) -> tuple[dict[str, str], bool]:
    from cborg_doctor import __version__

    headers = {
        "User-Agent": f"cborg-doctor/{__version__}",
        "Accept": "*/*",
        "Accept-Encoding": "identity",  # the size cap counts what arrives
    }
    if has_json:
        headers["Content-Type"] = "application/json"
    carriers = ("host", "authorization", "x-api-key", "x-goog-api-key", "api-key")
    for name, value in (extra or {}).items():
        if name.lower() not in carriers:
            headers[name] = value
    key = credential.key if credential is not None else ctx.key
    sent = bool(send_key and key is not None and ctx.target.key_may_be_sent)
    if sent and key is not None:
        if credential is not None and credential.header.lower() != "authorization":
            headers[credential.header] = key.reveal()
        else:
            headers["Authorization"] = f"Bearer {key.reveal()}"
    return headers, sent


@dataclass(frozen=True)
class Credential:
    """Another key than the run's, and the header it goes in (a tool's own key and style:
    ``Authorization`` as Bearer, ``x-api-key``, ``x-goog-api-key``). Same rules as the
    run's key: only with `send_key`, only to the gateway's origin."""

    key: ApiKey
    header: str = "Authorization"


def _pinned_url(url: str, address: str) -> str:
    parts = urlsplit(url)
    host = f"[{address}]" if ":" in address else address
    port = f":{parts.port}" if parts.port else ""
    return urlunsplit(parts._replace(netloc=host + port))


def _failure(url: str, kind: str, detail: str, **extra: Any) -> HttpResult:
    return HttpResult(url, None, {}, b"", False, kind, detail, extra.pop("address", None),
                      extra.pop("timings", {}), **extra)


def request(
    ctx: RunContext,
    method: str,
    path: str,
    *,
    send_key: bool = False,
    json_body: Any = None,
    headers: Mapping[str, str] | None = None,
    stream: bool = False,
    family: int | None = None,
    address: str | None = None,
    max_body: int = 1 << 20,
    timeout: float | None = None,
    credential: Credential | None = None,
) -> HttpResult:
    """Send one request to ``ctx.target.url(path)``; never raises for network trouble.

    `family` (4/6 or socket.AF_INET/AF_INET6) restricts the addresses tried, `address`
    pins one and bypasses any proxy; through a proxy `family` does not apply (the proxy
    picks the address). `stream` also records ``timings["first_byte"]``. The key is sent
    only with `send_key`, only where `Target.key_may_be_sent` allows, and never in clear
    text through a proxy. Bodies in gzip/deflate are inflated at most to `max_body`.
    """
    timeout = ctx.timeout if timeout is None else timeout
    url = ctx.target.url(path)
    if not ctx.target.valid:
        return _failure(url, "invalid", "the base URL is not a usable http(s) URL")
    body = None if json_body is None else jsonlib.dumps(json_body).encode("utf-8")
    route = proxy.decision(ctx)
    # Plain http through a proxy would show the key to the proxy: never send it that way.
    may_send = send_key and not (route.url and address is None and ctx.target.scheme == "http")
    sent_headers, key_sent = _request_headers(ctx, may_send, headers, body is not None, credential)
    sent_headers["Host"] = urlsplit(url).netloc
    call = _Call(ctx, method, url, sent_headers, body, key_sent, max_body, timeout, stream)
    if route.url and address is None:
        return call.send(None, _family_number(family), proxy.url_for_connecting(ctx, route))
    if address is not None:
        return call.send(address, family_of(address), None)
    order, dns_ms, why = candidates(ctx, _family_number(family))
    if not order:
        wanted = f"no IPv{_family_number(family)} address" if family else "no address"
        return _failure(url, "dns", f"{wanted} for {ctx.target.host}" + (f": {why}" if why else ""),
                        timings={"dns": dns_ms} if dns_ms else {})
    connect_until = time.monotonic() + timeout
    result: HttpResult | None = None
    for candidate in order:
        result = call.send(candidate, family_of(candidate), None, dns_ms=dns_ms)
        fast_failure = result.error in ("refused", "no_route") and result.status is None
        if not fast_failure or time.monotonic() >= connect_until:
            break
    assert result is not None
    return result


@dataclass
class _Marks:
    """Trace events of one request, and the sockets a watchdog may shut down."""

    deadline: float  # when the watchdog stops the request; only ever moves earlier
    read_bound: float  # seconds allowed from sending the request to the end of the body
    events: list[tuple[str, float]] = field(default_factory=list)
    sockets: list[socket.socket] = field(default_factory=list)
    fired: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def trace(self, name: str, info: Mapping[str, Any]) -> None:
        now = time.monotonic()
        with self.lock:
            if name.endswith("send_request_headers.started") and not any(
                n.endswith("send_request_headers.started") for n, _ in self.events
            ):
                self.deadline = min(self.deadline, now + self.read_bound)
            self.events.append((name, now))
        if name.endswith(("connect_tcp.complete", "start_tls.complete")):
            stream = info.get("return_value")
            sock = stream.get_extra_info("socket") if stream is not None else None
            if isinstance(sock, socket.socket):
                with self.lock:
                    self.sockets.append(sock)
                if self.fired.is_set():
                    self._shutdown(sock)

    def watch(self) -> None:
        """The watchdog thread's loop: stop the request once the deadline passes."""
        while True:
            remaining = self.deadline - time.monotonic()
            if remaining <= 0:
                self.stop()
                return
            if self.done.wait(min(remaining, 0.1)):
                return

    def stop(self) -> None:
        """The time bound passed: wake up any blocked read by shutting the socket down."""
        self.fired.set()
        with self.lock:
            sockets = list(self.sockets)
        for sock in sockets:
            self._shutdown(sock)

    @staticmethod
    def _shutdown(sock: socket.socket) -> None:
        with contextlib.suppress(OSError):  # for an SSLSocket too: this is the raw fd
            socket.socket.shutdown(sock, socket.SHUT_RDWR)

    def first(self, suffix: str) -> float | None:
        return next((t for n, t in self.events if n.endswith(suffix)), None)

    def last(self, suffix: str) -> float | None:
        return next((t for n, t in reversed(self.events) if n.endswith(suffix)), None)

    def phase(self) -> str:
        """Where the request was when it stopped: connect, tls or read."""
        names = [n for n, _ in self.events]
        if any(n.endswith("start_tls.started") for n in names) and not any(
            n.endswith("start_tls.complete") for n in names
        ):
            return "tls"
        if not any(n.endswith("connect_tcp.complete") for n in names):
            return "connect"
        return "read"

    def timings(self, start: float, end: float, dns_ms: float, first_byte: float | None
                ) -> dict[str, float]:
        out: dict[str, float] = {}
        if dns_ms:
            out["dns"] = round(dns_ms, 2)
        for key, name in (("connect", "connect_tcp"), ("tls", "start_tls")):
            began, done = self.first(f"{name}.started"), self.last(f"{name}.complete")
            if began is not None and done is not None:
                out[key] = round((done - began) * 1000, 2)
        sent = self.last("send_request_headers.started")
        headers = self.last("receive_response_headers.complete")
        if sent is not None and headers is not None:
            out["ttfb"] = round((headers - sent) * 1000, 2)
        if first_byte is not None:
            out["first_byte"] = round((first_byte - (sent or start)) * 1000, 2)
        out["total"] = round((end - start) * 1000 + dns_ms, 2)
        return out


@dataclass
class _Call:
    """One logical request; `send` makes one attempt on one address or proxy."""

    ctx: RunContext
    method: str
    url: str
    headers: dict[str, str]
    body: bytes | None
    key_sent: bool
    max_body: int
    timeout: float
    stream: bool

    def send(self, address: str | None, family: int | None, proxy_url: str | None,
             dns_ms: float = 0.0) -> HttpResult:
        httpx = load_httpx()

        start = time.monotonic()
        marks = _Marks(deadline=start + Timeouts.from_option(self.timeout).request,
                       read_bound=self.timeout)
        watchdog = threading.Thread(target=marks.watch, daemon=True, name="http-watchdog")
        target = self.ctx.target
        url = _pinned_url(self.url, address) if address else self.url
        extensions: dict[str, Any] = {"trace": marks.trace}
        if address and target.scheme == "https":
            from cborg_doctor.target import is_ip_literal

            if not is_ip_literal(target.host):
                extensions["sni_hostname"] = target.host
        local = {4: "0.0.0.0", 6: "::"}.get(family) if family and not proxy_url else None
        shown_proxy = proxy.decision(self.ctx).shown if proxy_url else None
        status: int | None = None
        response_headers: dict[str, str] = {}
        chunks: list[bytes] = []
        size = 0
        truncated = False
        first_byte: float | None = None
        error: str | None = None
        cause: str | None = None
        detail = ""
        version = ""
        watchdog.start()
        try:
            verify: Any = trust.user_context(self.ctx) if target.scheme == "https" else False
            transport = httpx.HTTPTransport(
                verify=verify, local_address=local, retries=0, proxy=proxy_url
            )
            timeouts = httpx.Timeout(self.timeout)
            with httpx.Client(transport=transport, timeout=timeouts, follow_redirects=False,
                              trust_env=False) as client:
                req = client.build_request(self.method, url, headers=self.headers,
                                           content=self.body, extensions=extensions)
                response = client.send(req, stream=True)
                try:
                    status = response.status_code
                    version = response.http_version
                    response_headers = _joined(response.headers.multi_items())
                    decoder = _BoundedDecoder(response.headers.get("content-encoding", ""))
                    for raw in response.iter_raw():
                        if first_byte is None and raw:
                            first_byte = time.monotonic()
                        room = self.max_body - size
                        try:
                            chunk = decoder.decode(raw, room + 1)
                        except zlib.error:
                            error = cause = "protocol"
                            detail = "the body's gzip/deflate encoding is corrupt"
                            break
                        chunks.append(chunk[:room])
                        size += min(len(chunk), room)
                        if len(chunk) > room:
                            truncated = True
                            break
                        if time.monotonic() >= marks.deadline:
                            truncated, error = True, "too_slow"
                            detail = f"the body was still arriving after {self.timeout:.3g} s"
                            break
                finally:
                    response.close()
        except Exception as exc:  # every network failure becomes a result
            error, cause, detail, status = self._classify(exc, marks, status)
        finally:
            marks.done.set()
        if error is None and marks.fired.is_set():
            # The watchdog's shutdown reads like the clean end of a body sent without a length.
            error, cause = "too_slow", "too_slow"
            detail = f"the body was still arriving after {self.timeout:.3g} s"
        end = time.monotonic()
        if error == "too_slow":
            truncated = True
        return HttpResult(
            url=self.url, status=status, headers=response_headers, body=b"".join(chunks),
            truncated=truncated, error=error, detail=detail, address=address,
            timings=marks.timings(start, end, dns_ms, first_byte if self.stream else None),
            cause=cause, key_sent=self.key_sent,
            via_proxy=shown_proxy, http_version=version,
        )

    def _classify(self, exc: BaseException, marks: _Marks, status: int | None
                  ) -> tuple[str, str | None, str, int | None]:
        phase = marks.phase()
        kind = errors.classify(exc, phase=phase)
        detail = self.ctx.scrub(errors.describe(exc))
        if marks.fired.is_set():
            if status is not None:
                return "too_slow", "too_slow", (
                    f"the body was still arriving after {self.timeout:.3g} s"), status
            return "timeout", "timeout", (
                f"no response within {self.timeout:.3g} s of the request, in the {phase} phase"), None
        if kind == "proxy":
            text = str(exc)
            code = text.split(" ", 1)[0]
            proxy_status = int(code) if code.isdigit() else None
            return "proxy", "proxy", f"the proxy answered CONNECT with {text}"[:200], proxy_status
        if kind in errors.TLS_KINDS:
            if kind == "tls_timeout":
                return "timeout", kind, f"the TLS handshake did not finish in {self.timeout:.3g} s", None
            return "tls", kind, errors.describe(exc), None
        if kind == "timeout":
            what = {"connect": "TCP connect", "tls": "TLS handshake", "read": "response"}[phase]
            return "timeout", phase, f"{what} timed out after {self.timeout:.3g} s", status
        if kind == "tls":
            return "tls", "tls", detail, None
        if kind in ("nxdomain", "no_answer", "dns"):
            return "dns", kind, detail, None
        return kind, kind, detail, status


def prefetch_httpx() -> None:
    """Start importing httpx in the background (~150 ms of CPU), so it overlaps with the
    DNS and TCP waits of the checks before the first HTTP request."""
    import sys

    if "httpx" not in sys.modules:
        threading.Thread(target=load_httpx, daemon=True, name="prefetch-httpx").start()


def load_httpx() -> Any:
    """Import httpx; httpcore merely probes for trio, which costs ~70 ms when installed,
    so that probe is answered "not installed" (only while httpcore is first imported)."""
    import sys

    from . import owns_process

    if "httpcore" in sys.modules or "trio" in sys.modules or not owns_process():
        import httpx

        return httpx
    sys.modules["trio"] = None  # type: ignore[assignment]  # makes `import trio` fail
    try:
        import httpx
    finally:
        if sys.modules.get("trio", 0) is None:
            del sys.modules["trio"]
    return httpx


class _BoundedDecoder:
    """Undoes a gzip or deflate content-encoding, never producing more than asked for.

    httpx's own decoders inflate a whole network read at once: 64 KiB of a gzip bomb
    become 64 MB before the body cap can look at them. Other encodings (we ask for
    ``identity``) pass through as they came.
    """

    def __init__(self, encoding: str) -> None:
        name = encoding.strip().lower()
        self._inflate: Any = None
        self._raw_fallback = name == "deflate"
        if name in ("gzip", "x-gzip"):
            self._inflate = zlib.decompressobj(zlib.MAX_WBITS | 16)
        elif name == "deflate":
            self._inflate = zlib.decompressobj()

    def decode(self, data: bytes, limit: int) -> bytes:
        if self._inflate is None or not data:
            return data
        try:
            return self._inflate.decompress(data, max(limit, 1))
        except zlib.error:
            if not self._raw_fallback:
                raise
            self._raw_fallback = False  # "deflate" without the zlib header, as some servers send
            self._inflate = zlib.decompressobj(-zlib.MAX_WBITS)
            return self._inflate.decompress(data, max(limit, 1))


def _joined(items: list[tuple[str, str]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in items:
        key = name.lower()
        out[key] = f"{out[key]}, {value}" if key in out else value
    return out
