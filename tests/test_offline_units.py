"""Pure classification for no network and silent DNS: errno, glibc EAI_*, dnspython
exceptions → kind (cborg_doctor.probes.errors) → code (next to each check's codes), the
NETWORK_DOWN judgement from interfaces and routes, and fix steps per cause."""

from __future__ import annotations

import errno
import io
import socket

import dns.exception
import dns.message
import dns.rcode
import dns.resolver
import pytest
from cborg_doctor_checks.net import dns as dns_check
from cborg_doctor_checks.net import offline
from cborg_doctor_checks.net.tcp import TCP_CODE
from hypothesis import given
from hypothesis import strategies as st

from cborg_doctor.findings import Cause, Code, Severity
from cborg_doctor.osfacts import Address, Interface, Resolution, Snapshot
from cborg_doctor.probes import errors
from cborg_doctor.probes.resolve import Answer, Lookup
from cborg_doctor.probes.route import LocalRoute

# ── exception → kind ──────────────────────────────────────────────────────────────────


@pytest.mark.parametrize(("name", "kind"), [
    ("EAI_NONAME", "nxdomain"),
    ("EAI_AGAIN", "dns"),  # "Temporary failure in name resolution": says nothing more
    ("EAI_FAIL", "dns"),
    ("EAI_NODATA", "no_answer"),
    ("EAI_ADDRFAMILY", "no_answer"),
])
def test_getaddrinfo_errors(name: str, kind: str) -> None:
    number = getattr(socket, name, None)
    if number is None:
        pytest.skip(f"this platform's libc has no {name}")
    exc = socket.gaierror(number, "words")
    assert errors.classify_gai_error(exc) == kind
    assert errors.classify(exc) == kind


def _response(rcode: int) -> dns.message.Message:
    response = dns.message.make_response(dns.message.make_query("gw.test", "A"))
    response.set_rcode(rcode)
    return response


def _no_nameservers(*attempts: tuple[str, object, object]) -> dns.resolver.NoNameservers:
    request = dns.message.make_query("gw.test", "A")
    return dns.resolver.NoNameservers(request=request, errors=[
        (server, False, int(server.rsplit("@", 1)[1]), error, answer)
        for server, error, answer in attempts])


UNREACHABLE = OSError(errno.ENETUNREACH, "Network is unreachable")
HOST_UNREACHABLE = OSError(errno.EHOSTUNREACH, "No route to host")
PORT_CLOSED = ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused")


@pytest.mark.parametrize(("exc", "kind"), [
    (dns.resolver.NXDOMAIN(), "nxdomain"),
    (dns.resolver.NoAnswer(), "no_answer"),
    (dns.resolver.NoResolverConfiguration("no nameservers"), "no_nameserver"),
    (dns.resolver.LifetimeTimeout(timeout=1.0, errors=[]), "timeout"),
    (dns.exception.Timeout(), "timeout"),
    (_no_nameservers(("Do53:10.0.0.1@53", None, _response(dns.rcode.SERVFAIL))), "servfail"),
    (_no_nameservers(("Do53:10.0.0.1@53", None, _response(dns.rcode.REFUSED))), "refused_dns"),
    # No server answered: the socket's own error names the kind (this was "SERVFAIL").
    (_no_nameservers(("Do53:10.0.0.1@53", UNREACHABLE, None)), "dns_unreachable"),
    (_no_nameservers(("Do53:10.0.0.1@53", HOST_UNREACHABLE, None)), "dns_unreachable"),
    (_no_nameservers(("Do53:10.0.0.1@53", PORT_CLOSED, None)), "dns_closed"),
    # An answer says more than silence: SERVFAIL from one, no route to the other.
    (_no_nameservers(("Do53:10.0.0.1@53", UNREACHABLE, None),
                     ("Do53:10.0.0.2@53", None, _response(dns.rcode.SERVFAIL))), "servfail"),
    (UNREACHABLE, "dns_unreachable"),
    (ValueError("odd"), "dns"),
])
def test_dnspython_errors(exc: BaseException, kind: str) -> None:
    assert errors.classify_dns_error(exc) == kind


