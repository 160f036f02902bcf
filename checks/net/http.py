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
from types import MappingProxyType
from typing import Any
from urllib.parse import urljoin, urlsplit

from cborg_doctor.api import Check, Code, Finding, Outcome, RunContext, Severity
from cborg_doctor.probes import proxy
from cborg_doctor.probes.http import HttpResult, request

from .proxied import HTTP_PROXY_AUTH, HTTP_PROXY_DENIED, auth_finding, denied_finding

PATH = "/health/liveliness"

HTTP_BLOCKED = Code(
    "HTTP_BLOCKED",
    Severity.FAIL,
    "Cloudflare in front of {host} blocked the request: {what} (HTTP {status}, Ray ID {ray}).",
    fix=(
        "Error 1020 (access denied) and challenges come from the gateway's firewall rules: "
        "email scienceit@lbl.gov with the Ray ID {ray}, the time, and your public IP address.",
        "Try from LBLnet or the LBL VPN, which the rules allow.",
        "A VPN, Tor or cloud-hosted machine often gets challenged: try without it.",
    ),
    explain="Cloudflare answered instead of the gateway: a firewall rule (error 1020), a "
    "rate limit (1015), or a browser challenge that API clients cannot pass.",
)
HTTP_SERVER_ERROR = Code(
    "HTTP_SERVER_ERROR",
    Severity.FAIL,
    "The gateway answered with a server error: HTTP {status} {what}.",
    fix=(
        "This is on the server side: wait a few minutes and try again.",
        "If it lasts, email scienceit@lbl.gov with the time{ray_hint}.",
    ),
    explain="A 5xx answer: the gateway (LiteLLM) failed, or Cloudflare could not reach it "
    "(502/504, 52x).",
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

_CF_CODE = re.compile(r"(?:Error(?:\s+code)?|error code:)\s*(?:<[^>]*>\s*)*(1\d{3})\b", re.I)
_CF_RAY_BODY = re.compile(r"Ray ID:?\s*(?:<[^>]*>\s*)*([0-9a-f]{16})", re.I)
_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.I | re.S)
CF_ERRORS = MappingProxyType({
    "1006": "access denied (your IP address is banned)",
    "1007": "access denied (your IP address is banned)",
    "1008": "access denied (your IP address is banned)",
    "1009": "access denied (your country or region is blocked)",
    "1010": "access denied (your browser signature is blocked)",
    "1012": "access denied",
    "1015": "you are being rate limited",
    "1020": "access denied by a firewall rule",
})


@dataclass(frozen=True)
class Verdict:
    """What answered: `code` is None when it was the gateway."""

    code: Code | None
    facts: dict[str, Any] = field(default_factory=dict)
    answered_by: str = ""


def is_cloudflare(result: HttpResult) -> bool:
    return result.header("server").lower() == "cloudflare" or "cf-ray" in result.headers


def ray_id(result: HttpResult) -> str:
    header = result.header("cf-ray")
    if header:
        return header.split("-", 1)[0]
    found = _CF_RAY_BODY.search(result.text[:200_000])
    return found.group(1) if found else "unknown"


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


def _what(result: HttpResult) -> str:
    parts = [f"HTTP {result.status}"]
    if result.header("server"):
        parts.append(f"server {result.header('server')!r}")
    title = page_title(result)
    if title:
        parts.append(f"page {title!r}")
    return ", ".join(parts)


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
        code = _CF_CODE.search(result.text[:200_000])
        mitigated = result.header("cf-mitigated").lower()
        if mitigated == "challenge":
            return Verdict(HTTP_BLOCKED, {"what": "a browser challenge (cf-mitigated: "
                                          "challenge) that API clients cannot pass",
                                          "status": status, "ray": ray_id(result)}, "Cloudflare")
        if code and (status in (403, 429, 503, 400) or code.group(1) in CF_ERRORS):
            number = code.group(1)
            meaning = CF_ERRORS.get(number, "blocked")
            return Verdict(HTTP_BLOCKED, {"what": f"error {number}, {meaning}",
                                          "status": status, "ray": ray_id(result)}, "Cloudflare")
        if status in (403, 429) and "html" in result.header("content-type").lower() and (
                not looks_like_litellm(result)):
            title = page_title(result) or "no title"
            return Verdict(HTTP_BLOCKED, {"what": f"a Cloudflare block page ({title!r})",
                                          "status": status, "ray": ray_id(result)}, "Cloudflare")
    if status >= 500:
        who = "from Cloudflare (the gateway behind it did not answer)" if (
            cloudflare and not looks_like_litellm(result)) else "from the gateway"
        ray = ray_id(result) if cloudflare else ""
        return Verdict(HTTP_SERVER_ERROR, {
            "status": status, "what": f"{who} ({_what(result)})",
            "ray_hint": f" and the Ray ID {ray}" if ray and ray != "unknown" else "",
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
    finding: Finding = verdict.code.finding(**facts)
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
