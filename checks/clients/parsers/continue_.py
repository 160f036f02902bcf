"""Continue: ``config.json`` (legacy) and ``config.yaml``.

``models[]``, ``tabAutocompleteModel``, ``embeddingsProvider`` with ``provider``, ``model``,
``apiBase``, ``apiKey``; ``requestOptions.headers.Authorization`` (LBL's easy setup puts the
key there). In ``config.json`` ``${VAR}`` is expanded only by LBL's ``config.ts`` next to it;
``config.yaml`` takes keys as ``${{ secrets.NAME }}``. "If a config.yaml file is present, it
will be loaded instead of config.json" (docs.continue.dev, Migrating Config to YAML).
Continue's OpenAI provider calls ``{apiBase}/chat/completions``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from ..model import CBORG_V1, OPENAI_DEFAULT, ClientEntry, Syntax
from .common import ParseInput, as_dict, as_str, load_json, load_yaml, make_entry, top_dict

_CONTINUE_YAML_REF = "apiKey: ${{ secrets.CBORG_API_KEY }}, with CBORG_API_KEY=sk-... in " \
    "~/.continue/.env (chmod 600)"
_CONTINUE_JSON_REF = "move to ~/.continue/config.yaml and write " + _CONTINUE_YAML_REF + \
    "; or point apiBase at the cborg-client proxy (http://127.0.0.1:8001), which adds the key"


def _continue_model(inp: ParseInput, model: dict[str, Any], header_key: Any,
                    syntaxes: tuple[Syntax, ...], reference: str,
                    where: tuple[str | int, ...] = ()) -> ClientEntry | None:
    provider = as_str(model.get("provider")) or ""
    name = as_str(model.get("model"))
    base = as_str(model.get("apiBase"))
    if name is None and base is None:
        return None
    raw_key, key_setting = model.get("apiKey"), "apiKey"
    if raw_key is None:
        headers = as_dict(as_dict(model.get("requestOptions")).get("headers"))
        raw_key = headers.get("Authorization", header_key)
        key_setting = "requestOptions.headers.Authorization"
    default = OPENAI_DEFAULT if provider == "openai" else None
    return make_entry(
        inp,
        label=as_str(model.get("title")) or as_str(model.get("name")) or name or provider,
        base_url=base or default,
        base_url_from="file" if base else "default",
        base_url_setting="apiBase",
        model=name,
        key=inp.judge.classify(raw_key, inp.text, syntaxes),
        key_setting=key_setting,
        env_reference=reference,
        suggested_base=CBORG_V1,
        file_format="yaml" if inp.path.suffix in (".yaml", ".yml") else "json",
        base_url_key_path=(*where, "apiBase"),
    )


def _continue_models(data: dict[str, Any]) -> list[tuple[dict[str, Any], tuple[str | int, ...]]]:
    """Each model block with its key path in the file."""
    found: list[tuple[dict[str, Any], tuple[str | int, ...]]] = []
    for name in ("models", "tabAutocompleteModel", "embeddingsProvider"):
        value = data.get(name)
        if isinstance(value, list):
            found += [(item, (name, i)) for i, item in enumerate(value) if isinstance(item, dict)]
        elif isinstance(value, dict):
            found.append((value, (name,)))
    return found


def parse_continue_json(inp: ParseInput) -> list[ClientEntry]:
    data = top_dict(load_json(inp.text), "config.json")
    header_key = as_dict(as_dict(data.get("requestOptions")).get("headers")).get("Authorization")
    # LBL's config.ts replaces ${VAR} with the environment's value; without it the
    # text is sent as it stands.
    syntaxes = (Syntax.DOLLAR,) if inp.path.with_name("config.ts").exists() else ()
    entries = [
        _continue_model(inp, model, header_key, syntaxes, _CONTINUE_JSON_REF, where)
        for model, where in _continue_models(data)
    ]
    # "If a config.yaml file is present, it will be loaded instead of config.json."
    # (docs.continue.dev, Migrating Config to YAML)
    ignored = "Continue loads config.yaml instead" \
        if inp.path.with_name("config.yaml").exists() else ""
    return [replace(e, ignored=ignored) for e in entries if e is not None]


def parse_continue_yaml(inp: ParseInput) -> list[ClientEntry]:
    data = top_dict(load_yaml(inp.text), "config.yaml")
    models = data.get("models")
    entries = [
        _continue_model(inp, model, None, (Syntax.CONTINUE,), _CONTINUE_YAML_REF, ("models", i))
        for i, model in enumerate(models if isinstance(models, list) else [])
        if isinstance(model, dict)  # hub blocks ("uses: owner/name") are not read
    ]
    return [e for e in entries if e is not None]
