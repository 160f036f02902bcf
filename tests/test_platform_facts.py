"""The OS-facts source: live reads never raise or hang; recorded facts replay as recorded.

Also the helpers the other platform tests use to assemble a machine from the
recordings in tests/data/platform/ and to run the doctor against it.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any

from cborg_doctor import osfacts
from cborg_doctor.options import Options
from cborg_doctor.osfacts import LiveOSFacts, RecordedOSFacts, run_bounded
from cborg_doctor.registry import load_registry
from cborg_doctor.session import build_context, run_diagnosis

DATA = Path(__file__).parent / "data" / "platform"
PROFILE = "/mnt/c/Users/alice"


def psutil_record(name: str) -> dict[str, Any]:
    return json.loads((DATA / "psutil" / f"{name}.json").read_text())


def machine(
    tmp_path: Path,
    *,
    system: str = "Linux",
    kernel: str | None = None,
    psutil: str | None = None,
    wslinfo: str | None = None,
    profile: str | None = None,
    adapters: str | None = None,
    wslconfig: str | None = None,
    wslconfig_txt: str | None = None,
    wsl_conf: str | None = None,
    env: dict[str, str] | None = None,
    routes: dict[str, Any] | None = None,
    resolve: dict[str, list[str]] | None = None,
    commands: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A recording (the JSON `RecordedOSFacts.load` reads) built from the data files.

    `kernel` is a folder under proc/; `wslconfig` a file under wslconfig/, copied
    to the Windows user's profile; `wsl_conf` the text of /etc/wsl.conf.
    """
    root = tmp_path / "root"
    root.mkdir(exist_ok=True)
    if kernel:
        proc = root / "proc" / "sys" / "kernel"
        proc.mkdir(parents=True, exist_ok=True)
        shutil.copy(DATA / "proc" / kernel / "osrelease", proc / "osrelease")
        shutil.copy(DATA / "proc" / kernel / "version", root / "proc" / "version")
        if kernel.startswith("wsl"):
            interop = root / "proc" / "sys" / "fs" / "binfmt_misc"
            interop.mkdir(parents=True, exist_ok=True)
            (interop / "WSLInterop").write_text("enabled\ninterpreter /init\nflags: PF\n")
    users = root / PROFILE.lstrip("/")
    if wslconfig or wslconfig_txt or (kernel and kernel.startswith("wsl")):
        users.mkdir(parents=True, exist_ok=True)
        (users.parent / "Public").mkdir(exist_ok=True)
    if wslconfig:
        shutil.copy(DATA / "wslconfig" / wslconfig, users / ".wslconfig")
    if wslconfig_txt:
        shutil.copy(DATA / "wslconfig" / wslconfig_txt, users / ".wslconfig.txt")
    if wsl_conf is not None:
        (root / "etc").mkdir(exist_ok=True)
        (root / "etc" / "wsl.conf").write_text(wsl_conf)
    cmds: dict[str, Any] = {}
    if wslinfo:
        cmds["wslinfo.networking_mode"] = {"stdout_file": str(DATA / "wslinfo" / f"{wslinfo}.txt")}
    if profile:
        cmds["windows.profile"] = {"stdout_file": str(DATA / "cmd" / f"profile-{profile}.txt")}
    if adapters:
        cmds["windows.adapters"] = {"stdout_file": str(DATA / "netadapter" / f"{adapters}.json")}
    cmds.update(commands or {})
    wsl_env = {"WSL_DISTRO_NAME": "Ubuntu", "WSL_INTEROP": "/run/WSL/417_interop"}
    return {
        "system": system,
        "root": "root",
        "env": env if env is not None else (wsl_env if kernel and kernel.startswith("wsl") else {}),
        "psutil": psutil_record(psutil) if psutil else None,
        "commands": cmds,
        "routes": routes or {},
        "resolve": resolve or {},
    }


def save(tmp_path: Path, recording: dict[str, Any]) -> Path:
    path = tmp_path / "facts.json"
    path.write_text(json.dumps(recording))
    return path


def replay(tmp_path: Path, recording: dict[str, Any]) -> RecordedOSFacts:
    return RecordedOSFacts.load(save(tmp_path, recording))


def diagnose(facts: Any, *only: str, base_url: str = "https://10.9.8.7", **options: Any) -> dict:
    """Run the selected checks in-process on `facts`; the JSON report as a dict."""
    ctx = build_context(Options(base_url=base_url, only=only, **options), env={}, osfacts=facts)
    report = run_diagnosis(ctx, load_registry())
    data = report.to_dict()
    data["exit_code"] = int(report.exit_code(ctx.options.fail_on))
    data["by_id"] = {c["id"]: c for c in data["checks"]}
    return data


def codes(check: dict) -> list[str]:
    return [f["code"] for f in check["findings"]]


def finding(check: dict, code: str) -> dict:
    return next(f for f in check["findings"] if f["code"] == code)


# --- the live source, on this machine ----------------------------------------------------


