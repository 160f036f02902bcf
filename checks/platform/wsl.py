"""`platform.wsl`: is this WSL, which networking mode, and is it the NAT-behind-VPN trap.

WSL 2 in its default NAT mode sits behind a virtual switch that VPN clients
(Cisco Secure Client above all) do not route for: DNS and TCP from Linux time
out while Windows works. CBorg's documentation fixes it with mirrored
networking and DNS tunnelling in ``%UserProfile%\\.wslconfig``. Many users
have "done that" and are still in NAT mode because WSL silently ignored what
they wrote, so this check reads the file like WSL does and prints the merged
file they need. Everything comes from `cborg_doctor.osfacts`; a fact that
cannot be read within its time bound is reported as unknown.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from cborg_doctor import wslconfig
from cborg_doctor.api import Check, Code, Finding, Outcome, RunContext, Severity
from cborg_doctor.cborg import KEY_PAGE
from cborg_doctor.fixes.remedies import WSLCONFIG as WSLCONFIG_REMEDY
from cborg_doctor.osfacts import OSFacts, for_context
from cborg_doctor.timeouts import Deadline
from cborg_doctor.vpnclients import is_vpn_adapter

WSLCONFIG = "%UserProfile%\\.wslconfig"
EXPLAINED = ("dns", "net.ipv4", "net.ipv6", "tls", "http")

FORCE_FAMILY = (
    "If afterwards only IPv4 or only IPv6 reaches the gateway, force the working family: "
    "`curl -4 https://api.cborg.lbl.gov/health/liveliness` (or -6); in Python, "
    'httpx.Client(transport=httpx.HTTPTransport(local_address="0.0.0.0")) for IPv4 '
    '(local_address="::" for IPv6), passed as OpenAI(http_client=...).'
)

WSL_DETECTED = Code(
    "WSL_DETECTED",
    Severity.INFO,
    "WSL {version}: networking mode {mode} ({mode_source}); {settings}.",
    explain="Linux runs inside WSL. WSL 1 shares Windows' network stack (a VPN on Windows "
    "works for Linux too). WSL 2 runs a VM whose networking mode is `nat` (the default: "
    "Linux sits behind a virtual switch), `mirrored` (Linux sees Windows' interfaces, "
    "Windows 11 22H2+), `virtioproxy`, `none` or, for a WSL 1 distro, `wsl1`. "
    "`wslinfo --networking-mode` tells the mode in use; otherwise the doctor reads "
    f"{WSLCONFIG} as WSL does and reports dnsTunneling, autoProxy and firewall.",
)
WSL_NAT_VPN = Code(
    "WSL_NAT_VPN",
    Severity.WARN,
    "WSL 2 is in NAT mode ({mode_source}) while Windows has a VPN up ({vpn}): VPN clients "
    "do not route WSL's NAT traffic, so DNS and connections from Linux fail or time out.",
    fix=(
        "Make " + WSLCONFIG + " exactly this (your whole file: your settings are kept, the "
        "networking ones are set under [wsl2]; in Notepad choose \"Save as type: All files\" "
        "so it does not become .wslconfig.txt):\n\n{wslconfig_text}",
        "From PowerShell or cmd on Windows run `wsl --shutdown`, wait about 8 seconds, then "
        "reopen your WSL terminal; `wslinfo --networking-mode` should print mirrored.",
        FORCE_FAMILY,
    ),
    explain="CBorg's documentation for WSL 2 with the Cisco VPN: in "
    f"{WSLCONFIG} put\n\n    [wsl2]\n    networkingMode=mirrored\n    dnsTunneling=true\n\n"
    "then `wsl --shutdown` and reopen. The fix printed in a run is your own file merged "
    "with these settings (the placeholder above). When DNS or TCP to the gateway then fails "
    "in the same run, the verdict names this finding rather than the DNS symptom.",
    remedy=WSLCONFIG_REMEDY,
    explains=EXPLAINED,
)
WSL_CONFIG_IGNORED = Code(
    "WSL_CONFIG_IGNORED",
    Severity.WARN,
    "WSL ignores {what}: {problems}.",
    fix=(
        "Make " + WSLCONFIG + " exactly this (your whole file, corrected):\n\n{wslconfig_text}",
        "From PowerShell or cmd on Windows run `wsl --shutdown`, then reopen your WSL terminal.",
    ),
    explain="WSL reads only %UserProfile%\\.wslconfig (not .wslconfig.txt, which Notepad "
    "makes unless you pick \"All files\"), only keys it knows (networkingMode, not "
    "networkMode), only under [wsl2] for the networking keys (before any section or under "
    "another one they are ignored), only lower-case values, and mirrored mode only on "
    "Windows 11 22H2 (build 22621) or newer. It warns once at start-up and falls back to "
    "NAT. Settings for the VM in /etc/wsl.conf are ignored too: they belong in .wslconfig.",
    remedy=WSLCONFIG_REMEDY,
)
WSL_RESTART_NEEDED = Code(
    "WSL_RESTART_NEEDED",
    Severity.WARN,
    "{file} asks for networkingMode={wanted}, but WSL is running in {mode} mode.",
    fix=(
        "From PowerShell or cmd on Windows run `wsl --shutdown`, wait about 8 seconds, then "
        "reopen your WSL terminal: WSL reads .wslconfig only when its VM starts.",
        "If `wslinfo --networking-mode` still prints {mode}, your organisation's policy or "
        "Windows version overrides the setting: WSL says why in the first lines after "
        "`wsl --shutdown` and reopening.",
    ),
    explain="The configuration file asks for a mode that is not the running one: WSL was "
    "not restarted since the file changed, or WSL refused the mode (policy, Windows version).",
)
WIN10_STEPS = (
    "This Windows ({build}) is older than Windows 11 22H2, so mirrored mode is not "
    "available. Instead use WSL 1 for this distro, which shares Windows' network and VPN: "
    "`wsl --set-version {distro} 1` from PowerShell; or disconnect the VPN while using "
    "CBorg from WSL (CBorg then needs your IP authorized at " + KEY_PAGE + ").",
)

MODES = ("nat", "mirrored", "bridged", "virtioproxy", "none", "wsl1")
@dataclass(frozen=True)
class WslInfo:
    """What identifies WSL: version 1 or 2 (None if unclear) and the distro."""

    version: int | None
    kernel: str
    distro: str | None
    interop: bool


def detect(facts: OSFacts) -> WslInfo | None:
    """WSL or not, from the kernel release, WSL's variables and its interop registration."""
    if facts.system != "Linux":
        return None
    release = (facts.read_text("/proc/sys/kernel/osrelease") or "").strip()
    env = facts.env
    interop = bool(env.get("WSL_INTEROP")) or facts.exists("/proc/sys/fs/binfmt_misc/WSLInterop")
    # Only the release string: /proc/version of other Microsoft-built kernels (Azure) says
    # "Microsoft" too, and a custom WSL kernel still has WSL's variables and interop.
    if not ("microsoft" in release.lower() or env.get("WSL_DISTRO_NAME") or interop):
        return None
    lower = release.lower()
    if "wsl2" in lower or "microsoft-standard" in lower:
        version: int | None = 2
    elif "Microsoft" in release:  # WSL 1: "4.4.0-19041-Microsoft"
        version = 1
    elif env.get("WSL_INTEROP"):
        version = 2
    else:
        version = None
    return WslInfo(version, release, env.get("WSL_DISTRO_NAME") or None, interop)


