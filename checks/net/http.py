"""`http`: one keyless request; is the answer the gateway's, or something in the way?

LiteLLM answers ``GET /health/liveliness`` with ``"I'm alive!"``; CBorg sits behind
Cloudflare, whose block pages, challenges and origin errors have their own
headers (``server: cloudflare``, ``cf-ray``, ``cf-mitigated``) and error codes.
Anything else that answers (a captive portal, a corporate block page, a redirect
elsewhere) is not the gateway. `classify()` is pure, for tests and plugins.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

from cborg_doctor.api import Cause, Check, Code, Finding, Outcome, RunContext, Severity
from cborg_doctor.probes import cloudflare, proxy
from cborg_doctor.probes.cloudflare import CloudflareAnswer, classify_cloudflare
from cborg_doctor.probes.http import HttpResult, request

from .proxied import HTTP_PROXY_AUTH, HTTP_PROXY_DENIED, auth_finding, denied_finding

PATH = "/health/liveliness"


def cloudflare_causes(keys: tuple[str, ...]) -> dict[str, Cause]:
    """The codes' per-cause fix steps, from the Cloudflare table (one source of truth)."""
    return {key: Cause(cloudflare.WHEN[key], (cloudflare.REMEDIES[key],)) for key in keys}

HTTP_BLOCKED = Code(
    "HTTP_BLOCKED",
    Severity.FAIL,
    "Cloudflare in front of {host} blocked the request: {what} (HTTP {status}, Ray ID {ray}).",
    causes=cloudflare_causes(("challenge", "1015", "1010", "1006", "1009", "block")),
    explain="Cloudflare answered instead of the gateway: a firewall rule (error 1020), a banned "
    "address (1006-1008) or region (1009), a blocked client signature (1010: default "
    "User-Agents such as Python-urllib), a rate limit (1015), or a browser challenge that API "
    "clients cannot pass. The fix shown is the one for the error found; the Ray ID lets "
    "scienceit@lbl.gov find the request in Cloudflare's logs.",
)
HTTP_SERVER_ERROR = Code(
    "HTTP_SERVER_ERROR",
    Severity.FAIL,
    "The gateway answered with a server error: HTTP {status} {what}.",
    causes={
        "gateway": Cause("the gateway itself answered with a 5xx", (
            "This is on the gateway's side: wait a few minutes and try again; if it lasts, "
            "email scienceit@lbl.gov with the time.",)),
        **cloudflare_causes(("tunnel_down", "origin_error", "origin_slow")),
    },
    explain="A 5xx answer: the gateway (LiteLLM) failed, or Cloudflare could not reach it: "
    "520 unreadable answer, 521 refused, 522/523 unreachable, 524 over Cloudflare's 100 s "
    "limit (stream instead), 525/526 TLS behind Cloudflare, 530 with error 1033 the tunnel "
    "to the gateway is down. None of these is the user's setup.",
)
HTTP_NOT_GATEWAY = Code(
    "HTTP_NOT_GATEWAY",
    Severity.FAIL,
    "Something other than the gateway answered at {url}: {what}.",
    fix=(
        "On a hotel, airport or guest network, open a browser and sign in first.",
        "A corporate proxy or firewall block page: ask IT to allow {host}.",
        "Check the base URL: the gateway is https://api.cborg.lbl.gov.",
    ),
    explain="The answer is not LiteLLM's nor Cloudflare's: a captive portal, a redirect to "
    "another host, a block page, or a different service on that address.",
)
HTTP_TIMEOUT = Code(
    "HTTP_TIMEOUT",
    Severity.FAIL,
    "The gateway {what} ({detail}).",
    fix=(
        "The connection works but answers are stuck: try again; if it lasts, email "
        "scienceit@lbl.gov.",
        "A proxy or firewall that holds responses causes this too: try another network.",
    ),
    explain="TCP and TLS work, but the HTTP answer never came, or its body kept trickling "
    "past the time bound.",
)
HTTP_FAILED = Code(
    "HTTP_FAILED",
    Severity.FAIL,
    "The request to {url} failed: {detail}.",
    fix=("Run again; if it persists, attach this report to an email to scienceit@lbl.gov.",),
    explain="The connection broke after TLS succeeded, for example a reset.",
)
CODES = (HTTP_BLOCKED, HTTP_PROXY_AUTH, HTTP_SERVER_ERROR, HTTP_NOT_GATEWAY, HTTP_TIMEOUT,
         HTTP_FAILED, HTTP_PROXY_DENIED)

