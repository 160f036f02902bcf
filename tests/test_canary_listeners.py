"""The key reaches only the gateway under test: recording canary listeners on loopback.

(a) A gateway that redirects every account route to another origin (another port,
    another loopback address, https, protocol-relative): the other listener never
    sees the key (nor, for the redirects, any request at all).
(b) ``OPENAI_BASE_URL=https://api.openai.com/v1`` with a name server of ours that puts
    api.openai.com and api.cborg.lbl.gov on loopback listeners (port 443): the doctor
    tests the CBorg default, reports BASE_URL_OPENAI, and never connects to "OpenAI".
(c) A plain-http base URL on a name (not loopback): refused before sending
    (BASE_URL_INSECURE); the listener behind the name never receives the key.
(d) A proxy (HTTPS_PROXY): the CONNECT requests the proxy reads never hold the key,
    and neither does the tunnel's ciphertext; the gateway behind it does get the key.
    With HTTP_PROXY and a plain-http loopback gateway, the proxy never sees it either.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import netfixtures as nf
from tests.doctor import DoctorRun, run_doctor
from tests.fuzzcases import good_reply
from tests.fuzzkit import Reply, ScriptedServer, json_reply
from tests.netfixtures import accept_loop, pipe

MODEL = "lbl/llama"
ACCOUNT_PATHS = ("/key/info", "/user/info", "/model/info", "/v1/models", "/chat/completions",
                 "/spend/calculate", "/cost/calculate", "/cdn-cgi/trace")


def saw_key(server: ScriptedServer, canary: str) -> bool:
    return any(canary in json.dumps(s.headers) or canary.encode() in s.raw for s in server.seen)


def checks(run: DoctorRun) -> dict[str, dict]:
    return {c["id"]: c for c in run.json()["checks"]}


def codes(run: DoctorRun, check_id: str) -> list[str]:
    return [f["code"] for f in checks(run)[check_id]["findings"]]


# ── (a) redirects to another origin ─────────────────────────────────────────


@pytest.mark.parametrize("status", [301, 302, 307, 308])
@pytest.mark.parametrize("where", ["other port", "other address", "https other port", "protocol-relative"])
def test_a_redirect_to_another_origin_never_carries_the_key(
        home: Path, canary_key: str, status: int, where: str) -> None:
    with ScriptedServer(default=json_reply('{"data": []}')) as other, \
            ScriptedServer(host="127.0.0.2", default=json_reply('{"data": []}')) as other_address:
        location = {
            "other port": f"http://127.0.0.1:{other.port}",
            "other address": f"http://127.0.0.2:{other_address.port}",
            "https other port": f"https://127.0.0.1:{other.port}",
            "protocol-relative": f"//127.0.0.2:{other_address.port}",
        }[where]
        replies = {path: Reply(b"HTTP/1.1 %d Moved" % status,
                               ((b"location", f"{location}{path}".encode()),), b"")
                   for path in ACCOUNT_PATHS}
        replies["/health/liveliness"] = good_reply("/health/liveliness")
        with ScriptedServer(replies) as gateway:
            run = run_doctor("--base-url", gateway.url, "--json", "--no-report", "--live",
                             "--model", MODEL, "--timeout", "1", home=home,
                             env={"CBORG_API_KEY": canary_key})
        assert run.code in (0, 1), run.stderr
        assert saw_key(gateway, canary_key), "the doctor never sent the key to the gateway"
        for listener in (other, other_address):
            assert not saw_key(listener, canary_key)
            assert listener.seen == [], "the doctor followed a redirect to another origin"
        assert canary_key not in run.output
        assert checks(run)["auth"]["status"] in ("warn", "fail")


def test_the_liveliness_redirect_is_reported_not_followed(home: Path, canary_key: str) -> None:
    with ScriptedServer(default=json_reply("{}")) as other:
        moved = Reply(b"HTTP/1.1 302 Found", ((b"location", f"http://127.0.0.1:{other.port}/login".encode()),),
                      b"")
        with ScriptedServer(default=moved) as gateway:
            run = run_doctor("--base-url", gateway.url, "--json", "--no-report", "--timeout", "1",
                             home=home, env={"CBORG_API_KEY": canary_key})
    assert other.seen == []
    assert codes(run, "http") == ["HTTP_NOT_GATEWAY"]
    assert f"a redirect (HTTP 302) to http://127.0.0.1:{other.port}/login" in checks(run)["http"]["summary"]


# ── (b) OPENAI_BASE_URL points at OpenAI ────────────────────────────────────

CBORG_IP, OPENAI_IP = "127.77.0.1", "127.77.0.2"


def _can_bind_443() -> bool:
    try:
        with socket.socket() as sock:
            sock.bind((CBORG_IP, 443))
    except OSError:
        return False
    return True


@pytest.mark.skipif(not _can_bind_443(), reason="needs to bind port 443 on 127.77.0.1 (root)")
@pytest.mark.parametrize("variables", ["OPENAI_BASE_URL", "OPENAI_API_KEY only"])
def test_openai_never_gets_the_key(tmp_path: Path, home: Path, canary_key: str, variables: str) -> None:
    """The SDK variables point at OpenAI; the doctor's target stays the CBorg default."""
    pki = nf.make_pki(tmp_path)
    # Fresh addresses per case: a listener on port 443 may linger briefly after a test.
    cborg_ip, openai_ip = (CBORG_IP, OPENAI_IP) if variables == "OPENAI_BASE_URL" else (
        CBORG_IP.replace(".0.", ".1."), OPENAI_IP.replace(".0.", ".1."))
    dns = nf.DnsServer(zone={"api.cborg.lbl.gov": {"A": [cborg_ip]},
                             "api.openai.com": {"A": [openai_ip]}}).start()
    cborg = nf.HttpServer(nf.litellm(), host=cborg_ip, port=443,
                          tls=pki.server_context("api.cborg.lbl.gov"))
    openai = ScriptedServer(host=openai_ip, port=443, tls=pki.server_context("api.openai.com"),
                            default=json_reply('{"data": []}'))
    env = {"OPENAI_API_KEY": canary_key, "SSL_CERT_FILE": str(pki.ca_file)}
    if variables == "OPENAI_BASE_URL":
        env["OPENAI_BASE_URL"] = "https://api.openai.com/v1"
    try:
        run = run_doctor("--json", "--no-report", "--only", "config.base_url,auth",
                         "--nameserver", dns.arg, "--timeout", "2", home=home, env=env)
    finally:
        dns.stop()
        cborg.close()
        openai.close()
    assert openai.seen == [], "the doctor connected to the api.openai.com listener"
    assert [q for q in dns.queries if q[0] == "api.openai.com"] == []
    assert run.json()["target"]["host"] == "api.cborg.lbl.gov"
    assert "BASE_URL_OPENAI" in codes(run, "config.base_url")
    assert canary_key not in run.output
    keyed = [r for r in cborg.requests if r.headers.get("authorization") == f"Bearer {canary_key}"]
    # Either way the CBorg default is tested with the key (and only it receives it).
    assert keyed and checks(run)["auth"]["status"] == "pass"
    # Either way every bare OpenAI() script sends the CBorg key to OpenAI: a failure that
    # does not stop the checks after it.
    assert checks(run)["config.base_url"]["status"] == "fail"
    assert run.code == 1
    assert run.json()["verdict"]["code"] == "BASE_URL_OPENAI"


