"""Unit tests of the engine's pure parts: findings, key handling, targets, registry, verdict."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from cborg_doctor.check import Check, CheckResult, Outcome
from cborg_doctor.findings import Code, Finding, RootCause, Severity, Status
from cborg_doctor.options import parse_nameserver
from cborg_doctor.registry import SelectionError, build_registry, closest, order_checks
from cborg_doctor.report import find_verdict
from cborg_doctor.secrets import ApiKey, KeyFileError, Scrubber, fingerprint, resolve_key
from cborg_doctor.target import choose_target, parse_target

KEY = "sk-Q3kT9xWq1LmZpR7vYb2NcA"


def noop(ctx: object) -> Outcome:
    return Outcome("ok")


def test_code_fills_message_and_fix_with_facts() -> None:
    code = Code("DNS_X", Severity.FAIL, "{host} failed", fix=("dig {host}", "ask {who}"))
    finding = code.finding(host="api.test")
    assert finding.message == "api.test failed"
    assert finding.fix == ("dig api.test", "ask <who>")
    assert finding.status is Status.FAIL


def test_code_rejects_lower_case() -> None:
    with pytest.raises(ValueError):
        Code("dns_bad", Severity.FAIL, "x")


def test_fingerprint_shows_at_most_three_and_four() -> None:
    assert fingerprint(KEY) == "sk-…NcA"[:3] + "…" + KEY[-4:]
    assert KEY not in fingerprint(KEY)
    assert fingerprint("sk-12345") == "sk-…"
    assert fingerprint("abc") == "…"


def test_api_key_never_prints_itself() -> None:
    key = ApiKey(KEY, "env:CBORG_API_KEY")
    for text in (str(key), repr(key), f"{key}", f"{key!r}", str([key]), str({"k": key})):
        assert KEY not in text
    assert key.reveal() == KEY


def test_scrubber_removes_key_and_stripped_twin_and_keylike_tokens() -> None:
    scrub = Scrubber(ApiKey(f"  {KEY}\n", "file:x"))
    text = scrub(f"a {KEY} b Received API Key = sk-otherKEYshapedthing123 c")
    assert KEY not in text
    assert "sk-otherKEYshapedthing123" not in text
    assert text.startswith("a sk-…")


def test_resolve_key_order(tmp_path: Path) -> None:
    env = {"OPENAI_API_KEY": "sk-openai", "CBORG_API_KEY": "sk-cborg"}
    assert resolve_key(None, env).key.source == "env:CBORG_API_KEY"  # type: ignore[union-attr]
    assert resolve_key(None, {"OPENAI_API_KEY": "x"}).key.source == "env:OPENAI_API_KEY"  # type: ignore[union-attr]
    assert resolve_key(None, {}).key is None
    keyfile = tmp_path / "key"
    keyfile.write_text(KEY + "\n")
    resolved = resolve_key(str(keyfile), env)
    assert resolved.key is not None and resolved.key.reveal() == KEY


@pytest.mark.parametrize("kind", ["missing", "directory", "empty", "binary"])
def test_key_file_problems_are_usage_errors(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "key"
    if kind == "directory":
        path.mkdir()
    elif kind == "empty":
        path.write_text("")
    elif kind == "binary":
        path.write_bytes(b"\xff\xfe\x00sk")
    with pytest.raises(KeyFileError) as info:
        resolve_key(str(path), {})
    assert str(path) in str(info.value)


def test_target_rules() -> None:
    assert choose_target(None, {}).base_url == "https://api.cborg.lbl.gov"
    assert choose_target(None, {"CBORG_BASE_URL": "https://x.test/"}).host == "x.test"
    # OPENAI_BASE_URL only counts when it is a CBorg host.
    assert choose_target(None, {"OPENAI_BASE_URL": "https://api.openai.com/v1"}).source == "default"
    local = choose_target(None, {"OPENAI_BASE_URL": "https://api-local.cborg.lbl.gov"})
    assert local.source == "env:OPENAI_BASE_URL"
    assert choose_target("http://127.0.0.1:9", {"CBORG_BASE_URL": "x"}).port == 9


def test_target_key_safety() -> None:
    assert parse_target("http://127.0.0.1:4000", "o").key_may_be_sent
    assert parse_target("http://[::1]:4000", "o").key_may_be_sent
    assert not parse_target("http://api.cborg.lbl.gov", "o").key_may_be_sent
    assert not parse_target("api.cborg.lbl.gov", "o").valid
    assert parse_target("https://[::1]:8443/v1", "o").url("/models") == "https://[::1]:8443/models"


@pytest.mark.parametrize(
    ("text", "expected"),
    [("127.0.0.1", ("127.0.0.1", 53)), ("127.0.0.1:5353", ("127.0.0.1", 5353)),
     ("::1", ("::1", 53)), ("[::1]:5353", ("::1", 5353))],
)
def test_parse_nameserver(text: str, expected: tuple[str, int]) -> None:
    assert parse_nameserver(text) == expected


@pytest.mark.parametrize("text", ["dns.google", "1.2.3.4:0", "1.2.3.4:x", "[::1]x"])
def test_parse_nameserver_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_nameserver(text)


def test_order_keeps_contract_order_and_puts_plugins_after_needs() -> None:
    a = Check("a", "A", noop, order=10)
    b = Check("b", "B", noop, order=20)
    c = Check("c", "C", noop, needs=("b",), order=5)  # wants to be first but needs b
    plugin = Check("p", "P", noop, needs=("a",))
    assert [x.id for x in order_checks([plugin, c, b, a])] == ["a", "b", "c", "p"]


def test_select_only_pulls_in_prerequisites_and_any_of() -> None:
    registry = build_registry(
        [("t", lambda: [
            Check("dns", "D", noop, order=1),
            Check("net.ipv4", "4", noop, needs=("dns",), order=2),
            Check("net.ipv6", "6", noop, needs=("dns",), order=3),
            Check("tls", "T", noop, needs=("net.ipv4|net.ipv6",), order=4),
            Check("other", "O", noop, order=5),
        ])]
    )
    assert [c.id for c in registry.select(only=["tls"])] == ["dns", "net.ipv4", "net.ipv6", "tls"]
    assert [c.id for c in registry.select(skip=["other", "net.ipv6"])] == ["dns", "net.ipv4", "tls"]
    with pytest.raises(SelectionError) as info:
        registry.select(only=["nope"])
    assert "valid ids: dns, net.ipv4" in str(info.value)


def test_broken_and_duplicate_plugins_are_problems_not_crashes() -> None:
    def broken() -> object:
        raise ImportError("no module named labstuff")

    registry = build_registry(
        [("good", lambda: Check("x", "X", noop)), ("bad", broken),
         ("dup", lambda: Check("x", "X2", noop)), ("junk", lambda: 42)]
    )
    assert registry.ids == ["x"]
    reasons = " | ".join(p.reason for p in registry.problems)
    assert "no module named labstuff" in reasons
    assert "already registered" in reasons
    assert "expected a Check" in reasons


def test_closest() -> None:
    assert closest("DNS_NXDOMIAN", ["DNS_NXDOMAIN", "DNS_TIMEOUT", "KEY_MISSING"])[0] == "DNS_NXDOMAIN"


def _result(check_id: str, status: Status, *findings: Finding, **data: object) -> CheckResult:
    return CheckResult(check_id, check_id, status, 1, "s", findings, data=data)


def test_verdict_first_failure_else_first_warning() -> None:
    warn = Finding("W", Severity.WARN, "w")
    fail = Finding("F", Severity.FAIL, "f")
    results = (_result("a", Status.WARN, warn), _result("b", Status.FAIL, fail))
    assert find_verdict(results).code == "F"  # type: ignore[union-attr]
    assert find_verdict(results[:1]).code == "W"  # type: ignore[union-attr]
    assert find_verdict((_result("a", Status.PASS, Finding("I", Severity.INFO, "i")),)) is None


def test_verdict_follows_declared_explanations() -> None:
    nat = Finding("WSL_NAT_VPN", Severity.WARN, "nat", explains=("dns",))
    dns = Finding("DNS_TIMEOUT", Severity.FAIL, "t")
    results = (_result("platform.wsl", Status.WARN, nat), _result("dns", Status.FAIL, dns))
    assert find_verdict(results).code == "WSL_NAT_VPN"  # type: ignore[union-attr]
    egress = Finding("EGRESS_IP", Severity.INFO, "ip")
    auth = replace(_result("auth", Status.FAIL, Finding("IP_NOT_ALLOWED", Severity.FAIL, "403")),
                   explained_by=RootCause("egress", "EGRESS_IP"))
    assert find_verdict((_result("egress", Status.PASS, egress), auth)).code == "EGRESS_IP"  # type: ignore[union-attr]


def test_internal_error_line_is_scrubbed_of_a_key_from_a_file() -> None:
    from cborg_doctor.cli import _scrub_all_keys

    odd = "lab-token-without-sk-prefix-0123456789"  # not key-shaped: only the real key catches it
    line = _scrub_all_keys(f"internal error: bad header {odd}", [ApiKey(odd, "file:k")])
    assert odd not in line and line == "internal error: bad header lab…6789"
