"""`--repeat N --interval S` and the timing waterfall, against real loopback servers."""

from __future__ import annotations

import itertools
import json
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cborg_doctor_checks.repeat.rounds import Attempt, Rounds, percentile, summarize

import cborg_doctor
from cborg_doctor.check import CheckResult
from cborg_doctor.findings import Status
from cborg_doctor.report import Report
from cborg_doctor.waterfall import bars
from tests import netfixtures as nf
from tests.doctor import clean_env, run_doctor
from tests.standin_gateway import (
    Account,
    StandinGateway,
    happy_key_info,
    standin_gateway_fixture,  # noqa: F401  (the standin_gateway fixture)
)
from tests.terminal import run_on_terminal

HOST = "gateway.test"


@pytest.fixture
def pki(tmp_path: Path) -> nf.Pki:
    return nf.make_pki(tmp_path)


def dns_for(*addresses: str) -> nf.DnsServer:
    records = {"A": [a for a in addresses if ":" not in a], "AAAA": [a for a in addresses if ":" in a]}
    return nf.DnsServer({HOST: records}).start()


@pytest.fixture
def dns4() -> Iterator[nf.DnsServer]:
    server = dns_for("127.0.0.1")
    yield server
    server.stop()


def gateway_args(server: nf.HttpServer, dns: nf.DnsServer, *extra: str) -> list[str]:
    return ["--only", "config.base_url", "--base-url", f"https://{HOST}:{server.port}",
            "--nameserver", dns.arg, "--timeout", "2", *extra]


def every_nth_fails(n: int, status: int = 503, headers: dict[str, str] | None = None) -> nf.Handler:
    """The gateway, except that every n-th request gets `status`."""
    counter = itertools.count(1)
    healthy = nf.litellm()

    def handle(request: nf.Request, conn: socket.socket) -> None:
        if next(counter) % n == 0:
            nf.respond(conn, status, "busy", headers)
        else:
            healthy(request, conn)

    return handle


def repeat_entry(report: dict[str, Any]) -> dict[str, Any]:
    entry = report["checks"][-1]
    assert entry["id"] == "repeat"
    return entry


def test_stable_gateway(home: Path, pki: nf.Pki, dns4: nf.DnsServer, canary_key: str) -> None:
    with nf.serving(nf.litellm(), tls=pki.server_context(HOST)) as server:
        run = run_doctor(*gateway_args(server, dns4, "--repeat", "5", "--interval", "0", "--json", "--no-report"),
                         home=home, env={"SSL_CERT_FILE": str(pki.ca_file), "CBORG_API_KEY": canary_key})
        seen = list(server.requests)
    assert run.code == 0, run.output
    entry = repeat_entry(run.json())
    assert entry["status"] == "pass"
    assert [f["code"] for f in entry["findings"]] == ["NETWORK_STABLE"]
    assert entry["summary"] == "5 rounds × 1 probe: no failure"
    phases = entry["data"]["phases"]
    assert set(phases) == {"dns", "connect", "tls", "ttfb", "total"}
    for stats in phases.values():
        assert stats["attempts"] == 5 and stats["failed"] == 0 and stats["rate"] == 0
        assert stats["p50"] <= stats["p95"] <= stats["max"]
    assert len(seen) == 6  # the http check's own request, then one per round
    assert all(r.path == "/health/liveliness" and r.sni == HOST for r in seen)
    assert all("authorization" not in r.headers for r in seen)  # probes never send the key
    assert canary_key not in run.output


def test_intermittent_503s_are_found_with_the_phase_and_the_retry_advice(
    home: Path, pki: nf.Pki, dns4: nf.DnsServer
) -> None:
    env = {"SSL_CERT_FILE": str(pki.ca_file)}
    with nf.serving(every_nth_fails(3), tls=pki.server_context(HOST)) as server:
        run = run_doctor(*gateway_args(server, dns4, "--repeat", "9", "--interval", "0", "--json", "--no-report"),
                         home=home, env=env)
    assert run.code == 0  # a warning
    report = run.json()
    entry = repeat_entry(report)
    assert entry["status"] == "warn"
    (finding,) = entry["findings"]
    assert finding["code"] == "INTERMITTENT_LOSS"
    assert finding["message"] == "3 of 9 attempts failed (33 %: HTTP 503 × 3) over 9 rounds, mostly in first byte."
    assert entry["data"]["failed_in"] == {"ttfb": 3}
    assert entry["data"]["errors"] == {"ttfb: HTTP 503": 3}
    assert entry["data"]["phases"]["ttfb"] == {**entry["data"]["phases"]["ttfb"], "attempts": 9, "failed": 3}
    assert entry["data"]["phases"]["connect"]["failed"] == 0
    assert report["verdict"]["code"] == "INTERMITTENT_LOSS"
    assert "exponential backoff and jitter, and only on connection errors, 429 and 5xx" in finding["fix"][0]
    assert "```python" in finding["fix"][-1]


