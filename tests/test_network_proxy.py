"""The path through an HTTP CONNECT proxy, as the user's clients take it."""

from __future__ import annotations

from . import netfixtures as nf
from .netscenario import Lab, expect, lab_fixture, statuses  # noqa: F401  (the lab fixture)

ALL = "egress,config.proxy"


def _proxy(lab: Lab, **kwargs: str) -> nf.ConnectProxy:
    proxy = nf.ConnectProxy({"gateway.test": "127.0.0.1"}, **kwargs)
    lab.closers.append(proxy)
    return proxy


def test_everything_goes_through_the_proxy(lab: Lab) -> None:
    port = lab.gateway(families=(4,))
    proxy = _proxy(lab)
    seen = lab.doctor(port=port, only=ALL, env={"HTTPS_PROXY": proxy.url})
    expect(seen, {**statuses(net_ipv6="skip"), "config.proxy": "pass"})
    assert seen.codes("config.proxy") == ["PROXY_IN_USE"]
    summary = seen.check("net.ipv4")["summary"]
    assert summary.startswith("1/1 IPv4 addresses of the proxy 127.0.0.1 connect: 127.0.0.1 ")
    assert summary.endswith("; without the proxy 1/1 IPv4 addresses of gateway.test connect")
    assert seen.check("net.ipv4")["data"]["direct"][0]["address"] == "127.0.0.1"
    assert seen.check("net.ipv6")["skipped_because"] == "the proxy 127.0.0.1 has no IPv6 address"
    assert f"through the proxy {proxy.url}" in seen.check("tls")["summary"]
    assert seen.check("http")["data"]["via_proxy"] == proxy.url
    assert seen.check("egress")["summary"] == f"IPv4 127.0.0.1 (through the proxy {proxy.url})"
    assert len(proxy.tunnels) >= 3 and set(proxy.tunnels) == {f"gateway.test:{port}"}


def test_proxy_login_required(lab: Lab) -> None:
    port = lab.gateway(families=(4,))
    proxy = _proxy(lab, require_auth="alice:pa55")
    seen = lab.doctor(port=port, only=ALL, env={"HTTPS_PROXY": proxy.url})
    expect(seen, {**statuses("tls", net_ipv6="skip"), "config.proxy": "pass"})
    finding = seen.finding("tls", "HTTP_PROXY_AUTH")
    assert f"The proxy {proxy.url} (from $HTTPS_PROXY) wants a login (HTTP 407 on CONNECT); it " \
           "offers Basic." == finding["message"]
    assert seen.report["verdict"]["code"] == "HTTP_PROXY_AUTH"


def test_proxy_login_in_the_url_works_and_stays_secret(lab: Lab) -> None:
    port = lab.gateway(families=(4,))
    proxy = _proxy(lab, require_auth="alice:pa55")
    url = proxy.url.replace("http://", "http://alice:pa55@")
    seen = lab.doctor(port=port, only=ALL, env={"HTTPS_PROXY": url})
    expect(seen, {**statuses(net_ipv6="skip"), "config.proxy": "pass"})
    assert "pa55" not in seen.everything


def test_proxy_down_is_the_root_cause(lab: Lab) -> None:
    port = lab.gateway(families=(4,))
    closed = nf.closed_port()
    seen = lab.doctor(port=port, only=ALL, env={"HTTPS_PROXY": f"http://127.0.0.1:{closed}"})
    expect(seen, {**statuses("net.ipv4", net_ipv6="skip"), "config.proxy": "pass"})
    message = seen.finding("net.ipv4", "PROXY_DOWN")["message"]
    assert f"TCP to 127.0.0.1 port {closed} is refused" in message
    assert seen.codes("net.ipv4") == ["PROXY_DOWN"]


def test_no_proxy_sends_the_gateway_direct(lab: Lab) -> None:
    port = lab.gateway(families=(4,))
    closed = nf.closed_port()
    seen = lab.doctor(port=port, only=ALL, env={"HTTPS_PROXY": f"http://127.0.0.1:{closed}",
                                                "NO_PROXY": "localhost,.test"})
    expect(seen, {**statuses(net_ipv6="skip"), "config.proxy": "pass"})
    assert seen.codes("config.proxy") == ["PROXY_BYPASSED"]
    assert seen.check("http")["data"]["via_proxy"] is None


def test_direct_dns_failure_is_only_information_through_a_proxy(lab: Lab) -> None:
    port = lab.gateway(families=(4,))
    lab.name(mode="nxdomain")  # this machine cannot resolve it; the proxy can
    proxy = _proxy(lab)
    seen = lab.doctor(port=port, only=ALL, env={"HTTPS_PROXY": proxy.url})
    expect(seen, {**statuses(net_ipv6="skip"), "config.proxy": "pass"})
    finding = seen.finding("dns", "DNS_NXDOMAIN")
    assert finding["severity"] == "info" and "resolves names itself" in finding["message"]


