"""Broken machines, not broken networks: what tests/test_engine_hardening.py does not cover.

No /etc/resolv.conf (an empty one, and all of /etc hidden), /proc hidden (psutil
cannot even be imported then), psutil present but denied everything, a key file
that is a directory. Each is a finding or a one-line usage error, never a
traceback. The mount cases run in a private mount namespace (`unshare -m`, root
only) so the machine itself is untouched.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests import netfixtures as nf
from tests.doctor import clean_env, run_doctor

ROOT_AND_UNSHARE = os.geteuid() == 0 and shutil.which("unshare") is not None


def _unshare_works() -> bool:
    if not ROOT_AND_UNSHARE:
        return False
    done = subprocess.run(["unshare", "-m", "true"], capture_output=True, timeout=10)
    return done.returncode == 0


needs_mount_ns = pytest.mark.skipif(not _unshare_works(), reason="needs root and unshare -m")


def run_in_namespace(mounts: str, args: list[str], home: Path, env: dict[str, str] | None = None,
                     ) -> subprocess.CompletedProcess[str]:
    """Run the doctor after `mounts` (shell commands) in a private mount namespace."""
    doctor = shlex.join([sys.executable, "-m", "cborg_doctor", *args])
    return subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c",
                           f"{mounts} && exec {doctor}"],
                          env=clean_env(home, **(env or {})), cwd=str(home),
                          capture_output=True, text=True, timeout=60)


def statuses(stdout: str) -> dict[str, dict]:
    return {c["id"]: c for c in json.loads(stdout)["checks"]}


@needs_mount_ns
def test_empty_resolv_conf_is_a_dns_finding(tmp_path: Path, home: Path, canary_key: str) -> None:
    empty = tmp_path / "resolv.conf"
    empty.write_text("")
    done = run_in_namespace(f"mount --bind {shlex.quote(str(empty))} /etc/resolv.conf",
                            ["--json", "--no-report", "--only", "dns", "--base-url",
                             "https://gw.test:8443", "--timeout", "1"],
                            home, {"CBORG_API_KEY": canary_key})
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    dns = statuses(done.stdout)["dns"]
    assert dns["status"] == "fail" and dns["findings"], dns
    assert dns["data"]["direct"]["error"] == "no_nameserver", dns["data"]
    assert canary_key not in done.stdout + done.stderr


@needs_mount_ns
def test_no_etc_at_all(home: Path, canary_key: str) -> None:
    """/etc hidden: no resolv.conf, hosts, passwd, CA store, os-release."""
    done = run_in_namespace("mount -t tmpfs tmpfs /etc",
                            ["--json", "--no-report", "--skip", "live", "--base-url",
                             "https://gw.test:8443", "--timeout", "1"],
                            home, {"CBORG_API_KEY": canary_key})
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    checks = statuses(done.stdout)
    assert checks["dns"]["status"] == "fail"
    assert all(c["status"] != "error" for c in checks.values()), checks
    assert all(c["summary"].strip() for c in checks.values())


@needs_mount_ns
def test_no_proc_psutil_cannot_load(home: Path, canary_key: str) -> None:
    """/proc hidden: psutil fails at import, /proc/net/route and /proc/version are gone."""
    with nf.serving(nf.litellm(behind_cloudflare=False)) as gateway:
        done = run_in_namespace("mount -t tmpfs tmpfs /proc",
                                ["--json", "--no-report", "--base-url", f"http://127.0.0.1:{gateway.port}",
                                 "--timeout", "1"],
                                home, {"CBORG_API_KEY": canary_key})
    assert done.returncode in (0, 1), done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    checks = statuses(done.stdout)
    for check_id in ("platform.vpn", "platform.wsl"):
        assert checks[check_id]["status"] != "error" and checks[check_id]["summary"], checks[check_id]
    assert checks["http"]["status"] == "pass"


PSUTIL_DENIED = '''
"""A psutil whose every call is denied, as on a locked-down machine."""
class Error(Exception): pass
class AccessDenied(Error): pass
def _denied(*args, **kwargs): raise AccessDenied("denied by policy")
net_if_addrs = net_if_stats = process_iter = net_connections = _denied
'''


def test_psutil_denied_everything(tmp_path: Path, home: Path, canary_key: str) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "psutil.py").write_text(PSUTIL_DENIED)
    with nf.serving(nf.litellm(behind_cloudflare=False)) as gateway:
        run = run_doctor("--json", "--no-report", "--base-url", f"http://127.0.0.1:{gateway.port}",
                         "--timeout", "1", home=home,
                         env={"CBORG_API_KEY": canary_key, "PYTHONPATH": str(site)})
    assert run.code in (0, 1), run.stderr
    assert "Traceback" not in run.output
    checks = statuses(run.stdout)
    assert checks["platform.vpn"]["status"] != "error", checks["platform.vpn"]
    assert checks["http"]["status"] == "pass"


@pytest.mark.parametrize("json_mode", [False, True])
def test_key_file_that_is_a_directory(tmp_path: Path, home: Path, json_mode: bool) -> None:
    folder = tmp_path / "key-dir"
    folder.mkdir()
    args = ["--api-key-file", str(folder), "--only", "config.key", "--no-report"]
    run = run_doctor(*args, *(["--json"] if json_mode else []), home=home)
    assert run.code == 2
    assert run.stdout == ""
    assert run.stderr.strip().splitlines() == [
        f"cborg-doctor: error: --api-key-file {folder}: is a directory, not a file (see --help)"]