def test_fail_on_warn_and_the_console_view(home: Path, pki: nf.Pki, dns4: nf.DnsServer) -> None:
    env = {"SSL_CERT_FILE": str(pki.ca_file), "CI": "true"}
    with nf.serving(every_nth_fails(2), tls=pki.server_context(HOST)) as server:
        run = run_doctor(*gateway_args(server, dns4, "--repeat", "4", "--interval", "0", "--fail-on", "warn",
                                       "--no-report"), home=home, env=env)
    assert run.code == 1
    out = run.stdout
    assert "! repeat" in out and "4 rounds × 1 probe: 2 of 4 failed" in out
    assert "Repeated probes: 4 rounds, every 0 s" in out
    assert re.search(r"first byte\s+4\s+2\s+50 %", out)
    assert "failed in: first byte 2" in out
    assert "what failed: HTTP 503 × 2" in out
    assert "code is in the report, and `cborg-doctor --explain INTERMITTENT_LOSS` prints it" in out
    assert "def create_with_retry" not in out  # code samples stay out of the console
    assert "\x1b" not in run.output and "\r" not in run.output  # CI: no progress bar, no colour


def test_failures_cluster_on_one_family(home: Path, pki: nf.Pki) -> None:
    if not nf.ipv6_loopback():
        pytest.skip("no IPv6 loopback here")
    dns = dns_for("127.0.0.1", "::1")
    try:
        with nf.serving(nf.litellm(), tls=pki.server_context(HOST)) as server:  # IPv4 only: ::1 refuses
            run = run_doctor(*gateway_args(server, dns, "--repeat", "4", "--interval", "0", "--json", "--no-report"),
                             home=home, env={"SSL_CERT_FILE": str(pki.ca_file)})
    finally:
        dns.stop()
    entry = repeat_entry(run.json())
    (finding,) = entry["findings"]
    assert finding["code"] == "INTERMITTENT_LOSS"
    assert finding["message"] == (
        "4 of 8 attempts failed (50 %: connection refused × 4) over 4 rounds, mostly in TCP connect; all on IPv6 "
        "(4 of 4 failed, the other family none); all on one address, ::1."
    )
    assert any(step.startswith("Failures cluster on IPv6") for step in finding["fix"])
    assert entry["data"]["cluster"] == {"family": "IPv6", "address": "::1"}
    assert entry["data"]["by_family"] == {"IPv4": {"attempts": 4, "failed": 0}, "IPv6": {"attempts": 4, "failed": 4}}


def only_the_first_answers(status: int = 503) -> nf.Handler:
    """The gateway for the http check's request, then `status` for every later one."""
    counter = itertools.count()
    healthy = nf.litellm()

    def handle(request: nf.Request, conn: socket.socket) -> None:
        if next(counter) == 0:
            healthy(request, conn)
        else:
            nf.respond(conn, status, "busy")

    return handle


def test_every_attempt_failing_is_a_failure_not_intermittent(home: Path, pki: nf.Pki,
                                                              dns4: nf.DnsServer) -> None:
    with nf.serving(only_the_first_answers(), tls=pki.server_context(HOST)) as server:
        run = run_doctor(*gateway_args(server, dns4, "--repeat", "3", "--interval", "0", "--json",
                                       "--no-report"),
                         home=home, env={"SSL_CERT_FILE": str(pki.ca_file)})
    assert run.code == 1
    report = run.json()
    entry = repeat_entry(report)
    assert entry["status"] == "fail"
    assert entry["findings"][0]["code"] == "REPEAT_ALL_FAILED"
    assert entry["findings"][0]["message"].startswith("Every attempt failed (3 attempts over 3 rounds)")
    assert "503" in entry["findings"][0]["message"]
    assert report["verdict"]["code"] == "REPEAT_ALL_FAILED"


