"""`clients.paths` against the real LiteLLM proxy: each tool's own request, per tool.

Every tool below is set up in a temporary home the way its documentation (and LBL's
cborg-web ``tools_*.md`` pages / ``cborg-client`` repository) shows, all at once, and the
doctor runs once per case; each tool gets its own row. The gateway is the real LiteLLM
proxy. LiteLLM answers ``/v1/messages/count_tokens`` and ``/v1/responses/input_tokens``
by asking the provider's own (free) counting API; that one upstream hop is a loopback
stand-in (`UPSTREAM`) answering as the providers document it (Anthropic
``{"input_tokens": N}``; OpenAI ``{"object": "response.input_tokens", "input_tokens": N}``,
read by ``litellm/llms/anthropic/count_tokens/handler.py`` and
``litellm/llms/openai/responses/count_tokens/handler.py``), so nothing leaves loopback.
Cases: correct setup, doubled ``/v1``, missing ``/v1``, the key in the wrong variable,
the header style (x-api-key; both Claude Code variables set), an unknown model
(``--live``), a key in a world-readable file. The user's key is in no output or report and
reaches no listener but the gateway (the upstream stand-in never sees it).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.doctor import DoctorRun, run_doctor
from tests.fuzzkit import ScriptedServer, json_reply
from tests.litellm_proxy import CONFIG, LiteLLMProxy, start_proxy, stop

pytestmark = pytest.mark.litellm

TOOLS = ("Claude Code", "Codex CLI", "Gemini CLI", "aider", "opencode", "Continue", "Roo Code",
         "gptstudio")

MODELS = """\
model_list:
  - model_name: anthropic/claude-sonnet
    litellm_params: {model: anthropic/claude-sonnet-4-20250514, api_key: mock,
                     api_base: "{upstream}", mock_response: "Hello from claude"}
  - model_name: anthropic/claude-haiku
    litellm_params: {model: anthropic/claude-3-5-haiku-20241022, api_key: mock,
                     api_base: "{upstream}", mock_response: "Hello from haiku"}
  - model_name: lbl/cborg-coder
    litellm_params: {model: openai/cborg-coder-upstream, api_key: mock,
                     api_base: "{upstream}/v1", mock_response: "Hello from coder"}
  - model_name: gpt-5.4-mini
    litellm_params: {model: openai/gpt-5.4-mini, api_key: mock,
                     api_base: "{upstream}/v1", mock_response: "Hello from mini"}
  - model_name: gemini-2.5-pro
    litellm_params: {model: openai/gemini-upstream, api_key: mock,
                     api_base: "{upstream}/v1", mock_response: "Hello from gemini"}
