"""Claude Code: its variables, from the shell or the ``env`` blocks of its settings files.

Claude Code reads ``ANTHROPIC_BASE_URL`` (default ``https://api.anthropic.com``) and calls
``{ANTHROPIC_BASE_URL}/v1/messages`` (Anthropic SDK), so a base URL ending in ``/v1`` becomes
``/v1/v1/messages``. ``ANTHROPIC_AUTH_TOKEN`` goes out as ``Authorization: Bearer``,
``ANTHROPIC_API_KEY`` as ``x-api-key``; with both set it sends both headers, and LiteLLM
reads ``Authorization`` first (``_get_model_from_request_context`` in
``litellm/proxy/auth/user_api_key_auth.py``), so the token wins. Models:
``ANTHROPIC_MODEL``, ``ANTHROPIC_DEFAULT_{SONNET,OPUS,HAIKU}_MODEL``,
``ANTHROPIC_SMALL_FAST_MODEL`` (LBL's page), ``CLAUDE_CODE_SUBAGENT_MODEL``.

Settings (docs.anthropic.com "Claude Code settings"): ``~/.claude/settings.json``, then the
project's ``.claude/settings.json``, then ``.claude/settings.local.json``; a later file wins,
and the ``env`` block of the merged settings is applied over the shell's environment.
LBL's page (cborg-web ``tools_claudecode.md``) sets ``ANTHROPIC_AUTH_TOKEN=$CBORG_API_KEY``
and ``ANTHROPIC_BASE_URL=https://api.cborg.lbl.gov``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cborg_doctor.secrets import ApiKey, fingerprint

from ..model import CBORG_ROOT, AuthHeader, ClientEntry, KeyJudge, KeyKind, KeySource, Wire, line_of
from .common import ParseInput, as_dict, load_json, top_dict

TOOL = "Claude Code"
DEFAULT_BASE = "https://api.anthropic.com"
SHELL = Path("<shell environment>")
MODEL_VARIABLES = ("ANTHROPIC_MODEL", "ANTHROPIC_DEFAULT_SONNET_MODEL", "ANTHROPIC_DEFAULT_OPUS_MODEL",
                   "ANTHROPIC_DEFAULT_HAIKU_MODEL", "ANTHROPIC_SMALL_FAST_MODEL",
                   "CLAUDE_CODE_SUBAGENT_MODEL")
VARIABLES = ("ANTHROPIC_BASE_URL", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_API_KEY",
             "CLAUDE_CODE_DISABLE_EXPERIMENTAL_BETAS", *MODEL_VARIABLES)
_LAYERS = "claude.layers"
_REF = 'in your shell profile: export ANTHROPIC_AUTH_TOKEN="$CBORG_API_KEY" (and no key in ' \
    "the settings file's env block)"


@dataclass(frozen=True)
class Setting:
    """One variable's value and where Claude Code takes it from."""

    value: str
    path: Path  # a settings file, or SHELL
    text: str  # the file's text (for line numbers), "" for the shell

    @property
    def line(self) -> int | None:
        return line_of(self.text, f'"{self.value}"') if self.text else None


def parse_settings(inp: ParseInput) -> list[ClientEntry]:
    """Remember one settings file's ``env`` block; `entries` merges them all."""
    data = top_dict(load_json(inp.text), "settings.json")
    env = {k: v for k, v in as_dict(data.get("env")).items() if k in VARIABLES and isinstance(v, str)}
    inp.shared.setdefault(_LAYERS, []).append((inp.path, inp.text, env))
    return []


def merged(shared: Mapping[str, Any], env: Mapping[str, str]) -> dict[str, Setting]:
    """What Claude Code will see: the shell, then each settings file in order (later wins)."""
    found = {name: Setting(env[name].strip(), SHELL, "") for name in VARIABLES if env.get(name, "").strip()}
    for path, text, values in shared.get(_LAYERS, []):
        for name, value in values.items():
            if value.strip():
                found[name] = Setting(value.strip(), path, text)
            else:
                found.pop(name, None)  # "" in the env block unsets it
    return found


def _key(setting: Setting, name: str, judge: KeyJudge) -> KeySource:
    if setting.path == SHELL:
        value = setting.value
        return KeySource(KeyKind.ENV, name=name, fingerprint=fingerprint(value),
                         cborg_like=judge.is_cborg_key(value))
    return judge.classify(setting.value, setting.text)


def entries(shared: Mapping[str, Any], env: Mapping[str, str], judge: KeyJudge) -> list[ClientEntry]:
    settings = merged(shared, env)
    if "ANTHROPIC_BASE_URL" not in settings and not ({"ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_MODEL"} & set(settings)):
        return []  # Claude Code with Anthropic's own login: nothing to do with CBorg
    base = settings.get("ANTHROPIC_BASE_URL")
    token, api_key = settings.get("ANTHROPIC_AUTH_TOKEN"), settings.get("ANTHROPIC_API_KEY")
    note = ""
    if token and api_key:
        note = ("both ANTHROPIC_AUTH_TOKEN and ANTHROPIC_API_KEY are set: Claude Code sends both "
                "(Authorization: Bearer and x-api-key) and the gateway (LiteLLM) reads "
                "Authorization first, so ANTHROPIC_AUTH_TOKEN wins; unset ANTHROPIC_API_KEY")
    chosen, name, header = (token, "ANTHROPIC_AUTH_TOKEN", AuthHeader.BEARER) if token else \
        (api_key, "ANTHROPIC_API_KEY", AuthHeader.X_API_KEY)
    key = _key(chosen, name, judge) if chosen else \
        KeySource(KeyKind.DEFAULT, name="Claude Code's own login (no ANTHROPIC_AUTH_TOKEN)")
    secret = ApiKey(chosen.value, f"claude:{name}") if chosen else None
    models = list(dict.fromkeys(settings[m].value for m in MODEL_VARIABLES if m in settings)) or [None]
    where = base.path if base else (chosen.path if chosen else SHELL)
    text = base.text if base else (chosen.text if chosen else "")
    in_file = where != SHELL
    rows: list[ClientEntry] = []
    for model in models:
        rows.append(ClientEntry(
            tool=TOOL, path=where, label="env", base_url=base.value if base else DEFAULT_BASE,
            base_url_from="file" if base and in_file else ("$ANTHROPIC_BASE_URL" if base else "default"),
            base_url_setting="ANTHROPIC_BASE_URL" + (' in the "env" block' if in_file else ""),
            model=model, key=key, key_setting=name if chosen else "ANTHROPIC_AUTH_TOKEN",
            env_reference=_REF, suggested_base=CBORG_ROOT,
            base_url_line=base.line if base else None, wire=Wire.ANTHROPIC, auth_header=header,
            file_format="json" if in_file else "shell",
            base_url_key_path=("env", "ANTHROPIC_BASE_URL") if in_file else ("ANTHROPIC_BASE_URL",),
            note=note, secret=secret,
        ))
    del text
    return rows
