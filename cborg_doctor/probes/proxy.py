"""Which proxy the user's clients would use for the gateway, decided once by one rule.

Follows what httpx (and so openai-python) does with ``trust_env``: the lower-case
variable wins over the upper-case one, ``https_proxy`` (else ``all_proxy``) for an
https URL, ``http_proxy`` (else ``all_proxy``) for http; ``no_proxy`` entries match
the host itself or any name under it, ``*`` matches everything, and CIDR entries
match IP literals. On macOS and Windows the system proxy settings count too, as
`urllib.request.getproxies()` reports them. The config.proxy check shares the
decision as the fact ``proxy.decision``; probes read it from there.
"""

from __future__ import annotations

import ipaddress
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from cborg_doctor.facts import PROXY_ADDRESSES, PROXY_DECISION

if TYPE_CHECKING:
    from cborg_doctor.context import RunContext
    from cborg_doctor.target import Target

SCHEMES = ("https", "http", "all", "no")


@dataclass(frozen=True)
class ProxyDecision:
    """`url` is the proxy for the gateway, or None for a direct connection."""

    url: str | None = None
    source: str | None = None  # e.g. "HTTPS_PROXY", "https_proxy", "system settings"
    bypassed_by: str | None = None  # the NO_PROXY entry that excluded the gateway
    settings: Mapping[str, str] = field(default_factory=dict)  # shown values, no passwords

    @property
    def shown(self) -> str:
        return redact(self.url) if self.url else "none"

    @property
    def host_port(self) -> tuple[str, int] | None:
        if not self.url:
            return None
        try:
            parts = urlsplit(self.url if "://" in self.url else "http://" + self.url)
        except ValueError:
            return "", 0
        default = 443 if parts.scheme == "https" else 80
        try:
            port = parts.port or default
        except ValueError:
            port = default
        return (parts.hostname or ""), port

    @property
    def authorization(self) -> str | None:
        """The Proxy-Authorization header value for credentials in the proxy URL."""
        if not self.url:
            return None
        import base64
        from urllib.parse import unquote

        try:
            parts = urlsplit(self.url)
        except ValueError:
            return None
        if parts.username is None:
            return None
        pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
        return "Basic " + base64.b64encode(pair.encode("utf-8")).decode("ascii")

    def to_fact(self) -> dict[str, Any]:
        return {"url": self.url, "source": self.source, "bypassed_by": self.bypassed_by,
                "settings": dict(self.settings)}


def redact(url: str) -> str:
    """A proxy URL without its password."""
    try:
        parts = urlsplit(url if "://" in url else "http://" + url)
        if parts.password is None:
            return url
        netloc = f"{parts.username}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
        return urlunsplit(parts._replace(netloc=netloc))
    except ValueError:  # not a URL urllib can split: hide anything that may be a login
        return re.sub(r"//[^/@]*@", "//***@", url)


def passwords(env: Mapping[str, str]) -> tuple[str, ...]:
    """The passwords in any proxy URL of the environment, as written and URL-decoded, and
    the Basic credentials they make (a proxy page could echo Proxy-Authorization)."""
    import base64
    from urllib.parse import unquote

    found: list[str] = []
    for _, value in environment_settings(env).values():
        try:
            parts = urlsplit(value if "://" in value else "http://" + value)
            user, secret = parts.username or "", parts.password
        except ValueError:
            match = re.search(r"//([^/@:]*):([^/@]*)@", value)
            user, secret = (match.group(1), match.group(2)) if match else ("", None)
        if secret:
            pair = f"{unquote(user)}:{unquote(secret)}".encode()
            found += [secret, unquote(secret), base64.b64encode(pair).decode("ascii")]
    return tuple(found)


def environment_settings(env: Mapping[str, str]) -> dict[str, tuple[str, str]]:
    """scheme → (variable name, value); the lower-case variable wins, as in urllib."""
    found: dict[str, tuple[str, str]] = {}
    for scheme in SCHEMES:
        for name in (f"{scheme.upper()}_PROXY", f"{scheme}_proxy"):
            value = env.get(name, "").strip()
            if value:
                found[scheme] = (name, value)
    return found


def system_settings() -> dict[str, tuple[str, str]]:
    """macOS/Windows proxy settings (on Linux urllib only reads the environment)."""
    if sys.platform not in ("darwin", "win32"):
        return {}
    import urllib.request

    try:
        proxies = urllib.request.getproxies()
    except Exception:  # registry or SystemConfiguration unavailable
        return {}
    return {k: ("system settings", v) for k, v in proxies.items() if k in SCHEMES and v}


def bypass_entry(no_proxy: str, host: str) -> str | None:
    """The NO_PROXY entry that excludes `host`, if any."""
    host = host.lower().strip("[]").rstrip(".")
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        ip = None
    for raw in no_proxy.replace(";", ",").split(","):
        entry = raw.strip().lower()
        if not entry:
            continue
        if entry == "*":
            return raw.strip()
        name = entry.strip("[]")
        if ip is not None:
            try:
                if ip in ipaddress.ip_network(name, strict=False):
                    return raw.strip()
            except ValueError:
                pass
            continue
        name = name.rsplit(":", 1)[0] if name.count(":") == 1 else name
        name = name.lstrip("*").lstrip(".")
        if name and (host == name or host.endswith("." + name)):
            return raw.strip()
    return None


def decide(env: Mapping[str, str], target: Target) -> ProxyDecision:
    """The proxy the user's clients would use for `target` (httpx's rules)."""
    settings = {**system_settings(), **environment_settings(env)}
    shown = {name: redact(value) if scheme != "no" else value
             for scheme, (name, value) in settings.items()}
    chosen = settings.get(target.scheme) or settings.get("all")
    if chosen is None:
        return ProxyDecision(settings=shown)
    no_proxy = settings.get("no", ("", ""))[1]
    entry = bypass_entry(no_proxy, target.host) if no_proxy else None
    if entry is not None:
        return ProxyDecision(None, chosen[0], bypassed_by=entry, settings=shown)
    url = chosen[1] if "://" in chosen[1] else "http://" + chosen[1]
    return ProxyDecision(url, chosen[0], settings=shown)


def decision(ctx: RunContext) -> ProxyDecision:
    """The run's proxy decision: config.proxy's when it ran, else computed the same way."""
    fact = ctx.fact(PROXY_DECISION)
    if isinstance(fact, ProxyDecision):
        return fact
    return decide(ctx.env, ctx.target)


def url_for_connecting(ctx: RunContext, decision: ProxyDecision) -> str | None:
    """The proxy URL to hand to httpx. With ``--nameserver`` the proxy's name is resolved
    by those servers too (httpx would ask the system), so the URL carries the address;
    an https:// proxy's certificate must then name that address."""
    if not decision.url or not ctx.options.nameservers or decision.host_port is None:
        return decision.url
    from cborg_doctor.target import is_ip_literal

    from . import resolve

    host, _ = decision.host_port
    if is_ip_literal(host):
        return decision.url
    fact = ctx.fact(PROXY_ADDRESSES)
    order = fact.get("order") if isinstance(fact, dict) else resolve.lookup(ctx, host).addresses
    if not order:
        return decision.url
    address = order[0]
    shown = f"[{address}]" if ":" in address else address
    try:
        parts = urlsplit(decision.url)
        login = decision.url.split("://", 1)[1].split("@", 1)[0] + "@" if "@" in (
            parts.netloc) else ""
        netloc = login + shown + (f":{parts.port}" if parts.port else "")
        return urlunsplit(parts._replace(netloc=netloc))
    except ValueError:
        return decision.url

