"""`probes.resolve` against a real DNS server on loopback, and the local hosts file."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from cborg_doctor.probes.resolve import Answer, Lookup, direct_lookup, literal_lookup, system_lookup

from . import netfixtures as nf


@pytest.fixture
def dns() -> Iterator[nf.DnsServer]:
    server = nf.DnsServer({
        "both.test": {"A": ["127.0.0.1", "127.0.0.2"], "AAAA": ["::1"]},
        "v4.test": {"A": ["127.0.0.3"]},
        "gone.test": "nxdomain",
        "broken.test": "servfail",
        "closed.test": "refused",
        "silent.test": "drop",
    }).start()
    yield server
    server.stop()


def _ask(dns: nf.DnsServer, name: str) -> Lookup:
    return direct_lookup(name, [(dns.host, dns.port)], 0.5)


def test_answers_and_their_order(dns: nf.DnsServer) -> None:
    found = _ask(dns, "both.test")
    assert found.ok and found.error is None
    assert set(found.a.addresses) == {"127.0.0.1", "127.0.0.2"}
    assert found.aaaa.addresses == ("::1",)
    assert found.addresses[0] == "::1"  # IPv6 first, as getaddrinfo orders on a dual-stack host
    assert found.to_fact()["ipv6"] == ["::1"] and found.to_fact()["source"] == "nameserver"
    assert found.servers == (f"127.0.0.1:{dns.port}",)


def test_missing_aaaa_is_no_answer(dns: nf.DnsServer) -> None:
    found = _ask(dns, "v4.test")
    assert found.ok and found.aaaa.error == "no_answer"


@pytest.mark.parametrize(("name", "kind"), [("gone.test", "nxdomain"), ("broken.test", "servfail"),
                                            ("closed.test", "refused_dns"), ("silent.test", "timeout")])
def test_failures(dns: nf.DnsServer, name: str, kind: str) -> None:
    found = _ask(dns, name)
    assert not found.ok and found.error == kind


def test_no_name_server_listening() -> None:
    port = nf.closed_port()
    found = direct_lookup("any.test", [("127.0.0.1", port)], 0.5)
    assert not found.ok and found.error == "dns_closed"
    assert found.detail == f"nothing listens for DNS at 127.0.0.1:{port} (port unreachable)"
    assert found.failed_servers == ((f"127.0.0.1:{port}", "dns_closed"),)


def test_a_silent_server_stays_a_timeout_and_is_named(dns: nf.DnsServer) -> None:
    found = _ask(dns, "silent.test")
    assert found.error == "timeout"
    assert found.failed_servers == ((f"127.0.0.1:{dns.port}", "timeout"),)
    assert found.source == "--nameserver"


def test_localhost_comes_from_the_hosts_file() -> None:
    found = system_lookup("localhost", 443, 2.0)
    assert found.method == "system" and "127.0.0.1" in found.a.addresses


def test_literals_need_no_lookup() -> None:
    assert literal_lookup("[::1]").aaaa.addresses == ("::1",)
    assert literal_lookup("127.0.0.1").to_fact()["order"] == ["127.0.0.1"]


def test_error_priority_when_families_fail_differently() -> None:
    found = Lookup("h", "nameserver", Answer(error="timeout"), Answer(error="nxdomain"))
    assert found.error == "nxdomain"
