"""Every gateway finding code against the stand-in (LiteLLM's shapes for what needs its DB).

Each test registers its own canary key with the stand-in, runs config.key and the
four gateway checks in-process, and asserts what the user sees; every report
format is searched for the key afterwards.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cborg_doctor.facts import EGRESS_ADDRESSES
from cborg_doctor.findings import Status
from cborg_doctor.report import Report
from tests.gateway_harness import codes, diagnose, everything, finding, result
from tests.standin_gateway import (
    Account,
    StandinGateway,
    blocked_key,
    cloudflare_forbidden,
    expired_key,
    happy_key_info,
    happy_user_info,
    invalid_key_new,
    ip_forbidden,
    key_budget_exceeded,
    key_info_internal_error_110,
    max_budget_limit,
    no_db_master,
    no_db_user,
    rate_limited,
    rate_limited_v3,
    standin_gateway_fixture,  # noqa: F401  (the standin_gateway fixture)
    user_budget_exceeded,
)

NOW = datetime.now(timezone.utc)


def run(gw: StandinGateway, key: str, account: Account | None = None, **options: object
        ) -> Report:
    if account is not None or gw.account(key) is None:
        gw.add(key, account)
    report = diagnose(gw.base_url, key, **options)  # type: ignore[arg-type]
    text = everything(report)
    assert key not in text, "the key leaked into a report"
    assert key[3:] not in text
    return report


def status(report: Report, check_id: str) -> Status:
    return result(report, check_id).status


# ── auth ────────────────────────────────────────────────────────────────────


def test_a_good_key_is_described_with_owner_expiry_and_budgets(
        standin_gateway: StandinGateway, canary_key: str) -> None:
    report = run(standin_gateway, canary_key, Account())
    auth = result(report, "auth")
    assert auth.status is Status.PASS
    assert "alice-laptop (alice@lbl.gov)" in auth.summary
    assert f"valid until {(NOW + timedelta(days=200)):%Y-%m-%d}" in auth.summary
    assert auth.data["verified_by"] == "GET /key/info"
    budget = result(report, "budget")
    assert budget.status is Status.PASS
    assert "key $3.25 of $50.00 (6 %)" in budget.summary
    assert "user $4.50 of $100.00 (4 %)" in budget.summary
    assert status(report, "models") is Status.PASS
    assert report.verdict is None
    assert report.exit_code(report_fail_on()) == 0


def report_fail_on():
    from cborg_doctor.options import FailOn

    return FailOn.FAIL


@pytest.mark.parametrize("answer", ["old", "new"])
def test_an_unknown_key_is_key_invalid_with_reasons_in_order(
        standin_gateway: StandinGateway, canary_key: str, answer: str) -> None:
    account = None if answer == "old" else Account(auth_error=invalid_key_new())
    if account is None:
        wrong = canary_key + "x"  # not registered: the stand-in echoes it, as old LiteLLM did
        standin_gateway.add(canary_key)
        report = diagnose(standin_gateway.base_url, wrong)
        assert wrong not in everything(report)
    else:
        report = run(standin_gateway, canary_key, account)
    assert codes(report, "auth") == ["KEY_INVALID"]
    found = finding(report, "KEY_INVALID")
    assert "HTTP 401" in found.message
    assert "whitespace" in found.fix[0] and "revoked" in found.fix[1]
    assert "another gateway" in found.fix[2]
    assert result(report, "budget").status is Status.SKIP
    assert report.verdict is not None and report.verdict.code == "KEY_INVALID"


@pytest.mark.parametrize("http_status", [400, 401])
def test_an_expired_key_names_its_date(standin_gateway: StandinGateway, canary_key: str,
                                       http_status: int) -> None:
    expired = NOW - timedelta(days=3)
    report = run(standin_gateway, canary_key,
                 Account(auth_error=expired_key(canary_key, expired, http_status)))
    assert codes(report, "auth") == ["KEY_EXPIRED"]
    found = finding(report, "KEY_EXPIRED")
    assert f"expired on {expired:%Y-%m-%d}" in found.message
    assert f"HTTP {http_status}" in found.message
    assert "key/manage" in found.fix[0]


def test_key_info_showing_an_expired_key(standin_gateway: StandinGateway,
                                         canary_key: str) -> None:
    info = happy_key_info(expires=(NOW - timedelta(days=1)).isoformat(), status="expired")
    report = run(standin_gateway, canary_key, Account(key_info=info))
    assert codes(report, "auth") == ["KEY_EXPIRED"]


@pytest.mark.parametrize("where", ["error", "key_info"])
def test_a_blocked_key(standin_gateway: StandinGateway, canary_key: str, where: str) -> None:
    account = (Account(auth_error=blocked_key()) if where == "error"
               else Account(key_info=happy_key_info(blocked=True)))
    report = run(standin_gateway, canary_key, account)
    assert codes(report, "auth") == ["KEY_BLOCKED"]
    assert "scienceit@lbl.gov" in finding(report, "KEY_BLOCKED").fix[0]


def test_litellm_ip_forbidden_names_the_addresses_to_authorize(
        standin_gateway: StandinGateway, canary_key: str) -> None:
    egress = {EGRESS_ADDRESSES: {"ipv4": "198.51.100.23", "ipv6": "2001:db8::23"}}
    report = run(standin_gateway, canary_key, Account(auth_error=ip_forbidden("198.51.100.23")),
                 facts=egress)
    assert codes(report, "auth") == ["IP_NOT_ALLOWED"]
    found = finding(report, "IP_NOT_ALLOWED")
    assert "saw the address 198.51.100.23" in found.message
    assert "198.51.100.23 (IPv4) and 2001:db8::23 (IPv6)" in found.fix[0]
    assert "https://api.cborg.lbl.gov/key/manage" in found.fix[0]
    assert report.verdict is not None and report.verdict.code == "IP_NOT_ALLOWED"


def test_a_403_that_is_not_litellm_is_likely_the_ip_gate(
        standin_gateway: StandinGateway, canary_key: str) -> None:
    report = run(standin_gateway, canary_key, Account(auth_error=cloudflare_forbidden()))
    found = finding(report, "IP_NOT_ALLOWED")
    assert "most likely CBorg's IP authorization" in found.message
    assert "run without --skip egress" in found.fix[0]


def test_expiry_within_two_weeks_warns(standin_gateway: StandinGateway,
                                       canary_key: str) -> None:
    info = happy_key_info(expires=(NOW + timedelta(days=5, hours=2)).isoformat())
    report = run(standin_gateway, canary_key, Account(key_info=info))
    assert status(report, "auth") is Status.WARN
    assert "in 5 days" in finding(report, "KEY_EXPIRES_SOON").message


def test_a_key_without_expiry_is_estimated_at_one_year(standin_gateway: StandinGateway,
                                                       canary_key: str) -> None:
    created = NOW - timedelta(days=360)
    info = happy_key_info(expires=None, created_at=created.isoformat())
    report = run(standin_gateway, canary_key, Account(key_info=info))
    found = finding(report, "KEY_EXPIRES_SOON")
    assert "estimated" in found.message
    assert f"{created + timedelta(days=365):%Y-%m-%d}" in found.message


def test_restricted_models_are_listed(standin_gateway: StandinGateway, canary_key: str) -> None:
    info = happy_key_info(models=["lbl/llama", "lbl/cborg-chat"])
    report = run(standin_gateway, canary_key, Account(key_info=info))
    assert status(report, "auth") is Status.PASS
    assert "lbl/llama, lbl/cborg-chat" in finding(report, "KEY_RESTRICTED").message


def test_without_a_database_the_key_is_checked_on_v1_models(
        standin_gateway: StandinGateway, canary_key: str) -> None:
    account = Account(key_info_error=no_db_master(), user_info_error=no_db_user())
    report = run(standin_gateway, canary_key, account)
    auth = result(report, "auth")
    assert auth.status is Status.PASS
    found = finding(report, "AUTH_UNVERIFIED")
    assert found.severity.value == "info"
    assert "HTTP 500: Database not connected" in found.message
    assert "GET /v1/models accepted the key" in found.message
    assert auth.data["verified_by"] == "GET /v1/models"
    assert account.requests[:2] == ["GET /key/info", "GET /v1/models"]
    budget = result(report, "budget")
    assert budget.status is Status.WARN
    assert "No connected db." in finding(report, "BUDGET_UNKNOWN").message
    assert status(report, "models") is Status.PASS


def test_fallback_that_is_rejected_is_key_invalid(standin_gateway: StandinGateway,
                                                  canary_key: str) -> None:
    account = Account(key_info_error=no_db_master(), models_error=invalid_key_new())
    report = run(standin_gateway, canary_key, account)
    assert codes(report, "auth") == ["KEY_INVALID"]


def test_when_nothing_answers_the_key_is_unverified(standin_gateway: StandinGateway,
                                                    canary_key: str) -> None:
    account = Account(key_info_error=no_db_master(), models_error=no_db_master())
    report = run(standin_gateway, canary_key, account)
    assert status(report, "auth") is Status.WARN
    assert "so the key is unchecked" in finding(report, "AUTH_UNVERIFIED").message


# ── budget ──────────────────────────────────────────────────────────────────


def test_key_spend_at_the_cap_is_budget_exceeded(standin_gateway: StandinGateway,
                                                 canary_key: str) -> None:
    info = happy_key_info(spend=50.0, max_budget=50.0)
    report = run(standin_gateway, canary_key, Account(key_info=info))
    found = finding(report, "BUDGET_EXCEEDED")
    assert found.message.startswith("This key has reached its budget: spent $50.00 of $50.00")
    assert "free lbl/* models too" in found.fix[0]
    assert "scienceit@lbl.gov" in found.fix[1]
    assert "alias alice-laptop" in found.fix[1] and "user alice@lbl.gov" in found.fix[1]
    assert "5 s" in found.fix[2]
    assert report.verdict is not None and report.verdict.code == "BUDGET_EXCEEDED"


def test_user_over_budget(standin_gateway: StandinGateway, canary_key: str) -> None:
    report = run(standin_gateway, canary_key,
                 Account(user_info=happy_user_info(spend=120.0, max_budget=100.0)))
    assert "Your user account has reached its budget" in finding(report,
                                                                 "BUDGET_EXCEEDED").message


@pytest.mark.parametrize("http_status", [400, 422, 429])
def test_budget_exceeded_answers_with_any_status(standin_gateway: StandinGateway,
                                                 canary_key: str, http_status: int) -> None:
    answer = key_budget_exceeded(12.5, 10.0, http_status)
    report = run(standin_gateway, canary_key, Account(auth_error=answer))
    assert codes(report, "budget") == ["BUDGET_EXCEEDED"]
    found = finding(report, "BUDGET_EXCEEDED")
    assert "spent $12.50 of $10.00" in found.message
    assert f"HTTP {http_status}" in found.message
    assert report.verdict is not None and report.verdict.code == "BUDGET_EXCEEDED"


@pytest.mark.parametrize("http_status", [400, 422, 429])
def test_user_budget_exceeded_on_user_info(standin_gateway: StandinGateway, canary_key: str,
                                           http_status: int) -> None:
    answer = user_budget_exceeded("alice@lbl.gov", 101.0, 100.0, http_status)
    report = run(standin_gateway, canary_key, Account(user_info_error=answer))
    found = finding(report, "BUDGET_EXCEEDED")
    assert "Your user account" in found.message and "$101.00 of $100.00" in found.message


@pytest.mark.parametrize("http_status", [400, 422, 429])
def test_budget_exceeded_on_the_live_call(standin_gateway: StandinGateway, canary_key: str,
                                          http_status: int) -> None:
    answer = key_budget_exceeded(12.5, 10.0, http_status)
    report = run(standin_gateway, canary_key, Account(chat_error=answer), live=True)
    assert codes(report, "live") == ["BUDGET_EXCEEDED"]
    assert "a completion with the free model lbl/llama" in finding(report, "BUDGET_EXCEEDED").message


def test_max_budget_limit_reached_is_a_budget_not_a_rate_limit(
        standin_gateway: StandinGateway, canary_key: str) -> None:
    report = run(standin_gateway, canary_key, Account(chat_error=max_budget_limit()), live=True)
    assert codes(report, "live") == ["BUDGET_EXCEEDED"]


def test_ninety_percent_is_budget_low(standin_gateway: StandinGateway, canary_key: str) -> None:
    info = happy_key_info(spend=46.0, max_budget=50.0)
    report = run(standin_gateway, canary_key, Account(key_info=info))
    assert status(report, "budget") is Status.WARN
    assert "has used 92 % of its budget: $46.00 of $50.00" in finding(report,
                                                                      "BUDGET_LOW").message


def test_no_max_budget_is_no_cap(standin_gateway: StandinGateway, canary_key: str) -> None:
    account = Account(key_info=happy_key_info(max_budget=None),
                      user_info=happy_user_info(max_budget=None))
    report = run(standin_gateway, canary_key, account)
    budget = result(report, "budget")
    assert budget.status is Status.PASS
    assert "key $3.25 spent, no cap" in budget.summary


# ── models ──────────────────────────────────────────────────────────────────


def test_unknown_model_names_the_closest(standin_gateway: StandinGateway,
                                         canary_key: str) -> None:
    report = run(standin_gateway, canary_key, Account(), model="claude-sonnet")
    found = finding(report, "MODEL_NOT_FOUND")
    assert "closest: anthropic/claude-sonnet" in found.message
    assert status(report, "models") is Status.FAIL


def test_alias_system_prompt_and_details(standin_gateway: StandinGateway,
                                         canary_key: str) -> None:
    report = run(standin_gateway, canary_key, Account(), model="anthropic/claude-sonnet")
    assert codes(report, "models") == ["MODEL_ALIAS", "MODEL_DETAILS"]
    assert "points to anthropic/claude-sonnet-4-20250514" in finding(report,
                                                                     "MODEL_ALIAS").message
    details = finding(report, "MODEL_DETAILS").message
    assert "context 200,000 tokens" in details and "vision yes" in details
    assert "$3.00 in / $15.00 out per 1M tokens" in details
    chat = run(standin_gateway, canary_key, model="lbl/cborg-chat")
    assert "use lbl/llama instead" in finding(chat, "MODEL_SYSTEM_PROMPT").fix[0]
    assert "free" in finding(chat, "MODEL_DETAILS").message


def test_catalogue_unavailable(standin_gateway: StandinGateway, canary_key: str) -> None:
    account = Account(model_info_error=no_db_master(), models_error=(502, "bad gateway"))
    report = run(standin_gateway, canary_key, account)
    assert codes(report, "models") == ["MODELS_UNAVAILABLE"]
    assert "HTTP 502" in finding(report, "MODELS_UNAVAILABLE").message


def test_catalogue_falls_back_to_v1_models(standin_gateway: StandinGateway,
                                           canary_key: str) -> None:
    report = run(standin_gateway, canary_key, Account(model_info_error=no_db_master()))
    models = result(report, "models")
    assert models.status is Status.PASS
    assert "6 models (names only" in models.summary


def test_client_models_not_in_the_catalogue(standin_gateway: StandinGateway,
                                            canary_key: str) -> None:
    configured = [
        {"tool": "aider", "model": "openai/lbl/llama", "file": "~/.aider.conf.yml"},
        {"tool": "Continue", "model": "lbl/lama", "file": "~/.continue/config.yaml"},
    ]
    report = run(standin_gateway, canary_key, Account(), configured_models=configured)
    assert codes(report, "models") == ["CLIENT_MODEL_UNKNOWN"]
    found = finding(report, "CLIENT_MODEL_UNKNOWN")
    assert "Continue" in found.message and "'lbl/lama'" in found.message
    assert found.fix[0] == "Change the model in ~/.continue/config.yaml to lbl/llama."


# ── live ────────────────────────────────────────────────────────────────────


def test_live_ok_with_timings_cost_and_estimate(standin_gateway: StandinGateway,
                                                canary_key: str) -> None:
    report = run(standin_gateway, canary_key, Account(), live=True,
                 model="anthropic/claude-sonnet")
    live = result(report, "live")
    assert live.status is Status.PASS
    found = finding(report, "LIVE_OK")
    assert "first token after" in found.message and "complete after" in found.message
    assert "a 1-token call cost $0.000024" in found.message
    assert "/spend/calculate estimated" in found.message
    assert live.data["timings_ms"]["first_token"] is not None


def test_live_defaults_to_a_free_model(standin_gateway: StandinGateway,
                                       canary_key: str) -> None:
    account = Account(cost_header=False)
    report = run(standin_gateway, canary_key, account, live=True)
    assert result(report, "live").data["model"] == "lbl/llama"
    assert "free model: no cost header" in finding(report, "LIVE_OK").message
    assert not any("calculate" in r for r in account.requests)


def test_missing_cost_header_on_a_paid_model(standin_gateway: StandinGateway,
                                             canary_key: str) -> None:
    report = run(standin_gateway, canary_key, Account(cost_header=False), live=True,
                 model="openai/gpt-4o")
    assert codes(report, "live") == ["LIVE_OK", "COST_HEADER_MISSING"]
    assert status(report, "live") is Status.WARN


def test_rate_limited_with_retry_after(standin_gateway: StandinGateway,
                                       canary_key: str) -> None:
    account = Account(chat_error=rate_limited(), chat_headers={"retry-after": "42"})
    report = run(standin_gateway, canary_key, account, live=True)
    found = finding(report, "LIVE_RATE_LIMITED")
    assert "retry after 42 s" in found.message
    # LiteLLM's v1 limiter figures: current max_parallel_requests 5 of 5 is the one hit.
    assert "rate limited: the key's limit of 5 parallel requests" in found.message
    assert found.fix[0].startswith("Send at most 5 requests at a time with this key")


def test_a_stalled_model_is_live_timeout(standin_gateway: StandinGateway,
                                         canary_key: str) -> None:
    report = run(standin_gateway, canary_key, Account(chat_delay=4.0), live=True, timeout=1.0)
    found = finding(report, "LIVE_TIMEOUT")
    assert "within 1 s" in found.message and "600 s" in found.message
    assert "timeout=" in found.fix[0] and "stream=True" in found.fix[1]


def test_an_upstream_error_is_live_failed_in_the_gateways_words(
        standin_gateway: StandinGateway, canary_key: str) -> None:
    upstream = (500, {"error": {"message": "litellm.APIConnectionError: All connection "
                                           "attempts failed", "type": None, "param": None,
                                "code": "500"}})
    report = run(standin_gateway, canary_key, Account(chat_error=upstream), live=True)
    found = finding(report, "LIVE_FAILED")
    assert "HTTP 500: litellm.APIConnectionError: All connection attempts failed" in \
        found.message


# ── whatever the gateway sends back, the checks end with findings, not crashes ──

json_bodies = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(
        st.sampled_from(["error", "message", "type", "info", "user_info", "data", "model_name",
                         "model_info", "litellm_params", "spend", "max_budget", "expires",
                         "models", "choices", "detail", "cost", "key"]),
        children, max_size=5),
    max_leaves=20,
)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=json_bodies, http_status=st.sampled_from([200, 400, 401, 403, 404, 422, 429, 500]),
       route=st.sampled_from(["key_info", "user_info", "model_info", "chat"]))
def test_any_answer_ends_in_findings_not_crashes(standin_gateway: StandinGateway,
                                                 canary_key: str, body: object,
                                                 http_status: int, route: str) -> None:
    answer = (http_status, body if not isinstance(body, str) else {"detail": body})
    account = Account(**{f"{route}_error": answer})
    report = run(standin_gateway, canary_key, account, live=True, model="lbl/llama")
    assert all(c.status is not Status.ERROR for c in report.checks), [
        (c.id, c.summary) for c in report.checks]


def test_html_huge_and_echoing_answers(standin_gateway: StandinGateway,
                                       canary_key: str) -> None:
    huge = {"info": {"key_alias": "x" * (3 << 20)}}
    account = Account(key_info_error=(200, huge), model_info_error=(200, "<html>portal</html>"),
                      user_info_error=(200, {"user_info": {"spend": canary_key}}))
    report = run(standin_gateway, canary_key, account)
    assert all(c.status is not Status.ERROR for c in report.checks)
    assert result(report, "auth").data["verified_by"] == "GET /v1/models"
    assert "names only" in result(report, "models").summary


def test_the_key_is_never_sent_over_plain_http_to_another_host(canary_key: str) -> None:
    report = diagnose("http://192.0.2.1:9", canary_key)  # TEST-NET: never contacted
    auth = result(report, "auth")
    assert auth.status is Status.SKIP
    assert "not sent" in auth.summary
    assert result(report, "models").status is Status.SKIP


def test_an_endless_trickling_stream_is_live_timeout(standin_gateway: StandinGateway,
                                                      canary_key: str) -> None:
    report = run(standin_gateway, canary_key, Account(trickle=True), live=True, timeout=1.0)
    found = finding(report, "LIVE_TIMEOUT")
    assert "within 2 s" in found.message and "still arriving" in found.message


def test_litellms_own_403_on_key_info_is_not_the_ip_gate(standin_gateway: StandinGateway,
                                                         canary_key: str) -> None:
    denied = (403, {"error": {"message": "You are not allowed to access this key's info. "
                                         "Your role=internal_user", "type": "auth_error",
                              "param": "None", "code": "403"}})
    report = run(standin_gateway, canary_key, Account(key_info_error=denied))
    assert codes(report, "auth") == ["AUTH_UNVERIFIED"]
    assert "not allowed to access this key's info" in finding(report, "AUTH_UNVERIFIED").message


def test_live_picks_a_model_the_key_may_call(standin_gateway: StandinGateway,
                                             canary_key: str) -> None:
    account = Account(key_info=happy_key_info(models=["lbl/qwen-coder"]))
    report = run(standin_gateway, canary_key, account, live=True)
    assert result(report, "live").data["model"] == "lbl/qwen-coder"


def test_an_old_key_without_expiry_that_still_works_is_not_expired(
        standin_gateway: StandinGateway, canary_key: str) -> None:
    info = happy_key_info(expires=None, created_at=(NOW - timedelta(days=400)).isoformat())
    report = run(standin_gateway, canary_key, Account(key_info=info))
    assert result(report, "auth").status is Status.PASS
    assert codes(report, "auth") == []


def test_a_stream_that_breaks_off_is_live_failed(standin_gateway: StandinGateway,
                                                 canary_key: str) -> None:
    report = run(standin_gateway, canary_key, Account(break_stream=True), live=True)
    assert "the stream broke off after 1 chunks" in finding(report, "LIVE_FAILED").message


def test_an_empty_catalogue_warns(standin_gateway: StandinGateway, canary_key: str) -> None:
    report = run(standin_gateway, canary_key, Account(catalogue=[]), model="lbl/llama")
    assert codes(report, "models") == ["MODELS_EMPTY", "MODEL_NOT_FOUND"]


def test_no_connected_db_from_the_auth_layer_means_only_the_master_key_works(
        standin_gateway: StandinGateway, canary_key: str) -> None:
    account = Account(key_info_error=no_db_master(), models_error=no_db_user())
    report = run(standin_gateway, canary_key, account)
    assert codes(report, "auth") == ["KEY_INVALID"]
    message = finding(report, "KEY_INVALID").message
    assert "HTTP 400: No connected db.; a LiteLLM without a database accepts only its master key" in (
        message)


# ── rate limits: which one, when it resets, retry advice that honours retry-after ──


@pytest.mark.parametrize(
    ("kind", "limit", "says", "fix"),
    [
        ("max_parallel_requests", 5, "the key's limit of 5 parallel requests",
         "Send at most 5 requests at a time with this key: CBorg limits parallel requests to "
         "its on-prem (lbl/*) models"),
        ("requests", 1, "the key's limit of 1 request per minute", "Send at most 1 requests a minute"),
        ("tokens", 100000, "the key's limit of 100,000 tokens per minute",
         "Send at most 100,000 tokens a minute"),
    ],
)
def test_a_v3_rate_limit_says_which_limit_and_when_it_resets(
        standin_gateway: StandinGateway, canary_key: str, kind: str, limit: int, says: str,
        fix: str) -> None:
    code, body, headers = rate_limited_v3("api_key", kind, limit, "2026-12-01 16:20:00 UTC")
    account = Account(chat_error=(code, body), chat_headers=headers)
    report = run(standin_gateway, canary_key, account, live=True)
    assert codes(report, "live") == ["LIVE_RATE_LIMITED"]
    found = finding(report, "LIVE_RATE_LIMITED")
    assert f"lbl/llama is rate limited: {says} (HTTP 429: Rate limit exceeded for api_key" in (
        found.message)
    assert found.message.endswith("; it resets at 2026-12-01 16:20:00 UTC (retry after 60 s).")
    assert found.fix[0].startswith(fix)
    assert found.fix[1].startswith("Retry after 60 s: the OpenAI client honours retry-after")
    assert status(report, "live") is Status.WARN


def test_a_wait_longer_than_the_sdk_honours_says_to_sleep(standin_gateway: StandinGateway,
                                                          canary_key: str) -> None:
    code, body, headers = rate_limited_v3("user", "tokens", 50000, "2026-12-01 17:00:00 UTC",
                                          window_s=3600)
    account = Account(chat_error=(code, body), chat_headers=headers)
    found = finding(run(standin_gateway, canary_key, account, live=True), "LIVE_RATE_LIMITED")
    assert "your user's limit of 50,000 tokens per minute" in found.message
    assert found.fix[1].startswith("Wait 3600 s before retrying")
    assert "catch openai.RateLimitError" in found.fix[1]


def test_cloudflares_1015_on_the_model_call_is_cloudflares_rate_limit(
        standin_gateway: StandinGateway, canary_key: str) -> None:
    account = Account(chat_error=(429, "error code: 1015"), chat_headers={
        "server": "cloudflare", "cf-ray": "8e1f2a3b4c5d6e7f-SJC", "retry-after": "30"})
    found = finding(run(standin_gateway, canary_key, account, live=True), "LIVE_RATE_LIMITED")
    assert "rate limited: Cloudflare's rate limit for this address (error 1015" in found.message
    assert "Ray ID 8e1f2a3b4c5d6e7f" in found.message and "retry after 30 s" in found.message
    assert "https://api-local.cborg.lbl.gov" in found.fix[0]


def test_cloudflares_524_on_the_model_call_says_to_stream(standin_gateway: StandinGateway,
                                                          canary_key: str) -> None:
    page = "<html><head><title>524: A timeout occurred</title></head>Error code 524</html>"
    account = Account(chat_error=(524, page), chat_headers={
        "server": "cloudflare", "cf-ray": "8e1f2a3b4c5d6e7f-SJC"})
    report = run(standin_gateway, canary_key, account, live=True)
    found = finding(report, "LIVE_FAILED")
    assert "longer than Cloudflare's 100 s limit" in found.message
    assert "Ray ID 8e1f2a3b4c5d6e7f" in found.message
    assert found.fix[-1].startswith("Use stream=True")


# ── the budget on a free model (CBorg FAQ) and LiteLLM 1.110's /key/info ─────


def test_a_free_model_refused_for_budget_says_free_models_stop_too(
        standin_gateway: StandinGateway, canary_key: str) -> None:
    account = Account(chat_error=key_budget_exceeded(12.5, 10.0, 422))
    found = finding(run(standin_gateway, canary_key, account, live=True), "BUDGET_EXCEEDED")
    assert "a completion with the free model lbl/llama answered HTTP 422" in found.message
    assert found.message.endswith("; even free models stop working once the budget is reached.")


def test_litellm_1_110_key_info_500_is_unverified_not_a_failure(
        standin_gateway: StandinGateway, canary_key: str) -> None:
    account = Account(key_info_error=key_info_internal_error_110(), user_info_error=no_db_master())
    report = run(standin_gateway, canary_key, account)
    assert status(report, "auth") is Status.PASS
    unverified = finding(report, "AUTH_UNVERIFIED")
    assert unverified.severity.value == "info"
    assert "HTTP 500: Internal server error from /key/info." in unverified.message
    assert "GET /v1/models accepted the key" in unverified.message
    assert codes(report, "budget") == ["BUDGET_UNKNOWN"]
    assert report.status != "fail"


def test_a_short_key_is_still_tried_and_the_rejection_carries_the_hint(
        standin_gateway: StandinGateway) -> None:
    short = "sk-cut1234"  # never registered: the gateway answers LiteLLM's 401
    report = diagnose(standin_gateway.base_url, short)
    assert short not in everything(report)
    assert codes(report, "config.key") == ["KEY_UNUSUAL"]
    assert status(report, "config.key") is Status.WARN  # a hint, not a blocker
    assert codes(report, "auth") == ["KEY_INVALID"]
    assert finding(report, "KEY_INVALID").message.endswith(
        "; it is 10 characters; CBorg keys are 25: probably cut short.")
    assert report.verdict is not None and report.verdict.code == "KEY_INVALID"
