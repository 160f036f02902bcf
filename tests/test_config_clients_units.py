"""config.clients building blocks: key judging, URL judging, confined file reading."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from cborg_doctor_checks.clients.audit import (
    is_cborg_client,
    judge_url,
    meant_for_cborg,
    proxy_address,
)
from cborg_doctor_checks.clients.files import (
    MAX_BYTES,
    Roots,
    expand_user_path,
    home_candidates,
    project_candidates,
    project_dirs,
    read_config,
)
from cborg_doctor_checks.clients.model import (
    OPENAI_DEFAULT,
    ClientEntry,
    KeyJudge,
    KeyKind,
    KeySource,
    Syntax,
    line_of,
)
from cborg_doctor_checks.clients.probe import offsite_from

from cborg_doctor.api import Severity

KEY = "sk-Pq7Rt2Vx9Zb4Nc6Md8Lf1A"


def entry(base: str | None, *, key: KeySource | None = None, model: str | None = "lbl/x",
          origin: str = "file", label: str = "setup") -> ClientEntry:
    return ClientEntry(
        tool="Tool", path=Path("/h/f"), label=label, base_url=base, base_url_from=origin,
        base_url_setting="base", model=model, key=key or KeySource(KeyKind.ENV, "CBORG_API_KEY"),
        key_setting="key", env_reference="ref",
    )


def never_offsite() -> bool | None:
    return None


# --- keys -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "syntaxes", "kind", "name"),
    [
        ("${{ secrets.CBORG_API_KEY }}", (Syntax.CONTINUE,), KeyKind.SECRET, "CBORG_API_KEY"),
        ("${{ inputs.KEY }}", (Syntax.CONTINUE,), KeyKind.SECRET, "KEY"),
        ("{env:CBORG_API_KEY}", (Syntax.OPENCODE,), KeyKind.ENV, "CBORG_API_KEY"),
        ("{file:~/.k}", (Syntax.OPENCODE,), KeyKind.FILE_REF, "~/.k"),
        ("${CBORG_API_KEY}", (Syntax.DOLLAR,), KeyKind.ENV, "CBORG_API_KEY"),
        ("$CBORG_API_KEY", (Syntax.DOLLAR,), KeyKind.ENV, "CBORG_API_KEY"),
        ("$CBORG_API_KEY", (), KeyKind.PLACEHOLDER, ""),
        ("{env:X}", (Syntax.CONTINUE,), KeyKind.PLACEHOLDER, ""),
        ("n/a", (), KeyKind.NONE, ""),
        ("none", (), KeyKind.NONE, ""),
        ("", (), KeyKind.NONE, ""),
        ("ADD_YOUR_CBORG_API_KEY_HERE", (), KeyKind.PLACEHOLDER, ""),
        ("<your-key>", (), KeyKind.PLACEHOLDER, ""),
        ("short", (), KeyKind.PLACEHOLDER, ""),
        (KEY, (), KeyKind.LITERAL, ""),
        (f"Bearer {KEY}", (), KeyKind.LITERAL, ""),
    ],
)
def test_key_judge_kinds(value: str, syntaxes: tuple[Syntax, ...], kind: KeyKind,
                         name: str) -> None:
    source = KeyJudge().classify(value, f"x\n{value}\n", syntaxes)
    assert source.kind is kind
    assert source.name == name


def test_key_judge_keeps_only_fingerprint_and_line() -> None:
    source = KeyJudge().classify(KEY, f"a\nb\nkey: {KEY}\n")
    assert source.line == 3 and source.cborg_like
    assert KEY not in repr(source) and KEY not in source.describe()


def test_key_judge_recognises_the_users_key_and_litellm_shape() -> None:
    long_key = "sk-" + "a1B2" * 12  # 48 characters: an OpenAI-style key
    assert not KeyJudge().classify(long_key, "").cborg_like
    assert KeyJudge([long_key]).classify(long_key, "").cborg_like
    assert KeyJudge.from_env({"CBORG_API_KEY": long_key}).is_cborg_key(long_key)
    # Random letters that happen to spell a placeholder word are still a key.
    assert KeyJudge().classify("sk-YOURxHEREx0123456789ab", "").kind is KeyKind.LITERAL


def test_line_of() -> None:
    assert line_of("a\nbb\nccc", "cc") == 3
    assert line_of("a", "z") is None
    assert line_of("a", "") is None


# --- URLs -----------------------------------------------------------------------------------


def kinds(base: str | None, offsite: bool | None = None, **kw: object) -> list[str]:
    verdict = judge_url(entry(base, **kw), lambda: offsite)  # type: ignore[arg-type]
    return [] if verdict is None else [p.kind for p in verdict.problems]


def test_good_urls_have_no_problems() -> None:
    for url in ("https://api.cborg.lbl.gov", "https://api.cborg.lbl.gov/v1/",
                "http://127.0.0.1:8001", "http://localhost:8002/v1",
                "https://api-local.cborg.lbl.gov/v1"):
        assert kinds(url, offsite=False) == [], url
    assert kinds("https://api-local.cborg.lbl.gov", offsite=None) == []


def test_wrong_urls() -> None:
    assert kinds("https://api.openai.com/v1") == ["openai"]
    assert kinds("https://cborg.lbl.gov") == ["host"]
    assert kinds("http://api.cborg.lbl.gov") == ["insecure"]
    assert kinds("http://example.org/v1") == ["insecure", "host"]
    assert kinds("https://api.cborg.lbl.gov/v1/chat/completions") == ["path"]
    assert kinds("https://api.cborg.lbl.gov/api") == ["path"]
    assert kinds("http://127.0.0.1:8001/chat/completions") == ["path"]
    assert kinds("api.cborg.lbl.gov") == ["invalid"]
    assert kinds("https://api-local.cborg.lbl.gov/v1", offsite=True) == ["offsite"]
    assert kinds(None) == []
    assert kinds(None, origin="missing") == ["missing"]


def test_suggested_url_fixes_every_problem_at_once() -> None:
    verdict = judge_url(entry("https://api-local.cborg.lbl.gov/v1/chat/completions"),
                        lambda: True)
    assert verdict is not None and verdict.suggested == "https://api.cborg.lbl.gov/v1"
    host = judge_url(entry("https://cborg.lbl.gov/v1"), never_offsite)
    assert host is not None and "did you mean api.cborg.lbl.gov" in host.problems[0].text
    assert host.suggested == "https://api.cborg.lbl.gov/v1"
    proxy = judge_url(entry("http://127.0.0.1:8001/v1/completions"), never_offsite)
    assert proxy is not None and proxy.suggested == "http://127.0.0.1:8001/v1"


def test_sdk_default_is_only_a_warning() -> None:
    verdict = judge_url(entry(OPENAI_DEFAULT, origin="sdk-default"), never_offsite)
    assert verdict is not None and verdict.severity is Severity.WARN
    fail = judge_url(entry(OPENAI_DEFAULT, origin="default"), never_offsite)
    assert fail is not None and fail.severity is Severity.FAIL


def test_meant_for_cborg() -> None:
    other = KeySource(KeyKind.ENV, "ANTHROPIC_API_KEY")
    assert not meant_for_cborg(entry("https://api.anthropic.com", key=other, model="claude"))
    assert not meant_for_cborg(entry(OPENAI_DEFAULT, key=KeySource(KeyKind.DEFAULT),
                                     model="gpt-5.4-mini", label="profile openai-gpt-mini"))
    assert meant_for_cborg(entry(OPENAI_DEFAULT, key=other, model="lbl/cborg-chat"))
    assert meant_for_cborg(entry("https://x.org", key=other, model="m", label="CBorg Coder"))
    assert meant_for_cborg(entry("http://127.0.0.1:8003", key=KeySource(KeyKind.NONE),
                                 model="m"))
    assert not meant_for_cborg(entry("http://127.0.0.1:11434", key=KeySource(KeyKind.NONE),
                                     model="llama3"))
    literal = KeySource(KeyKind.LITERAL, line=1, fingerprint="sk-…", cborg_like=True)
    assert meant_for_cborg(entry(OPENAI_DEFAULT, key=literal, model="gpt-4o"))


def test_proxy_address() -> None:
    assert proxy_address("http://127.0.0.1:8001") == ("127.0.0.1", 8001)
    assert proxy_address("http://localhost:8002/v1") == ("localhost", 8002)
    assert proxy_address("http://[::1]:8003") == ("::1", 8003)
    assert proxy_address("https://api.cborg.lbl.gov") is None
    assert proxy_address(None) is None
    assert is_cborg_client("http://127.0.0.1:8001") and not is_cborg_client("http://127.0.0.1:4000")


def test_offsite_needs_addresses_to_tell() -> None:
    assert offsite_from(lambda: None)() is None
    assert offsite_from(lambda: [])() is None
    assert offsite_from(lambda: ["192.168.1.5", "2001:db8::1"])() is True
    assert offsite_from(lambda: ["192.168.1.5", "131.243.2.9"])() is False
    assert offsite_from(lambda: ["2620:83:8000::5"])() is False
    calls: list[int] = []

    def counted() -> list[str]:
        calls.append(1)
        return ["10.0.0.1"]

    offsite = offsite_from(counted)
    offsite()
    offsite()
    assert len(calls) == 1


# --- files ----------------------------------------------------------------------------------


@pytest.fixture
def tree(tmp_path: Path) -> tuple[Path, Path, Path]:
    home, outside = tmp_path / "home", tmp_path / "outside"
    cwd = home / "work" / "proj"
    cwd.mkdir(parents=True)
    outside.mkdir()
    return home, cwd, outside


def test_roots_display_hides_user_paths(tree: tuple[Path, Path, Path]) -> None:
    home, _cwd, outside = tree
    roots = Roots(home, outside)
    assert roots.display(home / ".codex" / "config.toml") == "~/.codex/config.toml"
    assert roots.display(outside / ".env") == "./.env"
    assert roots.display(Path("/etc/somewhere/x.json")) == "…/x.json"


def test_read_config_reads_regular_files(tree: tuple[Path, Path, Path]) -> None:
    home, cwd, _ = tree
    path = home / "a.json"
    path.write_text("\ufeff{}")
    path.chmod(0o600)
    result = read_config(path, Roots(home, cwd))
    assert result is not None and result.text == "{}" and not result.world_readable
    path.chmod(0o644)
    again = read_config(path, Roots(home, cwd))
    assert again is not None and (again.world_readable or os.name == "nt")
    assert read_config(home / "missing.json", Roots(home, cwd)) is None


def test_read_config_never_follows_symlinks_out(tree: tuple[Path, Path, Path]) -> None:
    home, cwd, outside = tree
    secret = outside / "config.json"
    secret.write_text(f'{{"apiKey": "{KEY}"}}')
    link = home / "config.json"
    link.symlink_to(secret)
    result = read_config(link, Roots(home, cwd))
    assert result is not None and result.text is None and result.problem is not None
    assert "outside your home directory" in result.problem.reason
    parent_link = home / ".continue"
    parent_link.symlink_to(outside, target_is_directory=True)
    through_dir = read_config(parent_link / "config.json", Roots(home, cwd))
    assert through_dir is not None and through_dir.text is None
    inside = home / "real.json"
    inside.write_text("{}")
    (home / "alias.json").symlink_to(inside)
    ok = read_config(home / "alias.json", Roots(home, cwd))
    assert ok is not None and ok.text == "{}"


def test_read_config_dangling_link_fifo_big_and_binary(tree: tuple[Path, Path, Path]) -> None:
    home, cwd, _ = tree
    roots = Roots(home, cwd)
    (home / "gone.json").symlink_to(home / "nowhere.json")
    dangling = read_config(home / "gone.json", roots)
    assert dangling is not None and dangling.problem is not None
    assert "does not exist" in dangling.problem.reason
    if hasattr(os, "mkfifo"):
        os.mkfifo(home / "fifo.json")
        fifo = read_config(home / "fifo.json", roots)
        assert fifo is not None and fifo.problem is not None and "regular" in fifo.problem.reason
    (home / "big.json").write_text("x" * (MAX_BYTES + 1))
    big = read_config(home / "big.json", roots)
    assert big is not None and big.problem is not None and "larger" in big.problem.reason
    (home / "bin.json").write_bytes(b"\xff\xfe\x00garbage")
    binary = read_config(home / "bin.json", roots)
    assert binary is not None and binary.problem is not None
    assert binary.problem.severity == "warn"


@pytest.mark.skipif(os.name == "nt" or (hasattr(os, "geteuid") and os.geteuid() == 0),
                    reason="root reads everything")
def test_read_config_permission_denied(tree: tuple[Path, Path, Path]) -> None:
    home, cwd, _ = tree
    path = home / "locked.json"
    path.write_text("{}")
    path.chmod(0)
    result = read_config(path, Roots(home, cwd))
    assert result is not None and result.problem is not None
    assert "permission denied" in result.problem.reason


def test_root_directory_is_no_confinement(tmp_path: Path) -> None:
    roots = Roots(None, Path("/"))
    assert not roots.allows(Path("/etc/passwd"))


def test_project_dirs_walk_up_to_git_root_inside_home(tree: tuple[Path, Path, Path]) -> None:
    home, cwd, outside = tree
    assert project_dirs(home, cwd) == [cwd]  # no git root: the current directory only
    (home / "work" / ".git").mkdir()
    assert project_dirs(home, cwd) == [cwd, cwd.parent]
    assert project_dirs(home, outside) == [outside]
    assert project_dirs(None, cwd) == [cwd]
    assert project_dirs(home, None) == []


def test_candidates_cover_each_tool(tree: tuple[Path, Path, Path]) -> None:
    home, cwd, _ = tree
    (home / ".codex").mkdir()
    (home / ".codex" / "cborg.config.toml").write_text("")
    tools = {c.tool for c in home_candidates(home, {})}
    assert {"Continue", "Codex CLI", "opencode", "aider", "Jupyter AI", "Roo Code",
            "Zoo Code"} <= tools
    parsers = {c.parser for c in home_candidates(home, {})}
    assert "codex_profile" in parsers
    env = {"CODEX_HOME": str(home / "cx"), "XDG_CONFIG_HOME": str(home / "xdg"),
           "JUPYTER_DATA_DIR": str(home / "jd"), "OPENCODE_CONFIG": str(home / "oc.json"),
           "CODEX_IGNORED": "relative/path"}
    paths = {c.path for c in home_candidates(home, env)}
    assert {home / "cx" / "config.toml", home / "xdg" / "opencode" / "opencode.json",
            home / "jd" / "jupyter_ai" / "config.json", home / "oc.json"} <= paths
    project = {c.path.name for c in project_candidates(home, cwd)}
    assert {"opencode.json", ".aider.conf.yml", ".env"} <= project


def test_expand_user_path(tree: tuple[Path, Path, Path]) -> None:
    home, cwd, _ = tree
    assert expand_user_path("~/x.json", home, cwd) == home / "x.json"
    assert expand_user_path("rel.json", home, cwd) == cwd / "rel.json"
    assert expand_user_path("", home, cwd) is None
    if sys.platform != "win32":
        assert expand_user_path("/abs/x.json", home, cwd) == Path("/abs/x.json")


def test_redact_url_drops_credentials_and_queries() -> None:
    from cborg_doctor_checks.clients.model import redact_url

    assert redact_url("https://me:secret@api.cborg.lbl.gov/v1?key=abc") == \
        "https://…@api.cborg.lbl.gov/v1?…"
    assert redact_url("https://api.cborg.lbl.gov/v1") == "https://api.cborg.lbl.gov/v1"
    assert "secret" not in redact_url("http://[::1:bad@x")


def test_short_values_that_might_be_secrets_are_never_shown() -> None:
    source = KeyJudge().classify("hunter2pass", "k: hunter2pass\n")
    assert source.kind is KeyKind.PLACEHOLDER and "hunter2" not in source.shown
    template = KeyJudge().classify("ADD_YOUR_KEY_HERE", "")
    assert template.shown == "ADD_YOUR_KEY_HERE"


def test_globs_are_bounded(tree: tuple[Path, Path, Path]) -> None:
    from cborg_doctor_checks.clients.files import MAX_GLOB

    home, _cwd, _ = tree
    assistants = home / ".continue" / "assistants"
    assistants.mkdir(parents=True)
    for n in range(MAX_GLOB + 10):
        (assistants / f"a{n:03}.yaml").write_text("models: []\n")
    found = [c for c in home_candidates(home, {}) if "assistants" in str(c.path)]
    assert len(found) == MAX_GLOB


def test_unspecified_address_counts_as_this_machine() -> None:
    from cborg_doctor_checks.clients.probe import _loopback_addresses

    assert proxy_address("http://0.0.0.0:8001") == ("0.0.0.0", 8001)
    assert kinds("http://0.0.0.0:4000/v1") == []
    assert _loopback_addresses("0.0.0.0") == ["127.0.0.1"]
    assert _loopback_addresses("[::]") == ["::1"]
    assert _loopback_addresses("example.org") == []


def test_folders_outside_home_are_not_listed(tree: tuple[Path, Path, Path]) -> None:
    home, _cwd, outside = tree
    (outside / "x.config.toml").write_text("")
    (home / ".codex").symlink_to(outside, target_is_directory=True)
    assert not [c for c in home_candidates(home, {}) if c.parser == "codex_profile"]
