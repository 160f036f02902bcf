"""`live` (only with ``--live``): one real streamed completion, then one tiny plain one.

The streamed call measures time to first token and to the end; the plain call
reads ``x-litellm-response-cost`` (LiteLLM does not put it on streamed answers).
Before the calls the cost endpoint is asked for an estimate, where the gateway
has one (``/cost/calculate`` per the CBorg FAQ, ``/spend/calculate`` in stock
LiteLLM, ``/cost/estimate`` in newer versions).
"""

from __future__ import annotations

from typing import Any

from cborg_doctor.api import Check, Code, Finding, Outcome, RunContext, Severity
from cborg_doctor.facts import CATALOGUE, KEY_INFO
from cborg_doctor.probes.cloudflare import CloudflareAnswer, classify_cloudflare
from cborg_doctor.probes.gatewayanswer import (
    ErrorKind,
    GatewayError,
    ModelEntry,
    RateLimit,
    as_number,
    is_auth_kind,
    parse_cost,
    parse_rate_limit,
    parse_stream,
    retry_after_seconds,
)
from cborg_doctor.timeouts import Timeouts

from .account import BUDGET_EXCEEDED, budget_exceeded, money
from .auth import KEY_BLOCKED, KEY_EXPIRED, KEY_INVALID, UNRESTRICTED, error_finding
from .gate import IP_NOT_ALLOWED
from .models import lookup
from .request import Reply, Window, call

PROMPT_TEXT = "Reply with the single word: OK"


def prompt() -> list[dict[str, str]]:
    """The one-message prompt, fresh for each request body."""
    return [{"role": "user", "content": PROMPT_TEXT}]
STREAM_TOKENS = 5
# openai-python honours retry-after up to this many seconds (60 in 1.x; MAX_RETRY_AFTER_DELAY
# in openai/_constants.py is 120 in newer versions): advise for the older, stricter one.
SDK_RETRY_AFTER_MAX_S = 60
COST_PATHS = ("/cost/calculate", "/spend/calculate", "/cost/estimate")
PREFERRED_FREE = ("lbl/llama", "lbl/cborg-chat")

LIVE_OK = Code(
    "LIVE_OK",
    Severity.INFO,
    "{model} answered: first token after {ttft}, complete after {total}; {cost}.",
    explain="One streamed chat completion of a few tokens worked end to end.",
)
LIVE_TIMEOUT = Code(
    "LIVE_TIMEOUT",
    Severity.FAIL,
    "{model} did not finish answering within {seconds:g} s ({detail}). With its defaults the OpenAI "
    "Python client would have waited up to 600 s and then retried twice.",
    fix=(
        "Set a timeout in your client, e.g. OpenAI(base_url=..., timeout=60, max_retries=2), "
        "so a stalled request fails fast instead of hanging for ten minutes or more.",
        "Use stream=True for long answers: tokens arrive as they are generated, and a slow "
        "model is not mistaken for a dead one.",
        "Try again later or another model (the upstream model may be overloaded); run the "
        "doctor with a larger --timeout to measure how long it really takes.",
    ),
    explain="The gateway accepted the connection but the model produced nothing within the "
    "doctor's --timeout.",
)
LIVE_RATE_LIMITED = Code(
    "LIVE_RATE_LIMITED",
    Severity.WARN,
    "{model} is rate limited: {limit} ({said}){retry}.",
    fix=("{limit_fix}", "{retry_fix}"),
    explain="HTTP 429: the gateway's limit on parallel requests (CBorg limits parallel requests "
    "to its on-prem models), requests or tokens per minute for the key, user or team; the "
    "provider behind the gateway; or Cloudflare's rate limit for the address (error 1015). "
    "A slowdown rather than a breakage: clients that retry after the retry-after delay get "
    "through, so it is a warning.",
)
LIVE_FAILED = Code(
    "LIVE_FAILED",
    Severity.FAIL,
    "A chat completion with {model} failed: {said}.",
    fix=(
        "The gateway's own words are above; if they point at the upstream model, try another "
        "model or try again later.",
        "If it persists, email scienceit@lbl.gov with this report.",
    ),
    explain="The request reached the gateway, which answered with an error that is not about "
    "the key, the budget or the rate limit.",
)
COST_HEADER_MISSING = Code(
    "COST_HEADER_MISSING",
    Severity.WARN,
    "The answer from {model} carried no x-litellm-response-cost header.",
    fix=(
        "Cost tracking in your own code cannot rely on this header here; read spend from "
        "GET /key/info instead.",
    ),
    explain="LiteLLM sets x-litellm-response-cost on non-streamed answers when the cost is "
    "above zero; streamed answers never carry it.",
)
CODES = (LIVE_OK, LIVE_TIMEOUT, LIVE_RATE_LIMITED, LIVE_FAILED, COST_HEADER_MISSING)


