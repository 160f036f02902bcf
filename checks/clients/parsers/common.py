"""What every tool's parser shares: the input it gets, format loaders, small readers.

A parser turns one file's text into `ClientEntry` rows; a file that is not valid in its
format raises `ConfigError`, whose message never quotes the file's content.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from cborg_doctor.jsonc import strip_jsonc

from ..model import ClientEntry, KeyJudge, line_of

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib


class ConfigError(Exception):
    """The file is not valid in its format; the message never quotes its content."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line


@dataclass
class ParseInput:
    """One file to parse, with what the parser may consult besides its text."""

    text: str
    path: Path
    tool: str
    judge: KeyJudge
    env: Mapping[str, str]
    # Per-run facts one file leaves for a later one (Codex profiles need the
    # providers of config.toml). Lives as long as one run of the check.
    shared: dict[str, Any] = field(default_factory=dict)


Parser = Callable[[ParseInput], list[ClientEntry]]


# --- format helpers ---------------------------------------------------------------------


def load_json(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"invalid JSON: {exc.msg}", exc.lineno) from None
    except RecursionError:
        raise ConfigError("invalid JSON: nested too deeply") from None


def load_jsonc(text: str) -> Any:
    return load_json(strip_jsonc(text))


def load_yaml(text: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark is not None else None
        raise ConfigError(f"invalid YAML: {exc.problem or 'syntax error'}", line) from None
    except (yaml.YAMLError, RecursionError):
        raise ConfigError("invalid YAML") from None


def load_toml(text: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except RecursionError:
        raise ConfigError("invalid TOML: nested too deeply") from None
    except tomllib.TOMLDecodeError as exc:
        message = str(exc).split("\n", 1)[0][:120]
        match = re.search(r"line (\d+)", message)
        raise ConfigError(f"invalid TOML: {message}", int(match.group(1)) if match else None) \
            from None


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_str(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def top_dict(data: Any, what: str) -> dict[str, Any]:
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{what} is not a mapping at the top level")
    return data


def env_base(env: Mapping[str, str], names: tuple[str, ...]) -> tuple[str, str] | None:
    for name in names:
        value = env.get(name, "").strip()
        if value:
            return value, f"${name}"
    return None


def make_entry(inp: ParseInput, **fields: Any) -> ClientEntry:
    base = fields.get("base_url")
    if "base_url_line" not in fields and fields.get("base_url_from") == "file" and base:
        fields["base_url_line"] = line_of(inp.text, base)
    return ClientEntry(tool=inp.tool, path=inp.path, **fields)
