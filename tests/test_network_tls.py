"""`tls` end to end with trustme certificates: names, dates, trust, interception, stalls."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from cborg_doctor_checks.net.tls import clock_findings, interception_product

from cborg_doctor.probes.tls import PeerCert

from . import netfixtures as nf
from .netscenario import Lab, expect, lab_fixture, statuses  # noqa: F401  (the lab fixture)


def test_healthy_handshake_reports_protocol_issuer_and_validity(lab: Lab) -> None:
    port = lab.gateway(families=(4,))
    seen = lab.doctor(port=port)
    expect(seen, statuses(net_ipv6="skip"))
    tls = seen.check("tls")
    assert tls["data"]["protocol"].startswith("TLS")
    assert tls["data"]["certificate"]["names"] == ["gateway.test"]
    assert "valid until" in tls["summary"]
    # Only SSL_CERT_FILE trusts the lab CA: the clients work, but others would not.
    note = seen.finding("tls", "TLS_INTERCEPTED")
    assert note["severity"] == "info" and "only your SSL_CERT_FILE trusts" in note["message"]


def test_wrong_name(lab: Lab) -> None:
    port = lab.gateway(families=(4,), tls=lab.tls("portal.example"))
    seen = lab.doctor(port=port)
    expect(seen, statuses("tls", net_ipv6="skip"))
    finding = seen.finding("tls", "TLS_HOSTNAME_MISMATCH")
    assert "presented for gateway.test is for portal.example" in finding["message"]
    assert seen.report["verdict"]["code"] == "TLS_HOSTNAME_MISMATCH"


def test_expired_certificate_with_a_correct_clock(lab: Lab) -> None:
    port = lab.gateway(families=(4,), tls=lab.tls(days_valid=(-30, -2)))
    seen = lab.doctor(port=port)
    expect(seen, statuses("tls", net_ipv6="skip"))
    finding = seen.finding("tls", "TLS_EXPIRED")
    expired = (datetime.now(timezone.utc) - timedelta(days=2)).strftime("%Y-%m-%d")
    assert f"expired on {expired}" in finding["message"]


def test_not_yet_valid_because_this_clock_is_behind(lab: Lab) -> None:
    # The certificate starts tomorrow and the server's clock says it is three days later
    # than ours: our clock is behind.
    handler = nf.litellm(clock_offset=3 * 86400)
    port = lab.gateway(handler, families=(4,), tls=lab.tls(days_valid=(1, 365)))
    seen = lab.doctor(port=port)
    expect(seen, statuses("tls", net_ipv6="skip"))
    finding = seen.finding("tls", "TLS_CLOCK_SKEW")
    assert "is not yet valid according to this machine's clock" in finding["message"]
    assert "clock is 3 days behind the server's" in finding["message"]
    assert any("timedatectl set-ntp true" in step for step in finding["fix"])


def test_not_yet_valid_while_clocks_agree_is_the_servers_problem(lab: Lab) -> None:
    port = lab.gateway(families=(4,), tls=lab.tls(days_valid=(1, 365)))
    seen = lab.doctor(port=port)
    expect(seen, statuses("tls", net_ipv6="skip"))
    assert seen.codes("tls") == ["TLS_NOT_YET_VALID"]


def test_unknown_issuer_is_untrusted(lab: Lab) -> None:
    port = lab.gateway(families=(4,))
    seen = lab.doctor(port=port, trust_lab_ca=False)
    expect(seen, statuses("tls", net_ipv6="skip"))
    finding = seen.finding("tls", "TLS_UNTRUSTED")
    assert "not trusted by certifi" in finding["message"]
    assert "issuer: " in finding["message"]
    assert seen.check("tls")["data"]["os_store_verifies"] is False


def test_interception_product_is_named(lab: Lab) -> None:
    zscaler = nf.make_pki(lab.tmp, "zscaler", organization="Zscaler Inc.")
    port = lab.gateway(families=(4,), tls=lab.tls(pki=zscaler))
    seen = lab.doctor(port=port, trust_lab_ca=False)
    expect(seen, statuses("tls", net_ipv6="skip"))
    finding = seen.finding("tls", "TLS_INTERCEPTED")
    assert "Zscaler Inc." in finding["message"] and "TLS inspection product" in finding["message"]
    assert any("SSL_CERT_FILE" in step for step in finding["fix"])
    assert any("truststore.inject_into_ssl()" in step for step in finding["fix"])


def test_handshake_that_never_completes(lab: Lab) -> None:
    port = lab.gateway(None, families=(4,), handshake=False)
    seen = lab.doctor(port=port)
    expect(seen, statuses("tls", net_ipv6="skip"))
    finding = seen.finding("tls", "TLS_TIMEOUT")
    assert "TCP to 127.0.0.1 connects, but the TLS handshake with gateway.test did not finish" in (
        finding["message"])


def test_plain_http_on_the_tls_port_fails_tls(lab: Lab) -> None:
    banner = b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
    port = lab.gateway(families=(4,), tls=None, banner=banner)
    seen = lab.doctor(port=port)
    expect(seen, statuses("tls", net_ipv6="skip"))
    assert seen.codes("tls") == ["TLS_FAILED"]
    assert "at 127.0.0.1 failed" in seen.finding("tls", "TLS_FAILED")["message"]


def test_plain_http_to_loopback_passes_without_tls(lab: Lab) -> None:
    server = lab.serve(nf.litellm(), tls=None)
    seen = lab.doctor(base_url=f"http://127.0.0.1:{server.port}")
    expect(seen, statuses(net_ipv6="skip"))
    assert seen.check("tls")["summary"] == "plain http to loopback: no TLS to test"


def test_missing_ca_bundle_is_the_only_failure(lab: Lab) -> None:
    port = lab.gateway(families=(4,))
    seen = lab.doctor(port=port, only="egress,config.proxy",
                      env={"SSL_CERT_FILE": str(lab.tmp / "gone.pem")})
    expect(seen, {**statuses(net_ipv6="skip", tls="skip", http="skip", egress="skip"),
                  "config.proxy": "fail"})
    assert seen.check("tls")["skipped_because"].startswith("SSL_CERT_FILE does not exist")
    assert seen.report["verdict"]["code"] == "CA_BUNDLE_MISSING"


def _cert(issuer: str, org: str) -> PeerCert:
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    return PeerCert("api.cborg.lbl.gov", issuer, org, now, now + timedelta(days=90))


def test_interception_products_by_issuer() -> None:
    zscaler = interception_product(_cert("Zscaler Intermediate Root CA", "Zscaler Inc."))
    fortinet = interception_product(_cert("FG3H0E5819903456", "Fortinet"))
    assert zscaler is not None and zscaler.name == "Zscaler"
    assert fortinet is not None and fortinet.name == "Fortinet FortiGate"
    assert interception_product(_cert("WE1", "Google Trust Services")) is None


def test_expired_while_clock_is_a_year_ahead_is_skew() -> None:
    cert = _cert("WE1", "Google Trust Services")
    now = datetime(2027, 6, 1, tzinfo=timezone.utc)
    finding = clock_findings("expired", "api.cborg.lbl.gov", cert, now - timedelta(days=400), now)
    assert finding.code == "TLS_CLOCK_SKEW" and "400 days ahead" in finding.message


def test_ssl_cert_dir_is_the_clients_trust(lab: Lab) -> None:
    import shutil
    import subprocess

    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command to hash the CA folder")
    folder = lab.tmp / "certs"
    folder.mkdir()
    digest = subprocess.run(["openssl", "x509", "-hash", "-noout", "-in", str(lab.pki.ca_file)],
                            capture_output=True, text=True, check=True).stdout.strip()
    shutil.copy(lab.pki.ca_file, folder / f"{digest}.0")
    port = lab.gateway(families=(4,))
    seen = lab.doctor(port=port, trust_lab_ca=False, env={"SSL_CERT_DIR": str(folder)})
    expect(seen, statuses(net_ipv6="skip"))
    assert seen.check("tls")["data"]["trust"] == f"SSL_CERT_DIR={folder}"
    assert "only your SSL_CERT_DIR trusts" in seen.finding("tls", "TLS_INTERCEPTED")["message"]