"""


@dataclass(frozen=True)
class Gateway:
    proxy: LiteLLMProxy
    upstream: ScriptedServer

    @property
    def url(self) -> str:
        return self.proxy.base_url


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    replies = {
        "/v1/messages/count_tokens": json_reply('{"input_tokens": 3}'),
        "/v1/responses/input_tokens": json_reply('{"object": "response.input_tokens", "input_tokens": 3}'),
    }
    with ScriptedServer(replies, default=json_reply('{"error": "not here"}', 404)) as upstream:
        settings = CONFIG[CONFIG.index("litellm_settings:"):]
        config = MODELS.replace("{upstream}", upstream.url) + settings
        try:
            proc, proxy = start_proxy(tmp_path_factory.mktemp("litellm-paths"), config)
        except RuntimeError as exc:
            pytest.fail(f"LiteLLM could not be started: {exc}")
        try:
            yield Gateway(proxy, upstream)
        finally:
            stop(proc)


def write(path: Path, text: str, mode: int = 0o600) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)


@dataclass
class Setup:
    """Knobs of one scenario; every tool is written from them."""

    base: str  # the gateway's root, as the user would write it
    openai_suffix: str = "/v1"  # what OpenAI-style tools append to the root
    anthropic_suffix: str = ""  # what Claude Code / Gemini CLI append
    key_in_right_variable: bool = True
    model: str | None = None  # overrides every tool's model
    world_readable: bool = False


def setup_home(home: Path, s: Setup, key: str) -> dict[str, str]:
    """Write every tool's files the way its docs show; return the environment."""
    oa = s.base + s.openai_suffix
    an = s.base + s.anthropic_suffix
    coder = s.model or "lbl/cborg-coder"
    env = {"CBORG_API_KEY": key}
    # Claude Code (LBL's tools_claudecode.md, in settings.json's env block)
    write(home / ".claude" / "settings.json", json.dumps({"env": {
        "ANTHROPIC_BASE_URL": an, "ANTHROPIC_MODEL": s.model or "anthropic/claude-sonnet",
        "ANTHROPIC_SMALL_FAST_MODEL": "anthropic/claude-haiku"}}, indent=2))
    # Codex CLI (cborg-client codex/config.toml)
    write(home / ".codex" / "config.toml", f'''model = "{s.model or 'gpt-5.4-mini'}"
model_provider = "cborg"

[model_providers.cborg]
name = "CBorg API"
base_url = "{oa}"
env_key = "CBORG_API_KEY"
wire_api = "responses"
''')
    # Gemini CLI (LBL's tools_geminicli.md)
    write(home / ".gemini" / "settings.json", json.dumps(
        {"security": {"auth": {"selectedType": "gemini-api-key"}},
         "model": {"name": s.model or "gemini-2.5-pro"}}))
    env["GOOGLE_GEMINI_BASE_URL"] = an
    # aider (LBL's tools_aider.md: openai/ prefix, OPENAI_API_BASE)
    write(home / ".aider.conf.yml", f"model: openai/{coder}\nopenai-api-base: {oa}\n")
    # opencode (cborg-client opencode/opencode.json)
    write(home / ".config" / "opencode" / "opencode.json", json.dumps({
        "$schema": "https://opencode.ai/config.json", "model": f"cborg/{coder}",
        "provider": {"cborg": {"npm": "@ai-sdk/openai-compatible", "name": "CBorg",
                               "options": {"baseURL": oa, "apiKey": "{env:CBORG_API_KEY}"},
                               "models": {coder: {"name": "CBorg Coder"}}}}}, indent=2))
    # Continue (config.yaml with a local secret in ~/.continue/.env)
    write(home / ".continue" / "config.yaml", f"""name: CBorg
version: 1.0.0
schema: v1
models:
  - name: CBorg Coder
    provider: openai
    model: {coder}
    apiBase: {oa}
    apiKey: ${{{{ secrets.CBORG_API_KEY }}}}
""")
    # Roo Code export (LiteLLM provider, base URL without /v1, LBL's tools_roo.md)
    write(home / ".roo" / "roo-code-settings.json", json.dumps({"providerProfiles": {
        "currentApiConfigName": "cborg", "apiConfigs": {"cborg": {
            "apiProvider": "litellm", "litellmBaseUrl": s.base + s.openai_suffix.replace("/v1", "", 1),
            "litellmApiKey": key, "litellmModelId": coder}}}}, indent=2),
          0o644 if s.world_readable else 0o600)
    # gptstudio (LBL's tools_rstudio.md)
    write(home / ".Renviron", f'OPENAI_API_KEY="{key}"\nOPENAI_API_URL="{oa}"\n'
          + (f'OPENAI_MODEL="{s.model}"\n' if s.model else ""),
          0o644 if s.world_readable else 0o600)
    if s.key_in_right_variable:
        write(home / ".continue" / ".env", f"CBORG_API_KEY={key}\n")
        env.update(ANTHROPIC_AUTH_TOKEN=key, GEMINI_API_KEY=key, OPENAI_API_KEY=key)
    else:  # each tool's key in a variable that tool does not read
        env.pop("CBORG_API_KEY")
        env.update(ANTHROPIC_KEY=key, GOOGLE_API_KEY=key, CBORG_KEY=key)
    return env


