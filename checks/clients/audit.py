"""Judging one tool setup: is it meant for CBorg, and is its base URL right?

A setup is *meant for CBorg* when anything in it says so: a CBorg host or the
cborg-client proxy as base URL, a key taken from (or set as) a ``CBORG_*`` variable, a key
that is the user's CBorg key or shaped like a LiteLLM key, an ``lbl/`` or
``cborg`` model, or "cborg" in its name. Only those are audited: a Codex
profile that talks to OpenAI with a ChatGPT sign-in is nobody's problem here.

Base-URL problems, worst first (all `fail`, except the OpenAI SDK's default in a
``.env``, which the code may still override):

    missing   the tool's provider setting names a provider that is not defined
    prefix    aider's model lacks the openai/ prefix: it goes to another provider
    invalid   not an http(s) URL with a host
    openai    api.openai.com: it rejects a CBorg key ("Incorrect API key provided")
    insecure  http:// to a host that is not this machine: the key crosses the network
    host      some other host: the CBorg key goes to a server that is not CBorg
    path      a path other than "" or "/v1" (usually an endpoint the tool appends itself)
    offsite   api-local.cborg.lbl.gov, which answers only on LBLnet, from off-site
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass
from types import MappingProxyType

from cborg_doctor.api import Severity
from cborg_doctor.cborg import CBORG_HOST
from cborg_doctor.target import LOCAL_ONLY_HOST, is_cborg_host, is_loopback, parse_target

from .model import ClientEntry, KeyKind, Wire

OPENAI_HOSTS = ("api.openai.com",)
GOOD_PATHS = ("", "/v1")
ENDPOINTS = ("/chat/completions", "/completions", "/responses", "/embeddings", "/models",
             "/messages", "/model/info", "/key/info")
CBORG_CLIENT_PORTS = (8001, 8002, 8003)


@dataclass(frozen=True)
class UrlProblem:
    kind: str
    text: str  # what is wrong, one clause
    severity: Severity = Severity.FAIL


@dataclass(frozen=True)
class UrlVerdict:
    """Everything wrong with one base URL, and the one URL that fixes all of it."""

    problems: tuple[UrlProblem, ...]
    suggested: str

    @property
    def severity(self) -> Severity:
        return Severity.FAIL if any(p.severity is Severity.FAIL for p in self.problems) \
            else Severity.WARN


def is_local(host: str) -> bool:
    """Loopback, or the unspecified address (``0.0.0.0``), which clients reach as loopback."""
    if is_loopback(host):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_unspecified
    except ValueError:
        return False


def proxy_address(url: str | None) -> tuple[str, int] | None:
    """(host, port) when `url` is plain http(s) to this machine, e.g. the cborg-client proxy."""
    if not url:
        return None
    target = parse_target(url, "")
    if not target.valid or not is_local(target.host):
        return None
    return target.host, target.port


def is_cborg_client(url: str | None) -> bool:
    address = proxy_address(url)
    return address is not None and address[1] in CBORG_CLIENT_PORTS


def meant_for_cborg(entry: ClientEntry) -> bool:
    key = entry.key
    if key.kind in (KeyKind.ENV, KeyKind.SECRET) and "CBORG" in key.name.upper():
        return True
    if key.kind is not KeyKind.DEFAULT and "CBORG" in entry.key_setting.upper():
        return True  # e.g. CBORG_API_KEY=... in a .env
    if key.kind in (KeyKind.LITERAL, KeyKind.ENV) and key.cborg_like:
        return True
    model = (entry.model or "").lower()
    if model.startswith("lbl/") or "cborg" in model or "cborg" in entry.label.lower():
        return True
    if entry.base_url:
        target = parse_target(entry.base_url, "")
        host = target.host.lower() if target.valid else entry.base_url.lower()
        if "cborg" in host or is_cborg_client(entry.base_url):
            return True
    return False


def _suggest_host(host: str) -> str:
    if "cborg" in host.lower():
        return " (did you mean api.cborg.lbl.gov?)"
    return ""


# Tools whose SDK appends the version itself: their base URL is the gateway's root.
APPENDS_VERSION = MappingProxyType({Wire.ANTHROPIC: "/v1/messages", Wire.GEMINI: "/v1beta/models/…"})


def _path_problem(path: str, wire: str = Wire.CHAT) -> UrlProblem | None:
    appended = APPENDS_VERSION.get(wire)  # type: ignore[call-overload]
    if appended and path.rstrip("/") == "/v1":
        return UrlProblem("path", f"the tool appends {appended} itself, so requests go to "
                          f"…/v1{appended}, which does not exist (use the gateway's root)")
    if path in GOOD_PATHS:
        return None
    endpoint = next((e for e in ENDPOINTS if path.endswith(e)), None)
    if endpoint:
        text = (f"the path {path} already ends in the endpoint {endpoint}, which the tool "
                f"appends itself, so requests go to …{path}{endpoint}")
    else:
        text = f"the path {path} is not where the API lives (the gateway's root or /v1)"
    return UrlProblem("path", text)


def judge_url(entry: ClientEntry, offsite: Callable[[], bool | None]) -> UrlVerdict | None:
    """What is wrong with where this setup sends requests; None when nothing (or unknown)."""
    if entry.base_url_from == "missing":
        return UrlVerdict((UrlProblem("missing", "the provider it names is not defined, so "
                                      "the tool has no base URL"),), entry.suggested_base)
    if entry.base_url_from == "prefix":
        return UrlVerdict((UrlProblem("prefix", entry.note),), entry.suggested_base)
    if entry.base_url is None:
        return None
    url = entry.base_url
    target = parse_target(url, "")
    if not target.valid:
        return UrlVerdict((UrlProblem("invalid", "this is not an http(s) URL with a host name"),),
                          entry.suggested_base)
    host = target.host.lower()
    if host in OPENAI_HOSTS:
        guess = entry.base_url_from == "sdk-default"
        text = ("the OpenAI SDK's default when OPENAI_BASE_URL is not set; OpenAI rejects a "
                "CBorg key with \"Incorrect API key provided\"") if guess else \
            "that is OpenAI, which rejects a CBorg key with \"Incorrect API key provided\""
        severity = Severity.WARN if guess else Severity.FAIL
        return UrlVerdict((UrlProblem("openai", text, severity),), entry.suggested_base)
    path_problem = _path_problem(target.path, entry.wire)
    fixed_path = target.path if path_problem is None else \
        ("/v1" if target.path.startswith("/v1") and entry.wire not in APPENDS_VERSION else "")
    if is_local(host):
        return None if path_problem is None else \
            UrlVerdict((path_problem,), target.origin + fixed_path)
    problems: list[UrlProblem] = []
    if target.scheme == "http":
        problems.append(UrlProblem(
            "insecure", f"plain http to {target.host}: the key would cross the network "
            "unencrypted"))
    if not is_cborg_host(host):
        problems.append(UrlProblem(
            "host", f"{target.host} is not a CBorg host{_suggest_host(host)}, so the CBorg "
            "key goes to a server that is not CBorg"))
        return UrlVerdict(tuple(problems), entry.suggested_base)
    if path_problem is not None:
        problems.append(path_problem)
    fixed_host = target.host
    if host == LOCAL_ONLY_HOST and offsite() is True:
        problems.append(UrlProblem(
            "offsite", f"{LOCAL_ONLY_HOST} answers only on LBLnet (on site or on the VPN), and "
            "no address of this machine is in LBL's ranges"))
        fixed_host = CBORG_HOST
    if not problems:
        return None
    port = "" if target.port == 443 else f":{target.port}"
    return UrlVerdict(tuple(problems), f"https://{fixed_host}{port}{fixed_path}")