def test_each_server_is_named_as_the_doctor_prints_it() -> None:
    exc = _no_nameservers(("Do53:10.0.0.1@53", UNREACHABLE, None),
                          ("Do53:127.0.0.1@5353", PORT_CLOSED, None),
                          ("Do53:::1@5353", None, _response(dns.rcode.REFUSED)))
    assert errors.server_errors(exc) == [("10.0.0.1", "dns_unreachable"),
                                         ("127.0.0.1:5353", "dns_closed"),
                                         ("[::1]:5353", "refused_dns")]


@pytest.mark.parametrize(("exc", "kind"), [
    (PORT_CLOSED, "dns_closed"), (UNREACHABLE, "dns_unreachable"),
    (TimeoutError("timed out"), "timeout"), (OSError(errno.EIO, "I/O error"), "dns"),
])
def test_socket_errors_met_while_asking_a_name_server(exc: OSError, kind: str) -> None:
    assert errors.dns_socket_kind(exc) == kind


attempt = st.tuples(
    st.sampled_from(["Do53:10.0.0.1@53", "Do53:::1@5353", "odd", ""]),
    st.sampled_from([None, UNREACHABLE, PORT_CLOSED, TimeoutError(), ValueError("x")]),
    st.sampled_from([None, _response(dns.rcode.SERVFAIL), _response(dns.rcode.REFUSED),
                     _response(dns.rcode.NOERROR), "garbage"]),
)


@given(st.lists(attempt, max_size=6))
def test_any_recorded_attempts_classify_to_a_known_kind(attempts: list) -> None:
    exc = dns.resolver.NoNameservers(request=dns.message.make_query("gw.test", "A"),
                                     errors=[(s, False, 53, e, a) for s, e, a in attempts])
    assert errors.classify_dns_error(exc) in dns_check.DNS_CODE
    for server, kind in errors.server_errors(exc):
        assert isinstance(server, str) and kind in dns_check.DNS_CODE


# ── kind → code, per check family ────────────────────────────────────────────────────


def test_every_dns_kind_has_a_code_and_its_own_fix() -> None:
    codes = {code.code: code for code in dns_check.CODES}
    for kind, name in dns_check.DNS_CODE.items():
        code = codes[name]
        if code.causes and kind != "nxdomain" and name != "NETWORK_DOWN":
            assert kind in code.causes, (kind, name)
    assert TCP_CODE == {"refused": "TCP_REFUSED", "timeout": "TCP_TIMEOUT", "no_route": "NO_ROUTE"}


@pytest.mark.parametrize("code", [c for c in dns_check.CODES if c.causes], ids=lambda c: c.code)
def test_a_cause_gets_only_its_own_steps(code: Code) -> None:
    for cause, declared in code.causes.items():
        host = "api-local.cborg.lbl.gov" if cause == "local_only" else "api.cborg.lbl.gov"
        finding = dns_check.for_host(code.finding(cause=cause), host)
        others = {step for other, c in code.causes.items()
                  if other not in (cause, "unknown") for step in c.fix}
        assert finding.fix
        if cause != "unknown":  # only an unreadable hosts file leaves every step possible
            assert not others & set(declared.fix), (code.code, cause)
        assert len(finding.fix) == len(declared.fix), (code.code, cause, finding.fix)
        if cause != "servfail":
            assert not any("SERVFAIL" in step for step in finding.fix), (code.code, cause)


@pytest.mark.parametrize(("host", "proxy", "cause"), [
    ("api.cborg.lbl.gov", False, "filtered"), ("API.cborg.lbl.gov.", False, "filtered"),
    ("api-local.cborg.lbl.gov", False, "local_only"), ("api.cborg.lbl.go", False, "typo"),
    ("proxy.corp.test", True, "proxy"),
])
def test_nxdomain_cause_by_host(host: str, proxy: bool, cause: str) -> None:
    assert dns_check.nxdomain_cause(host, proxy) == cause
    assert cause in dns_check.DNS_NXDOMAIN.causes