# ── (c) plain http to a name ────────────────────────────────────────────────


@pytest.mark.parametrize("how", ["option", "CBORG_BASE_URL"])
def test_plain_http_to_a_name_is_refused_before_sending(home: Path, canary_key: str, how: str) -> None:
    answers = {path: good_reply(path) for path in ("/health/liveliness", *ACCOUNT_PATHS)}
    with ScriptedServer(answers) as listener:
        dns = nf.DnsServer(zone={"gw.test": {"A": ["127.0.0.1"]}}).start()
        url = f"http://gw.test:{listener.port}"
        args = ["--json", "--no-report", "--live", "--model", MODEL, "--nameserver", dns.arg, "--timeout", "1"]
        env = {"CBORG_API_KEY": canary_key}
        if how == "option":
            args += ["--base-url", url]
        else:
            env["CBORG_BASE_URL"] = url
        try:
            run = run_doctor(*args, home=home, env=env)
        finally:
            dns.stop()
    assert not saw_key(listener, canary_key)
    assert all("authorization" not in s.headers for s in listener.seen)
    assert "BASE_URL_INSECURE" in codes(run, "config.base_url")
    assert canary_key not in run.output
    assert run.code == 1


# ── (d) proxies ─────────────────────────────────────────────────────────────


class RecordingProxy:
    """A CONNECT (and absolute-form GET) proxy on loopback that keeps every byte it reads.

    `heads` are the request heads the proxy itself parses; `tunneled` what the client
    sent inside CONNECT tunnels (ciphertext for https). Plain-http requests are
    forwarded as they came.
    """

    def __init__(self) -> None:
        self.heads: list[bytes] = []
        self.tunneled: list[bytes] = []
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(32)
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._lock = threading.Lock()
        self._stop = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def close(self) -> None:
        self._stop.set()
        self.sock.close()

    def everything(self) -> bytes:
        with self._lock:
            return b"".join(self.heads) + b"".join(self.tunneled)

    def _serve(self) -> None:
        accept_loop(self.sock, self._stop, lambda conn, _peer: self._one(conn))

    def _one(self, conn: socket.socket) -> None:
        with contextlib.suppress(Exception), conn:  # a recorder, not a judge of requests
            conn.settimeout(10)
            head = b""
            while b"\r\n\r\n" not in head and len(head) < 65536:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                head += chunk
            with self._lock:
                self.heads.append(head)
            line = head.split(b"\r\n", 1)[0].decode("latin-1")
            method, target, _ = line.split(" ", 2)
            if method == "CONNECT":
                port = target.rpartition(":")[2]
                upstream = socket.create_connection(("127.0.0.1", int(port)), timeout=5)
                conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                self._pipe(conn, upstream, head.partition(b"\r\n\r\n")[2])
            else:  # absolute-form: http://host:port/path
                rest = target.split("://", 1)[1]
                hostport = rest.split("/", 1)[0]
                port = int(hostport.rpartition(":")[2] or 80)
                upstream = socket.create_connection(("127.0.0.1", port), timeout=5)
                upstream.sendall(head)
                self._pipe(conn, upstream, b"", record=False)

    def _pipe(self, client: socket.socket, upstream: socket.socket, early: bytes, record: bool = True) -> None:
        with upstream:
            if early:
                upstream.sendall(early)
                self._record(early, record)
            pipe(client, upstream, lambda data: self._record(data, record), idle=10)

    def _record(self, data: bytes, record: bool) -> None:
        with self._lock:
            (self.tunneled if record else self.heads).append(data)


