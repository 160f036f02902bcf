"""Units for the tools `clients.paths` tests: how each one's settings become a setup, and the
request each setup sends (no network: real files in a temporary home, pure functions)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cborg_doctor_checks.clients.audit import judge_url
from cborg_doctor_checks.clients.check import assess
from cborg_doctor_checks.clients.collect import collect
from cborg_doctor_checks.clients.files import Roots
from cborg_doctor_checks.clients.model import AuthHeader, ClientEntry, KeyJudge, Wire
from cborg_doctor_checks.clients.probe import ProxyState
from cborg_doctor_checks.clients.wire import build

KEY = "sk-abcdefghijklmnopqrstuv"


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)


def entries(home: Path, env: dict[str, str], cwd: Path | None = None) -> list[ClientEntry]:
    return collect(Roots(home, cwd or home), env, KeyJudge.from_env(env)).entries


def tool(found: list[ClientEntry], name: str) -> list[ClientEntry]:
    return [e for e in found if e.tool == name]


def test_claude_code_merges_shell_user_project_local_in_that_order(tmp_path: Path) -> None:
    home, project = tmp_path / "home", tmp_path / "home" / "project"
    write(home / ".claude" / "settings.json", json.dumps(
        {"env": {"ANTHROPIC_BASE_URL": "https://api.cborg.lbl.gov/v1", "ANTHROPIC_MODEL": "anthropic/claude-haiku"}}))
    write(project / ".claude" / "settings.json", json.dumps({"env": {"ANTHROPIC_MODEL": "anthropic/claude-sonnet"}}))
    write(project / ".claude" / "settings.local.json",
          json.dumps({"env": {"ANTHROPIC_BASE_URL": "https://api.cborg.lbl.gov"}}))
    env = {"ANTHROPIC_BASE_URL": "https://api.openai.com", "ANTHROPIC_AUTH_TOKEN": KEY, "CBORG_API_KEY": KEY}
    [main, *_] = tool(entries(home, env, project), "Claude Code")
    assert main.base_url == "https://api.cborg.lbl.gov"  # the local file wins over all
    assert main.base_url_file == project / ".claude" / "settings.local.json"
    assert main.model == "anthropic/claude-sonnet"  # the project beats the user's file
    assert main.wire is Wire.ANTHROPIC and main.auth_header is AuthHeader.BEARER
    assert main.base_url_key_path == ("env", "ANTHROPIC_BASE_URL") and main.file_format == "json"
    assert main.secret is not None and KEY not in repr(main)


def test_claude_code_both_keys_names_the_winner_and_x_api_key_alone(tmp_path: Path) -> None:
    base = {"ANTHROPIC_BASE_URL": "https://api.cborg.lbl.gov", "CBORG_API_KEY": KEY}
    [both] = tool(entries(tmp_path, {**base, "ANTHROPIC_AUTH_TOKEN": KEY, "ANTHROPIC_API_KEY": KEY}),
                  "Claude Code")
    assert "ANTHROPIC_AUTH_TOKEN wins" in both.note and both.auth_header is AuthHeader.BEARER
    [alone] = tool(entries(tmp_path, {**base, "ANTHROPIC_API_KEY": KEY}), "Claude Code")
    assert alone.auth_header is AuthHeader.X_API_KEY and alone.key_setting == "ANTHROPIC_API_KEY"
    assert not tool(entries(tmp_path, {"ANTHROPIC_API_KEY": KEY}), "Claude Code")  # Anthropic's own


def test_claude_code_v1_base_url_is_a_path_problem_for_messages() -> None:
    [entry] = tool(entries_from_env({"ANTHROPIC_BASE_URL": "https://api.cborg.lbl.gov/v1",
                                     "ANTHROPIC_AUTH_TOKEN": KEY}), "Claude Code")
    verdict = judge_url(entry, lambda: False)
    assert verdict is not None and verdict.suggested == "https://api.cborg.lbl.gov"
    assert "/v1/v1/messages" in verdict.problems[0].text
    assert build(entry, live=False).url == "https://api.cborg.lbl.gov/v1/v1/messages/count_tokens"


def entries_from_env(env: dict[str, str]) -> list[ClientEntry]:
    home = Path("/nonexistent-home-for-tests")
    return collect(Roots(home, None), env, KeyJudge.from_env(env)).entries


def test_gemini_cli_from_lbl_page_and_wrong_auth_type(tmp_path: Path) -> None:
    env = {"GEMINI_API_KEY": KEY, "GOOGLE_GEMINI_BASE_URL": "https://api.cborg.lbl.gov"}
    write(tmp_path / ".gemini" / "settings.json", json.dumps({"selectedAuthType": "oauth-personal"}))
    [entry] = tool(entries(tmp_path, env), "Gemini CLI")
    assert entry.wire is Wire.GEMINI and entry.auth_header is AuthHeader.GOOG
    assert 'choose "Gemini API Key"' in entry.note
    request = build(entry, live=False)
    assert request.url == "https://api.cborg.lbl.gov/v1beta/models/gemini-2.5-pro:countTokens"


def test_codex_top_level_profile_selects_the_table_and_a_missing_one_is_named(tmp_path: Path) -> None:
    write(tmp_path / ".codex" / "config.toml", '''profile = "mini"
model = "gpt-5.5"
model_provider = "cborg"

[model_providers.cborg]
base_url = "https://api.cborg.lbl.gov/v1"
env_key = "CBORG_API_KEY"

[profiles.mini]
model = "gpt-5.4-mini"
''')
    found = tool(entries(tmp_path, {"CBORG_API_KEY": KEY}), "Codex CLI")
    assert found[0].label == "config (profile mini)" and found[0].model == "gpt-5.4-mini"
    assert found[0].wire is Wire.RESPONSES  # Codex's default wire_api
    assert build(found[0], live=False).url == "https://api.cborg.lbl.gov/v1/responses/input_tokens"
    assert build(found[0], live=True).url == "https://api.cborg.lbl.gov/v1/responses"
    write(tmp_path / ".codex" / "config.toml", '''profile = "nope"
model = "gpt-5.4-mini"
model_provider = "cborg"

[model_providers.cborg]
base_url = "https://api.cborg.lbl.gov/v1"
env_key = "CBORG_API_KEY"
wire_api = "chat"
''')
    [entry] = tool(entries(tmp_path, {"CBORG_API_KEY": KEY}), "Codex CLI")
    assert "config profile `nope` not found" in entry.note and entry.wire is Wire.CHAT
    assert build(entry, live=True).url == "https://api.cborg.lbl.gov/v1/chat/completions"


def test_gptstudio_renviron_as_lbl_writes_it(tmp_path: Path) -> None:
    write(tmp_path / ".Renviron", f'OPENAI_API_KEY="{KEY}"\nOPENAI_API_URL="https://api.cborg.lbl.gov/v1"\n')
    [entry] = tool(entries(tmp_path, {"CBORG_API_KEY": KEY}), "gptstudio")
    assert entry.base_url == "https://api.cborg.lbl.gov/v1" and entry.key.known
    assert build(entry, live=False).shown == "GET https://api.cborg.lbl.gov/v1/models"


@pytest.mark.parametrize(("wire", "live", "method", "tail"), [
    (Wire.CHAT, False, "GET", "/v1/models"),
    (Wire.CHAT, True, "POST", "/v1/chat/completions"),
    (Wire.RESPONSES, False, "POST", "/v1/responses/input_tokens"),
    (Wire.ANTHROPIC, True, "POST", "/v1/v1/messages"),
    (Wire.GEMINI, True, "POST", "/v1/v1beta/models/m:generateContent"),
])
def test_request_table(wire: Wire, live: bool, method: str, tail: str) -> None:
    entry = ClientEntry(tool="t", path=Path("f"), label="l", base_url="https://h/v1/",
                        base_url_from="file", base_url_setting="s", model="m",
                        key=KeyJudge().classify(None, ""), key_setting="k", env_reference="r",
                        wire=wire)
    request = build(entry, live)
    assert request.method == method and request.url == "https://h" + tail


def test_the_same_key_in_several_files_is_named_once(tmp_path: Path) -> None:
    write(tmp_path / ".Renviron", f'OPENAI_API_KEY="{KEY}"\nOPENAI_API_URL="https://api.cborg.lbl.gov/v1"\n')
    write(tmp_path / ".aider.conf.yml", f"model: openai/lbl/cborg-coder\nopenai-api-base: "
          f"https://api.cborg.lbl.gov\nopenai-api-key: {KEY}\n")
    env = {"CBORG_API_KEY": KEY, "ANTHROPIC_BASE_URL": "https://api.cborg.lbl.gov", "ANTHROPIC_AUTH_TOKEN": KEY}
    roots = Roots(tmp_path, tmp_path)
    collection = collect(roots, env, KeyJudge.from_env(env))
    outcome = assess(collection, roots, env, lambda h, p: ProxyState(False, "refused"), lambda: False)
    [spread] = [f for f in outcome.findings if f.code == "CLIENT_KEY_SPREAD"]
    assert spread.severity.value == "warn"
    assert "~/.Renviron" in spread.message and "~/.aider.conf.yml" in spread.message
    assert "$ANTHROPIC_AUTH_TOKEN" in spread.message and KEY not in spread.message


def test_aider_model_without_the_openai_prefix_goes_elsewhere(tmp_path: Path) -> None:
    write(tmp_path / ".aider.conf.yml", "model: lbl/cborg-coder\nopenai-api-base: https://api.cborg.lbl.gov\n")
    env = {"CBORG_API_KEY": KEY, "OPENAI_API_KEY": KEY}
    roots = Roots(tmp_path, tmp_path)
    collection = collect(roots, env, KeyJudge.from_env(env))
    outcome = assess(collection, roots, env, lambda h, p: ProxyState(False, "refused"), lambda: False)
    [finding] = [f for f in outcome.findings if f.code == "CLIENT_BASE_URL"]
    assert 'no openai/ prefix, so aider sends it to the provider "lbl"' in finding.message
    assert "write the model as openai/lbl/cborg-coder" in finding.fix[0]
    assert finding.data["key_path"] == ["model"] and finding.data["format"] == "yaml"
    assert finding.data["value"] == "openai/lbl/cborg-coder"


def test_claude_code_on_api_local_while_offsite_names_the_variable(tmp_path: Path) -> None:
    env = {"ANTHROPIC_BASE_URL": "https://api-local.cborg.lbl.gov", "ANTHROPIC_AUTH_TOKEN": KEY,
           "CBORG_API_KEY": KEY}
    roots = Roots(tmp_path, tmp_path)
    collection = collect(roots, env, KeyJudge.from_env(env))
    outcome = assess(collection, roots, env, lambda h, p: ProxyState(False, "refused"), lambda: True)
    [finding] = [f for f in outcome.findings if f.code == "CLIENT_BASE_URL"]
    assert finding.message.startswith("Claude Code") and "answers only on LBLnet" in finding.message
    assert finding.data["format"] == "shell" and finding.data["file"] is None
    assert finding.data["key_path"] == ["ANTHROPIC_BASE_URL"]
    assert finding.data["value"] == "https://api.cborg.lbl.gov"


@pytest.mark.parametrize("count", [1, 4, 5, 24])
def test_requests_fit_the_run_bound_however_many(count: int) -> None:
    from types import SimpleNamespace

    from cborg_doctor_checks.clients.paths import WORKERS, _timeout

    from cborg_doctor.timeouts import Timeouts

    deadline = Timeouts.from_option(5.0).deadline()  # the check's bound minus the margin
    ctx = SimpleNamespace(deadline=deadline, timeout=5.0)
    timeout = _timeout(ctx, count)  # type: ignore[arg-type]
    rounds = -(-count // WORKERS)
    # http.request bounds each request by 2 × timeout; rounds of WORKERS run one after another
    assert rounds * 2 * timeout <= deadline.seconds + 1e-9
    assert timeout <= 5.0


def test_setting_notes_become_findings(tmp_path: Path) -> None:
    write(tmp_path / ".codex" / "config.toml", 'profile = "cborg-gpt-mini"\nmodel = "gpt-5.4-mini"\n'
          'model_provider = "cborg"\n\n[model_providers.cborg]\nbase_url = "https://api.cborg.lbl.gov/v1"\n'
          'env_key = "CBORG_API_KEY"\n')
    env = {"CBORG_API_KEY": KEY, "ANTHROPIC_BASE_URL": "https://api.cborg.lbl.gov",
           "ANTHROPIC_AUTH_TOKEN": KEY, "ANTHROPIC_API_KEY": KEY}
    roots = Roots(tmp_path, tmp_path)
    outcome = assess(collect(roots, env, KeyJudge.from_env(env)), roots, env,
                     lambda h, p: ProxyState(False, "refused"), lambda: False)
    notes = {f.message.split(" (", 1)[0]: f for f in outcome.findings if f.code == "CLIENT_TOOL_SETTING"}
    assert notes["Codex CLI"].severity.value == "fail"
    assert "config profile `cborg-gpt-mini` not found" in notes["Codex CLI"].message
    assert notes["Claude Code"].severity.value == "warn"
    assert "ANTHROPIC_AUTH_TOKEN wins" in notes["Claude Code"].message


def write_cline(home: Path, state: dict, secrets: dict | None) -> None:
    """As Cline's file-backed storage writes them (cline/cline ``storage-context.ts``)."""
    write(home / ".cline" / "data" / "globalState.json", json.dumps(state, indent=2))
    if secrets is not None:
        write(home / ".cline" / "data" / "secrets.json", json.dumps(secrets, indent=2))