def test_inconsistent_answers_name_the_cause_found() -> None:
    system = Lookup("gw.test", "system", Answer(("10.0.0.99",)), Answer(error="no_answer"))
    direct = Lookup("gw.test", "nameserver", Answer(("10.0.0.1",)), Answer(error="no_answer"),
                    servers=("10.0.0.53",))
    stale = dns_check.disagreement(system, direct, "10.0.0.99 gw.test")
    assert stale is not None and stale.fix == (
        "Remove the line `10.0.0.99 gw.test` from /etc/hosts: it sends gw.test to 10.0.0.99, "
        "away from what DNS gives (10.0.0.1).",)
    assert stale.message.endswith(" /etc/hosts has `10.0.0.99 gw.test`.")
    assert dns_check.disagreement(system, direct, "", vpn=True).fix == (dns_check._SPLIT_STEP,)
    assert dns_check.disagreement(system, direct, "").fix == (dns_check._CACHE_STEP,)
    assert len(dns_check.disagreement(system, direct).fix) == 3  # hosts file unknown
    silent = _lookup("timeout", method="nameserver", servers=("10.0.0.53",))
    quiet = dns_check.disagreement(system, silent, "")
    assert quiet is not None and quiet.severity is Severity.INFO
    assert quiet.fix[0].startswith("Nothing to do while your clients connect")


def _lookup(kind: str, detail: str = "", method: str = "system",
            servers: tuple[str, ...] = (), source: str = "") -> Lookup:
    bad = Answer(error=kind, detail=detail, servers=tuple((s, kind) for s in servers))
    return Lookup("gw.test", method, bad, bad, servers=servers, source=source)


def test_resolv_conf_without_nameservers_gets_only_that_fix() -> None:
    system = _lookup("dns", "Temporary failure in name resolution")
    direct = _lookup("no_nameserver", "/etc/resolv.conf has no nameserver line",
                     method="nameserver", source="/etc/resolv.conf")
    finding = dns_check.failure(system, "gw.test", 1.0, direct)
    assert finding.code == "DNS_FAILED"
    assert finding.message == ("The DNS lookup of gw.test failed: no name server is configured "
                               "(/etc/resolv.conf has no nameserver line).")
    assert finding.fix == ("Put your network's DNS server in /etc/resolv.conf as a line "
                           "`nameserver <address>`, or reconnect the network so that its manager "
                           "(NetworkManager, systemd-resolved, DHCP) writes it again.",)
    assert "SERVFAIL" not in " ".join(finding.fix)


def test_a_silent_server_is_named_with_where_it_was_configured() -> None:
    system = _lookup("timeout", "the system resolver gave no answer in 1 s")
    direct = _lookup("timeout", "no answer in 1 s", method="nameserver",
                     servers=("10.9.0.53", "10.9.0.54"), source="/etc/resolv.conf")
    finding = dns_check.failure(system, "gw.test", 1.0, direct)
    assert finding.message == ("No DNS answer for gw.test within 1 s: the name servers "
                               "10.9.0.53, 10.9.0.54 (from /etc/resolv.conf) did not answer.")
    chosen = _lookup("timeout", method="nameserver", servers=("127.0.0.1:5353",),
                     source="--nameserver")
    assert "the name server 127.0.0.1:5353 (given with --nameserver) did not answer" in (
        dns_check.failure(chosen, "gw.test", 1.0).message)


def test_the_system_resolvers_own_words_when_dns_itself_answers() -> None:
    system = _lookup("dns", "Temporary failure in name resolution")
    finding = dns_check.failure(system, "gw.test", 1.0)
    assert finding.message == ('The DNS lookup of gw.test failed: the system resolver says '
                               '"Temporary failure in name resolution".')
    assert len(finding.fix) == 1 and "systemd-resolved" in finding.fix[0]


