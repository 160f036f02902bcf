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
import json
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
import time
started = time.perf_counter()
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
print(time.perf_counter() - started)
"""


def timed(command: list[str], env: dict[str, str]) -> tuple[float, str]:
    """Wall time of one fresh process, and what it printed."""
    start = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, timeout=120, check=False,
                          text=True)
    return time.perf_counter() - start, done.stdout


def median(runs: int, once: Callable[[], float]) -> float:
    return statistics.median(once() for _ in range(runs))


def inner_seconds(output: str) -> float:
    """The run's own duration: the report's duration_ms, or the bare script's figure."""
    try:
        return float(json.loads(output)["duration_ms"]) / 1000
    except (ValueError, KeyError, TypeError):
        return float(output.strip().splitlines()[-1])


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

    def command(self, port: int) -> list[str]:
        return [sys.executable, "-m", "cborg_doctor", "--json", "--no-report", "--only", "egress",
                "--base-url", f"https://{NAME}:{port}", "--nameserver", self.dns.arg,
                "--timeout", str(self.timeout)]

    def doctor(self, port: int) -> tuple[float, float]:
        """Median wall time of the whole process, and median duration the report states."""
        runs = [timed(self.command(port), self.env) for _ in range(self.runs)]
        return (statistics.median(t for t, _ in runs),
                statistics.median(inner_seconds(out) for _, out in runs))

    def close(self) -> None:
        self.dns.stop()
        for closer in self.closers:
            closer.close()  # type: ignore[attr-defined]


def healthy(bench: Bench) -> None:
    port = bench.serve(nf.litellm(), "127.0.0.1")
    bench.serve(nf.litellm(), "::1", port)
    bench.dns.zone[NAME] = {"A": ["127.0.0.1"], "AAAA": ["::1"]}
    bare_command = [sys.executable, "-c", BARE, NAME, str(port), bench.dns.host,
                    str(bench.dns.port)]
    doctor = [timed(bench.command(port), bench.env) for _ in range(bench.runs)]
    bare = [timed(bare_command, bench.env) for _ in range(bench.runs)]
    wall_d = statistics.median(t for t, _ in doctor)
    wall_b = statistics.median(t for t, _ in bare)
    own_d = statistics.median(inner_seconds(out) for _, out in doctor)
    own_b = statistics.median(inner_seconds(out) for _, out in bare)
    print(f"healthy, whole process doctor {wall_d:6.2f} s   bare httpx {wall_b:6.2f} s   "
          f"ratio {wall_d / wall_b:4.2f}×   (target ≤ 1.3×)")
    print(f"healthy, after start-up doctor {own_d:6.2f} s   bare httpx {own_b:6.2f} s   "
          f"ratio {own_d / own_b:4.2f}×   (the doctor's checks vs the script's imports+requests)")


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
        took, own = bench.doctor(setup())
        worst = max(worst, took)
        print(f"stalled: {label:20s} {took:6.2f} s   (report says {own:5.2f} s)")
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
    _compare("answering addresses", bench, one_port, many)
    first = nf.FullBacklog("127.0.0.1")
    holes = [first] + [nf.FullBacklog(f"127.0.0.{i}", first.port) for i in range(2, 9)]
    bench.closers.extend(holes)
    _compare("black-holed addresses", bench, first.port, many)


def _compare(label: str, bench: Bench, port: int, many: list[str]) -> None:
    bench.dns.zone[NAME] = {"A": many[:1]}
    single, single_own = bench.doctor(port)
    bench.dns.zone[NAME] = {"A": many}
    eight, eight_own = bench.doctor(port)
    print(f"{label:22s} 1: {single:5.2f} s  8: {eight:5.2f} s  ratio {eight / single:4.2f}×   "
          f"report: {single_own:5.2f} / {eight_own:5.2f} s  ratio {eight_own / single_own:4.2f}×"
          "   (target ≤ 1.2×)")


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
