"""No network, and DNS that does not answer, in network namespaces the tests build.

Each case is a real condition: a namespace with only loopback; one whose interface
has an address but no route out; a DNS server (our own, in the server namespace) that
drops queries or REFUSES them; a resolv.conf naming an address where no DNS server
listens, or with no nameserver line at all (`ip netns exec` mounts /etc/netns/<ns>/
resolv.conf and hosts over /etc). For each, the doctor runs inside the namespace and
the user's real clients are asked too: CBorg's documented OpenAI SDK example
(`OpenAI(api_key=os.environ["CBORG_API_KEY"], base_url=...)`, `client.models.list()`)
and curl. The doctor passes exactly when they work. No packet leaves the namespaces:
the only routes are the test's own veth link. Needs root and `ip netns`.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from cborg_doctor.osfacts import LiveOSFacts
from cborg_doctor.vpnclients import running_clients

from . import netfixtures as nf
from . import test_network_netns
from .doctor import clean_env
from .netscenario import NAME
from .test_network_netns import CLI4, SRV4, SRV6, Pair, _require, _run

pytestmark = pytest.mark.netns
pair = test_network_netns.pair  # the two-namespace fixture, reused as it is

CBORG = "https://api.cborg.lbl.gov"
TIMEOUT = 1.0
BOUND = 2 * TIMEOUT + 1  # one check's bound; the whole run is asserted loosely, as in
# tests/test_run_bound.py (under 4 × the bound: hangs and multiplied bounds, not speed)
RESOLV_OPTIONS = "options timeout:1 attempts:1\n"
# CBorg's documented example, with a short timeout and no retries: does the user's script work?
SDK_EXAMPLE = r"""
import os, sys
from openai import OpenAI
client = OpenAI(api_key=os.environ["CBORG_API_KEY"], base_url=sys.argv[1], timeout=3.0,
                max_retries=0)
try:
    client.models.list()
except Exception as exc:
    print(type(exc).__name__, exc)
    sys.exit(1)
print("ok")
"""


def models(request: nf.Request, conn: Any) -> None:
    """CBorg's gateway as the SDK sees it: `/models` lists models; the rest as LiteLLM."""
    if request.path.split("?", 1)[0] in ("/models", "/v1/models"):
        body = json.dumps({"object": "list", "data": [
            {"id": "lbl/cborg-chat", "object": "model", "created": 0, "owned_by": "lbl"}]})
        nf.respond(conn, 200, body, {**nf.cf_headers(), "content-type": "application/json"})
        return
    nf.litellm()(request, conn)


@dataclass(frozen=True)
class Clients:
    """What the user's own clients make of the same namespace."""

    sdk: subprocess.CompletedProcess[str]
    curl: subprocess.CompletedProcess[str]

    @property
    def work(self) -> bool:
        return self.sdk.returncode == 0 and self.curl.returncode == 0


@dataclass
class Run:
    code: int
    report: dict[str, Any]

    def check(self, check_id: str) -> dict[str, Any]:
        return next(c for c in self.report["checks"] if c["id"] == check_id)

    def finding(self, check_id: str, code: str) -> dict[str, Any]:
        return next(f for f in self.check(check_id)["findings"] if f["code"] == code)

    @property
    def failed(self) -> list[str]:
        return [c["id"] for c in self.report["checks"] if c["status"] == "fail"]


def doctor(ns: str, home: Path, key: str, *args: str, ca: Path | None = None) -> Run:
    env = clean_env(home, CBORG_API_KEY=key, **({"SSL_CERT_FILE": str(ca)} if ca else {}))
    proc = subprocess.run(
        ["ip", "netns", "exec", ns, sys.executable, "-m", "cborg_doctor", "--json", "--no-report",
         "--timeout", f"{TIMEOUT:g}", *args],
        env=env, cwd=str(home), capture_output=True, text=True, timeout=8 * BOUND,
    )
    assert proc.stdout, proc.stderr
    assert key not in proc.stdout + proc.stderr
    report = json.loads(proc.stdout)
    assert report["duration_ms"] < 4 * BOUND * 1000, report["duration_ms"]
    assert "error" not in {c["status"] for c in report["checks"]}, [
        (c["summary"], c["findings"]) for c in report["checks"] if c["status"] == "error"]
    return Run(proc.returncode, report)


def clients(ns: str, home: Path, key: str, base_url: str, ca: Path | None = None) -> Clients:
    env = clean_env(home, CBORG_API_KEY=key, **({"SSL_CERT_FILE": str(ca)} if ca else {}))
    exec_in = ["ip", "netns", "exec", ns]
    sdk = subprocess.run([*exec_in, sys.executable, "-c", SDK_EXAMPLE, base_url], env=env,
                         capture_output=True, text=True, timeout=30)
    assert key not in sdk.stdout + sdk.stderr
    curl = subprocess.run(
        [*exec_in, "curl", "-sS", "-o", "/dev/null", "--max-time", "3",
         *(("--cacert", str(ca)) if ca else ()), f"{base_url}/models"],
        env=env, capture_output=True, text=True, timeout=30)
    return Clients(sdk, curl)


