"""`platform.wsl` on recorded WSL 1, WSL 2 NAT and mirrored machines, and natively."""

from __future__ import annotations

from pathlib import Path

import pytest
from cborg_doctor_checks.platform.wsl import SNIPPET_INDENT

from cborg_doctor.check import CheckResult
from cborg_doctor.findings import Finding, Severity, Status
from cborg_doctor.report import find_verdict
from tests.doctor import run_doctor
from tests.test_platform_facts import codes, diagnose, finding, machine, replay, save

IN = SNIPPET_INDENT
SNIPPET = f"{IN}[wsl2]\n{IN}networkingMode=mirrored\n{IN}dnsTunneling=true"


def wsl(tmp_path: Path, **kw: object) -> dict:
    kw.setdefault("kernel", "wsl2")
    kw.setdefault("psutil", "wsl2-nat")
    facts = replay(tmp_path, machine(tmp_path, **kw))  # type: ignore[arg-type]
    return diagnose(facts, "platform.wsl")["by_id"]["platform.wsl"]


@pytest.mark.parametrize(
    ("system", "kernel", "psutil"),
    [("Linux", "linux", "linux-home"), ("Darwin", None, "macos-home"),
     ("Windows", None, "windows-cisco")],
)
def test_not_wsl_passes_with_nothing_else(tmp_path: Path, system: str, kernel: str | None,
                                          psutil: str) -> None:
    facts = replay(tmp_path, machine(tmp_path, system=system, kernel=kernel, psutil=psutil,
                                     adapters="cisco-up"))
    check = diagnose(facts, "platform.wsl")["by_id"]["platform.wsl"]
    assert (check["status"], check["summary"], check["findings"]) == ("pass", "not WSL", [])


def test_wsl1_shares_windows_network_so_a_vpn_is_fine(tmp_path: Path) -> None:
    check = wsl(tmp_path, kernel="wsl1", adapters="cisco-up", env={"WSL_DISTRO_NAME": "Ubuntu"})
    assert check["status"] == "pass" and codes(check) == ["WSL_DETECTED"]
    assert finding(check, "WSL_DETECTED")["message"].startswith(
        "WSL 1: networking mode wsl1 (WSL 1 shares Windows' network)"
    )


def test_nat_mode_behind_cisco_is_the_documented_fix(tmp_path: Path) -> None:
    check = wsl(tmp_path, wslinfo="nat", profile="win11", adapters="cisco-up")
    assert check["status"] == "warn"
    assert codes(check) == ["WSL_DETECTED", "WSL_NAT_VPN"]
    nat = finding(check, "WSL_NAT_VPN")
    assert nat["severity"] == "warn"
    assert "NAT mode (wslinfo)" in nat["message"]
    assert "Cisco AnyConnect Secure Mobility Client Virtual Miniport Adapter" in nat["message"]
    assert nat["fix"][0].endswith(":\n\n" + SNIPPET)  # no .wslconfig: exactly the snippet
    assert "%UserProfile%\\.wslconfig" in nat["fix"][0]
    assert "wsl --shutdown" in nat["fix"][1]
    assert "curl -4" in nat["fix"][2] and 'local_address="0.0.0.0"' in nat["fix"][2]
    assert check["summary"] == "WSL 2, nat mode behind a Windows VPN"
    assert finding(check, "WSL_DETECTED")["message"] == (
        "WSL 2: networking mode nat (wslinfo); dnsTunneling not set (WSL default), "
        "autoProxy not set (WSL default), firewall not set (WSL default)."
    )


def test_the_fix_merges_into_the_users_wsl2_section(tmp_path: Path) -> None:
    check = wsl(tmp_path, wslinfo="nat", profile="win11", adapters="cisco-up",
                wslconfig="nat-explicit.wslconfig")
    assert codes(check) == ["WSL_DETECTED", "WSL_NAT_VPN"]
    assert finding(check, "WSL_NAT_VPN")["fix"][0].endswith(
        f":\n\n{IN}[wsl2]\n{IN}memory=8GB\n{IN}networkingMode=mirrored\n{IN}swap=0\n"
        f"{IN}dnsTunneling=true"
    )


@pytest.mark.parametrize("adapters", ["cisco-disconnected", "no-vpn"])
def test_nat_mode_without_a_vpn_on_windows_is_fine(tmp_path: Path, adapters: str) -> None:
    check = wsl(tmp_path, wslinfo="nat", profile="win11", adapters=adapters)
    assert check["status"] == "pass" and codes(check) == ["WSL_DETECTED"]
    assert check["data"]["host_vpn"] == []


def test_powershell_that_prints_a_single_full_adapter_object(tmp_path: Path) -> None:
    check = wsl(tmp_path, wslinfo="nat", profile="win11", adapters="full-single-cisco")
    assert "WSL_NAT_VPN" in codes(check)