def doctor(gateway: Gateway, home: Path, env: dict[str, str], *extra: str,
           stdin: str | None = None) -> DoctorRun:
    report = home / "report.json"
    run = run_doctor("--base-url", gateway.url, "--only", "config.clients,clients.paths,models",
                     "--json", "--report", str(report), "--timeout", "10", *extra,
                     home=home, env=env, cwd=home, timeout=180, stdin=stdin)
    assert run.code in (0, 1), run.output[-3000:]
    return run


def check(run: DoctorRun, check_id: str) -> dict:
    return next(c for c in run.json()["checks"] if c["id"] == check_id)


def rows(run: DoctorRun) -> dict[str, dict]:
    return {r["tool"]: r for r in check(run, "clients.paths")["data"]["rows"]}


def findings(run: DoctorRun, code: str) -> list[dict]:
    return [f for c in run.json()["checks"] for f in c["findings"] if f["code"] == code]


def assert_key_kept(run: DoctorRun, home: Path, key: str, gateway: Gateway) -> None:
    assert key not in run.output
    assert key not in (home / "report.json").read_text(encoding="utf-8")
    for seen in gateway.upstream.seen:  # the provider stand-in behind LiteLLM
        assert key.encode() not in seen.raw


def by_tool(found: list[dict]) -> dict[str, dict]:
    """Findings by the tool their message starts with ("Claude Code would fail: ...")."""
    out: dict[str, dict] = {}
    for f in found:
        tool = next((t for t in TOOLS if f["message"].startswith(t)), None)
        if tool is not None:
            out.setdefault(tool, f)
    return out


# ── the cases ──────────────────────────────────────────────────────────────


def test_every_tool_set_up_as_documented_works(gateway: Gateway, home: Path, canary_key: str) -> None:
    env = setup_home(home, Setup(gateway.url), canary_key)
    run = doctor(gateway, home, env)
    table = rows(run)
    assert set(TOOLS) <= set(table), table
    for tool in TOOLS:
        assert table[tool]["status"] == "ok", (tool, table[tool]["result"])
    ok = by_tool(findings(run, "CLIENT_PATH_OK"))
    assert "would work" in ok["Claude Code"]["message"]
    assert "/v1/messages/count_tokens" in table["Claude Code"]["url"]
    assert table["Codex CLI"]["url"].endswith("/v1/responses/input_tokens")
    assert ":countTokens" in table["Gemini CLI"]["url"]
    assert table["aider"]["url"].endswith("/v1/models") and table["aider"]["model"] == "lbl/cborg-coder"
    assert table["Gemini CLI"]["header"] == "x-goog-api-key"
    assert check(run, "clients.paths")["status"] == "pass"
    assert not findings(run, "CLIENT_MODEL_UNKNOWN")
    assert gateway.upstream.seen, "LiteLLM never asked the provider to count tokens"
    assert_key_kept(run, home, canary_key, gateway)


def test_doubled_v1_fails_per_tool_with_the_line_to_change(gateway: Gateway, home: Path,
                                                           canary_key: str) -> None:
    env = setup_home(home, Setup(gateway.url, openai_suffix="/v1/v1", anthropic_suffix="/v1"),
                     canary_key)
    run = doctor(gateway, home, env)
    failed = by_tool(findings(run, "CLIENT_PATH_FAILED"))
    table = rows(run)
    for tool in ("Claude Code", "Codex CLI", "Gemini CLI", "aider", "opencode", "Continue",
                 "gptstudio"):
        assert tool in failed, (tool, table[tool]["result"])
        assert table[tool]["http_status"] == 404 and table[tool]["cause"] == "url"
        assert failed[tool]["message"].startswith(f"{tool} would fail:")
    claude, edit = failed["Claude Code"], table["Claude Code"]["edit"]
    assert "/v1/v1/messages/count_tokens" in claude["message"]
    assert edit["file"] == "~/.claude/settings.json" and edit["format"] == "json"
    assert edit["key_path"] == ["env", "ANTHROPIC_BASE_URL"] and edit["value"] == gateway.url
    assert "ANTHROPIC_BASE_URL" in claude["fix"][0] and "API Error: 404" in claude["message"]
    assert "~/.claude/settings.json, line" in claude["fix"][0]
    codex = table["Codex CLI"]["edit"]
    assert codex["key_path"] == ["model_providers", "cborg", "base_url"]
    assert codex["value"] == gateway.url + "/v1" and codex["format"] == "toml"
    assert table["aider"]["edit"]["key_path"] == ["openai-api-base"]
    assert table["Continue"]["edit"]["key_path"] == ["models", 0, "apiBase"]
    assert run.json()["verdict"]["check"] in ("config.clients", "clients.paths")
    assert check(run, "clients.paths")["status"] == "fail" and run.code == 1
    assert_key_kept(run, home, canary_key, gateway)