def _expected_cause() -> str:
    """A VPN client running anywhere on this machine (another test's vpnagentd) changes the
    cause the doctor names, and rightly: it sees the processes of the whole machine."""
    names = LiveOSFacts().snapshot().processes or frozenset()
    return "vpn_dropped" if running_clients(names) else "no_route"


# ── no network at all ─────────────────────────────────────────────────────────────────


@dataclass
class Lonely:
    """A namespace with nothing but loopback (or one link without routes), and its /etc."""

    name: str
    etc: Path

    def etc_file(self, relative: str, text: str) -> None:
        path = self.etc / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


@pytest.fixture
def lonely() -> Iterator[Lonely]:
    _require()
    name = f"cdoff{uuid.uuid4().hex[:6]}"
    box = Lonely(name, Path("/etc/netns") / name)
    _run("ip", "netns", "add", name)
    try:
        _run("ip", "-n", name, "link", "set", "lo", "up")
        # A name server that would exist on a real network: no route leads to it here.
        box.etc_file("resolv.conf", f"nameserver 10.231.77.53\n{RESOLV_OPTIONS}")
        box.etc_file("hosts", "127.0.0.1 localhost\n")
        yield box
    finally:
        _run("ip", "netns", "del", name, check=False)
        shutil.rmtree(box.etc, ignore_errors=True)
        with contextlib.suppress(OSError):
            box.etc.parent.rmdir()  # only when no one else uses /etc/netns


def _only_network_down(run: Run, check_id: str = "dns") -> dict[str, Any]:
    assert run.code == 1
    assert run.failed == [check_id], [(c["id"], c["status"], c["findings"])
                                      for c in run.report["checks"]]
    assert run.report["status"] == "fail"
    assert run.report["verdict"]["code"] == "NETWORK_DOWN"
    assert run.report["verdict"]["check"] == check_id
    finding = run.finding(check_id, "NETWORK_DOWN")
    assert finding["severity"] == "fail"
    assert len(finding["fix"]) == 1  # the fix for the cause found, nothing else
    assert not any("SERVFAIL" in step or "resolv.conf" in step for step in finding["fix"])
    ran = {c["id"]: c["status"] for c in run.report["checks"]}
    for later in ("net.ipv4", "tls", "http", "egress", "auth"):
        if later in ran and (check_id == "dns" or later != "net.ipv4"):
            assert ran[later] == "skip", ran
    return finding


def test_only_loopback_is_network_down(lonely: Lonely, home: Path, canary_key: str) -> None:
    run = doctor(lonely.name, home, canary_key)
    finding = _only_network_down(run)
    assert finding["message"] == (
        "This machine has no network connection: no network interface is up except loopback, "
        "and there is no route to the name server 10.231.77.53 or to the Internet (Network is "
        "unreachable). The system resolver says \"Temporary failure in name resolution\".")
    assert finding["fix"][0].startswith("Connect to a network: turn Wi-Fi on")
    # platform.vpn says what happened to its lookup, not a timeout it never waited for.
    vpn = run.check("platform.vpn")
    assert "did not resolve: Temporary failure in name resolution" in vpn["summary"], vpn
    assert "within" not in vpn["summary"]
    # The user's clients agree: nothing works.
    seen = clients(lonely.name, home, canary_key, CBORG)
    assert not seen.work
    assert "APIConnectionError" in seen.sdk.stdout
    assert seen.curl.returncode == 6, seen.curl.stderr  # curl: could not resolve host


def test_unshare_loopback_only_is_network_down(home: Path, canary_key: str) -> None:
    """`unshare -n`: a private namespace with loopback down too (and the host's resolv.conf)."""
    _require()
    if shutil.which("unshare") is None:
        pytest.skip("needs unshare (util-linux)")
    env = clean_env(home, CBORG_API_KEY=canary_key)
    proc = subprocess.run(
        ["unshare", "-n", sys.executable, "-m", "cborg_doctor", "--json", "--no-report",
         "--only", "egress", "--timeout", f"{TIMEOUT:g}"],
        env=env, cwd=str(home), capture_output=True, text=True, timeout=8 * BOUND)
    assert canary_key not in proc.stdout + proc.stderr
    run = Run(proc.returncode, json.loads(proc.stdout))
    finding = _only_network_down(run)
    assert "no network interface is up except loopback" in finding["message"]