def test_cline_litellm_as_lbl_page_shows_one_row_and_sends_chat_at_the_base(tmp_path: Path) -> None:
    """LBL's tools_cline.md: provider LiteLLM, base URL without /v1, model id typed in."""
    write_cline(tmp_path, {"actModeApiProvider": "litellm", "planModeApiProvider": "litellm",
                           "liteLlmBaseUrl": "https://api.cborg.lbl.gov",
                           "actModeLiteLlmModelId": "lbl/cborg-coder",
                           "planModeLiteLlmModelId": "lbl/cborg-coder"}, {"liteLlmApiKey": KEY})
    [entry] = tool(entries(tmp_path, {}), "Cline")
    assert entry.label == "LiteLLM (Act/Plan mode)" and entry.model == "lbl/cborg-coder"
    assert entry.base_url == "https://api.cborg.lbl.gov" and entry.wire is Wire.CHAT
    assert entry.base_url_file == tmp_path / ".cline" / "data" / "globalState.json"
    assert entry.base_url_key_path == ("liteLlmBaseUrl",) and entry.base_url_line == 4
    assert entry.path == tmp_path / ".cline" / "data" / "secrets.json"  # where the key is
    assert entry.key.kind.value == "literal" and entry.key.line == 2
    assert entry.secret is not None and KEY not in repr(entry)
    assert judge_url(entry, lambda: False) is None  # the root is right for Cline
    # Cline's OpenAI SDK client appends /chat/completions to the base as written
    assert build(entry, live=True).url == "https://api.cborg.lbl.gov/chat/completions"
    assert build(entry, live=False).url == "https://api.cborg.lbl.gov/models"


