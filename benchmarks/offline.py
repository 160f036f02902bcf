"""How long the doctor takes to say "no network" or "DNS does not answer"; prints, asserts nothing.

    sudo python benchmarks/offline.py                 # 3 runs each, --timeout 2
    sudo python benchmarks/offline.py --runs 5 --timeout 1

Each scenario is a network namespace made here (root and `ip netns` needed), with its
own /etc/netns/<ns>/resolv.conf; packets go nowhere but a dummy interface:

1. only loopback                                   → NETWORK_DOWN
2. an address, no route out                        → NETWORK_DOWN
3. a default route, the name server drops queries  → DNS_TIMEOUT   target ≤ 2 × timeout + 1 s
4. a default route, nothing on 127.0.0.1:53        → DNS_FAILED

For each: the doctor's wall time (fresh process, `--only egress`), its verdict, and the
wall time of CBorg's OpenAI SDK example (timeout 3 s, no retries) in the same namespace.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

SDK = r"""
import os
from openai import OpenAI
try:
    OpenAI(api_key="sk-benchmark-not-a-key-000000", base_url="https://api.cborg.lbl.gov",
           timeout=3.0, max_retries=0).models.list()
except Exception as exc:
    print(type(exc).__name__)
"""


def sh(*cmd: str) -> None:
    subprocess.run(cmd, check=True, capture_output=True, timeout=30)


def build(ns: str, scenario: str) -> None:
    """`ns` (with a peer namespace `ns`p on a veth link unless only loopback is wanted)."""
    sh("ip", "netns", "add", ns)
    sh("ip", "-n", ns, "link", "set", "lo", "up")
    server = "10.231.77.53"
    if scenario != "loopback":
        peer = f"{ns}p"
        sh("ip", "netns", "add", peer)
        sh("ip", "-n", ns, "link", "add", "eth0", "type", "veth", "peer", "name", "eth0",
           "netns", peer)
        sh("ip", "-n", ns, "addr", "add", "10.231.5.2/24", "dev", "eth0")
        sh("ip", "-n", peer, "addr", "add", "10.231.5.1/24", "dev", "eth0")
        sh("ip", "-n", ns, "link", "set", "eth0", "up")
        sh("ip", "-n", peer, "link", "set", "eth0", "up")
    if scenario in ("drop", "closed"):
        sh("ip", "-n", ns, "route", "add", "default", "via", "10.231.5.1")
        server = "10.231.5.1" if scenario == "drop" else "127.0.0.1"
    if scenario == "drop":  # the peer swallows DNS queries
        subprocess.run(["ip", "netns", "exec", f"{ns}p", "nft", "-f", "-"], check=True,
                       input="table inet bench { chain dns_in { type filter hook input priority 0; "
                       "udp dport 53 drop; }; }\n", text=True, capture_output=True, timeout=30)
    etc = Path("/etc/netns") / ns
    etc.mkdir(parents=True, exist_ok=True)
    (etc / "resolv.conf").write_text(f"nameserver {server}\noptions timeout:1 attempts:1\n")
    (etc / "hosts").write_text("127.0.0.1 localhost\n")


def timed(cmd: list[str]) -> tuple[float, str]:
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    return time.perf_counter() - start, proc.stdout


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=2.0)
    args = parser.parse_args()
    if shutil.which("ip") is None:
        sys.exit("needs iproute2 and root")
    bound = 2 * args.timeout + 1
    print(f"--timeout {args.timeout:g} (one check's bound {bound:g} s), {args.runs} runs each")
    print(f"{'scenario':10} {'doctor median':>14} {'max':>7}  {'verdict':14} {'SDK median':>11}")
    for scenario in ("loopback", "no_route", "drop", "closed"):
        ns = f"cdbench{uuid.uuid4().hex[:6]}"
        try:
            build(ns, scenario)
            doctor = ["ip", "netns", "exec", ns, sys.executable, "-m", "cborg_doctor", "--json",
                      "--no-report", "--only", "egress", "--timeout", f"{args.timeout:g}"]
            times, verdict = [], "?"
            for _ in range(args.runs):
                seconds, out = timed(doctor)
                times.append(seconds)
                verdict = (json.loads(out).get("verdict") or {}).get("code", "none")
            sdk = [timed(["ip", "netns", "exec", ns, sys.executable, "-c", SDK])[0]
                   for _ in range(args.runs)]
            print(f"{scenario:10} {statistics.median(times):13.2f}s {max(times):6.2f}s  "
                  f"{verdict:14} {statistics.median(sdk):10.2f}s")
        finally:
            for name in (ns, f"{ns}p"):
                subprocess.run(["ip", "netns", "del", name], capture_output=True, timeout=30)
            shutil.rmtree(Path("/etc/netns") / ns, ignore_errors=True)


if __name__ == "__main__":
    main()