def test_proxy_name_that_does_not_resolve(lab: Lab) -> None:
    port = lab.gateway(families=(4,))
    lab.name(mode="nxdomain", name="proxy.corp.test")
    seen = lab.doctor(port=port, only=ALL, env={"HTTPS_PROXY": "http://proxy.corp.test:3128"})
    expect(seen, {**statuses("dns"), "config.proxy": "pass"})
    finding = seen.finding("dns", "DNS_NXDOMAIN")
    assert finding["message"].startswith("The proxy's host name cannot be resolved: "
                                         "proxy.corp.test does not exist")
    assert len(finding["fix"]) == 1 and "Check the proxy's host name (proxy.corp.test) in " \
        "HTTPS_PROXY" in finding["fix"][0]


def test_proxy_that_refuses_the_gateway(lab: Lab) -> None:
    port = lab.gateway(families=(4,))
    proxy = _proxy(lab)
    proxy.hosts.clear()  # it now refuses to leave loopback for gateway.test: 502
    seen = lab.doctor(port=port, only=ALL, env={"HTTPS_PROXY": proxy.url})
    expect(seen, {**statuses("tls", net_ipv6="skip"), "config.proxy": "pass"})
    message = seen.finding("tls", "HTTP_PROXY_DENIED")["message"]
    assert f"The proxy {proxy.url} (from $HTTPS_PROXY) could not open a tunnel to gateway.test:" \
           f"{port}: HTTP 502, 'refusing to leave loopback'." == message


def test_https_proxy_tunnels_tls_inside_tls(lab: Lab) -> None:
    port = lab.gateway(families=(4,))
    proxy = nf.ConnectProxy({"gateway.test": "127.0.0.1"}, tls=lab.tls("127.0.0.1"))
    lab.closers.append(proxy)
    seen = lab.doctor(port=port, only=ALL, env={"HTTPS_PROXY": proxy.url})
    expect(seen, {**statuses(net_ipv6="skip"), "config.proxy": "pass"})
    assert proxy.url.startswith("https://")
    assert seen.check("tls")["summary"].endswith(f"through the proxy {proxy.url}")
    assert seen.check("tls")["data"]["certificate"]["names"] == ["gateway.test"]
    assert seen.check("http")["data"]["via_proxy"] == proxy.url
    assert len(proxy.tunnels) >= 3


def test_proxy_by_name_is_resolved_by_the_name_server(lab: Lab) -> None:
    port = lab.gateway(families=(4,))
    lab.name(["127.0.0.1"], name="proxy.test")
    proxy = _proxy(lab)
    url = proxy.url.replace("127.0.0.1", "proxy.test")
    seen = lab.doctor(port=port, only=ALL, env={"HTTPS_PROXY": url})
    expect(seen, {**statuses(net_ipv6="skip"), "config.proxy": "pass"})
    assert ("proxy.test", "A") in lab.dns.queries
    assert seen.check("http")["data"]["via_proxy"] == url
    assert len(proxy.tunnels) >= 3


def test_plain_http_through_a_proxy_that_wants_a_login(lab: Lab) -> None:
    server = lab.serve(nf.litellm(), tls=None)
    proxy = _proxy(lab, require_auth="alice:pa55")
    proxy.hosts["127.0.0.1"] = "127.0.0.1"
    seen = lab.doctor(base_url=f"http://127.0.0.1:{server.port}", only=ALL,
                      env={"HTTP_PROXY": proxy.url})
    expect(seen, {**statuses("http", net_ipv6="skip"), "config.proxy": "pass"})
    finding = seen.finding("http", "HTTP_PROXY_AUTH")
    assert finding["message"] == (f"The proxy {proxy.url} (from $HTTP_PROXY) wants a login (HTTP 407 "
                                  "on the request); it offers Basic.")
    assert "`export HTTP_PROXY=http://USER:PASSWORD@127.0.0.1:" in finding["fix"][0]


def test_a_proxy_echoing_the_login_in_its_refusal_never_shows_it(lab: Lab) -> None:
    port = lab.gateway(families=(4,))

    def echo(request: nf.Request, conn) -> None:
        page = (f"<html><title>Denied {request.headers.get('proxy-authorization')}</title>"
                f"<p>you sent {request.headers.get('proxy-authorization')} pa55word</p></html>")
        nf.respond(conn, 403, page, {"content-type": "text/html",
                                     "x-squid-error": "ERR_ACCESS_DENIED pa55word"})

    proxy = lab.serve(echo, tls=None)
    url = f"http://alice:pa55word@127.0.0.1:{proxy.port}"
    seen = lab.doctor(port=port, only=ALL, env={"HTTPS_PROXY": url})
    expect(seen, {**statuses("tls", net_ipv6="skip"), "config.proxy": "pass"})
    assert "X-Squid-Error: ERR_ACCESS_DENIED ***" in seen.finding("tls", "HTTP_PROXY_DENIED")["message"]
    assert "pa55word" not in seen.everything
    assert "YWxpY2U6cGE1NXdvcmQ=" not in seen.everything  # base64 of alice:pa55word
