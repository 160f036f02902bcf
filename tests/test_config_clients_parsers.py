"""Each tool's parser on recorded, real-looking configuration files (tests/data/clients)."""

from __future__ import annotations

from pathlib import Path

import pytest
from cborg_doctor_checks.clients.model import OPENAI_DEFAULT, KeyJudge, KeyKind
from cborg_doctor_checks.clients.parsers import (
    PARSERS,
    ConfigError,
    ParseInput,
    aider_model,
    autoimport_paths,
    load_toml,
    load_yaml,
    parse_dotenv_values,
    strip_jsonc,
)

DATA = Path(__file__).parent / "data" / "clients"
KEY = "sk-Pq7Rt2Vx9Zb4Nc6Md8Lf1A"  # shaped like a LiteLLM key, not a real one


def recorded(name: str, **subs: str) -> str:
    text = (DATA / name).read_text()
    for token, value in subs.items():
        text = text.replace("{" + token + "}", value)
    return text


def parse(parser: str, text: str, path: str = "/h/f", tool: str = "Tool",
          env: dict[str, str] | None = None, shared: dict[str, object] | None = None,
          known: tuple[str, ...] = ()) -> list:
    inp = ParseInput(text, Path(path), tool, KeyJudge(known), env or {},
                     shared if shared is not None else {})
    return PARSERS[parser](inp)


def test_continue_json_proxy_setup_has_no_key_and_local_base() -> None:
    entries = parse("continue_json", recorded("continue_proxy.json", PORT="8001"))
    assert [e.model for e in entries] == [
        "lbl/cborg-coder:latest", "anthropic/claude:latest", "lbl/cborg-coder-base:latest"]
    assert {e.base_url for e in entries} == {"http://127.0.0.1:8001"}
    assert {e.key.kind for e in entries} == {KeyKind.NONE}
    assert entries[0].label == "LBL/CBorg Coder"
    assert entries[0].base_url_line == 9


def test_continue_json_key_in_authorization_header() -> None:
    entries = parse("continue_json", recorded("continue_easy.json", KEY=KEY))
    assert len(entries) == 2
    key = entries[0].key
    assert key.kind is KeyKind.LITERAL and key.line == 5 and key.cborg_like
    assert key.fingerprint == KEY[:3] + "…" + KEY[-4:]
    assert entries[0].key_setting == "requestOptions.headers.Authorization"
    assert KEY not in repr(entries)


def test_continue_json_missing_api_base_means_openai_for_openai_provider() -> None:
    text = '{"models": [{"title": "x", "provider": "openai", "model": "lbl/cborg-chat"},' \
           '{"title": "y", "provider": "ollama", "model": "llama3"}]}'
    first, second = parse("continue_json", text)
    assert first.base_url == OPENAI_DEFAULT and first.base_url_from == "default"
    assert second.base_url is None


def test_continue_json_dollar_reference_counts_only_with_lbl_config_ts(tmp_path: Path) -> None:
    text = '{"models": [{"provider": "openai", "model": "m", "apiKey": "${CBORG_API_KEY}"}]}'
    (tmp_path / "config.json").write_text(text)
    [without] = parse("continue_json", text, path=str(tmp_path / "config.json"))
    assert without.key.kind is KeyKind.PLACEHOLDER
    (tmp_path / "config.ts").write_text("export function modifyConfig(c) { return c; }")
    [with_ts] = parse("continue_json", text, path=str(tmp_path / "config.json"))
    assert with_ts.key.kind is KeyKind.ENV and with_ts.key.name == "CBORG_API_KEY"


def test_continue_yaml_merges_defaults_and_reads_secrets() -> None:
    entries = parse("continue_yaml", recorded("continue_config.yaml"))
    assert [e.model for e in entries] == ["lbl/cborg-coder", "anthropic/claude-sonnet"]
    assert all(e.base_url == "https://api-local.cborg.lbl.gov/v1" for e in entries)
    assert all(e.key.kind is KeyKind.SECRET and e.key.name == "CBORG_API_KEY" for e in entries)


def test_codex_config_and_profiles_share_providers() -> None:
    shared: dict[str, object] = {}
    text = recorded("codex_config.toml", BASE="https://api.cborg.lbl.gov/v1")
    [main] = parse("codex", text, path="/h/.codex/config.toml", shared=shared)
    assert main.model == "lbl/cborg-coder"
    assert main.base_url == "https://api.cborg.lbl.gov/v1" and main.base_url_line == 9
    assert main.key.kind is KeyKind.ENV and main.key.name == "CBORG_API_KEY"
    [profile] = parse("codex_profile", recorded("codex_profile.config.toml"),
                      path="/h/.codex/cborg-gpt-mini.config.toml", shared=shared)
    assert profile.label == "profile cborg-gpt-mini" and profile.model == "gpt-mini"
    assert profile.base_url == main.base_url
    assert profile.base_url_file == Path("/h/.codex/config.toml")
    assert profile.base_url_line == 9


