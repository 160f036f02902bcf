"""`dns` end to end against a real DNS server on loopback (and its pure parts)."""

from __future__ import annotations

import pytest
from cborg_doctor_checks.net.dns import LOCAL_ONLY_STEP, disagreement

from cborg_doctor.probes.resolve import Answer, Lookup

from . import netfixtures as nf
from .netscenario import Lab, expect, lab_fixture, statuses  # noqa: F401  (the lab fixture)


def test_healthy_gateway_passes_everything(lab: Lab) -> None:
    port = lab.gateway()
    seen = lab.doctor(port=port)
    expect(seen, statuses())
    assert seen.code == 0
    assert seen.report["verdict"] is None
    dns = seen.check("dns")
    assert dns["summary"].startswith("gateway.test → 1 IPv4, 1 IPv6")
    assert dns["data"]["addresses"]["ipv4"] == ["127.0.0.1"]
    assert dns["data"]["addresses"]["ipv6"] == ["::1"]
    assert ("gateway.test", "A") in lab.dns.queries


def test_nxdomain_is_the_only_failure(lab: Lab) -> None:
    lab.name(mode="nxdomain")
    seen = lab.doctor(port=443)
    expect(seen, statuses("dns"))
    assert seen.code == 1
    assert seen.report["verdict"]["code"] == "DNS_NXDOMAIN"
    finding = seen.finding("dns", "DNS_NXDOMAIN")
    assert "gateway.test does not exist" in finding["message"]
    assert f"name server {lab.dns.arg}" in finding["message"]
    assert LOCAL_ONLY_STEP not in finding["fix"]
    # gateway.test is not a CBorg host: a typo is the cause, and its only fix.
    assert finding["fix"] == ["Check the spelling of the base URL (gateway.test): the gateway is "
                              "https://api.cborg.lbl.gov."]
    assert seen.check("tls")["skipped_because"] == "needs net.ipv4 or net.ipv6, which was skipped"


def test_api_local_failure_says_it_only_resolves_on_lblnet(lab: Lab) -> None:
    seen = lab.doctor(base_url="https://api-local.cborg.lbl.gov")
    expect(seen, statuses("dns"))
    finding = seen.finding("dns", "DNS_NXDOMAIN")
    assert finding["fix"] == [LOCAL_ONLY_STEP]


def test_servfail_is_dns_failed(lab: Lab) -> None:
    lab.name(mode="servfail")
    seen = lab.doctor(port=443)
    expect(seen, statuses("dns"))
    assert seen.codes("dns") == ["DNS_FAILED"]
    finding = seen.finding("dns", "DNS_FAILED")
    assert f"the name server {lab.dns.arg} (given with --nameserver) answered SERVFAIL" in (
        finding["message"])
    # The fix is the one for SERVFAIL, not a list of every DNS cause.
    assert len(finding["fix"]) == 1 and "Try again in a minute" in finding["fix"][0]


def test_refused_is_dns_failed(lab: Lab) -> None:
    lab.name(mode="refused")
    seen = lab.doctor(port=443)
    expect(seen, statuses("dns"))
    finding = seen.finding("dns", "DNS_FAILED")
    assert f"the name server {lab.dns.arg} (given with --nameserver) REFUSED the query" in (
        finding["message"])
    assert len(finding["fix"]) == 1 and "refuses to answer this machine" in finding["fix"][0]
    assert "SERVFAIL" not in finding["fix"][0]


def test_silent_name_server_is_a_timeout(lab: Lab) -> None:
    lab.name(mode="drop")
    seen = lab.doctor(port=443)
    expect(seen, statuses("dns"))
    finding = seen.finding("dns", "DNS_TIMEOUT")
    assert finding["message"].endswith(
        f"within 1 s: the name server {lab.dns.arg} (given with --nameserver) did not answer.")
    # WSL's dnsTunneling advice comes from platform.wsl (WSL_NAT_VPN) when it applies.
    assert not any("dnsTunneling" in step or "SERVFAIL" in step for step in finding["fix"])
    assert "drops DNS queries" in finding["fix"][1]