def test_repeat_waits_for_a_path_that_worked_once(home: Path) -> None:
    """The contract's `needs http`: when the path never worked, the failing check is the
    root cause and the rounds are skipped, naming it."""
    port = nf.closed_port()
    run = run_doctor("--only", "config.base_url", "--base-url", f"https://127.0.0.1:{port}", "--repeat", "3",
                     "--interval", "0", "--json", "--no-report", home=home)
    assert run.code == 1
    report = run.json()
    entry = repeat_entry(report)
    assert entry["status"] == "skip"
    assert entry["skipped_because"].startswith("needs http")
    assert report["verdict"]["code"] == "TCP_REFUSED"


@pytest.mark.parametrize(
    ("args", "says"),
    [(["--repeat", "0"], "--repeat '0'"), (["--repeat", "x"], "--repeat 'x'"),
     (["--repeat", "3", "--interval", "-1"], "--interval '-1'"), (["--interval", "2"], "--interval needs --repeat N")],
)
def test_bad_repeat_options_are_usage_errors(home: Path, args: list[str], says: str) -> None:
    run = run_doctor("--only", "config.key", *args, home=home)
    assert run.code == 2 and says in run.stderr and run.stdout == ""


def test_ctrl_c_during_the_rounds_keeps_what_was_seen(home: Path, tmp_path: Path, pki: nf.Pki,
                                                      dns4: nf.DnsServer) -> None:
    report_path = tmp_path / "r.json"
    with nf.serving(nf.litellm(), tls=pki.server_context(HOST)) as server:
        proc = subprocess.Popen(
            [sys.executable, "-m", "cborg_doctor",
             *gateway_args(server, dns4, "--repeat", "10000", "--interval", "0.05", "--report", str(report_path))],
            env=clean_env(home, SSL_CERT_FILE=str(pki.ca_file)), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 60
        while len(server.requests) < 3 and time.monotonic() < deadline:  # rounds are under way
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        stdout, _ = proc.communicate(timeout=60)
    assert proc.returncode == 130
    entry = repeat_entry(json.loads(report_path.read_text()))
    assert "interrupted after" in entry["summary"] and "of 10000 rounds" in entry["summary"]
    assert entry["data"]["rounds"] >= 2  # the third may have been cut short
    assert "Repeated probes" in stdout


def test_diagnose_repeat_from_python(pki: nf.Pki, dns4: nf.DnsServer) -> None:
    with nf.serving(nf.litellm(), tls=pki.server_context(HOST)) as server:
        report = cborg_doctor.diagnose(only="config.base_url", base_url=f"https://{HOST}:{server.port}",
                                       nameservers=[dns4.arg], timeout=2, repeat=2, interval=0,
                                       env={"SSL_CERT_FILE": str(pki.ca_file)})
    assert report.checks[-1].id == "repeat" and report.checks[-1].status == "pass"
    with pytest.raises(ValueError, match="repeat -1"):
        cborg_doctor.diagnose(env={}, repeat=-1)


# ----- the retry code the INTERMITTENT_LOSS fix recommends --------------------------------


def retry_sample() -> str:
    from cborg_doctor_checks.repeat.check import INTERMITTENT_LOSS

    step = INTERMITTENT_LOSS.fix[-1]
    return step.split("```python\n", 1)[1].split("```", 1)[0]


COMPLETION = json.dumps({
    "id": "x", "object": "chat.completion", "created": 0, "model": "lbl/llama",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}],
})


class Sleeps(list):  # type: ignore[type-arg]
    """Stands in for `time` in the sample's namespace: records the backoff instead of waiting."""

    def sleep(self, seconds: float) -> None:
        self.append(seconds)


def load_sample(monkeypatch: pytest.MonkeyPatch, port: int) -> tuple[Any, Sleeps]:
    openai = pytest.importorskip("openai")
    monkeypatch.setenv("CBORG_API_KEY", "sk-sample" + "s" * 20)
    namespace: dict[str, Any] = {}
    exec(compile(retry_sample(), "retry_sample", "exec"), namespace)
    namespace["client"] = openai.OpenAI(base_url=f"http://127.0.0.1:{port}", api_key="sk-sample" + "s" * 20,
                                        max_retries=0)
    sleeps = Sleeps()
    namespace["time"] = sleeps
    return namespace["create_with_retry"], sleeps


def scripted(*answers: tuple[int, dict[str, str]] | None) -> nf.Handler:
    """Answers in order (None: close the connection without answering), then the completion."""
    queue = list(answers)

    def handle(request: nf.Request, conn: socket.socket) -> None:
        answer = queue.pop(0) if queue else (200, {})
        if answer is None:
            return
        status, headers = answer
        nf.respond(conn, status, COMPLETION if status == 200 else '{"error": {"message": "x"}}',
                   {"content-type": "application/json", **headers})

    return handle