@dataclass(frozen=True)
class CommandTime:
    """Shares the check's deadline among the Windows commands it may run."""

    deadline: Deadline
    cap: float

    def bound(self) -> float:
        return self.deadline.bound(self.cap)


@dataclass(frozen=True)
class WindowsSide:
    """The Windows user's profile folder (as a Linux path) and the Windows build."""

    profile: str | None
    build: int | None
    why_unknown: str = ""


def mount_root(facts: OSFacts) -> str:
    """Where Windows drives are mounted: /etc/wsl.conf [automount] root, default /mnt/."""
    text = facts.read_text("/etc/wsl.conf") or ""
    section = None
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if line.startswith("["):
            section = line.strip("[] ").lower()
        elif section == "automount" and "=" in line:
            key, value = (p.strip() for p in line.split("=", 1))
            if key.lower() == "root" and value.strip("\"'"):
                return value.strip("\"'").rstrip("/") + "/"
    return "/mnt/"


def windows_to_linux(path: str, root: str) -> str | None:
    match = re.match(r"^([A-Za-z]):\\(.*)$", path.strip())
    if not match:
        return None
    rest = match.group(2).replace("\\", "/").strip("/")
    return f"{root}{match.group(1).lower()}/{rest}".rstrip("/")


def windows_side(facts: OSFacts, deadline: CommandTime) -> WindowsSide:
    """Find the Windows profile: WSLENV's USERPROFILE, else cmd.exe, else the one user folder."""
    root = mount_root(facts)
    env_profile = facts.env.get("USERPROFILE", "")
    profile = env_profile if env_profile.startswith("/") else None
    build = None
    why = ""
    result = facts.command("windows.profile", deadline.bound())
    if result.ok:
        for line in result.stdout.splitlines():
            line = line.strip()
            if profile is None and re.match(r"^[A-Za-z]:\\", line):
                profile = windows_to_linux(line, root)
            found = re.search(r"Version \d+\.\d+\.(\d+)", line)
            if found:
                build = int(found.group(1))
    else:
        why = result.describe("cmd.exe (Windows interop)")
    if profile is None:
        profile = _only_user_folder(facts, root)
    return WindowsSide(profile, build, why)


