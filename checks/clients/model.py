"""What `config.clients` knows about one tool setup, and how it judges a key value.

A parser turns one configuration file into `ClientEntry` rows: which tool, which
base URL (from the file or the tool's documented default), which model, and where
the key comes from (`KeySource`). The key itself never leaves the parser: a
`KeyJudge` looks at the value once and keeps only its kind, its line, its
fingerprint and whether it looks like a CBorg key.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from cborg_doctor.cborg import CBORG_V1, DEFAULT_BASE_URL
from cborg_doctor.secrets import ApiKey, fingerprint

OPENAI_DEFAULT = "https://api.openai.com/v1"
CBORG_ROOT = DEFAULT_BASE_URL  # the base URL for tools that add /v1 themselves

# LiteLLM issues virtual keys as "sk-" + secrets.token_urlsafe(16): 22 url-safe
# characters (longer when an admin chose the value). OpenAI's keys have 48 characters
# or a "sk-proj-"/"sk-svcacct-"/"sk-admin-" prefix, Anthropic's "sk-ant-", OpenRouter's "sk-or-".
_LITELLM_KEY = re.compile(r"^sk-(?!proj-|svcacct-|admin-|ant-|or-)[A-Za-z0-9_\-]{20,40}$")

# Anything shaped like a real token is a key, whatever letters it happens to contain.
_KEYISH = re.compile(r"^sk-[A-Za-z0-9_\-]{16,}$")

# Values that mean "no key here" (the cborg-client proxy injects it).
_NO_KEY = frozenset(
    {"", "none", "n/a", "na", "null", "nil", "dummy", "empty", "-", "unused", "not-needed",
     "not_needed", "no-key", "nokey", "anything", "proxy"}
)
_PLACEHOLDER = re.compile(r"your|here|<[^>]*>|^x{3,}$|^\.\.\.$|replace|changeme|api[_-]?key$",
                          re.IGNORECASE)

# Ways tools spell "take this from somewhere else".
_CONTINUE_SECRET = re.compile(r"^\$\{\{\s*(?:secrets|inputs)\.([A-Za-z0-9_./\-]+)\s*\}\}$")
_OPENCODE_ENV = re.compile(r"^\{env:([A-Za-z_][A-Za-z0-9_]*)\}$")
_OPENCODE_FILE = re.compile(r"^\{file:([^}]+)\}$")
_DOLLAR_ENV = re.compile(r"^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$|^\$([A-Za-z_][A-Za-z0-9_]*)$")


class KeyKind(str, Enum):
    """Where a tool's key comes from."""

    ENV = "env"  # an environment variable the tool expands
    SECRET = "secret"  # a named secret the tool resolves (Continue's ${{ secrets.X }})
    FILE_REF = "file-ref"  # another file (opencode's {file:...})
    LITERAL = "literal"  # the key itself, in plain text in this file
    PLACEHOLDER = "placeholder"  # template text the tool will send as if it were a key
    NONE = "none"  # no key in the file ("n/a", empty: a proxy injects it)
    DEFAULT = "default"  # not set in the file: the tool's own default source


class Syntax(str, Enum):
    """Reference syntaxes a tool expands in its key setting."""

    CONTINUE = "continue"  # ${{ secrets.NAME }}
    OPENCODE = "opencode"  # {env:NAME}, {file:PATH}
    DOLLAR = "dollar"  # ${NAME} or $NAME (shell-like templates, config.ts, .env expansion)


@dataclass(frozen=True)
class KeySource:
    """Where one setup's key comes from. Never holds the key."""

    kind: KeyKind
    name: str = ""  # variable, secret or referenced file; for DEFAULT, the tool's source
    line: int | None = None  # the first line the value is on
    fingerprint: str = ""
    cborg_like: bool = False  # the user's CBorg key, or shaped like a LiteLLM key
    shown: str = ""  # PLACEHOLDER only: the template text (never a key)
    lines: tuple[int, ...] = ()  # LITERAL: every line the same key is on
    known: bool | None = None  # LITERAL: is it the user's current key? None: no key to compare

    def describe(self) -> str:
        if self.kind is KeyKind.ENV:
            return f"${self.name}"
        if self.kind is KeyKind.SECRET:
            return f"secret {self.name}"
        if self.kind is KeyKind.FILE_REF:
            return f"file {self.name}"
        if self.kind is KeyKind.LITERAL:
            where = f"line {self.line}" if self.line else "the file"
            return f"in plain text ({where}, {self.fingerprint})"
        if self.kind is KeyKind.PLACEHOLDER:
            return f"placeholder text {self.shown!r}"
        if self.kind is KeyKind.NONE:
            return "none in the file"
        return self.name or "the tool's default"