def test_mirrored_mode_with_a_correct_file(tmp_path: Path) -> None:
    check = wsl(tmp_path, wslinfo="mirrored", profile="win11", adapters="cisco-up",
                wslconfig="correct.wslconfig")
    assert check["status"] == "pass" and codes(check) == ["WSL_DETECTED"]
    assert finding(check, "WSL_DETECTED")["message"] == (
        "WSL 2: networking mode mirrored (wslinfo); dnsTunneling=true, autoProxy=true, "
        "firewall=true."
    )
    assert "host_vpn" not in check["data"]  # Windows is not asked when the mode is fine


def test_without_wslinfo_the_file_tells_the_mode(tmp_path: Path) -> None:
    check = wsl(tmp_path, profile="win11", adapters="cisco-up", wslconfig="correct.wslconfig")
    assert check["status"] == "pass"
    assert "networking mode mirrored (from %UserProfile%\\.wslconfig; wslinfo --networking-mode " \
        "is not available)" in finding(check, "WSL_DETECTED")["message"]


def test_misspelled_keys_are_ignored_and_the_fix_corrects_them(tmp_path: Path) -> None:
    check = wsl(tmp_path, wslinfo="nat", profile="win11", adapters="cisco-up",
                wslconfig="misspelled.wslconfig")
    assert codes(check) == ["WSL_DETECTED", "WSL_NAT_VPN", "WSL_CONFIG_IGNORED"]
    ignored = finding(check, "WSL_CONFIG_IGNORED")
    assert "line 3: WSL knows no `networkMode`, the setting is networkingMode" in ignored["message"]
    assert "line 4: WSL knows no `dnsTunnelling`, the setting is dnsTunneling" in ignored["message"]
    corrected = f":\n\n{IN}[wsl2]\n{IN}memory=8GB\n{IN}networkingMode=mirrored\n{IN}dnsTunneling=true"
    assert ignored["fix"][0].endswith(corrected)
    assert finding(check, "WSL_NAT_VPN")["fix"][0].endswith(corrected)


def test_wrong_section(tmp_path: Path) -> None:
    check = wsl(tmp_path, wslinfo="nat", profile="win11", adapters="no-vpn",
                wslconfig="wrong-section.wslconfig")
    assert check["status"] == "warn" and codes(check) == ["WSL_DETECTED", "WSL_CONFIG_IGNORED"]
    ignored = finding(check, "WSL_CONFIG_IGNORED")
    assert "line 2: networkingMode is under [wsl]; WSL reads it only under [wsl2]" in \
        ignored["message"]
    assert ignored["fix"][0].endswith(f"\n{IN}[wsl2]\n{IN}networkingMode=mirrored\n"
                                      f"{IN}dnsTunneling=true")


def test_notepad_saved_it_as_wslconfig_txt(tmp_path: Path) -> None:
    check = wsl(tmp_path, wslinfo="nat", profile="win11", adapters="cisco-up",
                wslconfig_txt="notepad.wslconfig.txt")
    ignored = finding(check, "WSL_CONFIG_IGNORED")
    assert "named .wslconfig.txt" in ignored["message"]
    assert ignored["fix"][0].endswith(":\n\n" + SNIPPET)
    assert "Save as type: All files" in finding(check, "WSL_NAT_VPN")["fix"][0]


def test_mirrored_on_windows_10_falls_back_to_nat(tmp_path: Path) -> None:
    check = wsl(tmp_path, profile="win10", adapters="cisco-up", wslconfig="correct.wslconfig")
    assert codes(check) == ["WSL_DETECTED", "WSL_NAT_VPN", "WSL_CONFIG_IGNORED"]
    assert "needs Windows 11 22H2 (build 22621) or newer; this is build 19045" in \
        finding(check, "WSL_CONFIG_IGNORED")["message"]
    assert "networking mode nat (mirrored is unavailable on build 19045" in \
        finding(check, "WSL_DETECTED")["message"]
    nat_fix = finding(check, "WSL_NAT_VPN")["fix"]
    assert "`wsl --set-version Ubuntu 1`" in nat_fix[-1]


def test_a_file_that_asks_for_mirrored_while_nat_runs_needs_a_restart(tmp_path: Path) -> None:
    check = wsl(tmp_path, wslinfo="nat", profile="win11", adapters="no-vpn",
                wslconfig="correct.wslconfig")
    assert codes(check) == ["WSL_DETECTED", "WSL_RESTART_NEEDED"]
    restart = finding(check, "WSL_RESTART_NEEDED")
    assert restart["message"] == (
        "%UserProfile%\\.wslconfig asks for networkingMode=mirrored, but WSL is running in "
        "nat mode."
    )
    assert "wsl --shutdown" in restart["fix"][0]


def test_vm_settings_in_etc_wsl_conf_are_ignored(tmp_path: Path) -> None:
    check = wsl(tmp_path, wslinfo="nat", profile="win11", adapters="no-vpn",
                wsl_conf="[boot]\nsystemd=true\n[wsl2]\nnetworkingMode=mirrored\n")
    assert "/etc/wsl.conf line 4: networkingMode is a setting of the WSL 2 VM" in \
        finding(check, "WSL_CONFIG_IGNORED")["message"]


