"""One parser per tool: a configuration file's text in, `ClientEntry` rows out.

Each parser reads only the settings that decide where requests go and which key
they carry, in the tool's own words (sources in the module docstring of
`clients_files`, plus the examples in LBL's ``lbnl-science-it/cborg-client``):

- Continue ``config.json``: ``models[]``, ``tabAutocompleteModel``,
  ``embeddingsProvider`` with ``provider``, ``model``, ``apiBase``, ``apiKey``;
  ``requestOptions.headers.Authorization`` (LBL's easy setup puts the key there).
  ``${VAR}`` is expanded only by LBL's ``config.ts`` next to it.
- Continue ``config.yaml``: ``models[]`` with the same keys; keys as
  ``${{ secrets.NAME }}``.
- Codex CLI ``config.toml``: ``model``, ``model_provider``, ``[profiles.X]``,
  ``[model_providers.X] base_url, env_key, experimental_bearer_token,
  http_headers``; the built-in ``openai`` provider follows ``openai_base_url``
  or ``$OPENAI_BASE_URL``. Profile files ``NAME.config.toml`` set ``model`` and
  ``model_provider`` and use the providers of ``config.toml``.
- opencode ``opencode.json(c)``: ``model`` ("provider/model"),
  ``provider.X.options.baseURL``, ``provider.X.options.apiKey`` (``{env:VAR}``,
  ``{file:PATH}``), ``provider.X.models``.
- aider ``.aider.conf.yml``: ``model``, ``openai-api-base``, ``openai-api-key``,
  ``api-key`` (``openai=...``), ``set-env``; otherwise ``$OPENAI_API_BASE`` and
  ``$OPENAI_API_KEY``. The ``openai/`` model prefix is aider's (LiteLLM's) routing
  marker, not part of the name the gateway sees.
- Jupyter AI ``config.json``: ``model_provider_id`` ("openai-chat-custom:MODEL"),
  ``fields[id].openai_api_base``, ``api_keys.OPENAI_API_KEY``.
- Roo/Zoo Code exported settings: ``providerProfiles.apiConfigs[name]`` with
  ``apiProvider`` ``litellm`` (``litellmBaseUrl``, ``litellmApiKey``,
  ``litellmModelId``) or ``openai`` (``openAiBaseUrl``, ``openAiApiKey``,
  ``openAiModelId``). These tools do not expand ``$VAR``.
- ``.env``: ``CBORG_BASE_URL``, ``OPENAI_BASE_URL``, ``OPENAI_API_BASE``,
  ``CBORG_API_KEY``, ``OPENAI_API_KEY`` and aider's ``AIDER_*`` twins.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from .model import (
    CBORG_ROOT,
    CBORG_V1,
    OPENAI_DEFAULT,
    ClientEntry,
    KeyJudge,
    KeyKind,
    KeySource,
    Syntax,
    line_of,
)

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib


class ConfigError(Exception):
    """The file is not valid in its format; the message never quotes its content."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line


@dataclass
class ParseInput:
    """One file to parse, with what the parser may consult besides its text."""

    text: str
    path: Path
    tool: str
    judge: KeyJudge
    env: Mapping[str, str]
    # Per-run facts one file leaves for a later one (Codex profiles need the
    # providers of config.toml). Lives as long as one run of the check.
    shared: dict[str, Any] = field(default_factory=dict)


Parser = Callable[[ParseInput], list[ClientEntry]]


# --- format helpers ---------------------------------------------------------------------


def load_json(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"invalid JSON: {exc.msg}", exc.lineno) from None
    except RecursionError:
        raise ConfigError("invalid JSON: nested too deeply") from None


def strip_jsonc(text: str) -> str:
    """JSON with comments and trailing commas (opencode, VS Code) → plain JSON.

    Line numbers survive (a block comment leaves its newlines), and nothing inside a
    string is touched.
    """
    out: list[str] = []
    i, n = 0, len(text)
    pending_comma = -1  # index in `out` of a comma that may turn out to be trailing
    while i < n:
        ch = text[i]
        if ch == '"':
            end = i + 1
            while end < n and text[end] != '"':
                end += 2 if text[end] == "\\" else 1
            out.append(text[i : end + 1])
            pending_comma = -1
            i = end + 1
        elif text.startswith("//", i):
            end = text.find("\n", i)
            i = n if end < 0 else end
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            out.append("\n" * text.count("\n", i, n if end < 0 else end))
            i = n if end < 0 else end + 2
        else:
            if ch in "}]" and pending_comma >= 0:
                out[pending_comma] = ""
            if ch == ",":
                pending_comma = len(out)
            elif not ch.isspace():
                pending_comma = -1
            out.append(ch)
            i += 1
    return "".join(out)


