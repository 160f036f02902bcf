"""`--fix` / `--undo` on real files in a temporary home, through the real CLI."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.doctor import run_doctor
from tests.fixkit import LOOPBACK, fix, fixes, outcomes, snapshot, undo

CBORG = "https://api.cborg.lbl.gov"

# LBL's opencode example (cborg-web content/english/pages/tools_opencode.md), pointed at
# OpenAI by mistake and with the key pasted in, plus a comment and CRLF as Windows editors write.
LBL_OPENCODE = """{{\r
  "$schema": "https://opencode.ai/config.json",\r
  // CBorg, from the LBL page\r
  "enabled_providers": ["litellm"],\r
  "model": "litellm/cborg-coder",\r
  "provider": {{\r
    "litellm": {{\r
      "name": "CBorg API",\r
      "options": {{\r
        "baseURL": "https://api.openai.com/v1",\r
        "apiKey": "{key}"\r
      }},\r
      "models": {{\r
        "cborg-coder": {{ "name": "CBorg Coder (Free)", "textVerbosity": "low" }}\r
      }}\r
    }}\r
  }}\r
}}\r
"""


def _write(path: Path, text: str | bytes, mode: int = 0o600) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    os.chmod(path, mode)
    return path


def _no_key(key: str, *texts: str) -> None:
    for text in texts:
        assert key not in text


# --- (a) a key file with quotes, whitespace, a line break --------------------------------------


@pytest.mark.parametrize("content", ["'{k}'\n", "  {k}  \r\n", '"{k}"', "{k}\n\n", "sk-can\n{rest}\n"])
def test_a_key_file_is_rewritten_clean_then_undone_byte_for_byte(home: Path, canary_key: str,
                                                                 content: str) -> None:
    text = content.format(k=canary_key, rest=canary_key[6:])
    key_file = _write(home / "cborg.key", text, 0o640)
    before = snapshot(home)
    run = fix(home, "--yes", "--api-key-file", str(key_file), only="config.key")
    assert outcomes(run) == [("KEY_MALFORMED", "fixed")], run.output
    assert key_file.read_bytes().strip() == canary_key.encode()
    assert key_file.read_bytes() in (canary_key.encode(), (canary_key + "\n").encode(),
                                     (canary_key + "\r\n").encode())
    assert key_file.stat().st_mode & 0o777 == 0o640  # same permissions
    assert run.json()["checks"][0]["status"] == "pass"  # the re-run result is the report's
    entry = fixes(run)[0]
    assert entry["files"][0]["path"] == "~/cborg.key"
    assert entry["files"][0]["before"].startswith("sha256:") and entry["files"][0]["after"] != \
        entry["files"][0]["before"]
    _no_key(canary_key, run.output)

    again = fix(home, "--yes", "--api-key-file", str(key_file), only="config.key")
    assert fixes(again) == []  # idempotent: nothing left to offer
    for backup in (home / "reports" / "fixes").rglob("*.bak"):  # the key is not copied there
        assert canary_key.encode() not in backup.read_bytes()
    restored = undo(home)
    assert restored.code == 0 and "restored: ~/cborg.key" in restored.stdout
    assert snapshot(home) == before
    assert "Nothing to undo" in undo(home).stdout


def test_a_key_file_that_is_not_one_key_is_refused(home: Path, canary_key: str) -> None:
    key_file = _write(home / "cborg.key", f"'{canary_key} {canary_key}'\n")
    before = snapshot(home)
    run = fix(home, "--yes", "--api-key-file", str(key_file), only="config.key")
    assert {o for _, o in outcomes(run)} == {"refused"}
    assert "one clean sk- key" in fixes(run)[0]["detail"]
    assert snapshot(home) == before
    _no_key(canary_key, run.output)


# --- (e) the key exported with stray quotes in the shell start-up file -------------------------


def test_a_key_exported_with_stray_quotes_is_fixed_on_its_line(home: Path, canary_key: str) -> None:
    rc = _write(home / ".bashrc", f"# mine\nexport CBORG_API_KEY=\"'{canary_key}'\"  # key\n"
                "alias ll='ls -l'\n", 0o644)
    run = fix(home, "--yes", env={"CBORG_API_KEY": f"'{canary_key}'", "SHELL": "/bin/bash"},
              only="config.key")
    assert outcomes(run) == [("KEY_MALFORMED", "fixed")], run.output
    assert rc.read_text() == f"# mine\nexport CBORG_API_KEY=\"{canary_key}\"  # key\nalias ll='ls -l'\n"
    bash = subprocess.run(["bash", "-c", f'. {rc}; printf %s "$CBORG_API_KEY"'],
                          capture_output=True, text=True, check=True)
    assert bash.stdout == canary_key
    _no_key(canary_key, run.output)


# --- (b) OPENAI_BASE_URL ----------------------------------------------------------------------


@pytest.mark.parametrize(("shell", "rc", "line"), [
    ("/bin/bash", ".bashrc", f"export OPENAI_BASE_URL={CBORG}"),
    ("/usr/bin/zsh", ".zshrc", f"export OPENAI_BASE_URL={CBORG}"),
    ("/usr/bin/fish", ".config/fish/config.fish", f"set -gx OPENAI_BASE_URL {CBORG}"),
    ("/bin/sh", ".profile", f"export OPENAI_BASE_URL={CBORG}"),
])
def test_the_sdk_base_url_goes_in_a_marked_block_of_the_shells_file(
        home: Path, canary_key: str, shell: str, rc: str, line: str) -> None:
    existing = home / rc
    if rc == ".bashrc":
        _write(existing, "alias ll='ls -l'\r\nexport PATH=$HOME/bin:$PATH\r\n", 0o644)
    before = snapshot(home)
    env = {"OPENAI_API_KEY": canary_key, "SHELL": shell}
    run = fix(home, "--yes", env=env, only="config.base_url")
    assert outcomes(run) == [("BASE_URL_OPENAI", "fixed")], run.output
    text = existing.read_bytes().decode()
    assert f"\n{line}\n" in text.replace("\r\n", "\n") and "cborg-doctor" in text
    if rc == ".bashrc":
        assert text.startswith("alias ll='ls -l'\r\nexport PATH=$HOME/bin:$PATH\r\n")
        assert "\n" not in text.replace("\r\n", "")  # CRLF stays CRLF
        assert existing.stat().st_mode & 0o777 == 0o644
    assert "open a new terminal" in fixes(run)[0]["detail"]
    assert fixes(fix(home, "--yes", env={**env, "OPENAI_BASE_URL": CBORG}, only="config.base_url")) == []
    # This shell started before the change: nothing to write, a new terminal to open.
    assert [(f["outcome"], f["files"]) for f in fixes(fix(home, "--yes", env=env, only="config.base_url"))] \
        == [("needs you", [])]
    undo(home)
    undo(home)
    assert snapshot(home) == before


def test_an_openai_base_url_line_is_corrected_in_place(home: Path, canary_key: str) -> None:
    rc = _write(home / ".bashrc", "export OPENAI_BASE_URL='https://api.openai.com/v1' # old\n", 0o644)
    env = {"OPENAI_API_KEY": canary_key, "SHELL": "/bin/bash",
           "OPENAI_BASE_URL": "https://api.openai.com/v1"}
    run = fix(home, "--yes", env=env, only="config.base_url")
    assert outcomes(run) == [("BASE_URL_OPENAI", "fixed")], run.output
    assert rc.read_text() == f"export OPENAI_BASE_URL='{CBORG}' # old\n"


# --- (d) a tool's base URL, (c) a key in a file others can read --------------------------------


def test_lbl_opencode_config_url_permissions_and_reference(home: Path, canary_key: str) -> None:
    path = _write(home / ".config/opencode/opencode.json", LBL_OPENCODE.format(key=canary_key), 0o644)
    before = snapshot(home)
    run = fix(home, "--yes", env={"CBORG_API_KEY": canary_key}, only="config.clients")
    assert outcomes(run) == [("CLIENT_BASE_URL", "fixed"), ("CLIENT_KEY_IN_FILE", "fixed"),
                             ("CLIENT_KEY_IN_FILE", "fixed")], run.output
    expected = LBL_OPENCODE.format(key="{env:CBORG_API_KEY}").replace(
        "https://api.openai.com/v1", "https://api.cborg.lbl.gov/v1")
    assert path.read_bytes().decode() == expected  # comment, order, CRLF: all kept
    assert path.stat().st_mode & 0o777 == 0o600
    assert run.json()["checks"][0]["status"] == "pass"
    _no_key(canary_key, run.output)
    assert fixes(fix(home, "--yes", env={"CBORG_API_KEY": canary_key}, only="config.clients")) == []
    # The backups hold no key: the one the file had is now only in $CBORG_API_KEY.
    for backup in (home / "reports" / "fixes").rglob("*"):
        assert not backup.is_file() or canary_key.encode() not in backup.read_bytes()
    refused = undo(home)
    assert refused.code == 1 and refused.stdout.startswith(
        "refused: ~/.config/opencode/opencode.json: the key it held cannot be found again")
    restored = undo(home, env={"CBORG_API_KEY": canary_key})
    assert restored.code == 0 and restored.stdout.count("restored:") == 3, restored.stdout
    assert snapshot(home) == before


def test_no_reference_when_the_environment_holds_another_key(home: Path, canary_key: str) -> None:
    path = _write(home / ".config/opencode/opencode.json", LBL_OPENCODE.format(key=canary_key), 0o644)
    other = "sk-other" + canary_key[8:]
    run = fix(home, "--yes", env={"CBORG_API_KEY": other}, only="config.clients")
    assert ("CLIENT_KEY_IN_FILE", "fixed") in outcomes(run)
    assert [f["remedy"] for f in fixes(run) if f["code"] == "CLIENT_KEY_IN_FILE"] == [
        "chmod 600 ~/.config/opencode/opencode.json (only you can read it)"]
    assert canary_key in path.read_text()  # the key is left where it was
    _no_key(canary_key, run.output)


def test_codex_token_becomes_env_key(home: Path, canary_key: str) -> None:
    text = ('model = "lbl/cborg-coder"\nmodel_provider = "cborg"\n\n[model_providers.cborg]\n'
            'name = "CBorg API"\nbase_url = "https://api.cborg.lbl.gov/v1/chat/completions"  # oops\n'
            f'experimental_bearer_token = "{canary_key}"\n')
    path = _write(home / ".codex/config.toml", text, 0o644)
    run = fix(home, "--yes", env={"CBORG_API_KEY": canary_key}, only="config.clients")
    assert outcomes(run) == [("CLIENT_BASE_URL", "fixed"), ("CLIENT_KEY_IN_FILE", "fixed"),
                             ("CLIENT_KEY_IN_FILE", "fixed")], run.output
    assert path.read_text() == text.replace("/v1/chat/completions", "/v1").replace(
        f'experimental_bearer_token = "{canary_key}"', 'env_key = "CBORG_API_KEY"')


@pytest.mark.parametrize(("relative", "text", "expected"), [
    # Continue's YAML with LBL's anchor (tests/data/clients/continue_config.yaml shape), off-site.
    (".continue/config.yaml",
     "%YAML 1.1\n---\nname: CBorg\nmodel_defaults: &model_defaults\n  provider: openai\n"
     "  apiKey: ${{ secrets.CBORG_API_KEY }}\n  apiBase: https://api.openai.com/v1  # LBLNet\n"
     "models:\n  - name: \"LBL/CBorg Coder\"\n    <<: *model_defaults\n    model: \"lbl/cborg-coder\"\n"
     "  - name: Claude\n    <<: *model_defaults\n    model: anthropic/claude-sonnet\n",
     "  apiBase: https://api.cborg.lbl.gov/v1  # LBLNet\n"),
    (".aider.conf.yml",
     "# aider\nmodel: openai/lbl/cborg-coder\nopenai-api-base: 'https://api.openai.com/v1'\n"
     "openai-api-key: ${CBORG_API_KEY}\n",
     "openai-api-base: 'https://api.cborg.lbl.gov'\n"),
    (".env",
     "# project\r\nCBORG_API_KEY=${CBORG_API_KEY}\r\nOPENAI_BASE_URL=\"https://api.openai.com/v1\"   # x\r\n",
     "OPENAI_BASE_URL=\"https://api.cborg.lbl.gov/v1\"   # x\r\n"),
    (".aider.conf.yml",
     "model: openai/lbl/cborg-coder\nopenai-api-base: http://me:pw@cborg.lbl.gov  # proxy\n",
     "openai-api-base: https://api.cborg.lbl.gov  # proxy\n"),
    # Roo Code's exported settings (what tools_roo.md has people import).
    ("roo-code-settings.json",
     '{\n  "providerProfiles": {\n    "currentApiConfigName": "cborg",\n    "apiConfigs": {\n'
     '      "cborg": {\n        "apiProvider": "openai",\n'
     '        "openAiBaseUrl": "https://api.cborg.lbl.gov/v1/chat/completions",\n'
     '        "openAiApiKey": "not-needed", "openAiModelId": "lbl/cborg-coder"\n      }\n    }\n  }\n}\n',
     '        "openAiBaseUrl": "https://api.cborg.lbl.gov/v1",\n'),
    (".env",
     "OPENAI_API_KEY=${CBORG_API_KEY}\nMODEL=lbl/llama",
     "OPENAI_API_KEY=${CBORG_API_KEY}\nMODEL=lbl/llama\nOPENAI_BASE_URL=https://api.cborg.lbl.gov/v1\n"),
])
def test_each_tools_base_url_is_changed_in_place(home: Path, canary_key: str, relative: str,
                                                 text: str, expected: str) -> None:
    path = _write(home / relative, text, 0o600)
    before = snapshot(home)
    if relative.startswith("roo"):
        settings = home / ".config/Code/User/settings.json"
        _write(settings, f'{{"roo-cline.autoImportSettingsPath": "{path}"}}')
        before = snapshot(home)
    run = fix(home, "--yes", env={"CBORG_API_KEY": canary_key}, only="config.clients")
    assert outcomes(run) == [("CLIENT_BASE_URL", "fixed")], run.output
    assert "pw" not in run.output  # a password in a URL is a secret too
    new = path.read_bytes().decode()
    assert expected in new
    changed = [b for a, b in zip(text.splitlines(True), new.splitlines(True), strict=False) if a != b]
    assert len(changed) <= 1  # one line (a YAML anchor serves every model that uses it)
    fixed = snapshot(home)
    assert fixes(fix(home, "--yes", env={"CBORG_API_KEY": canary_key}, only="config.clients")) == []
    assert snapshot(home) == fixed
    undo(home)
    assert snapshot(home) == before


# --- safety ----------------------------------------------------------------------------------


def test_a_symlink_out_of_home_is_refused(home: Path, tmp_path: Path, canary_key: str) -> None:
    outside = _write(tmp_path / "elsewhere" / "cborg.key", f"'{canary_key}'\n")
    (home / "cborg.key").symlink_to(outside)
    run = fix(home, "--yes", "--api-key-file", str(home / "cborg.key"), only="config.key")
    assert [(f["outcome"], f["detail"]) for f in fixes(run)] == [
        ("refused", f"{home / 'cborg.key'} is a symlink to {outside}, outside your home folder")]
    assert outside.read_text() == f"'{canary_key}'\n"
    _no_key(canary_key, run.output)


def test_a_symlink_inside_home_is_followed(home: Path, canary_key: str) -> None:
    real = _write(home / "dotfiles" / "bashrc", "export OPENAI_BASE_URL=https://api.openai.com/v1\n")
    (home / ".bashrc").symlink_to(real)
    env = {"OPENAI_API_KEY": canary_key, "SHELL": "/bin/bash",
           "OPENAI_BASE_URL": "https://api.openai.com/v1"}
    run = fix(home, "--yes", env=env, only="config.base_url")
    assert outcomes(run) == [("BASE_URL_OPENAI", "fixed")], run.output
    assert (home / ".bashrc").is_symlink() and real.read_text() == f"export OPENAI_BASE_URL={CBORG}\n"


def test_without_a_terminal_or_yes_nothing_changes(home: Path, canary_key: str) -> None:
    _write(home / ".config/opencode/opencode.json", LBL_OPENCODE.format(key="{env:CBORG_API_KEY}"))
    before = snapshot(home)
    run = fix(home, env={"CBORG_API_KEY": canary_key}, only="config.clients")
    assert outcomes(run) == [("CLIENT_BASE_URL", "declined")]
    assert "not on a terminal and no --yes" in fixes(run)[0]["detail"]
    assert "Nothing was changed" in run.stderr
    assert snapshot(home) == before


def test_dry_run_shows_the_diff_and_changes_nothing(home: Path, canary_key: str) -> None:
    _write(home / ".config/opencode/opencode.json", LBL_OPENCODE.format(key=canary_key), 0o644)
    before = snapshot(home)
    run = run_doctor("--only", "config.clients", "--base-url", LOOPBACK, "--no-report", "--fix",
                     "--dry-run", home=home, env={"CBORG_API_KEY": canary_key})
    assert '-        "baseURL": "https://api.openai.com/v1",' in run.stdout
    assert '+        "baseURL": "https://api.cborg.lbl.gov/v1",' in run.stdout
    assert "mode 0644 → 0600" in run.stdout
    assert "declined: CLIENT_BASE_URL" in run.stdout and "--dry-run: nothing changed" in run.stdout
    assert snapshot(home) == before
    _no_key(canary_key, run.output)


def test_undo_refuses_a_file_changed_since(home: Path, canary_key: str) -> None:
    path = _write(home / ".config/opencode/opencode.json", LBL_OPENCODE.format(key="{env:X}"))
    fix(home, "--yes", env={"CBORG_API_KEY": canary_key}, only="config.clients")
    path.write_text(path.read_text() + " ")
    edited = path.read_bytes()
    run = undo(home)
    assert run.code == 1
    assert run.stdout.startswith("refused: ~/.config/opencode/opencode.json changed since the fix")
    assert path.read_bytes() == edited


def test_fix_options_need_fix(home: Path) -> None:
    for args in (("--yes",), ("--dry-run",), ("--undo", "--fix")):
        run = run_doctor(*args, home=home)
        assert run.code == 2 and "error:" in run.stderr


def test_markdown_report_has_the_fixes_section(home: Path, canary_key: str) -> None:
    _write(home / ".config/opencode/opencode.json", LBL_OPENCODE.format(key=canary_key), 0o644)
    out = home / "r.md"
    run = run_doctor("--only", "config.clients", "--base-url", LOOPBACK, "--report", str(out),
                     "--fix", "--yes", home=home, env={"CBORG_API_KEY": canary_key})
    text = out.read_text()
    assert "## Fixes (`--fix`)" in text and "| `CLIENT_BASE_URL` |" in text and "**fixed**" in text
    _no_key(canary_key, text, run.output)


def test_lbl_continue_easy_setup_with_config_ts_gets_the_dollar_reference(
        home: Path, canary_key: str) -> None:
    # LBL's easy setup (tests/data/clients/continue_easy.json): the key in the header; LBL's
    # config.ts next to it expands ${CBORG_API_KEY}.
    text = (Path(__file__).parent / "data/clients/continue_easy.json").read_text().replace(
        "{KEY}", canary_key)
    path = _write(home / ".continue/config.json", text, 0o644)
    _write(home / ".continue/config.ts", "// LBL's config.ts\n")
    run = fix(home, "--yes", env={"CBORG_API_KEY": canary_key}, only="config.clients")
    assert outcomes(run) == [("CLIENT_KEY_IN_FILE", "fixed"), ("CLIENT_KEY_IN_FILE", "fixed")], run.output
    assert path.read_text() == text.replace(canary_key, "${CBORG_API_KEY}")
    assert path.stat().st_mode & 0o777 == 0o600
    _no_key(canary_key, run.output)


def test_findings_without_a_remedy_are_listed(home: Path) -> None:
    run = run_doctor("--only", "config.key", "--base-url", LOOPBACK, "--no-report", "--fix",
                     "--yes", home=home)
    assert "Not fixed automatically (follow the printed steps): KEY_MISSING (config.key)" in run.stdout
    assert run.code == 1


def test_html_report_has_the_fixes_section(home: Path, canary_key: str) -> None:
    _write(home / ".config/opencode/opencode.json", LBL_OPENCODE.format(key="{env:CBORG_API_KEY}"))
    out = home / "r.html"
    run_doctor("--only", "config.clients", "--base-url", LOOPBACK, "--report", str(out), "--fix",
               "--yes", home=home, env={"CBORG_API_KEY": canary_key})
    text = out.read_text()
    assert "Fixes" in text
    assert "fixed: CLIENT_BASE_URL: set provider.litellm.options.baseURL to https://api.cborg.lbl.gov/v1" in text


def test_claude_code_settings_env_block(home: Path, canary_key: str) -> None:
    # LBL's page (tools_claudecode.md) with the /v1 people add by habit: Claude Code appends
    # /v1/messages itself.
    text = ('{\n  "env": {\n    "ANTHROPIC_BASE_URL": "https://api.cborg.lbl.gov/v1",\n'
            '    "ANTHROPIC_AUTH_TOKEN": "${CBORG_API_KEY}"\n  },\n  "model": "sonnet"\n}\n')
    path = _write(home / ".claude/settings.json", text)
    run = fix(home, "--yes", env={"CBORG_API_KEY": canary_key}, only="config.clients")
    assert ("CLIENT_BASE_URL", "fixed") in outcomes(run), run.output
    assert path.read_text() == text.replace("https://api.cborg.lbl.gov/v1", CBORG)


def test_a_base_url_set_in_the_shell_is_fixed_in_the_start_up_file(home: Path, canary_key: str) -> None:
    rc = _write(home / ".bashrc", "export ANTHROPIC_BASE_URL=https://api.cborg.lbl.gov/v1\n")
    env = {"CBORG_API_KEY": canary_key, "SHELL": "/bin/bash",
           "ANTHROPIC_BASE_URL": "https://api.cborg.lbl.gov/v1", "ANTHROPIC_AUTH_TOKEN": canary_key}
    run = fix(home, "--yes", env=env, only="config.clients")
    assert ("CLIENT_BASE_URL", "fixed") in outcomes(run), run.output
    assert rc.read_text() == f"export ANTHROPIC_BASE_URL={CBORG}\n"
    _no_key(canary_key, run.output)
