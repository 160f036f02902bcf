"""Testing a check: a real (tiny) proxy on loopback, the real doctor, the report it returns."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

import cborg_doctor

GATEWAY = "http://127.0.0.1:9"  # the proxy is asked to tunnel here; nothing connects to it


@pytest.fixture
def proxy() -> Iterator[dict[str, object]]:
    """A loopback 'proxy' answering every CONNECT with `state["answer"]`."""
    server = socket.create_server(("127.0.0.1", 0))
    state: dict[str, object] = {"answer": b"HTTP/1.1 200 Connection established\r\n\r\n", "asked": []}

    def serve() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            with conn:
                state["asked"].append(conn.recv(1024).split(b"\r\n")[0])  # type: ignore[attr-defined]
                conn.sendall(state["answer"])  # type: ignore[arg-type]

    threading.Thread(target=serve, daemon=True).start()
    state["url"] = f"http://127.0.0.1:{server.getsockname()[1]}"
    yield state
    server.close()


def lab_proxy(env: dict[str, str]) -> cborg_doctor.Report:
    return cborg_doctor.diagnose(only="lab.proxy", base_url=GATEWAY, env=env)


def test_tunnel_to_the_gateway(proxy: dict[str, object]) -> None:
    report = lab_proxy({"LAB_PROXY_URL": str(proxy["url"])})
    (check,) = [c for c in report.checks if c.id == "lab.proxy"]
    assert check.status == "pass"
    assert proxy["asked"] == [b"CONNECT 127.0.0.1:9 HTTP/1.1"]


def test_proxy_refuses_the_tunnel(proxy: dict[str, object]) -> None:
    proxy["answer"] = b"HTTP/1.1 403 Forbidden\r\n\r\n"
    report = lab_proxy({"LAB_PROXY_URL": str(proxy["url"])})
    assert report.verdict is not None and report.verdict.code == "LAB_PROXY_DENIED"
    assert "403 Forbidden" in report.verdict.message


def test_proxy_down() -> None:
    with socket.create_server(("127.0.0.1", 0)) as closed:
        port = closed.getsockname()[1]  # nothing listens here once closed
    report = lab_proxy({"LAB_PROXY_URL": f"http://127.0.0.1:{port}"})
    assert report.verdict is not None and report.verdict.code == "LAB_PROXY_DOWN"
    assert report.verdict.fix[0].startswith("Connect to LBLnet or the lab VPN")


def test_not_configured_is_a_skip_not_a_failure() -> None:
    report = lab_proxy({})
    (check,) = [c for c in report.checks if c.id == "lab.proxy"]
    assert check.status == "skip" and check.skipped_because == "LAB_PROXY_URL is not set"