@pytest.fixture
def proxy() -> Iterator[RecordingProxy]:
    built = RecordingProxy()
    try:
        yield built
    finally:
        built.close()


def test_through_https_proxy_the_key_is_only_inside_the_tunnel(
        tmp_path: Path, home: Path, canary_key: str, proxy: RecordingProxy) -> None:
    pki = nf.make_pki(tmp_path)
    gateway = nf.HttpServer(nf.litellm(), tls=pki.server_context("gw.test"))
    dns = nf.DnsServer(zone={"gw.test": {"A": ["127.0.0.1"]}}).start()
    try:
        run = run_doctor("--json", "--no-report", "--only", "auth,egress", "--base-url",
                         f"https://gw.test:{gateway.port}", "--nameserver", dns.arg, "--timeout", "2",
                         home=home, env={"CBORG_API_KEY": canary_key, "HTTPS_PROXY": proxy.url,
                                         "SSL_CERT_FILE": str(pki.ca_file)})
    finally:
        dns.stop()
        gateway.close()
    assert proxy.heads, "nothing went through the proxy"
    assert all(head.startswith(b"CONNECT gw.test:") for head in proxy.heads), proxy.heads
    assert canary_key.encode() not in proxy.everything()
    assert canary_key[3:].encode() not in proxy.everything()
    keyed = [r for r in gateway.requests if r.headers.get("authorization") == f"Bearer {canary_key}"]
    assert keyed, "the key never reached the gateway through the tunnel"
    assert checks(run)["http"]["data"]["via_proxy"] == proxy.url
    assert canary_key not in run.output


def test_http_proxy_never_sees_the_key_for_a_plain_http_gateway(
        home: Path, canary_key: str, proxy: RecordingProxy) -> None:
    answers = {path: good_reply(path) for path in ("/health/liveliness", *ACCOUNT_PATHS)}
    with ScriptedServer(answers) as gateway:
        run = run_doctor("--json", "--no-report", "--only", "auth", "--base-url", gateway.url,
                         "--timeout", "2", home=home,
                         env={"CBORG_API_KEY": canary_key, "HTTP_PROXY": proxy.url})
    assert proxy.heads, "nothing went through the proxy"
    assert canary_key.encode() not in proxy.everything()
    assert canary_key not in run.output
    auth = checks(run)["auth"]
    # Found by this test: auth said "key accepted" for a 200 to a request sent without the key.
    assert auth["status"] == "skip" and "through the proxy" in auth["summary"], auth