def choose_model(ctx: RunContext, catalogue: list[ModelEntry]) -> tuple[str, ModelEntry | None]:
    """--model if given, else a free chat model (lbl/llama first) the key may call."""
    if ctx.options.model:
        return ctx.options.model, lookup(ctx.options.model, catalogue)
    key_info = ctx.fact(KEY_INFO)
    allowed = {m for m in getattr(key_info, "models", ()) if m not in UNRESTRICTED}
    if allowed and any(m.name in allowed for m in catalogue):
        catalogue = [m for m in catalogue if m.name in allowed]
    for name in PREFERRED_FREE:
        entry = lookup(name, catalogue)
        if entry is not None and entry.free is not False:
            return entry.name, entry
    for entry in catalogue:
        if entry.free is True and entry.mode in (None, "chat"):
            return entry.name, entry
    for entry in catalogue:
        if entry.mode in (None, "chat"):
            return entry.name, entry
    return PREFERRED_FREE[0], None


def estimate(ctx: RunContext, deadline: Window, model: str) -> tuple[float | None, str | None]:
    """(cost, path) from the first cost endpoint that answers."""
    for path in COST_PATHS:
        reply = call(ctx, deadline, "POST", path, json_body={"model": model, "messages": prompt()},
                     share=0.15)
        if reply is None:
            break
        if reply.ok:
            cost = parse_cost(reply.body)
            if cost is not None:
                return cost, path
    return None, None


def retry_advice(wait: float | None) -> str:
    """How to retry, honouring retry-after as far as the OpenAI SDK itself does."""
    if wait is None:
        return ("Retry with exponential backoff: the OpenAI client does this itself "
                "(max_retries, 2 by default).")
    if wait <= SDK_RETRY_AFTER_MAX_S:
        return (f"Retry after {wait:g} s: the OpenAI client honours retry-after by itself "
                "(max_retries, 2 by default), so a script with default settings gets through, "
                "only slower.")
    return (f"Wait {wait:g} s before retrying: the OpenAI Python client honours a retry-after "
            f"only up to {SDK_RETRY_AFTER_MAX_S} s (older versions; 120 s in newer ones), so "
            "its own retries may come too early; catch openai.RateLimitError and sleep.")


def limit_advice(limit: RateLimit) -> str:
    """The one change that keeps requests under the limit that was hit."""
    allowed = f"{limit.allowed:,}" if limit.allowed is not None else "fewer"
    return {
        "parallel_requests": f"Send at most {allowed} requests at a time with this key: CBorg "
        "limits parallel requests to its on-prem (lbl/*) models. Queue them (cborg-client's "
        "proxy does) or bound your thread/async pool.",
        "rpm": f"Send at most {allowed} requests a minute (e.g. with the `ratelimit` module, "
        "as CBorg's examples suggest), or spread the work out.",
        "tpm": f"Send at most {allowed} tokens a minute: shorter prompts, a smaller "
        "max_tokens, or fewer requests.",
        "upstream": "The provider behind the gateway is limiting: try again later or use "
        "another model.",
    }.get(limit.limit, "Send fewer requests at a time and per minute.")


