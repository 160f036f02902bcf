"""`auth`: is the key valid at this gateway, and whose is it?

``GET /key/info`` with the key answers alias, owner, expiry and restrictions.
When the gateway cannot say (no database, an old or locked-down LiteLLM), the
key is tried on ``GET /v1/models`` instead, and the result says so.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from cborg_doctor.api import Check, Code, Finding, Outcome, RunContext, Severity
from cborg_doctor.cborg import KEY_PAGE, length_hint
from cborg_doctor.facts import AUTH_ERRORS, KEY_INFO
from cborg_doctor.probes import proxy
from cborg_doctor.probes.gatewayanswer import ErrorKind, GatewayError, KeyInfo, as_datetime, parse_key_info

from .account import day, days_until, expired_on, tidy_times
from .gate import IP_NOT_ALLOWED, ip_not_allowed
from .request import Reply, Window, call

EXPIRY_WARNING_DAYS = 14
KEY_LIFETIME_DAYS = 365  # CBorg keys expire one year after they are made

KEY_INVALID = Code(
    "KEY_INVALID",
    Severity.FAIL,
    "The gateway at {base_url} does not accept the key {fingerprint} ({said}){length_hint}.",
    fix=(
        "A damaged copy is the most common cause: whitespace, a line break or quotes around "
        "the key, or only part of it copied.{shape_hint} Copy it again from " + KEY_PAGE + ".",
        "The key may have been revoked or regenerated: the key page shows the current one.",
        "The key may belong to another gateway (an OpenAI key, or a key for a different "
        "LiteLLM): check that it is your CBorg key and that the base URL is {base_url}.",
    ),
    explain="LiteLLM answers 401 with 'Invalid proxy server token passed' or 'Invalid API key "
    "provided' (type token_not_found_in_db) for a key it does not know.",
)
KEY_EXPIRED = Code(
    "KEY_EXPIRED",
    Severity.FAIL,
    "The key {fingerprint} expired{when} ({said}).",
    fix=(
        "Generate a new key at " + KEY_PAGE + " (CBorg keys expire one year after they are "
        "made) and replace the old one wherever it is set.",
    ),
    explain="LiteLLM refuses an expired key with 'Authentication Error - Expired Key. Key "
    "Expiry time ...' (type expired_key; status 400 in older versions, 401 in newer).",
)
KEY_BLOCKED = Code(
    "KEY_BLOCKED",
    Severity.FAIL,
    "The key {fingerprint} is blocked at the gateway ({said}).",
    fix=(
        "A blocked key stays blocked until an administrator unblocks it: email "
        "scienceit@lbl.gov with the key's alias or fingerprint (never the key itself).",
        "Or generate a new key at " + KEY_PAGE + ".",
    ),
    explain="LiteLLM answers 'Key is blocked. Update via /key/unblock if you're an admin.' "
    "(401) for a key an administrator blocked.",
)
AUTH_UNVERIFIED = Code(
    "AUTH_UNVERIFIED",
    Severity.WARN,
    "The gateway could not show the key's details (GET /key/info: {said}); {fallback}.",
    fix=(
        "Nothing to do if your requests work. Otherwise see {base_url}/key/info in a "
        "browser session, or ask scienceit@lbl.gov about the key.",
    ),
    explain="/key/info needs LiteLLM's database; without it (or on a gateway that hides the "
    "route) the doctor tries the key on GET /v1/models, which proves the key is accepted but "
    "says nothing about its expiry or budget.",
    also=((Severity.INFO, 'when GET /v1/models accepts the key, so only its details are unknown'),),
)
KEY_EXPIRES_SOON = Code(
    "KEY_EXPIRES_SOON",
    Severity.WARN,
    "The key {fingerprint} expires on {date}{estimate}, in {days} days.",
    fix=(
        "Generate a new key at " + KEY_PAGE + " before then and replace the old one in "
        "your environment and tools.",
    ),
    explain="CBorg keys expire one year after they are made; the doctor warns 14 days ahead.",
)
KEY_RESTRICTED = Code(
    "KEY_RESTRICTED",
    Severity.INFO,
    "The key may only call these models: {models}.",
    fix=("Ask scienceit@lbl.gov if you need another model on this key.",),
    explain="/key/info lists the models a key is limited to; an empty list means all models.",
)

CODES = (KEY_INVALID, KEY_EXPIRED, KEY_BLOCKED, IP_NOT_ALLOWED, AUTH_UNVERIFIED,
         KEY_EXPIRES_SOON, KEY_RESTRICTED)

UNRESTRICTED = frozenset({"all-proxy-models", "all-team-models", "*"})


def _shape_hint(ctx: RunContext) -> str:
    result = ctx.result("config.key")
    if result is not None and any(f.code == "KEY_MALFORMED" for f in result.findings):
        return " The config.key check found such a problem above."
    return ""


def _length_hint(ctx: RunContext) -> str:
    """The key-length heuristic, said only once the gateway has rejected the key."""
    hint = length_hint(ctx.key.reveal()) if ctx.key is not None else ""
    return f"; {hint}" if hint else ""


def error_finding(ctx: RunContext, error: GatewayError) -> Finding | None:
    """The auth finding for an error answer, or None when it says nothing about the key."""
    key = ctx.key
    facts = {"fingerprint": key.fingerprint if key else "…", "said": error.said,
             "base_url": ctx.target.base_url}
    data = {"status": error.status, "type": error.type}
    if error.kind in (ErrorKind.KEY_INVALID, ErrorKind.NO_KEY):
        return KEY_INVALID.finding(shape_hint=_shape_hint(ctx), length_hint=_length_hint(ctx),
                                   data=data, **facts)
    if error.kind is ErrorKind.KEY_EXPIRED:
        when = as_datetime(error.expires) if error.expires else None
        text = expired_on(when) if when else ""
        return KEY_EXPIRED.finding(when=text, data=data, **{**facts, "said": tidy_times(error.said)})
    if error.kind is ErrorKind.KEY_BLOCKED:
        return KEY_BLOCKED.finding(data=data, **facts)
    if error.kind in (ErrorKind.IP_NOT_ALLOWED, ErrorKind.FORBIDDEN):
        return ip_not_allowed(ctx, error)
    return None


def refused(error: GatewayError) -> str:
    """A short summary line; the finding carries the gateway's full words."""
    what = {ErrorKind.KEY_EXPIRED: "key expired", ErrorKind.KEY_BLOCKED: "key blocked",
            ErrorKind.IP_NOT_ALLOWED: "this network is not allowed",
            ErrorKind.FORBIDDEN: "forbidden (likely the IP gate)"}.get(error.kind, "key rejected")
    return f"{what} (HTTP {error.status})" if error.status is not None else what


