"""config.clients as a whole: recorded configs in a temporary home, a real loopback listener
standing in for the cborg-client proxy, and end-to-end runs of the real CLI.

The key must never appear anywhere: the in-process tests look at the check's own output
(before the engine's scrubber), the end-to-end tests at everything the CLI prints and writes.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cborg_doctor_checks.clients import check as config_clients
from cborg_doctor_checks.clients.audit import CBORG_CLIENT_PORTS
from cborg_doctor_checks.clients.check import CHECKS, assess
from cborg_doctor_checks.clients.collect import collect
from cborg_doctor_checks.clients.files import Roots
from cborg_doctor_checks.clients.model import KeyJudge
from cborg_doctor_checks.clients.probe import ProxyState, local_addresses, tcp_probe

from cborg_doctor.cborg import is_lbl_address
from cborg_doctor.check import Outcome
from cborg_doctor.context import RunContext
from cborg_doctor.options import Options
from cborg_doctor.secrets import resolve_key
from cborg_doctor.target import choose_target
from tests.doctor import run_doctor

DATA = Path(__file__).parent / "data" / "clients"


def recorded(name: str, **subs: str) -> str:
    text = (DATA / name).read_text()
    for token, value in subs.items():
        text = text.replace("{" + token + "}", value)
    return text


def put(path: Path, text: str, mode: int = 0o600) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(mode)
    return path


def run_check(home: Path, cwd: Path | None = None, env: dict[str, str] | None = None) -> Outcome:
    """The check in-process, exactly as the runner calls it, but without the scrubber."""
    env = dict(env or {})
    options = Options(timeout=2.0)
    ctx = RunContext(options=options, env=env, key_resolution=resolve_key(None, env),
                     target=choose_target(None, env), home=home, cwd=cwd or home)
    return config_clients.run(ctx)


def codes(outcome: Outcome) -> dict[str, list[Any]]:
    found: dict[str, list[Any]] = {}
    for finding in outcome.findings:
        found.setdefault(finding.code, []).append(finding)
    return found


def dump(outcome: Outcome) -> str:
    return json.dumps({
        "summary": outcome.summary,
        "findings": [{**f.to_dict(), "data": dict(f.data)} for f in outcome.findings],
        "data": dict(outcome.data),
    }, default=str)


@pytest.fixture
def listener() -> Iterator[int]:
    """A real TCP listener on a free loopback port: the cborg-client proxy, up."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    try:
        yield server.getsockname()[1]
    finally:
        server.close()