def test_retry_sample_backs_off_on_5xx_429_and_lost_connections(monkeypatch: pytest.MonkeyPatch) -> None:
    handler = scripted((503, {}), None, (429, {"retry-after": "7"}), (502, {}))
    with nf.serving(handler) as server:
        create, sleeps = load_sample(monkeypatch, server.port)
        reply = create(model="lbl/llama", messages=[{"role": "user", "content": "hi"}])
        assert len(server.requests) == 5
    assert reply.choices[0].message.content == "hi"
    assert len(sleeps) == 4
    assert 0 <= sleeps[0] <= 1 and 0 <= sleeps[1] <= 2 and 0 <= sleeps[3] <= 8  # exponential, jittered
    assert sleeps[2] >= 7  # never sooner than the server's Retry-After


def test_retry_sample_does_not_retry_what_cannot_succeed(monkeypatch: pytest.MonkeyPatch) -> None:
    openai = pytest.importorskip("openai")
    with nf.serving(scripted((401, {}), (401, {}))) as server:
        create, sleeps = load_sample(monkeypatch, server.port)
        with pytest.raises(openai.AuthenticationError):
            create(model="lbl/llama", messages=[{"role": "user", "content": "hi"}])
        assert len(server.requests) == 1
    assert sleeps == []


def test_retry_sample_gives_up_after_its_attempts(monkeypatch: pytest.MonkeyPatch) -> None:
    openai = pytest.importorskip("openai")
    create, sleeps = load_sample(monkeypatch, nf.closed_port())
    with pytest.raises(openai.APIConnectionError):
        create(model="lbl/llama", messages=[{"role": "user", "content": "hi"}])
    assert len(sleeps) == 5
    assert all(0 <= s <= min(60, 2 ** n) for n, s in enumerate(sleeps))


# ----- statistics and the waterfall, from data ---------------------------------------------


def test_percentiles_are_measured_values() -> None:
    assert percentile([4, 1, 3, 2], 50) == 2
    assert percentile([1, 2, 3, 4], 95) == 4
    assert percentile(list(range(1, 101)), 95) == 95
    assert percentile([7.5], 50) == 7.5


def test_one_address_failing_is_a_cluster_two_failing_is_not() -> None:
    attempts = [Attempt(1, {"connect": 1.0, "tls": 1.0, "ttfb": 1.0, "total": 3.0}, address="10.0.0.1", family="IPv4"),
                Attempt(1, {}, "connect", "timeout", "10.0.0.2", "IPv4"),
                Attempt(2, {"connect": 1.0, "tls": 1.0, "ttfb": 1.0, "total": 3.0}, address="10.0.0.1", family="IPv4"),
                Attempt(2, {}, "connect", "timeout", "10.0.0.2", "IPv4")]
    stats = summarize(Rounds(2, 0.0, attempts, done=2))
    assert stats["cluster"] == {"address": "10.0.0.2"}
    assert stats["phases"]["connect"] == {"attempts": 4, "failed": 2, "rate": 0.5, "p50": 1.0, "p95": 1.0, "max": 1.0}
    attempts[0] = Attempt(1, {"connect": 1.0}, "tls", "tls", "10.0.0.1", "IPv4")
    assert summarize(Rounds(2, 0.0, attempts, done=2))["cluster"] == {}


def network_report() -> Report:
    def result(check_id: str, data: dict[str, Any], status: Status = Status.PASS) -> CheckResult:
        return CheckResult(check_id, check_id, status, 1, "", data=data)

    return Report(
        created="2026-11-25T19:00:00Z", duration_ms=300, target={"base_url": "https://api.cborg.lbl.gov"},
        key={}, environment={},
        checks=(
            result("dns", {"primary": {"ms": 20.0}}),
            result("net.ipv4", {"results": [{"address": "104.18.1.1", "ok": True, "ms": 10.0},
                                            {"address": "104.18.1.2", "ok": True, "ms": 12.0}]}),
            result("net.ipv6", {"results": [{"address": "2606::1", "ok": False, "ms": 5000.0, "error": "timeout"}]},
                   Status.WARN),
            result("http", {"timings": {"connect": 10.0, "tls": 40.0, "ttfb": 130.0, "total": 180.0}}),
        ),
    )


def test_waterfall_rows_follow_the_request() -> None:
    rows = [(b.label, b.start, b.ms, b.note) for b in bars(network_report())]
    assert rows == [("DNS", 0.0, 20.0, ""), ("TCP IPv4", 20.0, 10.0, ""), ("TCP IPv6", 20.0, None, "timeout"),
                    ("TLS", 30.0, 40.0, ""), ("First byte", 70.0, 130.0, "")]


