"""`platform.vpn` for real, in network namespaces with a real `cscotun0` tun device.

Each test builds its own namespaces: one "laptop" with a tun device named
cscotun0, held open by a process named vpnagentd (as Cisco's agent holds
it), carrying an address in 131.243.0.0/16; for the split tunnel also a veth
pair whose other end sits in a second namespace made by the test. The doctor
then runs inside the laptop namespace against a gateway given as an IP
literal: no DNS, and the check only looks routes up (UDP connect, no packet).
Needs root and `ip netns`; skipped otherwise. Namespaces are removed even
when a test fails.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.doctor import clean_env

pytestmark = pytest.mark.netns

GATEWAY4 = "198.51.100.10"
GATEWAY6 = "2001:db8:cb::10"
VPN4 = "131.243.221.45"
VPN6 = "2620:83:8000:77::45"

# Opens /dev/net/tun as the named device and keeps it open (carrier up), named vpnagentd.
HOLDER = r"""
import ctypes, fcntl, os, struct, sys
fd = os.open("/dev/net/tun", os.O_RDWR)
fcntl.ioctl(fd, 0x400454CA, struct.pack("16sH22x", sys.argv[1].encode(), 0x0001 | 0x1000))
ctypes.CDLL(None).prctl(15, b"vpnagentd", 0, 0, 0)
print("ready", flush=True)
sys.stdin.read()
"""


def _ip(*args: str, ns: str | None = None) -> None:
    cmd = ["ip", *(("netns", "exec", ns, "ip") if ns else ()), *args]
    subprocess.run(cmd, check=True, capture_output=True, timeout=20)


@dataclass
class Laptop:
    """A namespace with cscotun0 up; `holder` is the process that keeps the tunnel open."""

    name: str
    extra: list[str] = field(default_factory=list)
    holder: subprocess.Popen[str] | None = None

    def doctor(self, home: Path, *args: str) -> tuple[int, dict]:
        env = clean_env(home)
        proc = subprocess.run(
            ["ip", "netns", "exec", self.name, sys.executable, "-m", "cborg_doctor",
             "--only", "platform.vpn", "--json", "--no-report", *args],
            env=env, cwd=str(home), capture_output=True, text=True, timeout=120,
        )
        assert proc.stdout, proc.stderr
        return proc.returncode, json.loads(proc.stdout)


def _require_netns() -> None:
    if os.name != "posix" or os.geteuid() != 0:
        pytest.skip("needs root to build network namespaces")
    if shutil.which("ip") is None:
        pytest.skip("needs iproute2 (`ip`)")
    if not os.path.exists("/dev/net/tun"):
        pytest.skip("needs /dev/net/tun")


@pytest.fixture
def laptop() -> Iterator[Laptop]:
    _require_netns()
    box = Laptop(f"cbdoc-{uuid.uuid4().hex[:8]}")
    try:
        _ip("netns", "add", box.name)
    except (subprocess.CalledProcessError, OSError) as exc:
        pytest.skip(f"`ip netns add` does not work here: {exc}")
    try:
        _ip("link", "set", "lo", "up", ns=box.name)
        box.holder = subprocess.Popen(
            ["ip", "netns", "exec", box.name, sys.executable, "-c", HOLDER, "cscotun0"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )
        assert box.holder.stdout is not None
        assert box.holder.stdout.readline().strip() == "ready"
        _ip("addr", "add", f"{VPN4}/22", "dev", "cscotun0", ns=box.name)
        _ip("-6", "addr", "add", f"{VPN6}/64", "dev", "cscotun0", "nodad", ns=box.name)
        _ip("link", "set", "cscotun0", "up", ns=box.name)
        yield box
    finally:
        if box.holder is not None:
            if box.holder.stdin:
                box.holder.stdin.close()
            try:
                box.holder.wait(timeout=10)
            except subprocess.TimeoutExpired:
                box.holder.kill()
                box.holder.wait(timeout=10)
        for name in (box.name, *box.extra):
            subprocess.run(["ip", "netns", "del", name], capture_output=True, timeout=20)


def _split(box: Laptop) -> None:
    """eth0 to a second namespace, and the default route through it: the tunnel is bypassed."""
    lan = f"{box.name}-lan"
    _ip("netns", "add", lan)
    box.extra.append(lan)
    _ip("link", "add", "eth0", "type", "veth", "peer", "name", "peer0", "netns", lan, ns=box.name)
    _ip("addr", "add", "203.0.113.2/24", "dev", "eth0", ns=box.name)
    _ip("-6", "addr", "add", "2001:db8:ff::2/64", "dev", "eth0", "nodad", ns=box.name)
    _ip("link", "set", "eth0", "up", ns=box.name)
    _ip("link", "set", "peer0", "up", ns=lan)
    _ip("route", "add", "default", "via", "203.0.113.1", "dev", "eth0", ns=box.name)
    _ip("-6", "route", "add", "default", "via", "2001:db8:ff::1", "dev", "eth0", ns=box.name)


def _vpn(report: dict) -> dict:
    check = report["checks"][0]
    assert check["id"] == "platform.vpn"
    return check


def _codes(check: dict) -> list[str]:
    return [f["code"] for f in check["findings"]]


def test_gateway_reached_through_the_vpn(laptop: Laptop, home: Path) -> None:
    _ip("route", "add", "198.51.100.0/24", "dev", "cscotun0", ns=laptop.name)
    code, report = laptop.doctor(home, "--base-url", f"https://{GATEWAY4}")
    assert code == 0 and report["status"] == "pass"
    check = _vpn(report)
    assert _codes(check) == ["VPN_ACTIVE", "ON_LBLNET"]
    active = check["findings"][0]["message"]
    assert active.startswith("Cisco Secure Client (AnyConnect) is connected: cscotun0 has "
                             f"{VPN4}, {VPN6}.")
    assert f"The gateway ({GATEWAY4}) is reached through the VPN (cscotun0)." in active
    assert f"{VPN4} on cscotun0" in check["findings"][1]["message"]
    assert check["data"]["routes"] == [{"destination": GATEWAY4, "local_address": VPN4,
                                        "interface": "cscotun0", "through_vpn": True,
                                        "error": None}]


def test_ipv6_gateway_reached_through_the_vpn(laptop: Laptop, home: Path) -> None:
    _ip("-6", "route", "add", "2001:db8:cb::/64", "dev", "cscotun0", ns=laptop.name)
    code, report = laptop.doctor(home, "--base-url", f"https://[{GATEWAY6}]:8443")
    assert code == 0
    route = _vpn(report)["data"]["routes"][0]
    assert (route["local_address"], route["interface"], route["through_vpn"]) == (
        VPN6, "cscotun0", True)


def test_split_tunnel_routes_the_gateway_around_the_vpn(laptop: Laptop, home: Path) -> None:
    _split(laptop)
    code, report = laptop.doctor(home, "--base-url", f"https://{GATEWAY4}")
    assert code == 0
    check = _vpn(report)
    assert _codes(check) == ["VPN_ACTIVE", "VPN_SPLIT_TUNNEL", "ON_LBLNET"]
    assert f"The gateway ({GATEWAY4}) is reached around the VPN, via eth0 (split tunnel)." in \
        check["findings"][0]["message"]
    assert "via eth0 (203.0.113.2)" in check["findings"][1]["message"]
    assert check["data"]["routes"][0]["through_vpn"] is False


def test_no_route_to_the_gateway(laptop: Laptop, home: Path) -> None:
    code, report = laptop.doctor(home, "--base-url", f"https://{GATEWAY4}")
    assert code == 0
    check = _vpn(report)
    assert f"no route to the gateway's IPv4 address {GATEWAY4}" in check["summary"]
    assert check["data"]["routes"][0]["error"] == "no_route"


def test_tunnel_gone_is_offsite(laptop: Laptop, home: Path) -> None:
    _split(laptop)
    assert laptop.holder is not None and laptop.holder.stdin is not None
    laptop.holder.stdin.close()  # the client disconnects: the tun device goes away
    laptop.holder.wait(timeout=10)
    code, report = laptop.doctor(home, "--base-url", f"https://{GATEWAY4}")
    assert code == 0
    check = _vpn(report)
    assert _codes(check) == ["OFFSITE"]
    assert check["summary"] == f"no VPN; off-site; the gateway ({GATEWAY4}) is reached via eth0"


def test_without_root_the_namespace_tests_skip_with_a_reason(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with pytest.raises(pytest.skip.Exception, match="needs root"):
        _require_netns()