_NOT_USERS = {"public", "default", "default user", "all users", "desktop.ini",
              "wdagutilityaccount", "defaultapppool"}


def _only_user_folder(facts: OSFacts, root: str) -> str | None:
    users = f"{root}c/Users"
    names = [n for n in facts.listdir(users) or () if n.lower() not in _NOT_USERS]
    with_config = [n for n in names if facts.exists(f"{users}/{n}/.wslconfig")
                   or facts.exists(f"{users}/{n}/.wslconfig.txt")]
    pick = with_config if len(with_config) == 1 else names
    return f"{users}/{pick[0]}" if len(pick) == 1 else None


@dataclass(frozen=True)
class ConfigState:
    """The user's .wslconfig as WSL reads it, and what WSL ignores in it."""

    found: str | None  # ".wslconfig", ".wslconfig.txt" or None
    parsed: wslconfig.ParsedConfig
    problems: tuple[str, ...]
    base_text: str | None  # the text the fix starts from


def read_config(facts: OSFacts, side: WindowsSide) -> ConfigState | None:
    if side.profile is None:
        return None
    text = facts.read_text(f"{side.profile}/.wslconfig")
    txt = facts.read_text(f"{side.profile}/.wslconfig.txt")
    problems: list[str] = []
    parsed = wslconfig.parse(text or "")
    if text is None and txt is not None:
        problems.append("the file is named .wslconfig.txt (Notepad adds .txt, and Explorer "
                        "hides it); WSL reads only .wslconfig, so none of it applies: rename it "
                        "with `ren %UserProfile%\\.wslconfig.txt .wslconfig` in cmd")
        parsed_txt = wslconfig.parse(txt)
        problems += [p.text for p in parsed_txt.problems]
        return ConfigState(".wslconfig.txt", wslconfig.parse(""), tuple(problems), txt)
    if text is not None and txt is not None and any(
        wslconfig.intended_key(s.key) for s in wslconfig.parse(txt).settings
    ):
        problems.append("there is also a .wslconfig.txt with networking settings; WSL never "
                        "reads it (merge what you need into .wslconfig and delete it)")
    problems += [p.text for p in parsed.problems]
    mode = parsed.value("networkingMode")
    if mode == "mirrored" and wslconfig.mirrored_unsupported(side.build):
        problems.append(f"networkingMode=mirrored needs Windows 11 22H2 (build "
                        f"{wslconfig.MIRRORED_MIN_BUILD}) or newer; this is build {side.build}, "
                        "so WSL falls back to NAT")
    return ConfigState(".wslconfig" if text is not None else None, parsed, tuple(problems), text)


def wsl_conf_problems(facts: OSFacts) -> list[str]:
    """Networking settings written in /etc/wsl.conf, where WSL ignores them."""
    parsed = wslconfig.parse(facts.read_text("/etc/wsl.conf") or "")
    return [
        f"/etc/wsl.conf line {s.line}: {s.key} is a setting of the WSL 2 VM; WSL reads it "
        f"only from {WSLCONFIG}"
        for s in parsed.settings
        if (wslconfig.intended_key(s.key) or "").lower() == s.key.lower()
    ]


