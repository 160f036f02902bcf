"""What a Cloudflare answer in front of the gateway means, and the one fix for it.

Shared by two check families (net.http and gateway.live), so it lives below both;
the codes that raise these findings stay with their checks (net/http.py, gateway/live.py).

Pure and total: `classify_cloudflare(status, headers, text)` reads any status,
headers and body (bytes that came from the network) and never raises. It returns
None when the answer is not Cloudflare's own (LiteLLM's answers pass through
Cloudflare too, with ``server: cloudflare``: those are the gateway's).

CBorg is reached through a Cloudflare Tunnel (cborg-client's README); the Ray ID
(``cf-ray`` header, or "Ray ID: …" on the page) is what the helpdesk needs to find
the request in Cloudflare's logs. First match wins::

    what Cloudflare sent                           kind          whose problem, the fix
    ─────────────────────────────────────────────  ────────────  ──────────────────────────────────
    cf-mitigated: challenge, or a "Just a moment…"  challenge     the client: API clients cannot solve
      / "Attention Required" page                                 it; LBLnet/VPN, or helpdesk + Ray ID
    error 1015 (usually HTTP 429)                   rate_limited  the client's IP sends too much: wait
                                                                  (retry-after), slow down; on LBLnet
                                                                  use api-local.cborg.lbl.gov
    error 1010                                      blocked       the client's signature (User-Agent):
                                                                  default ones like Python-urllib are
                                                                  blocked; send a real User-Agent
    error 1006, 1007, 1008                          blocked       this IP address is banned: helpdesk
    error 1009                                      blocked       the country/region is blocked
    error 1020, 1012, other 1xxx on 400/403/429/503 blocked       a firewall rule: helpdesk + Ray ID
    HTTP 403/429 HTML page, not LiteLLM's           blocked       a block page without a code
    error 1033 (HTTP 530), 1016                     tunnel_down   the gateway's: its tunnel is down;
                                                                  wait, report with the Ray ID
    HTTP 520                                        origin_error  the gateway answered something
                                                                  Cloudflare could not read (crash)
    HTTP 521                                        origin_error  the gateway refused Cloudflare
    HTTP 522, 523                                   origin_error  Cloudflare could not reach it
    HTTP 524                                        origin_slow   the answer took over 100 s (Cloudflare's
                                                                  limit): stream=True, or api-local
    HTTP 525, 526                                   origin_error  TLS between Cloudflare and the gateway
    HTTP 502, 503, 504, 530 (no code) from Cloudflare origin_error the gateway did not answer Cloudflare
    anything else                                   None          not Cloudflare's own answer
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from cborg_doctor.cborg import HELPDESK, LOCAL_ONLY_HOST

LOCAL_URL = f"https://{LOCAL_ONLY_HOST}"
SCAN_LIMIT = 200_000

_CF_CODE = re.compile(r"(?:Error(?:\s+code)?|error code:)\s*(?:<[^>]*>\s*)*(1\d{3})\b", re.I)
_CF_RAY_BODY = re.compile(r"Ray ID:?\s*(?:<[^>]*>\s*)*([0-9a-f]{16})", re.I)
_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.I | re.S)
_CHALLENGE_TITLES = ("just a moment", "attention required")

BLOCKS = MappingProxyType({
    "1006": "access denied (your IP address is banned)",
    "1007": "access denied (your IP address is banned)",
    "1008": "access denied (your IP address is banned)",
    "1009": "access denied (your country or region is blocked)",
    "1010": "access denied (the client's browser signature is blocked)",
    "1012": "access denied",
    "1015": "you are being rate limited",
    "1020": "access denied by a firewall rule",
})
TUNNEL_CODES = MappingProxyType({
    "1033": "the Cloudflare Tunnel to the gateway is down (Argo Tunnel error)",
    "1016": "Cloudflare could not resolve the gateway's origin (origin DNS error)",
})
ORIGIN_ERRORS = MappingProxyType({
    502: "bad gateway: the gateway behind Cloudflare did not answer properly",
    503: "service unavailable: the gateway behind Cloudflare is overloaded or down",
    504: "gateway timeout: the gateway behind Cloudflare did not answer in time",
    520: "the gateway sent Cloudflare an empty or unreadable answer (it may have crashed)",
    521: "the gateway refused Cloudflare's connection (it is down)",
    522: "Cloudflare's connection to the gateway timed out",
    523: "Cloudflare cannot reach the gateway (origin unreachable)",
    524: "the gateway took longer than Cloudflare's 100 s limit to answer",
    525: "the TLS handshake between Cloudflare and the gateway failed",
    526: "the gateway's certificate is invalid for Cloudflare",
    530: "Cloudflare could not reach the gateway",
})

WHEN = MappingProxyType({
    "challenge": "Cloudflare answered with a browser challenge (cf-mitigated: challenge)",
    "1015": "Cloudflare rate-limited the address (error 1015)",
    "1010": "Cloudflare blocked the client's signature (error 1010)",
    "1006": "Cloudflare banned the address (error 1006-1008)",
    "1009": "Cloudflare blocked the country or region (error 1009)",
    "block": "a Cloudflare firewall rule or block page refused the request (error 1020 and others)",
    "tunnel_down": "the tunnel behind Cloudflare is down (530 with error 1033, or 1016)",
    "origin_error": "Cloudflare could not get an answer from the gateway (502-504, 520-523, 525, 526)",
    "origin_slow": "the gateway took over Cloudflare's 100 s limit (524)",
})
_BLOCK_REMEDY = (
    f"Email {HELPDESK} with the Ray ID {{ray}}, the time and your public IP address: the "
    "gateway's firewall rules decide this; from LBLnet or the LBL VPN (Cisco) they allow you."
)
# The one fix step per cause, as templates of {ray} and {wait}: http.py declares them as its
# codes' `causes`, so --explain lists every cause's step and a finding carries only its own.
REMEDIES = MappingProxyType({
    "challenge": "API clients cannot solve a browser challenge: connect to LBLnet or the LBL "
    "VPN (Cisco) and try again, or switch off a VPN/Tor/cloud network that Cloudflare "
    f"distrusts; if it persists, email {HELPDESK} with the Ray ID {{ray}}.",
    "1015": "Cloudflare limits how fast this IP address may send: wait{wait} and send fewer "
    "requests (retry with backoff). On LBLnet or the VPN use " + LOCAL_URL + ", which does "
    "not go through Cloudflare.",
    "1010": "Cloudflare blocks default client signatures such as Python-urllib's User-Agent: "
    "send a descriptive User-Agent (e.g. OpenAI(default_headers={{\"User-Agent\": "
    "\"myapp/1.0\"}}), or urllib's Request(headers=...)); the OpenAI SDK's own is accepted.",
    "1006": _BLOCK_REMEDY,
    "1009": "Requests from your country or region are blocked: connect to the LBL VPN "
    "(Cisco) and try again.",
    "block": _BLOCK_REMEDY,
    "tunnel_down": "This is the gateway's problem, not your setup: wait a few minutes and try "
    f"again; if it lasts, email {HELPDESK} with the Ray ID {{ray}}.",
    "origin_error": "This is on the gateway's side: wait a few minutes and try again; if it "
    f"lasts, email {HELPDESK} with the time and the Ray ID {{ray}}.",
    "origin_slow": "Use stream=True for long answers: Cloudflare ends any response that takes "
    "over 100 s to start, while a stream starts at the first token. On LBLnet or the VPN, "
    + LOCAL_URL + " has no such limit.",
})


@dataclass(frozen=True)
class CloudflareAnswer:
    """Cloudflare's own answer: what it means (`what`) and the one fix (`remedy`)."""

    kind: str  # challenge | rate_limited | blocked | tunnel_down | origin_error | origin_slow
    status: int | None
    number: str | None  # "1020", "524"
    what: str
    remedy: str  # the fix step, filled in
    ray: str
    cause: str = ""  # the key of REMEDIES (and of the codes' `causes`) it came from
    wait: str = " a minute"  # " 30 s (retry-after)" when Cloudflare said

    @property
    def gateway_side(self) -> bool:
        """True when the fault is behind Cloudflare (the gateway), not the user's."""
        return self.kind in ("tunnel_down", "origin_error", "origin_slow")


