"""`egress`: the public addresses the gateway sees, per family, from Cloudflare's trace.

CBorg's IP authorization needs the address the gateway sees, and an application
that speaks only IPv4 is seen by its IPv4 address even when the browser used
IPv6, so both are shown. ``GET /cdn-cgi/trace`` is answered by Cloudflare's edge
for every proxied host; hosts not behind Cloudflare (api-local) answer 404.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cborg_doctor.api import Check, Code, Finding, Outcome, RunContext, Severity
from cborg_doctor.cborg import KEY_PAGE, is_lbl_address
from cborg_doctor.facts import EGRESS_ADDRESSES
from cborg_doctor.facts import reachable as reachable_fact
from cborg_doctor.probes import proxy
from cborg_doctor.probes.family import family as ip_family
from cborg_doctor.probes.http import HttpResult, request
from cborg_doctor.probes.together import together

TRACE_PATH = "/cdn-cgi/trace"

EGRESS_IP = Code(
    "EGRESS_IP",
    Severity.INFO,
    "Over {family} the gateway sees this machine as {ip}{where}.",
    fix=(
        f"Off LBLnet and without the VPN, authorize your address at {KEY_PAGE}: {{addresses}}.",
        "An application that speaks only IPv4 is seen by its IPv4 address: authorize the "
        "IPv4 address even if your browser uses IPv6.",
    ),
    explain="Cloudflare's /cdn-cgi/trace on the gateway host reports the public address "
    "each family arrives from; that is what IP authorization compares.",
)
EGRESS_UNKNOWN = Code(
    "EGRESS_UNKNOWN",
    Severity.INFO,
    "The public address the gateway sees could not be read: {reason}.",
    fix=(
        "Find it with a browser at https://api.cborg.lbl.gov/cdn-cgi/trace (the ip= line), "
        f"then authorize it at {KEY_PAGE} if you are off LBLnet.",
    ),
    explain="The gateway host is not behind Cloudflare (api-local answers 404 there) or the "
    "trace request failed.",
)
CODES = (EGRESS_IP, EGRESS_UNKNOWN)


def parse_trace(text: str) -> dict[str, str]:
    """``key=value`` lines of /cdn-cgi/trace; anything else is ignored."""
    out: dict[str, str] = {}
    for line in text.splitlines()[:100]:
        key, sep, value = line.partition("=")
        if sep and key.strip().isidentifier():
            out[key.strip()] = value.strip()[:200]
    return out


def trace_ip(result: HttpResult) -> tuple[dict[str, str], str | None]:
    """(trace fields, why not) — the reason is None when an ip= line was found."""
    if result.status is None:
        return {}, result.detail or result.error or "no answer"
    if result.status != 200:
        return {}, f"{TRACE_PATH} answered HTTP {result.status} (not behind Cloudflare?)"
    fields = parse_trace(result.text)
    if "ip" not in fields:
        return fields, f"{TRACE_PATH} has no ip= line"
    return fields, None


def _families(ctx: RunContext) -> list[int]:
    """Families that TCP reached (both when the net checks did not run)."""
    found = [f for f in (4, 6) if ctx.fact(reachable_fact(f))]
    return found or [4, 6]


def findings_for(traces: Mapping[str, tuple[dict[str, str], str | None]]) -> tuple[
        list[Finding], dict[str, str | None]]:
    """EGRESS_IP per family that answered, else EGRESS_UNKNOWN (pure)."""
    addresses: dict[str, str | None] = {"ipv4": None, "ipv6": None}
    for fields, why in traces.values():
        if why is None:
            ip = fields["ip"]
            addresses[ip_family(ip).key] = ip
    named = " and ".join(f"{ip} ({'IPv6' if k == 'ipv6' else 'IPv4'})"
                         for k, ip in addresses.items() if ip)
    findings: list[Finding] = []
    for fields, why in traces.values():
        if why is not None:
            continue
        ip = fields["ip"]
        extras = [f"Cloudflare {fields['colo']}" if fields.get("colo") else "",
                  f"WARP {fields['warp']}" if fields.get("warp") else "",
                  "an LBL address: no authorization needed" if is_lbl_address(ip) else ""]
        shown = "; ".join(e for e in extras if e)
        findings.append(EGRESS_IP.finding(
            family=ip_family(ip).label, ip=ip, addresses=named,
            where=f" ({shown})" if shown else "", data={"ip": ip, **fields}))
    if not findings:
        reasons = "; ".join(sorted({why for _, why in traces.values() if why})) or "no answer"
        findings.append(EGRESS_UNKNOWN.finding(reason=reasons))
    return findings, addresses


def run(ctx: RunContext) -> Outcome:
    decision = proxy.decision(ctx)
    results: dict[str, HttpResult] = {}
    if decision.url:
        results["proxy"] = request(ctx, "GET", TRACE_PATH, max_body=8192)
    else:
        families = _families(ctx)
        answers = together(*(
            lambda f=family: request(ctx, "GET", TRACE_PATH, family=f, max_body=8192)
            for family in families))
        results.update({f"ipv{f}": r for f, r in zip(families, answers, strict=True)
                        if isinstance(r, HttpResult)})
    traces = {name: trace_ip(results[name]) for name in sorted(results)}
    findings, addresses = findings_for(traces)
    ctx.share(EGRESS_ADDRESSES, addresses)
    seen = ", ".join(f"{k[:2].upper()}v{k[-1]} {v}" for k, v in addresses.items() if v)
    summary = seen or "unknown"
    if decision.url:
        summary += f" (through the proxy {decision.shown})"
    data: dict[str, Any] = {
        "addresses": addresses,
        "traces": {name: fields for name, (fields, _) in traces.items()},
    }
    return Outcome(summary, findings, data)


CHECK = Check(
    id="egress",
    title="Egress IP",
    run=run,
    needs=("http",),
    codes=CODES,
    order=120,
    description="the public IPv4 and IPv6 addresses the gateway sees",
)
