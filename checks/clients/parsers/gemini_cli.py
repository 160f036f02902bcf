"""Gemini CLI: ``GEMINI_API_KEY`` and ``GOOGLE_GEMINI_BASE_URL``, ``~/.gemini/settings.json``.

LBL's page (cborg-web ``tools_geminicli.md``) sets ``GEMINI_API_KEY=$CBORG_API_KEY`` and
``GOOGLE_GEMINI_BASE_URL=https://api.cborg.lbl.gov``, with the "Gemini API Key" auth type
(``selectedAuthType``, newer ``security.auth.selectedType``: ``gemini-api-key``). The
Google GenAI SDK calls ``{base}/v1beta/models/{model}:streamGenerateContent`` with the key in
``x-goog-api-key``; the model is ``model.name`` (older: ``model``) or ``$GEMINI_MODEL``,
default ``gemini-2.5-pro``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cborg_doctor.secrets import ApiKey, fingerprint

from ..model import CBORG_ROOT, AuthHeader, ClientEntry, KeyJudge, KeyKind, KeySource, Wire
from .common import ParseInput, as_dict, as_str, load_json, top_dict

TOOL = "Gemini CLI"
DEFAULT_BASE = "https://generativelanguage.googleapis.com"
DEFAULT_MODEL = "gemini-2.5-pro"
SHELL = Path("<shell environment>")
_SETTINGS = "gemini.settings"
_REF = 'export GEMINI_API_KEY="$CBORG_API_KEY" in your shell profile'


def parse_settings(inp: ParseInput) -> list[ClientEntry]:
    data = top_dict(load_json(inp.text), "settings.json")
    model = data.get("model")
    name = as_str(as_dict(model).get("name")) if isinstance(model, dict) else as_str(model)
    auth = as_str(as_dict(as_dict(data.get("security")).get("auth")).get("selectedType")) \
        or as_str(data.get("selectedAuthType"))
    inp.shared[_SETTINGS] = (inp.path, name, auth)
    return []


def entries(shared: Mapping[str, Any], env: Mapping[str, str], judge: KeyJudge) -> list[ClientEntry]:
    base = env.get("GOOGLE_GEMINI_BASE_URL", "").strip()
    key = env.get("GEMINI_API_KEY", "").strip()
    path, model, auth = shared.get(_SETTINGS, (SHELL, None, None))
    if not base and not (key and judge.is_cborg_key(key)):
        return []
    note = ""
    if auth and auth != "gemini-api-key":
        note = (f'the auth type in {path.name} is "{auth}", so Gemini CLI signs in with Google '
                'and ignores GEMINI_API_KEY: run /auth and choose "Gemini API Key"')
    source = KeySource(KeyKind.ENV, name="GEMINI_API_KEY", fingerprint=fingerprint(key),
                       cborg_like=judge.is_cborg_key(key)) if key else KeySource(KeyKind.NONE)
    return [ClientEntry(
        tool=TOOL, path=SHELL, label="environment", base_url=base or DEFAULT_BASE,
        base_url_from="$GOOGLE_GEMINI_BASE_URL" if base else "default",
        base_url_setting="GOOGLE_GEMINI_BASE_URL",
        model=env.get("GEMINI_MODEL", "").strip() or model or DEFAULT_MODEL, key=source,
        key_setting="GEMINI_API_KEY", env_reference=_REF, suggested_base=CBORG_ROOT,
        wire=Wire.GEMINI, auth_header=AuthHeader.GOOG, file_format="shell",
        base_url_key_path=("GOOGLE_GEMINI_BASE_URL",), note=note,
        secret=ApiKey(key, "env:GEMINI_API_KEY") if key else None,
    )]
