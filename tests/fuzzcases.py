"""Hypothesis strategies for hostile gateway answers, and the rule every case must meet.

`gateway_answers()` draws one answer per path the doctor asks for. Each path gets
either a well-formed answer (so later checks get to run) or a hostile one: an odd
status line, duplicate / huge / non-ASCII / lying headers, and bodies that are
empty, HTML, JSON of the wrong shape, deeply nested, 100 MB, endless, trickling,
truncated, reset, invalid UTF-8 or a gzip bomb.

`problems(run, canary)` lists what a run did wrong: anything but exit 0/1, a
traceback, a crashed or abandoned check, a check that does not say in one line
what it saw, a report that is missing or does not parse, or the canary anywhere.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from functools import cache
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from .fuzzkit import Reply, Run, gzip_bomb, json_reply

# Profiles: the default suite stays fast; benchmarks/fuzz.py draws the big count.
settings.register_profile(
    "fuzz-suite", max_examples=40, deadline=None, database=None,
    suppress_health_check=list(HealthCheck),
)
settings.register_profile(
    "fuzz-bench", max_examples=10_000, deadline=None, database=None,
    suppress_health_check=list(HealthCheck),
)

MODEL = "lbl/llama"
# "/models" is what the OpenAI SDK lists with the gateway's root as base URL (LiteLLM
# serves it beside /v1/models); the models check asks for it as the SDK does.
PATHS = ("/health/liveliness", "/cdn-cgi/trace", "/key/info", "/user/info", "/model/info",
         "/v1/models", "/models", "/chat/completions", "/spend/calculate", "/cost/calculate")


# ── well-formed answers (as LiteLLM behind Cloudflare gives them) ────────────


@cache
def good_json(path: str) -> Any:
    from .standin_gateway import cborg_catalogue, happy_key_info, happy_user_info

    catalogue = cborg_catalogue()
    listing = {"object": "list", "data": [
        {"id": row["model_name"], "object": "model", "created": 1, "owned_by": "openai"}
        for row in catalogue]}
    return {
        "/health/liveliness": "I'm alive!",
        "/key/info": {"key": "hashed", "info": happy_key_info()},
        "/user/info": {"user_id": "alice@lbl.gov", "user_info": happy_user_info(), "keys": [],
                       "teams": []},
        "/model/info": {"data": catalogue},
        "/v1/models": listing,
        "/models": listing,
        "/spend/calculate": {"cost": 2.4e-05},
        "/cost/calculate": {"cost": 2.4e-05},
        "/chat/completions": {"id": "c", "object": "chat.completion", "model": MODEL,
                              "choices": [{"index": 0, "message": {"role": "assistant",
                                                                   "content": "Hi"}}]},
    }.get(path)


def good_reply(path: str) -> Reply:
    if path == "/cdn-cgi/trace":
        body = b"fl=1\nh=gw\nip=198.51.100.23\nts=1\nvisit_scheme=https\ncolo=SJC\nwarp=off\n"
        return Reply(b"HTTP/1.1 200 OK", ((b"content-type", b"text/plain"), (b"server", b"cloudflare"),
                                          (b"cf-ray", b"8e1f2a3b4c5d6e7f-SJC")), body)
    if path == "/chat/completions":
        chunk = {"id": "c", "object": "chat.completion.chunk", "model": MODEL,
                 "choices": [{"index": 0, "delta": {"content": "Hi"}}]}
        body = f"data: {json.dumps(chunk)}\n\ndata: [DONE]\n\n".encode()
        return Reply(b"HTTP/1.1 200 OK", ((b"content-type", b"text/event-stream"),
                                          (b"x-litellm-response-cost", b"2.4e-05")), body)
    return json_reply(json.dumps(good_json(path)))


# ── hostile pieces ──────────────────────────────────────────────────────────

MARKUP = ["[bold]", "[/]", "[/bold]", "[link=http://x]", "<script>", "]]>", "&amp;", "{0}", "{key}",
          "%s", "\x00", "\x1b[31m", "\u202e", "\ud800", "\r\n", "\n", "Received API Key = "]

texts = st.one_of(
    st.text(max_size=40),
    st.sampled_from(MARKUP),
    st.lists(st.sampled_from(MARKUP), max_size=4).map("".join),
    st.integers(0, 50_000).map(lambda n: "A" * n),
)

json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True), texts,
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(st.one_of(st.text(max_size=8), st.sampled_from(
                                ["error", "info", "data", "message", "spend", "max_budget",
                                 "user_info", "model_name", "model_info", "litellm_params",
                                 "choices", "delta", "content", "cost", "detail", "type", "code",
                                 "expires", "blocked", "key_alias", "user_id", "id"])),
                                inner, max_size=5)),
    max_leaves=12,
)


def _dump(value: Any) -> bytes:
    return json.dumps(value, allow_nan=True, ensure_ascii=False).encode("utf-8", "surrogatepass")


@st.composite
def mutated_json(draw: st.DrawFn, path: str) -> bytes:
    """The good answer for `path` with parts replaced by values of the wrong type or shape."""
    value = good_json(path)

    def walk(node: Any, depth: int) -> Any:
        if draw(st.integers(0, 5)) == 0:
            return draw(json_values)
        if isinstance(node, dict) and depth < 6:
            return {k: walk(v, depth + 1) for k, v in node.items() if draw(st.integers(0, 9)) > 0}
        if isinstance(node, list) and depth < 6:
            return [walk(v, depth + 1) for v in node[:6]]
        return node

    return _dump(walk(value, 0))


def nested(depth: int, kind: str) -> bytes:
    if kind == "list":
        return b"[" * depth + b"]" * depth
    return b'{"a":' * depth + b"1" + b"}" * depth


bodies = st.one_of(
    st.just(b""),
    st.just(b"<html><head><title>Blocked [bold]</title></head><body>Access denied</body></html>"),
    st.just(b"<html><head><title><script>alert(1)</script></title></head></html>"),
    json_values.map(_dump),
    st.binary(max_size=200),
    st.just(b"\xff\xfe\xc3\x28 not utf-8 \xed\xa0\x80"),
    st.tuples(st.integers(1, 200_000), st.sampled_from(["list", "dict"])).map(lambda t: nested(*t)),
    st.just(b'{"error": {"message": "Authentication Error, Received API Key = sk-'),
    st.just(b'{"error": {"message": "Authentication Error, Received API Key = {AUTH}", "code": "401"}}'),
    st.just(b"<html><title>{AUTH}</title>Bearer {AUTH}</html>"),
    st.text(max_size=300).map(lambda s: s.encode("utf-8", "surrogatepass")),
)

statuses = st.one_of(st.sampled_from([200, 201, 204, 301, 302, 304, 400, 401, 403, 404, 407, 429, 500,
                                      502, 503, 504, 520]), st.integers(100, 999))
status_lines = st.one_of(
    statuses.map(lambda n: b"HTTP/1.1 %d Whatever" % n),
    statuses.map(lambda n: b"HTTP/1.0 %d" % n),
    st.sampled_from([b"HTTP/1.1 200", b"HTTP/2 200 OK", b"HTTP/1.1 2000 OK", b"HTTP/1.1 -1 X",
                     b"ICY 200 OK", b"SSH-2.0-OpenSSH_9.6", b"", b"HTTP/1.1 200 \xff\xfe",
                     b"HTTP/1.1 200 OK\r\nHTTP/1.1 500 Again"]),
)

header_names = st.sampled_from([b"content-type", b"content-length", b"server", b"cf-ray",
                                b"cf-mitigated", b"location", b"x-litellm-response-cost",
                                b"x-litellm-version", b"x-litellm-model-id", b"retry-after",
                                b"date", b"set-cookie", b"content-encoding", b"transfer-encoding",
                                b"www-authenticate", b"x-litellm-key-spend", b"X-Odd\xff"])
header_values = st.one_of(
    st.sampled_from([b"application/json", b"text/html; charset=UTF-8", b"text/event-stream",
                     b"cloudflare", b"8e1f2a3b4c5d6e7f-SJC", b"challenge", b"http://other.test/x",
                     b"//evil.test", b"nan", b"-1", b"1e999", b"abc", b"99999999999999999999",
                     b"gzip", b"chunked", b"identity, chunked", b"0", b"\xc3\xa9t\xc3\xa9",
                     b"\xff\xfe", b"[bold red]x[/]", b"{AUTH}", b"Bearer {AUTH}", b"Mon, 32 Foo 99999 25:61:61 GMT"]),
    st.binary(max_size=40).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b"")),
    st.integers(1, 200_000).map(lambda n: b"v" * n),
)
headers = st.lists(st.tuples(header_names, header_values), max_size=6)


@st.composite
def hostile_reply(draw: st.DrawFn, path: str) -> Reply:
    kind = draw(st.sampled_from(["shape", "body", "headers", "status", "mode", "mode", "bomb", "raw"]))
    good = good_reply(path)
    if kind == "shape" and good_json(path) is not None:
        return Reply(good.status_line, good.headers, draw(mutated_json(path)))
    if kind == "body":
        return Reply(good.status_line, tuple(draw(st.permutations(list(good.headers)))), draw(bodies))
    if kind == "headers":
        extra = tuple(draw(headers))
        return Reply(good.status_line, good.headers + extra, good.body,
                     auto_length=draw(st.booleans()))
    if kind == "status":
        return Reply(draw(status_lines), good.headers, draw(st.one_of(st.just(good.body), bodies)))
    if kind == "bomb":
        return Reply(good.status_line, ((b"content-type", b"application/json"),
                                        (b"content-encoding", draw(st.sampled_from([b"gzip", b"deflate"])))),
                     _bomb())
    if kind == "raw":
        return Reply(raw=draw(st.one_of(st.binary(max_size=300), st.just(b"\x16\x03\x01\x00\x05hello"))))
    mode = draw(st.sampled_from(["huge", "endless", "trickle", "truncated", "reset", "stall"]))
    fill = draw(st.sampled_from([b"x" * 65536, b"[" * 65536, b"\xff" * 65536, b"data: {}\n\n" * 6000]))
    size = draw(st.sampled_from([0, 1, 1 << 20, 8 << 20, 100 << 20]))
    return Reply(good.status_line, good.headers, good.body, mode=mode, size=size, fill=fill,
                 auto_length=draw(st.booleans()))


@cache
def _bomb() -> bytes:
    return gzip_bomb(100 << 20)


@st.composite
def gateway_answers(draw: st.DrawFn) -> dict[str, Reply]:
    """One answer per path: mostly well-formed, a few hostile (at least one)."""
    hostile = draw(st.lists(st.sampled_from(PATHS), min_size=1, max_size=3, unique=True))
    return {path: draw(hostile_reply(path)) if path in hostile else good_reply(path)
            for path in PATHS}


# ── what every run must do ──────────────────────────────────────────────────

ALLOWED_ERRORS = ()  # no check may end as `error` (crashed or abandoned)


def problems(run: Run, canary: str, json_stdout: bool = True) -> list[str]:
    """Everything this run did against the contract (empty: it behaved)."""
    found: list[str] = []
    if run.code is None:
        return [f"hang: no exit after {run.seconds:.1f} s"]
    if run.code not in (0, 1):
        found.append(f"exit {run.code}: {run.stderr.strip()[-300:]}")
    text = run.stdout + run.stderr
    if "Traceback" in text or "internal error" in text:
        found.append(f"traceback or internal error: {text[-500:]}")
    if canary.encode() in run.everything or canary[3:].encode() in run.everything:
        found.append("the canary key leaked")
    report = None
    if json_stdout:
        try:
            report = json.loads(run.stdout)
        except ValueError:
            found.append(f"stdout is not JSON: {run.stdout[:200]!r}")
    if run.reports:
        for suffix in (".json", ".md", ".xml", ".html"):
            if suffix not in run.reports:
                found.append(f"no {suffix} report")
        try:
            report = json.loads(run.reports[".json"])
        except (ValueError, KeyError):
            found.append("the JSON report does not parse")
        if b"<script" in run.reports.get(".html", b"").lower():
            found.append("server text reached the HTML report unescaped (<script>)")
        try:
            ET.fromstring(run.reports.get(".xml", b""))
        except ET.ParseError as exc:
            found.append(f"the JUnit report does not parse: {exc}")
    if report is not None:
        found += check_results(report)
    return found


def check_results(report: dict[str, Any]) -> list[str]:
    found = []
    for check in report.get("checks", []):
        codes = [f.get("code") for f in check.get("findings", [])]
        if check["status"] == "error":
            found.append(f"{check['id']} ended as error: {check['summary']} {codes}")
        summary = check.get("summary") or ""
        if not summary.strip():
            found.append(f"{check['id']} says nothing (empty summary)")
        if "\n" in summary or "\r" in summary:
            found.append(f"{check['id']} summary is not one line: {summary[:200]!r}")
        if len(summary) > 400:
            found.append(f"{check['id']} summary is {len(summary)} characters long")
        for finding in check.get("findings", []):
            message = finding.get("message", "")
            if "\n" in message or "\r" in message:
                found.append(f"{check['id']} {finding.get('code')} message is not one line: {message[:200]!r}")
            if len(message) > 1000:
                found.append(f"{check['id']} {finding.get('code')} message is {len(message)} characters long")
    return found
