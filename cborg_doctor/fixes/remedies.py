"""The remedies `--fix` knows, each linked from the `Code` it fixes (``Code(remedy=...)``).

The finding data each one reads (checks and plugins that want a remedy fill these in;
never the key: the remedy re-reads it from where the finding says it is):

==================  ====================================================================
remedy              finding data
==================  ====================================================================
`CLEAN_KEY`         ``source``: the key's source as the run resolved it (``file:PATH``,
                    ``env:NAME``); a file is rewritten, an ``env:`` key is fixed on the
                    line of the shell start-up file that exports it
`SDK_BASE_URL`      (none) adds/corrects OPENAI_BASE_URL in the shell start-up file
`PRIVATE_KEY_FILE`  ``file`` (``~/x`` or ``./x``, as config.clients shows it),
                    ``world_readable`` (bool), ``lines`` (1-based), ``tool`` (``opencode``,
                    ``Codex CLI``, ``Continue`` ...: which reference syntax it expands)
`CLIENT_URL`        ``file`` (``~/x`` or ``./x``; None for ``format: shell``), ``format``
                    (`edit.FORMATS`), ``key_path`` (the value's full path: ``["env",
                    "ANTHROPIC_BASE_URL"]``), ``value`` (the value to set), ``value_sha256``
                    (``sha256:`` + hex of the old value: it may hold a password, and a YAML
                    anchor may share it), ``append: true`` (a .env without the line: it is
                    added), ``needs_structure: true`` (no value to edit: refused) — from
                    ``config.clients``' ``fix_target`` and ``_edit_data``
`WSLCONFIG`         ``profile`` (the Windows profile as a Linux path, ``/mnt/c/Users/x``),
                    ``found`` (``.wslconfig``, ``.wslconfig.txt`` or None), ``build`` (Windows
                    build or None), ``wanted`` (``[[key, value], ...]`` to set under [wsl2])
==================  ====================================================================
"""

from __future__ import annotations

import re
from pathlib import Path

from ..findings import Finding
from ..secrets import fingerprint
from .edit import EditRefused, find_paths, flat, parse, read_assignments, set_value
from .guard import decode, read_for_edit
from .model import Change, FixContext, NeedsYou, Plan, Remedy
from .shellrc import CANDIDATES, is_fish, startup_file, with_exports

CBORG_ROOT = "https://api.cborg.lbl.gov"
_CLEAN_KEY = re.compile(r"^sk-[A-Za-z0-9_\-]{8,}$")
_NEW_SHELL = "open a new terminal (or `source {file}`) for it to apply there"


def _read(path: Path, ctx: FixContext) -> tuple[bytes | None, str, bytes]:
    data = read_for_edit(path, ctx.allowed)
    if data is None:
        return None, "", b""
    text, bom = decode(data, path)
    return data, text, bom


def clean_key(text: str) -> str | None:
    """The key without whitespace, line breaks or quotes around it; None if still not one token."""
    value = re.sub(r"\s*[\r\n]+\s*", "", text.strip()).strip().strip("'\"“”‘’").strip()
    return value if _CLEAN_KEY.match(value) else None


# --- (a, e) a key with whitespace, quotes or a line break -----------------------------------


def _plan_clean_key(finding: Finding, ctx: FixContext) -> list[Plan]:
    source = str(finding.data.get("source") or ctx.key_source or "")
    if source.startswith("file:") and source != "file:-":
        path = Path(source[5:]).expanduser().absolute()
        data, text, bom = _read(path, ctx)
        if data is None:
            return [Plan(finding.code, "rewrite the key file", refused=f"{path} is gone")]
        key = clean_key(text)
        if key is None:
            return [Plan(finding.code, "rewrite the key file", refused="the file does not hold "
                         "one clean sk- key after removing whitespace and quotes; copy it again")]
        ending = "\r\n" if text.endswith("\r\n") else "\n" if text.endswith("\n") else ""
        after = bom + (key + ending).encode()
        summary = (f"the key {fingerprint(key)} on one line, without the "
                   f"{len(text) - len(key) - len(ending)} stray character(s) around or inside it")
        return [Plan(finding.code, f"rewrite {ctx.shown(path)} with the clean key, same permissions",
                     (Change(path, data, after, shown=ctx.shown(path), summary=summary),),
                     check="config.key")]
    if source.startswith("env:") and ctx.home is not None:
        name = source[4:]
        current = ctx.env.get(name)
        for relative in CANDIDATES:
            path = ctx.home / relative
            data, text, bom = _read(path, ctx)
            if data is None or read_assignments(text).get((name,)) != current:
                continue
            key = clean_key(current or "")
            if key is None:
                break
            after = bom + set_value(text, "shell", (name,), key).encode()
            shown = ctx.shown(path)
            return [Plan(finding.code, f"clean the key exported as {name} in {shown}",
                         (Change(path, data, after, shown=shown),), check="config.key",
                         finding_data={"reload": [name], "detail": _NEW_SHELL.format(file=shown)})]
        return [Plan(finding.code, f"clean ${name}", refused=f"no line of your shell start-up "
                     f"files sets ${name} to the value this shell has")]
    return [Plan(finding.code, "clean the key", refused="the key comes from " + (source or
                 "nowhere the doctor can edit"))]


