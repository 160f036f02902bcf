"""Hostile servers for the fuzz tests and benchmarks, and an in-process doctor run.

`ScriptedServer` is a raw TCP (optionally TLS) server on loopback that answers each
request path with a `Reply`: exact status line and header bytes, and a body that
may be huge, endless, trickling, truncated or cut by a reset. It counts every byte
it manages to send, so a test can tell how much the doctor read.

`run_inprocess` runs the real command line (`cborg_doctor.cli.main`) in this
process with a given environment: a fuzz case then costs milliseconds instead of
an interpreter start. It still uses real sockets, real servers and the real CLI.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import os
import signal
import socket
import ssl
import struct
import threading
import time
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.netfixtures import accept_loop

from . import netfixtures as nf

# ── answers ─────────────────────────────────────────────────────────────────

# How a body is delivered: "plain" (bytes then close), "huge" (`size` bytes of
# `fill`), "endless" (until the doctor hangs up), "trickle" (one small piece every
# `pause` s, forever), "truncated" (content-length promises more than is sent),
# "reset" (a TCP RST after part of the body), "stall" (headers, then silence).
BODY_MODES = ("plain", "huge", "endless", "trickle", "truncated", "reset", "stall")


@dataclass(frozen=True)
class Reply:
    """One answer, byte for byte. `head` is the status line and header lines (no CRLFs)."""

    status_line: bytes = b"HTTP/1.1 200 OK"
    headers: tuple[tuple[bytes, bytes], ...] = ((b"content-type", b"application/json"),)
    body: bytes = b"{}"
    mode: str = "plain"
    size: int = 0  # for "huge"
    fill: bytes = b"x" * 65536
    pause: float = 0.05  # for "trickle"
    auto_length: bool = True  # add content-length (of `body`) unless a header sets one
    raw: bytes | None = None  # sent as is instead of an HTTP answer (not HTTP at all)

    def head(self) -> bytes:
        lines = [self.status_line]
        names = {name.lower() for name, _ in self.headers}
        lines += [name + b": " + value for name, value in self.headers]
        if self.auto_length and b"content-length" not in names and b"transfer-encoding" not in names:
            if self.mode == "plain":
                lines.append(b"content-length: %d" % len(self.body))
            elif self.mode == "huge":
                lines.append(b"content-length: %d" % self.size)
            elif self.mode == "truncated":
                lines.append(b"content-length: %d" % (len(self.body) + 1000))
        lines.append(b"connection: close")
        return b"\r\n".join(lines) + b"\r\n\r\n"


def gzip_bomb(size: int = 100 << 20) -> bytes:
    """`size` zero bytes, gzip-compressed (about a thousandth of the size)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = b"\0" * (1 << 20)
    parts = [packer.compress(block) for _ in range(size >> 20)]
    parts.append(packer.flush())
    return b"".join(parts)


def json_reply(text: str | bytes, status: int = 200, ctype: bytes = b"application/json") -> Reply:
    body = text.encode() if isinstance(text, str) else text
    return Reply(b"HTTP/1.1 %d X" % status, ((b"content-type", ctype),), body)


# ── the server ──────────────────────────────────────────────────────────────


@dataclass
class Seen:
    """What one connection brought: the request (if any) and the bytes we sent back."""

    method: str = ""
    path: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes = b""
    sent: int = 0


