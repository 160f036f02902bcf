"""The pure readers of LiteLLM answers: real messages classify right, any JSON never raises."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cborg_doctor.probes.gatewayanswer import (
    ErrorKind,
    ModelEntry,
    alias_target,
    as_datetime,
    as_number,
    classify_error,
    is_dated,
    parse_cost,
    parse_key_info,
    parse_model_info,
    parse_model_list,
    parse_rate_limit,
    parse_stream,
    parse_user_info,
    retry_after_seconds,
)


def err(message: str, type_: str | None = None, code: str = "401") -> dict:
    return {"error": {"message": message, "type": type_, "param": None, "code": code}}


# Messages as the LiteLLM source (and answers captured from deployments) word them.
CASES = [
    (401, err("Authentication Error, Invalid proxy server token passed. Received API Key = "
              "sk-...Xm0w, Key Hash (Token) =1badf2fea768945550f4327759f5c9ba0c3e. Unable to "
              "find token in cache or `LiteLLM_VerificationTokenTable`", "token_not_found_in_db"),
     ErrorKind.KEY_INVALID),
    (401, err("Authentication Error, Invalid API key provided.", "token_not_found_in_db"),
     ErrorKind.KEY_INVALID),
    (401, err("Authentication Error, Invalid API key provided.", "auth_error"),
     ErrorKind.KEY_INVALID),
    (401, err("Authentication Error, No api key passed in.", "auth_error"), ErrorKind.NO_KEY),
    (500, err("No api key passed in.", "auth_error", "500"), ErrorKind.NO_KEY),
    (400, err("Authentication Error - Expired Key. Key Expiry time 2026-08-20 12:00:10+00:00 "
              "and current time 2026-08-21 09:00:00+00:00", "expired_key", "400"),
     ErrorKind.KEY_EXPIRED),
    (401, err("Authentication Error - Expired Key. Key Expiry time 2026-09-01", "expired_key"),
     ErrorKind.KEY_EXPIRED),
    (403, {"detail": "Authentication Error - Expired Key. Key Expiry time 2024-01-01 and "
                     "current time 2024-02-01"}, ErrorKind.KEY_EXPIRED),
    (401, err("Authentication Error, Key is blocked. Update via `/key/unblock` if you're an "
              "admin.", "auth_error"), ErrorKind.KEY_BLOCKED),
    (403, err("Access forbidden: IP address 203.0.113.9 not allowed.", "auth_error", "403"),
     ErrorKind.IP_NOT_ALLOWED),
    (400, err("Budget has been exceeded! Current cost: 12.5, Max budget: 10.0",
              "budget_exceeded", "400"), ErrorKind.BUDGET_EXCEEDED),
    (422, err("Budget has been exceeded! Key=alice Current cost: 12.5, Max budget: 10.0",
              "budget_exceeded", "422"), ErrorKind.BUDGET_EXCEEDED),
    (429, err("ExceededBudget: User=alice@lbl.gov over budget. Spend=101.2, Budget=100.0",
              "budget_exceeded", "429"), ErrorKind.BUDGET_EXCEEDED),
    (429, {"detail": "Max budget limit reached."}, ErrorKind.BUDGET_EXCEEDED),
    (500, err("Database not connected. Connect a database to your proxy - https://docs.litellm"
              ".ai/docs/simple_proxy#managing-auth---virtual-keys", "internal_server_error",
              "500"), ErrorKind.NO_DB),
    (400, err("No connected db.", "no_db_connection", "400"), ErrorKind.NO_DB),
    (401, err("Authentication Error, Only proxy admin can be used to generate, delete, update "
              "info for new keys/users/teams. Route=/spend/calculate. Your role=unknown.",
              "auth_error"), ErrorKind.ADMIN_ONLY),
    (429, err("LiteLLM Rate Limit Handler for rate limit type = key. Crossed TPM / RPM / Max "
              "Parallel Request Limit. current rpm: 5, rpm limit: 5", "None", "429"),
     ErrorKind.RATE_LIMITED),
    (401, err("key not allowed to access model. This key can only access models=['lbl/llama']."
              " Tried to access gpt-4o", "key_model_access_denied"), ErrorKind.MODEL_DENIED),
    (401, err("litellm.AuthenticationError: AuthenticationError: OpenAIException - Incorrect "
              "API key provided. Received Model Group=openai/gpt-4o", "authentication_error"),
     ErrorKind.UPSTREAM),
    (500, err("litellm.APIConnectionError: All connection attempts failed", None, "500"),
     ErrorKind.UPSTREAM),
    (429, err("litellm.RateLimitError: RateLimitError: AnthropicException - overloaded",
              "throttling_error", "429"), ErrorKind.RATE_LIMITED),
    (403, None, ErrorKind.FORBIDDEN),
    (403, {"message": "Forbidden"}, ErrorKind.FORBIDDEN),
    (403, err("You are not allowed to access this key's info. Your role=internal_user",
              "auth_error", "403"), ErrorKind.ACCESS_DENIED),
    (404, {"detail": "Not Found"}, ErrorKind.NOT_FOUND),
    (502, None, ErrorKind.SERVER_ERROR),
    (400, {"error": {"message": "/chat/completions: Invalid model name passed in model=x."}},
     ErrorKind.OTHER),
]


@pytest.mark.parametrize(("status", "body", "kind"), CASES)
def test_litellm_answers_classify_by_type_and_message(status: int, body: object,
                                                      kind: ErrorKind) -> None:
    assert classify_error(status, body).kind is kind


@pytest.mark.parametrize("status", [400, 422, 429])
def test_budget_exceeded_reads_the_amounts_whatever_the_status(status: int) -> None:
    error = classify_error(status, err(
        "Budget has been exceeded! Key=alice-laptop Current cost: 12.5, Max budget: 10.0",
        "budget_exceeded", str(status)))
    assert (error.kind, error.scope, error.spend, error.max_budget) == (
        ErrorKind.BUDGET_EXCEEDED, "key", 12.5, 10.0)
    user = classify_error(status, err(
        "ExceededBudget: User=alice@lbl.gov over budget. Spend=101.2, Budget=100.0"))
    assert (user.scope, user.spend, user.max_budget) == ("user", 101.2, 100.0)


def test_details_are_pulled_out_and_hashes_elided() -> None:
    ip = classify_error(403, err("Access forbidden: IP address 2001:db8::7 not allowed."))
    assert ip.address == "2001:db8::7"
    expired = classify_error(400, err("Authentication Error - Expired Key. Key Expiry time "
                                      "2026-08-20 12:00:10+00:00 and current time x"))
    assert expired.expires == "2026-08-20 12:00:10+00:00"
    invalid = classify_error(401, err("Key Hash (Token) =" + "ab" * 32 + " unknown"))
    assert "ab" * 32 not in invalid.message
    html = classify_error(403, None, "<html>Forbidden by policy</html>")
    assert html.kind is ErrorKind.FORBIDDEN and "Forbidden" in html.message


def test_key_info_never_keeps_the_key_and_reads_litellm_fields() -> None:
    body = {"key": "sk-secret-should-not-survive", "info": {
        "key_alias": "alice", "user_id": "alice@lbl.gov", "spend": "3.5", "max_budget": 10,
        "expires": "2027-01-02T03:04:05Z", "models": ["lbl/llama", 7, None], "blocked": None,
        "status": "active", "budget_reset_at": "2026-12-01T00:00:00",
        "created_at": "2026-01-02T03:04:05.123456+00:00", "tpm_limit": "1000",
        "max_parallel_requests": 5}}
    info = parse_key_info(body)
    assert info is not None
    assert "sk-secret" not in repr(info)
    assert (info.alias, info.user_id, info.spend, info.max_budget) == (
        "alice", "alice@lbl.gov", 3.5, 10.0)
    assert info.expires == datetime(2027, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    assert info.models == ("lbl/llama", "7")
    assert info.tpm_limit == 1000 and info.max_parallel_requests == 5
    # The budget table carries max_budget when the key row does not (LiteLLM ≥ 1.50).
    table = parse_key_info({"info": {"litellm_budget_table": {"max_budget": 25}}})
    assert table is not None and table.max_budget == 25.0


def test_user_info_and_catalogue_shapes() -> None:
    user = parse_user_info({"user_id": "alice", "user_info": {"spend": 1, "max_budget": None},
                            "keys": [{}, {}], "teams": []})
    assert user is not None and (user.spend, user.max_budget, user.keys) == (1.0, None, 2)
    models = parse_model_info({"data": [
        {"model_name": "lbl/llama", "litellm_params": {"model": "openai/llama"},
         "model_info": {"input_cost_per_token": 0, "output_cost_per_token": 0.0}},
        {"model_name": "anthropic/claude-sonnet",
         "litellm_params": {"model": "anthropic/claude-sonnet-4-20250514"},
         "model_info": {"input_cost_per_token": 3e-6, "output_cost_per_token": 1.5e-5,
                        "supports_vision": True, "max_input_tokens": 200000}},
        {"model_name": "lbl/llama", "litellm_params": {"model": "second-deployment"}},
    ]})
    assert models is not None and [m.name for m in models] == ["lbl/llama",
                                                               "anthropic/claude-sonnet"]
    assert models[0].free is True and models[1].free is False
    assert models[1].price_per_million() == pytest.approx((3.0, 15.0))
    assert alias_target(models[1]) == "anthropic/claude-sonnet-4-20250514"
    assert alias_target(models[0]) is None
    listed = parse_model_list({"data": [{"id": "a"}, {"id": "a"}, {"nope": 1}, "x"]})
    assert listed is not None and [m.name for m in listed] == ["a"]


@pytest.mark.parametrize(("name", "dated"), [
    ("anthropic/claude-sonnet-4-20250514", True), ("openai/gpt-4o-2024-08-06", True),
    ("bedrock/anthropic.claude-3-5-sonnet-20240620-v1:0", True), ("lbl/llama", False),
    ("anthropic/claude-sonnet", False), ("openai/gpt-4o", False),
])
def test_dated_model_names(name: str, dated: bool) -> None:
    assert is_dated(name) is dated


def test_unknown_prices_are_not_free() -> None:
    assert ModelEntry("x").free is None
    assert ModelEntry("x", input_cost_per_token=0.0).free is None
    assert ModelEntry("x", input_cost_per_token=0.0, output_cost_per_token=1e-6).free is False


def test_stream_and_cost_and_retry_after() -> None:
    body = b'data: {"choices":[{"delta":{"content":"O"}}]}\n\ndata: {"choices":[]}\n\n' \
           b"data: not json\n\ndata: [DONE]\n\n"
    assert parse_stream(body) == (2, None)
    chunks, error = parse_stream(b'data: {"error": {"message": "Budget has been exceeded! '
                                 b'Current cost: 2, Max budget: 1"}}\n\n')
    assert chunks == 0 and error is not None and error.kind is ErrorKind.BUDGET_EXCEEDED
    assert parse_cost({"cost": 0.0012}) == 0.0012
    assert parse_cost({"cost": "NaN"}) is None and parse_cost([1]) is None
    assert retry_after_seconds({"retry-after": "17"}) == 17.0
    assert retry_after_seconds({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}) is None


def test_numbers_and_dates_reject_nonsense() -> None:
    assert as_number(True) is None and as_number("inf") is None and as_number("1e3") == 1000.0
    assert as_datetime("not a date") is None and as_datetime(1e300) is None
    assert as_datetime("2026-01-01") == datetime(2026, 1, 1, tzinfo=timezone.utc)


# ── any JSON from the network must classify without raising ─────────────────

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40),
    lambda children: st.lists(children, max_size=5)
    | st.dictionaries(
        st.sampled_from(["error", "message", "type", "code", "detail", "info", "user_info",
                         "data", "model_name", "litellm_params", "model_info", "model",
                         "expires", "spend", "max_budget", "models", "cost", "id", "keys",
                         "budget_reset_at", "created_at", "input_cost_per_token",
                         "output_cost_per_token", "litellm_budget_table", "status"])
        | st.text(max_size=10),
        children, max_size=6),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(status=st.one_of(st.none(), st.integers(-5, 999)), body=json_values,
       text=st.text(max_size=80))
def test_any_json_classifies_without_raising(status: int | None, body: object,
                                             text: str) -> None:
    error = classify_error(status, body, text)
    assert isinstance(error.kind, ErrorKind)
    assert isinstance(error.said, str)


@settings(max_examples=300, deadline=None)
@given(body=json_values)
def test_any_json_parses_without_raising(body: object) -> None:
    for parse in (parse_key_info, parse_user_info, parse_model_info, parse_model_list,
                  parse_cost):
        parse(body)
    models = parse_model_info({"data": [body, {"model_name": "m", "model_info": body,
                                               "litellm_params": body}]})
    assert models is not None
    for entry in models:
        _ = entry.free, entry.price_per_million(), alias_target(entry)
    info = parse_key_info({"info": body if isinstance(body, dict) else {"expires": body}})
    assert info is not None


@settings(max_examples=200, deadline=None)
@given(payload=json_values)
def test_any_stream_event_parses_without_raising(payload: object) -> None:
    body = f"data: {json.dumps(payload)}\n\n".encode()
    chunks, _ = parse_stream(body)
    assert chunks >= 0


# ── which rate limit a 429 names ────────────────────────────────────────────

V1 = ("LiteLLM Rate Limit Handler for rate limit type = key. Max parallel request limit reached. "
      "current rpm: {rpm}, rpm limit: 10, current tpm: {tpm}, tpm limit: 1000, current "
      "max_parallel_requests: {par}, max_parallel_requests: 5")


@pytest.mark.parametrize(
    ("message", "headers", "limit", "scope", "allowed", "resets"),
    [
        ("Rate limit exceeded for api_key: 5f1c. Limit type: max_parallel_requests. Current "
         "limit: 5, Remaining: 0. Limit resets at: 2026-12-01 16:20:00 UTC",
         {"retry-after": "60"}, "parallel_requests", "api_key", 5, "2026-12-01 16:20:00 UTC"),
        ("Rate limit exceeded for team: t1. Limit type: tokens. Current limit: 9000, Remaining: 0. "
         "Limit resets at: 2026-12-01 16:21:00 UTC", {}, "tpm", "team", 9000,
         "2026-12-01 16:21:00 UTC"),
        ("Rate limit exceeded for user: u. Limit type: requests. Current limit: 3, Remaining: 0.",
         {"reset_at": "2026-12-01 16:22:00 UTC"}, "rpm", "user", 3, "2026-12-01 16:22:00 UTC"),
        ("Rate limit exceeded", {"rate_limit_type": "max_parallel_requests"}, "parallel_requests",
         None, None, None),
        (V1.format(rpm=2, tpm=10, par=5), {}, "parallel_requests", "key", 5, None),
        (V1.format(rpm=2, tpm=1000, par=1), {}, "tpm", "key", 1000, None),
        (V1.format(rpm=10, tpm=10, par=1), {}, "rpm", "key", 10, None),
        ("Max parallel request limit reached", {}, "parallel_requests", None, None, None),
        ("litellm.RateLimitError: AnthropicException - overloaded", {}, "upstream", None, None,
         None),
        ("Too many requests", {}, "unknown", None, None, None),
    ],
)
def test_rate_limits_name_the_limit_whose_it_is_and_when_it_resets(
        message: str, headers: dict[str, str], limit: str, scope: str | None,
        allowed: int | None, resets: str | None) -> None:
    found = parse_rate_limit(message, headers)
    assert (found.limit, found.scope, found.allowed, found.resets_at) == (
        limit, scope, allowed, resets)


def test_rate_limit_words() -> None:
    one = parse_rate_limit("Rate limit exceeded for api_key: k. Limit type: requests. Current "
                           "limit: 1, Remaining: 0. Limit resets at: 2026-12-01 16:20:00 UTC",
                           {"retry-after": "60"})
    assert one.describe() == "the key's limit of 1 request per minute"
    assert one.when() == "; it resets at 2026-12-01 16:20:00 UTC (retry after 60 s)"
    assert parse_rate_limit("", {"retry-after": "7"}).when() == "; retry after 7 s"
    assert parse_rate_limit("", {}).when() == ""
    assert parse_rate_limit("litellm.RateLimitError: x").describe() == (
        "the provider behind the gateway is rate limiting")


@given(message=st.one_of(st.text(max_size=200), st.sampled_from([
           V1, "Rate limit exceeded for : . Limit type: . Current limit: 99999999999999999999",
           "Limit resets at: 9999-99-99 99:99:99 UTC"])),
       headers=st.dictionaries(st.sampled_from(["retry-after", "rate_limit_type", "reset_at", "x"]),
                               st.text(max_size=40)))
def test_any_rate_limit_answer_parses_without_raising(message: str,
                                                      headers: dict[str, str]) -> None:
    found = parse_rate_limit(message, headers)
    assert found.limit in ("parallel_requests", "rpm", "tpm", "upstream", "unknown")
    assert isinstance(found.describe(), str) and isinstance(found.when(), str)
