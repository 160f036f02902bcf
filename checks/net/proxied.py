"""What the proxy itself did to the clients' path: down, refusing the tunnel, wanting a login.

Raised by the check that meets the proxy first (net.ipv4/net.ipv6 for a proxy that does
not answer; tls for the CONNECT answer; http if it gets there), so the proxy's doing is
the one `fail` and never reads as the gateway's. Every message names the proxy and the
setting it came from; the fix is the one for what the proxy said.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from types import MappingProxyType
from typing import Any

from cborg_doctor.api import Code, Finding, Severity
from cborg_doctor.probes.proxy import ProxyDecision
from cborg_doctor.probes.proxyanswer import ProxyAnswer, auth_schemes, refusal_reason

NO_PROXY_STEP = ("If {host} is reachable without the proxy (on LBLnet, the LBL VPN, at home), "
                 "exclude it: `export NO_PROXY={host}` (keep any entries already there).")
DIRECT_WORKS = ("{host} answers directly from here (TCP to {direct} connects), so NO_PROXY "
                "is likely enough: `export NO_PROXY={host}`.")

UPSTREAM_STEP = ("The proxy {proxy_address} could not reach {host}:{port} itself (HTTP {status}, "
                 "{reason}): if other sites work through it, the gateway or the proxy's route to "
                 "it is down; try again later, and tell your network's administrators if it lasts.")
UPSTREAM_STATUSES = frozenset({502, 503, 504})

HTTP_PROXY_DENIED = Code(
    "HTTP_PROXY_DENIED",
    Severity.FAIL,
    "The proxy {proxy} (from {source}) refused to open a tunnel to {host}:{port}: "
    "HTTP {status}, {reason}.",
    fix=(
        "Ask your network's administrators to allow CONNECT to {host}:{port} through the proxy "
        "{proxy_address}; quote what it answered: HTTP {status}, {reason}.",
        UPSTREAM_STEP,
        NO_PROXY_STEP,
    ),
    explain="The proxy your clients use answered CONNECT with an error of its own (squid's "
    "ERR_ACCESS_DENIED page, tinyproxy's 'Access violation', a block page): its rules do not "
    "let clients reach the gateway. A 502/503/504 (squid's ERR_CONNECT_FAIL) means the proxy "
    "could not reach the gateway itself. Nothing is wrong with the key.",
)

DOWN_STEPS = MappingProxyType({
    "refused": "Nothing listens on port {proxy_port} at {proxy_host}: the proxy (or the local "
               "helper that provides it: px, cntlm, a VPN client) is not running, or the port "
               "in {source} is wrong. Start it, or correct the port.",
    "timeout": "Connections to {proxy_host} are silently dropped: the proxy is only reachable "
               "from the network it belongs to (the office network or its VPN). Connect to it.",
    "no_route": "There is no route to {proxy_host}: connect the network or VPN the proxy "
                "belongs to.",
})
STALE_STEP = ("If you do not need a proxy here, the setting is stale: `unset {variable}` and "
              "remove it where it is set ({where}).")
SYSTEM_STALE_STEP = ("If you do not need a proxy here, turn it off in the system proxy settings "
                     "(macOS: System Settings → Network → your network → Details → Proxies; "
                     "Windows: Settings → Network & internet → Proxy).")
PROXY_DOWN = Code(
    "PROXY_DOWN",
    Severity.FAIL,
    "The proxy {proxy} set by {source} does not answer: TCP to {proxy_host} port {proxy_port} "
    "is {problem} ({addresses}); every client that follows {source} fails before reaching "
    "{host}.",
    fix=(*DOWN_STEPS.values(), STALE_STEP, SYSTEM_STALE_STEP),
    explain="HTTPS_PROXY (or ALL_PROXY, or the system proxy settings) names a proxy that does "
    "not accept connections: it is not running, the port is wrong, it belongs to another "
    "network, or the variable is left over from one.",
)

BASIC_STEP = ("The proxy takes a user name and password (Basic): put them in the proxy URL, "
              "`export {variable}=http://USER:PASSWORD@{proxy_address}` (URL-encode special "
              "characters: @ → %40, : → %3A). The doctor never shows the password.")
WRONG_LOGIN_STEP = ("The proxy rejected the login in {source}: check the user name and password "
                    "(URL-encoded: @ → %40, : → %3A); an expired password is refused the same way.")
HELPER_STEP = ("The proxy wants your Windows/Kerberos login ({schemes}), which Python clients "
               "(httpx, openai-python) cannot send: run a local authenticating proxy and point "
               "{variable} at it: px (`pip install px-proxy`, then `px --proxy={proxy_address}`) "
               "or cntlm (Proxy {proxy_address} in cntlm.conf), both listening on "
               "127.0.0.1:3128; then `export {variable}=http://127.0.0.1:3128`.")
UNKNOWN_AUTH_STEP = ("The proxy did not say which login it wants (no Proxy-Authenticate "
                     "header): ask your network's administrators how clients authenticate.")
HTTP_PROXY_AUTH = Code(
    "HTTP_PROXY_AUTH",
    Severity.FAIL,
    "The proxy {proxy} (from {source}) wants a login (HTTP 407 on {where}); it offers {offers}.",
    fix=(BASIC_STEP, WRONG_LOGIN_STEP, HELPER_STEP, NO_PROXY_STEP),
    explain="An HTTP proxy answered 407 Proxy Authentication Required; its "
    "Proxy-Authenticate header says which login it wants: Basic takes USER:PASSWORD@ in "
    "the proxy URL, NTLM/Negotiate need a local helper such as px or cntlm.",
)
CODES = (HTTP_PROXY_DENIED, PROXY_DOWN, HTTP_PROXY_AUTH)

_PROBLEM = MappingProxyType({"refused": "refused", "timeout": "unanswered", "no_route": "unroutable"})


def source_text(decision: ProxyDecision) -> str:
    """`$HTTPS_PROXY`, or "the system proxy settings"."""
    source = decision.source or "proxy settings"
    return f"${source}" if source.replace("_", "").isalpha() else f"the {source}"


def variable(decision: ProxyDecision) -> str:
    source = decision.source or ""
    return source if source.replace("_", "").isalpha() else "HTTPS_PROXY"


def _base(decision: ProxyDecision, host: str) -> dict[str, Any]:
    proxy_host, proxy_port = decision.host_port or ("", 0)
    shown_host = f"[{proxy_host}]" if ":" in proxy_host else proxy_host
    return dict(proxy=decision.shown, source=source_text(decision), variable=variable(decision),
                host=host, proxy_host=proxy_host, proxy_port=proxy_port,
                proxy_address=f"{shown_host}:{proxy_port}")


def denied_finding(decision: ProxyDecision, answer: ProxyAnswer | None, host: str, port: int,
                   direct: Sequence[str] = ()) -> Finding:
    """The proxy refused CONNECT: quote it; NO_PROXY first when the gateway answers directly."""
    reason = refusal_reason(answer) if answer is not None else "no reason given"
    status = answer.status if answer is not None else "?"
    facts = {**_base(decision, host), "port": port, "status": status, "reason": reason}
    upstream = status in UPSTREAM_STATUSES
    message = (HTTP_PROXY_DENIED.summary.replace("refused to open", "could not open")
               if upstream else None)
    finding = HTTP_PROXY_DENIED.finding(
        message, **facts, data={"proxy_answer": answer.to_dict() if answer else None,
                                "direct_reachable": list(direct), "upstream_failed": upstream})
    first = UPSTREAM_STEP.format(**facts) if upstream else finding.fix[0]
    second = DIRECT_WORKS.format(**facts, direct=", ".join(direct)) if direct else NO_PROXY_STEP.format(**facts)
    return replace(finding, fix=(first, second))


def auth_finding(decision: ProxyDecision, answer: ProxyAnswer | None, host: str,
                 where: str) -> Finding:
    """A 407: the fix follows the schemes the proxy offers, and whether a login was sent."""
    schemes = auth_schemes(answer) if answer is not None else ()
    facts = {**_base(decision, host), "where": where,
             "schemes": " / ".join(schemes) or "none named",
             "offers": " / ".join(schemes) if schemes else "no login scheme"}
    finding = HTTP_PROXY_AUTH.finding(**facts, data={"schemes": list(schemes)})
    steps: list[str] = []
    if decision.authorization is not None and "Basic" in schemes:
        steps.append(WRONG_LOGIN_STEP)
    elif "Basic" in schemes:
        steps.append(BASIC_STEP)
    if any(s in schemes for s in ("NTLM", "Negotiate", "Kerberos")) and "Basic" not in schemes:
        steps.append(HELPER_STEP)
    if not steps:
        steps.append(UNKNOWN_AUTH_STEP if not schemes else HELPER_STEP)
    steps.append(NO_PROXY_STEP)
    return replace(finding, fix=tuple(step.format(**facts) for step in steps))


def down_finding(decision: ProxyDecision, kind: str, addresses: str, host: str,
                 where: str) -> Finding:
    """TCP to the proxy failed on every address: the proxy's problem, not the gateway's."""
    facts = {**_base(decision, host), "problem": _PROBLEM.get(kind, kind), "addresses": addresses,
             "where": where}
    finding = PROXY_DOWN.finding(**facts, data={"kind": kind, "source": decision.source})
    first = DOWN_STEPS.get(kind, DOWN_STEPS["refused"])
    stale = STALE_STEP if (decision.source or "").replace("_", "").isalpha() else SYSTEM_STALE_STEP
    return replace(finding, fix=(first.format(**facts), stale.format(**facts)))
