"""Every network code has its fix next to it, and `--explain` prints that same text."""

from __future__ import annotations

from pathlib import Path

import pytest
from cborg_doctor_checks.config.proxy import CHECKS as PROXY_CHECKS
from cborg_doctor_checks.net import CHECKS

from cborg_doctor.findings import fill

from .doctor import run_doctor

CONTRACT = {
    "config.proxy": {"PROXY_IN_USE", "CA_BUNDLE_MISSING"},
    "dns": {"DNS_NXDOMAIN", "DNS_TIMEOUT", "DNS_FAILED", "DNS_NO_IPV6", "DNS_INCONSISTENT"},
    # PROXY_DOWN / HTTP_PROXY_DENIED / HTTP_PROXY_AUTH: "the check that meets the proxy first".
    "net.ipv4": {"TCP_REFUSED", "TCP_TIMEOUT", "NO_ROUTE", "IPV4_BROKEN", "PROXY_DOWN"},
    "net.ipv6": {"TCP_REFUSED", "TCP_TIMEOUT", "NO_ROUTE", "IPV6_BROKEN", "PROXY_DOWN"},
    "tls": {"TLS_UNTRUSTED", "TLS_INTERCEPTED", "TLS_HOSTNAME_MISMATCH", "TLS_EXPIRED",
            "TLS_CLOCK_SKEW", "TLS_TIMEOUT", "TLS_FAILED", "TLS_CA_NOT_STRICT",
            "HTTP_PROXY_DENIED", "HTTP_PROXY_AUTH"},
    "http": {"HTTP_BLOCKED", "HTTP_PROXY_AUTH", "HTTP_SERVER_ERROR", "HTTP_NOT_GATEWAY",
             "HTTP_TIMEOUT", "HTTP_PROXY_DENIED"},
    "egress": {"EGRESS_IP", "EGRESS_UNKNOWN"},
}
ORDER = {"config.proxy": 30, "dns": 70, "net.ipv4": 80, "net.ipv6": 90, "tls": 100,
         "http": 110, "egress": 120}
NEEDS = {"config.proxy": (), "dns": ("config.base_url",), "net.ipv4": ("dns",),
         "net.ipv6": ("dns",), "tls": ("net.ipv4|net.ipv6",), "http": ("tls",),
         "egress": ("http",)}


@pytest.mark.parametrize("check", [*PROXY_CHECKS, *CHECKS], ids=lambda c: c.id)
def test_contract_ids_codes_order_and_needs(check) -> None:
    assert CONTRACT[check.id] <= {code.code for code in check.codes}
    assert check.order == ORDER[check.id]
    assert check.needs == NEEDS[check.id]
    for code in check.codes:
        assert (code.fix or code.causes) and code.explain, code.code
        assert all(cause.fix and cause.when for cause in code.causes.values()), code.code


@pytest.mark.parametrize("code", ["DNS_NXDOMAIN", "IPV6_BROKEN", "TLS_INTERCEPTED",
                                  "HTTP_BLOCKED", "EGRESS_IP", "CA_BUNDLE_MISSING"])
def test_explain_prints_the_declared_fix(code: str, home: Path) -> None:
    declared = next(c for check in (*PROXY_CHECKS, *CHECKS) for c in check.codes
                    if c.code == code)
    run = run_doctor("--explain", code, home=home)
    assert run.code == 0
    for step in (*declared.fix, *(s for c in declared.causes.values() for s in c.fix)):
        assert fill(step, {}) in run.stdout