def test_no_aaaa_is_information_and_ipv6_is_skipped(lab: Lab) -> None:
    port = lab.gateway(families=(4,))
    seen = lab.doctor(port=port)
    expect(seen, statuses(net_ipv6="skip"))
    assert seen.code == 0
    assert seen.codes("dns") == ["DNS_NO_IPV6"]
    assert seen.finding("dns", "DNS_NO_IPV6")["severity"] == "info"
    assert seen.check("net.ipv6")["skipped_because"] == "gateway.test has no IPv6 address"
    assert seen.check("egress")["data"]["addresses"] == {"ipv4": "127.0.0.1", "ipv6": None}


def test_ip_literal_needs_no_lookup(lab: Lab) -> None:
    server = lab.serve(nf.litellm(), tls=lab.tls("127.0.0.1"))
    seen = lab.doctor(base_url=f"https://127.0.0.1:{server.port}")
    expect(seen, statuses(net_ipv6="skip"))
    assert seen.check("dns")["summary"] == "127.0.0.1 is an IP address: no lookup needed"
    assert lab.dns.queries == []


def _lookup(method: str, v4: tuple[str, ...], error: str | None = None) -> Lookup:
    a = Answer(v4) if v4 else Answer(error=error or "no_answer")
    return Lookup("api.cborg.lbl.gov", method, a, Answer(error="no_answer"), servers=("10.0.0.53",))


def test_disagreement_names_both_answers() -> None:
    finding = disagreement(_lookup("system", ("10.1.1.1",)), _lookup("nameserver", ("104.18.0.1",)))
    assert finding is not None and finding.code == "DNS_INCONSISTENT"
    assert "system gives 10.1.1.1" in finding.message and "give 104.18.0.1" in finding.message
    assert any("/etc/hosts" in step for step in finding.fix)


def test_overlapping_answers_agree() -> None:
    assert disagreement(_lookup("system", ("1.1.1.1", "2.2.2.2")),
                        _lookup("nameserver", ("2.2.2.2",))) is None


def test_system_answers_while_dns_times_out_is_inconsistent() -> None:
    finding = disagreement(_lookup("system", ("10.1.1.1",)), _lookup("nameserver", (), "timeout"))
    assert finding is not None and "give timeout" in finding.message
    assert finding.severity.value == "info"  # split DNS (a VPN's scoped resolver) works


def test_ipv6_only_host_is_information_and_ipv4_is_skipped(lab: Lab) -> None:
    if not nf.ipv6_loopback():
        pytest.skip("no IPv6 loopback (::1) here")
    port = lab.gateway(families=(6,))
    seen = lab.doctor(port=port)
    expect(seen, statuses(net_ipv4="skip"))
    assert seen.codes("dns") == ["DNS_NO_IPV4"]
    assert seen.check("egress")["data"]["addresses"] == {"ipv4": None, "ipv6": "::1"}


def test_name_server_on_ipv6_loopback(lab: Lab) -> None:
    if not nf.ipv6_loopback():
        pytest.skip("no IPv6 loopback (::1) here")
    dns6 = nf.DnsServer(host="::1").start()
    lab.closers.append(_Stopper(dns6))
    port = lab.gateway(families=(4,))
    dns6.zone.update(lab.dns.zone)
    seen = lab.doctor(port=port, nameserver=dns6.arg)
    expect(seen, statuses(net_ipv6="skip"))
    assert dns6.arg.startswith("[::1]:")
    assert f"the name server [::1]:{dns6.port}" in seen.check("dns")["summary"]


class _Stopper:
    def __init__(self, server: nf.DnsServer) -> None:
        self.server = server

    def close(self) -> None:
        self.server.stop()
