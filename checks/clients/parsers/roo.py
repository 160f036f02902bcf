"""Roo Code / Zoo Code exported settings, and VS Code's ``*.autoImportSettingsPath``.

``providerProfiles.apiConfigs[name]`` with ``apiProvider`` ``litellm`` (``litellmBaseUrl``,
``litellmApiKey``, ``litellmModelId``) or ``openai`` (``openAiBaseUrl``, ``openAiApiKey``,
``openAiModelId``). These tools do not expand ``$VAR``.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from ..model import CBORG_ROOT, OPENAI_DEFAULT, ClientEntry
from .common import ParseInput, as_dict, as_str, load_json, load_jsonc, make_entry, top_dict

_ROO_REF = "import the file in the extension (Settings > About > Manage Settings > Import), " \
    "then delete it: once imported, the key lives in VS Code's secret storage"
_ROO_PROVIDERS: Mapping[str, tuple[str, str, str, str | None]] = MappingProxyType({
    "litellm": ("litellmBaseUrl", "litellmApiKey", "litellmModelId", None),
    "openai": ("openAiBaseUrl", "openAiApiKey", "openAiModelId", None),
    "openai-native": ("openAiNativeBaseUrl", "openAiNativeApiKey", "apiModelId", OPENAI_DEFAULT),
})


def parse_roo_export(inp: ParseInput) -> list[ClientEntry]:
    data = top_dict(load_json(inp.text), "settings export")
    profiles = as_dict(as_dict(data.get("providerProfiles")).get("apiConfigs"))
    entries: list[ClientEntry] = []
    for name, profile in profiles.items():
        if not isinstance(profile, dict):
            continue
        kind = as_str(profile.get("apiProvider")) or ""
        if kind not in _ROO_PROVIDERS:
            continue
        base_setting, key_setting, model_setting, default = _ROO_PROVIDERS[kind]
        raw_base = as_str(profile.get(base_setting))
        entries.append(make_entry(
            inp, label=f"profile {name}", base_url=raw_base or default,
            base_url_from="file" if raw_base else "default",
            base_url_setting=f'{base_setting} of profile "{name}"',
            model=as_str(profile.get(model_setting)),
            key=inp.judge.classify(profile.get(key_setting), inp.text),
            key_setting=key_setting, env_reference=_ROO_REF, suggested_base=CBORG_ROOT,
            file_format="json", base_url_key_path=("providerProfiles", "apiConfigs", name, base_setting),
        ))
    return entries


def autoimport_paths(text: str) -> list[tuple[str, str]]:
    """``(tool, path)`` from VS Code settings' ``*.autoImportSettingsPath``."""
    data = load_jsonc(text)
    found: list[tuple[str, str]] = []
    for name, value in as_dict(data).items():
        if name.endswith("autoImportSettingsPath") and as_str(value):
            tool = "Zoo Code" if "zoo" in name.lower() else "Roo Code"
            found.append((tool, str(value).strip()))
    return found
