"""Where the AI tools keep their configuration, and how `config.clients` reads it safely.

Reading is read-only, bounded and confined: a file is read only when its real
path (after every symlink) lies in the user's home or the current directory; it
must be a regular file (a FIFO would block) no larger than `MAX_BYTES`; at most
`MAX_FILES` files are read per run. Anything else becomes a `ReadProblem`, which
the check reports as a line, never as a crash.

Locations, from each tool's documentation:

- Continue: ``~/.continue/config.yaml`` (current) and ``~/.continue/config.json``
  (legacy), local assistants in ``~/.continue/assistants/*.yaml``
  (docs.continue.dev "Configuration"; LBL's ``continue/install-vscode-continue.sh``
  symlinks ``~/.continue/config.json`` into the cborg-client checkout).
- Codex CLI: ``$CODEX_HOME/config.toml`` (default ``~/.codex``) and the profile
  files ``~/.codex/NAME.config.toml`` that LBL's ``codex/README.md`` installs
  (developers.openai.com/codex "Config basics", "Environment variables").
- opencode: ``~/.config/opencode/opencode.json(c)`` (and legacy ``config.json``),
  ``$OPENCODE_CONFIG``, project ``opencode.json(c)`` and ``.opencode/opencode.json(c)``
  from the current directory up to the git root (opencode.ai/docs/config).
- aider: ``.aider.conf.yml`` in the home directory, the git root and the current
  directory (aider.chat/docs/config/aider_conf.html).
- Jupyter AI: ``<jupyter data dir>/jupyter_ai/config.json`` (jupyter-ai
  ``config_manager.py``: ``jupyter_data_dir()``; ``$JUPYTER_DATA_DIR``,
  ``~/.local/share/jupyter``, ``~/Library/Jupyter``, ``%APPDATA%\\jupyter``).
- Roo Code / Zoo Code: exported settings (``roo-code-settings.json``; LBL's
  ``zoocode/`` builds ``zoo-code-settings.json`` and records
  ``~/.zoo/zoo-code-settings.json``), and the file named by the VS Code setting
  ``*.autoImportSettingsPath``. Their live settings sit in VS Code's secret store,
  which is not a file.
- ``.env`` in the current directory.
- Claude Code: ``~/.claude/settings.json``, the project's ``.claude/settings.json`` and
  ``.claude/settings.local.json`` (docs.anthropic.com "Claude Code settings"), merged with the
  shell's variables by `parsers.claude_code`.
- Gemini CLI: ``~/.gemini/settings.json`` (auth type, model); its key and base URL are
  variables (`parsers.gemini_cli`).
- gptstudio: ``.Renviron`` in the current directory, else in the home directory (R's
  ``?Startup``).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

MAX_BYTES = 512 * 1024
MAX_FILES = 64
MAX_GLOB = 16
MAX_PROJECT_DEPTH = 12


@dataclass(frozen=True)
class Candidate:
    """A place a tool may keep its configuration."""

    tool: str
    path: Path
    parser: str  # a key of `clients_parsers.PARSERS`


@dataclass(frozen=True)
class ReadProblem:
    """Why a file that exists was not read."""

    reason: str
    severity: str = "info"  # "info" or "warn"


@dataclass(frozen=True)
class ReadResult:
    text: str | None
    problem: ReadProblem | None = None
    world_readable: bool = False
    mode: int = 0


class Roots:
    """The directories the check may read in, and how to show paths without user names."""

    def __init__(self, home: Path | None, cwd: Path | None) -> None:
        self.home = home
        self.cwd = cwd
        self._real: list[Path] = []
        for base in (home, cwd):
            if base is None:
                continue
            try:
                real = base.resolve(strict=True)
            except (OSError, RuntimeError):
                continue
            # The filesystem root is no confinement at all.
            if real.parent != real:
                self._real.append(real)

    def allows(self, real: Path) -> bool:
        return any(real == root or root in real.parents for root in self._real)

    def allows_lexically(self, path: Path) -> bool:
        """Whether the path as written (before symlinks) is in home or the current directory."""
        bases = [b for b in (self.home, self.cwd) if b is not None]
        return any(path == b or b in path.parents for b in bases)

    def display(self, path: Path) -> str:
        """``~/x`` under home, ``./x`` under the current directory, else the file name."""
        if path.name.startswith("<"):  # "<shell environment>": no file
            return path.name
        for base, prefix in ((self.home, "~"), (self.cwd, ".")):
            if base is None:
                continue
            try:
                rel = path.relative_to(base)
            except ValueError:
                continue
            return prefix if str(rel) == "." else f"{prefix}/{rel.as_posix()}"
        return f"…/{path.name}"


def read_config(path: Path, roots: Roots) -> ReadResult | None:
    """The file's text, or why not. None when nothing is there at all."""
    if not os.path.lexists(path):
        return None
    try:
        real = path.resolve(strict=True)
    except FileNotFoundError:
        return ReadResult(None, ReadProblem("is a symlink to a file that does not exist"))
    except (OSError, RuntimeError):
        return ReadResult(None, ReadProblem("its path cannot be resolved (symlink loop?)"))
    if not roots.allows(real):
        how = "is a symlink to a file" if roots.allows_lexically(path) else "is"
        return ReadResult(
            None,
            ReadProblem(f"{how} outside your home directory and the current directory; not read"),
        )
    try:
        info = os.stat(real)
    except OSError as exc:
        return ReadResult(None, ReadProblem(f"cannot be examined ({exc.strerror or 'error'})"))
    if not stat.S_ISREG(info.st_mode):
        return ReadResult(None, ReadProblem("is not a regular file; not read"))
    if info.st_size > MAX_BYTES:
        return ReadResult(
            None, ReadProblem(f"is larger than {MAX_BYTES // 1024} KiB; not read")
        )
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(real, flags)
    except PermissionError:
        return ReadResult(None, ReadProblem("cannot be read: permission denied"))
    except OSError as exc:
        return ReadResult(None, ReadProblem(f"cannot be read ({exc.strerror or 'error'})"))
    try:
        with os.fdopen(fd, "rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        return ReadResult(None, ReadProblem(f"cannot be read ({exc.strerror or 'error'})"))
    if len(data) > MAX_BYTES:
        return ReadResult(None, ReadProblem(f"is larger than {MAX_BYTES // 1024} KiB; not read"))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return ReadResult(None, ReadProblem("is not UTF-8 text", "warn"))
    mode = stat.S_IMODE(info.st_mode)
    world = os.name != "nt" and bool(mode & stat.S_IROTH)
    return ReadResult(text, world_readable=world, mode=mode)


def _env_dir(env: Mapping[str, str], name: str) -> Path | None:
    value = env.get(name, "")
    return Path(value) if value and os.path.isabs(value) else None


def _limited_glob(directory: Path, pattern: str, home: Path) -> list[Path]:
    """Up to `MAX_GLOB` matches, listing the folder only when it really is in home."""
    try:
        real, real_home = directory.resolve(strict=True), home.resolve(strict=True)
        if real_home not in real.parents:
            return []
        return sorted(directory.glob(pattern))[:MAX_GLOB]
    except (OSError, RuntimeError):
        return []


def project_dirs(home: Path | None, cwd: Path | None) -> list[Path]:
    """The current directory and its parents up to the git root, staying inside home."""
    if cwd is None:
        return []
    found = [cwd]
    if home is None or not (cwd == home or home in cwd.parents):
        return found
    current = cwd
    for _ in range(MAX_PROJECT_DEPTH):
        if (current / ".git").exists() or current == home:
            break
        parent = current.parent
        if parent == current or not (parent == home or home in parent.parents):
            break
        current = parent
        found.append(current)
    else:
        return [cwd]
    # No git root on the way up to home: the tools look only in the current directory.
    if not (current / ".git").exists():
        return [cwd]
    return found


VSCODE_FLAVOURS = ("Code", "Code - Insiders", "VSCodium", "Cursor")
ROO_EXPORTS = (
    ("Zoo Code", ".zoo/zoo-code-settings.json"),
    ("Zoo Code", "zoo-code-settings.json"),
    ("Zoo Code", "Documents/zoo-code-settings.json"),
    ("Zoo Code", "Downloads/zoo-code-settings.json"),
    ("Roo Code", ".roo/roo-code-settings.json"),
    ("Roo Code", "roo-code-settings.json"),
    ("Roo Code", "Documents/roo-code-settings.json"),
    ("Roo Code", "Downloads/roo-code-settings.json"),
)


def vscode_settings_files(home: Path, env: Mapping[str, str]) -> list[Path]:
    """VS Code's user settings.json for each flavour and OS."""
    bases = [home / ".config", home / "Library" / "Application Support"]
    appdata = _env_dir(env, "APPDATA")
    if appdata is not None:
        bases.append(appdata)
    return [base / flavour / "User" / "settings.json" for base in bases for flavour in VSCODE_FLAVOURS]


def home_candidates(home: Path, env: Mapping[str, str]) -> list[Candidate]:
    """Every per-user location, in a fixed order."""
    found: list[Candidate] = []
    continue_dir = home / ".continue"
    found.append(Candidate("Continue", continue_dir / "config.yaml", "continue_yaml"))
    found.append(Candidate("Continue", continue_dir / "config.json", "continue_json"))
    found += [
        Candidate("Continue", p, "continue_yaml")
        for p in _limited_glob(continue_dir / "assistants", "*.yaml", home)
    ]
    codex_dir = _env_dir(env, "CODEX_HOME") or home / ".codex"
    found.append(Candidate("Codex CLI", codex_dir / "config.toml", "codex"))
    found += [
        Candidate("Codex CLI", p, "codex_profile")
        for p in _limited_glob(codex_dir, "*.config.toml", home)
    ]
    config_home = _env_dir(env, "XDG_CONFIG_HOME") or home / ".config"
    for name in ("opencode.json", "opencode.jsonc", "config.json"):
        found.append(Candidate("opencode", config_home / "opencode" / name, "opencode"))
    custom = _env_dir(env, "OPENCODE_CONFIG")
    if custom is not None:
        found.append(Candidate("opencode", custom, "opencode"))
    found.append(Candidate("aider", home / ".aider.conf.yml", "aider"))
    data_dirs = [
        _env_dir(env, "JUPYTER_DATA_DIR"),
        (_env_dir(env, "XDG_DATA_HOME") or home / ".local" / "share") / "jupyter",
        home / "Library" / "Jupyter",
        (_env_dir(env, "APPDATA") / "jupyter") if _env_dir(env, "APPDATA") else None,
    ]
    for data_dir in data_dirs:
        if data_dir is not None:
            found.append(Candidate("Jupyter AI", data_dir / "jupyter_ai" / "config.json",
                                   "jupyter_ai"))
    for tool, rel in ROO_EXPORTS:
        found.append(Candidate(tool, home / rel, "roo_export"))
    found.append(Candidate("Claude Code", home / ".claude" / "settings.json", "claude_settings"))
    found.append(Candidate("Gemini CLI", home / ".gemini" / "settings.json", "gemini_settings"))
    found.append(Candidate("gptstudio", home / ".Renviron", "renviron"))
    return found


def project_candidates(home: Path | None, cwd: Path | None) -> list[Candidate]:
    """Per-project locations: the current directory, up to the git root."""
    if cwd is None:
        return []
    found: list[Candidate] = []
    dirs = project_dirs(home, cwd)
    for directory in dirs:
        for name in ("opencode.json", "opencode.jsonc", ".opencode/opencode.json",
                     ".opencode/opencode.jsonc"):
            found.append(Candidate("opencode", directory / name, "opencode"))
    for directory in (dirs[-1], cwd) if len(dirs) > 1 else (cwd,):
        found.append(Candidate("aider", directory / ".aider.conf.yml", "aider"))
    found.append(Candidate("Scripts using .env", cwd / ".env", "dotenv"))
    # Claude Code: the project's shared settings, then the local ones (later wins).
    if cwd != home:
        found.append(Candidate("Claude Code", cwd / ".claude" / "settings.json", "claude_settings"))
    found.append(Candidate("Claude Code", cwd / ".claude" / "settings.local.json", "claude_settings"))
    if cwd != home:  # R reads ./.Renviron instead of ~/.Renviron
        found.append(Candidate("gptstudio", cwd / ".Renviron", "renviron"))
    return found


def expand_user_path(value: str, home: Path | None, base: Path | None) -> Path | None:
    """A path written in a settings file: ``~/x``, absolute, or relative to `base`."""
    text = value.strip()
    if not text:
        return None
    if text == "~" or text.startswith(("~/", "~\\")):
        return None if home is None else home / text[2:]
    if os.path.isabs(text):
        return Path(text)
    return None if base is None else base / text
