"""Hostile DNS answers from a name server of our own (UDP and TCP on loopback).

The doctor resolves `gw.test` through ``--nameserver`` and then runs dns, net.*,
tls and http against whatever came back. The answers: the wrong record types, a
name other than the one asked, CNAME loops and long chains, hundreds of addresses,
every rcode, the TC bit (so the resolver retries over TCP, where the server is
hostile again), wire data cut short, garbage, a wrong query id, silence, and
answers that arrive after the timeout. Every address handed out is a loopback
address, so nothing leaves this machine.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import random
import select
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests import fuzzcases as fc
from tests import netfixtures as nf
from tests.fuzzkit import base_env, run_inprocess

NAME = "gw.test"
TIMEOUT = "0.4"
CANARY = "sk-canaryFuzzDns0123456789abcdefXYZ"
KINDS = ("good", "many", "wrong_type", "other_name", "cname_loop", "cname_chain", "rcode", "tc",
         "garbage", "cut", "wrong_id", "silent", "late", "huge_txt", "twice", "pointer_loop",
         "empty")


@dataclass(frozen=True)
class Plan:
    """How to answer one record type: `kind` from KINDS, `n` a size, `seed` for randomness."""

    kind: str = "good"
    n: int = 1
    seed: int = 0
    tcp: str = "good"  # what the TCP side does after a TC answer: good, garbage, silent, reset


plans = st.builds(Plan, kind=st.sampled_from(KINDS), n=st.integers(0, 3000),
                  seed=st.integers(0, 2**32 - 1),
                  tcp=st.sampled_from(["good", "garbage", "silent", "reset", "cut"]))
CASES = st.fixed_dictionaries({"A": plans, "AAAA": plans})


def _loopback(rdtype: str, i: int) -> str:
    if rdtype == "A":
        return f"127.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255 or 1}"
    return "::1" if i == 0 else f"::ffff:127.0.{(i >> 8) & 255}.{i & 255 or 1}"


def answer_wire(query_wire: bytes, plan: Plan, tcp: bool = False) -> list[bytes]:
    """The datagrams (or TCP messages) to send back for one query."""
    import dns.flags
    import dns.message
    import dns.name
    import dns.rcode
    import dns.rdatatype
    import dns.rrset

    query = dns.message.from_wire(query_wire)
    question = query.question[0]
    rdtype = dns.rdatatype.to_text(question.rdtype)
    rng = random.Random(plan.seed)
    kind = plan.tcp if tcp and plan.kind == "tc" else plan.kind
    response = dns.message.make_response(query)
    response.flags |= dns.flags.RA

    def add(name: object, type_: str, *values: str) -> None:
        response.answer.append(dns.rrset.from_text(name, 60, "IN", type_, *values))

    if kind in ("silent",):
        return []
    if kind == "garbage":
        return [rng.randbytes(rng.randint(0, 600))]
    if kind == "empty":
        return [b""]
    if kind in ("good", "late", "twice", "cut", "wrong_id", "tc", "reset"):
        add(question.name, rdtype, _loopback(rdtype, 0))
    elif kind == "many":
        add(question.name, rdtype, *(_loopback(rdtype, i) for i in range(max(plan.n, 1))))
    elif kind == "wrong_type":
        other = rng.choice(["MX", "TXT", "NS", "A", "AAAA", "CNAME", "PTR", "SRV"])
        value = {"MX": "10 mail.test.", "TXT": '"hello [bold]"', "NS": "ns.test.",
                 "A": "127.0.0.1", "AAAA": "::1", "CNAME": "elsewhere.test.",
                 "PTR": "p.test.", "SRV": "0 0 443 gw.test."}[other]
        add(question.name, other, value)
    elif kind == "other_name":
        add(dns.name.from_text("not-asked.test"), rdtype, _loopback(rdtype, 0))
    elif kind == "cname_loop":
        add(question.name, "CNAME", "loop-b.test.")
        add(dns.name.from_text("loop-b.test"), "CNAME", question.name.to_text())
    elif kind == "cname_chain":
        length = min(plan.n, 60) + 1
        names = [question.name.to_text()] + [f"c{i}.test." for i in range(length)]
        for here, there in itertools.pairwise(names):
            add(dns.name.from_text(here), "CNAME", there)
        add(dns.name.from_text(names[-1]), rdtype, _loopback(rdtype, 0))
    elif kind == "rcode":
        response.set_rcode(plan.n % 16)
        if rng.random() < 0.5:
            add(question.name, rdtype, _loopback(rdtype, 0))
    elif kind == "huge_txt":
        for i in range(min(plan.n, 200) + 1):
            add(dns.name.from_text(f"t{i}.test"), "TXT", '"' + "x" * 250 + '"')
    elif kind == "pointer_loop":
        header = struct.pack(">HHHHHH", query.id, 0x8180, 1, 1, 0, 0)
        qpart = query_wire[12:]
        # An answer whose owner name is a compression pointer to itself.
        offset = 12 + len(qpart)
        answer = struct.pack(">H", 0xC000 | offset) + struct.pack(">HHIH", 1, 1, 60, 4) + bytes([127, 0, 0, 1])
        return [header + qpart + answer]
    if kind == "tc":
        response.flags |= dns.flags.TC
        response.answer = []
    wire = response.to_wire(max_size=65535)
    if kind == "cut":
        wire = wire[: rng.randint(0, max(len(wire) - 1, 0))]
    if kind == "wrong_id":
        wire = struct.pack(">H", (query.id + 1) & 0xFFFF) + wire[2:]
    if kind == "twice":
        return [rng.randbytes(40), wire, wire]
    return [wire]


class HostileDns:
    """UDP and TCP on one loopback port, answering by the current `plans`."""

    def __init__(self) -> None:
        self.plans: dict[str, Plan] = {"A": Plan(), "AAAA": Plan()}
        for _ in range(50):  # a free UDP port whose TCP twin is free too
            self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self.udp.bind(("127.0.0.1", 0))
            self.port = self.udp.getsockname()[1]
            self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                self.tcp.bind(("127.0.0.1", self.port))
                break
            except OSError:
                self.udp.close()
                self.tcp.close()
        self.tcp.listen(16)
        self._stop = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    @property
    def arg(self) -> str:
        return f"127.0.0.1:{self.port}"

    def close(self) -> None:
        self._stop.set()
        self.udp.close()
        self.tcp.close()

    def _plan(self, wire: bytes) -> Plan:
        import dns.message
        import dns.rdatatype

        rdtype = dns.rdatatype.to_text(dns.message.from_wire(wire).question[0].rdtype)
        return self.plans.get(rdtype, Plan("nxdomain"))

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                ready, _, _ = select.select([self.udp, self.tcp], [], [], 0.1)
            except (OSError, ValueError):
                return
            for sock in ready:
                try:
                    if sock is self.udp:
                        wire, peer = self.udp.recvfrom(65535)
                        threading.Thread(target=self._udp_answer, args=(wire, peer), daemon=True).start()
                    else:
                        conn, _ = self.tcp.accept()
                        threading.Thread(target=self._tcp_answer, args=(conn,), daemon=True).start()
                except Exception:
                    continue

    def _udp_answer(self, wire: bytes, peer: tuple[str, int]) -> None:
        with contextlib.suppress(Exception):
            plan = self._plan(wire)
            if plan.kind == "late":
                time.sleep(1.0)
            for datagram in answer_wire(wire, plan):
                self.udp.sendto(datagram, peer)

    def _tcp_answer(self, conn: socket.socket) -> None:
        with contextlib.suppress(Exception), conn:
            conn.settimeout(5)
            size = struct.unpack(">H", conn.recv(2))[0]
            wire = b""
            while len(wire) < size:
                chunk = conn.recv(size - len(wire))
                if not chunk:
                    return
                wire += chunk
            plan = self._plan(wire)
            if plan.tcp == "silent":
                self._stop.wait(5)
                return
            if plan.tcp == "reset":
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                return
            for message in answer_wire(wire, plan, tcp=True):
                conn.sendall(struct.pack(">H", len(message)) + message)


@dataclass
class DnsLab:
    dns: HostileDns
    gateway: nf.HttpServer
    pki: nf.Pki
    folder: Path


@contextlib.contextmanager
def dns_lab(folder: Path) -> Iterator[DnsLab]:
    pki = nf.make_pki(folder)
    gateway = nf.HttpServer(nf.litellm(), tls=pki.server_context(NAME))
    server = HostileDns()
    (folder / "home").mkdir(exist_ok=True)
    try:
        yield DnsLab(server, gateway, pki, folder)
    finally:
        server.close()
        gateway.close()


def run_case(lab: DnsLab, plans_by_type: dict[str, Plan]) -> list[str]:
    lab.dns.plans = dict(plans_by_type)
    env = base_env(lab.folder / "home", CBORG_API_KEY=CANARY, SSL_CERT_FILE=str(lab.pki.ca_file))
    run = run_inprocess(["--json", "--only", "http", "--base-url", f"https://{NAME}:{lab.gateway.port}",
                         "--nameserver", lab.dns.arg, "--timeout", TIMEOUT], env,
                        report_dir=lab.folder / "reports")
    return fc.problems(run, CANARY)


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DnsLab]:
    with dns_lab(tmp_path_factory.mktemp("fuzz-dns")) as built:
        yield built


@settings(settings.get_profile("fuzz-suite"), max_examples=30)
@given(case=CASES)
def test_hostile_dns_answers_end_in_a_report(lab: DnsLab, case: dict[str, Plan]) -> None:
    assert run_case(lab, case) == []


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_of_dns_answer(lab: DnsLab, kind: str) -> None:
    plan = Plan(kind, n=1500, seed=1, tcp="garbage")
    assert run_case(lab, {"A": plan, "AAAA": plan}) == []


def test_a_good_answer_reaches_the_gateway(lab: DnsLab) -> None:
    """The lab itself works: with sane answers every check passes."""
    env = base_env(lab.folder / "home", CBORG_API_KEY=CANARY, SSL_CERT_FILE=str(lab.pki.ca_file))
    lab.dns.plans = {"A": Plan(), "AAAA": Plan("rcode", n=0, seed=1)}
    run = run_inprocess(["--json", "--only", "http", "--base-url", f"https://{NAME}:{lab.gateway.port}",
                         "--nameserver", lab.dns.arg, "--timeout", TIMEOUT], env)
    statuses = {c["id"]: c["status"] for c in json.loads(run.stdout)["checks"]}
    assert statuses["dns"] == statuses["net.ipv4"] == statuses["tls"] == statuses["http"] == "pass"


# ── for benchmarks/fuzz.py ───────────────────────────────────────────────────

STRATEGY = CASES


@contextlib.contextmanager
def bench_setup(folder: Path) -> Iterator[Callable[[dict[str, Plan]], list[str]]]:
    with dns_lab(folder) as built:
        yield lambda case: run_case(built, case)
