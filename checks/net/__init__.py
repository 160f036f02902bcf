"""The network path checks, in run order: dns, net.ipv4, net.ipv6, tls, http, egress.

Each lives in its own `net_*` module; all network I/O goes through
`cborg_doctor.probes`, so the checks only turn probe results into findings.
"""

from __future__ import annotations

from cborg_doctor.api import Check

from .dns import CHECK as DNS
from .egress import CHECK as EGRESS
from .http import CHECK as HTTP
from .tcp import IPV4_CHECK, IPV6_CHECK
from .tls import CHECK as TLS

CHECKS: tuple[Check, ...] = (DNS, IPV4_CHECK, IPV6_CHECK, TLS, HTTP, EGRESS)
