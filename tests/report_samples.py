"""Reports of typical runs, as data: what the console, HTML and helpdesk tests render.

Built from the real `Code`s (so messages and fix steps are the ones users get),
with the facts a real run records (`data` shapes of the dns, net, http and
repeat checks). `SCENARIOS` maps a name to a builder.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cborg_doctor.check import CheckResult
from cborg_doctor.findings import Finding, Severity, Status
from cborg_doctor.registry import load_registry
from cborg_doctor.report import Report

ENVIRONMENT = {"os": "Linux 6.1", "platform": "Linux-6.1-x86_64-with-glibc2.36", "machine": "x86_64",
               "python": "CPython 3.11.2", "libraries": {"httpx": "0.28.1", "openai": "1.99.0"},
               "ci": None, "wsl": False}
KEY = {"source": "env:CBORG_API_KEY", "fingerprint": "sk-…Xy12"}
LONG_PATH = "/home/someone/.local/state/cborg-doctor/" + "very-long-folder-name/" * 3 + "report.md"


def code(name: str) -> Any:
    from cborg_doctor.runner import ENGINE_CODES

    known = {n: c for n, (_, c) in load_registry().codes().items()}
    known.update({c.code: c for c in ENGINE_CODES})
    return known[name]


def finding(name: str, severity: Severity | None = None, **facts: Any) -> Finding:
    return code(name).finding(severity=severity, **facts)


def result(check_id: str, status: Status, summary: str, *findings: Finding, ms: int = 3,
           data: dict[str, Any] | None = None, skipped_because: str | None = None) -> CheckResult:
    return CheckResult(check_id, check_id.replace(".", " ").title(), status, ms, summary, tuple(findings),
                       skipped_because, data or {})


def _report(*checks: CheckResult, interrupted: str | None = None) -> Report:
    return Report(created="2026-11-25T19:00:00Z", duration_ms=812,
                  target={"base_url": "https://api.cborg.lbl.gov", "host": "api.cborg.lbl.gov", "port": 443},
                  key=KEY, environment=ENVIRONMENT, checks=checks, interrupted=interrupted)


def _path(http_timings: dict[str, float], http_status: Status = Status.PASS, *http_findings: Finding,
          http_error: str | None = None, detail: str = "") -> list[CheckResult]:
    return [
        result("dns", Status.PASS, "api.cborg.lbl.gov → 2 IPv4, 2 IPv6", data={"primary": {"ms": 14.0}}),
        result("net.ipv4", Status.PASS, "2 of 2 addresses connect", data={"results": [
            {"address": "104.18.1.1", "ok": True, "ms": 9.0}, {"address": "104.18.1.2", "ok": True, "ms": 11.0}]}),
        result("net.ipv6", Status.PASS, "2 of 2 addresses connect", data={"results": [
            {"address": "2606:4700::1", "ok": True, "ms": 10.0}]}),
        result("tls", Status.PASS, "trusted, issued by Google Trust Services"),
        result("http", http_status, http_findings[0].message if http_findings else "HTTP 200 from Cloudflare → LiteLLM",
               *http_findings,
               data={"timings": http_timings, "error": http_error, "detail": detail}),
    ]


def passing() -> Report:
    return _report(
        result("config.key", Status.PASS, "sk-…Xy12 from env:CBORG_API_KEY", ms=0),
        result("config.base_url", Status.PASS, "https://api.cborg.lbl.gov (from default)", ms=0),
        result("platform.vpn", Status.PASS, "off-site", finding("OFFSITE", note="")),
        *_path({"dns": 14.0, "connect": 9.0, "tls": 31.0, "ttfb": 120.0, "total": 170.0}),
        result("egress", Status.PASS, "IPv4 198.51.100.7",
               finding("EGRESS_IP", family="IPv4", ip="198.51.100.7", where="", addresses="198.51.100.7"),
               data={"addresses": {"ipv4": "198.51.100.7"}}),
        result("auth", Status.PASS, "key valid, expires 2027-03-01"),
    )


def no_key_no_dns() -> Report:
    nx = finding("DNS_NXDOMAIN", host="api.cborg.lbl.gov", resolver="the system resolver")
    return _report(
        result("config.key", Status.FAIL, "no key",
               finding("KEY_MISSING", looked_at="$CBORG_API_KEY, $OPENAI_API_KEY"), ms=0),
        result("config.base_url", Status.PASS, "https://api.cborg.lbl.gov (from default)", ms=0),
        result("dns", Status.FAIL, "api.cborg.lbl.gov: no such name", nx),
        *(result(i, Status.SKIP, "needs dns, which ended with fail", skipped_because="needs dns")
          for i in ("net.ipv4", "net.ipv6", "tls", "http", "auth")),
    )


def stalled() -> Report:
    timeout = finding("HTTP_TIMEOUT", what="did not answer",
                      detail="no response within 5 s of the request")
    checks = _path({"dns": 14.0, "connect": 9.0, "tls": 31.0, "total": 5054.0}, Status.FAIL, timeout,
                   http_error="timeout", detail="no response within 5 s of the request")
    return _report(result("config.key", Status.PASS, "sk-…Xy12 from env:CBORG_API_KEY", ms=0), *checks)


def intermittent() -> Report:
    loss = finding("INTERMITTENT_LOSS", failed=7, attempts=40, rate="17.5 %", kinds="HTTP 503 × 5, timed out × 2",
                   rounds=20, phase="first byte", cluster="")
    data = {"rounds": 20, "planned": 20, "interval_s": 1.0, "attempts": 40, "failed": 7,
            "phases": {"dns": {"attempts": 20, "failed": 0, "rate": 0.0, "p50": 3.0, "p95": 9.0, "max": 12.0},
                       "connect": {"attempts": 40, "failed": 2, "rate": 0.05, "p50": 9.0, "p95": 14.0, "max": 20.0},
                       "ttfb": {"attempts": 38, "failed": 5, "rate": 0.1316, "p50": 120.0, "p95": 900.0,
                                "max": 1400.0},
                       "total": {"attempts": 40, "failed": 7, "rate": 0.998, "p50": 170.0, "p95": 950.0,
                                 "max": 1500.0}},
            "failed_in": {"ttfb": 5, "connect": 2}, "kinds": {"HTTP 503": 5, "timeout": 2},
            "by_family": {"IPv4": {"attempts": 20, "failed": 4}, "IPv6": {"attempts": 20, "failed": 3}},
            "by_address": {}, "cluster": {}}
    checks = _path({"dns": 14.0, "connect": 9.0, "tls": 31.0, "ttfb": 120.0, "total": 170.0})
    return _report(*checks, result("repeat", Status.WARN, "20 rounds × 2 probes: 7 of 40 failed", loss, data=data))


def security_only() -> Report:
    leaked = finding("CLIENT_KEY_IN_FILE", severity=Severity.FAIL, file="~/.continue/config.yaml", line="line 7",
                     fingerprint="sk-…Xy12", tool="Continue", setting="apiKey",
                     readable="; the file is readable by every user of this machine (mode 0644)", stale="",
                     how="apiKey: ${{ secrets.CBORG_API_KEY }}")
    base = passing()
    clients = result("config.clients", Status.FAIL, "1 tool set up for CBorg", leaked)
    return _report(*base.checks[:2], clients, *base.checks[2:])


def hostile() -> Report:
    evil = "<script>alert(1)</script><img src=x onerror=alert(2)>"
    bad = finding("HTTP_NOT_GATEWAY", url=f"https://api.cborg.lbl.gov/{evil}", what=f"a page titled {evil}",
                  host="api.cborg.lbl.gov")
    checks = _path({"dns": 14.0, "connect": 9.0, "tls": 31.0, "ttfb": 120.0, "total": 170.0}, Status.FAIL, bad)
    return _report(*checks[:-1], result("http", Status.FAIL, f"answered by {evil}", bad, data=checks[-1].data))


SCENARIOS: dict[str, Callable[[], Report]] = {
    "passing": passing, "no_key_no_dns": no_key_no_dns, "stalled": stalled,
    "intermittent": intermittent, "security_only": security_only, "hostile": hostile,
}
