"""The error map: real exception objects (as the OS, ssl, httpx raise them) → kinds → codes."""

from __future__ import annotations

import errno
import socket
import ssl
from pathlib import Path

import httpx
import pytest
from cborg_doctor_checks.net.tls import TLS_CODE

from cborg_doctor.probes import errors
from cborg_doctor.probes.tls import decode_der, peer_cert_from_dict

from . import netfixtures as nf


def _verify_error(code: int, message: str) -> ssl.SSLCertVerificationError:
    exc = ssl.SSLCertVerificationError(1, f"[SSL: CERTIFICATE_VERIFY_FAILED] {message}")
    exc.verify_code = code
    exc.verify_message = message
    return exc


@pytest.mark.parametrize(("exc", "kind"), [
    (ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused"), "refused"),
    (TimeoutError("timed out"), "timeout"),
    (OSError(errno.ENETUNREACH, "Network is unreachable"), "no_route"),
    (OSError(errno.EHOSTUNREACH, "No route to host"), "no_route"),
    (OSError(errno.EADDRNOTAVAIL, "Cannot assign requested address"), "no_route"),
    (ConnectionResetError(errno.ECONNRESET, "Connection reset by peer"), "reset"),
    (OSError(errno.EIO, "I/O error"), "failed"),
    (socket.gaierror(socket.EAI_NONAME, "Name or service not known"), "nxdomain"),
    (socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution"), "dns"),
])
def test_socket_errors(exc: OSError, kind: str) -> None:
    assert errors.classify_os_error(exc) == kind
    assert errors.classify(exc) == kind


@pytest.mark.parametrize(("code", "kind", "finding"), [
    (20, "untrusted", "TLS_UNTRUSTED"),
    (19, "untrusted", "TLS_UNTRUSTED"),
    (62, "hostname", "TLS_HOSTNAME_MISMATCH"),
    (10, "expired", "TLS_EXPIRED"),
    (9, "not_yet_valid", "TLS_CLOCK_SKEW"),
])
def test_certificate_errors_by_verify_code(code: int, kind: str, finding: str) -> None:
    exc = _verify_error(code, "some text")
    assert errors.classify_ssl_error(exc) == kind
    assert TLS_CODE[kind] == finding


def test_httpx_errors_are_classified_through_their_cause() -> None:
    cause = _verify_error(62, "Hostname mismatch")
    wrapped = httpx.ConnectError("[SSL] certificate verify failed")
    wrapped.__cause__ = cause
    assert errors.classify(wrapped) == "hostname"
    assert errors.describe(wrapped) == "certificate verify failed: Hostname mismatch"
    refused = httpx.ConnectError("refused")
    refused.__cause__ = ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused")
    assert errors.classify(refused) == "refused"
    assert errors.classify(httpx.ConnectTimeout("t"), phase="tls") == "tls_timeout"
    assert errors.classify(httpx.ReadTimeout("t")) == "timeout"
    assert errors.classify(httpx.RemoteProtocolError("Server disconnected")) == "protocol"
    assert errors.classify(httpx.ProxyError("407 Proxy Authentication Required")) == "proxy"


def test_cause_cycles_do_not_hang() -> None:
    first, second = ValueError("a"), ValueError("b")
    first.__cause__, second.__cause__ = second, first
    assert errors.classify(first) == "failed"


def test_the_map_in_the_docstring_names_every_code() -> None:
    from cborg_doctor_checks.net.dns import DNS_CODE
    from cborg_doctor_checks.net.tcp import TCP_CODE

    doc = errors.__doc__ or ""
    for code in {*TCP_CODE.values(), *DNS_CODE.values(), *TLS_CODE.values()}:
        assert code in doc
    for kind in DNS_CODE:
        assert kind == "network_down" or f" {kind} " in doc


def test_certificate_facts_from_der(tmp_path: Path) -> None:
    pki = nf.make_pki(tmp_path, organization="Example Corp Security")
    cert = pki.ca.issue_cert("gateway.test")
    der = ssl.PEM_cert_to_DER_cert(cert.cert_chain_pems[0].bytes().decode())
    facts = decode_der(der)
    assert facts is not None
    assert facts.names == ("gateway.test",)
    assert facts.issuer_org == "Example Corp Security"
    assert facts.not_before is not None and facts.not_after is not None
    assert decode_der(b"not a certificate") is None


def test_certificate_facts_from_a_dict_with_missing_parts() -> None:
    facts = peer_cert_from_dict({"subject": ((("organizationName", "X"),),), "notAfter": "junk"})
    assert facts.subject == "X" and facts.not_after is None and facts.issuer == ""
