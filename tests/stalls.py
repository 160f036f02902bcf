"""One stalled phase at a time, on loopback, for the run-level time bound.

`stalled_run(phase, timeout, folder)` builds a gateway named gw.test that stalls in
exactly one phase and runs the real command against it (a subprocess, every
check that applies), returning the wall time and the report. The phases:

    dns        the name server never answers
    connect    SYNs go unanswered (a listener whose backlog is full)
    tls        TCP is accepted, the ServerHello never comes
    headers    the request is read, no answer ever comes
    trickle    the answer's headers come, then its body one byte at a time, forever
    account    the gateway is healthy, every account route (key, user, models, chat) stalls
    proxy      HTTPS_PROXY is a proxy that trickles its answer to CONNECT, forever
    baseline   nothing stalls (the fixed work of a whole run)
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.netfixtures import accept_loop

from . import netfixtures as nf
from .doctor import run_doctor
from .fuzzcases import PATHS, good_reply
from .fuzzkit import Reply, ScriptedServer

NAME = "gw.test"
PHASES = ("dns", "connect", "tls", "headers", "trickle", "account", "proxy", "baseline")
CANARY = "sk-canaryStalls0123456789abcdefXYZ"


@dataclass
class Timed:
    seconds: float
    code: int
    report: dict[str, Any]

    def check(self, check_id: str) -> dict[str, Any]:
        return next(c for c in self.report["checks"] if c["id"] == check_id)

    def statuses(self) -> dict[str, str]:
        return {c["id"]: c["status"] for c in self.report["checks"]}


class TrickleProxy:
    """A proxy that answers CONNECT one byte every 20 ms, with headers that never end."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self._stop = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        accept_loop(self.sock, self._stop, lambda conn, _peer: self._one(conn))

    def _one(self, conn: socket.socket) -> None:
        with contextlib.suppress(OSError), conn:
            conn.recv(65536)
            for byte in b"HTTP/1.1 200 Connection established\r\nX-Pad: " + b"a" * 100_000:
                if self._stop.wait(0.02):
                    return
                conn.sendall(bytes([byte]))

    def close(self) -> None:
        self._stop.set()
        self.sock.close()


@contextlib.contextmanager
def stalled_gateway(phase: str, folder: Path) -> Iterator[tuple[int, nf.DnsServer, nf.Pki]]:
    """(port, dns, pki) of a gw.test that stalls in `phase`."""
    pki = nf.make_pki(folder)
    context = pki.server_context(NAME)
    dns = nf.DnsServer(zone={NAME: {"A": ["127.0.0.1"], "AAAA": []}}).start()
    closers: list[Any] = []
    try:
        if phase == "dns":
            dns.zone[NAME] = "drop"
            port = 443
        elif phase == "connect":
            backlog = nf.FullBacklog()
            closers.append(backlog)
            port = backlog.port
        elif phase == "tls":
            server = nf.HttpServer(nf.litellm(), tls=context, handshake=False)
            closers.append(server)
            port = server.port
        elif phase == "headers":
            server = nf.HttpServer(nf.stall_after_headers_read(), tls=context)
            closers.append(server)
            port = server.port
        elif phase == "trickle":
            scripted = ScriptedServer(tls=context, default=Reply(
                headers=((b"content-type", b"application/json"),), mode="trickle", pause=0.05,
                auto_length=False))
            closers.append(scripted)
            port = scripted.port
        elif phase == "proxy":
            port = 443  # never reached: the proxy does not finish answering CONNECT
        else:
            replies = {path: good_reply(path) for path in PATHS}
            if phase == "account":
                stall = Reply(headers=((b"content-type", b"application/json"),), mode="stall")
                replies = {path: stall if path not in ("/health/liveliness", "/cdn-cgi/trace") else reply
                           for path, reply in replies.items()}
            scripted = ScriptedServer(replies, tls=context)
            closers.append(scripted)
            port = scripted.port
        yield port, dns, pki
    finally:
        dns.stop()
        for closer in closers:
            closer.close()


def stalled_run(phase: str, timeout: float, folder: Path) -> Timed:
    """The whole run's wall time against a gateway stalled in `phase` (from process start)."""
    folder.mkdir(parents=True, exist_ok=True)
    home = folder / "home"
    home.mkdir(exist_ok=True)
    with stalled_gateway(phase, folder) as (port, dns, pki), contextlib.ExitStack() as stack:
        env = {"CBORG_API_KEY": CANARY, "SSL_CERT_FILE": str(pki.ca_file)}
        if phase == "proxy":
            proxy = TrickleProxy()
            stack.callback(proxy.close)
            env["HTTPS_PROXY"] = proxy.url
        start = time.monotonic()
        run = run_doctor("--json", "--no-report", "--base-url", f"https://{NAME}:{port}",
                         "--nameserver", dns.arg, "--timeout", f"{timeout:g}", "--live",
                         "--model", "lbl/llama", home=home, env=env, timeout=max(60.0, 20 * timeout))
        seconds = time.monotonic() - start
    import json

    return Timed(seconds, run.code, json.loads(run.stdout))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
