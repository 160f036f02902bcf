"""Which CAs are trusted: the user's clients' trust, certifi, and the OS store.

The OpenAI SDK's httpx trusts certifi unless ``SSL_CERT_FILE`` (else ``SSL_CERT_DIR``)
names other CAs; the doctor verifies with exactly that. The OS store is what
browsers and curl on this machine trust: truststore on macOS/Windows, and on
Linux the distribution's bundle that OpenSSL was built to use (not the
SSL_CERT_FILE override, so a corporate CA installed system-wide shows up).
"""

from __future__ import annotations

import os
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cborg_doctor.facts import TRUST_CONTEXT

from .x509 import BasicConstraints, basic_constraints

if TYPE_CHECKING:
    from cborg_doctor.context import RunContext

OS_BUNDLES = (
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
    "/etc/ssl/cert.pem",
    "/etc/pki/tls/cert.pem",
    "/etc/ssl/ca-bundle.pem",
)


@dataclass(frozen=True)
class Trust:
    """Where the user's clients get their CAs: "certifi", "SSL_CERT_FILE=..." ..."""

    source: str
    cafile: str | None
    capath: str | None


def user_trust(env: Mapping[str, str]) -> Trust:
    if env.get("SSL_CERT_FILE"):
        return Trust(f"SSL_CERT_FILE={env['SSL_CERT_FILE']}", env["SSL_CERT_FILE"], None)
    if env.get("SSL_CERT_DIR"):
        return Trust(f"SSL_CERT_DIR={env['SSL_CERT_DIR']}", None, env["SSL_CERT_DIR"])
    import certifi

    return Trust("certifi", certifi.where(), None)


def make_context(trust: Trust) -> ssl.SSLContext:
    """A verifying client context; raises OSError/SSLError for an unusable bundle."""
    context = ssl.create_default_context(cafile=trust.cafile, capath=trust.capath)
    context.set_alpn_protocols(["http/1.1"])
    return context


def user_context(ctx: RunContext) -> ssl.SSLContext:
    """The user's clients' trust, built once per run (loading a bundle costs ~20 ms)."""
    cached = ctx.fact(TRUST_CONTEXT)
    if isinstance(cached, ssl.SSLContext):
        return cached
    trust = user_trust(ctx.env)
    try:
        context = make_context(trust)
    except (OSError, ssl.SSLError):  # config.proxy reports CA_BUNDLE_MISSING
        context = make_context(user_trust({}))
    ctx.share(TRUST_CONTEXT, context)
    return context


def certifi_context() -> ssl.SSLContext:
    return make_context(user_trust({}))


def os_context() -> ssl.SSLContext | None:
    """The OS trust store, or None when there is none to use."""
    import sys

    if sys.platform in ("darwin", "win32"):
        try:
            import truststore

            return truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        except Exception:  # truststore missing or the OS API failed
            return None
    paths = ssl.get_default_verify_paths()
    candidates = [paths.openssl_cafile, *OS_BUNDLES]
    for cafile in candidates:
        if cafile and os.path.isfile(cafile):
            try:
                return ssl.create_default_context(cafile=cafile)
            except (OSError, ssl.SSLError):
                continue
    return None


def unverified_context() -> ssl.SSLContext:
    """For reading the peer certificate when verification fails."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.set_alpn_protocols(["http/1.1"])
    return context


def _names(parts: Any) -> tuple[str, str]:
    """(common name or organisation, organisation) of a getpeercert()-style name."""
    found = {name: value for rdn in parts or () for name, value in rdn}
    cn, org = str(found.get("commonName", "")), str(found.get("organizationName", ""))
    return cn or org, org or str(found.get("organizationalUnitName", ""))


def issuing_cas(context: ssl.SSLContext, issuer: str, issuer_org: str
                ) -> list[tuple[str, BasicConstraints]]:
    """The CAs in `context` that issued a certificate named by its issuer, walking up to
    the root: (name, Basic Constraints). Only CAs loaded from a file are seen (a folder's
    are loaded lazily, as OpenSSL needs them)."""
    try:
        infos, ders = context.get_ca_certs(), context.get_ca_certs(binary_form=True)
    except (ssl.SSLError, ValueError):
        return []
    chain: list[tuple[str, BasicConstraints]] = []
    wanted = (issuer, issuer_org)
    for _ in range(4):
        match = next((i for i, info in enumerate(infos) if _names(info.get("subject")) == wanted
                      or (not wanted[1] and _names(info.get("subject"))[0] == wanted[0])), None)
        if match is None or match >= len(ders):
            break
        constraints = basic_constraints(ders[match])
        if constraints is None:
            break
        name = wanted[0] + (f" ({wanted[1]})" if wanted[1] and wanted[1] != wanted[0] else "")
        chain.append((name, constraints))
        parent = _names(infos[match].get("issuer"))
        if parent == wanted:
            break  # self-signed: the root
        wanted = parent
    return chain


def bundle_problem(path: str, directory: bool) -> str | None:
    """Why a CA file/folder cannot be used, or None when it can."""
    if not os.path.exists(path):
        return "does not exist"
    if directory:
        if not os.path.isdir(path):
            return "is not a folder"
        if not os.access(path, os.R_OK | os.X_OK):
            return "cannot be read"
        return None
    if os.path.isdir(path):
        return "is a folder, not a file"
    try:
        with open(path, "rb") as handle:
            handle.read(1)
    except OSError as exc:
        return f"cannot be read ({exc.strerror or 'error'})"
    try:
        ssl.create_default_context(cafile=path)
    except (ssl.SSLError, ValueError, OSError):
        return "holds no usable PEM certificates"
    return None
