"""Hostile HTTP answers to every request the doctor makes, from a real loopback server.

Each case: a `ScriptedServer` answers every path (liveliness, trace, key/user/model
info, models, cost, chat) with a drawn answer, the real CLI runs with --live and
every report format, and the run must end with exit 0/1, a parseable report, no
check crashed or abandoned, every check saying in one line what it saw, and the
canary key nowhere. Named worst cases (100 MB, endless, trickle, gzip bomb) also
run as plain tests so a regression in one of them is named, not shrunk to.
"""

from __future__ import annotations

import contextlib
import json
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests import fuzzcases as fc
from tests import netfixtures as nf
from tests.fuzzkit import Reply, ScriptedServer, base_env, json_reply, run_inprocess

TIMEOUT = "0.4"
CANARY = "sk-canaryFuzzHttp0123456789abcdefXYZ"
MAX_SENT = 48 << 20  # what the doctor may let a server push (8 MB cap + socket buffers)


@pytest.fixture(scope="module")
def gateway() -> Iterator[ScriptedServer]:
    with ScriptedServer() as server:
        yield server


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("fuzz-http")
    (path / "home").mkdir()
    return path


@dataclass
class Secure:
    """The same scripted answers over TLS, as gw.test from a name server of ours."""

    server: ScriptedServer
    dns: nf.DnsServer
    pki: nf.Pki

    @property
    def url(self) -> str:
        return f"https://gw.test:{self.server.port}"


@contextlib.contextmanager
def secure_gateway(folder: Path) -> Iterator[Secure]:
    pki = nf.make_pki(folder)
    dns = nf.DnsServer(zone={"gw.test": {"A": ["127.0.0.1"], "AAAA": []}}).start()
    try:
        with ScriptedServer(tls=pki.server_context("gw.test")) as server:
            yield Secure(server, dns, pki)
    finally:
        dns.stop()


@pytest.fixture(scope="module")
def secure(folder: Path) -> Iterator[Secure]:
    with secure_gateway(folder) as built:
        yield built


def run_case(server: ScriptedServer, folder: Path, answers: dict[str, Reply],
             verbose: bool = False, console: bool = False, secure: Secure | None = None,
             repeat: bool = False) -> list[str]:
    """One case: serve `answers`, run the doctor, return what went wrong.

    `console`: the human output instead of --json (server text meets the terminal renderer).
    `secure`: over TLS (the tls check's own HEAD request meets the answers too).
    `repeat`: also --repeat 2, whose probes meet the answers again.
    """
    env = base_env(folder / "home", CBORG_API_KEY=CANARY)
    url = server.url
    args = ["--timeout", TIMEOUT, "--live", "--model", fc.MODEL]
    if secure is not None:
        server, url = secure.server, secure.url
        env["SSL_CERT_FILE"] = str(secure.pki.ca_file)
        args += ["--nameserver", secure.dns.arg]
    server.set(answers, default=json_reply('{"detail":"Not Found"}', 404))
    args += ["--base-url", url]
    args += ["-v"] if verbose else []
    args += [] if console else ["--json"]
    args += ["--repeat", "2", "--interval", "0"] if repeat else []
    run = run_inprocess(args, env, report_dir=folder / "reports")
    found = fc.problems(run, CANARY, json_stdout=not console)
    for seen in server.seen:
        if seen.sent > MAX_SENT:
            found.append(f"the doctor let {seen.path} send {seen.sent >> 20} MB")
    return found


@settings(settings.get_profile("fuzz-suite"))
@given(case=st.tuples(fc.gateway_answers(), st.booleans(), st.booleans(), st.booleans(),
                      st.integers(0, 4).map(lambda n: n == 0)))
def test_hostile_answers_end_in_a_report(gateway: ScriptedServer, secure: Secure, folder: Path,
                                         case: tuple[dict[str, Reply], bool, bool, bool, bool]) -> None:
    answers, verbose, console, tls, repeat = case
    assert run_case(gateway, folder, answers, verbose, console, secure if tls else None, repeat) == []


def everywhere(reply: Reply) -> dict[str, Reply]:
    return dict.fromkeys(fc.PATHS, reply)


def after_liveliness(reply: Reply) -> dict[str, Reply]:
    """The gateway looks healthy, then every account route answers `reply`."""
    answers = everywhere(reply)
    answers["/health/liveliness"] = fc.good_reply("/health/liveliness")
    return answers


