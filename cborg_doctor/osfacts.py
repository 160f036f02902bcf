"""Every OS fact the platform checks read, from one small source that tests can replace.

The checks never touch ``/proc``, psutil, subprocesses or the resolver directly;
they ask an `OSFacts`:

==================  ==========================================  ===========================
fact                live (`LiveOSFacts`)                        recorded (`RecordedOSFacts`)
==================  ==========================================  ===========================
``system``          ``platform.system()``                       ``"system"``
``env``             the run's environment                       ``"env"`` (else the run's)
``read_text(p)``    file ``p`` under ``/``                      file ``p`` under ``"root"``
``command(name)``   one of `COMMANDS`, killed after a timeout   ``"commands"[name]``
``snapshot()``      psutil interfaces, stats, process names     ``"psutil"``
``resolve(host)``   ``getaddrinfo`` in a thread, bounded        ``"resolve"[host]`` (a list,
                                                                or ``{"error": "..."}``)
``route(addr)``     `cborg_doctor.probes.route`                 ``"routes"[addr]``
==================  ==========================================  ===========================

Anything missing, denied or slow is *unknown* (``None`` or a `CommandResult`
whose status says why), never an exception; nothing needs privileges.

Recorded facts are a JSON file in the same shape as `LiveOSFacts.record()`
prints. Setting ``CBORG_DOCTOR_OSFACTS=/path/facts.json`` makes a run replay
them instead of reading this machine: the test suite uses it to run the real
CLI against a WSL 2 or a Windows machine's facts, and a helpdesk can replay a
user's recording.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import platform
import shutil
import socket
import subprocess
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from types import MappingProxyType
from typing import Any, Protocol

from .probes import route as route_probe

REPLAY_VARIABLE = "CBORG_DOCTOR_OSFACTS"
MAX_FILE_BYTES = 256 * 1024
MAX_OUTPUT_BYTES = 1024 * 1024

# The Windows host's PowerShell, for WSL sessions where interop does not put it on PATH.
_POWERSHELL = "powershell.exe"
_POWERSHELL_FALLBACK = "/mnt/c/Windows/System32/WindowsPowerShell/v1.0/powershell.exe"
_CMD_FALLBACK = "/mnt/c/Windows/System32/cmd.exe"
_ADAPTERS_SCRIPT = (
    "Get-NetAdapter | Select-Object Name, InterfaceDescription, Status, ifIndex | ConvertTo-Json"
)

# Every command a check may run, by name: candidate argv lists, tried in order.
COMMANDS: Mapping[str, tuple[tuple[str, ...], ...]] = MappingProxyType(
    {
        # WSL 2.0+: prints nat, mirrored, bridged, virtioproxy, none or wsl1.
        "wslinfo.networking_mode": (("wslinfo", "--networking-mode"),),
        # The Windows user's profile folder and the Windows build, through interop.
        "windows.profile": tuple(
            (exe, "/d", "/c", "echo %USERPROFILE%& ver") for exe in ("cmd.exe", _CMD_FALLBACK)
        ),
        # The host's network adapters (WSL through interop, or native Windows).
        "windows.adapters": tuple(
            (exe, "-NoLogo", "-NoProfile", "-NonInteractive", "-Command", _ADAPTERS_SCRIPT)
            for exe in (_POWERSHELL, _POWERSHELL_FALLBACK)
        ),
    }
)


@dataclass(frozen=True)
class CommandResult:
    """What one command gave: ``status`` is ok, absent, timeout or failed."""

    status: str
    stdout: str = ""
    returncode: int | None = None
    seconds: float | None = None  # the bound that was hit, for "timeout"

    @property
    def ok(self) -> bool:
        return self.status == "ok" and self.returncode == 0

    def describe(self, what: str) -> str:
        """A short phrase for a summary: why this fact is unknown."""
        if self.status == "absent":
            return f"{what} is not available"
        if self.status == "timeout":
            return f"{what} did not answer within {self.seconds or 0:g} s"
        if self.returncode not in (0, None):
            return f"{what} exited with {self.returncode}"
        return f"{what} failed"


@dataclass(frozen=True)
class Address:
    family: str  # "ipv4" or "ipv6"
    address: str
    netmask: str | None = None

    @property
    def link_local(self) -> bool:
        try:
            ip = ipaddress.ip_address(self.address.split("%", 1)[0])
        except ValueError:
            return False
        return ip.is_link_local or ip.is_loopback


@dataclass(frozen=True)
class Interface:
    """One network interface; ``up`` is None when its state is unknown."""

    name: str
    up: bool | None
    addresses: tuple[Address, ...] = ()

    def routable(self) -> tuple[Address, ...]:
        """Addresses other than loopback and link-local ones."""
        return tuple(a for a in self.addresses if not a.link_local)


@dataclass(frozen=True)
class Snapshot:
    """Interfaces and process names; either is None when it could not be read."""

    interfaces: tuple[Interface, ...] | None
    processes: frozenset[str] | None

    def interface_of(self, address: str) -> Interface | None:
        """The interface that carries a local address."""
        wanted = address.split("%", 1)[0]
        for interface in self.interfaces or ():
            if any(a.address.split("%", 1)[0] == wanted for a in interface.addresses):
                return interface
        return None


@dataclass(frozen=True)
class Resolution:
    """A host's addresses, or why there are none: ``timeout`` (the bound was hit) or the
    resolver's own words ("Temporary failure in name resolution")."""

    addresses: tuple[str, ...] = ()
    error: str = ""
    seconds: float = 0.0  # the bound, for "timeout"

    def why(self) -> str:
        if self.error == "timeout":
            return f"did not resolve within {self.seconds:g} s"
        return f"did not resolve: {self.error}" if self.error else "did not resolve"