def rate_limited(model: str, error: GatewayError, reply: Reply,
                 cf: CloudflareAnswer | None) -> Finding:
    """LIVE_RATE_LIMITED naming the limit, when it resets, and retry advice that fits it."""
    if cf is not None:
        wait = retry_after_seconds(reply.result.headers)
        return LIVE_RATE_LIMITED.finding(
            model=model, limit="Cloudflare's rate limit for this address",
            said=f"{cf.what}, Ray ID {cf.ray}", retry=f"; retry after {wait:g} s" if wait else "",
            limit_fix=cf.remedy, retry_fix=retry_advice(wait),
            data={"retry_after": wait, "limit": "cloudflare"})
    limit = parse_rate_limit(error.message, reply.result.headers)
    return LIVE_RATE_LIMITED.finding(
        model=model, limit=limit.describe(), said=error.said, retry=limit.when(),
        limit_fix=limit_advice(limit), retry_fix=retry_advice(limit.retry_after),
        data={"retry_after": limit.retry_after, "limit": limit.limit, "scope": limit.scope,
              "allowed": limit.allowed, "resets_at": limit.resets_at})


def failure(ctx: RunContext, model: str, error: GatewayError, reply: Reply,
            deadline: Window) -> Finding:
    """The finding for a failed completion: the root cause's own code where there is one."""
    if error.kind is ErrorKind.BUDGET_EXCEEDED:
        entry = lookup(model, ctx.fact(CATALOGUE) or [])
        if entry is not None and entry.free is True:
            # The CBorg FAQ: once the spend limit is reached, even free models stop working.
            return budget_exceeded(ctx, error, f"a completion with the free model {model}",
                                   note="; even free models stop working once the budget is "
                                   "reached")
        return budget_exceeded(ctx, error, f"a completion with {model}")
    cf = classify_cloudflare(reply.result.status, reply.result.headers, reply.result.text,
                             litellm=error.litellm)
    if error.kind is ErrorKind.RATE_LIMITED and (cf is None or cf.kind == "rate_limited"):
        return rate_limited(model, error, reply, cf)
    if cf is not None:  # Cloudflare's own answer on the way to the model
        return LIVE_FAILED.finding(model=model, said=f"{cf.what} (HTTP {cf.status}, Ray ID "
                                   f"{cf.ray})", extra_fix=(cf.remedy,),
                                   data={"status": cf.status, "cloudflare": cf.kind})
    if is_auth_kind(error.kind) or error.kind in (ErrorKind.IP_NOT_ALLOWED, ErrorKind.FORBIDDEN):
        found = error_finding(ctx, error)
        if found is not None:
            return found
    return LIVE_FAILED.finding(model=model, said=error.said,
                               data={"status": error.status, "type": error.type})


def _ms(value: Any) -> str:
    number = as_number(value)
    return f"{number:.0f} ms" if number is not None else "unknown"


