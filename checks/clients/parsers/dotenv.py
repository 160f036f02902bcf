"""``.env`` files: ``CBORG_BASE_URL``, ``OPENAI_BASE_URL``, ``OPENAI_API_BASE``,
``CBORG_API_KEY``, ``OPENAI_API_KEY`` and aider's ``AIDER_*`` twins.
"""

from __future__ import annotations

import re

from ..model import CBORG_V1, OPENAI_DEFAULT, ClientEntry, KeyKind, KeySource, Syntax
from .common import ParseInput, make_entry

_DOTENV_LINE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$")
_DOTENV_BASES = ("CBORG_BASE_URL", "OPENAI_BASE_URL", "OPENAI_API_BASE", "AIDER_OPENAI_API_BASE")
_DOTENV_KEYS = ("CBORG_API_KEY", "OPENAI_API_KEY", "AIDER_OPENAI_API_KEY")
_DOTENV_REF = "export the key in your shell profile (~/.bashrc, ~/.zshrc) instead of the " \
    "project's .env; if it must stay, keep .env out of git (.gitignore) and chmod 600 it"


def parse_dotenv_values(text: str) -> dict[str, str]:
    values: dict[str, str] = {}
    for raw in text.splitlines():
        match = _DOTENV_LINE.match(raw)
        if not match or raw.lstrip().startswith("#"):
            continue
        name, value = match.group(1), match.group(2).strip()
        if value[:1] in ("'", '"'):
            end = value.find(value[0], 1)
            value = value[1:end] if end > 0 else value[1:]
        else:
            value = value.split(" #", 1)[0].strip()
        values[name] = value
    return values


def parse_dotenv(inp: ParseInput) -> list[ClientEntry]:
    values = parse_dotenv_values(inp.text)
    base_name = next((n for n in _DOTENV_BASES if values.get(n)), None)
    key_name = next((n for n in _DOTENV_KEYS if values.get(n)), None)
    if base_name is None and key_name is None:
        return []
    key = inp.judge.classify(values[key_name], inp.text, (Syntax.DOLLAR,)) if key_name else \
        KeySource(KeyKind.DEFAULT, name="the environment")
    base = values.get(base_name) if base_name else None
    origin = "file"
    if base is None and key_name in ("OPENAI_API_KEY", "AIDER_OPENAI_API_KEY"):
        # The OpenAI SDK's default, unless the code passes base_url itself.
        base, origin = OPENAI_DEFAULT, "sdk-default"
    return [make_entry(
        inp, label="environment file", base_url=base, base_url_from=origin,
        base_url_setting=base_name or "OPENAI_BASE_URL", model=values.get("AIDER_MODEL"),
        key=key, key_setting=key_name or "CBORG_API_KEY", env_reference=_DOTENV_REF,
        suggested_base=CBORG_V1, file_format="dotenv",
        base_url_key_path=(base_name or "OPENAI_BASE_URL",),
    )]