OK_JSON = ((b"content-type", b"application/json"),)
NAMED = {
    "100 MB body": Reply(headers=OK_JSON, mode="huge", size=100 << 20),
    "endless chunked body": Reply(headers=(*OK_JSON, (b"transfer-encoding", b"chunked")),
                                  mode="endless", fill=b"1000\r\n" + b"x" * 4096 + b"\r\n"),
    "endless body without length": Reply(headers=OK_JSON, mode="endless", auto_length=False),
    "trickle": Reply(headers=OK_JSON, mode="trickle", pause=0.05, auto_length=False),
    "headers then silence": Reply(headers=OK_JSON, mode="stall"),
    "truncated": Reply(headers=OK_JSON, body=b'{"data": [', mode="truncated"),
    "reset mid-body": Reply(headers=OK_JSON, body=b'{"data": [' * 200, mode="reset"),
    "gzip bomb": Reply(headers=(*OK_JSON, (b"content-encoding", b"gzip")), body=fc.gzip_bomb(100 << 20)),
    "deeply nested JSON": json_reply(fc.nested(100_000, "list")),
    "nested just under the recursion limit": json_reply(fc.nested(900, "dict")),
    "HTML where JSON was expected": json_reply(b"<html><title>Sign in</title></html>", 200),
    "invalid UTF-8": json_reply(b'{"error": {"message": "\xff\xfe"}}', 401),
    "echoed key": json_reply(b'{"error": {"message": "Authentication Error, Received API Key = {AUTH}",'
                             b' "type": "auth_error", "code": "401"}}', 401),
    "huge header": Reply(headers=(*OK_JSON, (b"x-litellm-version", b"v" * 200000))),
    "duplicate content-length": Reply(headers=(*OK_JSON, (b"content-length", b"2"), (b"content-length", b"5"))),
    "not HTTP": Reply(raw=b"SSH-2.0-OpenSSH_9.6\r\n"),
    # Found by the fuzzer: control characters reached the JUnit report, which then did not parse.
    "control characters in a page title": json_reply(b"<html><title>a\x00b\x1b[31mc\x0c</title></html>",
                                                     200, ctype=b"text/html"),
}


@pytest.mark.parametrize("name", list(NAMED))
@pytest.mark.parametrize("where", ["everywhere", "after_liveliness"])
def test_named_worst_cases(gateway: ScriptedServer, folder: Path, name: str, where: str) -> None:
    answers = everywhere(NAMED[name]) if where == "everywhere" else after_liveliness(NAMED[name])
    assert run_case(gateway, folder, answers, verbose=where == "everywhere",
                    console=where == "everywhere") == []


# ── for benchmarks/fuzz.py ───────────────────────────────────────────────────

STRATEGY = st.tuples(fc.gateway_answers(), st.booleans(), st.booleans(), st.booleans(),
                     st.integers(0, 4).map(lambda n: n == 0))


@contextlib.contextmanager
def bench_setup(folder: Path) -> Iterator[Callable[[tuple[dict[str, Reply], bool, bool, bool, bool]], list[str]]]:
    """Servers and a folder for many cases; yields run_one(case) -> problems."""
    (folder / "home").mkdir(exist_ok=True)
    with ScriptedServer() as server, secure_gateway(folder) as tls:
        yield lambda case: run_case(server, folder, *case[:3], secure=tls if case[3] else None,
                                    repeat=case[4])


# ── compressed answers (found by the fuzzer: a gzip bomb inflated 64 MB per read) ──


def _compressed(path: str, encoding: str) -> Reply:
    good = fc.good_reply(path)
    wbits = {"gzip": 31, "deflate": 15, "raw-deflate": -15}[encoding]
    packer = zlib.compressobj(6, zlib.DEFLATED, wbits)
    body = packer.compress(good.body) + packer.flush()
    name = b"gzip" if encoding == "gzip" else b"deflate"
    return Reply(good.status_line, (*good.headers, (b"content-encoding", name)), body)


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "raw-deflate"])
def test_compressed_answers_still_read(gateway: ScriptedServer, folder: Path, encoding: str) -> None:
    """Servers that compress although we ask for identity are still understood."""
    answers = {path: _compressed(path, encoding) for path in fc.PATHS}
    assert run_case(gateway, folder, answers) == []
    report = json.loads((folder / "reports" / "report.json").read_text())
    statuses = {c["id"]: c["status"] for c in report["checks"]}
    assert statuses["http"] == statuses["auth"] == statuses["models"] == statuses["live"] == "pass"


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_a_gzip_bomb_is_never_inflated_past_the_cap(encoding: str) -> None:
    """100 MB of zeros compressed to ~100 KB: each read inflates at most what the cap still allows
    (httpx's own decoder would inflate a whole 64 KiB read to ~64 MB at once). Memory figures are
    in benchmarks/hardening.md; this asserts the rule that keeps them small."""
    from cborg_doctor.probes.http import _BoundedDecoder

    packer = zlib.compressobj(9, zlib.DEFLATED, 31 if encoding == "gzip" else 15)
    bomb = packer.compress(b"\0" * (100 << 20)) + packer.flush()
    decoder = _BoundedDecoder(encoding)
    cap, produced = 1 << 20, 0
    for offset in range(0, len(bomb), 65536):
        out = decoder.decode(bomb[offset:offset + 65536], cap - produced)
        assert len(out) <= max(cap - produced, 1)
        produced += len(out)
        if produced >= cap:
            break
    assert produced == cap