CLEAN_KEY = Remedy("rewrite the key without whitespace, quotes or line breaks", _plan_clean_key)


# --- (b) the OpenAI SDK sends the key to OpenAI --------------------------------------------


def _plan_sdk_base_url(finding: Finding, ctx: FixContext) -> list[Plan]:
    import sys

    if sys.platform == "win32":  # the user's environment lives in the registry: setx is theirs
        command = f"setx OPENAI_BASE_URL {CBORG_ROOT}"
        return [Plan(finding.code, "set OPENAI_BASE_URL for your Windows account", needs_you=(
            NeedsYou(f"Run `{command}` in cmd or PowerShell, then open a new terminal", command),),
            check="config.base_url")]
    if ctx.home is None:
        return [Plan(finding.code, "set OPENAI_BASE_URL", refused="the home folder is unknown")]
    return [_shell_export(finding.code, "OPENAI_BASE_URL", CBORG_ROOT, ctx, "config.base_url")]


SDK_BASE_URL = Remedy("export OPENAI_BASE_URL=https://api.cborg.lbl.gov in the shell start-up file",
                      _plan_sdk_base_url)


# --- (c) a key in a file others can read ----------------------------------------------------

_REFERENCES = {"opencode": "{env:CBORG_API_KEY}"}
_CODEX_TOKEN = re.compile(r"^(\s*)experimental_bearer_token\s*=\s*(\"[^\"]*\"|'[^']*')\s*$")


def _with_reference(text: str, lines: list[int], tool: str, key: str, path: Path) -> str | None:
    """The file with the literal key replaced by the tool's reference to $CBORG_API_KEY."""
    rows = text.splitlines(keepends=True)
    changed = False
    for number in lines:
        if not 0 < number <= len(rows) or key not in rows[number - 1]:
            continue
        row = rows[number - 1]
        body = row.rstrip("\r\n")
        ending = row[len(body):]
        match = _CODEX_TOKEN.match(body) if tool == "Codex CLI" else None
        if match:
            body = f'{match.group(1)}env_key = "CBORG_API_KEY"'
        elif tool in _REFERENCES:
            body = body.replace(key, _REFERENCES[tool])
        elif tool == "Continue" and path.suffix == ".json" and path.with_name("config.ts").exists():
            body = body.replace(key, "${CBORG_API_KEY}")
        else:
            return None
        rows[number - 1] = body + ending
        changed = True
    return "".join(rows) if changed else None


def _format_of(path: Path) -> str | None:
    name = path.name.lower()
    if name.endswith(".jsonc") or name.endswith(".json"):
        return "jsonc"
    if name.endswith((".yaml", ".yml")):
        return "yaml"
    if name.endswith(".toml"):
        return "toml"
    if name.startswith(".env") or name.endswith(".env"):
        return "dotenv"
    return None


def _plan_private(finding: Finding, ctx: FixContext) -> list[Plan]:
    path = ctx.resolve(str(finding.data.get("file") or ""))
    if path is None:
        return []
    data, text, bom = _read(path, ctx)
    if data is None:
        return []
    shown = ctx.shown(path)
    plans: list[Plan] = []
    mode = path.stat().st_mode & 0o7777
    if mode & 0o077:
        plans.append(Plan(finding.code, f"chmod 600 {shown} (only you can read it)",
                          (Change(path, data, data, mode=(mode & 0o700) | 0o600, shown=shown),),
                          check="config.clients",
                          finding_data={"file": shown, "match": {"world_readable": True}}))
    env_key = (ctx.env.get("CBORG_API_KEY") or "").strip()
    lines = [int(n) for n in finding.data.get("lines") or [] if isinstance(n, int)]
    if env_key and lines:
        new = _with_reference(text, lines, str(finding.data.get("tool") or ""), env_key, path)
        fmt = _format_of(path)
        if new is not None and fmt is not None:
            try:
                parse(new, fmt)
            except EditRefused:
                new = None
        if new is not None:
            plans.append(Plan(finding.code, f"in {shown}, take the key from $CBORG_API_KEY "
                              "(it holds the same key) instead of the plain text",
                              (Change(path, data, bom + new.encode(), shown=shown),),
                              check="config.clients", finding_data={"file": shown}))
    return plans


PRIVATE_KEY_FILE = Remedy("chmod 600 the file; use the tool's reference to $CBORG_API_KEY",
                          _plan_private)