# ── NETWORK_DOWN from interfaces and routes ──────────────────────────────────────────

LO = Interface("lo", True, (Address("ipv4", "127.0.0.1"), Address("ipv6", "::1")))
ETH = Interface("eth0", True, (Address("ipv4", "192.168.1.20"), Address("ipv6", "fe80::1")))
BARE = Interface("wlan0", True, (Address("ipv6", "fe80::2"),))
DOWN = Interface("eth1", False, (Address("ipv4", "10.0.0.9"),))
NO_ROUTE = LocalRoute("198.51.100.1", None, "no_route", "Network is unreachable")
ROUTE = LocalRoute("198.51.100.1", "192.168.1.20")
UNKNOWN = LocalRoute("198.51.100.1", None, "unknown")


def _snap(*interfaces: Interface) -> Snapshot:
    return Snapshot(tuple(interfaces), frozenset())


@pytest.mark.parametrize(("interfaces", "routes", "vpn", "cause"), [
    ((LO, ETH), [ROUTE], (), None),
    ((LO, ETH), [NO_ROUTE, UNKNOWN], (), None),  # unknown is not "no route"
    ((LO, ETH), [], (), None),
    ((LO,), [NO_ROUTE], (), "no_interface"),
    ((LO, DOWN), [NO_ROUTE], (), "no_interface"),
    ((LO, BARE), [NO_ROUTE], (), "no_address"),
    ((LO, ETH), [NO_ROUTE], (), "no_route"),
    ((LO, ETH), [NO_ROUTE], ("Cisco Secure Client (AnyConnect)",), "vpn_dropped"),
])
def test_offline_judgement(interfaces: tuple[Interface, ...], routes: list[LocalRoute],
                           vpn: tuple[str, ...], cause: str | None) -> None:
    found = offline.judge(_snap(*interfaces), [("the Internet", r) for r in routes], vpn)
    assert (found.cause if found else None) == cause


def test_offline_says_what_it_saw_and_the_fix_for_that_cause() -> None:
    routes = [("the name server 10.0.0.53", NO_ROUTE), ("the Internet", NO_ROUTE)]
    found = offline.judge(_snap(LO, ETH), routes)
    assert found is not None
    finding = offline.finding(found, ['The system resolver says "Temporary failure in name '
                                      'resolution".'])
    assert finding.code == "NETWORK_DOWN" and finding.severity is Severity.FAIL
    assert finding.message == (
        "This machine has no network connection: eth0 has 192.168.1.20, but there is no route "
        "to the name server 10.0.0.53 or to the Internet (Network is unreachable). The system "
        'resolver says "Temporary failure in name resolution".')
    assert finding.fix == offline.NETWORK_DOWN.causes["no_route"].fix
    bare = offline.finding(offline.judge(_snap(LO, BARE), routes))  # type: ignore[arg-type]
    assert "wlan0" in bare.fix[0] and "<interface" not in bare.fix[0]
    off = offline.judge(_snap(LO, DOWN), routes)
    assert off is not None and off.seen.startswith("no network interface is up except loopback "
                                                  "(eth1 is down), and there is no route")
    assert "`sudo ip link set eth1 up`" in offline.finding(off).fix[0]
    alone = offline.finding(offline.judge(_snap(LO), routes))  # type: ignore[arg-type]
    assert alone.fix == ("Connect to a network: turn Wi-Fi on or plug in the network cable "
                         "(Linux: `nmcli radio wifi on`), then run the doctor again.",)


def test_unknown_interfaces_still_name_the_missing_route() -> None:
    found = offline.judge(Snapshot(None, None), [("the Internet", NO_ROUTE)])
    assert found is not None and found.cause == "no_route"
    assert found.seen == "there is no route to the Internet (Network is unreachable)"


