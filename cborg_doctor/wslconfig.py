"""Reading `.wslconfig` the way WSL does, and writing the merged file a fix needs.

WSL's parser (microsoft/WSL ``src/shared/configfile/configfile.cpp``) matches
``section.key`` case-insensitively, takes keys of letters and digits only,
treats ``#`` as the only comment character, keeps the *first* of duplicated
keys, and skips whatever it cannot use with a warning that scrolls past at
start-up. Keys before any ``[section]`` or under another section are unknown
keys: ignored. Values are case-sensitive (``networkingMode=NAT`` is invalid).
The networking keys live under ``[wsl2]``; WSL 2.0.0 read them under
``[experimental]``, which later versions still accept.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

NETWORK_KEYS = ("networkingMode", "dnsTunneling", "autoProxy", "firewall")
NETWORK_SECTIONS = ("wsl2", "experimental")
NETWORKING_MODES = ("nat", "mirrored", "none", "virtioproxy", "bridged")
BOOLEANS = ("true", "false", "1", "0")
# Windows 11 22H2 is build 22621: the first with mirrored networking.
MIRRORED_MIN_BUILD = 22621

# Spellings people use for the networking keys (compared without case, _ - or spaces).
_MISSPELLINGS = {
    "networkmode": "networkingMode",
    "networkingmodes": "networkingMode",
    "netmode": "networkingMode",
    "networking": "networkingMode",
    "mode": "networkingMode",
    "mirrored": "networkingMode",
    "dnstunnelling": "dnsTunneling",
    "dnstunnel": "dnsTunneling",
    "dnstunnels": "dnsTunneling",
    "autoproxies": "autoProxy",
    "proxy": "autoProxy",
}

_SECTION = re.compile(r"^\[([^\]]*)\]\s*(#.*)?$")
_KEY_VALUE = re.compile(r"^([A-Za-z][A-Za-z0-9]*)\s*=\s*(.*)$")


@dataclass(frozen=True)
class Setting:
    key: str  # as written
    value: str
    section: str | None  # lower case; None before any section
    line: int


@dataclass(frozen=True)
class Problem:
    """Something WSL silently ignores, with the line it is on (1-based) when known."""

    text: str
    line: int | None = None
    key: str | None = None  # the networking key it was meant to set


@dataclass(frozen=True)
class ParsedConfig:
    text: str
    settings: tuple[Setting, ...]
    problems: tuple[Problem, ...]

    def effective(self, key: str) -> Setting | None:
        """The setting WSL uses for a networking key: the first valid one."""
        for setting in self.settings:
            if (
                setting.key.lower() == key.lower()
                and setting.section in NETWORK_SECTIONS
                and value_ok(key, setting.value)
            ):
                return setting
        return None

    def value(self, key: str) -> str | None:
        found = self.effective(key)
        return found.value if found else None


def value_ok(key: str, value: str) -> bool:
    if key == "networkingMode":
        return value in NETWORKING_MODES
    if key in NETWORK_KEYS:
        return value.lower() in BOOLEANS
    return True


def intended_key(name: str) -> str | None:
    """The networking key a misspelled or misplaced name was meant to be, if any."""
    squashed = re.sub(r"[\s_\-.]", "", name).lower()
    for key in NETWORK_KEYS:
        if squashed == key.lower():
            return key
    if squashed in _MISSPELLINGS:
        return _MISSPELLINGS[squashed]
    close = difflib.get_close_matches(squashed, [k.lower() for k in NETWORK_KEYS], n=1, cutoff=0.8)
    if close:
        return next(k for k in NETWORK_KEYS if k.lower() == close[0])
    return None


def _clean_value(raw: str) -> str:
    value = raw.strip()
    if value.startswith('"'):
        end = value.find('"', 1)
        return value[1:end] if end > 0 else value[1:]
    return value.split("#", 1)[0].strip()


def parse(text: str) -> ParsedConfig:
    """Parse like WSL; collect every networking setting that WSL would not apply."""
    settings: list[Setting] = []
    problems: list[Problem] = []
    section: str | None = None
    section_valid = True
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        header = _SECTION.match(line)
        if header:
            name = header.group(1).strip()
            section = name.lower()
            section_valid = bool(re.fullmatch(r"[A-Za-z][A-Za-z0-9]*", header.group(1)))
            if not section_valid:
                problems.append(
                    Problem(f"line {number}: the section header [{name}] is not valid; WSL "
                            "skips it, so the keys after it do not land in a section it knows",
                            number)
                )
            continue
        pair = _KEY_VALUE.match(line)
        if not pair:
            name = line.split("=", 1)[0].strip().lstrip(";").strip()
            meant = intended_key(name)
            if meant:
                problems.append(
                    Problem(f"line {number}: `{name}` is not a key WSL can read (letters and "
                            f"digits only, no `;` comments); write it as {meant}", number, meant)
                )
            continue
        key, value = pair.group(1), _clean_value(pair.group(2))
        where = section if section_valid else None
        settings.append(Setting(key, value, where, number))
        problems.extend(_check_setting(Setting(key, value, where, number), section))
    parsed = ParsedConfig(text, tuple(settings), ())
    problems.extend(_duplicates(parsed))
    return ParsedConfig(text, tuple(settings), tuple(problems))


def _check_setting(setting: Setting, written_section: str | None) -> list[Problem]:
    meant = intended_key(setting.key)
    if meant is None:
        return []
    n = setting.line
    if setting.key.lower() != meant.lower():
        return [Problem(f"line {n}: WSL knows no `{setting.key}`, the setting is {meant}",
                        n, meant)]
    if setting.section not in NETWORK_SECTIONS:
        place = f"under [{written_section}]" if written_section else "before any [section]"
        return [Problem(f"line {n}: {meant} is {place}; WSL reads it only under [wsl2]", n, meant)]
    if not value_ok(meant, setting.value):
        allowed = ", ".join(NETWORKING_MODES[:4]) if meant == "networkingMode" else "true, false"
        return [Problem(f"line {n}: {meant}={setting.value} is not a valid value (WSL accepts "
                        f"{allowed}, in lower case)", n, meant)]
    return []


def _duplicates(parsed: ParsedConfig) -> list[Problem]:
    problems = []
    for key in NETWORK_KEYS:
        first = parsed.effective(key)
        if first is None:
            continue
        for other in parsed.settings:
            if (other.line > first.line and other.key.lower() == key.lower()
                    and other.section in NETWORK_SECTIONS and other.value != first.value):
                problems.append(Problem(
                    f"line {other.line}: {key}={other.value} repeats the key; WSL keeps the "
                    f"first one (line {first.line}: {key}={first.value})", other.line, key))
    return problems


def mirrored_unsupported(build: int | None) -> bool:
    return build is not None and build < MIRRORED_MIN_BUILD


# --- the fix: the user's own file with networkingMode and dnsTunneling set ------------------

WANTED = (("networkingMode", "mirrored"), ("dnsTunneling", "true"))


def merged(text: str | None, wanted: tuple[tuple[str, str], ...] = WANTED) -> str:
    """The whole `.wslconfig` the user needs: their file, with `wanted` set in ``[wsl2]``.

    Existing values are replaced in place; misspelled or misplaced copies of
    the same keys are dropped (WSL ignores them anyway); keys written before
    any section get the ``[wsl2]`` header they were meant to have.
    """
    lines = (text or "").splitlines()
    parsed = parse(text or "")
    wanted_keys = {k.lower(): (k, v) for k, v in wanted}
    drop: set[int] = set()
    replace: dict[int, str] = {}
    done: set[str] = set()
    for setting in parsed.settings:
        meant = intended_key(setting.key)
        if meant is None or meant.lower() not in wanted_keys:
            continue
        canonical, value = wanted_keys[meant.lower()]
        if setting.section == "wsl2" and setting.key.lower() == meant.lower() and (
            canonical.lower() not in done
        ):
            replace[setting.line] = f"{canonical}={value}"
            done.add(canonical.lower())
        else:
            drop.add(setting.line)
    for problem in parsed.problems:  # unreadable lines meant as one of the wanted keys
        if problem.line and problem.key and problem.key.lower() in wanted_keys and (
            problem.line not in replace
        ):
            drop.add(problem.line)
    missing = [f"{k}={v}" for k, v in wanted if k.lower() not in done]

    out: list[str] = []
    section: str | None = None
    wsl2_seen = False
    inserted = not missing
    first_key_index = None
    for number, raw in enumerate(lines, 1):
        stripped = raw.strip()
        header = _SECTION.match(stripped)
        if header:
            if section == "wsl2" and not inserted:
                _insert_before_blanks(out, missing)
                inserted = True
            section = header.group(1).strip().lower()
            wsl2_seen = wsl2_seen or section == "wsl2"
        elif section is None and _KEY_VALUE.match(stripped) and first_key_index is None and (
            number not in drop
        ):
            first_key_index = len(out)
        if number in drop:
            continue
        out.append(replace.get(number, raw))
    if section == "wsl2" and not inserted:
        _insert_before_blanks(out, missing)
        inserted = True
    if not inserted and not wsl2_seen and first_key_index is not None:
        # Keys before any section were meant for [wsl2]: give them the header.
        out[first_key_index:first_key_index] = ["[wsl2]", *missing]
        inserted = True
    if not inserted:
        while out and not out[-1].strip():
            out.pop()
        if out:
            out.append("")
        out += ["[wsl2]", *missing]
    return "\n".join(out) + "\n"


def _insert_before_blanks(out: list[str], new: list[str]) -> None:
    at = len(out)
    while at > 0 and not out[at - 1].strip():
        at -= 1
    out[at:at] = new
