"""`config.proxy`: which proxy the clients use, NO_PROXY, and CA-bundle variables."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from cborg_doctor.probes.proxy import bypass_entry, decide, redact
from cborg_doctor.target import parse_target

from .doctor import run_doctor

TARGET = parse_target("https://api.cborg.lbl.gov", "default")


def test_lower_case_wins_and_https_proxy_is_used_for_https() -> None:
    env = {"HTTPS_PROXY": "http://upper:3128", "https_proxy": "http://lower:3128",
           "HTTP_PROXY": "http://plain:80"}
    decision = decide(env, TARGET)
    assert (decision.url, decision.source) == ("http://lower:3128", "https_proxy")


def test_all_proxy_is_the_fallback_and_schemeless_means_http() -> None:
    decision = decide({"ALL_PROXY": "proxy.corp:8080"}, TARGET)
    assert decision.url == "http://proxy.corp:8080" and decision.host_port == ("proxy.corp", 8080)


def test_http_proxy_alone_does_not_apply_to_https() -> None:
    assert decide({"HTTP_PROXY": "http://p:1"}, TARGET).url is None


def test_no_proxy_domain_suffix_excludes_the_gateway() -> None:
    decision = decide({"HTTPS_PROXY": "http://p:1", "NO_PROXY": "localhost,.lbl.gov"}, TARGET)
    assert decision.url is None and decision.bypassed_by == ".lbl.gov"


def test_no_proxy_matching_rules() -> None:
    assert bypass_entry("*", "anything") == "*"
    assert bypass_entry("cborg.lbl.gov", "api.cborg.lbl.gov") == "cborg.lbl.gov"
    assert bypass_entry("bl.gov", "api.cborg.lbl.gov") is None
    assert bypass_entry("127.0.0.0/8", "127.0.0.5") == "127.0.0.0/8"
    assert bypass_entry("api.cborg.lbl.gov:443", "api.cborg.lbl.gov") == "api.cborg.lbl.gov:443"


def test_password_is_never_shown() -> None:
    decision = decide({"HTTPS_PROXY": "http://me:s3cret@p:3128"}, TARGET)
    assert "s3cret" not in decision.shown and decision.shown == "http://me:***@p:3128"
    assert decision.authorization == "Basic bWU6czNjcmV0"


@given(st.text(max_size=200), st.text(max_size=60))
def test_bypass_entry_never_raises(no_proxy: str, host: str) -> None:
    bypass_entry(no_proxy, host)


@given(st.text(max_size=100))
def test_redact_never_raises_nor_leaks_a_login(url: str) -> None:
    shown = redact("http://user:s3cret@" + url)
    assert "s3cret@" not in shown


@given(st.text(max_size=100))
def test_decide_never_raises(value: str) -> None:
    decision = decide({"HTTPS_PROXY": value, "NO_PROXY": value}, TARGET)
    assert decision.host_port is None or isinstance(decision.host_port[1], int)


def _run(home: Path, **env: str):
    run = run_doctor("--json", "--no-report", "--only", "config.proxy", home=home, env=env)
    return run, run.json()["checks"][0]


def test_missing_ca_bundle_fails(home: Path) -> None:
    run, check = _run(home, SSL_CERT_FILE="/nonexistent/corp.pem")
    assert run.code == 1 and check["status"] == "fail"
    [finding] = check["findings"]
    assert finding["code"] == "CA_BUNDLE_MISSING"
    assert finding["message"].startswith("SSL_CERT_FILE points at /nonexistent/corp.pem, which "
                                         "does not exist")
    assert "unset SSL_CERT_FILE" in " ".join(finding["fix"])


def test_ca_bundle_without_certificates_fails(home: Path, tmp_path: Path) -> None:
    junk = tmp_path / "bundle.pem"
    junk.write_text("not a certificate\n")
    _, check = _run(home, REQUESTS_CA_BUNDLE=str(junk))
    assert check["status"] == "fail"
    assert "holds no usable PEM certificates" in check["findings"][0]["message"]
    assert "requests" in check["findings"][0]["message"]


def test_ca_dir_that_is_a_file_fails(home: Path, tmp_path: Path) -> None:
    file = tmp_path / "certs"
    file.write_text("")
    _, check = _run(home, SSL_CERT_DIR=str(file))
    assert check["findings"][0]["message"].startswith(f"SSL_CERT_DIR points at {file}, which is "
                                                      "not a folder")


def test_proxy_in_use_is_information(home: Path) -> None:
    run, check = _run(home, https_proxy="http://user:pw@proxy.corp.example:3128")
    assert run.code == 0 and check["status"] == "pass"
    [finding] = check["findings"]
    assert finding["code"] == "PROXY_IN_USE"
    assert "through the proxy http://user:***@proxy.corp.example:3128 (from https_proxy)" in (
        finding["message"])
    assert "pw@" not in run.stdout


def test_socks_proxy_without_support_warns(home: Path) -> None:
    _, check = _run(home, ALL_PROXY="socks5://127.0.0.1:1080")
    assert check["status"] == "warn"
    assert [f["code"] for f in check["findings"]] == ["PROXY_IN_USE", "PROXY_UNSUPPORTED"]


def test_nothing_set(home: Path) -> None:
    _, check = _run(home)
    assert check["status"] == "pass" and check["findings"] == []
    assert check["summary"] == "no proxy; CAs: default (certifi)"
