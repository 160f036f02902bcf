"""How fast the network checks are, against local servers; prints figures, asserts nothing.

    python benchmarks/network.py            # 5 runs each, --timeout 2
    python benchmarks/network.py --runs 3 --timeout 1

1. healthy run (`--only egress`: dns, net.ipv4/6, tls, http, egress) vs a bare httpx
   script making the same requests (DNS query, GET /health/liveliness, GET /cdn-cgi/trace
   over IPv4 and IPv6), both as fresh processes;         target ≤ 1.3×
2. each stalled phase (DNS never answers, SYNs dropped, TLS never completes, no HTTP
   answer, a body that trickles) vs --timeout;           target ≤ 2 × timeout + 1 s
3. eight IPv4 addresses vs one (all answering; and all black-holed);   target ≤ 1.2×

Everything listens on loopback; the doctor finds it through a DNS server of our own.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests import netfixtures as nf  # noqa: E402
from tests.doctor import clean_env  # noqa: E402

NAME = "gateway.test"

BARE = r"""
import sys, httpx, dns.resolver, dns.nameserver
host, port, ns, ns_port = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
r = dns.resolver.Resolver(configure=False)
r.nameservers = [dns.nameserver.Do53Nameserver(ns, ns_port)]
v4 = r.resolve(host, "A")[0].to_text()
v6 = r.resolve(host, "AAAA")[0].to_text()
for family, address in ((4, v4), (6, v6)):
    local = "0.0.0.0" if family == 4 else "::"
    shown = f"[{address}]" if family == 6 else address
    with httpx.Client(transport=httpx.HTTPTransport(local_address=local)) as client:
        paths = ("/health/liveliness", "/cdn-cgi/trace") if family == 4 else ("/cdn-cgi/trace",)
        for path in paths:
            client.get(f"https://{shown}:{port}{path}", headers={"Host": f"{host}:{port}"},
                       extensions={"sni_hostname": host}).raise_for_status()
"""


def timed(command: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, env=env, capture_output=True, timeout=120, check=False)
    return time.perf_counter() - start


def median(runs: int, once: Callable[[], float]) -> float:
    return statistics.median(once() for _ in range(runs))


class Bench:
    def __init__(self, folder: Path, runs: int, timeout: float) -> None:
        self.folder, self.runs, self.timeout = folder, runs, timeout
        self.pki = nf.make_pki(folder)
        self.dns = nf.DnsServer().start()
        home = folder / "home"
        home.mkdir(exist_ok=True)
        self.env = clean_env(home, SSL_CERT_FILE=str(self.pki.ca_file))
        self.closers: list[object] = []

    def serve(self, handler: nf.Handler | None, host: str, port: int = 0, **kwargs: object) -> int:
        server = nf.HttpServer(handler, host=host, tls=kwargs.pop("tls", self.pki.server_context(NAME)),
                               port=port, **kwargs)  # type: ignore[arg-type]
        self.closers.append(server)
        return server.port

    def doctor(self, port: int, *extra: str) -> float:
        command = [sys.executable, "-m", "cborg_doctor", "--json", "--no-report", "--only", "egress",
                   "--base-url", f"https://{NAME}:{port}", "--nameserver", self.dns.arg,
                   "--timeout", str(self.timeout), *extra]
        return median(self.runs, lambda: timed(command, self.env))

    def close(self) -> None:
        self.dns.stop()
        for closer in self.closers:
            closer.close()  # type: ignore[attr-defined]


def healthy(bench: Bench) -> None:
    port = bench.serve(nf.litellm(), "127.0.0.1")
    bench.serve(nf.litellm(), "::1", port)
    bench.dns.zone[NAME] = {"A": ["127.0.0.1"], "AAAA": ["::1"]}
    doctor = bench.doctor(port)
    host, ns_port = bench.dns.host, bench.dns.port
    bare = median(bench.runs, lambda: timed(
        [sys.executable, "-c", BARE, NAME, str(port), host, str(ns_port)], bench.env))
    print(f"healthy run            doctor {doctor:6.2f} s   bare httpx {bare:6.2f} s   "
          f"ratio {doctor / bare:4.2f}×   (target ≤ 1.3×)")


def stalled(bench: Bench) -> None:
    bound = 2 * bench.timeout + 1
    backlog = nf.FullBacklog("127.0.0.1")
    bench.closers.append(backlog)
    cases: list[tuple[str, Callable[[], int]]] = [
        ("DNS never answers", lambda: _zone(bench, "drop", 443)),
        ("TCP SYNs dropped", lambda: _zone(bench, {"A": ["127.0.0.1"]}, backlog.port)),
        ("TLS never completes", lambda: _zone(bench, {"A": ["127.0.0.1"]},
                                              bench.serve(None, "127.0.0.1", handshake=False))),
        ("no HTTP answer", lambda: _zone(bench, {"A": ["127.0.0.1"]},
                                         bench.serve(nf.stall_after_headers_read(), "127.0.0.1"))),
        ("body trickles", lambda: _zone(bench, {"A": ["127.0.0.1"]}, bench.serve(
            nf.endless_body(chunk=b".", pause=0.05), "127.0.0.1"))),
    ]
    worst = 0.0
    for label, setup in cases:
        took = bench.doctor(setup())
        worst = max(worst, took)
        print(f"stalled: {label:20s} {took:6.2f} s")
    print(f"worst stalled run      {worst:6.2f} s   --timeout {bench.timeout:g} s   "
          f"bound 2×timeout+1 = {bound:g} s   {'within' if worst <= bound else 'OVER'}")


def _zone(bench: Bench, entry: object, port: int) -> int:
    bench.dns.zone[NAME] = entry
    return port


def addresses(bench: Bench) -> None:
    one_port = bench.serve(nf.litellm(), "127.0.0.1")
    for i in range(2, 9):
        bench.serve(nf.litellm(), f"127.0.0.{i}", one_port)
    many = [f"127.0.0.{i}" for i in range(1, 9)]
    bench.dns.zone[NAME] = {"A": ["127.0.0.1"]}
    single = bench.doctor(one_port)
    bench.dns.zone[NAME] = {"A": many}
    eight = bench.doctor(one_port)
    print(f"answering addresses    1: {single:6.2f} s   8: {eight:6.2f} s   "
          f"ratio {eight / single:4.2f}×   (target ≤ 1.2×)")
    first = nf.FullBacklog("127.0.0.1")
    holes = [first] + [nf.FullBacklog(f"127.0.0.{i}", first.port) for i in range(2, 9)]
    bench.closers.extend(holes)
    bench.dns.zone[NAME] = {"A": ["127.0.0.1"]}
    single = bench.doctor(first.port)
    bench.dns.zone[NAME] = {"A": many}
    eight = bench.doctor(first.port)
    print(f"black-holed addresses  1: {single:6.2f} s   8: {eight:6.2f} s   "
          f"ratio {eight / single:4.2f}×   (target ≤ 1.2×)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--timeout", type=float, default=2.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        for part in (healthy, stalled, addresses):
            bench = Bench(Path(folder), args.runs, args.timeout)
            try:
                part(bench)
            finally:
                bench.close()


if __name__ == "__main__":
    main()
