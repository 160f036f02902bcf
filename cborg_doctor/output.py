"""A text stream that scrubs the key from everything written through it."""

from __future__ import annotations

from typing import TextIO

from .secrets import Scrubber


class ScrubbingStream:
    """Wraps stdout/stderr for the console: the last line of defence for output."""

    def __init__(self, stream: TextIO, scrub: Scrubber) -> None:
        self._stream = stream
        self._scrub = scrub

    def write(self, text: str) -> int:
        self._stream.write(self._scrub(text))
        return len(text)

    def flush(self) -> None:
        self._stream.flush()

    def isatty(self) -> bool:
        return self._stream.isatty()

    def fileno(self) -> int:
        return self._stream.fileno()

    @property
    def encoding(self) -> str:
        return getattr(self._stream, "encoding", "utf-8") or "utf-8"
