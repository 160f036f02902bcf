"""A loopback lab for end-to-end network scenarios: DNS, servers, CA, and the doctor run.

`lab` (a pytest fixture; import `lab_fixture` into a test module) serves `gateway.test` from
its own DNS server and runs the real doctor against it with ``--nameserver``, so
nothing leaves loopback. `Outcome` gives what the user sees: statuses, findings,
exit code, and the whole output for the "key is absent" assertion.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from . import netfixtures as nf
from .doctor import DoctorRun, run_doctor

NAME = "gateway.test"
NETWORK_CHECKS = ("config.base_url", "dns", "net.ipv4", "net.ipv6", "tls", "http", "egress")


@dataclass
class Seen:
    """One doctor run, as the user sees it."""

    run: DoctorRun
    report: dict[str, Any]

    @property
    def code(self) -> int:
        return self.run.code

    @property
    def statuses(self) -> dict[str, str]:
        return {c["id"]: c["status"] for c in self.report["checks"]}

    def check(self, check_id: str) -> dict[str, Any]:
        return next(c for c in self.report["checks"] if c["id"] == check_id)

    def codes(self, check_id: str) -> list[str]:
        return [f["code"] for f in self.check(check_id)["findings"]]

    def finding(self, check_id: str, code: str) -> dict[str, Any]:
        return next(f for f in self.check(check_id)["findings"] if f["code"] == code)

    @property
    def everything(self) -> str:
        return self.run.stdout + self.run.stderr


@dataclass
class Lab:
    tmp: Path
    home: Path
    pki: nf.Pki
    dns: nf.DnsServer
    key: str
    closers: list[Any] = field(default_factory=list)

    def name(self, a: list[str] | None = None, aaaa: list[str] | None = None,
             mode: str | None = None, name: str = NAME) -> None:
        """Set what the DNS server answers for `name` (a mode: nxdomain, servfail, ...)."""
        self.dns.zone[name] = mode if mode else {"A": a or [], "AAAA": aaaa or []}

    def tls(self, *names: str, days_valid: tuple[float, float] = (-1, 365),
            pki: nf.Pki | None = None) -> Any:
        now = datetime.datetime.now(datetime.timezone.utc)
        return (pki or self.pki).server_context(
            *(names or (NAME,)),
            not_before=now + datetime.timedelta(days=days_valid[0]),
            not_after=now + datetime.timedelta(days=days_valid[1]),
        )

    def serve(self, handler: nf.Handler | None, host: str = "127.0.0.1", port: int = 0,
              tls: Any = True, handshake: bool = True, banner: bytes | None = None
              ) -> nf.HttpServer:
        context = self.tls() if tls is True else (tls or None)
        server = nf.HttpServer(handler, host=host, tls=context, port=port, handshake=handshake,
                               banner=banner)
        self.closers.append(server)
        return server

    def gateway(self, handler: nf.Handler | None = None, families: tuple[int, ...] = (4, 6),
                **kwargs: Any) -> int:
        """The same server on 127.0.0.1 and ::1 (one port), named gateway.test in DNS."""
        handler = handler or nf.litellm()
        port = 0
        a, aaaa = [], []
        for family in families:
            host = "127.0.0.1" if family == 4 else "::1"
            if family == 6 and not nf.ipv6_loopback():
                continue
            server = self.serve(handler, host=host, port=port, **kwargs)
            port = server.port
            (a if family == 4 else aaaa).append(host)
        self.name(a, aaaa)
        return port

    def doctor(self, *args: str, port: int | None = None, base_url: str | None = None,
               only: str = "egress", env: dict[str, str] | None = None, timeout: float = 1.0,
               trust_lab_ca: bool = True, nameserver: str | None = None) -> Seen:
        url = base_url or f"https://{NAME}:{port}"
        full_env = {"CBORG_API_KEY": self.key}
        if trust_lab_ca:
            full_env["SSL_CERT_FILE"] = str(self.pki.ca_file)
        full_env.update(env or {})
        run = run_doctor(
            "--json", "--no-report", "--only", only, "--base-url", url,
            "--nameserver", nameserver or self.dns.arg, "--timeout", str(timeout), *args,
            home=self.home, env=full_env, timeout=60,
        )
        assert run.stdout.strip(), run.stderr
        seen = Seen(run, run.json())
        assert self.key not in seen.everything
        return seen


@pytest.fixture(name="lab")
def lab_fixture(tmp_path: Path, home: Path, canary_key: str) -> Iterator[Lab]:
    """Import `lab_fixture` into a test module to use the `lab` fixture there."""
    dns = nf.DnsServer().start()
    built = Lab(tmp_path, home, nf.make_pki(tmp_path), dns, canary_key)
    try:
        yield built
    finally:
        dns.stop()
        for closer in built.closers:
            closer.close()


def expect(seen: Seen, wanted: dict[str, str]) -> None:
    """Exact statuses of the network checks (and of any other check named in `wanted`),
    and the exit code and report status they imply (--fail-on fail)."""
    got = {k: v for k, v in seen.statuses.items() if k in wanted or k in NETWORK_CHECKS}
    assert got == wanted, [(c["id"], c["status"], c["summary"], c["findings"])
                           for c in seen.report["checks"]]
    failed = "fail" in seen.statuses.values()
    assert seen.code == (1 if failed else 0), seen.everything[-2000:]
    worst = next((s for s in ("fail", "warn") if s in seen.statuses.values()), "pass")
    assert seen.report["status"] == worst
    if not failed and worst == "pass":
        assert seen.report["verdict"] is None


def statuses(root: str | None = None, status: str = "fail", **others: str) -> dict[str, str]:
    """Network checks before `root` pass, `root` has `status`, checks after it skip.

    `others` overrides single checks (``net_ipv6="warn"``; _ stands for .).
    """
    out: dict[str, str] = {}
    reached = False
    for check_id in NETWORK_CHECKS:
        if check_id == root:
            out[check_id], reached = status, True
        else:
            out[check_id] = "skip" if reached and status == "fail" else "pass"
    for key, value in others.items():
        out[key.replace("_", ".", 1) if key.startswith("net_") else key] = value
    return out
