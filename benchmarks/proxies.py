"""How long the doctor takes behind real proxies, next to the openai SDK; prints figures.

    python benchmarks/proxies.py              # 3 runs each, --timeout 2
    python benchmarks/proxies.py --runs 5 --timeout 1

Scenarios: squid forwarding, squid denying CONNECT, tinyproxy refusing the port, a proxy
that is not running, squid wanting a Basic login, squid ssl-bump and mitmproxy
intercepting. For each: the doctor's wall time (a fresh process, `--only egress,config.proxy`)
and the code it ends with, and the openai SDK's wall time and whether it worked.
Everything is on loopback; missing proxies are reported and skipped.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests import netfixtures as nf  # noqa: E402
from tests import realproxies as rp  # noqa: E402
from tests.doctor import clean_env  # noqa: E402

NAME = "gateway.test"
KEY = "sk-bench" + "x" * 24
HOSTS = {NAME: "127.0.0.1"}


def doctor(port: int, dns: nf.DnsServer, env: dict[str, str], timeout: float, home: Path
           ) -> tuple[float, str]:
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "cborg_doctor", "--json", "--no-report", "--only",
         "egress,config.proxy", "--base-url", f"https://{NAME}:{port}", "--nameserver", dns.arg,
         "--timeout", str(timeout)],
        env=clean_env(home, CBORG_API_KEY=KEY, **env), capture_output=True, text=True, timeout=120)
    elapsed = time.perf_counter() - started
    verdict = (json.loads(proc.stdout).get("verdict") or {}).get("code") if proc.stdout else None
    return elapsed, verdict or "pass"


def sdk(port: int, env: dict[str, str]) -> tuple[float, bool]:
    started = time.perf_counter()
    ran = rp.openai_sdk(f"https://{NAME}:{port}", KEY, env)
    return time.perf_counter() - started, ran.ok


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=2.0)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-proxies-"))
    home = tmp / "home"
    home.mkdir()
    pki = nf.make_pki(tmp)
    org = nf.make_pki(tmp, "org", organization="Example Lab IT")
    dns = nf.DnsServer(zone={NAME: {"A": ["127.0.0.1"], "AAAA": []}}).start()
    gateway = nf.HttpServer(rp.oracle_gateway(KEY), tls=pki.server_context(NAME))
    lab_ca = {"SSL_CERT_FILE": str(pki.ca_file)}
    scenarios: list[tuple[str, Callable[[], Any], Callable[[Any], dict[str, str]]]] = [
        ("squid forwarding", lambda: rp.squid(HOSTS), lambda p: {"HTTPS_PROXY": p.url, **lab_ca}),
        ("squid denies CONNECT", lambda: rp.squid(HOSTS, deny=NAME),
         lambda p: {"HTTPS_PROXY": p.url, **lab_ca}),
        ("tinyproxy ConnectPort 443", lambda: rp.tinyproxy(tmp / "tiny"),
         lambda p: {"HTTPS_PROXY": p.url, **lab_ca}),
        ("proxy not running", lambda: None,
         lambda p: {"HTTPS_PROXY": f"http://127.0.0.1:{nf.closed_port()}", **lab_ca}),
        ("squid wants Basic login", lambda: rp.squid(HOSTS, basic=("alice", "pw-123")),
         lambda p: {"HTTPS_PROXY": p.url, **lab_ca}),
        ("squid ssl-bump (own CA)", lambda: rp.squid(HOSTS, bump_ca=org, bump_key=rp.ca_key_pem(org),
                                                     upstream_ca=pki.ca_file),
         lambda p: {"HTTPS_PROXY": p.url}),
        ("mitmproxy intercepting", lambda: rp.mitmdump(tmp / "mitm", HOSTS),
         lambda p: {"HTTPS_PROXY": p.url}),
    ]
    print(f"{'scenario':28} {'doctor median':>14} {'verdict':>18} {'SDK median':>11} {'SDK works':>10}")
    try:
        for name, start, environment in scenarios:
            try:
                proxy = start()
            except BaseException as exc:  # pytest.skip outside pytest, or a start failure
                print(f"{name:28} skipped: {exc}")
                continue
            try:
                env = environment(proxy)
                runs = [doctor(gateway.port, dns, env, args.timeout, home) for _ in range(args.runs)]
                sdk_runs = [sdk(gateway.port, env) for _ in range(args.runs)]
                print(f"{name:28} {statistics.median(r[0] for r in runs):13.2f}s "
                      f"{runs[0][1]:>18} {statistics.median(r[0] for r in sdk_runs):10.2f}s "
                      f"{sdk_runs[0][1]!s:>10}")
            finally:
                if proxy is not None:
                    proxy.close()
    finally:
        gateway.close()
        dns.stop()


if __name__ == "__main__":
    main()
