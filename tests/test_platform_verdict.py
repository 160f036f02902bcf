"""WSL in NAT mode behind a Windows VPN is the verdict when DNS then fails, end to end.

The WSL 2 machine is replayed from recorded facts; DNS is a real name server on
loopback that never answers (what Linux sees in that trap).
"""

from __future__ import annotations

from pathlib import Path

from .netscenario import Lab, lab_fixture  # noqa: F401  (the lab fixture)
from .test_platform_facts import machine, save


def test_wsl_nat_vpn_explains_the_dns_timeout(lab: Lab, tmp_path: Path) -> None:
    lab.name(mode="drop")
    facts = save(tmp_path, machine(tmp_path, kernel="wsl2", psutil="wsl2-nat", wslinfo="nat",
                                   profile="win11", adapters="cisco-up"))
    seen = lab.doctor(port=443, only="platform.vpn,platform.wsl,dns",
                      env={"CBORG_DOCTOR_OSFACTS": str(facts)})
    assert seen.code == 1
    assert seen.statuses["dns"] == "fail" and seen.statuses["platform.wsl"] == "warn"
    assert seen.report["verdict"]["check"] == "platform.wsl"
    assert seen.report["verdict"]["code"] == "WSL_NAT_VPN"
    assert "not resolved here: --nameserver is given" in seen.check("platform.vpn")["summary"]


def test_without_a_vpn_the_dns_failure_is_the_verdict(lab: Lab, tmp_path: Path) -> None:
    lab.name(mode="drop")
    facts = save(tmp_path, machine(tmp_path, kernel="wsl2", psutil="wsl2-nat", wslinfo="nat",
                                   profile="win11", adapters="no-vpn"))
    seen = lab.doctor(port=443, only="platform.wsl,dns", env={"CBORG_DOCTOR_OSFACTS": str(facts)})
    assert seen.code == 1
    assert seen.report["verdict"]["check"] == "dns"
