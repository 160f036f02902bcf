"""`config.proxy`: the proxy and CA-bundle settings the user's clients will follow.

Proxy variables (either case) and, on macOS/Windows, the system proxy settings,
decided by httpx's rules (see `cborg_doctor.probes.proxy`). The decision is
shared as the fact ``proxy.decision``: when a proxy is in use, the later checks
test the path through it, because that is the path the clients take.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from cborg_doctor.api import Check, Code, Finding, Outcome, RunContext, Severity
from cborg_doctor.facts import PROXY_DECISION
from cborg_doctor.probes import proxy
from cborg_doctor.probes.trust import bundle_problem

CA_FILE_VARIABLES = ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")
CA_DIR_VARIABLES = ("SSL_CERT_DIR",)
WHO_READS = MappingProxyType({
    "SSL_CERT_FILE": "Python's ssl module, httpx and openai-python",
    "SSL_CERT_DIR": "Python's ssl module, httpx and openai-python",
    "REQUESTS_CA_BUNDLE": "requests (and tools built on it)",
    "CURL_CA_BUNDLE": "curl and requests",
})

PROXY_IN_USE = Code(
    "PROXY_IN_USE",
    Severity.INFO,
    "Your clients reach {host} through the proxy {proxy} (from {source}); the network "
    "checks test that path.",
    fix=(
        "If the proxy blocks or breaks requests, ask IT to allow CONNECT to {host}:443.",
        "If the gateway is reachable without it, exclude it: `export NO_PROXY={host}`.",
    ),
    explain="HTTPS_PROXY/HTTP_PROXY/ALL_PROXY (either case) or the system proxy settings send "
    "your clients' requests through a proxy.",
)
PROXY_BYPASSED = Code(
    "PROXY_BYPASSED",
    Severity.INFO,
    "A proxy is set ({source}) but NO_PROXY entry {entry!r} makes clients connect to {host} "
    "directly.",
    fix=("If the direct path fails, remove {entry!r} from NO_PROXY.",),
    explain="NO_PROXY excludes the gateway host, so the proxy is not used for it.",
)
PROXY_UNSUPPORTED = Code(
    "PROXY_UNSUPPORTED",
    Severity.WARN,
    "The proxy URL {proxy} (from {source}) uses the scheme {scheme!r}, which httpx "
    "(openai-python) supports only with extra packages or not at all.",
    fix=(
        "For SOCKS: `pip install 'httpx[socks]'`.",
        "Or use an http:// proxy URL.",
    ),
    explain="httpx understands http://, https:// and (with socksio) socks5:// proxies.",
)
CA_BUNDLE_MISSING = Code(
    "CA_BUNDLE_MISSING",
    Severity.FAIL,
    "{variable} points at {path}, which {problem}; {who} will fail every HTTPS connection.",
    fix=(
        "Point it at an existing PEM bundle (ask IT for the corporate one), e.g. "
        "`export {variable}=/etc/ssl/certs/ca-certificates.crt`.",
        "Or unset it to use the default CAs: `unset {variable}`.",
    ),
    explain="A CA-bundle variable names a file or folder that is missing, unreadable or "
    "holds no certificates.",
)
CODES = (PROXY_IN_USE, PROXY_BYPASSED, PROXY_UNSUPPORTED, CA_BUNDLE_MISSING)


def bundle_findings(env: Mapping[str, str]) -> list[Finding]:
    found: list[Finding] = []
    for variable in (*CA_FILE_VARIABLES, *CA_DIR_VARIABLES):
        path = env.get(variable)
        if not path:
            continue
        problem = bundle_problem(path, variable in CA_DIR_VARIABLES)
        if problem:
            found.append(CA_BUNDLE_MISSING.finding(
                variable=variable, path=path, problem=problem, who=WHO_READS[variable],
                data={"variable": variable, "path": path}))
    return found


def run(ctx: RunContext) -> Outcome:
    decision = proxy.decide(ctx.env, ctx.target)
    ctx.share(PROXY_DECISION, decision)
    findings = bundle_findings(ctx.env)
    host = ctx.target.host
    data: dict[str, Any] = {"proxy": decision.shown, "source": decision.source,
                            "bypassed_by": decision.bypassed_by, "settings": dict(decision.settings)}
    if decision.url:
        scheme = decision.url.split("://", 1)[0].lower()
        findings.insert(0, PROXY_IN_USE.finding(host=host, proxy=decision.shown,
                                                source=decision.source))
        if scheme not in ("http", "https"):
            findings.append(PROXY_UNSUPPORTED.finding(proxy=decision.shown, scheme=scheme,
                                                      source=decision.source))
        summary = f"proxy {decision.shown} ({decision.source})"
    elif decision.bypassed_by:
        findings.insert(0, PROXY_BYPASSED.finding(source=decision.source, host=host,
                                                  entry=decision.bypassed_by))
        summary = f"direct (NO_PROXY {decision.bypassed_by!r})"
    else:
        summary = "no proxy"
    cas = [f"{v}={ctx.env[v]}" for v in (*CA_FILE_VARIABLES, *CA_DIR_VARIABLES) if ctx.env.get(v)]
    summary += "; CAs: " + (", ".join(cas) if cas else "default (certifi)")
    return Outcome(summary, findings, data)


CHECK = Check(
    id="config.proxy",
    title="Proxy and CAs",
    run=run,
    codes=CODES,
    order=30,
    description="proxy and CA-bundle settings",
)
CHECKS = (CHECK,)