def judge_key_info(ctx: RunContext, info: KeyInfo, now: datetime) -> tuple[str, list[Finding]]:
    """Summary and findings for a key the gateway described."""
    key = ctx.key
    fingerprint = key.fingerprint if key else "…"
    owner = info.alias or "key"
    if info.user_id:
        owner += f" ({info.user_id})"
    findings: list[Finding] = []
    status = (info.status or "").lower()
    said = "GET /key/info"
    if info.blocked is True or status in ("blocked", "revoked"):
        findings.append(KEY_BLOCKED.finding(fingerprint=fingerprint,
                                            said=f"{said} says it is {status or 'blocked'}"))
        return f"{owner}: blocked", findings
    if status == "deleted":
        findings.append(KEY_INVALID.finding(
            fingerprint=fingerprint, said=f"{said} says it was deleted",
            base_url=ctx.target.base_url, shape_hint="", length_hint=""))
        return f"{owner}: deleted", findings
    expires, estimate = info.expires, ""
    if expires is None and info.created_at is not None:
        # No expiry recorded: CBorg's one-year rule gives an estimate to warn about, never
        # a failure (the gateway just accepted the key).
        estimated = info.created_at + timedelta(days=KEY_LIFETIME_DAYS)
        if estimated > now:
            expires, estimate = estimated, " (estimated: keys last one year)"
    if expires is not None and not estimate and (status == "expired" or expires <= now):
        findings.append(KEY_EXPIRED.finding(fingerprint=fingerprint, when=expired_on(expires, now),
                                            said=f"{said} shows the expiry date"))
        return f"{owner}: expired {day(expires)}", findings
    summary = f"{owner}, valid"
    if expires is not None:
        left = days_until(expires, now)
        summary += f" until {day(expires)}{estimate}"
        if left <= EXPIRY_WARNING_DAYS:
            findings.append(KEY_EXPIRES_SOON.finding(
                fingerprint=fingerprint, date=day(expires), estimate=estimate,
                days=max(int(left), 0)))
    restricted = [m for m in info.models if m not in UNRESTRICTED]
    if restricted:
        shown = ", ".join(restricted[:12]) + (" …" if len(restricted) > 12 else "")
        findings.append(KEY_RESTRICTED.finding(models=shown, data={"models": restricted}))
    return summary, findings


