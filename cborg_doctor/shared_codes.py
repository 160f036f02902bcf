"""Codes that two check families raise: each declared once here, listed in both families' codes.

    code           raised by                                       as
    ─────────────  ──────────────────────────────────────────────  ─────────────────────────────
    BASE_URL_PATH  config.base_url (the path looks unusual)        warn: a heuristic
                   gateway.models (the SDK's listing URL fails)    fail: the gateway's answer

A check module never imports another family's module; a code both need lives here,
with its fix text, so `--explain` reads the one declaration.
"""

from __future__ import annotations

from .findings import Code, Severity

BASE_URL_PATH = Code(
    "BASE_URL_PATH",
    Severity.WARN,
    "The base URL {url} has the path {path!r}; clients append /chat/completions "
    "themselves, so requests go to {example} (the models check tries {models_url}).",
    fix=(
        "Use this base URL instead: {suggested}",
    ),
    explain="OpenAI-compatible clients add the endpoint (/chat/completions, /models) to the "
    "base URL; a base URL that already ends in an endpoint gives 404s. config.base_url only "
    "warns about an unusual path; the models check requests {base_url}/models with the key, "
    "as the OpenAI SDK does, and fails when that URL does not answer with a model list.",
)
