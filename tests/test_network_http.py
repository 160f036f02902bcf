"""`http` and `egress` end to end: LiteLLM, Cloudflare blocks, portals, errors, stalls."""

from __future__ import annotations

from cborg_doctor_checks.net.egress import findings_for, parse_trace
from cborg_doctor_checks.net.http import classify
from hypothesis import given
from hypothesis import strategies as st

from cborg_doctor.probes.http import HttpResult

from . import netfixtures as nf
from .netscenario import Lab, expect, lab_fixture, statuses  # noqa: F401  (the lab fixture)


def test_gateway_answer_reports_server_and_timings(lab: Lab) -> None:
    port = lab.gateway(families=(4,))
    seen = lab.doctor(port=port)
    expect(seen, statuses(net_ipv6="skip"))
    http = seen.check("http")
    assert http["summary"].startswith("HTTP 200 from Cloudflare → LiteLLM (")
    for phase in ("DNS", "TCP", "TLS", "TTFB", "total"):
        assert f"{phase} " in http["summary"]
    assert {"dns", "connect", "tls", "ttfb", "total"} <= set(http["data"]["timings"])
    assert http["data"]["headers"]["server"] == "cloudflare"


def test_cloudflare_1020_block_quotes_code_and_ray(lab: Lab) -> None:
    port = lab.gateway(nf.cloudflare_1020(), families=(4,))
    seen = lab.doctor(port=port)
    expect(seen, statuses("http", net_ipv6="skip"))
    finding = seen.finding("http", "HTTP_BLOCKED")
    assert "error 1020, access denied by a firewall rule" in finding["message"]
    assert "HTTP 403, Ray ID 8e1f2a3b4c5d6e7f" in finding["message"]
    assert any("scienceit@lbl.gov with the Ray ID 8e1f2a3b4c5d6e7f" in s for s in finding["fix"])
    assert seen.report["verdict"]["code"] == "HTTP_BLOCKED"


def test_cloudflare_challenge_is_blocked(lab: Lab) -> None:
    port = lab.gateway(nf.cloudflare_challenge(), families=(4,))
    seen = lab.doctor(port=port)
    expect(seen, statuses("http", net_ipv6="skip"))
    assert "browser challenge" in seen.finding("http", "HTTP_BLOCKED")["message"]


def test_cloudflare_502_is_a_server_error(lab: Lab) -> None:
    port = lab.gateway(nf.cloudflare_502(), families=(4,))
    seen = lab.doctor(port=port)
    expect(seen, statuses("http", net_ipv6="skip"))
    finding = seen.finding("http", "HTTP_SERVER_ERROR")
    assert "HTTP 502 from Cloudflare: error 502" in finding["message"]
    assert finding["message"].count("HTTP 502") == 1
    assert any("Ray ID 8e1f2a3b4c5d6e7f" in step for step in finding["fix"])


def test_gateway_500_is_a_server_error(lab: Lab) -> None:
    handler = nf.status(500, '{"error": {"message": "boom"}}', {"content-type": "application/json"})
    port = lab.gateway(handler, families=(4,))
    seen = lab.doctor(port=port)
    expect(seen, statuses("http", net_ipv6="skip"))
    assert "HTTP 500 from the gateway" in seen.finding("http", "HTTP_SERVER_ERROR")["message"]


def test_captive_portal_redirect_is_not_the_gateway(lab: Lab) -> None:
    server = lab.serve(nf.captive_portal(), tls=None)
    seen = lab.doctor(base_url=f"http://127.0.0.1:{server.port}")
    expect(seen, statuses("http", net_ipv6="skip"))
    finding = seen.finding("http", "HTTP_NOT_GATEWAY")
    assert "a redirect (HTTP 302) to http://portal.guest-wifi.example/login" in finding["message"]
    assert len(server.requests) == 1  # the redirect was not followed


def test_portal_page_is_named_by_its_title(lab: Lab) -> None:
    port = lab.gateway(nf.portal_page(), families=(4,))
    seen = lab.doctor(port=port)
    expect(seen, statuses("http", net_ipv6="skip"))
    message = seen.finding("http", "HTTP_NOT_GATEWAY")["message"]
    assert "HTTP 200, server 'nginx', page 'Guest Wi-Fi - Sign in'" in message


def test_407_from_the_server(lab: Lab) -> None:
    port = lab.gateway(nf.status(407, "", {"proxy-authenticate": 'Basic realm="corp"'}),
                       families=(4,))
    seen = lab.doctor(port=port)
    expect(seen, statuses("http", net_ipv6="skip"))
    assert seen.codes("http") == ["HTTP_PROXY_AUTH"]


def test_no_answer_is_a_timeout(lab: Lab) -> None:
    port = lab.gateway(nf.stall_after_headers_read(), families=(4,))
    seen = lab.doctor(port=port)
    expect(seen, statuses("http", net_ipv6="skip"))
    finding = seen.finding("http", "HTTP_TIMEOUT")
    assert "accepted the request but sent no answer in time" in finding["message"]


def test_endless_trickling_body_is_a_timeout(lab: Lab) -> None:
    port = lab.gateway(nf.endless_body(chunk=b".", pause=0.05), families=(4,))
    seen = lab.doctor(port=port)
    expect(seen, statuses("http", net_ipv6="skip"))
    assert "kept sending its body past the time bound" in seen.finding(
        "http", "HTTP_TIMEOUT")["message"]


