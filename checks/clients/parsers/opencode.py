"""opencode: ``opencode.json(c)``, global and per project (merged).

``model`` ("provider/model"), ``provider.X.options.baseURL``, ``provider.X.options.apiKey``
(``{env:VAR}``, ``{file:PATH}``), ``provider.X.models``. The OpenAI-compatible provider
calls ``{baseURL}/chat/completions`` with ``Authorization: Bearer``.
"""

from __future__ import annotations

from dataclasses import replace

from ..model import CBORG_V1, OPENAI_DEFAULT, ClientEntry, KeyKind, KeySource, Syntax, line_of
from .common import ParseInput, as_dict, as_str, load_jsonc, make_entry, top_dict

_OPENCODE_REF = '"apiKey": "{env:CBORG_API_KEY}" under provider.<id>.options'


def parse_opencode(inp: ParseInput) -> list[ClientEntry]:
    data = top_dict(load_jsonc(inp.text), "opencode.json")
    chosen: dict[str, set[str]] = {}
    for setting in ("model", "small_model"):
        value = as_str(data.get(setting))
        if value and "/" in value:
            provider_id, _, model = value.partition("/")
            chosen.setdefault(provider_id, set()).add(model)
    entries: list[ClientEntry] = []
    for provider_id, provider in as_dict(data.get("provider")).items():
        if not isinstance(provider, dict):
            continue
        options = as_dict(provider.get("options"))
        raw_base = as_str(options.get("baseURL"))
        base, origin = raw_base, "file"
        if raw_base:
            ref = inp.judge.classify(raw_base, inp.text, (Syntax.OPENCODE,))
            if ref.kind is KeyKind.ENV:
                base, origin = inp.env.get(ref.name) or None, f"${ref.name}"
        elif provider_id == "openai":
            base, origin = OPENAI_DEFAULT, "default"
        key = inp.judge.classify(options.get("apiKey"), inp.text, (Syntax.OPENCODE,))
        if key.kind is KeyKind.DEFAULT:
            key = KeySource(KeyKind.DEFAULT, name="opencode auth login / the provider's variable")
        models = sorted(set(as_dict(provider.get("models"))) | chosen.get(provider_id, set()))
        for model in models or [None]:
            entries.append(make_entry(
                inp, label=f"provider {provider_id}", base_url=base, base_url_from=origin,
                base_url_setting=f"provider.{provider_id}.options.baseURL", model=model,
                key=key, key_setting=f"provider.{provider_id}.options.apiKey",
                env_reference=_OPENCODE_REF, suggested_base=CBORG_V1,
                base_url_line=line_of(inp.text, raw_base) if raw_base else None,
                file_format="jsonc", base_url_key_path=("provider", provider_id, "options", "baseURL"),
            ))
    # opencode merges its files: a project's "model" may name a provider that the
    # global file defines (files are parsed global first).
    known: dict[str, ClientEntry] = inp.shared.setdefault("opencode.providers", {})
    for entry in entries:
        known.setdefault(entry.label.removeprefix("provider "), entry)
    defined = {e.label.removeprefix("provider ") for e in entries}
    for provider_id, models in chosen.items():
        template = known.get(provider_id)
        if provider_id in defined or template is None:
            continue
        key = template.key if template.key.kind is not KeyKind.LITERAL else \
            KeySource(KeyKind.DEFAULT, name=f"provider {provider_id} in {template.path.name}")
        entries += [replace(template, path=inp.path, model=model, key=key,
                            base_url_path=template.base_url_file) for model in sorted(models)]
    return entries