class OSFacts(Protocol):
    """What the platform checks may ask about the machine."""

    system: str  # "Linux", "Darwin", "Windows", ...
    env: Mapping[str, str]

    def read_text(self, path: str) -> str | None: ...

    def exists(self, path: str) -> bool: ...

    def listdir(self, path: str) -> list[str] | None: ...

    def command(self, name: str, timeout: float) -> CommandResult: ...

    def snapshot(self) -> Snapshot: ...

    def resolve(self, host: str, timeout: float) -> Resolution: ...

    def route(self, address: str, port: int) -> route_probe.LocalRoute: ...


def for_context(ctx: Any) -> OSFacts:
    """The run's source: ``ctx.osfacts`` when a test set one, a replay, else this machine."""
    if getattr(ctx, "osfacts", None) is not None:
        return ctx.osfacts  # type: ignore[no-any-return]
    env: Mapping[str, str] = getattr(ctx, "env", None) or os.environ
    replay = env.get(REPLAY_VARIABLE)
    if replay:
        return RecordedOSFacts.load(Path(replay), fallback_env=env)
    return LiveOSFacts(env=env)


# --- decoding shared by both sources ---------------------------------------------


def decode_text(raw: bytes) -> str:
    """Text as Windows tools and Notepad write it: UTF-8 (with or without BOM) or UTF-16."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16", errors="replace")
    if len(raw) >= 4 and raw[1:2] == b"\x00" and raw[3:4] == b"\x00":
        return raw.decode("utf-16-le", errors="replace")
    return raw.decode("utf-8-sig", errors="replace")


def _read_under(root: Path, path: str) -> str | None:
    try:
        with open(_under(root, path), "rb") as handle:
            return decode_text(handle.read(MAX_FILE_BYTES))
    except (OSError, ValueError):
        return None


def _under(root: Path, path: str) -> Path:
    relative = PurePosixPath(path)
    parts = [p for p in relative.parts if p not in ("/", "..")]
    return root.joinpath(*parts)


def _listdir_under(root: Path, path: str) -> list[str] | None:
    try:
        return sorted(os.listdir(_under(root, path)))
    except (OSError, ValueError):
        return None


def _exists_under(root: Path, path: str) -> bool:
    try:
        return _under(root, path).exists()
    except (OSError, ValueError):
        return False


def snapshot_from_record(record: Mapping[str, Any] | None) -> Snapshot:
    """Turn a psutil-shaped record (see `LiveOSFacts.record`) into a `Snapshot`."""
    if not isinstance(record, Mapping):
        return Snapshot(None, None)
    addrs, stats = record.get("net_if_addrs"), record.get("net_if_stats") or {}
    interfaces: tuple[Interface, ...] | None = None
    if isinstance(addrs, Mapping):
        found = []
        for name, entries in addrs.items():
            stat = stats.get(name) if isinstance(stats, Mapping) else None
            up = stat.get("isup") if isinstance(stat, Mapping) else None
            found.append(
                Interface(
                    name=str(name),
                    up=up if isinstance(up, bool) else None,
                    addresses=tuple(_address(e) for e in entries or () if _address(e)),  # type: ignore[misc]
                )
            )
        interfaces = tuple(found)
    procs = record.get("processes")
    processes = None
    if isinstance(procs, Sequence) and not isinstance(procs, str):
        names = (p.get("name") if isinstance(p, Mapping) else p for p in procs)
        processes = frozenset(str(n) for n in names if n)
    return Snapshot(interfaces, processes)


def _address(entry: Any) -> Address | None:
    if not isinstance(entry, Mapping):
        return None
    family = {"AF_INET": "ipv4", "AF_INET6": "ipv6"}.get(str(entry.get("family")))
    address = entry.get("address")
    if family is None or not isinstance(address, str):
        return None
    netmask = entry.get("netmask")
    return Address(family, address, netmask if isinstance(netmask, str) else None)


# --- this machine ------------------------------------------------------------------


@dataclass(frozen=True)
class LiveOSFacts:
    """This machine, read without privileges and within time bounds."""

    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    root: Path = Path("/")
    system: str = field(default_factory=platform.system)

    def read_text(self, path: str) -> str | None:
        return _read_under(self.root, path)

    def exists(self, path: str) -> bool:
        return _exists_under(self.root, path)

    def listdir(self, path: str) -> list[str] | None:
        return _listdir_under(self.root, path)

    def command(self, name: str, timeout: float) -> CommandResult:
        result = CommandResult("absent")
        for argv in COMMANDS.get(name, ()):
            executable = shutil.which(argv[0], path=self.env.get("PATH"))
            if executable is None and os.path.isabs(argv[0]) and os.access(argv[0], os.X_OK):
                executable = argv[0]
            if executable is None:
                continue
            result = run_bounded((executable, *argv[1:]), timeout, self.env)
            if result.status != "absent":
                return result
        return result

    def record(self) -> dict[str, Any]:
        """psutil's view as plain data: the shape recorded snapshots use."""
        return {"net_if_addrs": _psutil_addrs(), "net_if_stats": _psutil_stats(),
                "processes": _psutil_processes()}

    def snapshot(self) -> Snapshot:
        return snapshot_from_record(self.record())

    def resolve(self, host: str, timeout: float) -> Resolution:
        return resolve_bounded(host, timeout)

    def route(self, address: str, port: int) -> route_probe.LocalRoute:
        return route_probe.local_route(address, port)