def test_cline_plan_and_act_on_different_models_and_the_legacy_keys(tmp_path: Path) -> None:
    write_cline(tmp_path, {"actModeApiProvider": "litellm", "planModeApiProvider": "openai",
                           "liteLlmBaseUrl": "https://api.cborg.lbl.gov/v1/chat/completions",
                           "actModeLiteLlmModelId": "anthropic/claude-sonnet",
                           "openAiBaseUrl": "https://api.cborg.lbl.gov/v1",
                           "planModeOpenAiModelId": "openai/o3-high"}, {"liteLlmApiKey": KEY})
    act, plan = tool(entries(tmp_path, {}), "Cline")
    assert (act.label, act.model) == ("LiteLLM (Act mode)", "anthropic/claude-sonnet")
    assert (plan.label, plan.model) == ("OpenAI Compatible (Plan mode)", "openai/o3-high")
    verdict = judge_url(act, lambda: False)
    assert verdict is not None and verdict.problems[0].kind == "path"
    assert "set liteLlmBaseUrl to" in act.url_change(verdict.suggested)
    assert plan.key.kind.value == "secret"  # openAiApiKey is not in secrets.json
    # before Plan/Act mode Cline had one provider and one model
    (tmp_path / ".cline" / "data" / "secrets.json").unlink()
    write_cline(tmp_path, {"apiProvider": "litellm", "liteLlmModelId": "lbl/cborg-coder"}, None)
    [old] = tool(entries(tmp_path, {}), "Cline")
    assert old.model == "lbl/cborg-coder" and old.base_url == "http://localhost:4000"
    assert old.base_url_from == "default" and old.path.name == "globalState.json"


