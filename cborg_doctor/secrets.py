"""The API key: resolved once, shown only as a fingerprint, scrubbed everywhere.

`ApiKey` never prints itself: `str()`, `repr()` and f-strings give the
fingerprint. Code that must send the key calls `reveal()`, which is easy to
grep for. `Scrubber` is the last line of defence: every string that leaves the
process (console, reports, tracebacks) goes through it.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass

KEY_VARIABLES = ("CBORG_API_KEY", "OPENAI_API_KEY")

# Anything shaped like an OpenAI/LiteLLM key, e.g. echoed back by a server in
# "Received API Key = sk-..." even when it is not the user's key.
_KEYLIKE = re.compile(r"sk-[A-Za-z0-9_\-]{8,}")


def fingerprint(value: str) -> str:
    """At most the first 3 and last 4 characters; short keys show less."""
    clean = value.strip()
    if len(clean) >= 16:
        return f"{clean[:3]}…{clean[-4:]}"
    if len(clean) >= 8:
        return f"{clean[:3]}…"
    return "…"


class ApiKey:
    """The user's key. Its text form is the fingerprint, never the key."""

    __slots__ = ("_value", "source")

    def __init__(self, value: str, source: str) -> None:
        self._value = value
        self.source = source

    def reveal(self) -> str:
        """The real key, for the Authorization header and nothing else."""
        return self._value

    @property
    def fingerprint(self) -> str:
        return fingerprint(self._value)

    def __repr__(self) -> str:
        return f"ApiKey({self.fingerprint}, source={self.source})"

    def __str__(self) -> str:
        return self.fingerprint

    def __reduce__(self) -> object:  # pickling would copy the key out
        raise TypeError("ApiKey cannot be pickled")


class KeyFileError(Exception):
    """`--api-key-file` cannot be read: a usage error (exit 2)."""


@dataclass(frozen=True)
class KeyResolution:
    key: ApiKey | None
    looked_at: tuple[str, ...]


def resolve_key(key_file: str | None, env: Mapping[str, str]) -> KeyResolution:
    """Find the key the user's clients would use: file, then CBORG_API_KEY, then OPENAI_API_KEY."""
    if key_file is not None:
        return KeyResolution(ApiKey(_read_key_file(key_file), f"file:{key_file}"), (key_file,))
    for name in KEY_VARIABLES:
        value = env.get(name)
        if value:
            return KeyResolution(ApiKey(value, f"env:{name}"), KEY_VARIABLES)
    return KeyResolution(None, KEY_VARIABLES)


def _read_key_file(path: str) -> str:
    try:
        if path == "-":
            text = sys.stdin.read(65536)
        else:
            with open(path, encoding="utf-8", errors="strict") as handle:
                text = handle.read(65536)
    except IsADirectoryError:
        raise KeyFileError(f"--api-key-file {path}: is a directory, not a file") from None
    except FileNotFoundError:
        raise KeyFileError(f"--api-key-file {path}: no such file") from None
    except PermissionError:
        raise KeyFileError(f"--api-key-file {path}: permission denied") from None
    except UnicodeDecodeError:
        raise KeyFileError(f"--api-key-file {path}: not UTF-8 text") from None
    except OSError as exc:
        raise KeyFileError(f"--api-key-file {path}: {exc.strerror or 'cannot be read'}") from None
    # A trailing newline from `echo key > file` is normal, not a malformed key.
    if text.endswith("\r\n"):
        text = text[:-2]
    elif text.endswith("\n"):
        text = text[:-1]
    if not text:
        raise KeyFileError(f"--api-key-file {path}: the file is empty")
    return text


class Scrubber:
    """Replaces the key (and anything key-shaped) with its fingerprint."""

    def __init__(self, key: ApiKey | None, passwords: tuple[str, ...] = ()) -> None:
        secrets: set[str] = set()
        if key is not None:
            raw = key.reveal()
            for candidate in (raw, raw.strip(), raw.strip().strip("'\"").strip()):
                if len(candidate) >= 4:
                    secrets.add(candidate)
        # Longest first, so a key is not half-replaced by its stripped twin.
        self._secrets = sorted(secrets, key=len, reverse=True)
        self._mark = key.fingerprint if key is not None else "…"
        # Proxy passwords (from user:password@ in proxy URLs) are secrets like the key.
        self._passwords = sorted({p for p in passwords if len(p) >= 3}, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, self._mark)
        for password in self._passwords:
            if password in text:
                text = text.replace(password, "***")
        return _KEYLIKE.sub(lambda m: fingerprint(m.group(0)), text)