# ── fix steps per cause: the Code, and --explain ─────────────────────────────────────


def test_a_finding_carries_only_the_steps_of_its_cause() -> None:
    code = Code("X_FAILED", Severity.FAIL, "{what}", fix=("common {what}",), causes={
        "a": Cause("a happened", ("fix a {what}",)), "b": Cause("b happened", ("fix b",))})
    assert code.finding(cause="a", what="w").fix == ("fix a w", "common w")
    assert code.finding(cause="b").fix == ("fix b", "common <what>")
    assert code.finding().fix == ("common <what>",)
    assert hash(code)  # still usable as a key


def test_explain_prints_every_cause_with_its_steps() -> None:
    from cborg_doctor.cli import explain
    from cborg_doctor.registry import load_registry

    out = io.StringIO()
    explain(load_registry(), "DNS_FAILED", out)
    text = out.getvalue()
    assert "When the name server answered SERVFAIL:\n  1. Try again in a minute" in text
    assert "When no name server is configured:\n  1. Put your network's DNS server" in text
    out = io.StringIO()
    explain(load_registry(), "NETWORK_DOWN", out)
    assert "When no network interface but loopback is up:\n  1. Connect to a network" in (
        out.getvalue())


# ── platform.vpn: why the name did not resolve ───────────────────────────────────────


def test_resolution_says_what_happened() -> None:
    assert Resolution(error="timeout", seconds=3.0).why() == "did not resolve within 3 s"
    assert Resolution(error="Temporary failure in name resolution").why() == (
        "did not resolve: Temporary failure in name resolution")
    assert Resolution(("10.0.0.1",)).addresses == ("10.0.0.1",)


# ── the route lookups, through recorded OS facts ─────────────────────────────────────


def _context(routes: dict) -> object:
    from cborg_doctor.options import Options
    from cborg_doctor.osfacts import RecordedOSFacts
    from cborg_doctor.session import build_context

    facts = RecordedOSFacts(psutil={
        "net_if_addrs": {"lo": [{"family": "AF_INET", "address": "127.0.0.1"}],
                         "eth0": [{"family": "AF_INET", "address": "192.168.1.20"}]},
        "net_if_stats": {"lo": {"isup": True}, "eth0": {"isup": True}}, "processes": []},
        routes=routes)
    return build_context(Options(base_url="https://api.cborg.lbl.gov"), env={}, osfacts=facts)


def test_an_ipv4_machine_without_ipv6_is_not_offline() -> None:
    """An IPv6-only gateway with no IPv6 route here is NO_ROUTE, not NETWORK_DOWN."""
    ctx = _context({"2001:db8:cb::10": {"error": "no_route"}, offline.OUTSIDE[0]: "192.168.1.20",
                    offline.OUTSIDE[1]: {"error": "no_route"}})
    gateway = [("the gateway's address 2001:db8:cb::10", "2001:db8:cb::10")]
    assert offline.offline(ctx, gateway, name_outside=False) is None  # type: ignore[arg-type]


def test_no_route_anywhere_is_offline_and_names_only_what_was_asked() -> None:
    ctx = _context({"2001:db8:cb::10": {"error": "no_route"},
                    offline.OUTSIDE[0]: {"error": "no_route"},
                    offline.OUTSIDE[1]: {"error": "no_route"}})
    gateway = [("the gateway's address 2001:db8:cb::10", "2001:db8:cb::10")]
    found = offline.offline(ctx, gateway, name_outside=False)  # type: ignore[arg-type]
    assert found is not None and found.cause == "no_route"
    assert found.seen == ("eth0 has 192.168.1.20, but there is no route to the gateway's "
                          "address 2001:db8:cb::10 (Network is unreachable)")
    # A route the recording does not know is unknown, never "no route".
    assert offline.offline(_context({}), gateway) is None  # type: ignore[arg-type]
