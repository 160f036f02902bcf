"""`clients.paths`: for each tool set up for CBorg, the request that tool really sends.

`config.clients` leaves the setups it found (`CLIENT_SETUPS`); this check builds, for each
tool, the request of its own kind to the URL it builds from its settings (`wire.build`),
with its header style and the key it reads, and sends it through `cborg_doctor.probes.http`
(concurrently, at most `WORKERS` at a time, within the run's time bound).

The key a tool reads is sent only where the run's key may go: to the gateway under test
(same origin), over HTTPS or plain HTTP to loopback, never across a redirect. A tool
pointed elsewhere (OpenAI, api-local while the run tests api.cborg, another host) is not
sent anything: its row says why, and `CLIENT_BASE_URL` names the line to change. A key
the run does not hold (pasted in a file, not the user's current key) is not sent either.

Answers, per tool (first match wins)::

    2xx                               CLIENT_PATH_OK      "would work"
    404 / 405                         CLIENT_PATH_FAILED  the URL the tool builds does not exist
    401 / "No api key passed in"      CLIENT_PATH_FAILED  the key the tool sends is refused / missing
    400 "Invalid model name"          CLIENT_PATH_FAILED  the model (CLIENT_MODEL_UNKNOWN from `models`)
    anything else, or no answer       CLIENT_PATH_FAILED  what the gateway said
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

from cborg_doctor.api import Check, Code, Finding, Outcome, RunContext, Severity
from cborg_doctor.facts import CLIENT_ROOTS, CLIENT_SETUPS
from cborg_doctor.probes import http
from cborg_doctor.probes.gatewayanswer import classify_error
from cborg_doctor.secrets import ApiKey
from cborg_doctor.target import parse_target

from .audit import is_cborg_client
from .files import Roots
from .model import CBORG_ROOT, CBORG_V1, ClientEntry, KeyKind, Wire, redact_url
from .wire import ToolRequest, build, what_the_tool_shows

WORKERS = 6  # nine tools fit in two rounds, so each request keeps half the bound
MAX_REQUESTS = 24  # more setups than this are listed, not sent (the run's bound holds)

CLIENT_PATH_OK = Code(
    "CLIENT_PATH_OK",
    Severity.INFO,
    "{tool} ({file}): would work. {request} → HTTP {status}; model {model}; key {key}.{note}",
    fix=("Nothing to change for {tool}.",),
    explain="The request this tool sends (its own URL, header style, key and model) was sent "
    "to the gateway and accepted. Without --live it is the tool's unbilled request (model "
    "listing, token counting); with --live one tiny real request.",
)
CLIENT_PATH_FAILED = Code(
    "CLIENT_PATH_FAILED",
    Severity.FAIL,
    "{tool} would fail: {request} → {said}. {cause} ({file}; model {model}; key {key}). "
    "The tool will show {shows}.",
    fix=("{change}",),
    explain="The doctor sent the request this tool sends, built from the tool's own settings "
    "(the URL it builds, its header style, the key it reads), and the gateway refused it, "
    "while the doctor's own request path works. The fix names the file and setting to change.",
)
CLIENT_PATH_UNTESTED = Code(
    "CLIENT_PATH_UNTESTED",
    Severity.INFO,
    "{tool} ({file}): not tested: {reason}.",
    fix=("Fix what config.clients reports for {tool} ({file}), then run the doctor again.",),
    explain="The doctor sends a tool's key only to the gateway under test. A tool pointed "
    "elsewhere, behind a local proxy, or with a key this run does not hold is not tested; "
    "config.clients says what is wrong with its settings.",
)
CODES = (CLIENT_PATH_OK, CLIENT_PATH_FAILED, CLIENT_PATH_UNTESTED)


@dataclass(frozen=True)
class Plan:
    """One tool setup to test: the request, the key it carries, or why it is not sent."""

    entry: ClientEntry
    file: str
    request: ToolRequest
    key: ApiKey | None
    skip: str = ""


def _same_origin(url: str, ctx: RunContext) -> bool:
    target = parse_target(url, "")
    gateway = ctx.target
    return target.valid and (target.scheme, target.host.lower(), target.port) == \
        (gateway.scheme, gateway.host.lower(), gateway.port)


def continue_secret(name: str, ctx: RunContext) -> str:
    """``${{ secrets.NAME }}``: Continue's local secrets are ``~/.continue/.env`` (and the
    workspace's ``.continue/.env``), then the process environment (docs.continue.dev,
    "Secrets": local assistants read ``.env`` files)."""
    from .files import read_config
    from .parsers import parse_dotenv_values

    roots = Roots(ctx.home, ctx.cwd)
    for base in (ctx.cwd, ctx.home):
        if base is None:
            continue
        result = read_config(base / ".continue" / ".env", roots)
        if result is not None and result.text:
            value = parse_dotenv_values(result.text).get(name, "").strip()
            if value:
                return value
    return ctx.env.get(name, "").strip()


def tool_key(entry: ClientEntry, ctx: RunContext) -> tuple[ApiKey | None, str]:
    """The key the tool sends, if this run holds it; else (None, why not)."""
    if entry.secret is not None:
        return entry.secret, ""
    key = entry.key
    if key.kind is KeyKind.ENV or (key.kind is KeyKind.DEFAULT and key.name.startswith("$")):
        name = key.name.lstrip("$").split(" ", 1)[0]
        value = ctx.env.get(name, "").strip()
        return (ApiKey(value, f"env:{name}"), "") if value else (None, "")
    if key.kind is KeyKind.LITERAL:
        if key.known and ctx.key is not None:
            return ctx.key, ""
        return None, f"its key is pasted in {'the file'} and is not the key this shell uses"
    if key.kind is KeyKind.PLACEHOLDER:
        return None, "it sends placeholder text as its key (see CLIENT_KEY_PLACEHOLDER)"
    if key.kind is KeyKind.SECRET and entry.tool == "Continue":
        value = continue_secret(key.name, ctx)
        if value:
            return ApiKey(value, f"continue-secret:{key.name}"), ""
        return None, ""  # Continue finds no such secret and sends none
    if key.kind in (KeyKind.SECRET, KeyKind.FILE_REF):
        return None, f"its key comes from {key.describe()}, which the doctor does not read"
    return None, ""  # no key at all: the tool sends none, and so does the doctor


def plan(entry: ClientEntry, roots: Roots, ctx: RunContext) -> Plan:
    file = roots.display(entry.base_url_file)
    request = build(entry, ctx.options.live)
    if not entry.base_url:
        return Plan(entry, file, request, None, "it has no base URL (see CLIENT_BASE_URL)")
    if is_cborg_client(entry.base_url):
        return Plan(entry, file, request, None,
                    "it goes through the cborg-client proxy, which adds the key itself "
                    "(CLIENT_PROXY_UP / CLIENT_PROXY_DOWN)")
    if not _same_origin(request.url, ctx):
        shown = parse_target(entry.base_url, "")
        where = shown.host if shown.valid else redact_url(entry.base_url)
        return Plan(entry, file, request, None,
                    f"it sends to {where}, not to the gateway under test ({ctx.target.host}): "
                    "its key is not sent there (see CLIENT_BASE_URL)")
    key, why = tool_key(entry, ctx)
    return Plan(entry, file, request, key, why)


def _timeout(ctx: RunContext, count: int) -> float:
    """Each request's limit, so that rounds of WORKERS requests (each bounded by twice its
    limit in the probe layer) end within what is left of this check's deadline."""
    rounds = max(1, -(-count // WORKERS))
    room = ctx.deadline.remaining / rounds / 2
    return max(0.2, min(ctx.timeout, room))


def _send(ctx: RunContext, item: Plan, timeout: float) -> http.HttpResult:
    parts = urlsplit(item.request.url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    credential = http.Credential(item.key, item.entry.auth_header) if item.key else None
    return http.request(ctx, item.request.method, path, send_key=credential is not None,
                        credential=credential, json_body=item.request.body,
                        headers=item.request.headers, timeout=timeout, max_body=256 << 10)


def _said(result: http.HttpResult) -> str:
    if result.status is None:
        return f"{result.error or 'no answer'}: {result.detail}".strip(": ")
    if 200 <= result.status < 300:
        return f"HTTP {result.status}"
    return classify_error(result.status, result.json(), result.text).said


def _suggested_base(entry: ClientEntry, ctx: RunContext) -> str:
    """The base URL this tool needs on the gateway under test."""
    root = ctx.target.origin if ctx.target.valid else CBORG_ROOT
    if entry.wire in (Wire.ANTHROPIC, Wire.GEMINI):
        return root
    return root + "/v1" if root != CBORG_ROOT else CBORG_V1


def _cause(item: Plan, result: http.HttpResult, ctx: RunContext) -> tuple[str, str, dict[str, Any]]:
    """(cause, the change to make, data for --fix) for a refused request."""
    from .check import fix_target

    entry, roots = item.entry, ctx.fact(CLIENT_ROOTS) or Roots(ctx.home, ctx.cwd)
    status = result.status
    text = result.text.lower()
    setting_line = f", line {entry.base_url_line}" if entry.base_url_line else ""
    if status in (404, 405):
        value = _suggested_base(entry, ctx)
        data = {"cause": "url", **fix_target(entry, roots, value)}
        return (f"The URL {entry.tool} builds from {entry.base_url_setting} = "
                f"{redact_url(entry.base_url or '')} does not exist on the gateway",
                f"In {item.file}{setting_line}, set {entry.base_url_setting} to {value}.", data)
    if status == 401 or "no api key" in text:
        if item.key is None:
            cause = f"{entry.tool} sends no key: {entry.key_setting} is not set"
        else:
            cause = f"the gateway refused the key {entry.tool} sends from {entry.key.describe()}"
        return (cause, f"Give {entry.tool} your CBorg key in {entry.key_setting}: "
                f"{entry.env_reference}.", {"cause": "key", "file": item.file,
                                            "key_setting": entry.key_setting})
    if status == 400 and "beta" in text and entry.wire == Wire.ANTHROPIC:
        return ("the gateway refused an anthropic-beta feature Claude Code asks for",
                "export CLAUDE_CODE_DISABLE_EXPERIMENTAL_BETAS=1 (or add it to the \"env\" block "
                f"of {item.file}), so Claude Code stops sending experimental beta headers.",
                {"cause": "beta", "file": item.file})
    if status == 400 and "model" in text:
        return (f"the gateway has no model {item.request.model!r} (see CLIENT_MODEL_UNKNOWN)",
                f"In {item.file}, change the model to one the gateway lists (GET /v1/models).",
                {"cause": "model", "file": item.file, "model": item.request.model})
    return ("the gateway refused the request", f"Check {entry.base_url_setting} and "
            f"{entry.key_setting} in {item.file}; if they are right, email scienceit@lbl.gov "
            "with this report.", {"cause": "other", "file": item.file})


def _row(item: Plan, status: str, result: str, http_status: int | None) -> dict[str, Any]:
    entry = item.entry
    return {
        "tool": entry.tool, "file": item.file, "setup": entry.label,
        "url": redact_url(item.request.url), "request": item.request.method,
        "model": item.request.model or None, "key": entry.key.describe(),
        "header": _header(entry), "status": status, "result": result,
        "http_status": http_status,
    }


def _header(entry: ClientEntry) -> str:
    return str(getattr(entry.auth_header, "value", entry.auth_header))


def _key_text(item: Plan) -> str:
    if item.key is None:
        return "none"
    header = _header(item.entry)
    style = "Bearer" if header == "Authorization" else header
    if item.entry.key.kind is KeyKind.LITERAL:  # describe() already shows the fingerprint
        return f"{item.entry.key.describe()} ({style})"
    return f"{item.entry.key.describe()} ({item.key.fingerprint}, {style})"


def judge(item: Plan, result: http.HttpResult, ctx: RunContext) -> tuple[Finding, dict[str, Any]]:
    entry = item.entry
    request = f"{item.request.method} {redact_url(item.request.url)}"
    model = item.request.model or "–"
    note = f" Note: {entry.note}." if entry.note else ""
    if result.status is not None and 200 <= result.status < 300 and result.error is None:
        return (CLIENT_PATH_OK.finding(tool=entry.tool, file=item.file, request=request,
                                       status=result.status, model=model, key=_key_text(item),
                                       note=note,
                                       data={"tool": entry.tool, "file": item.file,
                                             "url": redact_url(item.request.url)}),
                _row(item, "ok", "would work", result.status))
    said = ctx.scrub(_said(result))
    cause, change, data = _cause(item, result, ctx)
    finding = CLIENT_PATH_FAILED.finding(
        tool=entry.tool, file=item.file, request=request, said=said, cause=cause[0].upper() + cause[1:],
        model=model, key=_key_text(item), shows=what_the_tool_shows(entry, result.status, said),
        change=change, extra_fix=(f"Also: {entry.note}.",) if entry.note else (),
        data={"tool": entry.tool, "status": result.status, "url": redact_url(item.request.url),
              **data})
    row = _row(item, "fail", f"{cause} ({said})", result.status)
    row.update(cause=data.get("cause"), edit={k: v for k, v in data.items() if k != "cause"})
    return finding, row


def _groups(entries: list[ClientEntry]) -> list[ClientEntry]:
    """One setup per tool, file, URL, key and header: the first model stands for the rest."""
    seen: dict[tuple[Any, ...], ClientEntry] = {}
    for entry in entries:
        key = (entry.tool, entry.base_url_file, entry.base_url, entry.key.describe(),
               entry.auth_header, entry.wire, entry.label)
        seen.setdefault(key, entry)
    return list(seen.values())


def run(ctx: RunContext) -> Outcome:
    started = time.monotonic()
    if ctx.fact(CLIENT_SETUPS) is None:  # config.clients was not selected (--only clients.paths)
        from .check import find_setups

        find_setups(ctx)
    entries = ctx.fact(CLIENT_SETUPS) or []
    roots = ctx.fact(CLIENT_ROOTS) or Roots(ctx.home, ctx.cwd)
    plans = [plan(e, roots, ctx) for e in _groups(list(entries))]
    over = [i for i, p in enumerate(plans) if not p.skip][MAX_REQUESTS:]
    for index in over:
        plans[index] = replace(plans[index], skip=f"more than {MAX_REQUESTS} tool setups: "
                               "only the first ones are tested within the run's time bound")
    if not plans:
        return Outcome("no tool set up for CBorg", skipped_because="config.clients found no tool "
                       "set up for CBorg")
    sendable = [p for p in plans if not p.skip]
    timeout = _timeout(ctx, len(sendable))
    with ThreadPoolExecutor(max_workers=min(WORKERS, max(1, len(sendable))),
                            thread_name_prefix="clients-paths") as pool:
        results = list(pool.map(lambda p: _send(ctx, p, timeout), sendable))
    findings: list[Finding] = []
    rows: list[dict[str, Any]] = []
    answered = dict(zip((id(p) for p in sendable), results, strict=True))
    for item in plans:
        if item.skip:
            findings.append(CLIENT_PATH_UNTESTED.finding(tool=item.entry.tool, file=item.file,
                                                         reason=item.skip))
            rows.append(_row(item, "untested", item.skip, None))
            continue
        finding, row = judge(item, answered[id(item)], ctx)
        findings.append(finding)
        rows.append(row)
    findings.sort(key=lambda f: f.severity is Severity.INFO)  # failures first, for the verdict
    failed = [r["tool"] for r in rows if r["status"] == "fail"]
    works = [r["tool"] for r in rows if r["status"] == "ok"]
    parts = []
    if works:
        parts.append(f"works: {', '.join(dict.fromkeys(works))}")
    if failed:
        parts.append(f"would fail: {', '.join(dict.fromkeys(failed))}")
    untested = len(rows) - len(works) - len(failed)
    if untested:
        parts.append(f"{untested} not tested")
    return Outcome("; ".join(parts), findings, {
        "rows": rows, "live": ctx.options.live,
        "duration_ms": round((time.monotonic() - started) * 1000)})


def share_setups(ctx: RunContext, entries: list[ClientEntry], roots: Roots) -> None:
    """Called by `config.clients`: the setups this check tests."""
    ctx.share(CLIENT_SETUPS, entries)
    ctx.share(CLIENT_ROOTS, roots)


CHECK = Check(
    id="clients.paths",
    title="Tool request paths",
    run=run,
    needs=("auth",),
    uses=("config.clients",),  # reads the setups it found, whatever its status
    codes=CODES,
    order=175,
    description="for each tool set up for CBorg, the request that tool really sends (its URL, "
    "header style, model, key)",
)

