"""Hostile TLS peers: garbage instead of a ServerHello, cut or corrupted handshakes, resets.

The peer reads the doctor's ClientHello and answers from a real server's first
flight (made by an in-memory TLS server with a lab certificate for the same
ClientHello): cut at any byte, with bytes flipped, replaced by garbage, by an
alert, by a record header promising more than ever comes, by plain HTTP, by a
reset, or trickled one byte at a time past the timeout. The tls check must say
what it saw in one line; nothing may crash or hang.
"""

from __future__ import annotations

import contextlib
import json
import random
import ssl
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests import fuzzcases as fc
from tests import netfixtures as nf
from tests.fuzzkit import Reply, ScriptedServer, base_env, run_inprocess

NAME = "gw.test"
TIMEOUT = "0.4"
CANARY = "sk-canaryFuzzTls0123456789abcdefXYZ"
KINDS = ("garbage", "cut", "flip", "alert", "huge_record", "http", "reset", "empty", "trickle",
         "sslv2", "repeat_hello")


@dataclass(frozen=True)
class Peer:
    kind: str
    seed: int = 0
    size: int = 0


CASES = st.builds(Peer, kind=st.sampled_from(KINDS), seed=st.integers(0, 2**32 - 1),
                  size=st.integers(0, 4096))


def server_flight(context: ssl.SSLContext, client_hello: bytes) -> bytes:
    """What a real TLS server sends first in answer to `client_hello`."""
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    server = context.wrap_bio(incoming, outgoing, server_side=True)
    incoming.write(client_hello)
    with contextlib.suppress(ssl.SSLError):
        server.do_handshake()
    return outgoing.read()


def answer_for(peer: Peer, context: ssl.SSLContext) -> Callable[[bytes], bytes | None]:
    def answer(hello: bytes) -> bytes | None:
        rng = random.Random(peer.seed)
        kind = peer.kind
        if kind == "reset":
            return None
        if kind == "empty":
            return b""
        if kind == "garbage":
            return rng.randbytes(peer.size or 1)
        if kind == "alert":
            return bytes([0x15, 3, 3, 0, 2, 2, rng.randrange(256)])
        if kind == "huge_record":
            return bytes([0x16, 3, 3, 0xFF, 0xFF]) + rng.randbytes(min(peer.size, 100))
        if kind == "http":
            return b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        if kind == "sslv2":
            return bytes([0x80, 0x2E, 0x04, 0x00, 0x01, 0x00, 0x02]) + rng.randbytes(40)
        if kind == "repeat_hello":
            return hello * 3
        flight = server_flight(context, hello)
        if kind == "cut":
            return flight[: rng.randrange(max(len(flight), 1))]
        if kind == "flip":
            data = bytearray(flight)
            for _ in range(1 + peer.size % 8):
                if data:
                    data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
            return bytes(data)
        return flight  # trickle: the real flight, one byte at a time

    return answer


@dataclass
class TlsLab:
    dns: nf.DnsServer
    pki: nf.Pki
    context: ssl.SSLContext
    folder: Path


@contextlib.contextmanager
def tls_lab(folder: Path) -> Iterator[TlsLab]:
    pki = nf.make_pki(folder)
    dns = nf.DnsServer(zone={NAME: {"A": ["127.0.0.1"], "AAAA": []}}).start()
    (folder / "home").mkdir(exist_ok=True)
    try:
        yield TlsLab(dns, pki, pki.server_context(NAME), folder)
    finally:
        dns.stop()


def run_case(lab: TlsLab, peer: Peer) -> list[str]:
    trickle = 0.05 if peer.kind == "trickle" else 0.0
    with ScriptedServer(tls_answer=answer_for(peer, lab.context), tls_trickle=trickle) as server:
        env = base_env(lab.folder / "home", CBORG_API_KEY=CANARY, SSL_CERT_FILE=str(lab.pki.ca_file))
        run = run_inprocess(["--json", "--only", "http", "--base-url", f"https://{NAME}:{server.port}",
                             "--nameserver", lab.dns.arg, "--timeout", TIMEOUT], env,
                            report_dir=lab.folder / "reports")
        found = fc.problems(run, CANARY)
        if any(CANARY.encode() in seen.raw for seen in server.seen):
            found.append("the key went to a peer that never finished a handshake")
    if not found:
        tls = next(c for c in json.loads(run.stdout)["checks"] if c["id"] == "tls")
        if tls["status"] not in ("fail", "warn"):
            found.append(f"tls {tls['status']} against a hostile peer: {tls['summary']}")
    return found


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsLab]:
    with tls_lab(tmp_path_factory.mktemp("fuzz-tls")) as built:
        yield built


@settings(settings.get_profile("fuzz-suite"), max_examples=25)
@given(peer=CASES)
def test_hostile_tls_peers_end_in_a_report(lab: TlsLab, peer: Peer) -> None:
    assert run_case(lab, peer) == []


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_of_tls_peer(lab: TlsLab, kind: str) -> None:
    assert run_case(lab, Peer(kind, seed=3, size=300)) == []


def test_the_real_flight_completes_a_handshake(lab: TlsLab) -> None:
    """The lab's own check: the uncut flight comes from a server the doctor trusts."""
    hello_seen: list[bytes] = []

    def answer(hello: bytes) -> bytes:
        hello_seen.append(hello)
        return server_flight(lab.context, hello)

    with ScriptedServer(tls_answer=answer) as server:
        env = base_env(lab.folder / "home", CBORG_API_KEY=CANARY, SSL_CERT_FILE=str(lab.pki.ca_file))
        run = run_inprocess(["--json", "--only", "tls", "--base-url", f"https://{NAME}:{server.port}",
                             "--nameserver", lab.dns.arg, "--timeout", TIMEOUT], env)
    hellos = [h for h in hello_seen if h]  # net.ipv4 only connects: no hello
    assert hellos and hellos[0][:1] == b"\x16"
    tls = next(c for c in json.loads(run.stdout)["checks"] if c["id"] == "tls")
    assert tls["status"] == "pass", tls