def test_codex_openai_profile_uses_the_builtin_provider() -> None:
    [entry] = parse("codex_profile", recorded("codex_openai_profile.config.toml"),
                    path="/h/.codex/openai-gpt-mini.config.toml")
    assert entry.base_url == OPENAI_DEFAULT and entry.key.kind is KeyKind.DEFAULT
    [env_entry] = parse("codex_profile", recorded("codex_openai_profile.config.toml"),
                        env={"OPENAI_BASE_URL": "https://api.cborg.lbl.gov"})
    assert env_entry.base_url == "https://api.cborg.lbl.gov"
    assert env_entry.base_url_from == "$OPENAI_BASE_URL"


def test_codex_bearer_token_is_a_key_in_the_file() -> None:
    [entry] = parse("codex", recorded("codex_token.toml", KEY=KEY))
    assert entry.key.kind is KeyKind.LITERAL and entry.key.line == 7


def test_codex_undefined_provider_is_missing() -> None:
    [entry] = parse("codex", 'model = "lbl/cborg-coder"\nmodel_provider = "cborg"\n')
    assert entry.base_url is None and entry.base_url_from == "missing"


def test_codex_profiles_table() -> None:
    text = recorded("codex_config.toml", BASE="https://api.cborg.lbl.gov/v1") + \
        '\n[profiles.fast]\nmodel = "lbl/cborg-mini"\n'
    entries = parse("codex", text)
    assert [(e.label, e.model) for e in entries] == [
        ("config", "lbl/cborg-coder"), ("profile fast", "lbl/cborg-mini")]


def test_opencode_jsonc_provider_models_and_env_reference() -> None:
    text = recorded("opencode.json", APIKEY="{env:CBORG_API_KEY}")
    entries = parse("opencode", text)
    assert sorted(e.model for e in entries) == ["cborg-coder", "gemini-flash"]
    assert all(e.base_url == "https://api.cborg.lbl.gov/v1" for e in entries)
    assert all(e.key.kind is KeyKind.ENV and e.key.name == "CBORG_API_KEY" for e in entries)
    assert entries[0].base_url_setting == "provider.litellm.options.baseURL"


def test_opencode_literal_and_file_keys() -> None:
    literal = parse("opencode", recorded("opencode.json", APIKEY=KEY))
    assert literal[0].key.kind is KeyKind.LITERAL and literal[0].key.line == 11
    ref = parse("opencode", recorded("opencode.json", APIKEY="{file:~/.secrets/cborg}"))
    assert ref[0].key.kind is KeyKind.FILE_REF and ref[0].key.name == "~/.secrets/cborg"


def test_opencode_base_url_from_env_reference() -> None:
    text = '{"provider": {"cb": {"options": {"baseURL": "{env:CB_URL}"}}}}'
    [entry] = parse("opencode", text, env={"CB_URL": "https://api.cborg.lbl.gov"})
    assert entry.base_url == "https://api.cborg.lbl.gov" and entry.base_url_from == "$CB_URL"


def test_aider_strips_routing_prefix_and_reads_key() -> None:
    [entry] = parse("aider", recorded("aider.conf.yml", BASE="https://api.cborg.lbl.gov",
                                      KEY=KEY))
    assert entry.model == "lbl/cborg-coder"
    assert entry.base_url == "https://api.cborg.lbl.gov"
    assert entry.key.kind is KeyKind.LITERAL and entry.key.line == 6
    assert aider_model("sonnet") == "sonnet"


def test_aider_without_base_uses_environment_or_openai() -> None:
    text = "model: openai/lbl/cborg-chat\n"
    [entry] = parse("aider", text)
    assert entry.base_url == OPENAI_DEFAULT and entry.key.kind is KeyKind.DEFAULT
    [env_entry] = parse("aider", text, env={"OPENAI_API_BASE": "https://api.cborg.lbl.gov"})
    assert env_entry.base_url_from == "$OPENAI_API_BASE"
    assert parse("aider", "dark-mode: true\n") == []
    [listed] = parse("aider", f"api-key:\n  - openai={KEY}\nset-env:\n"
                              "  - OPENAI_API_BASE=https://api.cborg.lbl.gov\n")
    assert listed.key.kind is KeyKind.LITERAL and listed.base_url_from == "file"


