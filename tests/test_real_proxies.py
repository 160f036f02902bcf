"""Real squid, tinyproxy and mitmproxy between the user and the gateway; the doctor's
pass/fail must agree with the openai SDK and curl run with the same settings."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from . import netfixtures as nf
from . import realproxies as rp
from .netscenario import NAME, Lab, Seen, expect, lab_fixture, statuses  # noqa: F401

ALL = "egress,config.proxy"
HOSTS = {NAME: "127.0.0.1"}


def _gateway(lab: Lab) -> int:
    return lab.gateway(rp.oracle_gateway(lab.key), families=(4,))


def _agree(lab: Lab, seen: Seen, port: int, env: dict[str, str], timeout: float = 10) -> None:
    """The doctor passes exactly when the openai SDK and curl work with these settings."""
    base_url = f"https://{NAME}:{port}"
    sdk = rp.openai_sdk(base_url, lab.key, env, timeout)
    curl = rp.curl(f"{base_url}/models", lab.key, env, timeout)
    doctor_ok = seen.code == 0
    assert sdk.ok is doctor_ok, (sdk.output, seen.statuses)
    assert curl.ok is doctor_ok, (curl.output, seen.statuses)


def _denied(seen: Seen) -> dict:
    expect(seen, {**statuses("tls", net_ipv6="skip"), "config.proxy": "pass"})
    assert seen.report["verdict"]["code"] == "HTTP_PROXY_DENIED"
    assert [f["code"] for c in seen.report["checks"] for f in c["findings"]
            if f["severity"] == "fail"] == ["HTTP_PROXY_DENIED"]
    return seen.finding("tls", "HTTP_PROXY_DENIED")


def test_squid_forwarding_works_like_the_sdk(lab: Lab) -> None:
    port = _gateway(lab)
    with rp.running(rp.squid(HOSTS)) as squid:
        env = {"HTTPS_PROXY": squid.url, "SSL_CERT_FILE": str(lab.pki.ca_file)}
        seen = lab.doctor(port=port, only=ALL, env=env)
        expect(seen, {**statuses(net_ipv6="skip"), "config.proxy": "pass"})
        assert f"through the proxy {squid.url}" in seen.check("tls")["summary"]
        _agree(lab, seen, port, env)


def test_squid_acl_denying_connect_is_the_proxys_doing(lab: Lab) -> None:
    port = _gateway(lab)
    with rp.running(rp.squid(HOSTS, deny=NAME)) as squid:
        env = {"HTTPS_PROXY": squid.url, "SSL_CERT_FILE": str(lab.pki.ca_file)}
        seen = lab.doctor(port=port, only=ALL, env=env)
        finding = _denied(seen)
        message = finding["message"]
        assert message.startswith(f"The proxy {squid.url} (from $HTTPS_PROXY) refused to open a "
                                  f"tunnel to {NAME}:{port}: HTTP 403, X-Squid-Error: "
                                  "ERR_ACCESS_DENIED 0; page 'ERROR: The requested URL could not "
                                  "be retrieved'"), message
        assert finding["fix"][0].startswith(f"Ask your network's administrators to allow CONNECT "
                                            f"to {NAME}:{port} through the proxy 127.0.0.1:{squid.port}")
        # The gateway answers directly here, so NO_PROXY is the second step.
        assert f"`export NO_PROXY={NAME}`" in finding["fix"][1] and "directly" in finding["fix"][1]
        assert not any("captive" in step or "sign in" in step for step in finding["fix"])
        _agree(lab, seen, port, env)


def test_squid_on_ipv6_loopback_denying_connect(lab: Lab) -> None:
    if not nf.ipv6_loopback():
        import pytest

        pytest.skip("no IPv6 on loopback here")
    port = _gateway(lab)
    with rp.running(rp.squid(HOSTS, deny=NAME, listen="::1")) as squid:
        env = {"HTTPS_PROXY": squid.url, "SSL_CERT_FILE": str(lab.pki.ca_file)}
        seen = lab.doctor(port=port, only=ALL, env=env)
        expect(seen, {**statuses("tls", net_ipv4="skip"), "config.proxy": "pass"})
        finding = seen.finding("tls", "HTTP_PROXY_DENIED")
        assert finding["message"].startswith(f"The proxy http://[::1]:{squid.port} (from $HTTPS_PROXY)")
        assert f"through the proxy [::1]:{squid.port};" in finding["fix"][0]
        _agree(lab, seen, port, env)


def test_squid_that_cannot_reach_the_gateway(lab: Lab) -> None:
    closed = nf.closed_port()
    lab.name(["127.0.0.1"])
    with rp.running(rp.squid(HOSTS)) as squid:
        env = {"HTTPS_PROXY": squid.url, "SSL_CERT_FILE": str(lab.pki.ca_file)}
        seen = lab.doctor(port=closed, only=ALL, env=env)
        finding = _denied(seen)
        assert f"could not open a tunnel to {NAME}:{closed}: HTTP 503, X-Squid-Error: " \
               "ERR_CONNECT_FAIL 111" in finding["message"]
        assert finding["fix"][0].startswith(f"The proxy 127.0.0.1:{squid.port} could not reach "
                                            f"{NAME}:{closed} itself")
        _agree(lab, seen, closed, env)


def test_proxy_that_drops_connections_is_proxy_down(lab: Lab) -> None:
    port = _gateway(lab)
    black_hole = nf.FullBacklog()
    lab.closers.append(black_hole)
    env = {"HTTPS_PROXY": f"http://127.0.0.1:{black_hole.port}", "SSL_CERT_FILE": str(lab.pki.ca_file)}
    seen = lab.doctor(port=port, only=ALL, env=env)
    expect(seen, {**statuses("net.ipv4", net_ipv6="skip"), "config.proxy": "pass"})
    finding = seen.finding("net.ipv4", "PROXY_DOWN")
    assert "is unanswered" in finding["message"]
    assert finding["fix"][0].startswith("Connections to 127.0.0.1 are silently dropped")
    _agree(lab, seen, port, env, timeout=3)  # a connect that never completes: waiting longer proves nothing


def test_tinyproxy_refusing_the_port(lab: Lab) -> None:
    port = _gateway(lab)
    with rp.running(rp.tinyproxy(lab.tmp / "tinyproxy", connect_ports=(443,))) as tiny:
        env = {"HTTPS_PROXY": tiny.url, "SSL_CERT_FILE": str(lab.pki.ca_file)}
        seen = lab.doctor(port=port, only=ALL, env=env)
        finding = _denied(seen)
        assert "HTTP 403, page '403 Access violation'; 'The CONNECT method not allowed with the " \
               "port you tried to use.'" in finding["message"]
        _agree(lab, seen, port, env)


def test_proxy_not_running_is_proxy_down(lab: Lab) -> None:
    port = _gateway(lab)
    closed = nf.closed_port()
    url = f"http://127.0.0.1:{closed}"
    (lab.home / ".bashrc").write_text(f"# proxies\nexport HTTPS_PROXY={url}\n")
    env = {"HTTPS_PROXY": url, "SSL_CERT_FILE": str(lab.pki.ca_file)}
    seen = lab.doctor(port=port, only=ALL, env=env)
    expect(seen, {**statuses("net.ipv4", net_ipv6="skip"), "config.proxy": "pass"})
    finding = seen.finding("net.ipv4", "PROXY_DOWN")
    assert finding["message"].startswith(f"The proxy {url} set by $HTTPS_PROXY does not answer: "
                                         f"TCP to 127.0.0.1 port {closed} is refused")
    assert finding["fix"][0].startswith(f"Nothing listens on port {closed} at 127.0.0.1: the proxy")
    assert "`unset HTTPS_PROXY`" in finding["fix"][1] and "~/.bashrc line 2" in finding["fix"][1]
    assert not any("base URL" in step for step in finding["fix"])
    assert seen.report["verdict"]["code"] == "PROXY_DOWN"
    _agree(lab, seen, port, env)


def test_squid_basic_auth_without_login(lab: Lab) -> None:
    port = _gateway(lab)
    with rp.running(rp.squid(HOSTS, basic=("alice", "s3cr-t:pw"))) as squid:
        env = {"HTTPS_PROXY": squid.url, "SSL_CERT_FILE": str(lab.pki.ca_file)}
        seen = lab.doctor(port=port, only=ALL, env=env)
        expect(seen, {**statuses("tls", net_ipv6="skip"), "config.proxy": "pass"})
        finding = seen.finding("tls", "HTTP_PROXY_AUTH")
        assert "wants a login (HTTP 407 on CONNECT); it offers Basic" in finding["message"]
        assert finding["fix"][0].startswith("The proxy takes a user name and password (Basic): "
                                            "put them in the proxy URL, `export HTTPS_PROXY=http://"
                                            f"USER:PASSWORD@127.0.0.1:{squid.port}`")
        assert not any("px" in step for step in finding["fix"])
        _agree(lab, seen, port, env)


def test_squid_basic_auth_with_login_works_and_the_password_stays_secret(lab: Lab) -> None:
    port = _gateway(lab)
    password = "s3cr-t:pw@x"
    with rp.running(rp.squid(HOSTS, basic=("alice", password))) as squid:
        env = {"HTTPS_PROXY": squid.url_with_login("alice", password),
               "SSL_CERT_FILE": str(lab.pki.ca_file)}
        reports = lab.tmp / "reports"
        reports.mkdir()
        seen = lab.doctor(port=port, only=ALL, env=env)
        expect(seen, {**statuses(net_ipv6="skip"), "config.proxy": "pass"})
        _agree(lab, seen, port, env)
        from .doctor import run_doctor

        files = [reports / "r.md", reports / "r.html", reports / "r.json"]
        run = run_doctor("--only", ALL, "--base-url", f"https://{NAME}:{port}", "--nameserver",
                         lab.dns.arg, "--timeout", "1", "-v", *(f"--report={f}" for f in files),
                         home=lab.home, env={"CBORG_API_KEY": lab.key, **env}, timeout=60)
        assert run.code == 0, run.output[-2000:]
        quoted = env["HTTPS_PROXY"].split(":")[2].split("@")[0]  # the URL-encoded form
        for text in (seen.everything, run.output, *(f.read_text() for f in files)):
            assert password not in text and quoted not in text
            assert lab.key not in text


def test_squid_rejecting_the_login_says_so(lab: Lab) -> None:
    port = _gateway(lab)
    with rp.running(rp.squid(HOSTS, basic=("alice", "right-one"))) as squid:
        env = {"HTTPS_PROXY": squid.url_with_login("alice", "wrong-one"),
               "SSL_CERT_FILE": str(lab.pki.ca_file)}
        seen = lab.doctor(port=port, only=ALL, env=env)
        expect(seen, {**statuses("tls", net_ipv6="skip"), "config.proxy": "pass"})
        finding = seen.finding("tls", "HTTP_PROXY_AUTH")
        assert finding["fix"][0].startswith("The proxy rejected the login in $HTTPS_PROXY")
        assert "wrong-one" not in seen.everything
        _agree(lab, seen, port, env)


def test_squid_wanting_ntlm_needs_a_local_helper(lab: Lab) -> None:
    port = _gateway(lab)
    with rp.running(rp.squid(HOSTS, ntlm=True)) as squid:
        env = {"HTTPS_PROXY": squid.url, "SSL_CERT_FILE": str(lab.pki.ca_file)}
        seen = lab.doctor(port=port, only=ALL, env=env)
        expect(seen, {**statuses("tls", net_ipv6="skip"), "config.proxy": "pass"})
        finding = seen.finding("tls", "HTTP_PROXY_AUTH")
        assert "it offers NTLM" in finding["message"]
        assert "px (`pip install px-proxy`" in finding["fix"][0] and "cntlm" in finding["fix"][0]
        assert not any("USER:PASSWORD@" in step for step in finding["fix"])
        _agree(lab, seen, port, env)


def _bundle(lab: Lab, ca: Path) -> Path:
    """The fix the doctor prints, run as printed: certifi's roots plus the proxy's CA."""
    bundle = lab.tmp / "cborg-ca-bundle.pem"
    certifi = subprocess.run([sys.executable, "-m", "certifi"], capture_output=True, text=True,
                             check=True).stdout.strip()
    bundle.write_bytes(Path(certifi).read_bytes() + b"\n" + ca.read_bytes())
    return bundle


def _intercepted(seen: Seen) -> dict:
    expect(seen, {**statuses("tls", net_ipv6="skip"), "config.proxy": "pass"})
    finding = seen.finding("tls", "TLS_INTERCEPTED")
    assert seen.report["verdict"]["code"] == "TLS_INTERCEPTED"
    assert any('cat "$(python3 -m certifi)" ~/corp-ca.pem > ~/.cborg-ca-bundle.pem && export '
               "SSL_CERT_FILE=~/.cborg-ca-bundle.pem" in step for step in finding["fix"])
    assert any("truststore.inject_into_ssl()" in step for step in finding["fix"])
    return finding


def test_squid_ssl_bump_with_the_organisations_ca(lab: Lab) -> None:
    port = _gateway(lab)
    org = nf.make_pki(lab.tmp, "org", organization="Example Lab IT")
    with rp.running(rp.squid(HOSTS, bump_ca=org, bump_key=rp.ca_key_pem(org),
                             upstream_ca=lab.pki.ca_file)) as squid:
        env = {"HTTPS_PROXY": squid.url}
        seen = lab.doctor(port=port, only=ALL, env=env, trust_lab_ca=False)
        finding = _intercepted(seen)
        assert f"which the proxy {squid.url} (from $HTTPS_PROXY) presented in place of the " \
               "gateway's certificate: your organisation's own CA, seen only through the proxy" \
               in finding["message"]
        assert "Example Lab IT" in finding["message"]
        assert f"openssl s_client -proxy 127.0.0.1:{squid.port}" in finding["fix"][0]
        assert not any(step.startswith("Careful") for step in finding["fix"])  # a strict CA
        _agree(lab, seen, port, env)
        fixed = {"HTTPS_PROXY": squid.url, "SSL_CERT_FILE": str(_bundle(lab, org.ca_file))}
        seen = lab.doctor(port=port, only=ALL, env=fixed, trust_lab_ca=False)
        expect(seen, {**statuses(net_ipv6="skip"), "config.proxy": "pass"})
        _agree(lab, seen, port, fixed)


def test_mitmproxy_interception_is_named(lab: Lab) -> None:
    port = _gateway(lab)
    with rp.running(rp.mitmdump(lab.tmp / "mitm", HOSTS)) as mitm:
        env = {"HTTPS_PROXY": mitm.url}
        seen = lab.doctor(port=port, only=ALL, env=env, trust_lab_ca=False)
        finding = _intercepted(seen)
        assert "TLS inspection by mitmproxy" in finding["message"]
        assert "~/.mitmproxy/mitmproxy-ca-cert.pem" in finding["fix"][0]
        _agree(lab, seen, port, env)
        assert mitm.ca_file is not None
        fixed = {"HTTPS_PROXY": mitm.url, "SSL_CERT_FILE": str(_bundle(lab, mitm.ca_file))}
        seen = lab.doctor(port=port, only=ALL, env=fixed, trust_lab_ca=False)
        expect(seen, {**statuses(net_ipv6="skip"), "config.proxy": "pass"})
        _agree(lab, seen, port, fixed)


def test_ca_without_critical_basic_constraints_warns_before_python_313(lab: Lab) -> None:
    if sys.version_info >= (3, 13):
        import pytest

        pytest.skip("this Python rejects the CA itself (see test_probes_x509)")
    org, key = rp.non_strict_ca(lab.tmp)
    port = _gateway(lab)
    with rp.running(rp.squid(HOSTS, bump_ca=org, bump_key=key,
                             upstream_ca=lab.pki.ca_file)) as squid:
        # Before the fix: the bundle advice warns that this CA breaks on Python 3.13+.
        seen = lab.doctor(port=port, only=ALL, env={"HTTPS_PROXY": squid.url}, trust_lab_ca=False)
        finding = _intercepted(seen)
        assert finding["fix"][-1].startswith("Careful: that CA (Example Lab Inspection Root CA) has "
                                             "a Basic Constraints extension that is not marked "
                                             "critical. A bundle with it works on Python 3.12")
        env = {"HTTPS_PROXY": squid.url, "SSL_CERT_FILE": str(_bundle(lab, org.ca_file))}
        seen = lab.doctor(port=port, only=ALL, env=env, trust_lab_ca=False)
        expect(seen, {**statuses(tls="warn", net_ipv6="skip"), "config.proxy": "pass"})
        finding = seen.finding("tls", "TLS_CA_NOT_STRICT")
        assert finding["severity"] == "warn"
        assert ("has a Basic Constraints extension that is not marked critical: Python 3.13 and "
                "newer reject it (VERIFY_X509_STRICT), while this Python 3.") in finding["message"]
        assert "break when Python is upgraded" in finding["message"]
        assert "~ssl.VERIFY_X509_STRICT" in finding["fix"][1]
        _agree(lab, seen, port, env)  # a warning: the clients work today