def run(ctx: RunContext) -> Outcome:
    deadline = Window(ctx)
    catalogue = ctx.fact(CATALOGUE) or []
    model, entry = choose_model(ctx, catalogue)
    findings: list[Finding] = []
    data: dict[str, Any] = {"model": model}
    cost_estimate, cost_path = (None, None)
    if entry is None or entry.free is not True:
        cost_estimate, cost_path = estimate(ctx, deadline, model)
        data["estimate"] = {"cost": cost_estimate, "endpoint": cost_path}
    body = {"model": model, "messages": prompt(), "max_tokens": STREAM_TOKENS, "stream": True}
    streamed = call(ctx, deadline, "POST", ctx.target.sdk_path("chat/completions"), json_body=body,
                    stream=True)
    if streamed is None:
        return Outcome("no time left for the call", [LIVE_TIMEOUT.finding(
            model=model, seconds=ctx.timeout, detail="the check's time bound was used up")], data)
    result = streamed.result
    if result.error in ("timeout", "too_slow") or (result.status is None and not result.body):
        if result.error in ("timeout", "too_slow"):
            limits = Timeouts.from_option(streamed.timeout)  # the request's own limits
            limit = limits.request if result.error == "too_slow" else limits.operation
            return Outcome("timed out", [LIVE_TIMEOUT.finding(
                model=model, seconds=round(limit, 1), detail=result.detail or result.error)],
                data)
        return Outcome("no answer", [LIVE_FAILED.finding(model=model, said=streamed.said())],
                       data)
    if streamed.error is not None:
        return Outcome(f"failed: {streamed.error.said}",
                       [failure(ctx, model, streamed.error, streamed, deadline)], data)
    chunks, in_stream = parse_stream(result.body)
    if in_stream is not None:
        return Outcome(f"failed: {in_stream.said}",
                       [failure(ctx, model, in_stream, streamed, deadline)], data)
    if result.error is not None:  # the connection broke off mid-stream
        return Outcome("stream broke off", [LIVE_FAILED.finding(
            model=model, said=f"the stream broke off after {chunks} chunks ({streamed.said()})")],
            data)
    if chunks == 0:
        text = result.text[:200]
        return Outcome("no tokens", [LIVE_FAILED.finding(
            model=model, said=f"HTTP {result.status} without any streamed tokens: {text!r}")],
            data)
    timings = result.timings
    data["timings_ms"] = {"first_token": timings.get("first_byte"), "total": timings.get("total")}
    data["model_id"] = result.headers.get("x-litellm-model-id")
    cost_text, cost = _plain_call(ctx, deadline, model, entry, findings)
    data["cost"] = cost
    if cost_estimate is not None:
        cost_text += f"; {cost_path} estimated {money(cost_estimate)} for the prompt"
    spend = as_number(result.headers.get("x-litellm-key-spend"))
    cap = as_number(result.headers.get("x-litellm-key-max-budget"))
    data["key_spend"], data["key_max_budget"] = spend, cap
    if spend is not None:  # LiteLLM's own count, even where /key/info is closed
        cost_text += f"; the key has spent {money(spend)}" + (
            f" of {money(cap)}" if cap is not None else " (no cap)")
    findings.insert(0, LIVE_OK.finding(
        model=model, ttft=_ms(timings.get("first_byte")), total=_ms(timings.get("total")),
        cost=cost_text))
    summary = (f"{model}: first token {_ms(timings.get('first_byte'))}, "
               f"total {_ms(timings.get('total'))}")
    if cost is not None:
        summary += f", cost {money(cost)}"
    return Outcome(summary, findings, data)


def _plain_call(ctx: RunContext, deadline: Window, model: str, entry: ModelEntry | None,
                findings: list[Finding]) -> tuple[str, float | None]:
    """The 1-token non-streamed call: the cost header, as text for LIVE_OK."""
    body = {"model": model, "messages": prompt(), "max_tokens": 1}
    reply = call(ctx, deadline, "POST", ctx.target.sdk_path("chat/completions"), json_body=body)
    if reply is None or not reply.ok:
        why = reply.said() if reply is not None else "no time left"
        return f"the cost of a plain call is unknown ({why})", None
    cost = as_number(reply.result.headers.get("x-litellm-response-cost"))
    if cost is not None:
        return f"a 1-token call cost {money(cost)} (x-litellm-response-cost)", cost
    if entry is not None and entry.free is True:
        return "free model: no cost header (LiteLLM omits it when the cost is zero)", 0.0
    findings.append(COST_HEADER_MISSING.finding(model=model))
    return "no cost header", None


CHECK = Check(
    id="live",
    title="Live completion",
    run=run,
    needs=("models",),
    codes=(*CODES, BUDGET_EXCEEDED, IP_NOT_ALLOWED, KEY_INVALID, KEY_EXPIRED, KEY_BLOCKED),
    order=160,
    opt_in="live",
    description="one streamed completion: time to first token, cost header (--live)",
)
