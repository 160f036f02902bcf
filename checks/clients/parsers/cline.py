"""Cline: ``~/.cline/data/globalState.json`` (settings) and ``~/.cline/data/secrets.json`` (keys).

Where Cline keeps its settings (cline/cline source): ``createStorageContext`` in
``src/shared/storage/storage-context.ts`` puts global state in
``$CLINE_DIR/data/globalState.json`` and secrets in ``$CLINE_DIR/data/secrets.json``
(``CLINE_DIR`` defaults to ``~/.cline``; secrets are written with mode 0600), "the shared
storage layer used by VSCode, CLI, and JetBrains". The VS Code extension copies its older
VS Code state there once (``vscode-to-file-migration.ts``, "file-backed store wins"); before
that migration its settings were in VS Code's own state database and its key in VS Code's
encrypted secret storage, which the doctor does not read.

Settings: ``actModeApiProvider`` / ``planModeApiProvider`` (older: ``apiProvider``) is
``litellm`` (LBL's cborg-web ``tools_cline.md``: provider "LiteLLM", base URL
``https://api.cborg.lbl.gov``, the model id typed in) or ``openai`` ("OpenAI Compatible").
LiteLLM: ``liteLlmBaseUrl`` (default ``http://localhost:4000``), ``actModeLiteLlmModelId`` /
``planModeLiteLlmModelId`` (older ``liteLlmModelId``), key ``liteLlmApiKey``. OpenAI
Compatible: ``openAiBaseUrl``, ``actModeOpenAiModelId`` / ``planModeOpenAiModelId`` (older
``openAiModelId``), key ``openAiApiKey``. Both providers build an OpenAI SDK client with
``baseURL`` set to the base URL as written and call ``chat.completions.create``
(``src/core/api/providers/litellm.ts``, ``openai.ts``): ``{base}/chat/completions``, with
``Authorization: Bearer``. Cline appends no ``/v1`` to chat requests, so ``…/v1`` and the
gateway's root both work on LiteLLM; only its model-info lookup adds ``/v1`` when missing.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cborg_doctor.secrets import ApiKey

from ..model import CBORG_ROOT, ClientEntry, KeyJudge, KeyKind, KeySource, line_of
from .common import ParseInput, as_str, load_json, top_dict

TOOL = "Cline"
LITELLM_DEFAULT_BASE = "http://localhost:4000"
_STATE = "cline.state"
_SECRETS = "cline.secrets"
_REF = "Cline cannot (it reads its key only from ~/.cline/data/secrets.json, which it writes " \
    "itself from the API Key field of its settings panel): make that file private instead"

# provider → (base URL setting, key setting, model setting stem, default base URL)
PROVIDERS: Mapping[str, tuple[str, str, str, str | None]] = {
    "litellm": ("liteLlmBaseUrl", "liteLlmApiKey", "LiteLlmModelId", LITELLM_DEFAULT_BASE),
    "openai": ("openAiBaseUrl", "openAiApiKey", "OpenAiModelId", None),
}
_PROVIDER_NAMES = {"litellm": "LiteLLM", "openai": "OpenAI Compatible"}


def parse_state(inp: ParseInput) -> list[ClientEntry]:
    """Remember ``globalState.json``; `entries` pairs it with ``secrets.json``."""
    inp.shared[_STATE] = (inp.path, inp.text, top_dict(load_json(inp.text), "globalState.json"))
    return []


def parse_secrets(inp: ParseInput) -> list[ClientEntry]:
    """Remember ``secrets.json`` (the values stay in the shared facts of this run only)."""
    inp.shared[_SECRETS] = (inp.path, inp.text, top_dict(load_json(inp.text), "secrets.json"))
    return []


def _mode_setups(state: Mapping[str, Any]) -> list[tuple[str, str, str | None]]:
    """(mode label, provider, model) for Act and Plan mode, one row when they agree."""
    legacy = as_str(state.get("apiProvider"))
    found: list[tuple[str, str, str | None]] = []
    for mode in ("act", "plan"):
        provider = as_str(state.get(f"{mode}ModeApiProvider")) or legacy
        if provider not in PROVIDERS:
            continue
        stem = PROVIDERS[provider][2]
        model = as_str(state.get(f"{mode}Mode{stem}")) or as_str(state.get(stem[0].lower() + stem[1:]))
        found.append((f"{mode.capitalize()} mode", provider, model))
    if len(found) == 2 and found[0][1:] == found[1][1:]:
        return [("Act/Plan mode", *found[0][1:])]
    return found


def entries(shared: Mapping[str, Any], judge: KeyJudge) -> list[ClientEntry]:
    if _STATE not in shared:
        return []
    state_path, state_text, state = shared[_STATE]
    secrets_path, secrets_text, secrets = shared.get(_SECRETS, (None, "", {}))
    found: list[ClientEntry] = []
    for label, provider, model in _mode_setups(state):
        base_setting, key_setting, _stem, default = PROVIDERS[provider]
        raw_base = as_str(state.get(base_setting))
        raw_key = secrets.get(key_setting)
        if isinstance(raw_key, str) and raw_key.strip() and secrets_path is not None:
            key = judge.classify(raw_key, secrets_text)
            secret = ApiKey(raw_key.strip(), f"file:cline:{key_setting}") \
                if key.kind is KeyKind.LITERAL else None
            path: Path = secrets_path
        else:
            # Not in ~/.cline/data/secrets.json: a VS Code extension not yet migrated keeps
            # it in VS Code's encrypted secret storage, which the doctor cannot read.
            key = KeySource(KeyKind.SECRET, name=f"{key_setting} in VS Code's encrypted secret storage")
            secret, path = None, state_path
        found.append(ClientEntry(
            tool=TOOL, path=path, label=f"{_PROVIDER_NAMES[provider]} ({label})",
            base_url=raw_base or default, base_url_from="file" if raw_base else "default",
            base_url_setting=base_setting,
            base_url_fix=f"set {base_setting} to {{suggested}} (or Base URL in Cline's settings "
            f"panel, provider {_PROVIDER_NAMES[provider]})",
            model=model, key=key, key_setting=key_setting, env_reference=_REF,
            suggested_base=CBORG_ROOT,
            base_url_line=line_of(state_text, f'"{raw_base}"') if raw_base else None,
            base_url_path=state_path, file_format="json", base_url_key_path=(base_setting,),
            secret=secret, own_key_store=path.name == "secrets.json",
        ))
    return found