def _header(headers: Mapping[str, str], name: str) -> str:
    if not isinstance(headers, Mapping):
        return ""
    for key, value in headers.items():
        if isinstance(key, str) and key.lower() == name and isinstance(value, str):
            return value
    return ""


def is_cloudflare(headers: Mapping[str, str]) -> bool:
    return _header(headers, "server").lower() == "cloudflare" or bool(_header(headers, "cf-ray"))


def ray_id(headers: Mapping[str, str], text: str) -> str:
    header = "".join(ch for ch in _header(headers, "cf-ray").split("-", 1)[0] if ch.isalnum())
    if header:
        return header[:32]
    found = _CF_RAY_BODY.search(text[:SCAN_LIMIT])
    return found.group(1) if found else "unknown"


def page_title(text: str) -> str:
    found = _TITLE.search(text[:SCAN_LIMIT])
    if not found:
        return ""
    return " ".join(html.unescape(found.group(1)).split())[:120]


def retry_after(headers: Mapping[str, str]) -> float | None:
    """`retry-after` in seconds (the delta form); None when absent or not a number."""
    value = _header(headers, "retry-after").strip()
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if 0 <= seconds < 86400 * 7 else None


def _answer(kind: str, status: int | None, number: str | None, what: str, remedy_key: str,
            ray: str, headers: Mapping[str, str]) -> CloudflareAnswer:
    seconds = retry_after(headers)
    wait = f" {seconds:g} s (retry-after)" if seconds is not None else " a minute"
    remedy = REMEDIES[remedy_key].format(ray=ray, wait=wait)
    return CloudflareAnswer(kind, status, number, what, remedy, ray, remedy_key, wait)