_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.I | re.S)


@dataclass(frozen=True)
class Verdict:
    """What answered: `code` is None when it was the gateway."""

    code: Code | None
    facts: dict[str, Any] = field(default_factory=dict)
    answered_by: str = ""


def is_cloudflare(result: HttpResult) -> bool:
    return cloudflare.is_cloudflare(result.headers)


def ray_id(result: HttpResult) -> str:
    return cloudflare.ray_id(result.headers, result.text)


def page_title(result: HttpResult) -> str:
    found = _TITLE.search(result.text[:200_000])
    if not found:
        return ""
    return " ".join(html.unescape(found.group(1)).split())[:120]


def looks_like_litellm(result: HttpResult) -> bool:
    """LiteLLM/FastAPI answers: JSON bodies, x-litellm headers, the liveliness string."""
    if any(name.startswith("x-litellm") for name in result.headers):
        return True
    if "alive" in result.text[:200].lower():
        return True
    content_type = result.header("content-type").lower()
    return "json" in content_type and result.json() is not None


def _what(result: HttpResult, status: bool = True) -> str:
    parts = [f"HTTP {result.status}"] if status else []
    if result.header("server"):
        parts.append(f"server {result.header('server')!r}")
    title = page_title(result)
    if title:
        parts.append(f"page {title!r}")
    return ", ".join(parts)


def cloudflare_verdict(answer: CloudflareAnswer, result: HttpResult) -> Verdict:
    """Cloudflare's own answer as a finding: the gateway's trouble, or a block of this client."""
    if answer.gateway_side:
        return Verdict(HTTP_SERVER_ERROR, {
            "status": answer.status,
            "what": f"from Cloudflare: {answer.what} "  # the message names the HTTP status already
                    f"({_what(result, status=False)}, Ray ID {answer.ray})",
            "ray": answer.ray, "wait": answer.wait, "cloudflare": answer.kind,
            "cause": answer.cause,
        }, "Cloudflare")
    return Verdict(HTTP_BLOCKED, {"what": answer.what, "status": answer.status, "ray": answer.ray,
                                  "wait": answer.wait, "cloudflare": answer.kind,
                                  "cause": answer.cause},
                   "Cloudflare")


def classify(result: HttpResult, origin: str, host: str) -> Verdict:
    """Who answered, and what it means for the user (pure: no I/O)."""
    url = result.url
    if result.error in ("timeout", "too_slow"):
        what = ("kept sending its body past the time bound" if result.error == "too_slow"
                else "accepted the request but sent no answer in time")
        return Verdict(HTTP_TIMEOUT, {"what": what, "detail": result.detail})
    if result.error == "proxy" or (result.status == 407):
        if result.status == 407:
            return Verdict(HTTP_PROXY_AUTH, {"where": "the request" if result.error is None
                                             else "CONNECT"})
        return Verdict(HTTP_PROXY_DENIED, {"url": url, "what": result.detail, "host": host},
                       "the proxy")
    if result.error == "protocol":
        return Verdict(HTTP_NOT_GATEWAY, {
            "url": url, "host": host,
            "what": f"a server that does not speak HTTP correctly ({result.detail})"})
    if result.status is None:
        return Verdict(HTTP_FAILED, {"url": url, "detail": result.detail or result.error})
    status = result.status
    cloudflare = is_cloudflare(result)
    if cloudflare:
        answer = classify_cloudflare(status, result.headers, result.text,
                                     litellm=looks_like_litellm(result))
        if answer is not None:
            return cloudflare_verdict(answer, result)
    if status >= 500:
        details = _what(result, status=False)  # the message names the status already
        return Verdict(HTTP_SERVER_ERROR, {
            "status": status, "what": f"from the gateway ({details})" if details else "from the gateway",
            "cause": "gateway",
        })
    if 300 <= status < 400:
        location = result.header("location")
        target = urljoin(url, location) if location else ""
        parts = urlsplit(target)
        same = parts.scheme and f"{parts.scheme}://{parts.netloc}".lower() == origin.lower()
        if not same:
            return Verdict(HTTP_NOT_GATEWAY, {
                "url": url, "host": host,
                "what": f"a redirect (HTTP {status}) to {target or 'nowhere'}"})
        return Verdict(None, answered_by=f"the gateway (redirect to {parts.path})")
    if looks_like_litellm(result):
        via = "Cloudflare → LiteLLM" if cloudflare else "LiteLLM"
        return Verdict(None, answered_by=via)
    if cloudflare and status in (401, 403, 404):
        return Verdict(None, answered_by="Cloudflare-fronted gateway")
    return Verdict(HTTP_NOT_GATEWAY, {"url": url, "host": host, "what": _what(result)})


