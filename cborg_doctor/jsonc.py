"""JSON with comments and trailing commas, as opencode and VS Code write it.

Shared by the client-config checks (reading) and `--fix` (checking an edit still parses).
"""

from __future__ import annotations


def strip_jsonc(text: str) -> str:
    """JSON with comments and trailing commas (opencode, VS Code) → plain JSON.

    Line numbers survive (a block comment leaves its newlines), and nothing inside a
    string is touched.
    """
    out: list[str] = []
    i, n = 0, len(text)
    pending_comma = -1  # index in `out` of a comma that may turn out to be trailing
    while i < n:
        ch = text[i]
        if ch == '"':
            end = i + 1
            while end < n and text[end] != '"':
                end += 2 if text[end] == "\\" else 1
            out.append(text[i : end + 1])
            pending_comma = -1
            i = end + 1
        elif text.startswith("//", i):
            end = text.find("\n", i)
            i = n if end < 0 else end
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            out.append("\n" * text.count("\n", i, n if end < 0 else end))
            i = n if end < 0 else end + 2
        else:
            if ch in "}]" and pending_comma >= 0:
                out[pending_comma] = ""
            if ch == ",":
                pending_comma = len(out)
            elif not ch.isspace():
                pending_comma = -1
            out.append(ch)
            i += 1
    return "".join(out)