def classify_cloudflare(status: int | None, headers: Mapping[str, str], text: str,
                        litellm: bool = False) -> CloudflareAnswer | None:
    """Cloudflare's own answer, classified; None when it is not Cloudflare's (or is LiteLLM's).

    `litellm` says the answer looks like LiteLLM's (JSON, x-litellm headers): an error
    from the gateway that merely passed through Cloudflare is not Cloudflare's.
    """
    if not isinstance(text, str):
        text = ""
    if not is_cloudflare(headers) or isinstance(status, bool):
        return None
    status = status if isinstance(status, int) else None
    ray = ray_id(headers, text)
    title = page_title(text)
    if _header(headers, "cf-mitigated").lower() == "challenge" or (
            not litellm and any(title.lower().startswith(t) for t in _CHALLENGE_TITLES)):
        return _answer("challenge", status, None, "a browser challenge (cf-mitigated: challenge, "
                       f"page {title or 'without a title'!r}) that API clients cannot pass",
                       "challenge", ray, headers)
    code = _CF_CODE.search(text[:SCAN_LIMIT]) if not litellm else None
    number = code.group(1) if code else None
    if number in TUNNEL_CODES:
        return _answer("tunnel_down", status, number, f"error {number}, {TUNNEL_CODES[number]}",
                       "tunnel_down", ray, headers)
    if number and (number in BLOCKS or status in (400, 403, 429, 503)):
        meaning = BLOCKS.get(number, "access denied")
        if number == "1015":
            return _answer("rate_limited", status, number, f"error 1015, {meaning}", "1015", ray,
                           headers)
        key = number if number in ("1010", "1009") else (
            "1006" if number in ("1006", "1007", "1008") else "block")
        return _answer("blocked", status, number, f"error {number}, {meaning}", key, ray, headers)
    if litellm:
        return None
    if status in ORIGIN_ERRORS:
        kind = "origin_slow" if status == 524 else "origin_error"
        return _answer(kind, status, str(status), f"error {status}, {ORIGIN_ERRORS[status]}",
                       kind, ray, headers)
    content_type = _header(headers, "content-type").lower()
    if status in (403, 429) and "html" in content_type:
        return _answer("blocked", status, None, f"a Cloudflare block page "
                       f"({title or 'no title'!r})", "block", ray, headers)
    return None
