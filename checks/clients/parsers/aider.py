"""aider: ``.aider.conf.yml`` (home, git root, current directory).

``model``, ``openai-api-base``, ``openai-api-key``, ``api-key`` (``openai=...``),
``set-env``; otherwise ``$OPENAI_API_BASE`` and ``$OPENAI_API_KEY``. The ``openai/`` model
prefix is aider's (LiteLLM's) routing marker, not part of the name the gateway sees; a model
named without it goes to the provider its name implies, not to ``OPENAI_API_BASE``.
"""

from __future__ import annotations

from typing import Any

from ..model import CBORG_ROOT, OPENAI_DEFAULT, ClientEntry, KeyKind, KeySource, line_of
from .common import ParseInput, as_str, env_base, load_yaml, make_entry, top_dict

_AIDER_REF = "delete openai-api-key from the file and add export OPENAI_API_KEY=" \
    '"$CBORG_API_KEY" to your shell profile (aider reads $OPENAI_API_KEY)'


def _aider_pairs(value: Any) -> dict[str, str]:
    """``api-key``/``set-env`` entries: a list or comma list of ``NAME=VALUE``."""
    items = value if isinstance(value, list) else str(value or "").split(",")
    pairs: dict[str, str] = {}
    for item in items:
        if isinstance(item, str) and "=" in item:
            name, _, text = item.partition("=")
            pairs[name.strip()] = text.strip()
    return pairs


def aider_model(model: str | None) -> str | None:
    """The name the gateway sees: aider routes ``openai/NAME`` to an OpenAI-compatible API."""
    return model[len("openai/"):] if model and model.startswith("openai/") else model


def parse_aider(inp: ParseInput) -> list[ClientEntry]:
    data = top_dict(load_yaml(inp.text), ".aider.conf.yml")
    model = as_str(data.get("model"))
    set_env = _aider_pairs(data.get("set-env"))
    raw_base = as_str(data.get("openai-api-base")) or as_str(set_env.get("OPENAI_API_BASE"))
    raw_key = data.get("openai-api-key")
    if raw_key is None:
        raw_key = _aider_pairs(data.get("api-key")).get("openai")
    if model is None and raw_base is None and raw_key is None:
        return []
    if raw_base:
        base, origin = raw_base, "file"
    else:
        found = env_base(inp.env, ("OPENAI_API_BASE", "OPENAI_BASE_URL"))
        openai_model = model is None or model.startswith("openai/") or "/" not in model
        base, origin = found if found else ((OPENAI_DEFAULT, "default") if openai_model
                                            else (None, "default"))
    key = inp.judge.classify(raw_key, inp.text) if raw_key is not None else \
        KeySource(KeyKind.DEFAULT, name="$OPENAI_API_KEY")
    if model and "/" in model and not model.startswith("openai/") and base and origin != "default":
        # aider hands the name to LiteLLM, which routes "lbl/x" to a provider "lbl" (unknown)
        # and "anthropic/x" to Anthropic itself: openai-api-base is not used at all.
        provider = model.split("/", 1)[0]
        return [make_entry(
            inp, label="aider", base_url=None, base_url_from="prefix", base_url_setting="model",
            model=model, key=key, key_setting="openai-api-key", env_reference=_AIDER_REF,
            suggested_base=CBORG_ROOT, base_url_line=line_of(inp.text, model),
            base_url_fix=f"write the model as openai/{model}",
            note=f"the model {model} has no openai/ prefix, so aider sends it to the provider "
            f"\"{provider}\" its name names, not to {base}",
            file_format="yaml", base_url_key_path=("model",),
        )]
    return [make_entry(
        inp, label="aider", base_url=base, base_url_from=origin,
        base_url_setting="openai-api-base", model=aider_model(model), key=key,
        key_setting="openai-api-key", env_reference=_AIDER_REF, suggested_base=CBORG_ROOT,
        base_url_line=line_of(inp.text, raw_base) if raw_base else None,
        file_format="yaml", base_url_key_path=("openai-api-base",),
    )]