# --- (d) a tool's base URL -------------------------------------------------------------------


def _shell_export(code: str, name: str, value: str, ctx: FixContext, check: str) -> Plan:
    """`name=value` in the shell start-up file: its own line corrected, else the marked block."""
    if ctx.home is None:
        return Plan(code, f"set {name}", refused="the home folder is unknown")
    path = startup_file(ctx.home, ctx.env)
    data, text, bom = _read(path, ctx)
    shown = ctx.shown(path)
    try:
        if (name,) in read_assignments(text):
            new = set_value(text, "shell", (name,), value)
        else:
            new = with_exports(text, {name: value}, is_fish(path))
    except EditRefused as exc:
        return Plan(code, f"set {name} in {shown}", refused=str(exc))
    return Plan(code, f"export {name}={value} in {shown}",
                (Change(path, data, bom + new.encode(), shown=shown),), check=check,
                finding_data={"reload": [name], "detail": _NEW_SHELL.format(file=shown)})


def _plan_client_url(finding: Finding, ctx: FixContext) -> list[Plan]:
    data_ = finding.data
    key_path = tuple(data_.get("key_path") or ())
    value = str(data_.get("value") or data_.get("suggested") or "")
    fmt = str(data_.get("format") or "")
    if data_.get("needs_structure") or not key_path or not value:
        return [Plan(finding.code, "change the base URL", refused="this needs a new setting or "
                     "section in the file: follow the printed steps")]
    if fmt == "shell":
        return [_shell_export(finding.code, str(key_path[-1]), value, ctx, "config.clients")]
    path = ctx.resolve(str(data_.get("file") or ""))
    if path is None:
        return [Plan(finding.code, "change the base URL", refused="the file is outside your home "
                     "folder and the current folder")]
    fmt = fmt or _format_of(path) or ""
    data, text, bom = _read(path, ctx)
    shown = ctx.shown(path)
    name = f"set {'.'.join(map(str, key_path))} to {value} in {shown}"
    if data is None:
        return [Plan(finding.code, name, refused=f"{shown} is gone")]
    try:
        current = flat(text, fmt)
        digest = data_.get("value_sha256")
        together = find_paths(text, fmt, str(key_path[-1]), digest=str(digest)) if digest else []
        if data_.get("append") and fmt == "dotenv" and key_path not in current:
            nl = "\r\n" if "\r\n" in text else "\n"
            new = text + ("" if not text or text.endswith("\n") else nl) + f"{key_path[0]}={value}{nl}"
        elif key_path in current:
            new = set_value(text, fmt, key_path, value, together=tuple(together))
            # A YAML anchor may serve other setups, each with the same old value: all of them.
            for other in find_paths(new, fmt, str(key_path[-1]), digest=str(digest)) if digest else []:
                new = set_value(new, fmt, other, value, together=tuple(together))
        else:
            return [Plan(finding.code, name, refused=f"{shown} no longer has that setting")]
    except EditRefused as exc:
        return [Plan(finding.code, name, refused=f"{shown}: {exc}")]
    return [Plan(finding.code, name, (Change(path, data, bom + new.encode(), shown=shown),),
                 check="config.clients", finding_data={"file": data_.get("file")})]


CLIENT_URL = Remedy("change that one base URL in the tool's file, in place", _plan_client_url)


# --- (f) WSL 2 networking -----------------------------------------------------------------


def physical(ctx: FixContext, logical: str) -> Path:
    """Where a path the OS facts name lives on this disk (a recorded machine has a root)."""
    root = getattr(ctx.osfacts, "root", None)
    if root is None:
        return Path(logical)
    from ..osfacts import _under

    return _under(Path(root), logical)


SHUTDOWN = NeedsYou("In PowerShell or cmd on Windows run `wsl --shutdown`, wait about 8 seconds, "
                    "reopen your WSL terminal and run the doctor again (the doctor never runs it: "
                    "it ends every WSL session)", "wsl.exe --shutdown")


