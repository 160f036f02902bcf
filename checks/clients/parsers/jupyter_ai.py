"""Jupyter AI: ``<jupyter data dir>/jupyter_ai/config.json``.

``model_provider_id`` ("openai-chat-custom:MODEL"), ``fields[id].openai_api_base``,
``api_keys.OPENAI_API_KEY``.
"""

from __future__ import annotations

from ..model import CBORG_V1, OPENAI_DEFAULT, ClientEntry, KeyKind, KeySource, line_of
from .common import ParseInput, as_dict, as_str, env_base, load_json, make_entry, top_dict

_JUPYTER_REF = "Jupyter AI keeps the keys you enter in its settings in this file by design: " \
    "keep the file private (chmod 600)"
_JUPYTER_ROLES = (
    ("model_provider_id", "fields", "chat"),
    ("completions_model_provider_id", "completions_fields", "completions"),
    ("embeddings_provider_id", "embeddings_fields", "embeddings"),
)


def parse_jupyter_ai(inp: ParseInput) -> list[ClientEntry]:
    data = top_dict(load_json(inp.text), "config.json")
    api_keys = as_dict(data.get("api_keys"))
    entries: list[ClientEntry] = []
    for id_setting, fields_setting, role in _JUPYTER_ROLES:
        provider_model = as_str(data.get(id_setting))
        if not provider_model or ":" not in provider_model:
            continue
        provider, _, model = provider_model.partition(":")
        if not provider.startswith("openai"):
            continue
        fields = as_dict(as_dict(data.get(fields_setting)).get(provider_model))
        raw_base = as_str(fields.get("openai_api_base")) or as_str(fields.get("base_url"))
        if raw_base:
            base, origin = raw_base, "file"
        else:
            found = env_base(inp.env, ("OPENAI_API_BASE", "OPENAI_BASE_URL"))
            base, origin = found if found else (OPENAI_DEFAULT, "default")
        raw_key = api_keys.get("OPENAI_API_KEY")
        key = inp.judge.classify(raw_key, inp.text) if raw_key is not None else \
            KeySource(KeyKind.DEFAULT, name="$OPENAI_API_KEY")
        entries.append(make_entry(
            inp, label=f"{role} ({provider})", base_url=base, base_url_from=origin,
            base_url_setting=f'"openai_api_base" in {fields_setting}["{provider_model}"] '
            "(Base API URL in the Jupyter AI settings)",
            model=model or None, key=key, key_setting="api_keys.OPENAI_API_KEY",
            env_reference=_JUPYTER_REF, suggested_base=CBORG_V1,
            base_url_line=line_of(inp.text, raw_base) if raw_base else None,
            file_format="json", base_url_key_path=(fields_setting, provider_model, "openai_api_base"),
        ))
    return entries
