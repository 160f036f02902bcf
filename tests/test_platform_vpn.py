"""`platform.vpn` on recorded Linux, macOS and Windows machines (routes recorded too).

The route lookup itself is tested for real in test_platform_netns.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cborg_doctor_checks.platform.vpn import CHECK

from cborg_doctor.facts import DNS_ADDRESSES
from cborg_doctor.options import Options
from cborg_doctor.session import build_context
from tests.doctor import run_doctor
from tests.test_platform_facts import codes, diagnose, finding, machine, replay, save

GATEWAY = "10.9.8.7"
CISCO = "Cisco Secure Client (AnyConnect)"


def vpn(tmp_path: Path, base_url: str = f"https://{GATEWAY}", options: dict | None = None,
        **kw: Any) -> dict:
    facts = replay(tmp_path, machine(tmp_path, **kw))
    return diagnose(facts, "platform.vpn", base_url=base_url, **(options or {}))["by_id"][
        "platform.vpn"]


def test_linux_cisco_tunnel_carrying_the_gateway(tmp_path: Path) -> None:
    check = vpn(tmp_path, kernel="linux", psutil="linux-cscotun0",
                routes={GATEWAY: "131.243.221.45"})
    assert check["status"] == "pass"
    assert codes(check) == ["VPN_ACTIVE", "ON_LBLNET"]
    assert finding(check, "VPN_ACTIVE")["message"] == (
        f"{CISCO} is connected: cscotun0 has 131.243.221.45. The gateway ({GATEWAY}) is "
        "reached through the VPN (cscotun0)."
    )
    assert finding(check, "ON_LBLNET")["message"] == (
        "This machine has an LBL address: 131.243.221.45 on cscotun0."
    )
    assert check["summary"] == (
        f"{CISCO} on cscotun0; on LBLnet (131.243.221.45); the gateway ({GATEWAY}) is reached "
        "through the VPN (cscotun0)"
    )
    assert check["data"]["routes"] == [{"destination": GATEWAY, "local_address": "131.243.221.45",
                                        "interface": "cscotun0", "through_vpn": True,
                                        "error": None}]
    assert check["data"]["clients"] == [CISCO]


def test_linux_split_tunnel(tmp_path: Path) -> None:
    check = vpn(tmp_path, kernel="linux", psutil="linux-cscotun0",
                routes={GATEWAY: "192.168.1.23"})
    assert codes(check) == ["VPN_ACTIVE", "VPN_SPLIT_TUNNEL", "ON_LBLNET"]
    assert "reached around the VPN, via wlp0s20f3 (split tunnel)" in \
        finding(check, "VPN_ACTIVE")["message"]
    split = finding(check, "VPN_SPLIT_TUNNEL")
    assert split["message"] == (
        f"The VPN is up, but traffic to the gateway ({GATEWAY}) leaves around it, via "
        "wlp0s20f3 (192.168.1.23): the gateway sees this network's address, not the VPN's."
    )
    assert "full-tunnel" in split["fix"][0]
    assert check["data"]["routes"][0]["through_vpn"] is False


def test_linux_at_home_is_offsite_with_the_authorization_fix(tmp_path: Path) -> None:
    check = vpn(tmp_path, kernel="linux", psutil="linux-home", routes={GATEWAY: "192.168.1.23"})
    assert check["status"] == "pass" and codes(check) == ["OFFSITE"]
    offsite = finding(check, "OFFSITE")
    assert "https://api.cborg.lbl.gov/key/manage" in offsite["fix"][0]
    assert "IPv4" in offsite["fix"][1]
    assert check["summary"] == f"no VPN; off-site; the gateway ({GATEWAY}) is reached via wlp0s20f3"


def test_linux_on_site(tmp_path: Path) -> None:
    check = vpn(tmp_path, kernel="linux", psutil="linux-onsite", routes={GATEWAY: "128.3.19.204"})
    assert codes(check) == ["ON_LBLNET"]
    assert finding(check, "ON_LBLNET")["message"] == (
        "This machine has an LBL address: 128.3.19.204 on enp0s31f6, "
        "2620:83:8000:140::1f2a on enp0s31f6."
    )


def test_macos_utun3_with_cisco_and_idle_system_tunnels(tmp_path: Path) -> None:
    check = vpn(tmp_path, system="Darwin", psutil="macos-utun3-cisco",
                routes={GATEWAY: "131.243.223.17"})
    assert codes(check) == ["VPN_ACTIVE", "ON_LBLNET"]
    assert finding(check, "VPN_ACTIVE")["message"].startswith(
        f"{CISCO} is connected: utun3 has 131.243.223.17. The gateway ({GATEWAY}) is reached "
        "through the VPN (utun3)"
    )
    assert [t["interface"] for t in check["data"]["tunnels"]] == ["utun3"]


def test_macos_idle_utun_interfaces_are_not_a_vpn(tmp_path: Path) -> None:
    check = vpn(tmp_path, system="Darwin", psutil="macos-home", routes={GATEWAY: "192.168.0.12"})
    assert codes(check) == ["OFFSITE"]
    assert check["summary"].startswith("no VPN; off-site; ")


def test_macos_utun_without_a_known_client_counts_when_the_route_uses_it(tmp_path: Path) -> None:
    recording = machine(tmp_path, system="Darwin", psutil="macos-utun3-cisco",
                        routes={GATEWAY: "131.243.223.17"})
    recording["psutil"]["processes"] = [{"name": "launchd"}]
    check = diagnose(replay(tmp_path, recording), "platform.vpn")["by_id"]["platform.vpn"]
    assert finding(check, "VPN_ACTIVE")["message"].startswith("A VPN is connected: utun3 has")


def test_windows_cisco_miniport_adapter(tmp_path: Path) -> None:
    check = vpn(tmp_path, system="Windows", psutil="windows-cisco", adapters="cisco-up",
                routes={GATEWAY: "131.243.220.9"})
    assert codes(check) == ["VPN_ACTIVE", "ON_LBLNET"]
    assert finding(check, "VPN_ACTIVE")["message"] == (
        f"{CISCO} is connected: Ethernet 3 has 131.243.220.9. The gateway ({GATEWAY}) is "
        "reached through the VPN (Ethernet 3)."
    )


def test_windows_without_powershell_still_sees_the_lbl_address(tmp_path: Path) -> None:
    check = vpn(tmp_path, system="Windows", psutil="windows-cisco",
                routes={GATEWAY: "131.243.220.9"})
    assert codes(check) == ["ON_LBLNET"]
    assert "adapter descriptions unknown (Get-NetAdapter is not available)" in check["summary"]


def test_psutil_denied_is_unknown_not_offsite(tmp_path: Path) -> None:
    check = vpn(tmp_path, kernel="linux", routes={GATEWAY: "192.168.1.23"})
    assert check["status"] == "pass" and codes(check) == []
    assert check["summary"].startswith("interfaces unknown (psutil could not read them); "
                                       "VPN processes unknown")


def test_a_host_name_is_resolved_once_per_family(tmp_path: Path) -> None:
    check = vpn(tmp_path, base_url="https://api.cborg.lbl.gov", kernel="linux",
                psutil="linux-cscotun0",
                resolve={"api.cborg.lbl.gov": ["104.18.5.1", "104.18.6.1", "2606:4700::6812:501"]},
                routes={"104.18.5.1": "131.243.221.45", "2606:4700::6812:501": {"error": "no_route"}})
    assert check["data"]["address_source"] == "the system resolver"
    assert [r["destination"] for r in check["data"]["routes"]] == ["104.18.5.1",
                                                                  "2606:4700::6812:501"]
    message = finding(check, "VPN_ACTIVE")["message"]
    assert "The gateway (104.18.5.1) is reached through the VPN (cscotun0)" in message
    assert "no route to the gateway's IPv6 address 2606:4700::6812:501" in message


def test_with_nameserver_the_host_is_not_resolved_here(tmp_path: Path) -> None:
    check = vpn(tmp_path, base_url="https://api.cborg.lbl.gov", kernel="linux",
                psutil="linux-home", options={"nameservers": ("127.0.0.1:5353",)},
                resolve={"api.cborg.lbl.gov": ["104.18.5.1"]})
    assert check["data"]["routes"] == []
    assert check["summary"].endswith("route to the gateway unknown: api.cborg.lbl.gov was not "
                                     "resolved here: --nameserver is given, the dns check uses it")


def test_an_unresolvable_host_leaves_the_route_unknown(tmp_path: Path) -> None:
    check = vpn(tmp_path, base_url="https://api.cborg.lbl.gov", kernel="linux",
                psutil="linux-home")
    assert check["status"] == "pass"
    assert ("api.cborg.lbl.gov did not resolve: the recording holds no answer for it (the dns "
            "check says why)") in check["summary"]


def test_the_dns_checks_addresses_are_used_when_present(tmp_path: Path) -> None:
    facts = replay(tmp_path, machine(tmp_path, kernel="linux", psutil="linux-cscotun0",
                                     routes={"104.18.5.1": "192.168.1.23"}))
    ctx = build_context(Options(base_url="https://api.cborg.lbl.gov"), env={}, osfacts=facts)
    ctx.share(DNS_ADDRESSES, {"host": "api.cborg.lbl.gov", "ipv4": ["104.18.5.1"], "ipv6": [],
                                "order": ["104.18.5.1"], "source": "system"})
    outcome = CHECK.run(ctx)
    assert outcome.data["address_source"] == "the dns check's answer"
    assert [f.code for f in outcome.findings] == ["VPN_ACTIVE", "VPN_SPLIT_TUNNEL", "ON_LBLNET"]


def test_cli_replaying_windows_runs_both_checks(tmp_path: Path, home: Path) -> None:
    facts = save(tmp_path, machine(tmp_path, system="Windows", psutil="windows-cisco",
                                   adapters="cisco-up", routes={GATEWAY: "131.243.220.9"}))
    run = run_doctor("--only", "platform.vpn,platform.wsl", "--json", "--no-report",
                     "--base-url", f"https://{GATEWAY}", home=home,
                     env={"CBORG_DOCTOR_OSFACTS": str(facts)})
    assert run.code == 0, run.output
    report = run.json()
    assert report["status"] == "pass" and report["verdict"] is None
    vpn_check, wsl_check = report["checks"]
    assert codes(vpn_check) == ["VPN_ACTIVE", "ON_LBLNET"]
    assert wsl_check["summary"] == "not WSL"


def test_cli_explain_and_list_checks(home: Path) -> None:
    listed = run_doctor("--list-checks", home=home)
    assert listed.code == 0
    lines = listed.stdout.splitlines()
    vpn_line = next(i for i, line in enumerate(lines) if "platform.vpn" in line)
    wsl_line = next(i for i, line in enumerate(lines) if "platform.wsl" in line)
    assert vpn_line < wsl_line
    explained = run_doctor("--explain", "ON_LBLNET", home=home)
    assert "128.3.0.0/16, 131.243.0.0/16, 2620:83:8000::/48" in explained.stdout


def test_a_gateway_on_loopback_is_on_this_machine(tmp_path: Path) -> None:
    check = vpn(tmp_path, base_url="http://127.0.0.1:4000", kernel="linux", psutil="linux-home",
                routes={"127.0.0.1": "127.0.0.1"})
    assert check["summary"].endswith("the gateway (127.0.0.1) is on this machine (loopback)")


def test_a_loopback_gateway_is_no_split_tunnel(tmp_path: Path) -> None:
    check = vpn(tmp_path, base_url="http://127.0.0.1:4000", kernel="linux",
                psutil="linux-cscotun0", routes={"127.0.0.1": "127.0.0.1"})
    assert codes(check) == ["VPN_ACTIVE", "ON_LBLNET"]
