"""The canary key appears in no byte of stdout, stderr or any report, in every scenario.

Each scenario runs the real command (a subprocess, as a user runs it) with a
fresh canary key, twice: the console with -v, --helpdesk, GitHub Actions output
and every report format; and --json with every report format. Scenarios: a
healthy gateway with --live, each account fault (including servers that echo the
key back as "Received API Key = sk-…"), network faults at every layer, a crashing
and a leaking plugin, the key from a file and from stdin, and the default report.
Only the fingerprint (first 3, last 4 characters) may show; no 8-character
piece of the key may.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from tests import netfixtures as nf
from tests.doctor import DoctorRun, run_doctor
from tests.fuzzkit import Reply, ScriptedServer, json_reply
from tests.plugin_site import LAB_PLUGIN, install_plugin
from tests.standin_gateway import (
    Account,
    StandinGateway,
    blocked_key,
    expired_key,
    ip_forbidden,
    key_budget_exceeded,
    standin_gateway_fixture,  # noqa: F401  (the standin_gateway fixture)
)

REPORTS = (".json", ".md", ".xml", ".html")


def new_canary() -> str:
    return "sk-canary" + secrets.token_hex(16)


def leaks(canary: str, data: bytes) -> list[str]:
    """Every 8-character piece of the key (beyond its fingerprint) found in `data`."""
    body = canary[3:]
    pieces = {body[i:i + 8] for i in range(len(body) - 7)}
    return sorted(p for p in pieces if p.encode() in data)


@dataclass
class Scenario:
    """How to set one run up: its base URL, environment, extra arguments."""

    base_url: str
    env: dict[str, str] = field(default_factory=dict)
    args: tuple[str, ...] = ()
    stdin: str | None = None
    key_in_env: bool = True


@dataclass
class Seen:
    run: DoctorRun
    files: dict[str, bytes]

    @property
    def everything(self) -> bytes:
        return (self.run.stdout + self.run.stderr).encode() + b"".join(self.files.values())


def run_everywhere(scenario: Scenario, canary: str, tmp: Path, json_mode: bool) -> Seen:
    home = tmp / ("home-json" if json_mode else "home-console")
    home.mkdir(parents=True, exist_ok=True)
    out = tmp / ("out-json" if json_mode else "out-console")
    out.mkdir(exist_ok=True)
    env = dict(scenario.env)
    if scenario.key_in_env:
        env["CBORG_API_KEY"] = canary
    summary = out / "step-summary.md"
    args = ["--base-url", scenario.base_url, "--timeout", "1", *scenario.args]
    args += [arg for suffix in REPORTS for arg in ("--report", str(out / f"report{suffix}"))]
    if json_mode:
        args.append("--json")
    else:
        args += ["-v", "--helpdesk"]
        env.update(GITHUB_ACTIONS="true", CI="true", GITHUB_STEP_SUMMARY=str(summary))
    run = run_doctor(*args, home=home, env=env, stdin=scenario.stdin, timeout=90)
    files = {str(p): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    files.update({str(p): p.read_bytes() for p in home.rglob("*") if p.is_file()})
    return Seen(run, files)


# ── the scenarios ───────────────────────────────────────────────────────────

Setup = Callable[[str, Path, "Servers"], Scenario]


@dataclass
class Servers:
    standin: StandinGateway
    closers: list[object] = field(default_factory=list)

    def serve(self, server: object) -> object:
        self.closers.append(server)
        return server


def healthy(canary: str, tmp: Path, s: Servers) -> Scenario:
    s.standin.add(canary, Account())
    return Scenario(s.standin.base_url, args=("--live", "--model", "lbl/llama"))


def invalid_key_echoed(canary: str, tmp: Path, s: Servers) -> Scenario:
    # Not registered: the stand-in answers LiteLLM's 401 with "Received API Key = <key>".
    return Scenario(s.standin.base_url, args=("--live",))


def expired_key_in_param(canary: str, tmp: Path, s: Servers) -> Scenario:
    expires = datetime.now(timezone.utc) - timedelta(days=3)
    s.standin.add(canary, Account(auth_error=expired_key(canary, expires)))
    return Scenario(s.standin.base_url)


def blocked(canary: str, tmp: Path, s: Servers) -> Scenario:
    s.standin.add(canary, Account(auth_error=blocked_key()))
    return Scenario(s.standin.base_url)


def ip_gate(canary: str, tmp: Path, s: Servers) -> Scenario:
    s.standin.add(canary, Account(auth_error=ip_forbidden("198.51.100.23")))
    return Scenario(s.standin.base_url)


def budget_exceeded(canary: str, tmp: Path, s: Servers) -> Scenario:
    s.standin.add(canary, Account(chat_error=key_budget_exceeded(50.1, 50.0, 400),
                                  key_info_error=key_budget_exceeded(50.1, 50.0, 400)))
    return Scenario(s.standin.base_url, args=("--live",))


def echo_everywhere(canary: str, tmp: Path, s: Servers) -> Scenario:
    """A server that puts the key it got in its body, headers and status line."""
    echo = Reply(b"HTTP/1.1 401 Received API Key = {AUTH}",
                 ((b"content-type", b"application/json"), (b"x-litellm-version", b"{AUTH}"),
                  (b"www-authenticate", b"Bearer {AUTH}")),
                 b'{"error": {"message": "Authentication Error, Received API Key = {AUTH}", '
                 b'"type": "auth_error", "param": "{AUTH}", "code": "401"}}')
    replies = {"/health/liveliness": json_reply('"I\'m alive!"')}
    server = s.serve(ScriptedServer(replies, default=echo))
    return Scenario(server.url, args=("--live", "--model", "lbl/llama"))  # type: ignore[attr-defined]


def echo_in_html(canary: str, tmp: Path, s: Servers) -> Scenario:
    page = Reply(b"HTTP/1.1 403 Forbidden", ((b"content-type", b"text/html"), (b"server", b"cloudflare")),
                 b"<html><title>Denied {AUTH}</title><body>Bearer {AUTH}</body></html>")
    replies = {"/health/liveliness": json_reply('"I\'m alive!"')}
    server = s.serve(ScriptedServer(replies, default=page))
    return Scenario(server.url)  # type: ignore[attr-defined]


def server_error(canary: str, tmp: Path, s: Servers) -> Scenario:
    server = s.serve(nf.HttpServer(nf.cloudflare_502()))
    return Scenario(f"http://127.0.0.1:{server.port}")  # type: ignore[attr-defined]


def stalled(canary: str, tmp: Path, s: Servers) -> Scenario:
    server = s.serve(nf.HttpServer(nf.stall_after_headers_read()))
    return Scenario(f"http://127.0.0.1:{server.port}")  # type: ignore[attr-defined]


def refused(canary: str, tmp: Path, s: Servers) -> Scenario:
    return Scenario(f"http://127.0.0.1:{nf.closed_port()}")


def nxdomain(canary: str, tmp: Path, s: Servers) -> Scenario:
    dns = nf.DnsServer(zone={"gw.test": "nxdomain"}).start()
    s.closers.append(_Stopper(dns.stop))
    return Scenario("https://gw.test:443", args=("--nameserver", dns.arg))


def tls_untrusted(canary: str, tmp: Path, s: Servers) -> Scenario:
    pki = nf.make_pki(tmp, "untrusted")
    server = s.serve(nf.HttpServer(nf.litellm(), tls=pki.server_context("127.0.0.1")))
    return Scenario(f"https://127.0.0.1:{server.port}")  # type: ignore[attr-defined]


def plugins(canary: str, tmp: Path, s: Servers) -> Scenario:
    """A plugin check that raises with the key in its message, one that returns it everywhere."""
    site = install_plugin(tmp / "site", "labplugin", LAB_PLUGIN, {"lab": "labplugin:CHECKS"})
    s.standin.add(canary, Account())
    return Scenario(s.standin.base_url, env={"PYTHONPATH": str(site)})


def key_from_file(canary: str, tmp: Path, s: Servers) -> Scenario:
    path = tmp / "key.txt"
    path.write_text(canary + "\n")
    return Scenario(s.standin.base_url, args=("--api-key-file", str(path)), key_in_env=False)


def key_from_stdin(canary: str, tmp: Path, s: Servers) -> Scenario:
    return Scenario(s.standin.base_url, args=("--api-key-file", "-"), stdin=canary + "\n",
                    key_in_env=False)


def malformed_key(canary: str, tmp: Path, s: Servers) -> Scenario:
    """The key with a stray quote and a space, as pasted from a web page."""
    return Scenario(s.standin.base_url, env={"OPENAI_API_KEY": f"'{canary} "}, key_in_env=False)


def repeated(canary: str, tmp: Path, s: Servers) -> Scenario:
    s.standin.add(canary, Account())
    return Scenario(s.standin.base_url, args=("--repeat", "2", "--interval", "0"))


class _Stopper:
    def __init__(self, stop: Callable[[], None]) -> None:
        self.close = stop


SCENARIOS: dict[str, Setup] = {f.__name__: f for f in (
    healthy, invalid_key_echoed, expired_key_in_param, blocked, ip_gate, budget_exceeded,
    echo_everywhere, echo_in_html, server_error, stalled, refused, nxdomain, tls_untrusted,
    plugins, key_from_file, key_from_stdin, malformed_key, repeated,
)}


@pytest.fixture
def servers(standin_gateway: StandinGateway) -> Iterator[Servers]:
    built = Servers(standin_gateway)
    try:
        yield built
    finally:
        for closer in built.closers:
            closer.close()  # type: ignore[attr-defined]


@pytest.mark.parametrize("mode", ["console", "json"])
@pytest.mark.parametrize("name", list(SCENARIOS))
def test_no_byte_of_the_key_anywhere(servers: Servers, tmp_path: Path, name: str, mode: str) -> None:
    canary = new_canary()
    scenario = SCENARIOS[name](canary, tmp_path, servers)
    seen = run_everywhere(scenario, canary, tmp_path, json_mode=mode == "json")
    assert seen.run.code in (0, 1), seen.run.stderr[-2000:]
    assert "Traceback" not in seen.run.stderr  # (a crashed check's scrubbed traceback is in its data)
    assert leaks(canary, seen.everything) == []
    written = [p for p in seen.files if p.endswith(REPORTS)]
    assert len(written) >= 4, seen.files.keys()


def test_the_echoing_server_really_echoes(servers: Servers, tmp_path: Path) -> None:
    """The scenario proves something only if the key came back in the answer."""
    canary = new_canary()
    scenario = echo_everywhere(canary, tmp_path, servers)
    run_everywhere(scenario, canary, tmp_path, json_mode=True)
    echo = servers.closers[-1]
    assert any(s.headers.get("authorization") == f"Bearer {canary}" for s in echo.seen)  # type: ignore[attr-defined]


def test_the_key_reached_the_crashing_plugin(servers: Servers, tmp_path: Path) -> None:
    canary = new_canary()
    seen = run_everywhere(plugins(canary, tmp_path, servers), canary, tmp_path, json_mode=True)
    checks = {c["id"]: c for c in seen.run.json()["checks"]}
    assert checks["lab.crash"]["status"] == "error"
    assert "Bearer sk-" in checks["lab.crash"]["summary"]  # the message is kept, the key is not
    assert leaks(canary, seen.everything) == []


def test_the_default_report_has_no_key(servers: Servers, tmp_path: Path, home: Path) -> None:
    canary = new_canary()
    servers.standin.add(canary, Account())
    run = run_doctor("--base-url", servers.standin.base_url, "-v", home=home,
                     env={"CBORG_API_KEY": canary})
    path = Path(run.stdout.strip().splitlines()[-1].removeprefix("Report: "))
    assert path.is_file()
    assert leaks(canary, path.read_bytes() + run.output.encode()) == []
