"""The facts checks leave for each other during a run, each declared once with its type.

A check writes a fact with ``ctx.share(FACT, value)`` and a later one reads it
with ``ctx.fact(FACT)`` (None when nobody wrote it). A check that reads another
check's fact declares ``uses=`` or ``needs=`` on that check, so the runner
starts it afterwards: nobody polls for a fact.

    fact               written by               type
    ─────────────────  ───────────────────────  ─────────────────────────────────────────
    DNS_ADDRESSES      dns                      AddressFact of the gateway's name
    PROXY_ADDRESSES    dns (through a proxy)    AddressFact of the proxy, plus host, port
    PROXY_DECISION     config.proxy             probes.proxy.ProxyDecision
    TRUST_CONTEXT      the first TLS probe      ssl.SSLContext of the user's CAs (a cache)
    REACHABLE_IPV4     net.ipv4                 list[str]: addresses that accepted TCP
    REACHABLE_IPV6     net.ipv6                 list[str]
    EGRESS_ADDRESSES   egress                   {"ipv4": str | None, "ipv6": str | None}
    KEY_INFO           auth                     gatewayanswer.KeyInfo | None
    AUTH_ERRORS        auth                     list[gatewayanswer.GatewayError]
    CATALOGUE          models                   list[gatewayanswer.ModelEntry]
    GATEWAY_STALLED_AT any gateway request      float: monotonic time the first stall began
    CLIENT_SETUPS      config.clients           list[clients.model.ClientEntry] meant for CBorg
    CLIENT_ROOTS       config.clients           clients.files.Roots: how it showed paths

An ``AddressFact`` is ``{"host", "ipv4": [...], "ipv6": [...], "order": [...],
"source"}`` (`probes.resolve.Lookup.to_fact`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    import ssl

    from cborg_doctor_checks.clients.files import Roots
    from cborg_doctor_checks.clients.model import ClientEntry

    from .probes.gatewayanswer import GatewayError, KeyInfo, ModelEntry
    from .probes.proxy import ProxyDecision

T = TypeVar("T")

AddressFact = dict[str, Any]


@dataclass(frozen=True)
class Fact(Generic[T]):
    """A named, typed slot on the run's context."""

    name: str

    def __repr__(self) -> str:
        return f"Fact({self.name!r})"


DNS_ADDRESSES: Fact[AddressFact] = Fact("dns.addresses")
PROXY_ADDRESSES: Fact[AddressFact] = Fact("proxy.addresses")
PROXY_DECISION: Fact[ProxyDecision] = Fact("proxy.decision")
TRUST_CONTEXT: Fact[ssl.SSLContext] = Fact("probes.trust")
REACHABLE_IPV4: Fact[list[str]] = Fact("net.reachable.ipv4")
REACHABLE_IPV6: Fact[list[str]] = Fact("net.reachable.ipv6")
EGRESS_ADDRESSES: Fact[dict[str, str | None]] = Fact("egress.addresses")
KEY_INFO: Fact[KeyInfo | None] = Fact("gateway.key_info")
AUTH_ERRORS: Fact[list[GatewayError]] = Fact("gateway.auth_errors")
CATALOGUE: Fact[list[ModelEntry]] = Fact("gateway.catalogue")
GATEWAY_STALLED_AT: Fact[float] = Fact("gateway.stalled_at")
CLIENT_SETUPS: Fact[list[ClientEntry]] = Fact("clients.setups")
CLIENT_ROOTS: Fact[Roots] = Fact("clients.roots")


def reachable(family: int) -> Fact[list[str]]:
    """The REACHABLE fact of one family (4 or 6)."""
    return REACHABLE_IPV6 if family == 6 else REACHABLE_IPV4