def test_jupyter_ai_reads_fields_and_api_keys() -> None:
    [entry] = parse("jupyter_ai", recorded("jupyter_ai_config.json",
                                           BASE="https://api.cborg.lbl.gov/v1", KEY=KEY))
    assert entry.model == "lbl/cborg-chat"
    assert entry.base_url == "https://api.cborg.lbl.gov/v1"
    assert entry.key.kind is KeyKind.LITERAL and entry.key.line == 11


def test_roo_export_profiles_and_unexpanded_reference() -> None:
    entries = parse("roo_export", recorded("zoo-code-settings.json", APIKEY="$CBORG_API_KEY"))
    assert [e.model for e in entries] == ["lbl/cborg-coder", "claude-sonnet"]
    assert all(e.key.kind is KeyKind.PLACEHOLDER for e in entries)
    filled = parse("roo_export", recorded("zoo-code-settings.json", APIKEY=KEY))
    assert filled[0].key.kind is KeyKind.LITERAL and filled[0].key.line == 8


def test_dotenv_values_and_entry() -> None:
    text = recorded("dotenv", KEY=KEY, BASE="https://api.cborg.lbl.gov")
    assert parse_dotenv_values(text) == {
        "CBORG_API_KEY": KEY, "OPENAI_BASE_URL": "https://api.cborg.lbl.gov", "DEBUG": "1"}
    [entry] = parse("dotenv", text)
    assert entry.key.kind is KeyKind.LITERAL and entry.key.line == 2
    assert entry.base_url == "https://api.cborg.lbl.gov"
    [sdk] = parse("dotenv", f"OPENAI_API_KEY={KEY}\n")
    assert sdk.base_url == OPENAI_DEFAULT and sdk.base_url_from == "sdk-default"
    assert parse("dotenv", "DEBUG=1\n") == []


@pytest.mark.parametrize(
    ("parser", "text", "line"),
    [
        ("continue_json", '{\n  "models": [\n    {"title": "x",}\n', 3),
        ("opencode", '{\n  "provider": {\n    "a": \n}\n', 4),
        ("continue_yaml", "models:\n  - name: a\n   model: b\n", 3),
        ("aider", "model: [unclosed\n", 2),
        ("codex", 'model = "x"\nmodel_provider = cborg\n', 2),
        ("jupyter_ai", "{", 1),
    ],
)
def test_malformed_files_raise_config_error_with_line(parser: str, text: str, line: int) -> None:
    with pytest.raises(ConfigError) as caught:
        parse(parser, text)
    assert caught.value.line == line


def test_config_errors_never_quote_the_content() -> None:
    with pytest.raises(ConfigError) as caught:
        load_yaml(f"a: b\n  c: {KEY}: x\n")
    assert KEY not in str(caught.value)
    with pytest.raises(ConfigError) as toml_error:
        load_toml(f'a = "{KEY}"\nb = {KEY}\n')
    assert KEY not in str(toml_error.value)


def test_wrong_shapes_are_ignored_not_crashes() -> None:
    assert parse("continue_json", '{"models": "none", "tabAutocompleteModel": 3}') == []
    assert parse("opencode", '{"provider": {"a": 1, "b": {"options": []}}}')[0].base_url is None
    assert parse("roo_export", '{"providerProfiles": {"apiConfigs": [1, 2]}}') == []
    with pytest.raises(ConfigError):
        parse("continue_json", "[1, 2]")


def test_strip_jsonc_keeps_strings_and_line_numbers() -> None:
    text = '{\n  // c\n  "u": "http://x//y", /* a\n b */ "k": "/*v*/",\n}'
    stripped = strip_jsonc(text)
    assert stripped.count("\n") == text.count("\n")
    assert '"http://x//y"' in stripped and '"/*v*/"' in stripped


def test_vscode_autoimport_setting() -> None:
    text = '{\n // settings\n "roo-cline.autoImportSettingsPath": "~/roo.json",\n' \
           ' "zoo-code.autoImportSettingsPath": "",\n "editor.fontSize": 12,\n}'
    assert autoimport_paths(text) == [("Roo Code", "~/roo.json")]


def test_opencode_project_model_uses_the_global_provider() -> None:
    shared: dict[str, object] = {}
    parse("opencode", recorded("opencode.json", APIKEY=KEY),
          path="/h/.config/opencode/opencode.json", shared=shared)
    [entry] = parse("opencode", '{"model": "litellm/claude-opus-high"}',
                    path="/h/proj/opencode.json", shared=shared)
    assert entry.model == "claude-opus-high" and entry.path == Path("/h/proj/opencode.json")
    assert entry.base_url == "https://api.cborg.lbl.gov/v1"
    assert entry.base_url_file == Path("/h/.config/opencode/opencode.json")
    assert entry.key.kind is KeyKind.DEFAULT  # the pasted key belongs to the global file
    assert parse("opencode", '{"model": "anthropic/claude"}', shared=shared) == []
