"""Pure parts of the proxy and interception diagnosis: what a proxy said, which product
issued a certificate, Basic Constraints, the fix chosen per cause, secrets scrubbed."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest
import trustme
from cborg_doctor_checks.net import proxied
from cborg_doctor_checks.net.tls import TLS_CODE, non_strict_in_chain, strict_finding
from hypothesis import given
from hypothesis import strategies as st

from cborg_doctor.probes import errors, interception, proxyanswer, trust
from cborg_doctor.probes.proxy import ProxyDecision, passwords
from cborg_doctor.probes.tls import PeerCert
from cborg_doctor.probes.x509 import basic_constraints
from cborg_doctor.secrets import ApiKey, Scrubber
from cborg_doctor.shellfiles import where_set

from . import realproxies as rp

PAGES = Path(__file__).parent / "netpages"


def _recorded(name: str) -> proxyanswer.ProxyAnswer:
    head, _, body = (PAGES / name).read_bytes().partition(b"\r\n\r\n")
    return proxyanswer.parse(head, body)


def test_squids_access_denied_page_is_quoted() -> None:
    answer = _recorded("squid_access_denied.http")
    assert answer.status == 403 and answer.server == "squid/5.7"
    assert proxyanswer.refusal_reason(answer) == (
        "X-Squid-Error: ERR_ACCESS_DENIED 0; page 'ERROR: The requested URL could not be retrieved'")
    assert proxyanswer.body_length(answer.headers) == 3060


def test_tinyproxys_refusal_is_quoted_with_its_explanation() -> None:
    answer = _recorded("tinyproxy_connect_port.http")
    assert proxyanswer.refusal_reason(answer) == (
        "page '403 Access violation'; 'The CONNECT method not allowed with the port you tried to use.'")
    assert proxyanswer.body_length(answer.headers) is None  # read until tinyproxy closes


def test_plain_text_and_empty_refusals() -> None:
    text = proxyanswer.parse(b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 9", b"no route\n")
    assert proxyanswer.refusal_reason(text) == "'no route'"
    empty = proxyanswer.parse(b"HTTP/1.0 403 Forbidden")
    assert proxyanswer.refusal_reason(empty) == "HTTP/1.0 403 Forbidden"


@pytest.mark.parametrize(("header", "schemes"), [
    ('Basic realm="corp-proxy"', ("Basic",)),
    ("NTLM", ("NTLM",)),
    ("Negotiate, NTLM", ("Negotiate", "NTLM")),
    ('negotiate, Basic realm="a, b", ntlm', ("Negotiate", "Basic", "NTLM")),
    ('Digest realm="x", nonce="abc", qop="auth"', ("Digest",)),
    ("", ()),
])
def test_login_schemes_in_the_proxys_order(header: str, schemes: tuple[str, ...]) -> None:
    answer = proxyanswer.ProxyAnswer(407, "HTTP/1.1 407", {"proxy-authenticate": header})
    assert proxyanswer.auth_schemes(answer) == schemes


@given(st.binary(max_size=400), st.binary(max_size=400))
def test_any_bytes_from_a_proxy_give_an_answer(head: bytes, body: bytes) -> None:
    answer = proxyanswer.parse(head, body)
    assert isinstance(proxyanswer.refusal_reason(answer), str)
    assert isinstance(proxyanswer.auth_schemes(answer), tuple)
    proxyanswer.body_length(answer.headers)
    answer.to_dict()


@pytest.mark.parametrize(("issuer", "org", "product"), [
    ("Zscaler Intermediate Root CA (zscalertwo.net)", "Zscaler Inc.", "Zscaler"),
    ("caadmin.netskope.com", "Netskope Inc", "Netskope"),
    ("Cisco Umbrella Secondary SubCA ord-SG", "Cisco", "Cisco Umbrella"),
    ("PA-VM Forward Trust", "Palo Alto Networks", "Palo Alto Networks"),
    ("FG3H0E5819903456", "Fortinet", "Fortinet FortiGate"),
    ("Forcepoint Cloud CA", "Forcepoint LLC", "Forcepoint"),
    ("ProxySG", "Blue Coat Systems", "Blue Coat / Symantec"),
    ("Sophos SSL CA_C1234", "Sophos", "Sophos"),
    ("mitmproxy", "mitmproxy", "mitmproxy"),
])
def test_inspection_products_by_issuer(issuer: str, org: str, product: str) -> None:
    found = interception.identify(issuer, org)
    assert found is not None and found.name == product and found.ca_hint


@pytest.mark.parametrize(("issuer", "org"), [("R11", "Let's Encrypt"), ("WE1", "Google Trust Services"),
                                             ("DigiCert Global G2 TLS RSA SHA256 2020 CA1", "DigiCert Inc"),
                                             ("Example Lab IT Root CA", "Example Lab IT")])
def test_public_and_own_cas_are_no_product(issuer: str, org: str) -> None:
    assert interception.identify(issuer, org) is None


def _der(pem: bytes) -> bytes:
    return ssl.PEM_cert_to_DER_cert(pem.decode())


def test_basic_constraints_of_strict_and_non_strict_cas(tmp_path: Path) -> None:
    ca = trustme.CA()
    strict = basic_constraints(_der(ca.cert_pem.bytes()))
    assert strict is not None and strict.strict_ok
    leaf = basic_constraints(_der(ca.issue_cert("x.test").cert_chain_pems[0].bytes()))
    assert leaf is not None and leaf.present and not leaf.ca and not leaf.strict_ok
    loose_ca, _ = rp.non_strict_ca(tmp_path)
    loose = basic_constraints(_der(loose_ca.ca_file.read_bytes()))
    assert loose is not None and loose.present and loose.ca and not loose.critical
    assert not loose.strict_ok


def test_a_ca_without_basic_constraints(tmp_path: Path) -> None:
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Old Appliance CA")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(1).not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=1)).sign(key, hashes.SHA256()))
    found = basic_constraints(cert.public_bytes(serialization.Encoding.DER))
    assert found is not None and not found.present and not found.strict_ok


@given(st.binary(max_size=600))
def test_any_bytes_as_a_certificate_never_raise(data: bytes) -> None:
    found = basic_constraints(data)
    assert found is None or isinstance(found.strict_ok, bool)


def test_truncated_certificates_never_raise() -> None:
    der = _der(trustme.CA().cert_pem.bytes())
    for cut in range(0, len(der), 7):
        basic_constraints(der[:cut])


def test_strict_python_rejection_is_its_own_kind() -> None:
    error = ssl.SSLCertVerificationError(1, "certificate verify failed")
    error.verify_code = 89
    error.verify_message = "Basic Constraints of CA cert not marked critical"
    assert errors.classify_ssl_error(error) == "ca_strict"
    assert TLS_CODE["ca_strict"] == "TLS_CA_NOT_STRICT"


def test_the_non_strict_ca_is_found_in_the_clients_bundle(tmp_path: Path) -> None:
    loose_ca, _ = rp.non_strict_ca(tmp_path, organisation="Example Lab Inspection")
    context = ssl.create_default_context(cafile=str(loose_ca.ca_file))
    [(name, constraints)] = trust.issuing_cas(context, "Example Lab Inspection Root CA",
                                              "Example Lab Inspection")
    assert name == "Example Lab Inspection Root CA (Example Lab Inspection)"
    assert not constraints.critical
    cert = PeerCert("gateway.test", "Example Lab Inspection Root CA", "Example Lab Inspection",
                    None, None)
    warn = strict_finding(context, cert, "gateway.test", "SSL_CERT_FILE=x.pem", failing=False)
    assert warn is not None and warn.code == "TLS_CA_NOT_STRICT" and warn.severity.value == "warn"
    fail = strict_finding(context, cert, "gateway.test", "SSL_CERT_FILE=x.pem", failing=True)
    assert fail is not None and fail.severity.value == "fail" and "rejects it too" in fail.message
    strict = ssl.create_default_context(cafile=str(rp.nf.make_pki(tmp_path).ca_file))
    assert strict_finding(strict, PeerCert("g", "x", "trustme", None, None), "g", "s", False) is None


DECISION = ProxyDecision("http://proxy.corp.example:3128", "HTTPS_PROXY")
WITH_LOGIN = ProxyDecision("http://bob:pw@proxy.corp.example:3128", "https_proxy")


@pytest.mark.parametrize(("decision", "header", "first"), [
    (DECISION, 'Basic realm="corp"', proxied.BASIC_STEP),
    (WITH_LOGIN, 'Basic realm="corp"', proxied.WRONG_LOGIN_STEP),
    (DECISION, "NTLM", proxied.HELPER_STEP),
    (DECISION, "Negotiate, NTLM", proxied.HELPER_STEP),
    (DECISION, "", proxied.UNKNOWN_AUTH_STEP),
])
def test_407_fix_follows_the_scheme(decision: ProxyDecision, header: str, first: str) -> None:
    answer = proxyanswer.ProxyAnswer(407, "HTTP/1.1 407", {"proxy-authenticate": header})
    finding = proxied.auth_finding(decision, answer, "api.cborg.lbl.gov", "CONNECT")
    assert finding.fix[0].split(" ")[:4] == first.split(" ")[:4]
    assert finding.fix[-1].startswith("If api.cborg.lbl.gov is reachable without the proxy")
    assert len(finding.fix) == 2
    assert "pw@" not in finding.message and "<" not in " ".join(finding.fix)


def test_basic_step_names_the_variable_and_the_proxy() -> None:
    answer = proxyanswer.ProxyAnswer(407, "", {"proxy-authenticate": "Basic"})
    finding = proxied.auth_finding(WITH_LOGIN, proxyanswer.ProxyAnswer(407, "", {}), "h", "CONNECT")
    assert "$https_proxy" in finding.message
    finding = proxied.auth_finding(DECISION, answer, "h", "CONNECT")
    assert "`export HTTPS_PROXY=http://USER:PASSWORD@proxy.corp.example:3128`" in finding.fix[0]


@pytest.mark.parametrize(("kind", "start"), [
    ("refused", "Nothing listens on port 3128 at proxy.corp.example"),
    ("timeout", "Connections to proxy.corp.example are silently dropped"),
    ("no_route", "There is no route to proxy.corp.example"),
])
def test_proxy_down_fix_follows_the_failure(kind: str, start: str) -> None:
    finding = proxied.down_finding(DECISION, kind, "10.0.0.8", "api.cborg.lbl.gov", "~/.profile line 3")
    assert finding.fix[0].startswith(start)
    assert finding.fix[1] == ("If you do not need a proxy here, the setting is stale: `unset "
                              "HTTPS_PROXY` and remove it where it is set (~/.profile line 3).")
    assert "set by $HTTPS_PROXY does not answer" in finding.message


def test_system_proxy_settings_are_named_as_such() -> None:
    decision = ProxyDecision("http://10.0.0.8:8080", "system settings")
    assert proxied.source_text(decision) == "the system settings"
    assert where_set("system settings", None) == "the system proxy settings"
    down = proxied.down_finding(decision, "refused", "10.0.0.8", "api.cborg.lbl.gov", "")
    assert "set by the system settings does not answer" in down.message
    assert down.fix[1].startswith("If you do not need a proxy here, turn it off in the system proxy")


def test_where_a_proxy_variable_is_set(tmp_path: Path) -> None:
    (tmp_path / ".bashrc").write_text("alias x=y\nexport HTTPS_PROXY=http://old:3128\n")
    (tmp_path / ".zshrc").write_text("HTTPS_PROXY=http://old:3128 # office\nNO_HTTPS_PROXY=1\n")
    config = tmp_path / ".config" / "fish"
    config.mkdir(parents=True)
    (config / "config.fish").write_text("set -gx HTTPS_PROXY http://old:3128\n")
    assert where_set("HTTPS_PROXY", tmp_path) == (
        "~/.bashrc line 2, ~/.zshrc line 1, ~/.config/fish/config.fish line 1")
    assert where_set("ALL_PROXY", tmp_path) == "your shell, IDE or CI settings"


def test_proxy_passwords_are_scrubbed_like_the_key() -> None:
    env = {"HTTPS_PROXY": "http://alice:s3cr%40t@proxy:3128", "no_proxy": "localhost"}
    found = passwords(env)
    import base64

    login = base64.b64encode(b"alice:s3cr@t").decode()
    assert set(found) == {"s3cr%40t", "s3cr@t", login}
    assert Scrubber(None, found)(f"Proxy-Authorization: Basic {login}") == (
        "Proxy-Authorization: Basic ***")
    key = ApiKey("sk-" + "a" * 30, "env:CBORG_API_KEY")
    scrub = Scrubber(key, found)
    text = scrub(f"key {key.reveal()} login alice:s3cr@t url http://alice:s3cr%40t@proxy")
    assert "s3cr" not in text and key.reveal() not in text and "alice" in text


def test_a_non_strict_ca_sent_in_the_chain_is_named(tmp_path: Path) -> None:
    loose_ca, _ = rp.non_strict_ca(tmp_path, organisation="Acme Inspection")
    leaf = loose_ca.ca.issue_cert("gateway.test")
    chain = [_der(pem.bytes()) for pem in leaf.cert_chain_pems]
    assert non_strict_in_chain(chain) is None  # trustme sends the leaf only
    chain.append(_der(loose_ca.ca_file.read_bytes()))
    assert non_strict_in_chain(chain) == (
        "Acme Inspection Root CA", "a Basic Constraints extension that is not marked critical")
    strict = trustme.CA()
    assert non_strict_in_chain([chain[0], _der(strict.cert_pem.bytes())]) is None