def load_jsonc(text: str) -> Any:
    return load_json(strip_jsonc(text))


def load_yaml(text: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark is not None else None
        raise ConfigError(f"invalid YAML: {exc.problem or 'syntax error'}", line) from None
    except (yaml.YAMLError, RecursionError):
        raise ConfigError("invalid YAML") from None


def load_toml(text: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except RecursionError:
        raise ConfigError("invalid TOML: nested too deeply") from None
    except tomllib.TOMLDecodeError as exc:
        message = str(exc).split("\n", 1)[0][:120]
        match = re.search(r"line (\d+)", message)
        raise ConfigError(f"invalid TOML: {message}", int(match.group(1)) if match else None) \
            from None


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_str(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _top_dict(data: Any, what: str) -> dict[str, Any]:
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{what} is not a mapping at the top level")
    return data


def _env_base(env: Mapping[str, str], names: tuple[str, ...]) -> tuple[str, str] | None:
    for name in names:
        value = env.get(name, "").strip()
        if value:
            return value, f"${name}"
    return None


def _entry(inp: ParseInput, **fields: Any) -> ClientEntry:
    base = fields.get("base_url")
    if "base_url_line" not in fields and fields.get("base_url_from") == "file" and base:
        fields["base_url_line"] = line_of(inp.text, base)
    return ClientEntry(tool=inp.tool, path=inp.path, **fields)


# --- Continue ---------------------------------------------------------------------------

_CONTINUE_YAML_REF = "apiKey: ${{ secrets.CBORG_API_KEY }}, with CBORG_API_KEY=sk-... in " \
    "~/.continue/.env (chmod 600)"
_CONTINUE_JSON_REF = "move to ~/.continue/config.yaml and write " + _CONTINUE_YAML_REF + \
    "; or point apiBase at the cborg-client proxy (http://127.0.0.1:8001), which adds the key"


def _continue_model(inp: ParseInput, model: dict[str, Any], header_key: Any,
                    syntaxes: tuple[Syntax, ...], reference: str) -> ClientEntry | None:
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
    return _entry(
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
    )


def _continue_models(data: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for name in ("models", "tabAutocompleteModel", "embeddingsProvider"):
        value = data.get(name)
        items = value if isinstance(value, list) else [value]
        found += [item for item in items if isinstance(item, dict)]
    return found


def parse_continue_json(inp: ParseInput) -> list[ClientEntry]:
    data = _top_dict(load_json(inp.text), "config.json")
    header_key = as_dict(as_dict(data.get("requestOptions")).get("headers")).get("Authorization")
    # LBL's config.ts replaces ${VAR} with the environment's value; without it the
    # text is sent as it stands.
    syntaxes = (Syntax.DOLLAR,) if inp.path.with_name("config.ts").exists() else ()
    entries = [
        _continue_model(inp, model, header_key, syntaxes, _CONTINUE_JSON_REF)
        for model in _continue_models(data)
    ]
    # "If a config.yaml file is present, it will be loaded instead of config.json."
    # (docs.continue.dev, Migrating Config to YAML)
    ignored = "Continue loads config.yaml instead" \
        if inp.path.with_name("config.yaml").exists() else ""
    return [replace(e, ignored=ignored) for e in entries if e is not None]


def parse_continue_yaml(inp: ParseInput) -> list[ClientEntry]:
    data = _top_dict(load_yaml(inp.text), "config.yaml")
    models = data.get("models")
    entries = [
        _continue_model(inp, model, None, (Syntax.CONTINUE,), _CONTINUE_YAML_REF)
        for model in (models if isinstance(models, list) else [])
        if isinstance(model, dict)  # hub blocks ("uses: owner/name") are not read
    ]
    return [e for e in entries if e is not None]


# --- Codex CLI --------------------------------------------------------------------------

_CODEX_REF = 'env_key = "CBORG_API_KEY" in [model_providers.<id>], and delete ' \
    "experimental_bearer_token / the Authorization header"
_CODEX_LOCAL = ("ollama", "lmstudio", "oss")


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
        return _entry(
            inp, label=label, base_url=base, base_url_from="file" if base else "default",
            base_url_setting=f"base_url in [model_providers.{provider_id}]", model=model,
            key=key, key_setting="env_key", env_reference=_CODEX_REF, suggested_base=CBORG_V1,
            base_url_line=line_of(inp.text, base) if base else None,
        )
    if provider_id == "openai":
        found = (openai_base, "file") if openai_base else _env_base(inp.env, ("OPENAI_BASE_URL",))
        base, origin = found if found else (OPENAI_DEFAULT, "default")
        return _entry(
            inp, label=label, base_url=base, base_url_from=origin,
            base_url_setting="model_provider (the built-in openai provider)", model=model,
            key=KeySource(KeyKind.DEFAULT, name="$OPENAI_API_KEY or ChatGPT sign-in"),
            key_setting="env_key", env_reference=_CODEX_REF, suggested_base=CBORG_V1,
            base_url_fix='set model_provider = "cborg" and add a [model_providers.cborg] table '
            'with base_url = "{suggested}" and env_key = "CBORG_API_KEY"',
        )
    if provider_id in _CODEX_LOCAL:
        return None
    return _entry(
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
    setups = [("config", model, provider)]
    for name, profile in as_dict(data.get("profiles")).items():
        if isinstance(profile, dict):
            setups.append((f"profile {name}", as_str(profile.get("model")) or model,
                           as_str(profile.get("model_provider")) or provider))
    entries = [_codex_entry(inp, label, m, p, providers, openai_base) for label, m, p in setups]
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


# --- opencode ---------------------------------------------------------------------------

_OPENCODE_REF = '"apiKey": "{env:CBORG_API_KEY}" under provider.<id>.options'


def parse_opencode(inp: ParseInput) -> list[ClientEntry]:
    data = _top_dict(load_jsonc(inp.text), "opencode.json")
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
            entries.append(_entry(
                inp, label=f"provider {provider_id}", base_url=base, base_url_from=origin,
                base_url_setting=f"provider.{provider_id}.options.baseURL", model=model,
                key=key, key_setting=f"provider.{provider_id}.options.apiKey",
                env_reference=_OPENCODE_REF, suggested_base=CBORG_V1,
                base_url_line=line_of(inp.text, raw_base) if raw_base else None,
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


# --- aider ------------------------------------------------------------------------------

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
    data = _top_dict(load_yaml(inp.text), ".aider.conf.yml")
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
        found = _env_base(inp.env, ("OPENAI_API_BASE", "OPENAI_BASE_URL"))
        openai_model = model is None or model.startswith("openai/") or "/" not in model
        base, origin = found if found else ((OPENAI_DEFAULT, "default") if openai_model
                                            else (None, "default"))
    key = inp.judge.classify(raw_key, inp.text) if raw_key is not None else \
        KeySource(KeyKind.DEFAULT, name="$OPENAI_API_KEY")
    return [_entry(
        inp, label="aider", base_url=base, base_url_from=origin,
        base_url_setting="openai-api-base", model=aider_model(model), key=key,
        key_setting="openai-api-key", env_reference=_AIDER_REF, suggested_base=CBORG_ROOT,
        base_url_line=line_of(inp.text, raw_base) if raw_base else None,
    )]


# --- Jupyter AI -------------------------------------------------------------------------

_JUPYTER_REF = "Jupyter AI keeps the keys you enter in its settings in this file by design: " \
    "keep the file private (chmod 600)"
_JUPYTER_ROLES = (
    ("model_provider_id", "fields", "chat"),
    ("completions_model_provider_id", "completions_fields", "completions"),
    ("embeddings_provider_id", "embeddings_fields", "embeddings"),
)


def parse_jupyter_ai(inp: ParseInput) -> list[ClientEntry]:
    data = _top_dict(load_json(inp.text), "config.json")
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
            found = _env_base(inp.env, ("OPENAI_API_BASE", "OPENAI_BASE_URL"))
            base, origin = found if found else (OPENAI_DEFAULT, "default")
        raw_key = api_keys.get("OPENAI_API_KEY")
        key = inp.judge.classify(raw_key, inp.text) if raw_key is not None else \
            KeySource(KeyKind.DEFAULT, name="$OPENAI_API_KEY")
        entries.append(_entry(
            inp, label=f"{role} ({provider})", base_url=base, base_url_from=origin,
            base_url_setting=f'"openai_api_base" in {fields_setting}["{provider_model}"] '
            "(Base API URL in the Jupyter AI settings)",
            model=model or None, key=key, key_setting="api_keys.OPENAI_API_KEY",
            env_reference=_JUPYTER_REF, suggested_base=CBORG_V1,
            base_url_line=line_of(inp.text, raw_base) if raw_base else None,
        ))
    return entries


# --- Roo Code / Zoo Code ----------------------------------------------------------------

_ROO_REF = "import the file in the extension (Settings > About > Manage Settings > Import), " \
    "then delete it: once imported, the key lives in VS Code's secret storage"
_ROO_PROVIDERS: Mapping[str, tuple[str, str, str, str | None]] = MappingProxyType({
    "litellm": ("litellmBaseUrl", "litellmApiKey", "litellmModelId", None),
    "openai": ("openAiBaseUrl", "openAiApiKey", "openAiModelId", None),
    "openai-native": ("openAiNativeBaseUrl", "openAiNativeApiKey", "apiModelId", OPENAI_DEFAULT),
})


def parse_roo_export(inp: ParseInput) -> list[ClientEntry]:
    data = _top_dict(load_json(inp.text), "settings export")
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
        entries.append(_entry(
            inp, label=f"profile {name}", base_url=raw_base or default,
            base_url_from="file" if raw_base else "default",
            base_url_setting=f'{base_setting} of profile "{name}"',
            model=as_str(profile.get(model_setting)),
            key=inp.judge.classify(profile.get(key_setting), inp.text),
            key_setting=key_setting, env_reference=_ROO_REF, suggested_base=CBORG_ROOT,
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


# --- .env -------------------------------------------------------------------------------

_DOTENV_LINE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$")
_DOTENV_BASES = ("CBORG_BASE_URL", "OPENAI_BASE_URL", "OPENAI_API_BASE", "AIDER_OPENAI_API_BASE")
_DOTENV_KEYS = ("CBORG_API_KEY", "OPENAI_API_KEY", "AIDER_OPENAI_API_KEY")
_DOTENV_REF = "export the key in your shell profile (~/.bashrc, ~/.zshrc) instead of the " \
    "project's .env; if it must stay, keep .env out of git (.gitignore) and chmod 600 it"


def parse_dotenv_values(text: str) -> dict[str, str]:
    values: dict[str, str] = {}
    for raw in text.splitlines():
        match = _DOTENV_LINE.match(raw)
        if not match or raw.lstrip().startswith("#"):
            continue
        name, value = match.group(1), match.group(2).strip()
        if value[:1] in ("'", '"'):
            end = value.find(value[0], 1)
            value = value[1:end] if end > 0 else value[1:]
        else:
            value = value.split(" #", 1)[0].strip()
        values[name] = value
    return values


def parse_dotenv(inp: ParseInput) -> list[ClientEntry]:
    values = parse_dotenv_values(inp.text)
    base_name = next((n for n in _DOTENV_BASES if values.get(n)), None)
    key_name = next((n for n in _DOTENV_KEYS if values.get(n)), None)
    if base_name is None and key_name is None:
        return []
    key = inp.judge.classify(values[key_name], inp.text, (Syntax.DOLLAR,)) if key_name else \
        KeySource(KeyKind.DEFAULT, name="the environment")
    base = values.get(base_name) if base_name else None
    origin = "file"
    if base is None and key_name in ("OPENAI_API_KEY", "AIDER_OPENAI_API_KEY"):
        # The OpenAI SDK's default, unless the code passes base_url itself.
        base, origin = OPENAI_DEFAULT, "sdk-default"
    return [_entry(
        inp, label="environment file", base_url=base, base_url_from=origin,
        base_url_setting=base_name or "OPENAI_BASE_URL", model=values.get("AIDER_MODEL"),
        key=key, key_setting=key_name or "CBORG_API_KEY", env_reference=_DOTENV_REF,
        suggested_base=CBORG_V1,
    )]


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
})
