"""Cloudflare's own answers: each error with its meaning, its Ray ID and the one fix for it.

Unit tests of the pure classifier (every row of its table, and any input from the
network without raising), then whole runs against a Cloudflare stand-in on loopback.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cborg_doctor.probes.cloudflare import classify_cloudflare
from tests import netfixtures as nf
from tests.doctor import run_doctor

RAY = "8e1f2a3b4c5d6e7f"
CF = {"server": "cloudflare", "cf-ray": f"{RAY}-SJC", "content-type": "text/html; charset=UTF-8"}


def page(title: str, code: str) -> str:
    return (f"<html><head><title>{title}</title></head><body><h1>Error <span>{code}</span></h1>"
            f"<span>Cloudflare Ray ID: <strong>{RAY}</strong></span></body></html>")


@pytest.mark.parametrize(
    ("status", "body", "extra", "kind", "what", "remedy"),
    [
        (403, page("Access denied", "1020"), {}, "blocked", "error 1020, access denied by a "
         "firewall rule", f"Email scienceit@lbl.gov with the Ray ID {RAY}"),
        (403, "error code: 1010", {"content-type": "text/plain"}, "blocked",
         "browser signature is blocked", "Python-urllib's User-Agent"),
        (403, page("Access denied", "1006"), {}, "blocked", "IP address is banned",
         f"Ray ID {RAY}"),
        (403, page("Access denied", "1009"), {}, "blocked", "country or region",
         "LBL VPN"),
        (429, "error code: 1015", {"retry-after": "30"}, "rate_limited",
         "error 1015, you are being rate limited", "wait 30 s (retry-after)"),
        (429, "error code: 1015", {}, "rate_limited", "rate limited",
         "https://api-local.cborg.lbl.gov"),
        (403, nf.CF_CHALLENGE_HTML, {"cf-mitigated": "challenge"}, "challenge",
         "browser challenge", "API clients cannot solve a browser challenge"),
        (503, "<html><head><title>Just a moment...</title></head></html>", {}, "challenge",
         "'Just a moment...'", "LBL VPN"),
        (530, page("api.cborg.lbl.gov | 530", "1033"), {}, "tunnel_down",
         "Cloudflare Tunnel to the gateway is down", "the gateway's problem, not your setup"),
        (520, page("520: Web server is returning an unknown error", "520"), {}, "origin_error",
         "empty or unreadable answer", "on the gateway's side"),
        (521, "", {}, "origin_error", "refused Cloudflare's connection", f"Ray ID {RAY}"),
        (522, "", {}, "origin_error", "connection to the gateway timed out", "wait"),
        (523, "", {}, "origin_error", "origin unreachable", "wait"),
        (524, page("524: A timeout occurred", "524"), {}, "origin_slow",
         "longer than Cloudflare's 100 s limit", "Use stream=True"),
        (525, "", {}, "origin_error", "TLS handshake between Cloudflare and the gateway", "wait"),
        (526, "", {}, "origin_error", "certificate is invalid", "wait"),
        (502, nf.CF_502_HTML, {}, "origin_error", "bad gateway", f"Ray ID {RAY}"),
        (403, "<html><head><title>Blocked</title></head></html>", {}, "blocked",
         "a Cloudflare block page ('Blocked')", "Email scienceit@lbl.gov"),
    ],
)
def test_each_cloudflare_answer_has_its_meaning_ray_and_fix(
        status: int, body: str, extra: dict[str, str], kind: str, what: str, remedy: str) -> None:
    answer = classify_cloudflare(status, {**CF, **extra}, body)
    assert answer is not None
    assert (answer.kind, answer.status, answer.ray) == (kind, status, RAY)
    assert what in answer.what
    assert remedy in answer.remedy
    assert answer.gateway_side is (kind in ("tunnel_down", "origin_error", "origin_slow"))


def test_only_one_fix_and_it_fits_the_cause() -> None:
    rate = classify_cloudflare(429, CF, "error code: 1015")
    ua = classify_cloudflare(403, CF, "error code: 1010")
    assert rate is not None and ua is not None
    assert "User-Agent" not in rate.remedy and "rate" not in ua.remedy.lower()
    assert "{" not in rate.remedy  # no template left unfilled


@pytest.mark.parametrize(
    ("status", "headers", "body", "litellm"),
    [
        (200, CF, '"I\'m alive!"', True),  # LiteLLM through Cloudflare
        (500, {**CF, "content-type": "application/json"}, '{"error": {"message": "x"}}', True),
        (429, {**CF, "content-type": "application/json"},
         '{"error": {"message": "Rate limit exceeded"}}', True),
        (403, {"server": "nginx", "content-type": "text/html"}, page("Denied", "1020"), False),
        (404, CF, "", False),
    ],
)
def test_answers_that_are_not_cloudflares_own(status: int, headers: dict[str, str], body: str,
                                              litellm: bool) -> None:
    assert classify_cloudflare(status, headers, body, litellm=litellm) is None


def test_ray_id_from_the_page_when_the_header_is_missing() -> None:
    answer = classify_cloudflare(403, {"server": "cloudflare"}, page("Access denied", "1020"))
    assert answer is not None and answer.ray == RAY


@given(status=st.one_of(st.none(), st.booleans(), st.integers(-10, 1000)),
       headers=st.dictionaries(st.sampled_from(["server", "cf-ray", "cf-mitigated", "retry-after",
                                                "content-type", "Server", "x"]),
                               st.one_of(st.text(max_size=30), st.sampled_from(
                                   ["cloudflare", "challenge", "30", "nan", "-1", "1e400"]))),
       body=st.one_of(st.text(max_size=300), st.sampled_from(
           ["error code: 1015", "<title>Just a moment...</title>", "Error 1033", "Ray ID: x"])),
       litellm=st.booleans())
def test_any_answer_classifies_without_raising(status: object, headers: dict[str, str],
                                               body: str, litellm: bool) -> None:
    answer = classify_cloudflare(status, headers, body, litellm=litellm)  # type: ignore[arg-type]
    if answer is not None:
        assert answer.remedy and answer.what and answer.ray
        assert "{ray}" not in answer.remedy and "{wait}" not in answer.remedy


# ── whole runs against a Cloudflare stand-in on loopback ────────────────────


def cloudflare_page(status: int, body: str, extra: dict[str, str] | None = None) -> nf.Handler:
    def handle(request: nf.Request, conn: object) -> None:
        nf.respond(conn, status, body, nf.cf_headers({"content-type": "text/html; charset=UTF-8",
                                                      **(extra or {})}))  # type: ignore[arg-type]

    return handle


@pytest.mark.parametrize(
    ("status", "body", "extra", "code", "says", "fix"),
    [
        (429, "error code: 1015", {"retry-after": "20"}, "HTTP_BLOCKED",
         "error 1015, you are being rate limited (HTTP 429, Ray ID", "wait 20 s (retry-after)"),
        (403, "error code: 1010", {}, "HTTP_BLOCKED", "browser signature is blocked",
         "send a descriptive User-Agent"),
        (530, page("api.cborg.lbl.gov | 530: Origin DNS error", "1033"), {}, "HTTP_SERVER_ERROR",
         "the Cloudflare Tunnel to the gateway is down", "the gateway's problem"),
        (524, page("524: A timeout occurred", "524"), {}, "HTTP_SERVER_ERROR",
         "longer than Cloudflare's 100 s limit", "Use stream=True"),
    ],
)
def test_the_doctor_names_the_cloudflare_cause_and_its_one_fix(
        home: Path, canary_key: str, status: int, body: str, extra: dict[str, str], code: str,
        says: str, fix: str) -> None:
    server = nf.HttpServer(cloudflare_page(status, body, extra))
    try:
        run = run_doctor("--base-url", f"http://127.0.0.1:{server.port}", "--timeout", "3",
                         "--json", "--no-report", home=home, env={"CBORG_API_KEY": canary_key})
    finally:
        server.close()
    assert canary_key not in run.output
    assert run.code == 1
    report = run.json()
    assert report["verdict"]["code"] == code
    http = next(c for c in report["checks"] if c["id"] == "http")
    (finding,) = http["findings"]
    assert says in finding["message"] and nf.CF_RAY.split("-")[0] in finding["message"]
    assert len(finding["fix"]) == 1 and fix in finding["fix"][0]


def test_explain_lists_every_cloudflare_cause_with_its_own_step(home: Path) -> None:
    blocked = run_doctor("--explain", "HTTP_BLOCKED", home=home)
    assert blocked.code == 0
    for when in ("browser challenge", "rate-limited the address (error 1015)",
                 "client's signature (error 1010)", "country or region (error 1009)"):
        assert f"When Cloudflare {when}" in blocked.stdout or when in blocked.stdout
    server = run_doctor("--explain", "HTTP_SERVER_ERROR", home=home)
    assert "the tunnel behind Cloudflare is down" in server.stdout
    assert "Use stream=True for long answers" in server.stdout