def test_waterfall_in_the_html_report() -> None:
    from cborg_doctor.formats import render
    from cborg_doctor.options import ReportFormat
    from cborg_doctor.secrets import Scrubber

    html = render(network_report(), ReportFormat.HTML, Scrubber(None))
    assert "Timing of one request" in html and "First byte" in html and "✖ timeout" in html
    assert '<div class="bar ttfb" style="left:35.00%;width:65.00%">' in html  # 70 ms + 130 ms of 200


def test_no_waterfall_without_request_timings(home: Path) -> None:
    run = run_doctor("--only", "config.key", "--no-report", home=home)
    assert "Timing of one request" not in run.stdout


def test_waterfall_of_a_real_run(home: Path, pki: nf.Pki, dns4: nf.DnsServer, tmp_path: Path) -> None:
    from cborg_doctor.registry import load_registry

    if load_registry().get("http") is None:
        pytest.skip("the http check is not installed yet")
    html = tmp_path / "r.html"
    with nf.serving(nf.litellm(), tls=pki.server_context(HOST)) as server:
        run = run_doctor("--only", "http", "--base-url", f"https://{HOST}:{server.port}", "--nameserver", dns4.arg,
                         "--timeout", "2", "--report", str(html), home=home,
                         env={"SSL_CERT_FILE": str(pki.ca_file)})
    assert "Timing of one request" in run.stdout
    block = run.stdout.split("Timing of one request", 1)[1].split("\n\n", 1)[0]
    rows = [line.split()[0] for line in block.splitlines()[1:]]
    assert rows[0] == "DNS" and "TCP" in rows and "TLS" in rows and rows[-1] == "First", block
    assert "Timing of one request" in html.read_text()


def test_live_progress_bar_on_a_terminal(home: Path, pki: nf.Pki, dns4: nf.DnsServer) -> None:
    """On a real (pseudo-)terminal the rounds show a progress bar."""
    with nf.serving(nf.litellm(), tls=pki.server_context(HOST)) as server:
        code, text = run_on_terminal(*gateway_args(server, dns4, "--repeat", "5", "--interval", "0.2", "--no-report"),
                                     home=home, env={"SSL_CERT_FILE": str(pki.ca_file)})
    assert code == 0, text
    assert "repeating probes" in text and "/5" in text
    assert "Repeated probes: 5 rounds, every 0.2 s" in text


def test_no_rounds_without_a_usable_base_url(home: Path) -> None:
    run = run_doctor("--only", "config.base_url", "--base-url", "ftp://gateway.test", "--repeat", "3",
                     "--json", "--no-report", home=home)
    entry = repeat_entry(run.json())
    assert entry["status"] == "skip"
    assert entry["skipped_because"].startswith("needs http")
    assert run.json()["verdict"]["code"] == "BASE_URL_INVALID"


def test_repeat_with_live_reruns_the_completion(home: Path, canary_key: str, standin_gateway: StandinGateway) -> None:
    from cborg_doctor.registry import load_registry

    if load_registry().get("http") is None:
        pytest.skip("the network checks that live needs are not registered yet")
    standin_gateway.add(canary_key, Account(key_info=happy_key_info(spend=1.0)))
    run = run_doctor("--only", "live", "--live", "--model", "lbl/cborg-chat", "--base-url", standin_gateway.base_url,
                     "--timeout", "10", "--repeat", "3", "--interval", "0", "--json", "--no-report",
                     home=home, env={"CBORG_API_KEY": canary_key})
    report = run.json()
    live = next(c for c in report["checks"] if c["id"] == "live")
    assert live["status"] == "pass", [(c["id"], c["status"], c["summary"]) for c in report["checks"]]
    phases = repeat_entry(report)["data"]["phases"]
    assert phases["live"]["attempts"] == 3 and phases["live"]["failed"] == 0
    assert phases["connect"]["attempts"] == 3
    assert canary_key not in run.output


def test_explain_knows_the_repeat_codes(home: Path) -> None:
    run = run_doctor("--explain", "intermittent_loss", home=home)
    assert run.code == 0
    assert run.stdout.startswith("INTERMITTENT_LOSS  (warn, raised by --repeat)")
    assert "def create_with_retry" in run.stdout
    assert run_doctor("--explain", "REPEAT_ALL_FAILED", home=home).code == 0