def run_bounded(argv: Sequence[str], timeout: float, env: Mapping[str, str]) -> CommandResult:
    """Run one command with stdin closed; kill it (and its group) after `timeout` s."""
    kwargs: dict[str, Any] = {}
    if os.name == "nt":
        kwargs["creationflags"] = getattr(subprocess, "CREATE_NO_WINDOW", 0)
    else:
        kwargs["start_new_session"] = True
    # Windows executables started from WSL complain about a Linux working directory.
    cwd = "/mnt/c" if argv[0].endswith(".exe") and os.path.isdir("/mnt/c") else None
    try:
        proc = subprocess.Popen(
            list(argv), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL, env=dict(env), cwd=cwd, **kwargs,
        )
    except FileNotFoundError:
        return CommandResult("absent")
    except OSError:
        return CommandResult("failed")
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill(proc)
        return CommandResult("timeout", seconds=timeout)
    return CommandResult("ok", decode_text(out[:MAX_OUTPUT_BYTES]), proc.returncode)


def _kill(proc: subprocess.Popen[bytes]) -> None:
    """Kill a timed-out command without ever waiting on pipes a grandchild holds."""
    with contextlib.suppress(OSError):
        if os.name == "nt":
            proc.kill()
        else:
            os.killpg(proc.pid, 9)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=0.5)
    if proc.stdout is not None:
        proc.stdout.close()


def resolve_bounded(host: str, timeout: float) -> Resolution:
    """The system resolver's addresses for `host`, or why it gave none, within `timeout`.

    getaddrinfo cannot be cancelled, so it runs in a daemon thread that is
    abandoned (not waited for) after `timeout`.
    """
    box: list[Resolution] = []

    def lookup() -> None:
        try:
            infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
        except (OSError, UnicodeError) as exc:
            box.append(Resolution(error=str(getattr(exc, "strerror", None) or exc
                                            or type(exc).__name__)))
            return
        seen: dict[str, None] = {}
        for info in infos:
            seen.setdefault(str(info[4][0]), None)
        box.append(Resolution(tuple(seen)))

    worker = threading.Thread(target=lookup, name="osfacts-resolve", daemon=True)
    worker.start()
    worker.join(timeout)
    return box[0] if box else Resolution(error="timeout", seconds=timeout)


def _psutil_addrs() -> dict[str, list[dict[str, Any]]] | None:
    try:
        import psutil

        raw = psutil.net_if_addrs()
    except Exception:  # psutil missing, denied or broken on this platform: unknown
        return None
    families = {socket.AF_INET: "AF_INET", socket.AF_INET6: "AF_INET6"}
    return {
        name: [
            {"family": families[a.family], "address": a.address, "netmask": a.netmask}
            for a in entries
            if a.family in families
        ]
        for name, entries in raw.items()
    }


