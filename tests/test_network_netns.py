"""Network scenarios in namespaces the test builds: broken families, no IPv6 route,
a stale hosts entry, a corporate CA in the OS trust store.

Two namespaces joined by a veth pair: "srv" holds the gateway (HTTPS on IPv4 and
IPv6) and a DNS server, "cli" runs the doctor. Faults are real: nft DROP rules,
IPv6 switched off on the client's link, /etc/netns/<cli>/hosts and ssl/ (which
`ip netns exec` mounts over /etc/hosts and /etc/ssl). No packet leaves the two
namespaces. Needs root, `ip netns` and nft; skipped otherwise.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import shutil
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest

from . import netfixtures as nf
from .doctor import clean_env
from .netscenario import NAME, NETWORK_CHECKS, statuses

pytestmark = pytest.mark.netns

T = TypeVar("T")
SRV4, CLI4 = "10.231.0.1", "10.231.0.2"
SRV6, CLI6 = "fd00:231::1", "fd00:231::2"
CLONE_NEWNET = 0x40000000


def _run(*cmd: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, check=check, capture_output=True, text=True, timeout=30)


def in_namespace(name: str, make: Callable[[], T]) -> T:
    """Call `make` in a thread that joined namespace `name`: sockets it opens live there."""
    box: list[Any] = []

    def work() -> None:
        libc = ctypes.CDLL(None, use_errno=True)
        fd = os.open(f"/var/run/netns/{name}", os.O_RDONLY)
        try:
            if libc.setns(fd, CLONE_NEWNET) != 0:
                box.append(OSError(ctypes.get_errno(), "setns failed"))
                return
            box.append(make())
        except Exception as exc:
            box.append(exc)
        finally:
            os.close(fd)

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    if isinstance(box[0], Exception):
        raise box[0]
    return box[0]


@dataclass
class Pair:
    srv: str
    cli: str
    tmp: Path
    home: Path
    key: str
    pki: nf.Pki = field(init=False)
    closers: list[Any] = field(default_factory=list)
    etc: Path | None = None

    def __post_init__(self) -> None:
        self.pki = nf.make_pki(self.tmp)

    def gateway(self, handler: nf.Handler | None = None, pki: nf.Pki | None = None) -> int:
        """HTTPS on SRV4 and SRV6 (one port) inside the server namespace."""
        context = (pki or self.pki).server_context(NAME)
        first = in_namespace(self.srv, lambda: nf.HttpServer(handler or nf.litellm(), SRV4,
                                                             tls=context))
        second = in_namespace(self.srv, lambda: nf.HttpServer(handler or nf.litellm(), SRV6,
                                                              tls=context, port=first.port))
        self.closers += [first, second]
        return first.port

    def dns(self, zone: dict[str, Any], port: int = 0) -> nf.DnsServer:
        server = in_namespace(self.srv, lambda: nf.DnsServer(zone, host=SRV4, bind_port=port).start())
        self.closers.append(server)
        return server

    def nft(self, ns: str, rules: str) -> None:
        subprocess.run(["ip", "netns", "exec", ns, "nft", "-f", "-"], input=rules, text=True,
                       check=True, capture_output=True, timeout=30)

    def drop_to(self, address: str) -> None:
        """Black-hole TCP from the client to `address`: SYNs vanish, nothing answers."""
        family = "ip6" if ":" in address else "ip"
        self.nft(self.cli, "table inet cdtest {\n chain out {\n"
                 "  type filter hook output priority 0;\n"
                 f"  {family} daddr {address} tcp dport 1-65535 drop\n }}\n}}\n")

    def etc_file(self, relative: str, text: str) -> None:
        """A file that `ip netns exec` mounts over /etc/<relative> in the client namespace."""
        self.etc = Path("/etc/netns") / self.cli
        path = self.etc / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)

    def doctor(self, *args: str, env: dict[str, str] | None = None,
               trust_lab_ca: bool = True) -> tuple[int, dict[str, Any], str]:
        full = clean_env(self.home, CBORG_API_KEY=self.key, **(env or {}))
        if trust_lab_ca:
            full["SSL_CERT_FILE"] = str(self.pki.ca_file)
        proc = subprocess.run(
            ["ip", "netns", "exec", self.cli, sys.executable, "-m", "cborg_doctor", "--json",
             "--no-report", "--only", "egress", "--timeout", "1", *args],
            env=full, cwd=str(self.home), capture_output=True, text=True, timeout=120,
        )
        assert proc.stdout, proc.stderr
        assert self.key not in proc.stdout + proc.stderr
        return proc.returncode, json.loads(proc.stdout), proc.stderr


def _require() -> None:
    if os.name != "posix" or os.geteuid() != 0:
        pytest.skip("needs root to build network namespaces")
    for tool in ("ip", "nft"):
        if shutil.which(tool) is None:
            pytest.skip(f"needs {tool}")
    probe = f"cdprobe{uuid.uuid4().hex[:6]}"
    if _run("ip", "netns", "add", probe, check=False).returncode != 0:
        pytest.skip("`ip netns add` does not work here")
    _run("ip", "netns", "del", probe, check=False)


@pytest.fixture
def pair(tmp_path: Path, home: Path, canary_key: str) -> Iterator[Pair]:
    _require()
    tag = uuid.uuid4().hex[:6]
    srv, cli = f"cdsrv{tag}", f"cdcli{tag}"
    made: list[str] = []
    built = Pair(srv, cli, tmp_path, home, canary_key)
    try:
        for ns in (srv, cli):
            _run("ip", "netns", "add", ns)
            made.append(ns)
            _run("ip", "-n", ns, "link", "set", "lo", "up")
        _run("ip", "link", "add", f"cdv{tag}a", "netns", srv, "type", "veth", "peer", "name",
             f"cdv{tag}b", "netns", cli)
        for ns, dev, v4, v6 in ((srv, f"cdv{tag}a", SRV4, SRV6), (cli, f"cdv{tag}b", CLI4, CLI6)):
            _run("ip", "-n", ns, "addr", "add", f"{v4}/24", "dev", dev)
            _run("ip", "-n", ns, "addr", "add", f"{v6}/64", "dev", dev, "nodad")
            _run("ip", "-n", ns, "link", "set", dev, "up")
        yield built
    finally:
        for closer in built.closers:
            with contextlib.suppress(Exception):
                (closer.stop if isinstance(closer, nf.DnsServer) else closer.close)()
        for ns in made:
            _run("ip", "netns", "del", ns, check=False)
        if built.etc is not None:
            shutil.rmtree(built.etc, ignore_errors=True)
            with contextlib.suppress(OSError):
                built.etc.parent.rmdir()  # only when no one else uses /etc/netns


def _statuses(report: dict[str, Any]) -> dict[str, str]:
    return {c["id"]: c["status"] for c in report["checks"] if c["id"] in NETWORK_CHECKS}


def _check(report: dict[str, Any], check_id: str) -> dict[str, Any]:
    return next(c for c in report["checks"] if c["id"] == check_id)


def _finding(report: dict[str, Any], check_id: str, code: str) -> dict[str, Any]:
    return next(f for f in _check(report, check_id)["findings"] if f["code"] == code)


def _gateway_with_dns(pair: Pair) -> tuple[int, nf.DnsServer]:
    port = pair.gateway()
    dns = pair.dns({NAME: {"A": [SRV4], "AAAA": [SRV6]}})
    return port, dns


def test_healthy_path_through_the_namespaces(pair: Pair) -> None:
    port, dns = _gateway_with_dns(pair)
    code, report, _ = pair.doctor("--base-url", f"https://{NAME}:{port}", "--nameserver", dns.arg)
    assert _statuses(report) == statuses(), report
    assert code == 0
    assert _check(report, "egress")["data"]["addresses"] == {"ipv4": CLI4, "ipv6": CLI6}


def test_ipv6_black_holed_while_ipv4_works(pair: Pair) -> None:
    port, dns = _gateway_with_dns(pair)
    pair.drop_to(SRV6)
    code, report, _ = pair.doctor("--base-url", f"https://{NAME}:{port}", "--nameserver", dns.arg)
    assert _statuses(report) == statuses(net_ipv6="warn"), report
    assert code == 0
    finding = _finding(report, "net.ipv6", "IPV6_BROKEN")
    assert finding["severity"] == "warn"
    assert f"no answer (dropped) on {SRV6}" in finding["message"]
    assert any('local_address="0.0.0.0"' in step for step in finding["fix"])
    assert _check(report, "http")["data"]["address"] == SRV4
    assert _check(report, "egress")["data"]["addresses"] == {"ipv4": CLI4, "ipv6": None}


def test_ipv4_black_holed_while_ipv6_works(pair: Pair) -> None:
    port, dns = _gateway_with_dns(pair)
    pair.drop_to(SRV4)
    code, report, _ = pair.doctor("--base-url", f"https://{NAME}:{port}", "--nameserver", dns.arg)
    assert _statuses(report) == statuses(net_ipv4="warn"), report
    assert code == 0
    finding = _finding(report, "net.ipv4", "IPV4_BROKEN")
    assert any("curl -6" in step for step in finding["fix"])
    assert _check(report, "tls")["data"]["address"] == SRV6
    assert _check(report, "egress")["data"]["addresses"] == {"ipv4": None, "ipv6": CLI6}


def test_no_ipv6_route_at_all(pair: Pair) -> None:
    port, dns = _gateway_with_dns(pair)
    dev = next(line.split(":")[1].strip().split("@")[0]
               for line in _run("ip", "-n", pair.cli, "-o", "link").stdout.splitlines()
               if "cdv" in line)
    _run("ip", "netns", "exec", pair.cli, "sysctl", "-qw", f"net.ipv6.conf.{dev}.disable_ipv6=1")
    code, report, _ = pair.doctor("--base-url", f"https://{NAME}:{port}", "--nameserver", dns.arg)
    # A missing route fails at once, so it costs clients nothing: information, not a warning.
    assert _statuses(report) == statuses(), report
    finding = _finding(report, "net.ipv6", "IPV6_BROKEN")
    assert finding["severity"] == "info" and "no route" in finding["message"]
    assert code == 0


def test_both_families_black_holed_fail_both(pair: Pair) -> None:
    port, dns = _gateway_with_dns(pair)
    pair.drop_to(SRV4)
    pair.drop_to(SRV6)
    code, report, _ = pair.doctor("--base-url", f"https://{NAME}:{port}", "--nameserver", dns.arg)
    assert _statuses(report) == statuses("net.ipv4", net_ipv6="fail"), report
    assert code == 1
    assert [f["code"] for f in _check(report, "net.ipv6")["findings"]] == ["TCP_TIMEOUT"]


def test_stale_hosts_entry_disagrees_with_dns(pair: Pair) -> None:
    port = pair.gateway()
    pair.dns({NAME: {"A": [SRV4], "AAAA": []}}, port=53)
    pair.etc_file("resolv.conf", f"nameserver {SRV4}\noptions timeout:1 attempts:1\n")
    pair.etc_file("hosts", f"127.0.0.1 localhost\n10.231.0.99 {NAME}\n")
    code, report, _ = pair.doctor("--base-url", f"https://{NAME}:{port}")
    dns = _check(report, "dns")
    assert dns["status"] == "warn", report
    finding = _finding(report, "dns", "DNS_INCONSISTENT")
    assert f"the system gives 10.231.0.99, the name servers ({SRV4}) give {SRV4}" in (
        finding["message"])
    assert finding["fix"] == [f"Remove the line `10.231.0.99 {NAME}` from /etc/hosts: it sends "
                              f"{NAME} to 10.231.0.99, away from what DNS gives ({SRV4})."]
    # The clients follow the hosts file and cannot connect; the verdict names the cause.
    assert _check(report, "net.ipv4")["status"] == "fail"
    assert report["verdict"]["code"] == "DNS_INCONSISTENT"
    assert code == 1


def test_corporate_ca_in_the_os_store_only_is_interception(pair: Pair) -> None:
    corp = nf.make_pki(pair.tmp, "corp", organization="Example Corp Security")
    port = pair.gateway(pki=corp)
    dns = pair.dns({NAME: {"A": [SRV4], "AAAA": [SRV6]}})
    pair.etc_file("ssl/certs/ca-certificates.crt", corp.ca_file.read_text())
    code, report, _ = pair.doctor("--base-url", f"https://{NAME}:{port}", "--nameserver", dns.arg,
                                  trust_lab_ca=False)
    assert _statuses(report) == statuses("tls"), report
    finding = _finding(report, "tls", "TLS_INTERCEPTED")
    assert "Example Corp Security" in finding["message"]
    assert "OS trust store accepts but your Python clients do not" in finding["message"]
    assert _check(report, "tls")["data"]["os_store_verifies"] is True
    assert code == 1


def test_system_resolver_that_never_answers(pair: Pair) -> None:
    port = pair.gateway()
    pair.dns({NAME: "drop"}, port=53)
    pair.etc_file("resolv.conf", f"nameserver {SRV4}\noptions timeout:1 attempts:1\n")
    pair.etc_file("hosts", "127.0.0.1 localhost\n")
    code, report, _ = pair.doctor("--base-url", f"https://{NAME}:{port}")
    assert _statuses(report) == statuses("dns"), report
    finding = _finding(report, "dns", "DNS_TIMEOUT")
    assert finding["message"] == (f"No DNS answer for {NAME} within 1 s: the name server {SRV4} "
                                  "(from /etc/resolv.conf) did not answer.")
    assert _check(report, "dns")["data"]["direct"]["error"] == "timeout"
    assert code == 1
