"""What a proxy said when it did not open the tunnel: pure readers of its CONNECT answer.

A refusal is the proxy's own answer (a status line, headers, a short page), so it names
its reason in its own words; the doctor quotes them rather than guessing::

    proxy      what it sends                                    reason quoted
    ─────────  ───────────────────────────────────────────────  ────────────────────────────
    squid      403, X-Squid-Error: ERR_ACCESS_DENIED 0, a page  ERR_ACCESS_DENIED, the title
    tinyproxy  403 Access violation, <p>The CONNECT method ...  the title and first paragraph
    others     any non-2xx with a page or a text body            the title, else the text
    407        Proxy-Authenticate: Basic / NTLM / Negotiate      the schemes, in its order

Everything here is total: any bytes from the network give an answer, never an exception.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

MAX_HEAD = 16384
MAX_BODY = 16384
_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.I | re.S)
_PARAGRAPH = re.compile(r"<p[^>]*>(.*?)</p>", re.I | re.S)
_TAG = re.compile(r"<[^>]*>")
_TOKEN = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")
KNOWN_SCHEMES = {"basic": "Basic", "ntlm": "NTLM", "negotiate": "Negotiate", "digest": "Digest",
                 "kerberos": "Kerberos", "bearer": "Bearer"}


@dataclass(frozen=True)
class ProxyAnswer:
    """A proxy's answer to CONNECT: `headers` with lower-case names, duplicates joined."""

    status: int | None
    line: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)
    body: str = ""

    @property
    def server(self) -> str:
        return self.headers.get("server", "")

    def to_dict(self) -> dict[str, Any]:
        keep = ("server", "x-squid-error", "proxy-authenticate", "content-type", "via")
        return {"status": self.status, "line": self.line,
                "headers": {k: v for k, v in self.headers.items() if k in keep},
                "reason": refusal_reason(self), "schemes": list(auth_schemes(self))}


def parse(head: bytes, body: bytes = b"") -> ProxyAnswer:
    """The status line and headers of `head` (up to the blank line) and a body."""
    text = head[:MAX_HEAD].decode("latin-1", "replace")
    lines = text.split("\r\n")
    line = lines[0].strip()[:200]
    parts = line.split(" ", 2)
    status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() and len(parts[1]) == 3 else None
    headers: dict[str, str] = {}
    for raw in lines[1:]:
        name, colon, value = raw.partition(":")
        if not colon or not name.strip():
            continue
        key, value = name.strip().lower(), value.strip()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    charset = "utf-8" if "utf-8" in headers.get("content-type", "").lower() else "latin-1"
    return ProxyAnswer(status, line, headers, body[:MAX_BODY].decode(charset, "replace"))


def body_length(headers: Mapping[str, str]) -> int | None:
    """How much body follows a CONNECT refusal: Content-Length (capped), else None (read
    until the proxy closes, as tinyproxy does)."""
    value = headers.get("content-length", "").split(",")[0].strip()
    return min(int(value), MAX_BODY) if value.isdigit() else None


def _clean(fragment: str) -> str:
    return " ".join(html.unescape(_TAG.sub(" ", fragment)).split())


def page_title(body: str) -> str:
    found = _TITLE.search(body)
    return _clean(found.group(1))[:120] if found else ""


def refusal_reason(answer: ProxyAnswer) -> str:
    """The proxy's own words for refusing: X-Squid-Error, the page title, its first line."""
    reasons: list[str] = []
    squid = answer.headers.get("x-squid-error", "").strip()
    if squid:
        reasons.append(f"X-Squid-Error: {squid[:80]}")
    title = page_title(answer.body)
    if title:
        reasons.append(f"page {title!r}")
    looks_html = "<" in answer.body and ">" in answer.body
    if looks_html and not squid:  # squid's paragraphs only repeat the URL; others explain
        for found in _PARAGRAPH.finditer(answer.body):
            text = _clean(found.group(1))
            if text and text.lower() not in title.lower():
                reasons.append(repr(text[:160]))
                break
    elif not looks_html and answer.body.strip():
        reasons.append(repr(" ".join(answer.body.split())[:160]))
    if not reasons:
        reasons.append(answer.line[:100] or "no answer line")
    return "; ".join(reasons)


def auth_schemes(answer: ProxyAnswer) -> tuple[str, ...]:
    """The login schemes a 407 offers (Proxy-Authenticate), in the proxy's order."""
    found: list[str] = []
    for segment in answer.headers.get("proxy-authenticate", "").split(","):
        first = segment.strip().split(" ", 1)[0].strip()
        if not first or "=" in first or not _TOKEN.match(first):
            continue  # a parameter of the previous challenge, or junk
        name = KNOWN_SCHEMES.get(first.lower(), first[:20])
        if name not in found:
            found.append(name)
    return tuple(found)