def test_missing_v1_is_what_litellm_serves_anyway(gateway: Gateway, home: Path, canary_key: str) -> None:
    """LiteLLM routes /models, /chat/completions and /responses at its root too: the doctor
    agrees with the gateway rather than with a rule of thumb."""
    env = setup_home(home, Setup(gateway.url, openai_suffix=""), canary_key)
    run = doctor(gateway, home, env)
    table = rows(run)
    for tool in ("Codex CLI", "aider", "opencode", "Continue", "gptstudio", "Roo Code"):
        assert table[tool]["status"] == "ok", (tool, table[tool])
    assert_key_kept(run, home, canary_key, gateway)


def test_key_in_the_wrong_variable_fails_naming_the_variable(gateway: Gateway, home: Path,
                                                             canary_key: str) -> None:
    env = setup_home(home, Setup(gateway.url, key_in_right_variable=False), canary_key)
    run = doctor(gateway, home, env, "--api-key-file", "-", stdin=canary_key + "\n")
    failed = by_tool(findings(run, "CLIENT_PATH_FAILED"))
    table = rows(run)
    for tool, variable in (("Claude Code", "ANTHROPIC_AUTH_TOKEN"), ("Codex CLI", "env_key"),
                           ("Gemini CLI", "GEMINI_API_KEY"), ("aider", "OPENAI_API_KEY"),
                           ("opencode", "{env:CBORG_API_KEY}"), ("Continue", "secrets.CBORG_API_KEY")):
        assert tool in failed, (tool, table.get(tool))
        assert table[tool]["http_status"] == 401 and table[tool]["cause"] == "key"
        assert variable in failed[tool]["message"] + " ".join(failed[tool]["fix"]), failed[tool]
    # Keys pasted in the file are the user's key: those tools still work.
    assert table["gptstudio"]["status"] == "ok" and table["Roo Code"]["status"] == "ok"
    assert_key_kept(run, home, canary_key, gateway)


@pytest.mark.parametrize("variables", ["api-key", "both, wrong token"])
def test_claude_code_header_style_and_which_key_wins(gateway: Gateway, home: Path, canary_key: str,
                                                     variables: str) -> None:
    env = setup_home(home, Setup(gateway.url), canary_key)
    token = env.pop("ANTHROPIC_AUTH_TOKEN")
    env["ANTHROPIC_API_KEY"] = token
    if variables == "both, wrong token":
        env["ANTHROPIC_AUTH_TOKEN"] = "sk-not-a-key-0123456789abcdef"
    run = doctor(gateway, home, env)
    row = rows(run)["Claude Code"]
    if variables == "api-key":  # x-api-key: LiteLLM accepts Anthropic's header too
        assert row["status"] == "ok" and row["header"] == "x-api-key", row
        return
    # Both set: Claude Code sends both headers, LiteLLM reads Authorization first.
    failed = by_tool(findings(run, "CLIENT_PATH_FAILED"))["Claude Code"]
    assert row["http_status"] == 401 and row["cause"] == "key"
    assert "ANTHROPIC_AUTH_TOKEN wins" in " ".join(failed["fix"])
    assert_key_kept(run, home, canary_key, gateway)


