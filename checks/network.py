"""The network path checks, in run order: dns, net.ipv4, net.ipv6, tls, http, egress.

Each lives in its own `net_*` module; all network I/O goes through
`cborg_doctor.probes`, so the checks only turn probe results into findings.
"""

from __future__ import annotations

from cborg_doctor.api import Check

from .net_dns import CHECK as DNS
from .net_egress import CHECK as EGRESS
from .net_http import CHECK as HTTP
from .net_tcp import IPV4_CHECK, IPV6_CHECK
from .net_tls import CHECK as TLS

CHECKS: tuple[Check, ...] = (DNS, IPV4_CHECK, IPV6_CHECK, TLS, HTTP, EGRESS)