def redact_url(url: str) -> str:
    """A URL fit for a report: no user name, password or query string."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url.split("?", 1)[0].rsplit("@", 1)[-1]
    netloc = parts.netloc
    if "@" in netloc:
        netloc = "…@" + netloc.rsplit("@", 1)[1]
    query = "…" if parts.query else ""
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def line_of(text: str, needle: str) -> int | None:
    """1-based line of the first occurrence of `needle` in `text`."""
    found = lines_of(text, needle, limit=1)
    return found[0] if found else None


def lines_of(text: str, needle: str, limit: int = 20) -> tuple[int, ...]:
    """1-based lines of the occurrences of `needle` in `text` (at most `limit`)."""
    found: list[int] = []
    index = text.find(needle) if needle else -1
    while index >= 0 and len(found) < limit:
        line = text.count("\n", 0, index) + 1
        if line not in found:
            found.append(line)
        index = text.find(needle, index + len(needle))
    return tuple(found)


class KeyJudge:
    """Classifies key values. Knows the user's own keys so it can recognise them."""

    def __init__(self, known_keys: Iterable[str] = ()) -> None:
        self._known = frozenset(k.strip() for k in known_keys if k and len(k.strip()) >= 8)

    @classmethod
    def from_env(cls, env: Mapping[str, str], extra: Iterable[str] = ()) -> KeyJudge:
        return cls([env.get("CBORG_API_KEY", ""), *extra])

    def is_cborg_key(self, value: str) -> bool:
        clean = value.strip()
        return clean in self._known or bool(_LITELLM_KEY.match(clean))

    def classify(self, value: object, text: str, syntaxes: Iterable[Syntax] = ()) -> KeySource:
        """Judge one key setting's value; `text` is the whole file, for the line number."""
        if value is None:
            return KeySource(KeyKind.DEFAULT)
        if not isinstance(value, str):
            return KeySource(KeyKind.NONE)
        clean = value.strip()
        if clean.lower().startswith("bearer "):
            clean = clean[7:].strip()
        allowed = set(syntaxes)
        reference = _reference(clean)
        if reference is not None:
            syntax, kind, name = reference
            if syntax in allowed:
                return KeySource(kind, name=name)
            return KeySource(KeyKind.PLACEHOLDER, line=line_of(text, clean), shown=clean[:60])
        if clean.lower() in _NO_KEY:
            return KeySource(KeyKind.NONE)
        if not _KEYISH.match(clean):
            if _PLACEHOLDER.search(clean):
                return KeySource(KeyKind.PLACEHOLDER, line=line_of(text, clean),
                                 shown=clean[:60])
            if " " in clean or len(clean) < 16:
                # Not shaped like a key, but it could be some other secret: never shown.
                return KeySource(KeyKind.PLACEHOLDER, line=line_of(text, clean),
                                 shown=fingerprint(clean))
        lines = lines_of(text, clean)
        return KeySource(
            KeyKind.LITERAL,
            line=lines[0] if lines else None,
            lines=lines,
            fingerprint=fingerprint(clean),
            cborg_like=self.is_cborg_key(clean),
            known=(clean in self._known) if self._known else None,
        )


def _reference(value: str) -> tuple[Syntax, KeyKind, str] | None:
    match = _CONTINUE_SECRET.match(value)
    if match:
        return Syntax.CONTINUE, KeyKind.SECRET, match.group(1)
    match = _OPENCODE_ENV.match(value)
    if match:
        return Syntax.OPENCODE, KeyKind.ENV, match.group(1)
    match = _OPENCODE_FILE.match(value)
    if match:
        return Syntax.OPENCODE, KeyKind.FILE_REF, match.group(1).strip()
    match = _DOLLAR_ENV.match(value)
    if match:
        return Syntax.DOLLAR, KeyKind.ENV, match.group(1) or match.group(2)
    return None


class Wire(str, Enum):
    """The request a tool sends for a chat turn, and so what `clients.paths` sends."""

    CHAT = "chat"  # OpenAI chat completions: {base}/chat/completions, Bearer
    RESPONSES = "responses"  # OpenAI Responses API: {base}/responses (Codex's default)
    ANTHROPIC = "anthropic"  # Anthropic Messages: {base}/v1/messages (Claude Code)
    GEMINI = "gemini"  # Google GenAI: {base}/v1beta/models/{model}:generateContent


class AuthHeader(str, Enum):
    """How the tool sends its key."""

    BEARER = "Authorization"  # Authorization: Bearer <key>
    X_API_KEY = "x-api-key"  # Anthropic SDK's apiKey
    GOOG = "x-goog-api-key"  # Google GenAI SDK


@dataclass(frozen=True)
class ClientEntry:
    """One setup of one tool: a model entry, a profile, a provider."""

    tool: str  # "Continue", "Codex CLI", ...
    path: Path  # the file as found (not resolved), for display
    label: str  # the setup's name in the file: model title, profile, provider id
    base_url: str | None  # what the tool will use; None when unknown
    base_url_from: str  # "file", "default" (the tool's), or "$VARIABLE"
    base_url_setting: str  # the setting to change, in the tool's words
    model: str | None
    key: KeySource
    key_setting: str
    env_reference: str  # how this tool spells "key from $CBORG_API_KEY"
    suggested_base: str = CBORG_V1
    base_url_line: int | None = None
    base_url_path: Path | None = None  # the file that sets the base URL, when another one
    ignored: str = ""  # why the tool does not use this setup (a pasted key still matters)
    base_url_fix: str = ""  # the change to make, with {suggested}; default: set the setting
    # How the tool talks to the gateway (`clients.paths` sends the same kind of request).
    wire: str = Wire.CHAT
    auth_header: str = AuthHeader.BEARER
    # Where `--fix` edits the base URL: the file's format and the value's key path in it.
    file_format: str = ""  # "json", "jsonc", "yaml", "toml", "dotenv", "shell" (no file)
    base_url_key_path: tuple[str | int, ...] = ()
    note: str = ""  # a fact about this setup the user should know (which of two keys wins)
    # The file is the tool's own key store, which it writes itself and is the only place it
    # reads its key from (Cline's secrets.json): a key there is news only if others can read it.
    own_key_store: bool = False
    # The key this tool sends, when the parser read it (a variable's value, a settings file);
    # `ApiKey` prints as its fingerprint. Never in `table_rows` or any report.
    secret: ApiKey | None = field(default=None, repr=False, compare=False)

    def url_change(self, suggested: str) -> str:
        if self.base_url_fix:
            return self.base_url_fix.replace("{suggested}", suggested)
        return f"set {self.base_url_setting} to {suggested}"

    @property
    def base_url_file(self) -> Path:
        return self.base_url_path or self.path
