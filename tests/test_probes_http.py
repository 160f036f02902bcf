"""`probes.http.request` against real loopback servers: pinning, SNI, key rules, bounds."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from cborg_doctor.options import Options
from cborg_doctor.probes.http import HttpResult, request
from cborg_doctor.session import build_context

from . import netfixtures as nf

KEY = "sk-probe" + "k" * 24


@pytest.fixture
def pki(tmp_path: Path) -> nf.Pki:
    return nf.make_pki(tmp_path)


@pytest.fixture
def dns_server() -> Iterator[nf.DnsServer]:
    server = nf.DnsServer({"gateway.test": {"A": ["127.0.0.1"], "AAAA": ["::1"]}}).start()
    yield server
    server.stop()


def context(base_url: str, env: dict[str, str] | None = None, **options: object):
    return build_context(Options(base_url=base_url, timeout=1.0, **options), env or {})


def test_pinned_request_sends_name_in_host_and_sni(pki: nf.Pki, dns_server: nf.DnsServer) -> None:
    with nf.serving(nf.litellm(), tls=pki.server_context("gateway.test")) as server:
        env = {"SSL_CERT_FILE": str(pki.ca_file), "CBORG_API_KEY": KEY}
        ctx = context(f"https://gateway.test:{server.port}", env, nameservers=(dns_server.arg,))
        result = request(ctx, "GET", "/health/liveliness", family=4, send_key=True)
    assert result.status == 200 and result.error is None
    assert result.address == "127.0.0.1"
    assert result.json() == "I'm alive!"
    assert result.key_sent
    seen = server.requests[0]
    assert seen.sni == "gateway.test"
    assert seen.headers["host"] == f"gateway.test:{server.port}"
    assert seen.headers["authorization"] == f"Bearer {KEY}"
    assert {"connect", "tls", "ttfb", "total"} <= set(result.timings)


def test_ipv6_family_pins_ipv6(pki: nf.Pki, dns_server: nf.DnsServer) -> None:
    if not nf.ipv6_loopback():
        pytest.skip("no IPv6 loopback here")
    with nf.serving(nf.litellm(), host="::1", tls=pki.server_context("gateway.test")) as server:
        env = {"SSL_CERT_FILE": str(pki.ca_file)}
        ctx = context(f"https://gateway.test:{server.port}", env, nameservers=(dns_server.arg,))
        result = request(ctx, "GET", "/cdn-cgi/trace", family=6)
    assert result.status == 200 and result.address == "::1"
    assert "ip=::1" in result.text


def test_key_never_sent_over_plain_http_to_a_non_loopback_name() -> None:
    with nf.serving(nf.litellm()) as server:
        ctx = context(f"http://127.0.0.1:{server.port}", {"CBORG_API_KEY": KEY})
        sent = request(ctx, "GET", "/key/info", send_key=True)
        unsent = request(ctx, "GET", "/key/info")
    assert sent.key_sent and not unsent.key_sent
    assert "authorization" not in server.requests[1].headers


def test_redirect_is_returned_not_followed() -> None:
    with nf.serving(nf.captive_portal()) as server:
        result = request(context(f"http://127.0.0.1:{server.port}"), "GET", "/")
    assert result.status == 302
    assert result.headers["location"].startswith("http://portal.guest-wifi.example/")
    assert len(server.requests) == 1


def test_refused_port_is_an_error_not_an_exception() -> None:
    result = request(context(f"http://127.0.0.1:{nf.closed_port()}"), "GET", "/")
    assert (result.status, result.error) == (None, "refused")


def test_full_backlog_times_out_in_connect() -> None:
    backlog = nf.FullBacklog()
    try:
        result = request(context(f"http://127.0.0.1:{backlog.port}"), "GET", "/")
    finally:
        backlog.close()
    assert (result.status, result.error) == (None, "timeout")
    assert "connect" in result.detail


def test_silent_server_times_out_waiting_for_headers() -> None:
    with nf.serving(nf.stall_after_headers_read()) as server:
        result = request(context(f"http://127.0.0.1:{server.port}"), "GET", "/")
    assert (result.status, result.error) == (None, "timeout")


def test_endless_body_is_capped() -> None:
    with nf.serving(nf.endless_body()) as server:
        result = request(context(f"http://127.0.0.1:{server.port}"), "GET", "/", max_body=10_000)
    assert result.status == 200 and result.truncated and len(result.body) == 10_000
    assert result.error is None


def test_trickling_body_stops_at_the_time_bound() -> None:
    with nf.serving(nf.endless_body(chunk=b"y", pause=0.05)) as server:
        result = request(context(f"http://127.0.0.1:{server.port}"), "GET", "/", stream=True)
    assert result.status == 200 and result.error == "too_slow" and result.truncated
    assert "first_byte" in result.timings


def test_wrong_certificate_name_is_a_tls_error(pki: nf.Pki, dns_server: nf.DnsServer) -> None:
    with nf.serving(nf.litellm(), tls=pki.server_context("other.test")) as server:
        env = {"SSL_CERT_FILE": str(pki.ca_file), "CBORG_API_KEY": KEY}
        ctx = context(f"https://gateway.test:{server.port}", env, nameservers=(dns_server.arg,))
        result = request(ctx, "GET", "/", family=4, send_key=True)
    assert (result.error, result.cause) == ("tls", "hostname")
    assert server.requests == []  # nothing, and so no key, went over the bad connection


def test_json_never_raises() -> None:
    result = HttpResult("u", 200, {}, b"\xff{not json", False, None, "", None, {})
    assert result.json() is None
    assert result.text.endswith("{not json")


def test_key_never_goes_to_a_proxy_in_clear_text() -> None:
    with nf.serving(nf.status(200, "{}")) as fake_proxy, nf.serving(nf.litellm()) as server:
        env = {"CBORG_API_KEY": KEY, "HTTP_PROXY": f"http://127.0.0.1:{fake_proxy.port}"}
        ctx = context(f"http://127.0.0.1:{server.port}", env)
        result = request(ctx, "GET", "/key/info", send_key=True)
    assert result.via_proxy == f"http://127.0.0.1:{fake_proxy.port}"
    assert not result.key_sent
    assert all("authorization" not in r.headers for r in fake_proxy.requests)
    assert KEY not in repr(fake_proxy.requests)


def test_gzip_bomb_is_inflated_only_up_to_the_cap() -> None:
    import gzip

    bomb = gzip.compress(b"\0" * (64 << 20), compresslevel=9)  # 64 MiB in ~64 KiB
    def handler(request: nf.Request, conn: object) -> None:
        nf.respond(conn, 200, bomb, {"content-encoding": "gzip", "content-type": "text/plain"})

    with nf.serving(handler) as server:
        result = request(context(f"http://127.0.0.1:{server.port}"), "GET", "/", max_body=4096)
    assert result.status == 200 and result.truncated
    assert result.body == b"\0" * 4096