def test_address_but_no_route_out_is_network_down(
    lonely: Lonely, home: Path, canary_key: str,
) -> None:
    peer = f"{lonely.name}p"
    _run("ip", "netns", "add", peer)
    try:
        _run("ip", "-n", lonely.name, "link", "add", "eth0", "type", "veth", "peer", "name",
             "eth0", "netns", peer)
        _run("ip", "-n", lonely.name, "addr", "add", "192.168.77.20/24", "dev", "eth0")
        _run("ip", "-n", lonely.name, "link", "set", "eth0", "up")
        _run("ip", "-n", peer, "link", "set", "eth0", "up")
        cause = _expected_cause()
        run = doctor(lonely.name, home, canary_key)
        seen = clients(lonely.name, home, canary_key, CBORG)
    finally:
        _run("ip", "netns", "del", peer, check=False)
    finding = _only_network_down(run)
    assert finding["message"].startswith(
        "This machine has no network connection: eth0 has 192.168.77.20, but there is no route "
        "to the name server 10.231.77.53 or to the Internet (Network is unreachable)")
    if cause == "no_route":
        assert finding["fix"][0].startswith("Reconnect to the network so it gives this machine "
                                            "a gateway")
        assert "default route" in finding["fix"][0]
    else:
        assert finding["fix"][0].startswith("Reconnect the VPN (")
    assert not seen.work and "APIConnectionError" in seen.sdk.stdout