def timing_text(timings: dict[str, float]) -> str:
    names = (("dns", "DNS"), ("connect", "TCP"), ("tls", "TLS"), ("ttfb", "TTFB"),
             ("total", "total"))
    return ", ".join(f"{label} {timings[key]:.0f} ms" for key, label in names if key in timings)


def with_dns_time(ctx: RunContext, result: HttpResult) -> dict[str, float]:
    """The request's timings, with the dns check's lookup time when the request did none."""
    timings = dict(result.timings)
    dns = ctx.result("dns")
    looked_up = dns.data.get("primary", {}).get("ms") if dns is not None else None
    if "dns" not in timings and isinstance(looked_up, (int, float)):
        timings = {"dns": float(looked_up), **timings}
    return timings


def result_data(result: HttpResult) -> dict[str, Any]:
    keep = ("server", "content-type", "cf-ray", "cf-mitigated", "location", "date",
            "x-litellm-version")
    return {
        "url": result.url, "status": result.status, "address": result.address,
        "via_proxy": result.via_proxy, "error": result.error, "detail": result.detail,
        "timings": dict(result.timings), "http_version": result.http_version,
        "headers": {k: v for k, v in result.headers.items() if k in keep},
        "body_start": result.text[:300],
    }


def run(ctx: RunContext) -> Outcome:
    result = request(ctx, "GET", PATH, max_body=256 * 1024)
    verdict = classify(result, ctx.target.origin, ctx.target.host)
    data = result_data(result)
    timings = with_dns_time(ctx, result)
    data["timings"] = timings
    if verdict.code is None:
        return Outcome(f"HTTP {result.status} from {verdict.answered_by} ({timing_text(timings)})",
                       (), {**data, "answered_by": verdict.answered_by})
    facts = {"host": ctx.target.host, "url": result.url, "proxy": proxy.decision(ctx).shown,
             "status": result.status, **verdict.facts}
    cause = facts.pop("cause", None)
    finding: Finding = verdict.code.finding(cause=cause if isinstance(cause, str) else None,
                                            **facts)
    if verdict.code in (HTTP_PROXY_AUTH, HTTP_PROXY_DENIED):  # the proxy's own answer
        from cborg_doctor.probes.proxyanswer import ProxyAnswer

        answer = ProxyAnswer(result.status, result.detail, result.headers, result.text[:16384])
        finding = (auth_finding(proxy.decision(ctx), answer, ctx.target.host, verdict.facts["where"])
                   if verdict.code is HTTP_PROXY_AUTH else
                   denied_finding(proxy.decision(ctx), answer, ctx.target.host, ctx.target.port))
    return Outcome(finding.message, [finding], data)


CHECK = Check(
    id="http",
    title="HTTP",
    run=run,
    needs=("tls",),
    codes=CODES,
    order=110,
    description="the answer is the gateway's, not a block page, portal or proxy error",
)