def test_unknown_model_live_fails_and_models_names_it(gateway: Gateway, home: Path,
                                                      canary_key: str) -> None:
    env = setup_home(home, Setup(gateway.url, model="lbl/no-such-model"), canary_key)
    run = doctor(gateway, home, env, "--live")
    failed = by_tool(findings(run, "CLIENT_PATH_FAILED"))
    table = rows(run)
    for tool in ("Claude Code", "Codex CLI", "aider", "opencode", "Continue", "gptstudio"):
        assert tool in failed, (tool, table[tool]["result"])
        assert table[tool]["cause"] == "model", table[tool]
    unknown = {f["message"].split(" is set", 1)[0] for f in findings(run, "CLIENT_MODEL_UNKNOWN")}
    assert {"Claude Code", "Codex CLI", "opencode"} <= unknown
    assert_key_kept(run, home, canary_key, gateway)


@pytest.mark.skipif(os.name == "nt", reason="file modes are POSIX")
def test_key_in_a_world_readable_file_fails_but_the_path_works(gateway: Gateway, home: Path,
                                                               canary_key: str) -> None:
    env = setup_home(home, Setup(gateway.url, world_readable=True), canary_key)
    run = doctor(gateway, home, env)
    in_file = {f["message"].split(" ", 1)[0]: f for f in findings(run, "CLIENT_KEY_IN_FILE")}
    for file in ("~/.Renviron", "~/.roo/roo-code-settings.json"):
        assert in_file[file]["severity"] == "fail", in_file
        assert "readable by every user" in in_file[file]["message"]
        assert any(f"chmod 600 {file}" in step for step in in_file[file]["fix"])
    assert rows(run)["gptstudio"]["status"] == "ok"
    [spread] = findings(run, "CLIENT_KEY_SPREAD")
    assert "~/.Renviron" in spread["message"] and "$ANTHROPIC_AUTH_TOKEN" in spread["message"]
    assert_key_kept(run, home, canary_key, gateway)



def test_a_tool_pointed_elsewhere_is_never_sent_its_key(gateway: Gateway, home: Path,
                                                        canary_key: str) -> None:
    """Claude Code aimed at another listener (another port, another loopback address):
    untested, with the reason; neither listener receives the key, or any request."""
    with ScriptedServer(default=json_reply('{"input_tokens": 1}')) as other, \
            ScriptedServer(host="127.0.0.2", default=json_reply("{}")) as other_address:
        env = setup_home(home, Setup(gateway.url), canary_key)
        write(home / ".claude" / "settings.json", json.dumps({"env": {
            "ANTHROPIC_BASE_URL": other.url, "ANTHROPIC_MODEL": "anthropic/claude-sonnet"}}))
        env["GOOGLE_GEMINI_BASE_URL"] = other_address.url
        run = doctor(gateway, home, env)
        for listener in (other, other_address):
            assert all(canary_key.encode() not in s.raw for s in listener.seen)
            assert not any(s.raw.strip() for s in listener.seen), "the doctor sent a request there"
    table = rows(run)
    for tool in ("Claude Code", "Gemini CLI"):
        assert table[tool]["status"] == "untested", table[tool]
        assert "not to the gateway under test" in table[tool]["result"]
    assert table["Codex CLI"]["status"] == "ok"
    assert_key_kept(run, home, canary_key, gateway)


def test_live_sends_one_tiny_real_request_of_each_tools_kind(gateway: Gateway, home: Path,
                                                             canary_key: str) -> None:
    env = setup_home(home, Setup(gateway.url), canary_key)
    run = doctor(gateway, home, env, "--live")
    table = rows(run)
    for tool in TOOLS:
        assert table[tool]["status"] == "ok", (tool, table[tool]["result"])
        # gptstudio's model is picked in its UI: it gets the unbilled request
        assert table[tool]["request"] == ("GET" if tool == "gptstudio" else "POST"), tool
    assert table["Claude Code"]["url"].endswith("/v1/messages")
    assert table["Codex CLI"]["url"].endswith("/v1/responses")
    assert table["Gemini CLI"]["url"].endswith(":generateContent")
    assert table["aider"]["url"].endswith("/v1/chat/completions")
    assert check(run, "clients.paths")["data"]["live"] is True
    assert_key_kept(run, home, canary_key, gateway)
