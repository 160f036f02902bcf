"""Every registered code's message and fix steps, filled with plausible facts, read for wording rules.

The `Code` registry lists every code (built-in checks, engine, --repeat); each
is filled twice, with counts of 1 and of 3, and the optional suffix facts empty
and present, and every text must read as a person would write it: no doubled
status ("HTTP 502 … (HTTP 502)"), no nested parentheses outside code, no
"1 probes" plurals, no raw timestamps, no leftover placeholders, whole sentences.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from cborg_doctor.findings import Code
from cborg_doctor.registry import load_registry
from cborg_doctor.runner import ENGINE_CODES


def every_code() -> list[Code]:
    codes = {c.code: c for _, c in load_registry().codes().values()}
    for code in ENGINE_CODES:
        codes.setdefault(code.code, code)
    return list(codes.values())


FACTS: dict[str, Any] = {
    "looked_at": "$CBORG_API_KEY, $OPENAI_API_KEY", "source": "env:CBORG_API_KEY",
    "problem": "starts with whitespace", "remedy": "Remove the spaces around the key.",
    "first": "sk-…Ab12", "second": "sk-…Cd34", "url": "https://api.cborg.lbl.gov/v1",
    "default": "https://api.cborg.lbl.gov", "host": "api.cborg.lbl.gov",
    "https_url": "https://api.cborg.lbl.gov", "path": "/v1/chat", "example": "https://api.cborg.lbl.gov/v1/chat/chat/completions",
    "suggested": "https://api.cborg.lbl.gov/v1", "what": "OPENAI_API_KEY is set but OPENAI_BASE_URL is not",
    "variable": "OPENAI_BASE_URL", "cborg_hosts": "api.cborg.lbl.gov, api-local.cborg.lbl.gov",
    "proxy": "http://proxy.example:3128", "entry": ".lbl.gov", "scheme": "socks5", "who": "requests",
    "table": "  Continue  ~/.continue/config.yaml", "tool": "Continue", "file": "~/.continue/config.yaml",
    "origin": "not CBorg", "change": "set apiBase to https://api.cborg.lbl.gov/v1",
    "fingerprint": "sk-…Xy12", "setting": "apiKey", "how": "apiKey: ${{ secrets.CBORG_API_KEY }}",
    "shown": "YOUR_KEY", "users": "Continue", "tools": "Continue", "address": "127.0.0.1:8001",
    "detail": "connection refused", "reason": "connection refused", "client": "Cisco Secure Client",
    "interface": "cscotun0", "addresses": "104.18.1.1, 104.18.1.2", "destination": "104.18.1.1",
    "local": "192.168.1.20", "version": "2", "mode": "nat", "mode_source": "default",
    "settings": "dnsTunneling on", "vpn": "Cisco Secure Client", "wslconfig_text": "[wsl2]\nnetworkingMode=mirrored",
    "problems": "networkingmode is misspelled", "wanted": "mirrored", "resolver": "the system resolver",
    "seconds": 5.0, "ipv4": "104.18.1.1", "ipv6": "2606:4700::1", "system": "104.18.1.1",
    "servers": "127.0.0.53", "direct": "104.18.1.2", "target": "api.cborg.lbl.gov", "port": 443,
    "family": "IPv4", "trust": "certifi", "issuer": "Zscaler Root CA", "why": "a known inspection product",
    "names": "*.example.com", "not_after": "2026-01-01", "now": "2026-12-01 16:00 UTC", "state": "not yet valid",
    "skew": "the clock is 3 days behind", "not_before": "2027-01-01", "status": 502, "ray": "8f1e2d3c4b5a6978",
    "ip": "198.51.100.7", "base_url": "https://api.cborg.lbl.gov", "said": "HTTP 401: Authentication Error",
    "seen": "the gateway sees 198.51.100.7", "fallback": "GET /v1/models accepted the key",
    "date": "2027-01-01", "days": 12, "models": "lbl/llama, lbl/qwen-coder", "amounts": "spent $50.00 of $50.00",
    "identity": "alias my-laptop", "percent": 99.8, "spend": "$49.90", "max_budget": "$50.00",
    "info": "HTTP 500", "model": "lbl/llama", "suggest": "lbl/llama", "plain": "lbl/llama",
    "details": "vision, prompt caching", "ttft": "310 ms", "total": "1.2 s", "cost": "cost $0.0001",
    "rate": "17.5 %", "kinds": "HTTP 503 × 5, timed out × 2", "phase": "first byte", "p50": "170 ms",
    "p95": "950 ms", "places": "~/.continue/config.yaml, ~/.aider.conf.yml",
    "note": "both ANTHROPIC_API_KEY and ANTHROPIC_AUTH_TOKEN are set", "request": "POST /v1/chat/completions",
    "key": "sk-…Xy12 from $CBORG_API_KEY", "cause": "The tool sends the key to api.openai.com.",
    "shows": "\"Incorrect API key provided\"", "proxy_host": "proxy.example", "proxy_port": 3128,
    "ca": "Zscaler Root CA", "ca_hint": "ask IT, or export it from your browser's certificate viewer",
    "proxy_address": "proxy.example:3128", "offers": "Basic and NTLM",
}
# Facts that are an optional tail (" (…)", "; …") and are often empty.
SUFFIXES: dict[str, str] = {
    "readable": "; the file is readable by every user of this machine (mode 0644)", "stale": "",
    "note": " Ask the VPN team.", "route": " The route to the gateway goes through it.",
    "others": " (2 other tools found)", "where": " (Cloudflare WARP)", "ray_hint": " and the Ray ID 8f1e2d3c4b5a6978",
    "shape_hint": " The config.key check found such a problem above.", "when": " on 2026-11-20, 11 days ago",
    "estimate": " (estimated)", "reset": ", reset on 2026-12-05", "nearest": "; the closest is 'lbl/llama'",
    "retry": "; retry after 20 s", "cluster": "; all on IPv6", "line": ", line 7",
    "hosts_note": " /etc/hosts has an entry for it.",
}
COUNTS = ("count", "files", "failed", "attempts", "rounds", "which", "setups")
# Facts whose shape differs between codes.
PER_CODE: dict[str, dict[str, Any]] = {
    "HTTP_PROXY_AUTH": {"where": "CONNECT"},
    "CLIENT_KEY_IN_FILE": {"line": "line 7"},
    "CLIENTS_FOUND": {"setups": "2 tool setups", "files": "1 file"},
    "PROXY_DOWN": {"where": "~/.bashrc"},
    "CLIENT_KEY_SPREAD": {"count": 2},  # only ever raised for two places or more
    "CLIENT_TOOL_SETTING": {"note": "both ANTHROPIC_API_KEY and ANTHROPIC_AUTH_TOKEN are set"},
    "NETWORK_DOWN": {"seen": "no interface but loopback is up", "said": " The gateway did not answer either."},
    "INTERMITTENT_LOSS": {"attempts": "40 attempts", "rounds": "20 rounds"},
}

NOUNS = ("probe", "round", "attempt", "address", "day", "file", "problem", "warning", "check", "tool",
         "setup", "key", "model", "request", "second", "minute")
ONE_PLURAL = re.compile(r"\b1 (?:" + "|".join(NOUNS) + r")e?s\b")
TIMESTAMP = re.compile(r"\d{2}:\d{2}:\d{2}\.\d{3,}|\b\d{13,}\b")
HTTP_STATUS = re.compile(r"\bHTTP (\d{3})\b")


def fields(code: Code) -> set[str]:
    """Every {name} the code's texts use (message, fix steps, each cause's steps)."""
    import string

    texts = [code.summary, *code.fix, *(step for cause in code.causes.values() for step in cause.fix)]
    return {name.split(".")[0].split("[")[0] for text in texts
            for _, name, _, _ in string.Formatter().parse(text) if name}


def filled(code: Code, count: int, suffixes: bool) -> list[str]:
    # A fact this table does not know yet (a new code) gets a neutral sample, so the rules still apply.
    facts = {name: f"sample {name.replace('_', ' ')}" for name in fields(code)}
    facts.update({**FACTS, **{name: count for name in COUNTS}})
    if count == 1:
        facts["which"] = "1 of 2 IPv4 addresses"
    facts.update(SUFFIXES if suffixes else {name: "" for name in SUFFIXES})
    facts.update(PER_CODE.get(code.code, {}))
    finding = code.finding(**facts)
    return [finding.message, *finding.fix]


def prose(text: str) -> str:
    """The text without code: fenced blocks, `spans`, verbatim lines and calls like OpenAI(...)."""
    text = re.sub(r"```.*?```", "", text, flags=re.S).split("\n")[0]
    text = re.sub(r"`[^`]*`", "CODE", text)
    text = re.sub(r"\b[\w.]+\([^()]*(?:\([^()]*\)[^()]*)*\)", "CALL", text)  # f(x), OpenAI(http_client=g(...))
    return text


def nesting(text: str) -> int:
    depth = deepest = 0
    for char in text:
        depth += char == "("
        deepest = max(deepest, depth)
        depth -= char == ")"
    return deepest


CODES = every_code()


def test_the_registry_lists_every_contract_code() -> None:
    names = {c.code for c in CODES}
    for code in ("KEY_MISSING", "DNS_NXDOMAIN", "TLS_INTERCEPTED", "HTTP_SERVER_ERROR", "KEY_EXPIRED",
                 "INTERMITTENT_LOSS", "REPEAT_ALL_FAILED", "CHECK_CRASHED"):
        assert code in names
    assert len(CODES) >= 80


@pytest.mark.parametrize("code", CODES, ids=lambda c: c.code)
def test_wording(code: Code) -> None:
    for count in (1, 3):
        for suffixes in (False, True):
            message, *steps = filled(code, count, suffixes)
            for text in (message, *steps):
                line = prose(text)
                assert not re.search(r"<[a-z_]+>", text), f"unfilled placeholder: {text}"
                assert nesting(line) <= 1, f"nested parentheses: {text}"
                assert not ONE_PLURAL.search(line), f"plural after 1: {text}"
                assert not TIMESTAMP.search(text), f"raw timestamp: {text}"
                assert "  " not in line.strip(), f"double space: {text}"
                assert not re.search(r"[\w:)] [.,;]( |$)|\w :( |$)", line), f"space before punctuation: {text}"
                assert ".." not in line.replace("...", ""), f"doubled full stop: {text}"
                assert "None" not in line and "null" not in line, text
                statuses = HTTP_STATUS.findall(line)
                assert len(statuses) == len(set(statuses)), f"the same HTTP status twice: {text}"
                assert "(s)" not in line, f"write the plural out: {text}"
            first = message.split()[0]
            named = "." in first or "/" in first  # a host or model name may start it
            assert message[0].isupper() or message[0].isdigit() or message[0] in "$~/" or named, \
                f"starts lower-case: {message}"
            assert prose(message).rstrip().endswith((".", ":", ")")) or "\n" in message, \
                f"message is not a sentence: {message}"


# ----- messages whose facts come from the network: the real code paths -----------------------


def _answer(status: int, headers: dict[str, str], body: bytes = b"") -> Any:
    from cborg_doctor.probes.http import HttpResult

    return HttpResult("https://api.cborg.lbl.gov/health/liveliness", status, headers, body, False, None, "",
                      "104.18.1.1", {"connect": 9.0})


@pytest.mark.parametrize("headers", [{"server": "cloudflare", "cf-ray": "8f1e2d3c4b5a6978-SJC"}, {}])
def test_a_server_error_names_its_status_once(headers: dict[str, str]) -> None:
    from cborg_doctor_checks.net.http import classify

    verdict = classify(_answer(502, headers, b"<title>502 Bad Gateway</title>"), "https://api.cborg.lbl.gov",
                       "api.cborg.lbl.gov")
    message = verdict.code.finding(**verdict.facts).message
    assert message.count("HTTP 502") == 1, message
    assert nesting(prose(message)) <= 1, message


def test_a_stalled_answer_reads_without_nested_brackets() -> None:
    from cborg_doctor_checks.net.http import HTTP_TIMEOUT

    detail = "no response within 5 s of the request, in the read phase"
    message = HTTP_TIMEOUT.finding(what="accepted the request but sent no answer in time", detail=detail).message
    assert message == ("The gateway accepted the request but sent no answer in time "
                       "(no response within 5 s of the request, in the read phase).")


def test_an_expired_key_says_when_in_days_not_microseconds() -> None:
    from datetime import datetime, timezone

    from cborg_doctor_checks.gateway.account import expired_on, tidy_times

    now = datetime(2026, 12, 1, 16, 0, tzinfo=timezone.utc)
    assert expired_on(datetime(2026, 11, 20, 19, 0, tzinfo=timezone.utc), now) == " on 2026-11-20, 10 days ago"
    assert expired_on(datetime(2026, 11, 30, 15, 0, tzinfo=timezone.utc), now) == " on 2026-11-30, 1 day ago"
    said = ("HTTP 400: Authentication Error - Expired Key. Key Expiry time 2026-11-20 19:00:00.123456+00:00 "
            "and current time 2026-12-01 16:00:00.654321+00:00")
    assert tidy_times(said) == ("HTTP 400: Authentication Error - Expired Key. Key Expiry time 2026-11-20 "
                                "and current time 2026-12-01")


def test_shares_are_not_rounded_to_100_or_0() -> None:
    from cborg_doctor.formats.text import percent_text

    assert [percent_text(p) for p in (99.8, 0.2, 50, 100)] == ["99.8 %", "0.2 %", "50 %", "100 %"]


def test_a_cause_fact_in_a_template_is_filled() -> None:
    """`cause=` picks a code's own steps; for a code without causes it is the {cause} fact."""
    (code,) = [c for c in CODES if c.code == "CLIENT_PATH_FAILED"]
    facts = {**FACTS, **SUFFIXES}
    message = code.finding(**{**facts, "cause": "The tool sends the key to api.openai.com."}).message
    assert "<cause>" not in message and "The tool sends the key to api.openai.com." in message