def test_cline_key_only_in_vscode_secret_storage_is_untested_with_the_reason(tmp_path: Path) -> None:
    write_cline(tmp_path, {"actModeApiProvider": "litellm", "liteLlmBaseUrl": "https://api.cborg.lbl.gov",
                           "actModeLiteLlmModelId": "lbl/cborg-coder"}, None)
    [entry] = tool(entries(tmp_path, {}), "Cline")
    assert entry.secret is None
    assert "VS Code's encrypted secret storage" in entry.key.describe()
    other = tool(entries(tmp_path / "nobody", {}), "Cline")
    assert other == []  # no globalState.json: no Cline row


def test_cline_base_url_finding_carries_what_fix_needs(tmp_path: Path) -> None:
    from cborg_doctor_checks.clients.check import Setup, base_url_findings

    write_cline(tmp_path, {"actModeApiProvider": "litellm",
                           "liteLlmBaseUrl": "https://api.cborg.lbl.gov/v1/v1",
                           "actModeLiteLlmModelId": "lbl/cborg-coder"}, {"liteLlmApiKey": KEY})
    roots = Roots(tmp_path, tmp_path)
    [entry] = tool(entries(tmp_path, {}), "Cline")
    [finding] = base_url_findings([Setup(entry, roots.display(entry.path))], roots, lambda: False)
    assert finding.code == "CLIENT_BASE_URL"
    assert finding.message.startswith("Cline (~/.cline/data/globalState.json, line 3) sends")
    assert {k: finding.data[k] for k in ("file", "format", "key_path", "value", "line")} == {
        "file": "~/.cline/data/globalState.json", "format": "json", "key_path": ["liteLlmBaseUrl"],
        "value": "https://api.cborg.lbl.gov/v1", "line": 3}  # both work for Cline
    assert "Base URL in Cline's settings panel, provider LiteLLM" in finding.fix[0]
    assert KEY not in finding.message + " ".join(finding.fix)