# ── for benchmarks/fuzz.py ───────────────────────────────────────────────────

STRATEGY = CASES


@contextlib.contextmanager
def bench_setup(folder: Path) -> Iterator[Callable[[Peer], list[str]]]:
    with tls_lab(folder) as built:
        yield lambda peer: run_case(built, peer)


# ── the server's clock (read when the certificate is expired or not yet valid) ──

DATES = st.one_of(
    st.sampled_from(["Thu, 01 Jan 1970 00:00:00 -0000",  # found: naive datetime, the check crashed
                     "Mon, 01 Jan 99999999999999999999 00:00:00 GMT",  # found: OverflowError, crashed
                     "Mon, 01 Jan 2025 00:00:00 +99999", "Fri, 31 Dec 9999 23:59:59 GMT",
                     "Sat, 01 Jan 0001 00:00:00 GMT", "", "[bold]now[/]", "Mon, 32 Foo 99999 25:61:61 GMT"]),
    st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=255), max_size=60),
    st.builds("{}, {:02d} {} {} {:02d}:{:02d}:{:02d} {}".format,
              st.sampled_from(["Mon", "Xyz"]), st.integers(0, 99),
              st.sampled_from(["Jan", "Feb", "Foo"]), st.integers(-1, 10**12), st.integers(0, 99),
              st.integers(0, 99), st.integers(0, 99),
              st.sampled_from(["GMT", "-0000", "+2400", "+9999", "UT", "EST", "Z"])),
)


@pytest.fixture(scope="module")
def expired_gateway(lab: TlsLab) -> Iterator[tuple[nf.HttpServer, list[str]]]:
    """A gateway with an expired certificate whose HEAD answer carries `dates[0]`."""
    import datetime

    now = datetime.datetime.now(datetime.timezone.utc)
    context = lab.pki.server_context(NAME, not_before=now - datetime.timedelta(days=30),
                                     not_after=now - datetime.timedelta(days=2))
    dates = [""]

    def handler(request: nf.Request, conn: Any) -> None:
        conn.sendall(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\ndate: "
                     + dates[0].encode("latin-1", "replace") + b"\r\n\r\n")

    server = nf.HttpServer(handler, tls=context)
    try:
        yield server, dates
    finally:
        server.close()


@settings(settings.get_profile("fuzz-suite"), max_examples=25)
@given(date=DATES)
def test_hostile_server_dates(lab: TlsLab, expired_gateway: tuple[nf.HttpServer, list[str]], date: str) -> None:
    server, dates = expired_gateway
    dates[0] = date.replace("\r", "").replace("\n", "")
    env = base_env(lab.folder / "home", CBORG_API_KEY=CANARY, SSL_CERT_FILE=str(lab.pki.ca_file))
    run = run_inprocess(["--json", "--only", "tls", "--base-url", f"https://{NAME}:{server.port}",
                         "--nameserver", lab.dns.arg, "--timeout", TIMEOUT], env)
    assert fc.problems(run, CANARY) == []
    tls = next(c for c in json.loads(run.stdout)["checks"] if c["id"] == "tls")
    assert tls["status"] == "fail" and tls["findings"][0]["code"] in ("TLS_EXPIRED", "TLS_CLOCK_SKEW")


# ── hostile proxies (HTTPS_PROXY): the CONNECT answer, and what follows it ──

CONNECT_ANSWERS = st.builds(
    Reply,
    status_line=st.one_of(fc.status_lines, st.just(b"HTTP/1.1 200 Connection established"),
                          st.just(b"HTTP/1.1 407 Proxy Authentication Required")),
    headers=fc.headers.map(tuple),
    body=fc.bodies,
    mode=st.sampled_from(["plain", "plain", "truncated", "reset", "stall", "trickle", "endless"]),
    auto_length=st.booleans(),
    pause=st.just(0.02),
)


@pytest.fixture(scope="module")
def hostile_proxy() -> Iterator[ScriptedServer]:
    with ScriptedServer() as server:
        yield server


@settings(settings.get_profile("fuzz-suite"), max_examples=25)
@given(answer=CONNECT_ANSWERS)
def test_hostile_proxies_end_in_a_report(lab: TlsLab, hostile_proxy: ScriptedServer, answer: Reply) -> None:
    assert run_proxy_case(lab, hostile_proxy, answer) == []


def run_proxy_case(lab: TlsLab, proxy: ScriptedServer, answer: Reply) -> list[str]:
    proxy.set({}, default=answer)
    env = base_env(lab.folder / "home", CBORG_API_KEY=CANARY, SSL_CERT_FILE=str(lab.pki.ca_file),
                   HTTPS_PROXY=proxy.url)
    run = run_inprocess(["--json", "--only", "auth", "--base-url", f"https://{NAME}:8443",
                         "--nameserver", lab.dns.arg, "--timeout", TIMEOUT], env,
                        report_dir=lab.folder / "reports")
    found = fc.problems(run, CANARY)
    if any(CANARY in json.dumps(seen.headers) for seen in proxy.seen):
        found.append("the key reached the proxy in clear text")
    return found


PROXY_STRATEGY = CONNECT_ANSWERS


@contextlib.contextmanager
def proxy_bench_setup(folder: Path) -> Iterator[Callable[[Reply], list[str]]]:
    with tls_lab(folder) as built, ScriptedServer() as proxy:
        yield lambda answer: run_proxy_case(built, proxy, answer)
