"""`--fix` for WSL 2: `.wslconfig` in the (recorded) Windows profile, then `wsl --shutdown` is yours."""

from __future__ import annotations

from pathlib import Path

from tests.fixkit import fix, fixes, outcomes, snapshot, undo
from tests.test_platform_facts import PROFILE, machine, save

ONLY = "platform.wsl"


def _machine(tmp_path: Path, **kw: object) -> tuple[dict[str, str], Path]:
    kw.setdefault("kernel", "wsl2")
    kw.setdefault("psutil", "wsl2-nat")
    kw.setdefault("wslinfo", "nat")
    kw.setdefault("profile", "win11")
    kw.setdefault("adapters", "cisco-up")
    facts = save(tmp_path, machine(tmp_path, **kw))  # type: ignore[arg-type]
    return {"CBORG_DOCTOR_OSFACTS": str(facts)}, tmp_path / "root" / PROFILE.lstrip("/")


def test_nat_behind_the_vpn_merges_mirrored_mode_keeping_the_users_settings(
        tmp_path: Path, home: Path, canary_key: str) -> None:
    env, profile = _machine(tmp_path, wslconfig="nat-explicit.wslconfig")
    wslconfig = profile / ".wslconfig"
    before = snapshot(profile)
    run = fix(home, "--yes", env={**env, "CBORG_API_KEY": canary_key}, only=ONLY)
    assert outcomes(run) == [("WSL_NAT_VPN", "needs you")], run.output
    assert "wsl --shutdown" in fixes(run)[0]["detail"]
    assert fixes(run)[0]["files"][0]["path"] == "%UserProfile%\\.wslconfig"
    # The user's file was LF: its line endings and other settings are kept, NAT becomes mirrored.
    assert wslconfig.read_bytes() == b"[wsl2]\nmemory=8GB\nnetworkingMode=mirrored\nswap=0\n" \
        b"dnsTunneling=true\n"
    assert canary_key not in run.output
    # WSL still runs in NAT mode until the restart: a second --fix writes nothing.
    again = fix(home, "--yes", env=env, only=ONLY)
    assert [(f["outcome"], f["files"]) for f in fixes(again)] == [("needs you", [])]
    undo(home)
    assert snapshot(profile) == before


def test_a_new_wslconfig_gets_crlf_line_endings(tmp_path: Path, home: Path) -> None:
    env, profile = _machine(tmp_path)
    run = fix(home, "--yes", env=env, only=ONLY)
    assert outcomes(run) == [("WSL_NAT_VPN", "needs you")], run.output
    assert (profile / ".wslconfig").read_bytes() == \
        b"[wsl2]\r\nnetworkingMode=mirrored\r\ndnsTunneling=true\r\n"
    assert "restored: %UserProfile%\\.wslconfig (removed" in undo(home).stdout
    assert not (profile / ".wslconfig").exists()


def test_misspelled_keys_are_corrected_in_a_crlf_file(tmp_path: Path, home: Path) -> None:
    env, profile = _machine(tmp_path, wslconfig="misspelled.wslconfig", adapters="no-vpn")
    path = profile / ".wslconfig"
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    run = fix(home, "--yes", env=env, only=ONLY)
    assert outcomes(run) == [("WSL_CONFIG_IGNORED", "needs you")], run.output
    assert path.read_bytes() == b"[wsl2]\r\nmemory=8GB\r\nnetworkingMode=mirrored\r\ndnsTunneling=true\r\n"
    check = run.json()["checks"][0]
    assert "WSL_CONFIG_IGNORED" not in [f["code"] for f in check["findings"]]  # the re-run


def test_notepads_wslconfig_txt_is_renamed(tmp_path: Path, home: Path) -> None:
    env, profile = _machine(tmp_path, wslconfig_txt="notepad.wslconfig.txt", adapters="no-vpn")
    text = (profile / ".wslconfig.txt").read_bytes()
    before = snapshot(profile)
    run = fix(home, "--yes", env=env, only=ONLY)
    assert outcomes(run) == [("WSL_CONFIG_IGNORED", "needs you")], run.output
    assert not (profile / ".wslconfig.txt").exists()
    assert (profile / ".wslconfig").read_bytes() == text.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    undo(home)
    assert snapshot(profile) == before


def test_windows_10_gets_no_mirrored_mode_and_is_told_why(tmp_path: Path, home: Path) -> None:
    env, profile = _machine(tmp_path, profile="win10")
    run = fix(home, "--yes", env=env, only=ONLY)
    assert outcomes(run) == [("WSL_NAT_VPN", "refused")]
    assert "Windows build 19045 is older than Windows 11 22H2" in fixes(run)[0]["detail"]
    assert not (profile / ".wslconfig").exists()
