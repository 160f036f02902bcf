"""The line-targeted editor: one value changes, every other byte stays, proved by real parsers."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import dotenv
import pytest
import tomllib
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from cborg_doctor.fixes.edit import EditRefused, find_paths, flat, set_value
from cborg_doctor.fixes.shellrc import BEGIN, END, with_exports
from cborg_doctor.jsonc import strip_jsonc

NEW = "https://api.cborg.lbl.gov/v1"
names = st.from_regex(r"k[a-zA-Z0-9_]{0,8}", fullmatch=True)  # YAML 1.1 reads `on`, `no` as booleans
values = st.from_regex(r"[A-Za-z0-9:/._\-]{0,24}", fullmatch=True)
endings = st.sampled_from(["\n", "\r\n"])
comments = st.sampled_from(["", "  # keep me", " // keep"])


def _unique(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return list(dict(pairs).items())


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(names, values), min_size=1, max_size=6).map(_unique), st.data(), endings)
def test_json_one_value_changes_and_the_rest_is_kept(pairs, data, nl) -> None:
    target = data.draw(st.sampled_from([k for k, _ in pairs]))
    body = ("," + nl).join(f'    "{k}": {json.dumps(v)}' for k, v in pairs)
    text = "{" + nl + "    // a comment" + nl + body + nl + "}" + nl
    new = set_value(text, "jsonc", (target,), NEW)
    parsed = json.loads(strip_jsonc(new))
    assert parsed == {**dict(pairs), target: NEW}
    assert "// a comment" in new and new.count("\r\n") == text.count("\r\n")
    # every line but the one edited is byte-identical
    changed = [a for a, b in zip(text.splitlines(True), new.splitlines(True), strict=True) if a != b]
    assert len(changed) <= 1


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(names, values), min_size=1, max_size=6).map(_unique), st.data(), endings,
       st.sampled_from(['"', "'", ""]), comments.filter(lambda c: "//" not in c))
def test_yaml_keeps_quote_style_comments_and_order(pairs, data, nl, quote, comment) -> None:
    target = data.draw(st.sampled_from([k for k, _ in pairs]))
    # Unquoted, a value must read back as text (YAML turns `1`, `true`, `~` into other types).
    pairs = [(k, v if quote else "x" + v.replace(":", "")) for k, v in pairs]
    rows = [f"  {k}: {quote}{v}{quote}{comment}" for k, v in pairs]
    text = "# top" + nl + "models:" + nl + "- name: x" + nl + nl.join(rows) + nl
    new = set_value(text, "yaml", ("models", 0, target), NEW)
    assert yaml.safe_load(new) == {"models": [{"name": "x", **dict(pairs), target: NEW}]}
    assert [k for k in yaml.safe_load(new)["models"][0]] == ["name", *[k for k, _ in pairs]]
    assert new.startswith("# top" + nl) and (not comment or new.count(comment) == text.count(comment))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(names, values), min_size=1, max_size=6).map(_unique), st.data(), endings,
       st.sampled_from(['"', "'"]))
def test_toml_tables_and_quotes(pairs, data, nl, quote) -> None:
    target = data.draw(st.sampled_from([k for k, _ in pairs]))
    rows = [f"{k} = {quote}{v}{quote}  # note" for k, v in pairs]
    text = 'model = "lbl/llama"' + nl + nl + "[model_providers.cborg]" + nl + nl.join(rows) + nl
    new = set_value(text, "toml", ("model_providers", "cborg", target), NEW)
    expected = {"model": "lbl/llama", "model_providers": {"cborg": {**dict(pairs), target: NEW}}}
    assert tomllib.loads(new) == expected
    assert new.count("# note") == len(pairs) and new.count("\r\n") == text.count("\r\n")


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(names.map(str.upper), values), min_size=1, max_size=6).map(_unique),
       st.data(), endings, st.sampled_from(['"', "'", ""]), st.booleans())
def test_dotenv_read_back_by_python_dotenv(tmp_path_factory, pairs, data, nl, quote, export) -> None:
    target = data.draw(st.sampled_from([k for k, _ in pairs]))
    lead = "export " if export else ""
    text = "# settings" + nl + nl.join(f"{lead}{k}={quote}{v}{quote}" for k, v in pairs) + nl
    new = set_value(text, "dotenv", (target,), NEW)
    path = tmp_path_factory.mktemp("env") / ".env"
    path.write_bytes(new.encode())
    assert dotenv.dotenv_values(path) == {**dict(pairs), target: NEW}
    assert new.startswith("# settings" + nl)


def test_shell_edit_is_what_bash_reads(tmp_path: Path) -> None:
    rc = tmp_path / "rc"
    text = "alias ll='ls -l'\r\nexport CBORG_API_KEY=\" sk-abcdefghijklmnopqrstuv \"  # mine\r\n"
    rc.write_bytes(set_value(text, "shell", ("CBORG_API_KEY",), "sk-abcdefghijklmnopqrstuv")
                   .replace("\r\n", "\n").encode())
    out = subprocess.run(["bash", "-c", f'. {rc}; printf %s "$CBORG_API_KEY"'],
                         capture_output=True, text=True, check=True).stdout
    assert out == "sk-abcdefghijklmnopqrstuv"
    assert set_value(text, "shell", ("CBORG_API_KEY",), "sk-x1").endswith("\"sk-x1\"  # mine\r\n")


def test_fish_set_is_edited_in_place() -> None:
    text = "set -gx OPENAI_BASE_URL https://api.openai.com/v1\n"
    assert set_value(text, "shell", ("OPENAI_BASE_URL",), NEW) == f"set -gx OPENAI_BASE_URL {NEW}\n"


def test_ini_keeps_other_settings_and_crlf() -> None:
    text = "[wsl2]\r\nmemory=8GB\r\nnetworkingMode=nat # was\r\n"
    assert set_value(text, "ini", ("wsl2", "networkingmode"), "mirrored") == \
        "[wsl2]\r\nmemory=8GB\r\nnetworkingMode=mirrored # was\r\n"


def test_only_the_named_path_changes_when_the_same_value_repeats() -> None:
    text = ('{"models": [{"apiBase": "https://api.openai.com/v1"},\n'
            '            {"apiBase": "https://api.openai.com/v1"}]}\n')
    paths = find_paths(text, "json", "apiBase", "https://api.openai.com/v1")
    assert paths == [("models", 0, "apiBase"), ("models", 1, "apiBase")]
    new = set_value(text, "json", paths[1], NEW)
    assert json.loads(new)["models"] == [{"apiBase": "https://api.openai.com/v1"}, {"apiBase": NEW}]


@pytest.mark.parametrize(("fmt", "text"), [
    ("json", '{"apiBase": "x",}'), ("yaml", "a: [unclosed\n"), ("toml", "a = \n"),
])
def test_a_file_that_does_not_parse_is_refused(fmt: str, text: str) -> None:
    with pytest.raises(EditRefused, match="not valid"):
        set_value(text, fmt, ("apiBase",), NEW)


def test_a_value_the_editor_cannot_reach_is_refused() -> None:
    # YAML's block scalar: no single-line span to replace, so no edit rather than a guess.
    text = "apiBase: >-\n  https://api.openai.com/v1\n"
    assert flat(text, "yaml") == {("apiBase",): "https://api.openai.com/v1"}
    with pytest.raises(EditRefused, match="no line sets apiBase"):
        set_value(text, "yaml", ("apiBase",), NEW)


@settings(max_examples=40, deadline=None)
@given(st.text(alphabet="abc =#\n\r'\"", max_size=60), endings)
def test_the_shell_block_is_idempotent_and_keeps_the_text(text, nl) -> None:
    once = with_exports(text, {"OPENAI_BASE_URL": "https://api.cborg.lbl.gov"}, fish=False)
    assert once.startswith(text) and BEGIN in once and END in once
    assert with_exports(once, {"OPENAI_BASE_URL": "https://api.cborg.lbl.gov"}, fish=False) == once
