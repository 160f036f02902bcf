"""CBorg's network gate (IP authorization), shared by auth, models and live: `IP_NOT_ALLOWED`."""

from __future__ import annotations

from collections.abc import Mapping

from cborg_doctor.api import Code, Finding, RunContext, Severity
from cborg_doctor.cborg import KEY_PAGE
from cborg_doctor.facts import EGRESS_ADDRESSES
from cborg_doctor.probes.gatewayanswer import GatewayError

IP_NOT_ALLOWED = Code(
    "IP_NOT_ALLOWED",
    Severity.FAIL,
    "The gateway refused this network ({said}); {seen}.",
    fix=(
        "Authorize {addresses} at " + KEY_PAGE + " (LBL login), then run the doctor again.",
        "Or connect to LBLnet or the LBL VPN (Cisco): from there no authorization is needed.",
        "IPv4 and IPv6 are separate entries: a tool that only speaks IPv4 needs the IPv4 "
        "address authorized even when the IPv6 one is.",
        "Authorizations are tied to the address: on a new network (home, travel, a new "
        "DHCP lease) authorize again.",
    ),
    explain="CBorg only accepts requests from LBLnet, the LBL VPN, trusted networks, and "
    "addresses the user has authorized for their key. A 403 from LiteLLM ('Access forbidden: "
    "IP address ... not allowed') or from CBorg's own gate in front of it means the public "
    "address this machine uses is not authorized.",
)


def egress_text(ctx: RunContext, seen: str | None = None) -> str:
    """The addresses to authorize, as the egress check found them (or what the gateway saw)."""
    fact = ctx.fact(EGRESS_ADDRESSES)
    found: list[str] = []
    if isinstance(fact, Mapping):
        for family, label in (("ipv4", "IPv4"), ("ipv6", "IPv6")):
            value = fact.get(family)
            if isinstance(value, str) and value:
                found.append(f"{value} ({label})")
    if seen and not any(item.startswith(seen + " ") for item in found):
        found.insert(0, seen)
    if not found:
        return "this machine's public IPv4 and IPv6 addresses (run without --skip egress to see them)"
    return " and ".join(found)


def ip_not_allowed(ctx: RunContext, error: GatewayError) -> Finding:
    seen = (
        f"the gateway saw the address {error.address}"
        if error.address
        else "a 403 that is not a LiteLLM key error is most likely CBorg's IP authorization"
    )
    return IP_NOT_ALLOWED.finding(
        said=error.said, seen=seen, addresses=egress_text(ctx, error.address),
        data={"address": error.address, "status": error.status},
    )
