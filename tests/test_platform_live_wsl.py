"""`platform.wsl` on the live OS-facts source, in a private mount namespace dressed as WSL 2.

No recorded facts here: the doctor reads the real /proc/sys/kernel/osrelease
(a WSL 2 release string bind-mounted over it), lists the real /mnt/c/Users
(a folder bind-mounted over /mnt) and runs real `wslinfo`, `cmd.exe` and
`powershell.exe` programs found on PATH (small scripts printing what the
Windows ones print, or hanging). The mounts exist only inside `unshare -m`.
Needs root; skipped otherwise.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.doctor import clean_env

pytestmark = pytest.mark.netns

DATA = Path(__file__).parent / "data" / "platform"


def _require_unshare() -> None:
    if os.name != "posix" or os.geteuid() != 0:
        pytest.skip("needs root for a private mount namespace")
    if shutil.which("unshare") is None:
        pytest.skip("needs unshare (util-linux)")


def _script(path: Path, body: str) -> None:
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(0o755)


def _wsl_machine(tmp_path: Path, powershell: str, wslconfig: str | None = None) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    _script(bin_dir / "wslinfo", 'test "$1" = --networking-mode && echo nat')
    _script(bin_dir / "cmd.exe",
            f"cat '{DATA / 'cmd' / 'profile-win11.txt'}'")
    _script(bin_dir / "powershell.exe", powershell)
    users = tmp_path / "mnt" / "c" / "Users"
    (users / "alice").mkdir(parents=True)
    (users / "Public").mkdir()
    if wslconfig:
        shutil.copy(DATA / "wslconfig" / wslconfig, users / "alice" / ".wslconfig")
    shutil.copy(DATA / "proc" / "wsl2" / "osrelease", tmp_path / "osrelease")
    return bin_dir


def _doctor(tmp_path: Path, home: Path, bin_dir: Path) -> tuple[int, dict]:
    _require_unshare()
    inner = (
        f"mount --bind '{tmp_path / 'osrelease'}' /proc/sys/kernel/osrelease && "
        f"mount --bind '{tmp_path / 'mnt'}' /mnt && "
        f"exec '{sys.executable}' -m cborg_doctor --only platform.wsl --json --no-report "
        "--timeout 1 --base-url https://10.9.8.7"
    )
    env = clean_env(home, WSL_DISTRO_NAME="Ubuntu", WSL_INTEROP="/run/WSL/417_interop")
    env["PATH"] = f"{bin_dir}:{env.get('PATH', '/usr/bin:/bin')}"
    proc = subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c", inner],
                          env=env, cwd=str(home), capture_output=True, text=True, timeout=120)
    if proc.returncode not in (0, 1) and "mount" in proc.stderr:
        pytest.skip(f"bind mounts are not allowed here: {proc.stderr.strip()[:200]}")
    assert proc.stdout, proc.stderr
    return proc.returncode, json.loads(proc.stdout)


def test_live_wsl2_nat_behind_cisco(tmp_path: Path, home: Path) -> None:
    adapters = DATA / "netadapter" / "cisco-up.json"
    bin_dir = _wsl_machine(tmp_path, f"cat '{adapters}'", wslconfig="nat-explicit.wslconfig")
    code, report = _doctor(tmp_path, home, bin_dir)
    assert code == 0
    check = report["checks"][0]
    assert check["status"] == "warn"
    assert [f["code"] for f in check["findings"]] == ["WSL_DETECTED", "WSL_NAT_VPN"]
    assert "networkingMode=mirrored" in check["findings"][1]["fix"][0]
    assert "memory=8GB" in check["findings"][1]["fix"][0]  # merged with the user's file
    assert report["verdict"]["code"] == "WSL_NAT_VPN"


def test_live_hanging_powershell_is_cut_off_and_reported(tmp_path: Path, home: Path) -> None:
    bin_dir = _wsl_machine(tmp_path, "sleep 120")
    code, report = _doctor(tmp_path, home, bin_dir)
    assert code == 0
    check = report["checks"][0]
    assert check["status"] == "pass"
    assert "powershell.exe Get-NetAdapter did not answer within" in check["data"]["host_vpn"]
    assert "whether Windows has a VPN up is unknown" in check["summary"]