def _fallback(ctx: RunContext, deadline: Window, first: Reply | None) -> Outcome:
    """/key/info could not tell: try the key on /v1/models and say that is what we did."""
    said = first.said() if first is not None else "no time left to ask"
    facts = {"said": said, "base_url": ctx.target.base_url}
    reply = call(ctx, deadline, "GET", "/v1/models")
    data = {"key_info": None, "verified_by": None, "key_info_answer": said}
    if reply is None or reply.network_error:
        why = reply.said() if reply is not None else "no time left"
        finding = AUTH_UNVERIFIED.finding(
            fallback=f"GET /v1/models did not answer either ({why}), so the key is unchecked",
            **facts)
        return Outcome("key not verified", [finding], data)
    if reply.ok:
        finding = AUTH_UNVERIFIED.finding(
            fallback="GET /v1/models accepted the key, so it is valid here, but its owner, "
            "expiry and budget are unknown",
            severity=Severity.INFO, **facts)
        data["verified_by"] = "GET /v1/models"
        return Outcome("key accepted by GET /v1/models (details unavailable)", [finding], data)
    error = reply.error
    found = None
    if error is not None:
        ctx.share(AUTH_ERRORS, [*(ctx.fact(AUTH_ERRORS) or ()), error])
        found = error_finding(ctx, error)
        if error.kind is ErrorKind.NO_DB and (error.type == "no_db_connection"
                                              or error.status == 400):
            # Stock LiteLLM without a database knows only its master key: its auth layer
            # answers any other key with 400 "No connected db." (type no_db_connection) on
            # every route, so the user's SDK fails too. (A 500 "Database not connected" is
            # a management route failing, which says nothing about the key.)
            found = KEY_INVALID.finding(
                fingerprint=ctx.key.fingerprint if ctx.key else "…",
                said=f"GET /v1/models: {error.said}; a LiteLLM without a database accepts "
                "only its master key", base_url=ctx.target.base_url,
                shape_hint=_shape_hint(ctx), length_hint=_length_hint(ctx),
                data={"status": error.status, "type": error.type})
    if found is not None and error is not None:
        return Outcome(refused(error), [found], data)
    finding = AUTH_UNVERIFIED.finding(
        fallback=f"GET /v1/models answered {reply.said()}, so the key is unchecked", **facts)
    return Outcome("key not verified", [finding], data)


def run(ctx: RunContext) -> Outcome:
    deadline = Window(ctx)
    ctx.share(KEY_INFO, None)
    ctx.share(AUTH_ERRORS, [])
    if not ctx.target.key_may_be_sent:
        reason = (f"the key is not sent to {ctx.target.base_url} (plain http to a host that "
                  "is not this machine); see config.base_url")
        return Outcome(reason, skipped_because=reason)
    route = proxy.decision(ctx)
    if route.url and ctx.target.scheme == "http":
        # The probe withholds the key here; without it any 200 would be a false "accepted".
        reason = (f"the key is not sent to {ctx.target.base_url} through the proxy {route.shown} "
                  "(plain http would show it to the proxy); use https, or add the host to NO_PROXY")
        return Outcome(reason, skipped_because=reason)
    reply = call(ctx, deadline, "GET", "/key/info", share=0.5)
    if reply is None or reply.network_error:
        return _fallback(ctx, deadline, reply)
    if reply.error is not None:
        ctx.share(AUTH_ERRORS, [reply.error])
        found = error_finding(ctx, reply.error)
        if found is not None:
            return Outcome(refused(reply.error), [found],
                           {"key_info": None, "status": reply.result.status})
        return _fallback(ctx, deadline, reply)
    info = parse_key_info(reply.body)
    if info is None:
        return _fallback(ctx, deadline, reply)
    ctx.share(KEY_INFO, info)
    summary, findings = judge_key_info(ctx, info, datetime.now(timezone.utc))
    data = {
        "verified_by": "GET /key/info",
        "key_info": {
            "alias": info.alias, "user_id": info.user_id, "team_id": info.team_id,
            "expires": info.expires.isoformat() if info.expires else None,
            "created_at": info.created_at.isoformat() if info.created_at else None,
            "models": list(info.models), "blocked": info.blocked, "status": info.status,
            "rpm_limit": info.rpm_limit, "tpm_limit": info.tpm_limit,
            "max_parallel_requests": info.max_parallel_requests,
        },
    }
    return Outcome(summary, findings, data)


CHECK = Check(
    id="auth",
    title="Key at the gateway",
    run=run,
    needs=("http", "config.key"),
    uses=("egress",),  # IP_NOT_ALLOWED names the addresses egress found (models, live follow auth)
    codes=CODES,
    order=130,
    description="the key is valid here: owner, expiry, restrictions",
)