def test_live_snapshot_reads_real_interfaces_and_processes() -> None:
    snap = LiveOSFacts().snapshot()
    assert snap.interfaces is not None
    assert any(a.address == "127.0.0.1" for i in snap.interfaces for a in i.addresses)
    assert snap.processes is not None and snap.processes  # at least pytest's own python


def test_live_record_is_json_and_replays_identically(tmp_path: Path) -> None:
    live = LiveOSFacts()
    recording = {"system": "Linux", "psutil": live.record()}
    replayed = replay(tmp_path, json.loads(json.dumps(recording))).snapshot()
    assert replayed.interfaces == live.snapshot().interfaces  # processes come and go


def test_missing_files_and_unknown_commands_are_unknown(tmp_path: Path) -> None:
    live = LiveOSFacts(root=tmp_path)
    assert live.read_text("/proc/sys/kernel/osrelease") is None
    assert live.listdir("/mnt/c/Users") is None
    assert not live.exists("/proc/sys/fs/binfmt_misc/WSLInterop")
    assert live.command("no.such.command", 1.0).status == "absent"
    assert live.read_text("/../../etc/passwd") is None  # stays under the root


def test_commands_absent_from_path_are_absent() -> None:
    facts = LiveOSFacts(env={"PATH": "/nonexistent"})
    result = facts.command("windows.adapters", 1.0)
    assert result.status == "absent" and not result.ok
    assert "not available" in result.describe("powershell.exe")


def test_a_hanging_command_is_killed_with_its_children() -> None:
    # The grandchild keeps the output pipe open: the runner must not wait for it.
    result = run_bounded(["/bin/sh", "-c", "sleep 60 & sleep 60"], 0.3, {"PATH": "/usr/bin:/bin"})
    assert result.status == "timeout"
    assert "did not answer within 0.3 s" in result.describe("sh")


def test_command_output_and_exit_code() -> None:
    ok = run_bounded([sys.executable, "-c", "print('nat')"], 10, {})
    assert ok.ok and ok.stdout.strip() == "nat"
    failed = run_bounded([sys.executable, "-c", "raise SystemExit(3)"], 10, {})
    assert failed.status == "ok" and failed.returncode == 3 and not failed.ok
    assert run_bounded(["/nonexistent/wslinfo"], 1, {}).status == "absent"


def test_windows_text_encodings_are_decoded() -> None:
    text = "[wsl2]\r\nnetworkingMode=mirrored\r\n"
    assert osfacts.decode_text(text.encode("utf-16")) == text
    assert osfacts.decode_text(text.encode("utf-16-le")) == text
    assert osfacts.decode_text(b"\xef\xbb\xbf" + text.encode()) == text


def test_resolve_is_bounded_and_local_names_resolve() -> None:
    assert "127.0.0.1" in osfacts.resolve_bounded("localhost", 5.0).addresses
    missing = osfacts.resolve_bounded("name.invalid", 5.0)
    assert missing.addresses == () and missing.error and missing.error != "timeout"
    assert missing.why().startswith("did not resolve: ")


def test_replay_variable_selects_recorded_facts(tmp_path: Path) -> None:
    path = save(tmp_path, machine(tmp_path, kernel="wsl2", system="Linux"))

    ctx = build_context(Options(), env={osfacts.REPLAY_VARIABLE: str(path)})
    facts = osfacts.for_context(ctx)
    assert isinstance(facts, RecordedOSFacts)
    assert "WSL2" in (facts.read_text("/proc/sys/kernel/osrelease") or "")


def test_a_broken_recording_replays_as_a_machine_where_nothing_is_known(tmp_path: Path) -> None:
    path = tmp_path / "facts.json"
    path.write_text("{not json")
    facts = RecordedOSFacts.load(path)
    assert facts.snapshot().interfaces is None and facts.snapshot().processes is None
    assert facts.command("wslinfo.networking_mode", 1).status == "absent"
    assert facts.route("10.0.0.1", 443).local_address is None
    report = diagnose(facts, "platform.vpn", "platform.wsl")
    vpn, wsl = report["by_id"]["platform.vpn"], report["by_id"]["platform.wsl"]
    assert vpn["status"] == "pass" and "interfaces unknown" in vpn["summary"]
    assert wsl["status"] == "pass" and wsl["summary"] == "not WSL"
    assert report["exit_code"] == 0


def test_a_recording_with_wrong_types_is_unknown_not_a_crash(tmp_path: Path) -> None:
    path = save(tmp_path, {"system": "Windows", "env": ["x"], "commands": ["wslinfo"],
                           "psutil": {"net_if_addrs": {"Wi-Fi": {"family": "AF_INET"}},
                                      "processes": "vpnagent.exe"},
                           "resolve": [], "routes": 7})
    report = diagnose(RecordedOSFacts.load(path), "platform.vpn", "platform.wsl")
    assert [c["status"] for c in report["checks"]] == ["pass", "pass"]