def host_vpn_adapters(facts: OSFacts, deadline: CommandTime) -> tuple[list[dict[str, str]] | None, str]:
    """The Windows host's adapters that are VPNs and up, or None with why it is unknown."""
    result = facts.command("windows.adapters", deadline.bound())
    if not result.ok:
        return None, result.describe("powershell.exe Get-NetAdapter")
    adapters = parse_adapters(result.stdout)
    if adapters is None:
        return None, "Get-NetAdapter gave output that is not JSON"
    return [a for a in adapters if is_vpn_adapter(a) and a.get("status", "").lower() == "up"], ""


def parse_adapters(text: str) -> list[dict[str, str]] | None:
    """`Get-NetAdapter | ConvertTo-Json` (one object or a list) → name, description, status."""
    try:
        data = json.loads(text.strip() or "[]")
    except ValueError:
        return None
    items = data if isinstance(data, list) else [data]
    found = []
    for item in items:
        if not isinstance(item, dict):
            continue
        status = item.get("Status")
        if isinstance(status, int):  # older PowerShell serialises the enum as a number
            status = {1: "Up", 2: "Disconnected", 7: "Disconnected"}.get(status, str(status))
        found.append({
            "name": str(item.get("Name") or ""),
            "description": str(item.get("InterfaceDescription") or item.get("ifDesc") or ""),
            "status": str(status or ""),
        })
    return found


def _settings_text(parsed: wslconfig.ParsedConfig | None) -> str:
    parts = []
    for key in wslconfig.NETWORK_KEYS[1:]:
        value = parsed.value(key) if parsed else None
        parts.append(f"{key}={value}" if value is not None else f"{key} not set (WSL default)")
    return ", ".join(parts)


def run(ctx: RunContext) -> Outcome:
    facts = for_context(ctx)
    info = detect(facts)
    if info is None:
        return Outcome("not WSL", data={"wsl": False})
    deadline = CommandTime(ctx.deadline, ctx.timeouts.command)
    version = str(info.version) if info.version else "(version unknown)"
    if not info.distro and not info.interop:
        version += " kernel (no WSL distro variables or interop: probably a container)"
    mode, mode_source = _running_mode(facts, info, deadline)
    wsl2 = info.version != 1
    side = windows_side(facts, deadline) if wsl2 else WindowsSide(None, None)
    config = read_config(facts, side) if wsl2 else None
    configured = config.parsed.value("networkingMode") if config else None
    if mode is None:
        mode, mode_source = _assumed_mode(configured, config, side, mode_source)
    findings: list[Finding] = []
    settings = _settings_text(config.parsed if config else None)
    findings.append(WSL_DETECTED.finding(version=version, mode=mode, mode_source=mode_source,
                                         settings=settings))
    data: dict[str, object] = {
        "wsl": True, "version": info.version, "kernel": info.kernel, "distro": info.distro,
        "networking_mode": mode, "mode_source": mode_source, "settings": settings,
        "wslconfig": config.found if config else None,
        "profile": side.profile, "build": side.build,
    }
    summary = f"WSL {version}, {mode} mode"
    if wsl2 and mode == "nat":
        vpns, why = host_vpn_adapters(facts, deadline)
        if vpns is None:
            data["host_vpn"] = f"unknown: {why}"
            summary += f"; whether Windows has a VPN up is unknown ({why})"
        else:
            data["host_vpn"] = [f"{a['description']} ({a['name']})" for a in vpns]
            if vpns:
                findings.append(_nat_vpn(info, side, config, vpns, mode_source))
                summary += " behind a Windows VPN"
    problems = [*(config.problems if config else ()), *(wsl_conf_problems(facts) if wsl2 else ())]
    if problems:
        text = wslconfig.merged(config.base_text if config else None, _intended(config))
        what = "part of " + WSLCONFIG if config and config.found == ".wslconfig" else (
            "your WSL configuration")
        findings.append(WSL_CONFIG_IGNORED.finding(
            what=what, problems="; ".join(problems), wslconfig_text=_indent(text),
            data=_fix_data(side, config, _intended(config))))
        data["config_problems"] = problems
    elif (configured in ("nat", "mirrored") and mode_source == "wslinfo" and configured != mode
          and mode in ("nat", "mirrored")):
        findings.append(WSL_RESTART_NEEDED.finding(file=WSLCONFIG, wanted=configured, mode=mode))
    return Outcome(summary, findings, data)


