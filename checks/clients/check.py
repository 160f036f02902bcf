"""`config.clients`: the AI tools configured on this machine, and what is wrong with them.

Most CBorg users reach the gateway through a tool — Continue, Codex CLI, opencode,
aider, Jupyter AI, Roo/Zoo Code, Cline, LBL's cborg-client proxy — and the tool's own
settings are where a wrong base URL, a pasted key or a stale model hides. This
check finds those settings (`clients_files`), reads each file with its tool's
parser (`clients_collect`, `clients_parsers`), keeps the setups meant for CBorg
and judges them (`clients_audit`). The one network operation is a TCP connect to
the local proxy a setup points at (`clients_probe`; the cborg-client proxy
listens on 127.0.0.1:8001–8003).

It reports the table of setups (`CLIENTS_FOUND`) and leaves
``data["configured_models"]`` — ``[{"tool", "model", "file"}]`` — for the `models`
check, which raises `CLIENT_MODEL_UNKNOWN` against the gateway's catalogue, and the
setups themselves (`paths.share_setups`) for `clients.paths`, which sends each tool's own
request. Claude Code and Gemini CLI live mostly in variables: their setups are built once
every file was read (`parsers.finish`).
Files are never written, and never read outside the home directory and the
current directory.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cborg_doctor.api import Check, Code, Finding, Outcome, RunContext, Severity, Target
from cborg_doctor.cborg import KEY_PAGE
from cborg_doctor.fixes.remedies import CLIENT_URL, PRIVATE_KEY_FILE
from cborg_doctor.formats.text import plural
from cborg_doctor.target import parse_target

from .audit import (
    CBORG_CLIENT_PORTS,
    UrlVerdict,
    is_cborg_client,
    judge_url,
    meant_for_cborg,
    proxy_address,
)
from .collect import Collection, FileNote, collect
from .files import Roots
from .model import ClientEntry, KeyJudge, KeyKind, redact_url
from .paths import share_setups
from .probe import Probe, local_addresses, offsite_from, tcp_probe

CLIENTS_FOUND = Code(
    "CLIENTS_FOUND",
    Severity.INFO,
    "{setups} for CBorg in {files}:\n{table}",
    explain="The AI tools configured for CBorg on this machine: for each, the file, the base "
    "URL it sends requests to, the models, and where its key comes from. Setups for other "
    "services are counted but not audited.",
)
CLIENTS_NONE = Code(
    "CLIENTS_NONE",
    Severity.INFO,
    "No AI tool on this machine is set up for CBorg{others}.",
    explain="config.clients looked where Claude Code, Codex CLI, Gemini CLI, Continue, opencode, "
    "aider, Jupyter AI, Roo/Zoo Code, gptstudio and Cline keep their settings, and at .env in "
    "the current directory.",
)
CLIENT_BASE_URL = Code(
    "CLIENT_BASE_URL",
    Severity.FAIL,
    "{tool} ({file}{line}) sends {what} to {url} ({origin}): {problem}.",
    fix=(
        "In {file}, {change}.",
        "Keep the key in an environment variable the tool reads (CBORG_API_KEY), so the URL "
        "is the only thing to change.",
    ),
    explain="A tool set up for CBorg that sends its requests elsewhere fails in ways that "
    "look like a bad key: OpenAI answers \"Incorrect API key provided\", an endpoint in the "
    "base URL gives 404s, api-local.cborg.lbl.gov does not answer off-site, and plain http "
    "exposes the key on the network.",
    remedy=CLIENT_URL,
)
CLIENT_KEY_IN_FILE = Code(
    "CLIENT_KEY_IN_FILE",
    Severity.WARN,
    "{file} {line} holds a CBorg API key ({fingerprint}) in plain text ({tool}, "
    "{setting}){readable}{stale}.",
    fix=(
        "Take the key out of the file and let the tool read it from the environment: {how}.",
        "Keep the key itself in CBORG_API_KEY (export it in ~/.bashrc or ~/.zshrc), never in "
        "files that get copied, synced or committed.",
    ),
    explain="Keys belong in environment variables, not in files: config files get shared, "
    "synced and committed. When the file is readable by every user of the machine this is a "
    "failure, and the key should be replaced.",
    also=((Severity.FAIL, 'when the file is readable by every user of the machine'),),
    remedy=PRIVATE_KEY_FILE,
)
CLIENT_KEY_PLACEHOLDER = Code(
    "CLIENT_KEY_PLACEHOLDER",
    Severity.WARN,
    "{tool} ({file}{line}) sends the text {shown!r} as its API key ({setting}): the "
    "gateway will reject it.",
    fix=("Give the tool the real key through its environment reference: {how}.",),
    explain="A template was copied but not filled in, or a reference syntax was used that "
    "this tool does not expand (Roo and Zoo Code send \"$CBORG_API_KEY\" literally).",
)
CLIENT_KEY_ENV_UNSET = Code(
    "CLIENT_KEY_ENV_UNSET",
    Severity.WARN,
    "{users}: the key comes from ${variable}, which is not set in this shell.",
    fix=(
        "Add `export {variable}=sk-...` to ~/.bashrc or ~/.zshrc (Windows: `setx {variable} sk-...`), "
        f"with the key from {KEY_PAGE}; then open a new terminal.",
        "Editors started from a desktop launcher need it in their environment too (log out "
        "and in again, or start them from a terminal).",
    ),
    explain="The tool takes its key from an environment variable, and that variable is "
    "empty here, so it will send no key or fail to start.",
)
CLIENT_PROXY_DOWN = Code(
    "CLIENT_PROXY_DOWN",
    Severity.FAIL,
    "{tools}: set up to use {what} on {address}, but nothing listens there ({detail}).",
    fix=(
        "Start the proxy: in your cborg-client checkout run ./proxy/start-cborg-client-proxy.sh "
        "in a shell where CBORG_API_KEY is set (https://github.com/lbnl-science-it/cborg-client).",
        "Or skip the proxy: set the tool's base URL to https://api.cborg.lbl.gov/v1 and give it "
        "the key through its environment-variable reference.",
    ),
    explain="LBL's cborg-client is a local reverse proxy (127.0.0.1:8001 chat, 8002 "
    "embeddings, 8003 code completion) that adds the key from CBORG_API_KEY and picks "
    "api-local.cborg.lbl.gov on LBLnet. A tool pointed at it gets \"connection refused\" "
    "while it is not running.",
)
CLIENT_PROXY_UP = Code(
    "CLIENT_PROXY_UP",
    Severity.INFO,
    "{what} answers on {address} (used by {tools}).",
    explain="A tool is pointed at a local proxy and the proxy accepts connections.",
)
CLIENT_CONFIG_UNREADABLE = Code(
    "CLIENT_CONFIG_UNREADABLE",
    Severity.INFO,
    "{tool}: {file} {reason}.",
    fix=("{remedy}",),
    explain="A configuration file that exists could not be read or parsed. A malformed file "
    "is a warning: the tool itself will fail to load it too.",
)

CLIENT_KEY_SPREAD = Code(
    "CLIENT_KEY_SPREAD",
    Severity.WARN,
    "The same key ({fingerprint}) is in {count} places: {places}.",
    fix=(
        "Keep it in one place, CBORG_API_KEY in your shell profile, and let each tool read it "
        "from there (its variable set to \"$CBORG_API_KEY\", or its env reference).",
        "When you replace the key (" + KEY_PAGE + "), every copy must change: a copy left "
        "behind makes that tool fail with 401.",
    ),
    explain="Copies of one key in several files are several chances to leak it, and each "
    "one must be updated when the key is replaced. Compared by fingerprint only.",
)

CLIENT_TOOL_SETTING = Code(
    "CLIENT_TOOL_SETTING",
    Severity.WARN,
    "{tool} ({file}): {note}.",
    fix=("{remedy}",),
    explain="A setting that decides which key or profile a tool uses, read the way the tool "
    "reads it: both Claude Code key variables set (the token wins at the gateway), a Gemini "
    "CLI auth type other than \"Gemini API Key\", a Codex `profile =` naming no profile "
    "(Codex refuses to start).",
)

ALL_CODES = (CLIENTS_FOUND, CLIENT_KEY_SPREAD, CLIENT_TOOL_SETTING, CLIENTS_NONE, CLIENT_BASE_URL, CLIENT_KEY_IN_FILE,
             CLIENT_KEY_PLACEHOLDER, CLIENT_KEY_ENV_UNSET, CLIENT_PROXY_DOWN, CLIENT_PROXY_UP,
             CLIENT_CONFIG_UNREADABLE)

PROXY_CONNECT_TIMEOUT = 2.0
# Of the check's deadline: reading the files ends by 40 %, probing their proxies by 70 %.
SCAN_SHARE, PROXY_SHARE = 0.4, 0.7


# --- judging ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Setup:
    """A setup with the facts the findings need."""

    entry: ClientEntry
    file: str


def _join(items: Iterable[str], limit: int = 4) -> str:
    unique = list(dict.fromkeys(i for i in items if i))
    shown = ", ".join(unique[:limit])
    return shown + (f" and {len(unique) - limit} more" if len(unique) > limit else "")


def _what(entries: list[ClientEntry]) -> str:
    models = [e.model for e in entries if e.model]
    return f"requests for {_join(models)}" if models else "its requests"


def _lines(lines: tuple[int, ...]) -> str:
    if not lines:
        return "(line unknown)"
    return f"line {lines[0]}" if len(lines) == 1 else "lines " + ", ".join(map(str, lines))


def _origin(entry: ClientEntry) -> str:
    if entry.base_url_from == "missing":
        return entry.base_url_setting
    if entry.base_url_from == "file":
        return "set in the file"
    if entry.base_url_from in ("default", "sdk-default"):
        return "the tool's default"
    return f"from {entry.base_url_from}"


def _group(setups: Iterable[Setup], key: Callable[[Setup], Any]) -> dict[Any, list[Setup]]:
    groups: dict[Any, list[Setup]] = {}
    for setup in setups:
        groups.setdefault(key(setup), []).append(setup)
    return groups


def fix_target(entry: ClientEntry, roots: Roots, value: str) -> dict[str, Any]:
    """What `--fix` needs to change the base URL: the file, its format, the value's key path.

    ``{"file": "~/.claude/settings.json", "format": "json", "key_path": ["env",
    "ANTHROPIC_BASE_URL"], "value": "https://api.cborg.lbl.gov"}``; a variable set in the
    shell has ``"format": "shell"`` and no file (the doctor cannot know which profile sets it).
    """
    shell = entry.file_format == "shell"
    if entry.base_url_from == "prefix":  # aider: the value to change is the model, not a URL
        value = f"openai/{entry.model}"
    return {
        "file": None if shell else roots.display(entry.base_url_file),
        "format": entry.file_format or None,
        "key_path": list(entry.base_url_key_path),
        "value": value,
        "line": entry.base_url_line,
    }


def base_url_findings(setups: list[Setup], roots: Roots,
                      offsite: Callable[[], bool | None]) -> list[Finding]:
    """One finding per wrong base URL per file, naming every model that uses it."""
    judged = [(s, judge_url(s.entry, offsite)) for s in setups]
    groups: dict[tuple[Any, ...], list[tuple[Setup, UrlVerdict]]] = {}
    for setup, verdict in judged:
        if verdict is None:
            continue
        entry = setup.entry
        key = (entry.base_url_file, entry.base_url, entry.base_url_setting)
        groups.setdefault(key, []).append((setup, verdict))
    found: list[Finding] = []
    for items in groups.values():
        setup, verdict = items[0]
        entry = setup.entry
        file = roots.display(entry.base_url_file)
        kinds = [p.kind for p in verdict.problems]
        extra = (
            "If you are on site or on the LBL VPN and still see this, this machine shows no "
            "LBL address: check that the VPN is connected (platform.vpn tells more).",
        ) if "offsite" in kinds else ()
        found.append(CLIENT_BASE_URL.finding(
            severity=verdict.severity, extra_fix=extra,
            tool=entry.tool, file=file,
            line=f", line {entry.base_url_line}" if entry.base_url_line else "",
            what=_what([s.entry for s, _ in items]),
            url=redact_url(entry.base_url) if entry.base_url else "nowhere",
            origin=_origin(entry), problem="; and ".join(p.text for p in verdict.problems),
            change=entry.url_change(verdict.suggested), suggested=verdict.suggested,
            data={"kinds": kinds, "tool": entry.tool, "suggested": verdict.suggested,
                  **fix_target(entry, roots, verdict.suggested), **_edit_data(entry)},
        ))
    return found


def _edit_data(entry: ClientEntry) -> dict[str, Any]:
    """What else `--fix` needs (see cborg_doctor.fixes.remedies): the old value's digest (it
    may hold a password; a YAML anchor shares it), or that a line must be added or a section."""
    import hashlib

    if entry.base_url_from == "sdk-default" and entry.file_format == "dotenv":
        return {"append": True}
    if entry.base_url_fix or entry.base_url_from in ("missing", "default", "sdk-default") \
            or not entry.base_url:
        return {"needs_structure": True}
    return {"value_sha256": "sha256:" + hashlib.sha256(entry.base_url.encode()).hexdigest()}


def key_findings(every: list[Setup], setups: list[Setup], world_readable: Mapping[Path, int],
                 env: Mapping[str, str]) -> list[Finding]:
    """Pasted keys in any file (`every`); placeholders and unset variables where used."""
    found: list[Finding] = []
    literal = _group((s for s in every if s.entry.key.kind is KeyKind.LITERAL),
                     lambda s: (s.file, s.entry.key.lines))
    for items in literal.values():
        entry = items[0].entry
        mode = world_readable.get(entry.path)
        if mode is None and all(s.entry.own_key_store for s in items):
            continue  # where the tool keeps its key, private as it should be
        readable = "" if mode is None else \
            f"; the file is readable by every user of this machine (mode {mode:04o})"
        extra = () if mode is None else (
            f"Now: chmod 600 {items[0].file}",
            f"Others could have copied it: replace the key at {KEY_PAGE}.",
        )
        found.append(CLIENT_KEY_IN_FILE.finding(
            severity=Severity.FAIL if mode is not None else Severity.WARN,
            extra_fix=extra, file=items[0].file, line=_lines(entry.key.lines),
            fingerprint=entry.key.fingerprint, tool=entry.tool, setting=entry.key_setting,
            readable=readable, how=entry.env_reference,
            stale="; it is not the key this shell uses, so the tool may be sending an old one"
            if entry.key.known is False else "",
            data={"file": items[0].file, "lines": list(entry.key.lines),
                  "world_readable": mode is not None, "tool": entry.tool},
        ))
    behind_proxy = [s for s in setups if proxy_address(s.entry.base_url) is None]
    placeholders = _group((s for s in behind_proxy if s.entry.key.kind is KeyKind.PLACEHOLDER),
                          lambda s: (s.file, s.entry.key.line, s.entry.key.shown))
    for items in placeholders.values():
        entry = items[0].entry
        found.append(CLIENT_KEY_PLACEHOLDER.finding(
            tool=entry.tool, file=items[0].file,
            line=f", line {entry.key.line}" if entry.key.line else "",
            shown=entry.key.shown, setting=entry.key_setting, how=entry.env_reference,
        ))
    unset = _group((s for s in behind_proxy if s.entry.key.kind is KeyKind.ENV
                    and not env.get(s.entry.key.name, "").strip()),
                   lambda s: s.entry.key.name)
    for variable, items in unset.items():
        by_tool = _group(items, lambda s: s.entry.tool)
        users = "; ".join(f"{tool} ({_join(s.file for s in group)})"
                          for tool, group in by_tool.items())
        found.append(CLIENT_KEY_ENV_UNSET.finding(users=users, variable=variable))
    return found


def setting_findings(setups: list[Setup]) -> list[Finding]:
    """Notes the parsers left (which key wins, an auth type, a missing Codex profile)."""
    found: list[Finding] = []
    for note, items in _group((s for s in setups if s.entry.note), lambda s: s.entry.note).items():
        entry = items[0].entry
        fatal = "not found" in note  # Codex stops at start-up
        found.append(CLIENT_TOOL_SETTING.finding(
            severity=Severity.FAIL if fatal else Severity.WARN, tool=entry.tool,
            file=items[0].file, note=note,
            remedy=f"Change it in {items[0].file}" + (" (the tool does not start until then)."
                                                        if fatal else ".")))
    return found


def spread_findings(every: list[Setup]) -> list[Finding]:
    """One key copied into several files (and variables): compared by fingerprint only."""
    places: dict[str, dict[str, bool]] = {}
    for setup in every:
        key = setup.entry.key
        if not key.fingerprint or "…" not in key.fingerprint or len(key.fingerprint) < 6:
            continue
        if key.kind is KeyKind.LITERAL:
            places.setdefault(key.fingerprint, {})[setup.file] = True
        elif key.kind is KeyKind.ENV:
            places.setdefault(key.fingerprint, {}).setdefault(f"${key.name}", False)
    found: list[Finding] = []
    for fp, where in places.items():
        files = [w for w, is_file in where.items() if is_file]
        if len(where) >= 2 and files:
            found.append(CLIENT_KEY_SPREAD.finding(
                severity=Severity.WARN if len(files) >= 2 else Severity.INFO,
                fingerprint=fp, count=len(where), places=", ".join(where),
                data={"fingerprint": fp, "places": list(where)}))
    return found


def proxy_findings(setups: list[Setup], probe: Probe,
                   deadline: float | None = None) -> tuple[list[Finding], list[dict[str, Any]]]:
    found: list[Finding] = []
    states: list[dict[str, Any]] = []
    by_address = _group((s for s in setups if proxy_address(s.entry.base_url)),
                        lambda s: proxy_address(s.entry.base_url))
    for (host, port), items in sorted(by_address.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        if deadline is not None and time.monotonic() > deadline:
            break
        state = probe(host, port)
        shown = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        what = "the cborg-client proxy" if port in CBORG_CLIENT_PORTS else "a local proxy"
        tools = _join(f"{s.entry.tool} ({s.file})" for s in items)
        states.append({"address": shown, "up": state.up, "cborg_client": port in
                       CBORG_CLIENT_PORTS})
        if state.up:
            found.append(CLIENT_PROXY_UP.finding(what=what[0].upper() + what[1:],
                                                 address=shown, tools=tools))
        else:
            found.append(CLIENT_PROXY_DOWN.finding(tools=tools, what=what, address=shown,
                                                   detail=state.detail,
                                                   data={"address": shown}))
    return found, states


def note_findings(notes: list[FileNote], roots: Roots) -> list[Finding]:
    found: list[Finding] = []
    for note in notes:
        shown = roots.display(note.path)
        if note.severity is Severity.WARN:
            remedy = f"Fix the syntax in {shown}: {note.tool} cannot load it either."
        elif "outside" in note.reason:
            remedy = f"If {note.tool} should use this file, copy it into your home directory."
        else:
            remedy = f"Check {shown} (ls -l) if {note.tool} should be using it."
        found.append(CLIENT_CONFIG_UNREADABLE.finding(
            severity=note.severity, tool=note.tool, file=shown, reason=note.reason,
            remedy=remedy))
    return found


def table_rows(entries: list[ClientEntry], roots: Roots) -> list[dict[str, Any]]:
    return [
        {
            "tool": e.tool,
            "file": roots.display(e.path),
            "setup": e.label,
            "base_url": redact_url(e.base_url) if e.base_url else None,
            "base_url_from": e.base_url_from,
            "model": e.model,
            "key": e.key.describe(),
            "cborg": meant_for_cborg(e),
            "ignored": e.ignored or None,
        }
        for e in entries
    ]


def _table(setups: list[Setup]) -> str:
    lines = []
    groups = _group(setups, lambda s: (s.entry.tool, s.file, s.entry.base_url,
                                       s.entry.key.describe(), s.entry.ignored))
    for (tool, file, url, key, ignored), items in groups.items():
        via = " (cborg-client proxy)" if is_cborg_client(url) else ""
        via += f" (not used: {ignored})" if ignored else ""
        models = _join((s.entry.model or "" for s in items), limit=8)
        shown = redact_url(url) if url else "no base URL"
        lines.append(f"{tool} · {file} → {shown}{via} · models: "
                     f"{models or '–'} · key: {key}")
    return "\n".join(lines)


def assess(collection: Collection, roots: Roots, env: Mapping[str, str], probe: Probe,
           offsite: Callable[[], bool | None], deadline: float | None = None) -> Outcome:
    """Turn what was read into findings, a summary and the data later checks read."""
    every = [Setup(e, roots.display(e.path)) for e in collection.entries if meant_for_cborg(e)]
    # Setups the tool does not load: only a key pasted into them still matters.
    setups = [s for s in every if not s.entry.ignored]
    others = len(collection.entries) - len(every)
    findings: list[Finding] = []
    findings += base_url_findings(setups, roots, offsite)
    proxy, states = proxy_findings(setups, probe, deadline)
    findings += [f for f in proxy if f.code == CLIENT_PROXY_DOWN.code]
    findings += key_findings(every, setups, collection.world_readable, env)
    findings += spread_findings(every)
    findings += setting_findings(setups)
    findings += note_findings(collection.notes, roots)
    findings += [f for f in proxy if f.code != CLIENT_PROXY_DOWN.code]
    files = {s.file for s in every}
    if every:
        findings.append(CLIENTS_FOUND.finding(setups=plural(len(every), "tool setup"),
                                              files=plural(len(files), "file"),
                                              table=_table(every)))
    else:
        findings.append(CLIENTS_NONE.finding(
            others=f" ({plural(others, 'setup')} for other services found)" if others else ""))
    configured = list({
        (s.entry.tool, s.entry.model, s.file): {"tool": s.entry.tool, "model": s.entry.model,
                                               "file": s.file}
        for s in setups if s.entry.model
    }.values())
    problems = sum(1 for f in findings if f.severity is not Severity.INFO)
    tools = _join((s.entry.tool for s in every), limit=6)
    if every:
        summary = f"{plural(len(every), 'setup')} in {plural(len(files), 'file')}: {tools}"
        summary += f"; {plural(problems, 'problem')}" if problems else ""
    else:
        summary = "no tool set up for CBorg"
    data = {
        "clients": table_rows(collection.entries, roots),
        "configured_models": configured,
        "files": [roots.display(p) for p in collection.files],
        "proxies": states,
    }
    return Outcome(summary, findings, data)


def _known_keys(ctx: RunContext) -> list[str]:
    key = ctx.key
    if key is not None and key.source != "env:OPENAI_API_KEY":
        return [key.reveal()]
    return []


def aims_at(entry: ClientEntry, target: Target) -> bool:
    """The setup sends to the gateway under test (a self-hosted one given with --base-url)."""
    if not entry.base_url or not target.valid:
        return False
    found = parse_target(entry.base_url, "")
    return found.valid and (found.scheme, found.host.lower(), found.port) == \
        (target.scheme, target.host.lower(), target.port)


def find_setups(ctx: RunContext, deadline: float | None = None) -> tuple[Collection, Roots]:
    """Read every configuration and leave the setups meant for CBorg for clients.paths."""
    roots = Roots(ctx.home, ctx.cwd)
    judge = KeyJudge.from_env(ctx.env, _known_keys(ctx))
    collection = collect(roots, ctx.env, judge, deadline=deadline)
    share_setups(ctx, [e for e in collection.entries if not e.ignored
                       and (meant_for_cborg(e) or aims_at(e, ctx.target))], roots)
    return collection, roots


def run(ctx: RunContext) -> Outcome:
    collection, roots = find_setups(ctx, deadline=ctx.deadline.at(SCAN_SHARE))
    probe = tcp_probe(min(ctx.timeout, PROXY_CONNECT_TIMEOUT))
    return assess(collection, roots, ctx.env, probe, offsite_from(local_addresses),
                  deadline=ctx.deadline.at(PROXY_SHARE))


CHECK = Check(
    id="config.clients",
    title="AI tool configs",
    run=run,
    codes=ALL_CODES,
    order=40,
    description="the AI tools configured on this machine (Claude Code, Codex CLI, Gemini CLI, "
    "Continue, opencode, aider, Jupyter AI, Roo/Zoo Code, Cline, gptstudio, cborg-client proxy, .env): "
    "base URL, model, where the key comes from",
)

CHECKS = (CHECK,)  # clients.paths is exported next to it by the package