def test_egress_names_both_addresses(lab: Lab) -> None:
    port = lab.gateway()
    seen = lab.doctor(port=port)
    expect(seen, statuses())
    egress = seen.check("egress")
    assert egress["data"]["addresses"] == {"ipv4": "127.0.0.1", "ipv6": "::1"}
    assert egress["summary"] == "IPv4 127.0.0.1, IPv6 ::1"
    [v4, v6] = egress["findings"]
    assert v4["message"] == ("Over IPv4 the gateway sees this machine as 127.0.0.1 "
                             "(Cloudflare SJC; WARP off).")
    assert "::1" in v6["message"]
    assert any("127.0.0.1 (IPv4) and ::1 (IPv6)" in step for step in v4["fix"])
    assert any("only IPv4" in step for step in v4["fix"])


def test_egress_unknown_when_not_behind_cloudflare(lab: Lab) -> None:
    port = lab.gateway(nf.litellm(behind_cloudflare=False), families=(4,))
    seen = lab.doctor(port=port)
    expect(seen, statuses(net_ipv6="skip"))
    finding = seen.finding("egress", "EGRESS_UNKNOWN")
    assert "/cdn-cgi/trace answered HTTP 404" in finding["message"]
    assert seen.check("egress")["data"]["addresses"] == {"ipv4": None, "ipv6": None}


def _result(status: int | None, body: bytes = b"", error: str | None = None,
            **headers: str) -> HttpResult:
    return HttpResult("https://api.cborg.lbl.gov/health/liveliness", status,
                      {k.replace("_", "-"): v for k, v in headers.items()}, body, False, error,
                      "", None, {})


def test_litellm_json_404_is_the_gateway() -> None:
    verdict = classify(_result(404, b'{"detail":"Not Found"}', content_type="application/json"),
                       "https://api.cborg.lbl.gov", "api.cborg.lbl.gov")
    assert verdict.code is None


def test_same_origin_redirect_is_the_gateway() -> None:
    verdict = classify(_result(307, location="/health/liveliness/"),
                       "https://api.cborg.lbl.gov", "api.cborg.lbl.gov")
    assert verdict.code is None


def test_rate_limit_1015_is_blocked() -> None:
    result = _result(429, b"<html><title>Rate limited</title>error code: 1015</html>",
                     server="cloudflare", cf_ray="0123456789abcdef-LAX")
    verdict = classify(result, "https://api.cborg.lbl.gov", "api.cborg.lbl.gov")
    assert verdict.code is not None and verdict.code.code == "HTTP_BLOCKED"
    assert verdict.facts["ray"] == "0123456789abcdef" and "1015" in verdict.facts["what"]


def test_cloudflare_html_403_without_a_code_is_blocked() -> None:
    page = b"<html><head><title>Attention Required! | Cloudflare</title></head></html>"
    result = _result(403, page, server="cloudflare", cf_ray="fedcba9876543210-FRA",
                     content_type="text/html; charset=UTF-8")
    verdict = classify(result, "https://api.cborg.lbl.gov", "api.cborg.lbl.gov")
    assert verdict.code is not None and verdict.code.code == "HTTP_BLOCKED"
    assert "Attention Required! | Cloudflare" in verdict.facts["what"]


def test_litellm_403_behind_cloudflare_is_the_gateway() -> None:
    body = b'{"error": {"message": "Access forbidden: IP address 1.2.3.4 not allowed."}}'
    result = _result(403, body, server="cloudflare", cf_ray="fedcba9876543210-FRA",
                     content_type="application/json")
    assert classify(result, "https://api.cborg.lbl.gov", "api.cborg.lbl.gov").code is None


@given(st.integers(min_value=100, max_value=599), st.binary(max_size=2000),
       st.dictionaries(st.sampled_from(["server", "cf-ray", "cf-mitigated", "location",
                                        "content-type"]), st.text(max_size=40)))
def test_classify_never_raises_on_what_the_network_sends(status: int, body: bytes,
                                                          headers: dict[str, str]) -> None:
    result = HttpResult("https://h/x", status, headers, body, False, None, "", None, {})
    classify(result, "https://h", "h")


@given(st.text(max_size=3000))
def test_parse_trace_never_raises(text: str) -> None:
    fields = parse_trace(text)
    assert all(isinstance(v, str) and len(v) <= 200 for v in fields.values())


def test_egress_from_lblnet_needs_no_authorization() -> None:
    traces = {"ipv4": ({"ip": "131.243.2.10", "colo": "SJC", "warp": "off"}, None),
              "ipv6": ({}, "/cdn-cgi/trace has no ip= line")}
    findings, addresses = findings_for(traces)
    assert addresses == {"ipv4": "131.243.2.10", "ipv6": None}
    [finding] = findings
    assert finding.code == "EGRESS_IP"
    assert "an LBL address: no authorization needed" in finding.message


def test_egress_unknown_gathers_the_reasons() -> None:
    findings, addresses = findings_for({"ipv4": ({}, "timeout"), "ipv6": ({}, "refused")})
    assert [f.code for f in findings] == ["EGRESS_UNKNOWN"]
    assert "refused; timeout" in findings[0].message
    assert addresses == {"ipv4": None, "ipv6": None}
