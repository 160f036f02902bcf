"""`models`: the catalogue this key sees, `--model` in it, and the models tools are set to.

``GET /model/info`` gives prices, context sizes, capabilities and the dated
model behind each alias; ``GET /v1/models`` (names only) is the fallback.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any

from cborg_doctor.api import Check, Code, Finding, Outcome, RunContext, Severity
from cborg_doctor.facts import CATALOGUE
from cborg_doctor.probes.gatewayanswer import ModelEntry, alias_target, parse_model_info, parse_model_list
from cborg_doctor.registry import closest
from cborg_doctor.shared_codes import BASE_URL_PATH

from .account import money
from .request import Reply, Window, call

# Models that add CBorg's system prompt, and the same kind of model without it.
SYSTEM_PROMPT_MODELS = MappingProxyType(
    {"lbl/cborg-chat": "lbl/llama", "lbl/cborg-coder": "lbl/qwen-coder"})
# Prefixes a client may put before a gateway model name (aider, LiteLLM SDK).
CLIENT_PREFIXES = ("openai/", "litellm_proxy/")

MODELS_UNAVAILABLE = Code(
    "MODELS_UNAVAILABLE",
    Severity.FAIL,
    "The model catalogue could not be read (GET /model/info: {info}; GET /v1/models: {models}).",
    fix=(
        "If this persists, email scienceit@lbl.gov with this report: tools that list models "
        "first (editors, agents) fail the same way.",
    ),
    explain="Both catalogue routes failed although the key was accepted.",
)
MODEL_NOT_FOUND = Code(
    "MODEL_NOT_FOUND",
    Severity.FAIL,
    "The gateway has no model named {model!r} for this key{nearest}.",
    fix=(
        "Use one of the names the gateway lists, exactly (case and prefix matter): {suggest}",
        "List them yourself: curl -H \"Authorization: Bearer $CBORG_API_KEY\" "
        "{base_url}/v1/models",
    ),
    explain="The model name a client sends must match a `model_name` in the gateway's "
    "catalogue; LiteLLM answers 400 'Invalid model name passed in model=...' otherwise.",
)
MODEL_ALIAS = Code(
    "MODEL_ALIAS",
    Severity.INFO,
    "{model} is an alias: it currently points to {target}.",
    fix=(
        "To avoid silent upgrades (different answers, prices or limits), use the dated "
        "model name if the gateway offers it, or record which model answered "
        "(the x-litellm-model-id response header).",
    ),
    explain="CBorg names like anthropic/claude-sonnet follow the newest version of a model; "
    "the gateway moves the alias when a new version arrives.",
)
MODEL_SYSTEM_PROMPT = Code(
    "MODEL_SYSTEM_PROMPT",
    Severity.INFO,
    "{model} adds CBorg's own system prompt to every request.",
    fix=("For full control of the prompt use {plain} instead.",),
    explain="lbl/cborg-chat and lbl/cborg-coder wrap a model with a default system prompt; "
    "lbl/llama and lbl/qwen-coder are the same kind of model without it.",
)
MODEL_DETAILS = Code(
    "MODEL_DETAILS",
    Severity.INFO,
    "{model}: {details}.",
    explain="What /model/info says about the model given with --model.",
)
CLIENT_MODEL_UNKNOWN = Code(
    "CLIENT_MODEL_UNKNOWN",
    Severity.WARN,
    "{tool} is set to the model {model!r} ({file}), which the gateway does not have{nearest}.",
    fix=("Change the model in {file} to {suggest}.",),
    explain="A tool found by config.clients names a model that is not in the gateway's "
    "catalogue, so its requests fail with 'Invalid model name'.",
)
MODELS_EMPTY = Code(
    "MODELS_EMPTY",
    Severity.WARN,
    "The gateway lists no models for this key ({source}).",
    fix=("Ask scienceit@lbl.gov which models your key should reach (include its alias or "
         "fingerprint, never the key).",),
    explain="The catalogue was read but is empty: the key (or its team) may be limited to "
    "no models, or the gateway is misconfigured.",
)
CODES = (MODELS_UNAVAILABLE, MODELS_EMPTY, MODEL_NOT_FOUND, MODEL_ALIAS, MODEL_SYSTEM_PROMPT, MODEL_DETAILS,
         CLIENT_MODEL_UNKNOWN, BASE_URL_PATH)

# What the SDK's listing URL may answer without the path being at fault: the key, the
# rate limit, the gateway's own trouble are other checks' findings, not the base URL's.
NOT_THE_PATH = frozenset({401, 403, 407, 408, 429})

SDK_PATH_MESSAGE = (
    "The OpenAI SDK with base_url={base_url} requests {url}, which answers {said}: every "
    "client using this base URL fails the same way (the gateway answers at {suggested})."
)


def lookup(name: str, catalogue: Iterable[ModelEntry], *, client: bool = False
           ) -> ModelEntry | None:
    """The entry a model name reaches: exact; for a tool's setting also after the prefix
    the tool strips before sending (aider's ``openai/``)."""
    by_name = {m.name: m for m in catalogue}
    if name in by_name:
        return by_name[name]
    if not client:
        return None
    for prefix in CLIENT_PREFIXES:
        if name.startswith(prefix) and name[len(prefix):] in by_name:
            return by_name[name[len(prefix):]]
    return None


def nearest(name: str, names: list[str]) -> list[str]:
    """Close names: same name under another provider prefix, then difflib's best."""
    tail = name.rsplit("/", 1)[-1].lower()
    same_tail = [n for n in names if n.rsplit("/", 1)[-1].lower() == tail]
    found = same_tail + [n for n in closest(name, names, n=3) if n not in same_tail]
    if not found:
        found = [n for n in names if tail and tail in n.lower()]
    return found[:3]


def describe(entry: ModelEntry) -> str:
    """Capabilities and price in one line."""
    parts: list[str] = []
    if entry.underlying:
        parts.append(f"serves {entry.underlying}")
    if entry.max_input_tokens:
        parts.append(f"context {entry.max_input_tokens:,} tokens")
    for flag, label in ((entry.supports_vision, "vision"),
                        (entry.supports_prompt_caching, "prompt caching"),
                        (entry.supports_function_calling, "function calling")):
        if flag is not None:
            parts.append(f"{label} {'yes' if flag else 'no'}")
    price = entry.price_per_million()
    if entry.free:
        parts.append("free")
    elif price is not None:
        parts.append(f"{money(price[0])} in / {money(price[1])} out per 1M tokens")
    return ", ".join(parts) or "no details published"


def model_findings(ctx: RunContext, name: str, catalogue: list[ModelEntry],
                   detailed: bool) -> list[Finding]:
    entry = lookup(name, catalogue)
    names = [m.name for m in catalogue]
    if entry is None:
        near = nearest(name, names)
        return [MODEL_NOT_FOUND.finding(
            model=name, nearest=f"; closest: {', '.join(near)}" if near else "",
            suggest=", ".join(near or names[:8]), base_url=ctx.target.base_url,
            data={"closest": near})]
    found: list[Finding] = []
    target = alias_target(entry)
    if target:
        found.append(MODEL_ALIAS.finding(model=entry.name, target=target,
                                         data={"target": target}))
    if entry.name in SYSTEM_PROMPT_MODELS:
        found.append(MODEL_SYSTEM_PROMPT.finding(model=entry.name,
                                                 plain=SYSTEM_PROMPT_MODELS[entry.name]))
    if detailed:
        found.append(MODEL_DETAILS.finding(model=entry.name, details=describe(entry)))
    return found


def configured_models(ctx: RunContext) -> list[Mapping[str, Any]]:
    """What config.clients found configured: [{"tool", "model", "file"}]."""
    result = ctx.result("config.clients")
    rows = result.data.get("configured_models") if result is not None else None
    if not isinstance(rows, list):
        return []
    return [r for r in rows if isinstance(r, Mapping) and isinstance(r.get("model"), str)]


def client_findings(ctx: RunContext, catalogue: list[ModelEntry]) -> list[Finding]:
    names = [m.name for m in catalogue]
    found: list[Finding] = []
    seen: set[tuple[str, str]] = set()
    for row in configured_models(ctx):
        model, tool = str(row["model"]), str(row.get("tool") or "a tool")
        if (tool, model) in seen or lookup(model, catalogue, client=True) is not None:
            continue
        seen.add((tool, model))
        near = nearest(model, names)
        found.append(CLIENT_MODEL_UNKNOWN.finding(
            tool=tool, model=model, file=str(row.get("file") or "its settings"),
            nearest=f"; closest: {', '.join(near)}" if near else "",
            suggest=near[0] if near else "a model from GET /v1/models",
            data={"closest": near}))
    return found


def read_catalogue(ctx: RunContext, deadline: Window
                   ) -> tuple[list[ModelEntry] | None, bool, list[Reply | None]]:
    """(catalogue, detailed?, replies): /model/info first, /v1/models when it gives nothing.

    An empty but well-formed list is a catalogue too (MODELS_EMPTY), None is no catalogue.
    """
    info = call(ctx, deadline, "GET", "/model/info", share=0.5, max_body=8 << 20)
    detailed = parse_model_info(info.body) if info is not None and info.ok else None
    if detailed:
        return detailed, True, [info]
    listing = call(ctx, deadline, "GET", "/v1/models", max_body=8 << 20)
    names = parse_model_list(listing.body) if listing is not None and listing.ok else None
    if names:
        return names, False, [info, listing]
    if detailed is not None:
        return detailed, True, [info, listing]
    return names, False, [info, listing]


def base_url_fix(ctx: RunContext, suggested: str) -> str:
    """The one step that sets the working base URL where this one came from."""
    source = ctx.target.source
    if source.startswith("env:"):
        return f"export {source.removeprefix('env:')}={suggested}"
    return (f"Use base_url=\"{suggested}\" in OpenAI(...) and in your tools' settings "
            f"(and --base-url {suggested} here).")


def sdk_listing(ctx: RunContext, deadline: Window, replies: list[Reply | None]
                ) -> tuple[Finding | None, dict[str, Any]]:
    """GET {base_url}/models with the key, as the OpenAI SDK sends it: does the path work?

    The rest of the catalogue is read at the gateway's root; this is the URL the user's
    clients use. Only an answer that is about the path (404, 405, no model list) fails.
    """
    target = ctx.target
    path = target.sdk_path("models")
    url = target.origin + path
    reply = next((r for r in replies if r is not None and r.path == path), None)
    if reply is None:
        reply = call(ctx, deadline, "GET", path, share=0.5, max_body=8 << 20)
    data: dict[str, Any] = {"url": url, "status": None}
    if reply is None or reply.network_error:
        data["said"] = reply.said() if reply is not None else "not asked: no time left"
        return None, data
    status = reply.result.status
    data["status"] = status
    if reply.ok and parse_model_list(reply.body) is not None:
        return None, data
    if status in NOT_THE_PATH or (status is not None and status >= 500):
        data["said"] = reply.said()
        return None, data
    said = reply.said() if not reply.ok else f"HTTP {status} without a model list"
    suggested = target.origin if target.path else target.origin + "/v1"
    data.update(said=said, suggested=suggested, blocks=True)
    finding = BASE_URL_PATH.finding(
        SDK_PATH_MESSAGE, severity=Severity.FAIL, base_url=target.base_url, url=url, said=said,
        suggested=suggested, data=data,
        extra_fix=(base_url_fix(ctx, suggested),),
    )
    return finding, data


def _said(reply: Reply | None) -> str:
    if reply is None:
        return "not asked"
    if reply.ok:
        return f"HTTP {reply.result.status} but not a model list"
    return reply.said()


def run(ctx: RunContext) -> Outcome:
    deadline = Window(ctx)
    catalogue, detailed, replies = read_catalogue(ctx, deadline)
    if catalogue is None:
        info = replies[0] if replies else None
        listing = replies[1] if len(replies) > 1 else None
        return Outcome("catalogue unavailable", [MODELS_UNAVAILABLE.finding(
            info=_said(info), models=_said(listing))])
    ctx.share(CATALOGUE, catalogue)
    path_finding, sdk_data = sdk_listing(ctx, deadline, replies)
    free = [m.name for m in catalogue if m.free is True]
    paid = [m.name for m in catalogue if m.free is False]
    summary = f"{len(catalogue)} models"
    if detailed:
        summary += f" ({len(free)} free, {len(paid)} paid)"
    else:
        summary += " (names only: /model/info was not available)"
    findings: list[Finding] = [path_finding] if path_finding is not None else []
    if not catalogue:
        findings.append(MODELS_EMPTY.finding(
            source="GET /model/info" if detailed else "GET /v1/models"))
    model = ctx.options.model
    if model:
        findings += model_findings(ctx, model, catalogue, detailed)
        entry = lookup(model, catalogue)
        if entry is not None:
            summary += f"; {entry.name} available"
    findings += client_findings(ctx, catalogue)
    answered = next((r for r in replies if r is not None and r.ok), None)
    data = {
        "source": "GET /model/info" if detailed else "GET /v1/models",
        "litellm_version": answered.result.headers.get("x-litellm-version") if answered else None,
        "count": len(catalogue),
        "sdk_listing": sdk_data,
        "free": free,
        "paid": paid,
        "models": [
            {"name": m.name, "underlying": m.underlying, "free": m.free,
             "max_input_tokens": m.max_input_tokens}
            for m in catalogue[:500]
        ],
    }
    return Outcome(summary, findings, data)


CHECK = Check(
    id="models",
    title="Models",
    run=run,
    needs=("auth",),
    uses=("config.clients",),  # CLIENT_MODEL_UNKNOWN reads what it found, whatever its status
    codes=CODES,
    order=150,
    description="the model catalogue, --model in it, aliases, capabilities",
)