def test_without_interop_the_profile_is_the_only_user_folder(tmp_path: Path) -> None:
    check = wsl(tmp_path, wslconfig="nat-explicit.wslconfig")  # no wslinfo, cmd.exe, powershell
    assert check["status"] == "pass"
    assert "networking mode nat (from %UserProfile%\\.wslconfig" in \
        finding(check, "WSL_DETECTED")["message"]
    assert check["data"]["host_vpn"] == "unknown: powershell.exe Get-NetAdapter is not available"
    assert "whether Windows has a VPN up is unknown" in check["summary"]


def test_slow_windows_commands_are_reported_as_unknown(tmp_path: Path) -> None:
    check = wsl(tmp_path, wslinfo="nat", commands={"windows.profile": {"status": "timeout"},
                                                  "windows.adapters": {"status": "timeout"}})
    assert check["status"] == "pass"
    assert "did not answer within" in check["data"]["host_vpn"]


def test_nat_vpn_is_the_verdict_when_dns_then_fails(tmp_path: Path) -> None:
    check = wsl(tmp_path, wslinfo="nat", profile="win11", adapters="cisco-up")
    nat = finding(check, "WSL_NAT_VPN")
    wsl_result = CheckResult(
        "platform.wsl", "WSL", Status.WARN, 1, check["summary"],
        tuple(Finding(f["code"], Severity(f["severity"]), f["message"], tuple(f["fix"]),
                      explains=("dns", "net.ipv4", "net.ipv6", "tls", "http")
                      if f["code"] == "WSL_NAT_VPN" else ())
              for f in check["findings"]),
    )
    dns = CheckResult("dns", "DNS", Status.FAIL, 5, "timeout",
                      (Finding("DNS_TIMEOUT", Severity.FAIL, "no answer"),))
    verdict = find_verdict((wsl_result, dns))
    assert verdict is not None and (verdict.check, verdict.code) == ("platform.wsl", "WSL_NAT_VPN")
    assert verdict.message == nat["message"]


# --- the real CLI, replaying a WSL 2 machine ------------------------------------------------


def test_cli_json_exit_codes_and_no_secrets(tmp_path: Path, home: Path, canary_key: str) -> None:
    facts = save(tmp_path, machine(tmp_path, kernel="wsl2", psutil="wsl2-nat", wslinfo="nat",
                                   profile="win11", adapters="cisco-up",
                                   wslconfig="nat-explicit.wslconfig"))
    env = {"CBORG_DOCTOR_OSFACTS": str(facts), "CBORG_API_KEY": canary_key}
    args = ("--only", "platform.wsl", "--no-report", "--base-url", "https://10.9.8.7")
    run = run_doctor(*args, "--json", home=home, env=env)
    assert run.code == 0, run.output
    report = run.json()
    assert report["status"] == "warn"
    assert report["verdict"]["code"] == "WSL_NAT_VPN"
    check = report["checks"][0]
    assert check["id"] == "platform.wsl" and codes(check) == ["WSL_DETECTED", "WSL_NAT_VPN"]
    assert f"{IN}networkingMode=mirrored\n{IN}swap=0\n" in finding(check, "WSL_NAT_VPN")["fix"][0]
    assert canary_key not in run.output

    strict = run_doctor(*args, "--fail-on", "warn", home=home, env=env)
    assert strict.code == 1
    assert "WSL_NAT_VPN" in strict.stdout and "networkingMode=mirrored" in strict.stdout
    assert canary_key not in strict.output


def test_cli_explain_prints_the_documented_snippet(home: Path) -> None:
    run = run_doctor("--explain", "WSL_NAT_VPN", home=home)
    assert run.code == 0
    assert "[wsl2]\n    networkingMode=mirrored\n    dnsTunneling=true" in run.stdout
    assert "wsl --shutdown" in run.stdout


def test_a_container_on_a_wsl2_kernel_says_so(tmp_path: Path) -> None:
    recording = machine(tmp_path, kernel="wsl2", psutil="wsl2-nat", env={})
    (tmp_path / "root" / "proc" / "sys" / "fs" / "binfmt_misc" / "WSLInterop").unlink()
    check = diagnose(replay(tmp_path, recording), "platform.wsl")["by_id"]["platform.wsl"]
    assert check["status"] == "pass"
    assert "probably a container" in finding(check, "WSL_DETECTED")["message"]


def test_an_azure_kernel_is_not_wsl(tmp_path: Path) -> None:
    recording = machine(tmp_path, kernel="linux", psutil="linux-home")
    (tmp_path / "root" / "proc" / "version").write_text(
        "Linux version 6.5.0-1025-azure (buildd@lcy02-amd64-051) (Microsoft Azure build)\n")
    check = diagnose(replay(tmp_path, recording), "platform.wsl")["by_id"]["platform.wsl"]
    assert check["summary"] == "not WSL"
