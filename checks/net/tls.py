"""`tls`: the handshake the user's clients make, and who issued the certificate.

Verifies with the trust the clients use (certifi, or ``SSL_CERT_FILE``/``SSL_CERT_DIR``)
and, when that fails, asks the OS trust store and reads the certificate from an
unverified handshake, so the finding can name the issuer: a corporate TLS
inspection proxy looks exactly like "certificate verify failed" to Python.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from types import MappingProxyType
from typing import Any

from cborg_doctor.api import Check, Code, Finding, Outcome, RunContext, Severity
from cborg_doctor.facts import PROXY_ADDRESSES
from cborg_doctor.fixes.remedies import CA_BUNDLE
from cborg_doctor.probes import interception, proxy, resolve, trust
from cborg_doctor.probes.errors import Kind
from cborg_doctor.probes.http import reachable
from cborg_doctor.probes.tls import PeerCert, TlsResult, decode_der, handshake
from cborg_doctor.probes.together import together
from cborg_doctor.probes.trust import bundle_problem
from cborg_doctor.probes.x509 import BasicConstraints, basic_constraints
from cborg_doctor.target import is_loopback

from . import proxied
from .proxied import auth_finding, denied_finding, source_text

CLOCK_TOLERANCE = timedelta(minutes=5)
TRUST_STEPS = (
    "Point your clients at a bundle that includes your organisation's root CA: "
    "`export SSL_CERT_FILE=/path/to/corporate-bundle.pem` (ask IT for it; on Linux the "
    "system bundle is usually /etc/ssl/certs/ca-certificates.crt).",
    "Or make Python use the OS trust store: `pip install truststore`, then call "
    "`truststore.inject_into_ssl()` before creating the OpenAI client.",
)

TLS_UNTRUSTED = Code(
    "TLS_UNTRUSTED",
    Severity.FAIL,
    "The certificate for {host} is not trusted by {trust}: {reason} (issuer: {issuer}).",
    fix=(
        "If you set SSL_CERT_FILE or SSL_CERT_DIR, make sure it contains public roots too "
        "(append your CA to certifi's bundle instead of replacing it).",
        *TRUST_STEPS,
    ),
    explain="Verification failed because the issuer is unknown to the CAs your clients trust.",
)
BUNDLE_STEPS = (
    "Get the inspecting CA's certificate as PEM and save it as ~/corp-ca.pem: {ca_hint}.",
    "Make a bundle of certifi's public roots plus that CA and point Python clients at it: "
    "`cat \"$(python3 -m certifi)\" ~/corp-ca.pem > ~/.cborg-ca-bundle.pem && export "
    "SSL_CERT_FILE=~/.cborg-ca-bundle.pem` (put the export in your shell profile; tools built "
    "on requests also need `export REQUESTS_CA_BUNDLE=~/.cborg-ca-bundle.pem`).",
    "Or make Python use the OS trust store, where IT installs that CA (which is why browsers "
    "work): `pip install truststore`, then `import truststore; truststore.inject_into_ssl()` "
    "before creating the OpenAI client.",
)
DEFAULT_CA_HINT = ("ask your IT department for the organisation's root CA, or export it from a "
                   "browser on this machine (the padlock → certificate → the top of the chain)")
FETCH_CHAIN = ("; `openssl s_client -proxy {proxy_address} -connect {host}:{port} -showcerts "
               "</dev/null` prints the chain the proxy sends (its last certificate is usually "
               "the CA)")

TLS_INTERCEPTED = Code(
    "TLS_INTERCEPTED",
    Severity.FAIL,
    "TLS to {host} is intercepted: the certificate is issued by {issuer}, {why}.",
    fix=BUNDLE_STEPS,
    explain="A TLS inspection proxy (corporate firewall, antivirus, Zscaler, Netskope ...) "
    "replaces the gateway's certificate with one from its own CA. Browsers trust that CA "
    "through the OS store; Python's certifi bundle does not.",
    also=((Severity.INFO,
           'when only your SSL_CERT_FILE/SSL_CERT_DIR trusts the issuer: your Python clients'
           ' work, tools with their own CA list do not'),),
    remedy=CA_BUNDLE,
)
TLS_HOSTNAME_MISMATCH = Code(
    "TLS_HOSTNAME_MISMATCH",
    Severity.FAIL,
    "The certificate presented for {host} is for {names}, issued by {issuer}.",
    fix=(
        "Check the host in the base URL: use https://api.cborg.lbl.gov.",
        "If the name is right, something else answers for it (a captive portal, a proxy, "
        "a hosts-file entry): sign in to the network or remove the entry.",
    ),
    explain="The server's certificate does not name the host the client asked for.",
)
TLS_EXPIRED = Code(
    "TLS_EXPIRED",
    Severity.FAIL,
    "The certificate for {host} expired on {not_after} (issuer: {issuer}); this machine's "
    "clock reads {now}.",
    fix=(
        "If your clock is right, the server's certificate really expired: report it to "
        "scienceit@lbl.gov with this report.",
        "If an interception proxy issued it, tell your IT department.",
    ),
    explain="The certificate's validity ended; the local clock agrees (or cannot be checked).",
)
TLS_CLOCK_SKEW = Code(
    "TLS_CLOCK_SKEW",
    Severity.FAIL,
    "The certificate for {host} is {state} according to this machine's clock ({now}); {skew}.",
    fix=(
        "Set the clock right and keep it synchronised: Windows: Settings → Time & language → "
        "Sync now; macOS: System Settings → General → Date & Time; Linux: "
        "`sudo timedatectl set-ntp true`.",
        "Under WSL 2 the clock drifts after sleep: run `sudo hwclock -s` or `wsl --shutdown`.",
    ),
    explain="Certificates are valid between two dates; a local clock far off makes a good "
    "certificate look not yet valid or expired.",
)
TLS_NOT_YET_VALID = Code(
    "TLS_NOT_YET_VALID",
    Severity.FAIL,
    "The certificate for {host} is valid only from {not_before}, and the server's clock "
    "agrees with yours ({now}).",
    fix=("Report it to scienceit@lbl.gov with this report (or to your IT department if an "
         "interception proxy issued it: {issuer}).",),
    explain="The server presents a certificate whose validity has not begun.",
)
TLS_TIMEOUT = Code(
    "TLS_TIMEOUT",
    Severity.FAIL,
    "TCP to {address} connects, but the TLS handshake with {host} did not finish in "
    "{seconds:g} s.",
    fix=(
        "A firewall or deep-packet inspection is holding the connection: try another network "
        "or the LBL VPN.",
        "Under WSL 2 with a VPN, an MTU problem looks like this: use mirrored networking.",
    ),
    explain="The server (or something in between) accepted TCP but never completed TLS.",
)
TLS_FAILED = Code(
    "TLS_FAILED",
    Severity.FAIL,
    "The TLS handshake with {host} at {address} failed: {reason}.",
    fix=(
        "A reset or protocol error in the handshake usually means a firewall or proxy "
        "blocks TLS to this host: try another network or the LBL VPN.",
        "Update Python/OpenSSL if the error names an unsupported protocol or cipher.",
    ),
    explain="TLS broke for a reason other than the certificate: protocol or cipher errors, "
    "or the connection was reset.",
)
STRICT_BUNDLE_STEP = (
    "Careful: that CA ({ca}) has {problem}. A bundle with it works on Python 3.12 and older, "
    "but Python 3.13+ rejects it (VERIFY_X509_STRICT): ask IT to re-issue it with a critical "
    "Basic Constraints extension (CA:TRUE); see `cborg-doctor --explain TLS_CA_NOT_STRICT`.")
TLS_CA_NOT_STRICT = Code(
    "TLS_CA_NOT_STRICT",
    Severity.WARN,
    "The CA {ca} that {trust} uses for {host} has {problem}: Python 3.13 and newer reject it "
    "(VERIFY_X509_STRICT), {now}.",
    fix=(
        "Ask whoever runs that CA (IT, for a TLS inspection CA) to re-issue it with a critical "
        "Basic Constraints extension (CA:TRUE), as RFC 5280 requires of CA certificates.",
        "Until then, on Python 3.13+, clear the flag where you build the client: `ctx = "
        "ssl.create_default_context(cafile=os.environ[\"SSL_CERT_FILE\"]); ctx.verify_flags &= "
        "~ssl.VERIFY_X509_STRICT; client = OpenAI(http_client=httpx.Client(verify=ctx))`.",
    ),
    explain="Python 3.13 turned on VERIFY_X509_STRICT in ssl.create_default_context() (which "
    "httpx and openai-python use). A CA whose Basic Constraints extension is missing or not "
    "marked critical then fails with 'Basic Constraints of CA cert not marked critical', "
    "while Python 3.12 and older accept it: a setup that works breaks exactly when Python is "
    "upgraded. Many TLS inspection and in-house CAs were made that way.",
)
CODES = (TLS_UNTRUSTED, TLS_INTERCEPTED, TLS_HOSTNAME_MISMATCH, TLS_EXPIRED, TLS_CLOCK_SKEW,
         TLS_NOT_YET_VALID, TLS_TIMEOUT, TLS_FAILED, TLS_CA_NOT_STRICT)
# Which finding code each TLS kind becomes (the tls check's codes).
TLS_CODE = MappingProxyType({
    Kind.UNTRUSTED: "TLS_UNTRUSTED",
    Kind.HOSTNAME: "TLS_HOSTNAME_MISMATCH",
    Kind.EXPIRED: "TLS_EXPIRED",
    Kind.NOT_YET_VALID: "TLS_CLOCK_SKEW",
    Kind.TLS_TIMEOUT: "TLS_TIMEOUT",
    Kind.TIMEOUT: "TLS_TIMEOUT",
    Kind.CA_STRICT: "TLS_CA_NOT_STRICT",
})


def interception_product(cert: PeerCert | None) -> interception.Product | None:
    return interception.identify(cert.issuer, cert.issuer_org) if cert is not None else None


def strict_finding(context: Any, cert: PeerCert | None, host: str, trust_source: str,
                   failing: bool) -> Finding | None:
    """A CA in the clients' trust that issued `cert` and that Python 3.13+ would reject."""
    if cert is None:
        return None
    for name, constraints in trust.issuing_cas(context, cert.issuer, cert.issuer_org):
        if constraints.strict_ok:
            continue
        problem = constraints_problem(constraints)
        now = (f"and this Python {sys.version_info.major}.{sys.version_info.minor} rejects it "
               "too" if failing else f"while this Python {sys.version_info.major}."
               f"{sys.version_info.minor} accepts it: your clients break when Python is upgraded")
        return TLS_CA_NOT_STRICT.finding(
            severity=Severity.FAIL if failing else Severity.WARN, ca=name, trust=trust_source,
            host=host, problem=problem, now=now,
            data={"ca": name, "basic_constraints": {"present": constraints.present,
                                                    "critical": constraints.critical,
                                                    "ca": constraints.ca}})
    return None


