"""Codex CLI: ``~/.codex/config.toml`` and LBL's per-profile files.

``model``, ``model_provider``, ``profile`` (the default ``[profiles.X]``), ``[profiles.X]``,
``[model_providers.X] base_url, env_key, wire_api, experimental_bearer_token, http_headers``;
the built-in ``openai`` provider follows ``openai_base_url`` or ``$OPENAI_BASE_URL``.
``wire_api = "responses"`` (Codex's default) calls ``{base_url}/responses``, ``"chat"`` calls
``{base_url}/chat/completions``, with ``Authorization: Bearer $<env_key>``.
Profile files ``NAME.config.toml`` (LBL's ``codex/`` folder) set ``model`` and
``model_provider`` and use the providers of ``config.toml``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from ..model import CBORG_V1, OPENAI_DEFAULT, ClientEntry, KeyKind, KeySource, Wire, line_of
from .common import ParseInput, as_dict, as_str, env_base, load_toml, make_entry

_CODEX_REF = 'env_key = "CBORG_API_KEY" in [model_providers.<id>], and delete ' \
    "experimental_bearer_token / the Authorization header"
_CODEX_LOCAL = ("ollama", "lmstudio", "oss")


def _wire(provider: dict[str, Any]) -> Wire:
    """``wire_api``: "responses" (Codex's default, and LBL's) or "chat"."""
    return Wire.CHAT if as_str(provider.get("wire_api")) == "chat" else Wire.RESPONSES


def _codex_entry(inp: ParseInput, label: str, model: str | None, provider_id: str,
                 providers: dict[str, Any], openai_base: str | None) -> ClientEntry | None:
    provider = providers.get(provider_id)
    if isinstance(provider, dict):
        base = as_str(provider.get("base_url"))
        env_key = as_str(provider.get("env_key"))
        headers = as_dict(provider.get("http_headers"))
        if env_key:
            key = KeySource(KeyKind.ENV, name=env_key)
        elif provider.get("experimental_bearer_token") is not None:
            key = inp.judge.classify(provider.get("experimental_bearer_token"), inp.text)
        elif headers.get("Authorization") is not None:
            key = inp.judge.classify(headers.get("Authorization"), inp.text)
        else:
            key = KeySource(KeyKind.NONE)
        return make_entry(
            inp, label=label, base_url=base, base_url_from="file" if base else "default",
            base_url_setting=f"base_url in [model_providers.{provider_id}]", model=model,
            key=key, key_setting="env_key", env_reference=_CODEX_REF, suggested_base=CBORG_V1,
            base_url_line=line_of(inp.text, base) if base else None,
            wire=_wire(provider), file_format="toml",
            base_url_key_path=("model_providers", provider_id, "base_url"),
        )
    if provider_id == "openai":
        found = (openai_base, "file") if openai_base else env_base(inp.env, ("OPENAI_BASE_URL",))
        base, origin = found if found else (OPENAI_DEFAULT, "default")
        return make_entry(
            inp, label=label, base_url=base, base_url_from=origin,
            base_url_setting="model_provider (the built-in openai provider)", model=model,
            key=KeySource(KeyKind.DEFAULT, name="$OPENAI_API_KEY or ChatGPT sign-in"),
            key_setting="env_key", env_reference=_CODEX_REF, suggested_base=CBORG_V1,
            base_url_fix='set model_provider = "cborg" and add a [model_providers.cborg] table '
            'with base_url = "{suggested}" and env_key = "CBORG_API_KEY"',
            wire=Wire.RESPONSES, file_format="toml" if origin == "file" else "shell",
            base_url_key_path=("openai_base_url",) if origin == "file" else ("OPENAI_BASE_URL",),
        )
    if provider_id in _CODEX_LOCAL:
        return None
    return make_entry(
        inp, label=label, base_url=None, base_url_from="missing",
        base_url_setting=f'model_provider = "{provider_id}"', model=model,
        key=KeySource(KeyKind.NONE), key_setting="env_key", env_reference=_CODEX_REF,
        suggested_base=CBORG_V1,
        base_url_fix=f"add a [model_providers.{provider_id}] table with base_url = "
        '"{suggested}" and env_key = "CBORG_API_KEY"' + ("" if inp.path.name == "config.toml"
                                                         else " (in ~/.codex/config.toml)"),
    )


def parse_codex(inp: ParseInput) -> list[ClientEntry]:
    data = load_toml(inp.text)
    providers = as_dict(data.get("model_providers"))
    openai_base = as_str(data.get("openai_base_url"))
    inp.shared["codex.providers"] = providers
    inp.shared["codex.openai_base_url"] = openai_base
    inp.shared["codex.path"] = inp.path
    inp.shared["codex.text"] = inp.text
    model = as_str(data.get("model"))
    provider = as_str(data.get("model_provider")) or "openai"
    profiles = as_dict(data.get("profiles"))
    chosen = as_str(data.get("profile"))
    note = ""
    if chosen and isinstance(profiles.get(chosen), dict):
        # Codex accepts a top-level `profile = "NAME"`: it selects [profiles.NAME] by default.
        model = as_str(profiles[chosen].get("model")) or model
        provider = as_str(profiles[chosen].get("model_provider")) or provider
    elif chosen:
        note = (f'profile = "{chosen}" names no [profiles.{chosen}] table in this file: Codex '
                f"stops with \"config profile `{chosen}` not found\"; add the table or delete the line")
    setups = [("config" + (f" (profile {chosen})" if chosen and not note else ""), model, provider)]
    for name, profile in profiles.items():
        if isinstance(profile, dict):
            setups.append((f"profile {name}", as_str(profile.get("model")) or model,
                           as_str(profile.get("model_provider")) or provider))
    entries = [_codex_entry(inp, label, m, p, providers, openai_base) for label, m, p in setups]
    if note and entries and entries[0] is not None:
        entries[0] = replace(entries[0], note=note)
    if model is None and "model_provider" not in data and not data.get("profiles"):
        entries = entries[1:]  # nothing chosen in this file: the defaults are not a setup
    return [e for e in entries if e is not None]


def parse_codex_profile(inp: ParseInput) -> list[ClientEntry]:
    data = load_toml(inp.text)
    own = as_dict(data.get("model_providers"))
    providers = {**inp.shared.get("codex.providers", {}), **own}
    name = inp.path.name.removesuffix(".config.toml")
    provider = as_str(data.get("model_provider")) or "openai"
    entry = _codex_entry(inp, f"profile {name}", as_str(data.get("model")), provider, providers,
                         inp.shared.get("codex.openai_base_url"))
    main = inp.shared.get("codex.path")
    if entry is None or provider in own or main is None or entry.base_url_from != "file":
        return [entry] if entry is not None else []
    # The provider, and so the base URL, is defined in config.toml: point there.
    line = line_of(inp.shared.get("codex.text", ""), entry.base_url or "")
    return [replace(entry, base_url_path=main, base_url_line=line)]
