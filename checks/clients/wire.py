"""The request each tool sends, built from its settings: URL, method, headers, body.

Pure: a `ClientEntry` in, a `ToolRequest` out. Without ``--live`` the request costs
nothing (no tokens are generated); with ``--live`` it is one tiny real request of the
tool's own kind, with its configured model (an OpenAI-style tool whose model is picked in
its own UI gets the unbilled request)::

    wire        the tool calls                     unbilled probe                          live
    ──────────  ─────────────────────────────────  ──────────────────────────────────────  ─────────────────────────────
    chat        {base}/chat/completions            GET {base}/models                       POST {base}/chat/completions
    responses   {base}/responses                   POST {base}/responses/input_tokens      POST {base}/responses
    anthropic   {base}/v1/messages                 POST {base}/v1/messages/count_tokens    POST {base}/v1/messages
    gemini      {base}/v1beta/models/M:generate…   POST {base}/v1beta/models/M:countTokens POST …/M:generateContent

LiteLLM serves every unbilled route above (``anthropic_endpoints/endpoints.py``
``count_tokens``, ``response_api_endpoints/endpoints.py`` ``/v1/responses/input_tokens``,
``google_endpoints/endpoints.py`` ``:countTokens``): it asks the provider's own free
counting API, or estimates locally. Header styles: ``Authorization: Bearer`` (OpenAI
SDKs, Codex, Claude Code's ``ANTHROPIC_AUTH_TOKEN``), ``x-api-key`` (Claude Code's
``ANTHROPIC_API_KEY``), ``x-goog-api-key`` (Gemini CLI); LiteLLM accepts all three.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from .model import ClientEntry, Wire

PROMPT = "ping"
CLAUDE_DEFAULT_MODEL = "claude-sonnet-4-5"  # what Claude Code asks for with no model set
ANTHROPIC_VERSION = "2023-06-01"


@dataclass(frozen=True)
class ToolRequest:
    """One request as the tool would send it (the key is added by the probe)."""

    method: str
    url: str
    body: Any
    headers: dict[str, str]
    model: str

    @property
    def shown(self) -> str:
        return f"{self.method} {self.url}"


def _join(base: str, path: str) -> str:
    """How the tools' SDKs join: the base URL as written, without a trailing slash, + path."""
    return base.rstrip("/") + path


def build(entry: ClientEntry, live: bool) -> ToolRequest:
    base = entry.base_url or ""
    wire = entry.wire
    if wire == Wire.ANTHROPIC:
        model = entry.model or CLAUDE_DEFAULT_MODEL
        body: dict[str, Any] = {"model": model, "messages": [{"role": "user", "content": PROMPT}]}
        if live:
            body["max_tokens"] = 1
        path = "/v1/messages" if live else "/v1/messages/count_tokens"
        return ToolRequest("POST", _join(base, path), body,
                           {"anthropic-version": ANTHROPIC_VERSION}, model)
    if wire == Wire.GEMINI:
        model = entry.model or "gemini-2.5-pro"
        body = {"contents": [{"role": "user", "parts": [{"text": PROMPT}]}]}
        if live:
            body["generationConfig"] = {"maxOutputTokens": 1}
        verb = "generateContent" if live else "countTokens"
        return ToolRequest("POST", _join(base, f"/v1beta/models/{quote(model, safe='/')}:{verb}"),
                           body, {}, model)
    model = entry.model or ""
    if not model:  # chosen in the tool's own UI (gptstudio, Roo): the unbilled request only
        live = False
    if wire == Wire.RESPONSES:
        body = {"model": model, "input": PROMPT}
        if live:
            body["max_output_tokens"] = 16
        return ToolRequest("POST", _join(base, "/responses" if live else "/responses/input_tokens"),
                           body, {}, model)
    if live:
        return ToolRequest("POST", _join(base, "/chat/completions"),
                           {"model": model, "messages": [{"role": "user", "content": PROMPT}],
                            "max_tokens": 1}, {}, model)
    return ToolRequest("GET", _join(base, "/models"), None, {}, model)


def what_the_tool_shows(entry: ClientEntry, status: int | None, said: str) -> str:
    """The error the user will see in the tool, in its own words (as near as known)."""
    code = f"{status}" if status is not None else "a connection error"
    if entry.wire == Wire.ANTHROPIC:
        return f'"API Error: {code} …" on every prompt ({said})'
    if entry.wire == Wire.RESPONSES and entry.tool == "Codex CLI":
        return f'"unexpected status {code}" and retries, then stops ({said})'
    if entry.wire == Wire.GEMINI:
        return f'"[API Error: … {code}]" ({said})'
    return f"an error {code} from the API on each request ({said})"