def _psutil_stats() -> dict[str, dict[str, Any]] | None:
    try:
        import psutil

        raw = psutil.net_if_stats()
    except Exception:  # unknown, not an error
        return None
    return {name: {"isup": bool(s.isup), "mtu": s.mtu} for name, s in raw.items()}


def _psutil_processes() -> list[dict[str, Any]] | None:
    """Process names only: no ids of users, no command lines."""
    try:
        import psutil

        names = set()
        for proc in psutil.process_iter(["name"]):
            name = (proc.info or {}).get("name")
            if name:
                names.add(str(name))
    except Exception:  # denied or unsupported: unknown
        return None
    return [{"name": n} for n in sorted(names)]


# --- recorded facts ----------------------------------------------------------------


@dataclass(frozen=True)
class RecordedOSFacts:
    """Facts recorded on some machine (a WSL 2 laptop, a Mac, Windows), replayed.

    ``root`` holds the recorded files at their real paths (``root/proc/...``,
    ``root/mnt/c/Users/...``). ``commands`` maps a `COMMANDS` name to
    ``{"stdout": ..., "returncode": 0}``, ``{"stdout_file": "relative/path"}``
    or ``{"status": "timeout"}``; a command not listed is absent. ``routes``
    maps a destination to its local address, or to ``{"error": "no_route"}``.
    """

    system: str = "Linux"
    env: Mapping[str, str] = field(default_factory=dict)
    root: Path | None = None
    commands: Mapping[str, Any] = field(default_factory=dict)
    psutil: Mapping[str, Any] | None = None
    resolved: Mapping[str, Sequence[str]] = field(default_factory=dict)
    routes: Mapping[str, Any] = field(default_factory=dict)
    base: Path = Path(".")  # where "stdout_file" paths are relative to

    @classmethod
    def load(cls, path: Path, fallback_env: Mapping[str, str] | None = None) -> RecordedOSFacts:
        """Read a recording; an unreadable one replays as a machine where nothing is known."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            data = {}
        if not isinstance(data, dict):
            data = {}
        return cls.from_dict(data, base=path.parent, fallback_env=fallback_env)

    @classmethod
    def from_dict(
        cls, data: Mapping[str, Any], base: Path, fallback_env: Mapping[str, str] | None = None
    ) -> RecordedOSFacts:
        def mapping(name: str) -> Mapping[str, Any]:
            value = data.get(name)
            return value if isinstance(value, Mapping) else {}

        env = data.get("env")
        root = data.get("root")
        return cls(
            system=str(data.get("system") or "Linux"),
            env={str(k): str(v) for k, v in env.items()} if isinstance(env, Mapping)
            else dict(fallback_env or {}),
            root=(base / root) if isinstance(root, str) else None,
            commands=mapping("commands"),
            psutil=mapping("psutil") or None,
            resolved=mapping("resolve"),
            routes=mapping("routes"),
            base=base,
        )

    def read_text(self, path: str) -> str | None:
        return _read_under(self.root, path) if self.root is not None else None

    def exists(self, path: str) -> bool:
        return self.root is not None and _exists_under(self.root, path)

    def listdir(self, path: str) -> list[str] | None:
        return _listdir_under(self.root, path) if self.root is not None else None

    def command(self, name: str, timeout: float) -> CommandResult:
        entry = self.commands.get(name)
        if not isinstance(entry, Mapping):
            return CommandResult("absent")
        status = str(entry.get("status", "ok"))
        if status != "ok":
            return CommandResult(status, seconds=timeout if status == "timeout" else None)
        stdout = entry.get("stdout")
        if isinstance(entry.get("stdout_file"), str):
            try:
                stdout = decode_text((self.base / entry["stdout_file"]).read_bytes())
            except OSError:
                return CommandResult("failed")
        returncode = entry.get("returncode", 0)
        return CommandResult("ok", str(stdout or ""), returncode if isinstance(returncode, int) else 1)

    def snapshot(self) -> Snapshot:
        return snapshot_from_record(self.psutil)

    def resolve(self, host: str, timeout: float) -> Resolution:
        found = self.resolved.get(host)
        if isinstance(found, Mapping) and found.get("error"):
            return Resolution(error=str(found["error"]))
        if isinstance(found, Sequence) and not isinstance(found, str) and found:
            return Resolution(tuple(str(a) for a in found))
        return Resolution(error="the recording holds no answer for it")

    def route(self, address: str, port: int) -> route_probe.LocalRoute:
        entry = self.routes.get(address)
        if isinstance(entry, str):
            return route_probe.LocalRoute(address, entry)
        if isinstance(entry, Mapping) and entry.get("error"):
            return route_probe.LocalRoute(address, None, str(entry["error"]))
        return route_probe.LocalRoute(address, None, "unknown")
