"""`lab.proxy`: the lab's internal proxy ($LAB_PROXY_URL) answers and tunnels to CBorg.

An example of a third-party check. It imports nothing from cborg-doctor but
`cborg_doctor.api`; its finding codes carry their own fix text (so
`cborg-doctor --explain LAB_PROXY_DOWN` prints it); it needs `config.base_url`,
whose result tells it which gateway to ask the proxy for.
"""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

from cborg_doctor.api import Check, Code, Outcome, RunContext, Severity

ADMIN = "your lab's computing contact"

LAB_PROXY_INVALID = Code(
    "LAB_PROXY_INVALID", Severity.FAIL, "LAB_PROXY_URL={url!r} is not a proxy URL like http://host:port.",
    fix=("Set it to the address your lab gives, e.g. `export LAB_PROXY_URL=http://proxy.lab.example:3128`.",),
    explain="The check reads the lab proxy's address from $LAB_PROXY_URL.",
)
LAB_PROXY_DOWN = Code(
    "LAB_PROXY_DOWN", Severity.FAIL, "The lab proxy {proxy} does not answer: {reason}.",
    fix=(
        "Connect to LBLnet or the lab VPN first: the lab proxy is only reachable from inside.",
        f"If you are inside, ask {ADMIN} whether {{proxy}} has moved or is down.",
    ),
    explain="A TCP connection to the proxy failed (refused, timed out, or its name did not resolve).",
)
LAB_PROXY_DENIED = Code(
    "LAB_PROXY_DENIED", Severity.FAIL, "The lab proxy {proxy} will not tunnel to {target}: {status}.",
    fix=(f"Ask {ADMIN} to allow CONNECT to {{target}} on {{proxy}}.",),
    explain="The proxy answered, but refused the CONNECT request for the gateway.",
)


def run(ctx: RunContext) -> Outcome:
    url = ctx.env.get("LAB_PROXY_URL", "").strip()
    if not url:
        return Outcome("LAB_PROXY_URL is not set", skipped_because="LAB_PROXY_URL is not set")
    parts = urlsplit(url if "://" in url else f"http://{url}")
    try:
        host, port = parts.hostname, parts.port or 3128
    except ValueError:
        host = None
    if parts.scheme != "http" or not host:
        return Outcome("bad LAB_PROXY_URL", [LAB_PROXY_INVALID.finding(url=url)])
    proxy, target = f"{host}:{port}", f"{ctx.target.host}:{ctx.target.port}"
    facts = {"proxy": proxy, "target": target}
    try:
        with socket.create_connection((host, port), timeout=ctx.timeout) as conn:
            conn.sendall(f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n".encode())
            status = conn.recv(1024).split(b"\r\n", 1)[0].decode("latin-1").strip()
    except OSError as exc:
        reason = "timed out" if isinstance(exc, TimeoutError) else (exc.strerror or str(exc))
        return Outcome(f"{proxy} does not answer", [LAB_PROXY_DOWN.finding(proxy=proxy, reason=reason)], facts)
    if status.split(" ")[1:2] != ["200"]:
        finding = LAB_PROXY_DENIED.finding(proxy=proxy, target=target, status=status or "no answer")
        return Outcome(f"{proxy} refused the tunnel", [finding], {**facts, "status": status})
    return Outcome(f"{proxy} tunnels to {target}", data={**facts, "status": status})


CHECK = Check(
    id="lab.proxy",
    title="Lab proxy",
    run=run,
    needs=("config.base_url",),
    codes=(LAB_PROXY_INVALID, LAB_PROXY_DOWN, LAB_PROXY_DENIED),
    description="the lab's internal proxy answers and tunnels to the gateway",
)
