"""The gateway checks against the real LiteLLM proxy (what CBorg runs), without a database.

What stock LiteLLM does here is what the doctor must cope with: /key/info and
/user/info answer "Database not connected", so `auth` falls back to /v1/models;
the catalogue, aliases, prices, streaming, the cost header, a rejected key and an
over-budget key are LiteLLM's own answers.
"""

from __future__ import annotations

import httpx
import pytest

from cborg_doctor.findings import Status
from cborg_doctor.report import Report
from tests.gateway_harness import codes, diagnose, everything, finding, result
from tests.litellm_proxy import (
    BROKE_PREFIX,
    EXPIRED_PREFIX,
    LIMITED_PREFIX,
    LiteLLMProxy,
    litellm_proxy_fixture,  # noqa: F401  (the litellm_proxy fixture)
)

pytestmark = pytest.mark.litellm


def run(proxy: LiteLLMProxy, key: str, **options: object) -> Report:
    report = diagnose(proxy.base_url, key, **options)  # type: ignore[arg-type]
    assert key not in everything(report)
    return report


def test_without_a_database_auth_falls_back_and_budget_is_unknown(
        litellm_proxy: LiteLLMProxy, canary_key: str) -> None:
    report = run(litellm_proxy, canary_key)
    auth = result(report, "auth")
    assert auth.status is Status.PASS
    unverified = finding(report, "AUTH_UNVERIFIED")
    assert "HTTP 500: Database not connected" in unverified.message
    assert "GET /v1/models accepted the key" in unverified.message
    budget = result(report, "budget")
    assert budget.status is Status.WARN
    assert codes(report, "budget") == ["BUDGET_UNKNOWN"]
    assert "/user/info: HTTP 500: Database not connected" in finding(report,
                                                                     "BUDGET_UNKNOWN").message
    models = result(report, "models")
    assert models.status is Status.PASS
    assert models.summary == "4 models (2 free, 2 paid)"
    assert set(models.data["free"]) == {"lbl/cborg-chat", "lbl/llama"}


def test_a_rejected_key_is_key_invalid(litellm_proxy: LiteLLMProxy, canary_key: str) -> None:
    wrong = "sk-wrong" + canary_key[9:]
    report = run(litellm_proxy, wrong)
    assert codes(report, "auth") == ["KEY_INVALID"]
    assert "HTTP 401: Authentication Error, Invalid API key provided." in finding(
        report, "KEY_INVALID").message
    assert result(report, "models").status is Status.SKIP
    assert report.verdict is not None and report.verdict.code == "KEY_INVALID"


def test_alias_and_capabilities_from_model_info(litellm_proxy: LiteLLMProxy,
                                                canary_key: str) -> None:
    report = run(litellm_proxy, canary_key, model="anthropic/claude-sonnet")
    assert "points to anthropic/claude-sonnet-4-20250514" in finding(report,
                                                                     "MODEL_ALIAS").message
    details = finding(report, "MODEL_DETAILS").message
    assert "$3.00 in / $15.00 out per 1M tokens" in details
    vision = run(litellm_proxy, canary_key, model="openai/gpt-4o")
    assert "points to openai/gpt-4o-2024-08-06" in finding(vision, "MODEL_ALIAS").message
    assert "vision yes" in finding(vision, "MODEL_DETAILS").message


def test_system_prompt_model_and_unknown_model(litellm_proxy: LiteLLMProxy,
                                               canary_key: str) -> None:
    chat = run(litellm_proxy, canary_key, model="lbl/cborg-chat")
    assert "MODEL_SYSTEM_PROMPT" in codes(chat, "models")
    assert "free" in finding(chat, "MODEL_DETAILS").message
    missing = run(litellm_proxy, canary_key, model="claude-sonnet")
    assert "closest: anthropic/claude-sonnet" in finding(missing, "MODEL_NOT_FOUND").message


def test_live_on_the_default_free_model(litellm_proxy: LiteLLMProxy, canary_key: str) -> None:
    report = run(litellm_proxy, canary_key, live=True)
    live = result(report, "live")
    assert live.status is Status.PASS
    assert live.data["model"] == "lbl/llama"
    message = finding(report, "LIVE_OK").message
    assert message.startswith("lbl/llama answered: first token after")
    assert "free model: no cost header" in message
    assert "the key has spent $3.25 of $50.00" in message  # x-litellm-key-spend, no DB needed
    assert live.data["model_id"]


def test_live_on_a_paid_model_reads_the_cost_header(litellm_proxy: LiteLLMProxy,
                                                    canary_key: str) -> None:
    report = run(litellm_proxy, canary_key, live=True, model="anthropic/claude-sonnet")
    assert codes(report, "live") == ["LIVE_OK"]
    assert "a 1-token call cost $0.000" in finding(report, "LIVE_OK").message
    cost = result(report, "live").data["cost"]
    assert cost is not None and cost > 0


def test_over_budget_key_gets_litellms_own_budget_error(litellm_proxy: LiteLLMProxy,
                                                        canary_key: str) -> None:
    broke = BROKE_PREFIX + canary_key[9:]
    report = run(litellm_proxy, broke, live=True)
    assert codes(report, "live") == ["BUDGET_EXCEEDED"]
    found = finding(report, "BUDGET_EXCEEDED")
    assert "spent $12.50 of $10.00" in found.message
    assert "HTTP 422: Budget has been exceeded!" in found.message
    assert report.verdict is not None and report.verdict.code == "BUDGET_EXCEEDED"


def test_an_expired_key_gets_litellms_own_expiry_error(litellm_proxy: LiteLLMProxy,
                                                        canary_key: str) -> None:
    expired = EXPIRED_PREFIX + canary_key[9:]
    report = run(litellm_proxy, expired)
    assert codes(report, "auth") == ["KEY_EXPIRED"]
    found = finding(report, "KEY_EXPIRED")
    assert "expired on 2025-01-02" in found.message
    assert "HTTP 401: Authentication Error - Expired Key." in found.message


def test_a_used_up_rate_limit_is_live_rate_limited(litellm_proxy: LiteLLMProxy,
                                                   canary_key: str) -> None:
    limited = LIMITED_PREFIX + canary_key[9:]
    # Another job of the user's spends the one request this key has per minute.
    spent = httpx.post(litellm_proxy.base_url + "/v1/chat/completions", trust_env=False,
                       headers={"Authorization": f"Bearer {limited}"},
                       json={"model": "lbl/llama", "messages": [{"role": "user", "content": "hi"}]})
    assert spent.status_code == 200
    report = run(litellm_proxy, limited, live=True)
    found = finding(report, "LIVE_RATE_LIMITED")
    assert "HTTP 429: Rate limit exceeded" in found.message
    assert "retry after 60 s" in found.message
    assert result(report, "live").status is Status.WARN
