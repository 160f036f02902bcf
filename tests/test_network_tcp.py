"""`net.ipv4` / `net.ipv6` end to end: refused ports, full backlogs, one family broken."""

from __future__ import annotations

import pytest
from cborg_doctor_checks.net.tcp import judge

from cborg_doctor.probes.tcp import ConnectResult

from . import netfixtures as nf
from .netscenario import Lab, expect, lab_fixture, statuses  # noqa: F401  (the lab fixture)

needs_ipv6 = pytest.mark.skipif(not nf.ipv6_loopback(), reason="no IPv6 loopback (::1) here")


@needs_ipv6
def test_refused_on_both_families_fails_both(lab: Lab) -> None:
    port = nf.closed_port()
    lab.name(["127.0.0.1"], ["::1"])
    seen = lab.doctor(port=port)
    expect(seen, statuses("net.ipv4", net_ipv6="fail"))
    assert seen.codes("net.ipv4") == ["TCP_REFUSED"] and seen.codes("net.ipv6") == ["TCP_REFUSED"]
    assert f"port {port} is refused on its IPv4 address (127.0.0.1)" in seen.finding(
        "net.ipv4", "TCP_REFUSED")["message"]
    assert seen.check("tls")["skipped_because"] == "needs net.ipv4 or net.ipv6, which ended with fail"
    assert seen.report["verdict"]["code"] == "TCP_REFUSED"


@needs_ipv6
def test_ipv6_refused_while_ipv4_works_is_a_warning_with_the_ipv4_fix(lab: Lab) -> None:
    server = lab.serve(nf.litellm())  # IPv4 only; nothing listens on [::1]:port
    lab.name(["127.0.0.1"], ["::1"])
    seen = lab.doctor(port=server.port)
    expect(seen, statuses(net_ipv6="warn"))
    assert seen.code == 0
    finding = seen.finding("net.ipv6", "IPV6_BROKEN")
    assert finding["severity"] == "warn"
    assert "IPv6 to gateway.test does not work (refused on ::1) while IPv4 does" in finding["message"]
    assert any('local_address="0.0.0.0"' in step for step in finding["fix"])
    assert any("curl -4" in step for step in finding["fix"])
    assert any("Happy Eyeballs" in step for step in finding["fix"])
    assert seen.check("egress")["data"]["addresses"] == {"ipv4": "127.0.0.1", "ipv6": None}
    strict = lab.doctor("--fail-on", "warn", port=server.port)
    assert strict.code == 1 and strict.report["verdict"]["code"] == "IPV6_BROKEN"


@needs_ipv6
def test_ipv4_black_hole_while_ipv6_works(lab: Lab) -> None:
    backlog = nf.FullBacklog("127.0.0.1")
    lab.closers.append(backlog)
    lab.serve(nf.litellm(), host="::1", port=backlog.port)
    lab.name(["127.0.0.1"], ["::1"])
    seen = lab.doctor(port=backlog.port)
    expect(seen, statuses(net_ipv4="warn"))
    finding = seen.finding("net.ipv4", "IPV4_BROKEN")
    assert "no answer (dropped) on 127.0.0.1" in finding["message"]
    assert any('local_address="::"' in step for step in finding["fix"])
    assert any("curl -6" in step for step in finding["fix"])
    assert seen.check("tls")["data"]["address"] == "::1"
    assert seen.check("http")["data"]["address"] == "::1"
    assert seen.check("egress")["data"]["addresses"] == {"ipv4": None, "ipv6": "::1"}


def test_full_backlog_is_a_timeout(lab: Lab) -> None:
    backlog = nf.FullBacklog("127.0.0.1")
    lab.closers.append(backlog)
    lab.name(["127.0.0.1"])
    seen = lab.doctor(port=backlog.port)
    expect(seen, statuses("net.ipv4", net_ipv6="skip"))
    finding = seen.finding("net.ipv4", "TCP_TIMEOUT")
    assert "got no answer within 1 s on its IPv4 address (127.0.0.1)" in finding["message"]
    assert seen.check("net.ipv4")["data"]["results"][0]["error"] == "timeout"


def test_one_bad_address_of_two_is_a_warning(lab: Lab) -> None:
    server = lab.serve(nf.litellm())
    lab.name(["127.0.0.1", "127.0.0.2"])
    seen = lab.doctor(port=server.port)
    expect(seen, statuses(net_ipv4="warn", net_ipv6="skip"))
    finding = seen.finding("net.ipv4", "TCP_REFUSED")
    assert finding["severity"] == "warn"
    assert "refused on 1 of 2 IPv4 addresses (127.0.0.2)" in finding["message"]
    assert seen.check("http")["data"]["address"] == "127.0.0.1"


def test_eight_addresses_are_probed_at_once(lab: Lab) -> None:
    first = nf.FullBacklog("127.0.0.1")
    backlogs = [first] + [nf.FullBacklog(f"127.0.0.{i}", first.port) for i in range(2, 9)]
    lab.closers.extend(backlogs)
    addresses = [f"127.0.0.{i}" for i in range(1, 9)]
    lab.name(addresses)
    seen = lab.doctor(port=first.port)
    expect(seen, statuses("net.ipv4", net_ipv6="skip"))
    results = seen.check("net.ipv4")["data"]["results"]
    assert sorted(r["address"] for r in results) == addresses
    assert {r["error"] for r in results} == {"timeout"}
    assert "every IPv4 address" in seen.finding("net.ipv4", "TCP_TIMEOUT")["message"]


def _r(address: str, error: str | None = None) -> ConnectResult:
    return ConnectResult(address, 443, error is None, 1.0, error, error or "")


def test_judge_no_route_on_ipv6_with_working_ipv4_is_information() -> None:
    [finding] = judge(6, [_r("2606:4700::1", "no_route")], [_r("104.18.0.1")], "h", 443, 5)
    assert finding.code == "IPV6_BROKEN" and finding.severity.value == "info"


def test_judge_both_families_dead_fails_with_the_kind() -> None:
    [finding] = judge(4, [_r("1.1.1.1", "timeout"), _r("1.0.0.1", "refused")],
                      [_r("::1", "timeout")], "h", 443, 5)
    assert finding.code == "TCP_TIMEOUT" and finding.severity.value == "fail"
    assert "every IPv4 address (1.1.1.1, 1.0.0.1)" in finding.message


def test_judge_all_good_has_no_findings() -> None:
    assert judge(4, [_r("1.1.1.1")], [], "h", 443, 5) == []
