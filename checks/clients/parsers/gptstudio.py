"""gptstudio (RStudio): ``.Renviron`` with ``OPENAI_API_KEY`` and ``OPENAI_API_URL``.

R reads ``.Renviron`` from the current directory when there is one, else from the home
directory (``?Startup``). LBL's page (cborg-web ``tools_rstudio.md``) writes
``OPENAI_API_KEY="sk-..."`` and ``OPENAI_API_URL="https://api.cborg.lbl.gov/v1"``;
gptstudio calls ``{OPENAI_API_URL}/chat/completions`` with ``Authorization: Bearer``.
"""

from __future__ import annotations

from cborg_doctor.secrets import ApiKey

from ..model import CBORG_V1, OPENAI_DEFAULT, ClientEntry, KeyKind, KeySource
from .common import ParseInput, make_entry
from .dotenv import parse_dotenv_values

_REF = "keep the key in CBORG_API_KEY and write OPENAI_API_KEY=${CBORG_API_KEY} in .Renviron " \
    "(R expands ${VAR} there), then chmod 600 ~/.Renviron"


def parse_renviron(inp: ParseInput) -> list[ClientEntry]:
    values = parse_dotenv_values(inp.text)
    base, raw_key = values.get("OPENAI_API_URL"), values.get("OPENAI_API_KEY")
    if not base and not raw_key:
        return []
    key = inp.judge.classify(raw_key, inp.text) if raw_key else \
        KeySource(KeyKind.DEFAULT, name="$OPENAI_API_KEY")
    secret = ApiKey(raw_key, "renviron") if raw_key and key.kind is KeyKind.LITERAL else None
    return [make_entry(
        inp, label="gptstudio", base_url=base or OPENAI_DEFAULT,
        base_url_from="file" if base else "default", base_url_setting="OPENAI_API_URL",
        model=values.get("OPENAI_MODEL"), key=key, key_setting="OPENAI_API_KEY",
        env_reference=_REF, suggested_base=CBORG_V1, file_format="dotenv",
        base_url_key_path=("OPENAI_API_URL",), secret=secret,
    )]