@pytest.fixture
def closed_port() -> int:
    """A loopback port where nothing listens: the cborg-client proxy, down."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def offsite_here() -> bool:
    addresses = local_addresses()
    return bool(addresses) and not any(is_lbl_address(a) for a in addresses)


# --- in-process ----------------------------------------------------------------------------


def test_registered_as_contract_says() -> None:
    [check] = CHECKS
    assert check.id == "config.clients" and check.order == 40 and check.needs == ()
    declared = {code.code for code in check.codes}
    assert {"CLIENTS_FOUND", "CLIENT_BASE_URL", "CLIENT_KEY_IN_FILE",
            "CLIENT_PROXY_DOWN"} <= declared
    assert "CLIENT_MODEL_UNKNOWN" not in declared  # the models check owns it
    for code in check.codes:
        assert code.fix or code.severity.value == "info", code.code


def test_nothing_configured(home: Path) -> None:
    outcome = run_check(home)
    assert list(codes(outcome)) == ["CLIENTS_NONE"]
    assert outcome.data["configured_models"] == []


def test_correct_setups_pass_and_list_models(home: Path) -> None:
    put(home / ".continue" / "config.yaml", recorded("continue_config.yaml").replace(
        "api-local.cborg.lbl.gov", "api.cborg.lbl.gov"))
    put(home / ".codex" / "config.toml",
        recorded("codex_config.toml", BASE="https://api.cborg.lbl.gov/v1"))
    put(home / ".codex" / "cborg-gpt-mini.config.toml", recorded("codex_profile.config.toml"))
    put(home / ".codex" / "openai-gpt-mini.config.toml",
        recorded("codex_openai_profile.config.toml"))
    put(home / ".config" / "opencode" / "opencode.json",
        recorded("opencode.json", APIKEY="{env:CBORG_API_KEY}"))
    outcome = run_check(home, env={"CBORG_API_KEY": "sk-" + "x" * 22})
    found = codes(outcome)
    assert list(found) == ["CLIENTS_FOUND"], dump(outcome)
    table = found["CLIENTS_FOUND"][0].message
    assert "~/.codex/config.toml" in table and "secret CBORG_API_KEY" in table
    models = {(r["tool"], r["model"]) for r in outcome.data["configured_models"]}
    assert ("Codex CLI", "gpt-mini") in models and ("opencode", "gemini-flash") in models
    assert ("Codex CLI", "gpt-5.4-mini") not in models  # the OpenAI-direct profile
    assert ("Continue", "anthropic/claude-sonnet") in models
    rows = outcome.data["clients"]
    assert any(r["setup"] == "profile openai-gpt-mini" and not r["cborg"] for r in rows)


def test_key_in_file_warns_private_and_fails_world_readable(home: Path,
                                                            canary_key: str) -> None:
    config = put(home / ".config" / "opencode" / "opencode.json",
                 recorded("opencode.json", APIKEY=canary_key), mode=0o600)
    private = codes(run_check(home))["CLIENT_KEY_IN_FILE"]
    assert [f.severity.value for f in private] == ["warn"]
    assert "~/.config/opencode/opencode.json line 11" in private[0].message
    assert any("{env:CBORG_API_KEY}" in step for step in private[0].fix)
    config.chmod(0o644)
    outcome = run_check(home)
    [shared] = codes(outcome)["CLIENT_KEY_IN_FILE"]
    assert shared.severity.value == "fail" and "mode 0644" in shared.message
    assert any("chmod 600 ~/.config/opencode/opencode.json" in step for step in shared.fix)
    assert any("key/manage" in step for step in shared.fix)
    assert canary_key not in dump(outcome)


def test_every_tool_with_a_pasted_key_never_shows_it(home: Path, canary_key: str) -> None:
    cwd = home / "proj"
    put(home / ".continue" / "config.json", recorded("continue_easy.json", KEY=canary_key))
    put(home / ".codex" / "config.toml", recorded("codex_token.toml", KEY=canary_key))
    put(home / ".aider.conf.yml", recorded("aider.conf.yml", BASE="https://api.cborg.lbl.gov",
                                           KEY=canary_key))
    put(home / ".local" / "share" / "jupyter" / "jupyter_ai" / "config.json",
        recorded("jupyter_ai_config.json", BASE="https://api.cborg.lbl.gov/v1",
                 KEY=canary_key))
    put(home / ".zoo" / "zoo-code-settings.json",
        recorded("zoo-code-settings.json", APIKEY=canary_key))
    put(cwd / ".env", recorded("dotenv", KEY=canary_key, BASE="https://api.cborg.lbl.gov"))
    outcome = run_check(home, cwd)
    found = codes(outcome)
    files = sorted(f.data["file"] for f in found["CLIENT_KEY_IN_FILE"])
    assert files == ["~/.aider.conf.yml", "~/.codex/config.toml",
                     "~/.continue/config.json",
                     "~/.local/share/jupyter/jupyter_ai/config.json",
                     "~/.zoo/zoo-code-settings.json", "~/proj/.env"]
    [zoo] = [f for f in found["CLIENT_KEY_IN_FILE"] if "zoo" in f.data["file"]]
    assert zoo.data["lines"] == [8, 15]  # both profiles hold the key
    hows = " ".join(step for f in found["CLIENT_KEY_IN_FILE"] for step in f.fix)
    assert 'env_key = "CBORG_API_KEY"' in hows and "${{ secrets.CBORG_API_KEY }}" in hows
    assert "OPENAI_API_KEY" in hows and "secret storage" in hows
    assert canary_key not in dump(outcome)


def test_wrong_hosts_fail_with_the_setting_to_change(home: Path) -> None:
    put(home / ".codex" / "config.toml", recorded("codex_config.toml",
                                                  BASE="https://api.openai.com/v1"))
    put(home / ".aider.conf.yml", "model: openai/lbl/cborg-coder\n"
                                  "openai-api-base: http://me:pw@cborg.lbl.gov\n")
    put(home / ".local" / "share" / "jupyter" / "jupyter_ai" / "config.json",
        recorded("jupyter_ai_config.json", BASE="https://api.cborg.lbl.gov/v1/chat/completions",
                 KEY="n/a"))
    outcome = run_check(home, env={"CBORG_API_KEY": "sk-" + "y" * 22})
    by_tool = {f.data["tool"]: f for f in codes(outcome)["CLIENT_BASE_URL"]}
    codex = by_tool["Codex CLI"]
    assert codex.severity.value == "fail" and "OpenAI" in codex.message
    assert "~/.codex/config.toml, line 9" in codex.message
    assert codex.fix[0] == ("In ~/.codex/config.toml, set base_url in [model_providers.cborg] "
                            "to https://api.cborg.lbl.gov/v1.")
    aider = by_tool["aider"]
    assert aider.data["kinds"] == ["insecure", "host"]
    assert "did you mean api.cborg.lbl.gov" in aider.message
    assert "http://…@cborg.lbl.gov" in aider.message and "pw" not in dump(outcome)
    assert "set openai-api-base to https://api.cborg.lbl.gov." in aider.fix[0]
    jupyter = by_tool["Jupyter AI"]
    assert jupyter.data["kinds"] == ["path"]
    assert jupyter.data["suggested"] == "https://api.cborg.lbl.gov/v1"


def test_openai_default_with_cborg_key_fails(home: Path) -> None:
    key = "sk-" + "z" * 22
    put(home / ".aider.conf.yml", f"model: gpt-4o\nopenai-api-key: {key}\n")
    outcome = run_check(home)
    [finding] = codes(outcome)["CLIENT_BASE_URL"]
    assert "the tool's default" in finding.message and finding.data["kinds"] == ["openai"]


def test_api_local_offsite_is_judged_only_when_known(home: Path) -> None:
    put(home / ".continue" / "config.yaml", recorded("continue_config.yaml"))
    roots = Roots(home, home)
    collection = collect(roots, {}, KeyJudge())

    def probe(host: str, port: int) -> ProxyState:
        raise AssertionError("no proxy here")

    def kinds(offsite: bool | None) -> list[str]:
        outcome = assess(collection, roots, {}, probe, lambda: offsite)
        return [k for f in outcome.findings if f.code == "CLIENT_BASE_URL"
                for k in f.data["kinds"]]

    assert kinds(True) == ["offsite"]
    assert kinds(False) == []
    assert kinds(None) == []


def test_malformed_files_are_lines_not_crashes(home: Path) -> None:
    put(home / ".continue" / "config.json", '{\n  "models": [\n    {"title": "x",\n')
    put(home / ".codex" / "config.toml", 'model = "lbl/cborg-coder"\nmodel_provider = cborg\n')
    put(home / ".aider.conf.yml", "model: openai/lbl/x\n  openai-api-base: [\n")
    put(home / ".continue" / "config.yaml", "- just\n- a list\n")
    outcome = run_check(home)
    notes = {f.message: f.severity.value for f in codes(outcome)["CLIENT_CONFIG_UNREADABLE"]}
    assert all(severity == "warn" for severity in notes.values())
    text = "\n".join(notes)
    assert "~/.continue/config.json is not valid (line 4): invalid JSON" in text
    assert "~/.codex/config.toml is not valid (line 2): invalid TOML" in text
    assert "~/.aider.conf.yml is not valid (line 2): invalid YAML" in text
    assert "~/.continue/config.yaml is not valid" in text


def test_symlink_out_of_home_is_not_read(home: Path, tmp_path: Path, canary_key: str) -> None:
    outside = put(tmp_path / "elsewhere" / "config.json",
                  recorded("continue_easy.json", KEY=canary_key))
    (home / ".continue").mkdir()
    (home / ".continue" / "config.json").symlink_to(outside)
    outcome = run_check(home)
    [note] = codes(outcome)["CLIENT_CONFIG_UNREADABLE"]
    assert note.severity.value == "info" and "outside your home directory" in note.message
    assert "CLIENT_KEY_IN_FILE" not in codes(outcome)
    assert "elsewhere" not in dump(outcome) and canary_key not in dump(outcome)


def test_placeholder_and_unset_variable(home: Path) -> None:
    put(home / ".zoo" / "zoo-code-settings.json",
        recorded("zoo-code-settings.json", APIKEY="$CBORG_API_KEY"))
    put(home / ".codex" / "config.toml",
        recorded("codex_config.toml", BASE="https://api.cborg.lbl.gov/v1"))
    found = codes(run_check(home))
    [placeholder] = found["CLIENT_KEY_PLACEHOLDER"]
    assert "'$CBORG_API_KEY'" in placeholder.message and "line 8" in placeholder.message
    assert "secret storage" in placeholder.fix[0]
    [unset] = found["CLIENT_KEY_ENV_UNSET"]
    assert unset.message.startswith(
        "Codex CLI (~/.codex/config.toml): the key comes from $CBORG_API_KEY")
    assert unset.fix[0].startswith("Add `export CBORG_API_KEY=sk-...` to ~/.bashrc")
    assert "CLIENT_KEY_ENV_UNSET" not in codes(run_check(home, env={"CBORG_API_KEY": "sk-1"}))


def test_proxy_up_and_down_with_a_real_listener(home: Path, listener: int,
                                                closed_port: int) -> None:
    put(home / ".continue" / "config.json", recorded("continue_proxy.json", PORT=str(listener)))
    up = run_check(home)
    assert "CLIENT_PROXY_DOWN" not in codes(up)
    [state] = up.data["proxies"]
    assert state == {"address": f"127.0.0.1:{listener}", "up": True, "cborg_client": False}
    assert f"127.0.0.1:{listener}" in codes(up)["CLIENT_PROXY_UP"][0].message
    put(home / ".continue" / "config.json",
        recorded("continue_proxy.json", PORT=str(closed_port)))
    down = run_check(home)
    [finding] = codes(down)["CLIENT_PROXY_DOWN"]
    assert finding.severity.value == "fail" and "refused" in finding.message
    assert any("start-cborg-client-proxy.sh" in step for step in finding.fix)
    # Behind the proxy "none" is the right key: no placeholder or key finding.
    assert not {"CLIENT_KEY_PLACEHOLDER", "CLIENT_KEY_IN_FILE"} & set(codes(down))


def test_cborg_client_ports_are_named_and_localhost_tries_both_families() -> None:
    outcome_ports = {8001, 8002, 8003}
    assert set(CBORG_CLIENT_PORTS) == outcome_ports
    state = tcp_probe(0.5)("localhost", 9)  # discard port: nothing listens
    assert not state.up and "127.0.0.1" in state.detail


# --- end to end ----------------------------------------------------------------------------


def doctor(home: Path, cwd: Path | None = None, *extra: str,
           env: dict[str, str] | None = None) -> tuple[int, dict[str, Any], str]:
    result = run_doctor("--only", "config.clients", "--json", "--no-report", *extra,
                        home=home, cwd=cwd or home, env=env)
    report = result.json()
    [check] = report["checks"]
    return result.code, check, result.output


def e2e_codes(check: dict[str, Any]) -> dict[str, str]:
    return {f["code"]: f["severity"] for f in check["findings"]}


def test_e2e_proxy_up_passes(home: Path, listener: int) -> None:
    put(home / ".continue" / "config.json", recorded("continue_proxy.json", PORT=str(listener)))
    code, check, _ = doctor(home)
    assert code == 0 and check["status"] == "pass"
    assert e2e_codes(check) == {"CLIENT_PROXY_UP": "info", "CLIENTS_FOUND": "info"}


def test_e2e_proxy_down_fails(home: Path, closed_port: int) -> None:
    put(home / ".continue" / "config.json",
        recorded("continue_proxy.json", PORT=str(closed_port)))
    code, check, _ = doctor(home)
    assert code == 1 and check["status"] == "fail"
    assert e2e_codes(check)["CLIENT_PROXY_DOWN"] == "fail"


def test_e2e_keys_never_leave_and_reports_hold_no_key(home: Path, tmp_path: Path,
                                                      canary_key: str) -> None:
    cwd = home / "proj"
    put(home / ".continue" / "config.json", recorded("continue_easy.json", KEY=canary_key),
        mode=0o644)
    put(home / ".aider.conf.yml", recorded("aider.conf.yml", BASE="https://api.cborg.lbl.gov",
                                           KEY=canary_key), mode=0o600)
    put(cwd / "opencode.json", recorded("opencode.json", APIKEY=canary_key))
    put(cwd / ".env", recorded("dotenv", KEY=canary_key, BASE="https://api.openai.com/v1"))
    outside = put(tmp_path / "outside.json", recorded("continue_easy.json", KEY=canary_key))
    (home / ".codex").mkdir()
    (home / ".codex" / "config.toml").symlink_to(outside)
    reports = tmp_path / "reports"
    reports.mkdir()
    result = run_doctor("--only", "config.clients", "--report", str(reports / "r.json"),
                        "--report", str(reports / "r.md"), "--report", str(reports / "r.html"),
                        "-v", home=home, cwd=cwd)
    assert result.code == 1
    assert canary_key not in result.output
    for report in reports.iterdir():
        assert canary_key not in report.read_text(), report.name
    check = json.loads((reports / "r.json").read_text())["checks"][0]
    severities = [(f["code"], f["severity"]) for f in check["findings"]]
    assert ("CLIENT_KEY_IN_FILE", "fail") in severities  # ~/.continue/config.json, 0644
    assert ("CLIENT_KEY_IN_FILE", "warn") in severities  # ~/.aider.conf.yml, 0600
    assert ("CLIENT_BASE_URL", "fail") in severities  # .env → api.openai.com
    assert ("CLIENT_CONFIG_UNREADABLE", "info") in severities  # the symlink out of home
    assert str(home) not in json.dumps(check)  # paths are shown with ~, never a user's home


def test_e2e_unknown_model_is_left_for_the_models_check(home: Path) -> None:
    put(home / ".codex" / "config.toml",
        recorded("codex_config.toml", BASE="https://api.cborg.lbl.gov/v1").replace(
            "lbl/cborg-coder", "lbl/no-such-model"))
    code, check, _ = doctor(home, env={"CBORG_API_KEY": "sk-" + "q" * 22})
    assert code == 0
    assert {"tool": "Codex CLI", "model": "lbl/no-such-model", "file": "~/.codex/config.toml"} \
        in check["data"]["configured_models"]


def test_e2e_malformed_configs_warn(home: Path) -> None:
    put(home / ".config" / "opencode" / "opencode.json", '{"provider": {"a": }}')
    put(home / ".codex" / "config.toml", "model = \n")
    put(home / ".aider.conf.yml", "model: [\n")
    code, check, _ = doctor(home)
    assert check["status"] == "warn" and code == 0
    messages = [f["message"] for f in check["findings"]
                if f["code"] == "CLIENT_CONFIG_UNREADABLE"]
    assert len(messages) == 3 and all("is not valid" in m for m in messages)
    assert any(m.startswith("opencode: ~/.config/opencode/opencode.json") for m in messages)


@pytest.mark.skipif(not offsite_here(), reason="cannot tell off-site here: no non-loopback address, or an LBL one")
def test_e2e_api_local_offsite_fails(home: Path) -> None:
    put(home / ".continue" / "config.yaml", recorded("continue_config.yaml"))
    code, check, _ = doctor(home)
    assert code == 1
    [finding] = [f for f in check["findings"] if f["code"] == "CLIENT_BASE_URL"]
    assert "answers only on LBLnet" in finding["message"]
    assert "set apiBase to https://api.cborg.lbl.gov/v1" in finding["fix"][0]
    assert any("VPN is connected" in step for step in finding["fix"])


def test_e2e_explain_prints_the_fix_text(home: Path) -> None:
    result = run_doctor("--explain", "CLIENT_PROXY_DOWN", home=home)
    assert result.code == 0 and "start-cborg-client-proxy.sh" in result.stdout


def test_roo_settings_named_by_vscode_autoimport(home: Path, tmp_path: Path,
                                                 canary_key: str) -> None:
    put(home / "cfg" / "roo.json", recorded("zoo-code-settings.json", APIKEY=canary_key))
    put(tmp_path / "shared" / "roo.json", recorded("zoo-code-settings.json", APIKEY="x"))
    put(home / ".config" / "Code" / "User" / "settings.json",
        '{\n  // editor\n  "roo-cline.autoImportSettingsPath": "~/cfg/roo.json",\n'
        f'  "other.autoImportSettingsPath": "{tmp_path / "shared" / "roo.json"}",\n}}\n')
    outcome = run_check(home)
    found = codes(outcome)
    [key] = found["CLIENT_KEY_IN_FILE"]
    assert key.data["file"] == "~/cfg/roo.json" and "Roo Code" in key.message
    [note] = found["CLIENT_CONFIG_UNREADABLE"]
    assert note.message == ("Roo Code: …/roo.json is outside your home directory and the "
                            "current directory; not read.")
    assert canary_key not in dump(outcome) and str(tmp_path) not in dump(outcome)


def test_without_a_home_only_the_current_directory_is_read(tmp_path: Path) -> None:
    cwd = tmp_path / "proj"
    put(cwd / "opencode.json", recorded("opencode.json", APIKEY="{env:CBORG_API_KEY}"))
    env = {"CBORG_API_KEY": "sk-" + "w" * 22}
    ctx = RunContext(options=Options(timeout=2.0), env=env, key_resolution=resolve_key(None, env),
                     target=choose_target(None, env), home=None, cwd=cwd)
    outcome = config_clients.run(ctx)
    assert list(codes(outcome)) == ["CLIENTS_FOUND"]
    assert outcome.data["files"] == ["./opencode.json"]
    nowhere = RunContext(options=Options(timeout=2.0), env={},
                         key_resolution=resolve_key(None, {}), target=choose_target(None, {}))
    assert list(codes(config_clients.run(nowhere))) == ["CLIENTS_NONE"]


def test_continue_ignores_config_json_next_to_config_yaml(home: Path, canary_key: str) -> None:
    put(home / ".continue" / "config.yaml", recorded("continue_config.yaml").replace(
        "api-local.cborg.lbl.gov", "api.cborg.lbl.gov"))
    put(home / ".continue" / "config.json", recorded("continue_easy.json", KEY=canary_key)
        .replace("https://api.cborg.lbl.gov", "https://api.openai.com/v1"))
    outcome = run_check(home)
    found = codes(outcome)
    assert "CLIENT_BASE_URL" not in found  # Continue does not load config.json
    [key] = found["CLIENT_KEY_IN_FILE"]  # but the pasted key is still there
    assert key.data["file"] == "~/.continue/config.json"
    assert all(r["file"] != "~/.continue/config.json" for r in outcome.data["configured_models"])
    assert "not used: Continue loads config.yaml instead" in found["CLIENTS_FOUND"][0].message


def test_a_pasted_key_that_is_not_the_current_one_is_called_out(home: Path) -> None:
    old, current = "sk-" + "o" * 22, "sk-" + "n" * 22
    put(home / ".aider.conf.yml", f"model: openai/lbl/cborg-chat\nopenai-api-key: {old}\n"
                                  "openai-api-base: https://api.cborg.lbl.gov\n")
    [stale] = codes(run_check(home, env={"CBORG_API_KEY": current}))["CLIENT_KEY_IN_FILE"]
    assert "not the key this shell uses" in stale.message
    [same] = codes(run_check(home, env={"CBORG_API_KEY": old}))["CLIENT_KEY_IN_FILE"]
    assert "not the key this shell uses" not in same.message
    [unknown] = codes(run_check(home))["CLIENT_KEY_IN_FILE"]
    assert "not the key this shell uses" not in unknown.message


def test_codex_fixes_spell_out_the_provider_table(home: Path) -> None:
    put(home / ".codex" / "config.toml", 'model = "lbl/cborg-coder"\nmodel_provider = "cborg"\n')
    put(home / ".codex" / "lbl.config.toml", 'model = "lbl/cborg-chat"\n')
    found = codes(run_check(home, env={"CBORG_API_KEY": "sk-" + "v" * 22}))
    messages = sorted(f.message for f in found["CLIENT_BASE_URL"])
    assert messages[0] == ('Codex CLI (~/.codex/config.toml) sends requests for lbl/cborg-coder '
                           'to nowhere (model_provider = "cborg"): the provider it names is not '
                           'defined, so the tool has no base URL.')
    fixes = sorted(f.fix[0] for f in found["CLIENT_BASE_URL"])
    assert fixes == [
        'In ~/.codex/config.toml, add a [model_providers.cborg] table with base_url = '
        '"https://api.cborg.lbl.gov/v1" and env_key = "CBORG_API_KEY".',
        'In ~/.codex/lbl.config.toml, set model_provider = "cborg" and add a '
        '[model_providers.cborg] table with base_url = "https://api.cborg.lbl.gov/v1" and '
        'env_key = "CBORG_API_KEY".',
    ]