def direct_addresses(ctx: RunContext) -> list[str]:
    """Gateway addresses the net checks reached without the proxy (measured alongside it)."""
    found: list[str] = []
    for check_id in ("net.ipv4", "net.ipv6"):
        result = ctx.result(check_id)
        direct = result.data.get("direct", []) if result is not None else []
        found += [d["address"] for d in direct if isinstance(d, dict) and d.get("ok")]
    return found


def untrusted_finding(ctx: RunContext, first: TlsResult, peer: TlsResult, os_ok: bool | None,
                      direct: TlsResult | None, trust_source: str) -> Finding:
    """Untrusted: interception (by the proxy, a known product, or a CA the OS trusts) or not."""
    host, cert = ctx.target.host, peer.cert if peer.ok else None
    issuer = issuer_text(cert)
    decision = proxy.decision(ctx)
    product = interception_product(cert)
    hint = product.ca_hint if product else DEFAULT_CA_HINT
    by_proxy = bool(decision.url) and not (direct is not None and direct.ok and direct.cert == cert)
    facts: dict[str, Any] = {"host": host, "issuer": issuer, "port": ctx.target.port}
    if by_proxy:
        proxy_host, proxy_port = decision.host_port or ("", 0)
        facts["proxy_address"] = f"{proxy_host}:{proxy_port}"
        hint += FETCH_CHAIN.format(**facts)
        what = (f"TLS inspection by {product.name}" if product else
                "your organisation's own CA, seen only through the proxy")
        seen = (f"; without the proxy {host} presents a certificate issued by "
                f"{issuer_text(direct.cert)}" if direct is not None and direct.ok else "")
        why = (f"which the proxy {decision.shown} (from {source_text(decision)}) presented in "
               f"place of the gateway's certificate: {what}{seen}")
    elif os_ok:
        why = "which this computer's OS trust store accepts but your Python clients do not"
    elif product:
        why = f"a TLS inspection product ({product.name})"
    else:
        return TLS_UNTRUSTED.finding(host=host, trust=trust_source, issuer=issuer,
                                     reason=first.detail or "unknown issuer")
    finding = TLS_INTERCEPTED.finding(
        **facts, why=why, ca_hint=hint,
        data={"product": product.name if product else None, "from_proxy": by_proxy,
              "os_store_verifies": bool(os_ok)})  # what --fix's CA bundle needs
    loose = non_strict_in_chain(peer.extra.get("chain", ()))
    if loose is not None:  # the bundle fix works until Python 3.13
        finding = replace(finding, fix=(*finding.fix, STRICT_BUNDLE_STEP.format(
            ca=loose[0], problem=loose[1])), data={**finding.data, "ca_not_strict": loose[0]})
    return finding