def _plan_wslconfig(finding: Finding, ctx: FixContext) -> list[Plan]:
    from .. import wslconfig

    data_ = finding.data
    profile, build = data_.get("profile"), data_.get("build")
    name = "set networkingMode=mirrored and dnsTunneling=true in %UserProfile%\\.wslconfig"
    if not profile:
        return [Plan(finding.code, name, refused="the Windows profile folder was not found")]
    if isinstance(build, int) and wslconfig.mirrored_unsupported(build):
        return [Plan(finding.code, name, refused=f"Windows build {build} is older than Windows 11 "
                     "22H2: mirrored mode does not exist there, so there is nothing to write; "
                     "follow the printed steps (WSL 1 for this distro, or no VPN)")]
    folder = physical(ctx, str(profile))
    target, txt = folder / ".wslconfig", folder / ".wslconfig.txt"
    data, text, bom = _read(target, ctx)
    changes: list[Change] = []
    if data is None and data_.get("found") == ".wslconfig.txt":
        old, text, bom = _read(txt, ctx)
        if old is not None:
            changes.append(Change(txt, old, None, shown="%UserProfile%\\.wslconfig.txt"))
    wanted = tuple((str(k), str(v)) for k, v in (
        data_.get("wanted", wslconfig.WANTED)))
    merged = wslconfig.merged(text or None, wanted)
    if "\r\n" in text or not text.strip() or changes:
        merged = merged.replace("\r\n", "\n").replace("\n", "\r\n")
    if not text.endswith(("\n", "\r")) and text and merged.endswith("\n") and \
            merged.rstrip("\r\n") == text:
        merged = text
    after = bom + merged.encode()
    changes.insert(0, Change(target, data, after, shown="%UserProfile%\\.wslconfig"))
    return [Plan(finding.code, name, tuple(changes), (SHUTDOWN,), check="platform.wsl",
                 finding_data={"path": str(target)})]


WSLCONFIG = Remedy("merge [wsl2] networkingMode=mirrored, dnsTunneling=true into .wslconfig",
                   _plan_wslconfig)


# --- (g) TLS inspection the OS trusts and Python does not ----------------------------------

_PEM = re.compile(r"-----BEGIN CERTIFICATE-----\s+[A-Za-z0-9+/=\s]+?-----END CERTIFICATE-----")


def _pems(text: str) -> list[str]:
    return [m.group(0) for m in _PEM.finditer(text)]


def _body(pem: str) -> str:
    return "".join(pem.split("-----")[2].split())


def os_bundle() -> Path | None:
    """The OS's CA bundle, as `cborg_doctor.probes.trust.os_context` finds it on Linux."""
    import ssl

    from ..probes.trust import OS_BUNDLES

    for candidate in (ssl.get_default_verify_paths().openssl_cafile, *OS_BUNDLES):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    return None


def bundle_path(ctx: FixContext) -> Path | None:
    base = ctx.env.get("XDG_CONFIG_HOME") or (str(ctx.home / ".config") if ctx.home else "")
    return Path(base) / "cborg-doctor" / "ca-bundle.pem" if base else None


def _plan_ca_bundle(finding: Finding, ctx: FixContext) -> list[Plan]:
    import sys

    import certifi

    name = "a CA bundle of certifi's roots and your organisation's, exported as SSL_CERT_FILE"
    if finding.data.get("os_store_verifies") is not True:
        return [Plan(finding.code, name, refused="this computer does not trust the intercepting "
                     "CA either: ask your IT for it (the printed steps)")]
    source = os_bundle() if sys.platform.startswith("linux") else None
    target, home = bundle_path(ctx), ctx.home
    if source is None or target is None or home is None:
        return [Plan(finding.code, name, refused="no OS CA bundle file to take the CA from here: "
                     "use truststore (the printed steps)")]
    public = Path(certifi.where()).read_text(encoding="ascii", errors="replace")
    known = {_body(p) for p in _pems(public)}
    extra = [p for p in _pems(source.read_text(encoding="ascii", errors="replace"))
             if _body(p) not in known]
    if not extra:
        return [Plan(finding.code, name, refused=f"{source} holds no CA that certifi lacks")]
    bundle = (public.rstrip("\n") + f"\n\n# Added by cborg-doctor --fix: the {len(extra)} CA(s) "
              f"{source} trusts and certifi does not\n" + "\n".join(extra) + "\n").encode()
    old = read_for_edit(target, ctx.allowed)
    rc = startup_file(home, ctx.env)
    data, text, bom = _read(rc, ctx)
    exports = {"SSL_CERT_FILE": str(target), "REQUESTS_CA_BUNDLE": str(target)}
    new_rc = bom + with_exports(text, exports, is_fish(rc)).encode()
    shown_rc = ctx.shown(rc)
    return [Plan(finding.code, f"write {ctx.shown(target)} (certifi + {len(extra)} CA(s) from "
                 f"{source}) and export SSL_CERT_FILE and REQUESTS_CA_BUNDLE in {shown_rc}",
                 (Change(target, old, bundle, mode=0o644, shown=ctx.shown(target),
                         summary=f"certifi's roots and the {len(extra)} CA(s) of {source} that "
                         "certifi lacks" if old != bundle else ""),
                  Change(rc, data, new_rc, shown=shown_rc)),
                 check="tls", finding_data={"reload": list(exports),
                                            "detail": _NEW_SHELL.format(file=shown_rc)})]


CA_BUNDLE = Remedy("a CA bundle with the organisation's CA, exported as SSL_CERT_FILE", _plan_ca_bundle)