def test_vpn_dropped_with_its_routes(lonely: Lonely, home: Path, canary_key: str) -> None:
    """The VPN client still runs, its tunnel and routes are gone, the home link is up."""
    peer = f"{lonely.name}p"
    _run("ip", "netns", "add", peer)
    agent = subprocess.Popen(
        [sys.executable, "-c", "import ctypes, sys; ctypes.CDLL(None).prctl(15, b'vpnagentd', 0,"
         " 0, 0); print('ready', flush=True); sys.stdin.read()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert agent.stdout is not None and agent.stdout.readline().strip() == "ready"
        _run("ip", "-n", lonely.name, "link", "add", "wlan0", "type", "veth", "peer", "name",
             "wlan0", "netns", peer)
        _run("ip", "-n", lonely.name, "addr", "add", "192.168.77.20/24", "dev", "wlan0")
        _run("ip", "-n", lonely.name, "link", "set", "wlan0", "up")
        _run("ip", "-n", peer, "link", "set", "wlan0", "up")
        run = doctor(lonely.name, home, canary_key)
    finally:
        if agent.stdin:
            agent.stdin.close()
        agent.wait(timeout=10)
        _run("ip", "netns", "del", peer, check=False)
    finding = _only_network_down(run)
    assert "Cisco Secure Client (AnyConnect) is running and no tunnel is up" in finding["message"]
    assert finding["fix"] == [
        "Reconnect the VPN (Cisco Secure Client (AnyConnect)): when it dropped it took its "
        "routes with it. If it will not reconnect, quit it (its routes go with it) and "
        "reconnect to your network."]


def test_no_route_seen_first_by_tcp(lonely: Lonely, home: Path, canary_key: str) -> None:
    """The name resolves (hosts file), the connection cannot leave: net.ipv4 says it."""
    lonely.etc_file("hosts", "127.0.0.1 localhost\n198.51.100.10 api.cborg.lbl.gov\n")
    run = doctor(lonely.name, home, canary_key, "--only", "egress")
    finding = _only_network_down(run, "net.ipv4")
    assert run.check("dns")["status"] in ("pass", "warn")
    assert finding["message"] == (
        "This machine has no network connection: no network interface is up except loopback, "
        "and there is no route to the gateway's address 198.51.100.10 (Network is "
        "unreachable). Connecting to 198.51.100.10 gives \"Network is unreachable\".")
    assert run.check("net.ipv6")["status"] == "skip"
    seen = clients(lonely.name, home, canary_key, CBORG)
    assert not seen.work and seen.curl.returncode == 7, seen.curl.stderr  # could not connect


# ── DNS that does not answer, with a working network ─────────────────────────────────


def _routed(pair: Pair) -> int:
    """A default route through the server namespace (which forwards nothing), the gateway
    with /models, the hosts file without the gateway: a normal machine on a normal network."""
    _run("ip", "-n", pair.cli, "route", "add", "default", "via", SRV4)
    _run("ip", "-n", pair.cli, "-6", "route", "add", "default", "via", SRV6)
    pair.etc_file("hosts", "127.0.0.1 localhost\n")
    return pair.gateway(models)


def _resolv(pair: Pair, text: str) -> None:
    pair.etc_file("resolv.conf", text)


def _dns_run(pair: Pair, port: int) -> tuple[Run, Clients]:
    base = f"https://{NAME}:{port}"
    run = doctor(pair.cli, pair.home, pair.key, "--only", "egress", "--base-url", base,
                 ca=pair.pki.ca_file)
    return run, clients(pair.cli, pair.home, pair.key, base, ca=pair.pki.ca_file)


def _only_dns(run: Run, code: str) -> dict[str, Any]:
    assert run.code == 1
    assert run.failed == ["dns"], run.report["checks"]
    assert run.report["verdict"]["code"] == code
    return run.finding("dns", code)


def test_healthy_dns_through_resolv_conf_passes_like_the_clients(pair: Pair) -> None:
    port = _routed(pair)
    pair.dns({NAME: {"A": [SRV4], "AAAA": [SRV6]}}, port=53)
    _resolv(pair, f"nameserver {SRV4}\n{RESOLV_OPTIONS}")
    run, seen = _dns_run(pair, port)
    assert run.code == 0 and run.failed == [], run.report["checks"]
    assert seen.work, (seen.sdk.stdout, seen.curl.stderr)
    assert seen.sdk.stdout.strip() == "ok"


def test_dns_server_that_drops_queries(pair: Pair) -> None:
    port = _routed(pair)
    pair.dns({NAME: "drop"}, port=53)
    _resolv(pair, f"nameserver {SRV4}\n{RESOLV_OPTIONS}")
    run, seen = _dns_run(pair, port)
    finding = _only_dns(run, "DNS_TIMEOUT")
    assert finding["message"] == (
        f"No DNS answer for {NAME} within 1 s: the name server {SRV4} "
        "(from /etc/resolv.conf) did not answer.")
    assert len(finding["fix"]) == 2 and f"Check that the name server {SRV4}" in finding["fix"][0]
    assert not any("SERVFAIL" in s or "dnsTunneling" in s for s in finding["fix"])
    assert not seen.work and "APIConnectionError" in seen.sdk.stdout


def test_dns_server_that_refuses(pair: Pair) -> None:
    port = _routed(pair)
    pair.dns({NAME: "refused"}, port=53)
    _resolv(pair, f"nameserver {SRV4}\n{RESOLV_OPTIONS}")
    run, seen = _dns_run(pair, port)
    finding = _only_dns(run, "DNS_FAILED")
    assert finding["message"] == (
        f"The DNS lookup of {NAME} failed: the name server {SRV4} "
        "(from /etc/resolv.conf) REFUSED the query.")
    assert finding["fix"] == [
        f"Use a DNS server that serves you: the name server {SRV4} (from /etc/resolv.conf) "
        "refuses to answer this machine, it serves only its own network (often one left behind "
        "by a VPN or another network). Reconnect to the network or the VPN so that it gives you "
        "one, or set a working server in /etc/resolv.conf (or your network settings)."]
    assert not seen.work and "APIConnectionError" in seen.sdk.stdout


def test_no_dns_server_where_resolv_conf_points(pair: Pair) -> None:
    port = _routed(pair)  # the server namespace is up, but nothing listens on port 53
    _resolv(pair, f"nameserver {SRV4}\n{RESOLV_OPTIONS}")
    run, seen = _dns_run(pair, port)
    finding = _only_dns(run, "DNS_FAILED")
    assert finding["message"] == (
        f"The DNS lookup of {NAME} failed: nothing listens for DNS at the name server {SRV4} "
        "(from /etc/resolv.conf) (port unreachable).")
    assert len(finding["fix"]) == 1 and "systemctl start systemd-resolved" in finding["fix"][0]
    assert not seen.work and "APIConnectionError" in seen.sdk.stdout


def test_resolv_conf_without_a_nameserver_line(pair: Pair) -> None:
    port = _routed(pair)
    pair.dns({NAME: {"A": [SRV4], "AAAA": [SRV6]}}, port=53)  # there, but not configured
    _resolv(pair, f"search example.test\n{RESOLV_OPTIONS}")
    run, seen = _dns_run(pair, port)
    finding = _only_dns(run, "DNS_FAILED")
    assert finding["message"] == (
        f"The DNS lookup of {NAME} failed: no name server is "
        "configured (/etc/resolv.conf has no nameserver line).")
    assert finding["fix"] == [
        "Put your network's DNS server in /etc/resolv.conf as a line `nameserver <address>`, or "
        "reconnect the network so that its manager (NetworkManager, systemd-resolved, DHCP) "
        "writes it again."]
    assert not seen.work and "APIConnectionError" in seen.sdk.stdout


def test_nameserver_option_names_the_silent_server(pair: Pair) -> None:
    port = _routed(pair)
    dns = pair.dns({NAME: "drop"})
    base = f"https://{NAME}:{port}"
    run = doctor(pair.cli, pair.home, pair.key, "--only", "egress", "--base-url", base,
                 "--nameserver", dns.arg, ca=pair.pki.ca_file)
    finding = _only_dns(run, "DNS_TIMEOUT")
    assert finding["message"].endswith(
        f"within 1 s: the name server {dns.arg} (given with --nameserver) did not answer.")
    assert CLI4 not in finding["message"]