def test_cline_key_in_its_own_private_store_is_no_finding_but_world_readable_is(tmp_path: Path) -> None:
    from cborg_doctor_checks.clients.check import Setup, key_findings

    write_cline(tmp_path, {"actModeApiProvider": "litellm", "liteLlmBaseUrl": "https://api.cborg.lbl.gov",
                           "actModeLiteLlmModelId": "lbl/cborg-coder"}, {"liteLlmApiKey": KEY})
    roots = Roots(tmp_path, tmp_path)
    found = collect(roots, {}, KeyJudge.from_env({}))
    setups = [Setup(e, roots.display(e.path)) for e in tool(found.entries, "Cline")]
    assert setups and setups[0].entry.own_key_store
    assert not [f for f in key_findings(setups, setups, found.world_readable, {})
                if f.code == "CLIENT_KEY_IN_FILE"]  # mode 600, as Cline writes it
    secrets = tmp_path / ".cline" / "data" / "secrets.json"
    secrets.chmod(0o644)
    found = collect(roots, {}, KeyJudge.from_env({}))
    [finding] = [f for f in key_findings(setups, setups, found.world_readable, {})
                 if f.code == "CLIENT_KEY_IN_FILE"]
    assert finding.severity.value == "fail" and "Now: chmod 600 ~/.cline/data/secrets.json" in finding.fix
    assert "Cline cannot" in finding.fix[0] and KEY not in finding.message + " ".join(finding.fix)
