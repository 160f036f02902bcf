"""Change one value in a configuration file's text, and nothing else.

The editor never re-serialises a file: it finds the one line that sets the key,
replaces the value's span on it (keeping the quote style, the comment after it,
the indentation and the line ending) and then proves the edit with the format's
real parser: reading the old and the new text back, exactly one leaf differs, at
`key_path`, and it now holds the new value. Anything else is an `EditRefused`.

==========  ===========================================  =============================
format      a value it edits                             read back with
==========  ===========================================  =============================
dotenv      ``KEY=value``, ``export KEY="value"``        `read_assignments`
shell       the same, and fish's ``set -gx KEY value``   `read_assignments`
json        ``"key": "value"``                           `json` (comments: jsonc)
jsonc       the same, with // and /* */ comments         `json` after stripping comments
yaml        ``key: value``, ``- key: 'value'``           PyYAML ``safe_load``
toml        ``key = "value"``, inline tables too         `tomllib`
ini         ``key=value`` under ``[section]``            `read_ini` (WSL's rules)
==========  ===========================================  =============================

`key_path` is the full path the parser gives: ``("models", 0, "apiBase")``,
``("model_providers", "cborg", "base_url")``, ``("OPENAI_BASE_URL",)``,
``("wsl2", "networkingmode")``. `find_paths` lists the paths holding a value.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from typing import Any

from ..jsonc import strip_jsonc

FORMATS = ("dotenv", "shell", "json", "jsonc", "yaml", "toml", "ini")
Path_ = tuple[Any, ...]


class EditRefused(Exception):
    """The edit cannot be made safely; the message says why in one clause (never the value)."""


# --- reading, for the proof ---------------------------------------------------------------

_ASSIGN = re.compile(r"^(?P<lead>\s*(?:export\s+)?)(?P<key>[A-Za-z_][A-Za-z0-9_]*)(?P<eq>\s*=\s*)"
                     r"(?P<value>\"(?:[^\"\\]|\\.)*\"|'[^']*'|[^\s#;]*)(?P<rest>.*)$")
_FISH = re.compile(r"^(?P<lead>\s*set\s+(?:-[a-zA-Z]+\s+)*)(?P<key>[A-Za-z_][A-Za-z0-9_]*)(?P<eq>\s+)"
                   r"(?P<value>\"(?:[^\"\\]|\\.)*\"|'[^']*'|[^\s#;]+)(?P<rest>.*)$")


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == "'":
        return value[1:-1]
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return re.sub(r"\\(.)", r"\1", value[1:-1])
    return value


def read_assignments(text: str) -> dict[Path_, str]:
    """``KEY=value`` lines (dotenv, sh, bash, zsh, fish's ``set``); the last one wins, as in a shell."""
    found: dict[Path_, str] = {}
    for line in text.splitlines():
        if line.lstrip().startswith("#"):
            continue
        match = _ASSIGN.match(line) or _FISH.match(line)
        if match:
            found[(match["key"],)] = _unquote(match["value"])
    return found


_INI_SECTION = re.compile(r"^\s*\[([^\]]*)\]\s*(?:#.*)?$")
_INI_PAIR = re.compile(r"^(?P<lead>\s*)(?P<key>[A-Za-z][A-Za-z0-9]*)(?P<eq>\s*=\s*)"
                       r"(?P<value>\"[^\"]*\"|[^#\s]*)(?P<rest>.*)$")


def read_ini(text: str) -> dict[Path_, str]:
    """``[section]`` and ``key=value`` as WSL reads them: no case, the first of a repeated key wins."""
    found: dict[Path_, str] = {}
    section = ""
    for line in text.splitlines():
        if line.strip().startswith("#") or not line.strip():
            continue
        header = _INI_SECTION.match(line)
        if header:
            section = header.group(1).strip().lower()
            continue
        pair = _INI_PAIR.match(line)
        if pair:
            found.setdefault((section, pair["key"].lower()), _unquote(pair["value"]))
    return found


def parse(text: str, fmt: str) -> Any:
    """The whole document as the format's parser reads it; `EditRefused` if it does not parse."""
    try:
        if fmt in ("dotenv", "shell"):
            return read_assignments(text)
        if fmt == "ini":
            return read_ini(text)
        if fmt == "json":
            return json.loads(text)
        if fmt == "jsonc":
            return json.loads(strip_jsonc(text))
        if fmt == "yaml":
            import yaml

            return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        if fmt == "toml":
            if sys.version_info >= (3, 11):
                import tomllib
            else:  # pragma: no cover
                import tomli as tomllib
            return tomllib.loads(text)
    except Exception as exc:  # every parser's own error type: the file does not parse
        raise EditRefused(f"the file is not valid {fmt} ({type(exc).__name__})") from None
    raise EditRefused(f"unknown format {fmt!r}")


def leaves(data: Any, prefix: Path_ = ()) -> Iterator[tuple[Path_, Any]]:
    """Every scalar in a parsed document with its path."""
    if isinstance(data, dict):
        if not data and prefix:
            yield prefix, {}
        for key, value in data.items():
            yield from leaves(value, (*prefix, *(key if isinstance(key, tuple) else (key,))))
    elif isinstance(data, list):
        if not data:
            yield prefix, []
        for index, value in enumerate(data):
            yield from leaves(value, (*prefix, index))
    else:
        yield prefix, data


def flat(text: str, fmt: str) -> dict[Path_, Any]:
    return dict(leaves(parse(text, fmt)))


def find_paths(text: str, fmt: str, key: str, value: str | None = None,
               digest: str | None = None) -> list[Path_]:
    """Full paths whose last part is `key` (any case for ini) holding `value`, or the text
    whose ``sha256:`` `digest` is given (a value that must not be kept: a URL with a password)."""
    import hashlib

    def same(part: Any) -> bool:
        return part == key or (fmt == "ini" and str(part).lower() == key.lower())

    def wanted(v: Any) -> bool:
        if digest is not None:
            return isinstance(v, str) and "sha256:" + hashlib.sha256(v.encode()).hexdigest() == digest
        return v == value

    return [p for p, v in flat(text, fmt).items() if p and same(p[-1]) and wanted(v)]


# --- the value's span on one line --------------------------------------------------------------


def _json_span(line: str, key: str) -> Iterator[tuple[int, int, str]]:
    pattern = re.compile(r'"' + re.escape(key) + r'"\s*:\s*("(?:[^"\\]|\\.)*")')
    for match in pattern.finditer(line):
        yield match.start(1), match.end(1), match.group(1)


def _yaml_span(line: str, key: str) -> Iterator[tuple[int, int, str]]:
    name = r"(?:" + re.escape(key) + r"|\"" + re.escape(key) + r"\"|'" + re.escape(key) + r"')"
    pattern = re.compile(r"^\s*(?:-\s+)?" + name + r"\s*:\s+"
                         r"(\"(?:[^\"\\]|\\.)*\"|'(?:[^']|'')*'|[^\s#'\"][^#]*?)\s*(?:#.*)?$")
    match = pattern.match(line)
    if match:
        yield match.start(1), match.end(1), match.group(1)


def _toml_span(line: str, key: str) -> Iterator[tuple[int, int, str]]:
    name = r"(?:(?<![\w\-.\"'])" + re.escape(key) + r"|\"" + re.escape(key) + r"\")"
    pattern = re.compile(name + r"\s*=\s*(\"(?:[^\"\\]|\\.)*\"|'[^']*')")
    for match in pattern.finditer(line):
        yield match.start(1), match.end(1), match.group(1)


def _assign_span(line: str, key: str, fmt: str) -> Iterator[tuple[int, int, str]]:
    if line.lstrip().startswith("#"):
        return
    matchers = (_ASSIGN, _FISH) if fmt == "shell" else (_ASSIGN,)
    if fmt == "ini":
        matchers = (_INI_PAIR,)
    for matcher in matchers:
        match = matcher.match(line)
        same = match is not None and (
            match["key"] == key if fmt != "ini" else match["key"].lower() == key.lower())
        if match is not None and same:
            yield match.start("value"), match.end("value"), match["value"]


def _spans(line: str, fmt: str, key: str) -> Iterator[tuple[int, int, str]]:
    if fmt in ("json", "jsonc"):
        return _json_span(line, key)
    if fmt == "yaml":
        return _yaml_span(line, key)
    if fmt == "toml":
        return _toml_span(line, key)
    return _assign_span(line, key, fmt)


_SHELL_SAFE = re.compile(r"^[A-Za-z0-9_@%+=:,./\-]+$")


def quoted_like(old: str, new: str, fmt: str) -> str:
    """`new` written in the quote style `old` used."""
    quote = old[:1] if old[:1] in ("'", '"') and len(old) >= 2 and old[-1] == old[0] else ""
    if fmt in ("json", "jsonc"):
        return json.dumps(new, ensure_ascii=False)
    if fmt == "toml":
        if quote == "'" and "'" not in new and "\n" not in new:
            return f"'{new}'"
        return json.dumps(new, ensure_ascii=False)
    if fmt == "yaml":
        if quote == "'":
            return "'" + new.replace("'", "''") + "'"
        if quote == '"' or not _SHELL_SAFE.match(new):
            return json.dumps(new, ensure_ascii=False)
        return new
    # dotenv, shell, ini
    if quote == "'" and "'" not in new:
        return f"'{new}'"
    if quote == '"' or not _SHELL_SAFE.match(new):
        if fmt == "ini" and '"' in new:
            raise EditRefused("the new value cannot be written in this file's syntax")
        escaped = new if fmt == "ini" else re.sub(r'(["\\$`])', r"\\\1", new)
        return f'"{escaped}"'
    return new


def _proved(before: dict[Path_, Any], after: dict[Path_, Any], key_path: Path_, new: str,
            together: tuple[Path_, ...]) -> bool:
    """Only `key_path` changed (to `new`), and perhaps `together` (to `new`): a YAML anchor."""
    if after.get(key_path) != new or set(after) != set(before):
        return False
    return all(after[p] == before[p] or (p in together and after[p] == new)
               for p in before if p != key_path)


def set_value(text: str, fmt: str, key_path: Path_, new: str,
              together: tuple[Path_, ...] = ()) -> str:
    """`text` with the value at `key_path` set to `new`; every other byte kept.

    `together` names paths that may change to `new` with it (values a YAML anchor shares).
    """
    if fmt not in FORMATS:
        raise EditRefused(f"unknown format {fmt!r}")
    before = flat(text, fmt)
    if key_path not in before:
        raise EditRefused("the setting is not in the file any more")
    if before[key_path] == new:
        return text
    key = str(key_path[-1])
    lines = text.splitlines(keepends=True)
    for index, raw in enumerate(lines):
        body = raw.rstrip("\r\n")
        ending = raw[len(body):]
        for start, end, old in _spans(body, fmt, key):
            edited = body[:start] + quoted_like(old, new, fmt) + body[end:]
            candidate = "".join([*lines[:index], edited + ending, *lines[index + 1:]])
            try:
                after = flat(candidate, fmt)
            except EditRefused:
                continue
            if _proved(before, after, key_path, new, together):
                return candidate
    raise EditRefused(f"no line sets {'.'.join(map(str, key_path))} in a way the doctor can edit")
