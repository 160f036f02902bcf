"""One parser per tool: a configuration file's text in, `ClientEntry` rows out.

Each module reads only the settings that decide where a tool's requests go, which
wire protocol and header style they use, and which key they carry, in the tool's own
words (its docstring names the sources; the file locations are in `clients.files`).
`PARSERS` maps the parser names `files.Candidate` uses to the functions.
"""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Mapping as _Mapping
from types import MappingProxyType
from typing import Any

from ..model import ClientEntry, KeyJudge
from . import claude_code, gemini_cli
from .aider import aider_model, parse_aider
from .codex import parse_codex, parse_codex_profile
from .common import ConfigError, ParseInput, Parser, load_json, load_jsonc, load_toml, load_yaml, strip_jsonc
from .continue_ import parse_continue_json, parse_continue_yaml
from .dotenv import parse_dotenv, parse_dotenv_values
from .gptstudio import parse_renviron
from .jupyter_ai import parse_jupyter_ai
from .opencode import parse_opencode
from .roo import autoimport_paths, parse_roo_export

PARSERS: Mapping[str, Parser] = MappingProxyType({
    "continue_json": parse_continue_json,
    "continue_yaml": parse_continue_yaml,
    "codex": parse_codex,
    "codex_profile": parse_codex_profile,
    "opencode": parse_opencode,
    "aider": parse_aider,
    "jupyter_ai": parse_jupyter_ai,
    "roo_export": parse_roo_export,
    "dotenv": parse_dotenv,
    "claude_settings": claude_code.parse_settings,
    "gemini_settings": gemini_cli.parse_settings,
    "renviron": parse_renviron,
})


def finish(shared: _Mapping[str, Any], env: _Mapping[str, str], judge: KeyJudge) -> list[ClientEntry]:
    """Setups that come from the environment merged with several files (Claude Code,
    Gemini CLI): built once every file was read."""
    return [*claude_code.entries(shared, env, judge), *gemini_cli.entries(shared, env, judge)]

__all__ = [
    "PARSERS",
    "ConfigError",
    "ParseInput",
    "Parser",
    "aider_model",
    "autoimport_paths",
    "finish",
    "load_json",
    "load_jsonc",
    "load_toml",
    "load_yaml",
    "parse_dotenv_values",
    "strip_jsonc",
]