class ScriptedServer:
    """Answers each path with `replies[path]` (or `default`); records what it saw.

    `tls` wraps each connection. `tls_answer(client_hello)` instead plays a hostile
    TLS peer: it returns the bytes to send back (garbage, a cut or corrupted
    ServerHello flight), or None for a TCP reset; `tls_trickle` sends them one byte
    per that many seconds.
    """

    def __init__(self, replies: dict[str, Reply] | None = None, default: Reply | None = None,
                 host: str = "127.0.0.1", port: int = 0, tls: ssl.SSLContext | None = None,
                 tls_answer: Callable[[bytes], bytes | None] | None = None,
                 tls_trickle: float = 0.0) -> None:
        self.replies = dict(replies or {})
        self.default = default or Reply()
        self.tls = tls
        self.tls_answer = tls_answer
        self.tls_trickle = tls_trickle
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.host = host
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, port))
        self.sock.listen(128)
        self.port = self.sock.getsockname()[1]
        self.seen: list[Seen] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        threading.Thread(target=self._serve, daemon=True, name="scripted").start()

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'https' if (self.tls or self.tls_answer) else 'http'}://{host}:{self.port}"

    def set(self, replies: dict[str, Reply], default: Reply | None = None) -> None:
        with self._lock:
            self.replies = dict(replies)
            self.default = default or Reply()
            self.seen = []

    def bytes_sent(self) -> int:
        return sum(s.sent for s in self.seen)

    def close(self) -> None:
        self._stop.set()
        with contextlib.suppress(OSError):
            self.sock.close()

    def __enter__(self) -> ScriptedServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _serve(self) -> None:
        accept_loop(self.sock, self._stop, lambda conn, _peer: self._one(conn))

    def _one(self, conn: socket.socket) -> None:
        seen = Seen()
        with self._lock:
            self.seen.append(seen)
        try:
            conn.settimeout(15)
            if self.tls_answer is not None:
                self._hostile_tls(conn, seen)
                return
            if self.tls is not None:
                conn = self.tls.wrap_socket(conn, server_side=True)
            request = nf.read_request(conn, "")
            if request is None:
                return
            seen.method, seen.path, seen.headers = request.method, request.path, request.headers
            with self._lock:
                reply = self.replies.get(request.path.split("?", 1)[0], self.default)
            self._send(conn, reply, seen)
        except (OSError, ssl.SSLError, ValueError):
            pass
        finally:
            with contextlib.suppress(OSError):
                conn.close()

    def _hostile_tls(self, conn: socket.socket, seen: Seen) -> None:
        assert self.tls_answer is not None
        seen.raw = _read_record(conn)  # the ClientHello
        data = self.tls_answer(seen.raw)
        if data is None:
            _reset(conn)
            return
        if self.tls_trickle:
            for byte in data:
                if self._stop.wait(self.tls_trickle):
                    return
                conn.sendall(bytes([byte]))
                seen.sent += 1
            self._stop.wait(30)
            return
        conn.sendall(data)
        seen.sent += len(data)
        self._stop.wait(0.2)  # let the client read it before the close

    def _send(self, conn: socket.socket, reply: Reply, seen: Seen) -> None:
        # `{AUTH}` anywhere in an answer echoes the key sent, as old LiteLLM versions did.
        key = seen.headers.get("authorization", "").removeprefix("Bearer ").encode("latin-1", "replace")
        if key and b"{AUTH}" in reply.head() + reply.body + (reply.raw or b""):
            reply = dataclasses.replace(
                reply, status_line=reply.status_line.replace(b"{AUTH}", key),
                headers=tuple((n, v.replace(b"{AUTH}", key)) for n, v in reply.headers),
                body=reply.body.replace(b"{AUTH}", key),
                raw=reply.raw.replace(b"{AUTH}", key) if reply.raw is not None else None)
        if reply.raw is not None:
            conn.sendall(reply.raw)
            seen.sent += len(reply.raw)
            return
        head = reply.head()
        conn.sendall(head)
        seen.sent += len(head)
        mode = reply.mode
        if mode == "plain" or mode == "truncated":
            conn.sendall(reply.body)
            seen.sent += len(reply.body)
        elif mode == "reset":
            conn.sendall(reply.body[: len(reply.body) // 2])
            _reset(conn)
        elif mode == "stall":
            self._stop.wait(30)
        elif mode in ("huge", "endless"):
            left = reply.size if mode == "huge" else 1 << 40
            chunk = reply.fill
            while left > 0 and not self._stop.is_set():
                piece = chunk[:left]
                conn.sendall(piece)
                seen.sent += len(piece)
                left -= len(piece)
        elif mode == "trickle":
            piece = reply.fill[:1] or b" "
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and not self._stop.wait(reply.pause):
                conn.sendall(piece)
                seen.sent += len(piece)


def _read_record(conn: socket.socket) -> bytes:
    """One TLS record (the ClientHello), or what arrived before the peer stopped."""
    data = b""
    while len(data) < 5 or len(data) < 5 + int.from_bytes(data[3:5], "big"):
        chunk = conn.recv(16384)
        if not chunk:
            break
        data += chunk
    return data


def _reset(conn: socket.socket) -> None:
    """Close with a TCP RST instead of a FIN."""
    with contextlib.suppress(OSError):
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()


# ── running the doctor in this process ──────────────────────────────────────


@dataclass
class Run:
    code: int | None  # None: it did not finish (a hang)
    stdout: str
    stderr: str
    seconds: float
    reports: dict[str, bytes] = field(default_factory=dict)

    @property
    def everything(self) -> bytes:
        return (self.stdout + self.stderr).encode("utf-8", "surrogatepass") + b"".join(self.reports.values())


_RUN_LOCK = threading.Lock()


class Hung(BaseException):
    """The in-process run did not end in time (BaseException: no handler of ours swallows it)."""


def _on_alarm(signum: int, frame: object) -> None:
    raise Hung


@contextlib.contextmanager
def environment(env: dict[str, str]) -> Iterator[None]:
    """`os.environ` is exactly `env` inside the block."""
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def base_env(home: Path, **extra: str) -> dict[str, str]:
    from .doctor import clean_env

    env = clean_env(home)
    env.update(extra)
    return env


def run_inprocess(args: Sequence[str], env: dict[str, str], hang_after: float = 60.0,
                  report_dir: Path | None = None) -> Run:
    """`cborg-doctor ARGS` via `cli.main` in this process; code None if it did not end in time.

    With `report_dir`, every report format is written there and read back.
    """
    from cborg_doctor import cli

    argv = list(args)
    paths: list[Path] = []
    if report_dir is not None:
        report_dir.mkdir(parents=True, exist_ok=True)
        for suffix in (".json", ".md", ".xml", ".html"):
            path = report_dir / f"report{suffix}"
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
            paths.append(path)
            argv += ["--report", str(path)]
    out, err = io.StringIO(), io.StringIO()
    box: dict[str, Any] = {}

    def work() -> None:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            box["code"] = cli.main(argv)

    with _RUN_LOCK, environment(env):
        start = time.monotonic()
        # cli.main sets a SIGTERM handler, which only the main thread may do, so it runs
        # here; an interval timer breaks a hang (the runner's own bound should prevent one).
        previous = signal.signal(signal.SIGALRM, _on_alarm)
        signal.setitimer(signal.ITIMER_REAL, hang_after)
        try:
            work()
        except Hung:
            box["hung"] = True
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
        seconds = time.monotonic() - start
    code = box.get("code") if not box.get("hung") else None
    reports = {p.suffix: p.read_bytes() for p in paths if p.exists()}
    return Run(code, out.getvalue(), err.getvalue(), seconds, reports)
