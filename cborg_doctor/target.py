"""Which gateway the run tests, by the contract's default-target rules.

`--base-url` wins and is trusted as given. Otherwise `$CBORG_BASE_URL`, then
`$OPENAI_BASE_URL` only when its host is a CBorg host (the key must never go to
OpenAI or anywhere else), then `https://api.cborg.lbl.gov`.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from .cborg import CBORG_HOSTS, DEFAULT_BASE_URL, LOCAL_ONLY_HOST

__all__ = ["CBORG_HOSTS", "DEFAULT_BASE_URL", "LOCAL_ONLY_HOST", "Target", "choose_target"]


def is_cborg_host(host: str) -> bool:
    return host.lower().rstrip(".") in CBORG_HOSTS


def is_loopback(host: str) -> bool:
    if host.lower().rstrip(".") == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class Target:
    """The gateway under test, split into the parts the probes need."""

    base_url: str
    scheme: str
    host: str
    port: int
    path: str
    source: str  # "option", "env:CBORG_BASE_URL", "env:OPENAI_BASE_URL", "default"
    valid: bool = True

    @property
    def origin(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default_port = 443 if self.scheme == "https" else 80
        suffix = "" if self.port == default_port else f":{self.port}"
        return f"{self.scheme}://{host}{suffix}"

    @property
    def key_may_be_sent(self) -> bool:
        """HTTPS anywhere, or plain HTTP only to a loopback address (tests, local proxies)."""
        if not self.valid:
            return False
        return self.scheme == "https" or (self.scheme == "http" and is_loopback(self.host))

    def url(self, path: str) -> str:
        """An absolute URL on the gateway's origin (never another host)."""
        return self.origin + "/" + path.lstrip("/")

    def sdk_path(self, endpoint: str) -> str:
        """The path an OpenAI SDK requests for `endpoint` ("models", "chat/completions").

        openai-python gives the base URL a trailing slash, then appends the endpoint
        without its leading one (``_enforce_trailing_slash`` and ``_prepare_url`` in
        ``openai/_base_client.py``): ``https://h/v1/`` + ``/models`` → ``https://h/v1/models``,
        ``https://h`` → ``https://h/models``. A path in the base URL is kept, never dropped.
        """
        return self.path + "/" + endpoint.lstrip("/")

    def to_dict(self) -> dict[str, object]:
        return {"base_url": self.base_url, "host": self.host, "port": self.port}


def parse_target(url: str, source: str) -> Target:
    """Split a base URL; an unusable one gives a `Target` with `valid=False`."""
    text = url.strip()
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        return Target(text, "", "", 0, "", source, valid=False)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".")
    if scheme not in ("http", "https") or not host:
        return Target(text, scheme, host, 0, parts.path, source, valid=False)
    return Target(
        base_url=text.rstrip("/"),
        scheme=scheme,
        host=host,
        port=port or (443 if scheme == "https" else 80),
        path=parts.path.rstrip("/"),
        source=source,
    )


def choose_target(option: str | None, env: Mapping[str, str]) -> Target:
    """Apply the contract's default-target rules."""
    if option is not None:
        return parse_target(option, "option")
    if env.get("CBORG_BASE_URL"):
        return parse_target(env["CBORG_BASE_URL"], "env:CBORG_BASE_URL")
    openai = env.get("OPENAI_BASE_URL")
    if openai:
        candidate = parse_target(openai, "env:OPENAI_BASE_URL")
        if candidate.valid and is_cborg_host(candidate.host):
            return candidate
    return parse_target(DEFAULT_BASE_URL, "default")
