"""Whatever a configuration file holds, a parser gives rows or a ConfigError, never a crash."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from cborg_doctor_checks.clients.model import KeyJudge
from cborg_doctor_checks.clients.parsers import PARSERS, ConfigError, ParseInput, strip_jsonc
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

# The settings the parsers look for, so generated documents reach their branches.
WORDS = [
    "models", "model", "provider", "apiBase", "apiKey", "title", "name", "requestOptions",
    "headers", "Authorization", "tabAutocompleteModel", "embeddingsProvider", "options",
    "baseURL", "model_provider", "model_providers", "base_url", "env_key", "profiles",
    "experimental_bearer_token", "http_headers", "openai-api-base", "openai-api-key",
    "api-key", "set-env", "model_provider_id", "fields", "api_keys", "OPENAI_API_KEY",
    "openai_api_base", "providerProfiles", "apiConfigs", "apiProvider", "litellm",
    "litellmBaseUrl", "litellmApiKey", "litellmModelId", "openai", "cborg", "small_model",
]
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
    st.sampled_from(["https://api.cborg.lbl.gov/v1", "http://127.0.0.1:8001", "openai",
                     "litellm/cborg-coder", "openai-chat:gpt-4o", "{env:CBORG_API_KEY}",
                     "sk-Pq7Rt2Vx9Zb4Nc6Md8Lf1A", "${{ secrets.X }}", "openai=sk-1", ""]),
    st.text(max_size=20),
)
documents = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(st.sampled_from(WORDS), st.text(max_size=8)), inner,
                        max_size=5),
    ),
    max_leaves=30,
)


def parse_all(text: str) -> None:
    for name, parser in PARSERS.items():
        inp = ParseInput(text, Path("/h/x"), "Tool", KeyJudge(), {}, {})
        try:
            rows = parser(inp)
        except ConfigError:
            continue
        assert isinstance(rows, list), name


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents)
def test_structured_documents_never_crash(doc: Any) -> None:
    parse_all(json.dumps(doc))
    parse_all(yaml.safe_dump(doc))
    if isinstance(doc, dict):
        parse_all("\n".join(f'{k} = "{v}"' for k, v in doc.items() if isinstance(k, str)))


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=300))
def test_arbitrary_text_never_crashes(text: str) -> None:
    parse_all(text)


@settings(max_examples=150, deadline=None)
@given(documents)
def test_strip_jsonc_leaves_plain_json_alone(doc: Any) -> None:
    text = json.dumps(doc)
    assert json.loads(strip_jsonc(text)) == doc


_URLSAFE = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_"


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=_URLSAFE, min_size=16, max_size=60),
       st.sampled_from(["opencode", "aider", "dotenv", "codex"]),
       st.sampled_from([0o600, 0o644]))
def test_a_pasted_key_never_reaches_the_output(secret: str, tool: str, mode: int) -> None:
    import tempfile

    from cborg_doctor_checks.clients.check import assess
    from cborg_doctor_checks.clients.collect import collect
    from cborg_doctor_checks.clients.files import Roots
    from cborg_doctor_checks.clients.probe import ProxyState

    key = "sk-" + secret
    layouts = {
        "opencode": (".config/opencode/opencode.json",
                     '{"provider": {"cborg": {"options": {"baseURL": '
                     f'"https://api.cborg.lbl.gov/v1", "apiKey": "{key}"}}}}}}}}'),
        "aider": (".aider.conf.yml", f"model: openai/lbl/cborg-chat\nopenai-api-key: {key}\n"),
        "dotenv": (".env", f"CBORG_API_KEY={key}\nOPENAI_BASE_URL=https://api.openai.com/v1\n"),
        "codex": (".codex/config.toml", 'model_provider = "cborg"\n[model_providers.cborg]\n'
                  f'base_url = "http://example.org/v1"\nexperimental_bearer_token = "{key}"\n'),
    }
    rel, text = layouts[tool]
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        path = home / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        path.chmod(mode)
        roots = Roots(home, home)
        outcome = assess(collect(roots, {}, KeyJudge([key])), roots, {},
                         lambda h, p: ProxyState(False, "refused"), lambda: None)
    codes = {f.code for f in outcome.findings}
    assert "CLIENT_KEY_IN_FILE" in codes
    shown = json.dumps([outcome.summary, [f.to_dict() for f in outcome.findings],
                        [dict(f.data) for f in outcome.findings], dict(outcome.data)])
    assert key not in shown