def _assumed_mode(configured: str | None, config: ConfigState | None, side: WindowsSide,
                  why_no_wslinfo: str) -> tuple[str, str]:
    """The mode WSL will use by its configuration, when `wslinfo` cannot tell."""
    if config is None:
        reason = side.why_unknown or "the Windows profile folder was not found"
        return "nat", f"assumed: WSL's default; {WSLCONFIG} could not be read, {reason}"
    if configured is None:
        return "nat", f"WSL's default: {WSLCONFIG} sets no valid networkingMode; {why_no_wslinfo}"
    if configured == "mirrored" and wslconfig.mirrored_unsupported(side.build):
        return "nat", f"mirrored is unavailable on build {side.build}; {why_no_wslinfo}"
    return configured, f"from {WSLCONFIG}; {why_no_wslinfo}"


def _intended(config: ConfigState | None) -> tuple[tuple[str, str], ...]:
    """What the user meant to set with the lines WSL ignores: key names fixed, values lowered."""
    if config is None:
        return ()
    parsed = config.parsed
    if config.found != ".wslconfig" and config.base_text is not None:
        parsed = wslconfig.parse(config.base_text)
    meant: dict[str, str] = {}
    for setting in parsed.settings:
        key = wslconfig.intended_key(setting.key)
        if key is None or key in meant or parsed.effective(key) is not None:
            continue
        value = setting.value.lower()
        if wslconfig.value_ok(key, value):
            meant[key] = value
    return tuple(meant.items())


def _running_mode(facts: OSFacts, info: WslInfo, deadline: CommandTime) -> tuple[str | None, str]:
    result = facts.command("wslinfo.networking_mode", deadline.bound())
    answer = result.stdout.strip().lower() if result.ok else ""
    if answer in MODES:
        return answer, "wslinfo"
    if info.version == 1:
        return "wsl1", "WSL 1 shares Windows' network"
    return None, result.describe("wslinfo --networking-mode")


def _nat_vpn(info: WslInfo, side: WindowsSide, config: ConfigState | None,
             vpns: list[dict[str, str]], mode_source: str) -> Finding:
    vpn = ", ".join(f"{a['description'] or a['name']}" for a in vpns)
    text = wslconfig.merged(config.base_text if config else None)
    extra: tuple[str, ...] = ()
    if wslconfig.mirrored_unsupported(side.build):
        extra = tuple(step.format(build=f"build {side.build}", distro=info.distro or "<distro>")
                      for step in WIN10_STEPS)
    return WSL_NAT_VPN.finding(mode_source=mode_source, vpn=vpn, wslconfig_text=_indent(text),
                               extra_fix=extra, data=_fix_data(side, config, wslconfig.WANTED))


def _fix_data(side: WindowsSide, config: ConfigState | None,
              wanted: tuple[tuple[str, str], ...]) -> dict[str, object]:
    """What `--fix` needs to write the merged file (see cborg_doctor.fixes.remedies)."""
    return {"profile": side.profile, "build": side.build,
            "found": config.found if config else None, "wanted": [list(p) for p in wanted]}


# Seven spaces: a code block inside a numbered step ("1. ") in the Markdown report, and
# plainly indented on the console. WSL skips leading spaces, so a pasted copy still works.
SNIPPET_INDENT = " " * 7


def _indent(text: str) -> str:
    return "\n".join(f"{SNIPPET_INDENT}{line}" if line else ""
                     for line in text.rstrip("\n").splitlines())


CHECK = Check(
    id="platform.wsl",
    title="WSL",
    run=run,
    codes=(WSL_DETECTED, WSL_NAT_VPN, WSL_CONFIG_IGNORED, WSL_RESTART_NEEDED),
    order=60,
    description="WSL version, networking mode, DNS tunnelling",
)