def constraints_problem(constraints: BasicConstraints) -> str:
    if not constraints.present:
        return "no Basic Constraints extension"
    if not constraints.critical:
        return "a Basic Constraints extension that is not marked critical"
    return "Basic Constraints without CA:TRUE"


def non_strict_in_chain(chain: Sequence[bytes]) -> tuple[str, str] | None:
    """A CA the server sent (after the leaf) that Python 3.13+ rejects: (name, problem)."""
    for der in chain[1:]:
        constraints = basic_constraints(der)
        if constraints is None or constraints.strict_ok or (constraints.present and not constraints.ca):
            continue
        cert = decode_der(der)
        return (cert.subject if cert else "a CA in the chain"), constraints_problem(constraints)
    return None


def issuer_text(cert: PeerCert | None) -> str:
    if cert is None:
        return "unknown"
    if cert.issuer_org and cert.issuer_org != cert.issuer:
        return f"{cert.issuer} ({cert.issuer_org})"
    return cert.issuer or "unknown"


def _day(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "unknown"


def _span(delta: timedelta) -> str:
    seconds = abs(delta.total_seconds())
    if seconds >= 2 * 86400:
        return f"{seconds / 86400:.0f} days"
    if seconds >= 2 * 3600:
        return f"{seconds / 3600:.0f} hours"
    return f"{seconds / 60:.0f} minutes"


def clock_findings(kind: str, host: str, cert: PeerCert | None, server_date: datetime | None,
                   now: datetime) -> Finding:
    """Expired / not yet valid: is it the certificate or this machine's clock? (pure)"""
    issuer = issuer_text(cert)
    facts: dict[str, Any] = dict(host=host, issuer=issuer, now=_day(now),
                                 not_after=_day(cert.not_after if cert else None),
                                 not_before=_day(cert.not_before if cert else None))
    state = "not yet valid" if kind == "not_yet_valid" else "expired"
    if server_date is not None:
        skew = now - server_date
        facts["data"] = {"server_date": _day(server_date), "skew_seconds": round(skew.total_seconds())}
        if abs(skew) > CLOCK_TOLERANCE:
            side = "ahead of" if skew.total_seconds() > 0 else "behind"
            return TLS_CLOCK_SKEW.finding(
                state=state, skew=f"this machine's clock is {_span(skew)} {side} the server's "
                f"({_day(server_date)})", **facts)
        if kind == "not_yet_valid":
            return TLS_NOT_YET_VALID.finding(**facts)
        return TLS_EXPIRED.finding(**facts)
    if kind == "not_yet_valid":
        return TLS_CLOCK_SKEW.finding(
            state=state, skew=f"it is valid from {facts['not_before']}; the server's clock could "
            "not be read, so check yours", **facts)
    return TLS_EXPIRED.finding(**facts)


def _address(ctx: RunContext) -> str | None:
    """A reachable address of the gateway, in the clients' preference order."""
    good = reachable(ctx)
    if good:
        return good[0]
    order = resolve.target_addresses(ctx).get("order", [])
    return order[0] if good is None and order else None


def cert_data(result: TlsResult) -> dict[str, Any]:
    data: dict[str, Any] = {"address": result.address, "protocol": result.protocol,
                            "cipher": result.cipher, "ms": round(result.ms, 1)}
    if result.cert is not None:
        data["certificate"] = result.cert.to_dict()
    return data


def diagnose_failure(ctx: RunContext, first: TlsResult, shake: Any, remaining: float,
                     trust_source: str) -> tuple[Finding, dict[str, Any]]:
    """Find out why verification failed: who issued the certificate, does the OS trust it."""
    host = ctx.target.host
    kind = first.error or "tls"
    os_ctx = trust.os_context() if kind == "untrusted" else None
    direct_to = direct_addresses(ctx)[:1] if kind == "untrusted" and proxy.decision(ctx).url else []
    found: list[TlsResult] = []
    if kind in ("untrusted", "hostname", "expired", "not_yet_valid", "ca_strict") and remaining > 0:
        # Only certificate problems need a second look; a stall would only stall again.
        bound = min(ctx.timeout, remaining)
        jobs = [lambda: shake(trust.unverified_context(), bound, kind in ("expired", "not_yet_valid"))]
        if os_ctx is not None:
            jobs.append(lambda: shake(os_ctx, bound, False))
        if direct_to:  # is it the proxy's certificate, or the gateway's own?
            jobs.append(lambda: handshake(direct_to[0], ctx.target.port, host,
                                          trust.unverified_context(), bound))
        found = together(*jobs)
    direct = found.pop() if direct_to and found else None
    direct = direct if isinstance(direct, TlsResult) else None
    peer = found[0] if found else first
    cert = peer.cert if peer.ok else None
    data = {"trust": trust_source, "error": kind, "detail": first.detail, **cert_data(peer)}
    issuer = issuer_text(cert)
    now = datetime.now(timezone.utc)
    if kind == "hostname":
        names = ", ".join(cert.names) if cert and cert.names else (cert.subject if cert else "?")
        return TLS_HOSTNAME_MISMATCH.finding(host=host, names=names, issuer=issuer), data
    if kind in ("expired", "not_yet_valid"):
        return clock_findings(kind, host, cert, peer.server_date, now), data
    if kind == "ca_strict":
        strict = strict_finding(trust.user_context(ctx), cert, host, trust_source, failing=True)
        if strict is not None:
            return strict, data
        kind = "untrusted"
    if kind == "untrusted":
        os_ok = len(found) > 1 and found[1].ok
        data["os_store_verifies"] = os_ok if os_ctx is not None else None
        return untrusted_finding(ctx, first, peer, os_ok, direct, trust_source), data
    if kind == "tls_timeout":
        return TLS_TIMEOUT.finding(host=host, address=first.address, seconds=ctx.timeout), data
    decision = proxy.decision(ctx)
    if kind == "proxy" and first.proxy_status == 407:
        return auth_finding(decision, first.proxy_answer, host, "CONNECT"), data
    if kind == "proxy" and first.proxy_status is not None:  # the proxy refuses this host
        direct = direct_addresses(ctx)
        return denied_finding(decision, first.proxy_answer, host, ctx.target.port, direct), data
    return TLS_FAILED.finding(host=host, address=first.address or "the proxy",
                              reason=first.detail or kind), data


def public_trust_note(ctx: RunContext, result: TlsResult, shake: Any, trust_source: str,
                      remaining: float) -> Finding | None:
    """Verified with SSL_CERT_FILE/DIR: would certifi (most other tools) verify it too?"""
    if trust_source == "certifi" or remaining <= 0:
        return None
    public = shake(trust.certifi_context(), min(ctx.timeout, remaining), False)
    if public.ok or public.error != "untrusted":
        return None
    variable = trust_source.split("=")[0]
    message = (f"The certificate for {{host}} is issued by {{issuer}}, which only your {variable} "
               "trusts (TLS inspection or a private CA): your Python clients work, tools with "
               "their own CA list (Node, Go, some curl builds) fail.")
    return TLS_INTERCEPTED.finding(message, severity=Severity.INFO, host=ctx.target.host,
                                   issuer=issuer_text(result.cert))


def _unusable_bundle(ctx: RunContext) -> str | None:
    """Clients fail before any handshake when their CA bundle is unusable (config.proxy's
    CA_BUNDLE_MISSING says so); testing with other CAs would blame the network."""
    used = trust.user_trust(ctx.env)
    path = used.cafile if used.source != "certifi" else None
    folder = used.capath
    problem = (bundle_problem(path, False) if path else None) or (
        bundle_problem(folder, True) if folder else None)
    if problem is None:
        return None
    variable = used.source.split("=", 1)[0]
    return f"{variable} {problem}: your clients cannot make any TLS connection (see config.proxy)"


def proxy_endpoint(ctx: RunContext, decision: proxy.ProxyDecision) -> tuple[str, int] | None:
    """Where to reach the proxy: an address the net checks reached (resolved by the run's
    rules, so ``--nameserver`` holds for the proxy too), else its name."""
    if not decision.url or decision.host_port is None:
        return None
    name, port = decision.host_port
    fact = ctx.fact(PROXY_ADDRESSES)
    order = list(fact.get("order", [])) if isinstance(fact, dict) else []
    good = reachable(ctx, order=order) if order else None
    return (good[0] if good else name), port


def run(ctx: RunContext) -> Outcome:
    target = ctx.target
    if target.scheme != "https":
        where = "loopback" if is_loopback(target.host) else target.host
        return Outcome(f"plain http to {where}: no TLS to test", (), {"scheme": target.scheme})
    decision = proxy.decision(ctx)
    via = proxy_endpoint(ctx, decision)
    proxy_tls = bool(decision.url and decision.url.lower().startswith("https://"))
    proxy_name = decision.host_port[0] if decision.host_port else None
    address = target.host if via else _address(ctx)
    if address is None:
        return Outcome("no address to connect to", (), {}, skipped_because="no reachable address")
    trust_source = trust.user_trust(ctx.env).source
    unusable = _unusable_bundle(ctx)
    if unusable:
        return Outcome(unusable, (), {"trust": trust_source}, skipped_because=unusable)

    def shake(context: Any, timeout: float, read_date: bool) -> TlsResult:
        return handshake(address, target.port, target.host, context, timeout, proxy=via,
                         proxy_auth=decision.authorization, proxy_tls=proxy_tls,
                         proxy_name=proxy_name, read_date=read_date)

    first = shake(trust.user_context(ctx), ctx.timeout, False)
    remaining = ctx.deadline.remaining
    if first.ok:
        findings = []
        note = public_trust_note(ctx, first, shake, trust_source, remaining)
        if note is not None:
            findings.append(note)
        strict = (strict_finding(trust.user_context(ctx), first.cert, target.host, trust_source,
                                 failing=False) if trust_source != "certifi" else None)
        if strict is not None:
            findings.append(strict)
        cert = first.cert
        until = cert.not_after.strftime("%Y-%m-%d") if cert and cert.not_after else "?"
        summary = (f"{first.protocol}, {cert.subject if cert else '?'} issued by "
                   f"{issuer_text(cert)}, valid until {until} ({first.ms:.0f} ms)")
        if via:
            summary += f", through the proxy {decision.shown}"
        return Outcome(summary, findings, {"trust": trust_source, **cert_data(first)})
    finding, data = diagnose_failure(ctx, first, shake, remaining, trust_source)
    if via and finding.code not in {code.code for code in proxied.CODES} and not (
            finding.data.get("from_proxy")):
        finding = replace(finding, message=finding.message + f" (through the proxy {decision.shown})")
    return Outcome(f"{first.error}: {first.detail}"[:200], [finding], data)


CHECK = Check(
    id="tls",
    title="TLS",
    run=run,
    needs=("net.ipv4|net.ipv6",),
    uses=("net.ipv4", "net.ipv6"),  # the address to shake hands with is one both judged
    codes=(*CODES, proxied.HTTP_PROXY_DENIED, proxied.HTTP_PROXY_AUTH),
    order=100,
    description="handshake, chain, issuer, hostname, validity, clock",
)
