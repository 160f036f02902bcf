"""The probe layer: all network I/O of the checks goes through here.

==============  ==============================================================
module          what it does
==============  ==============================================================
``resolve``     getaddrinfo and direct DNS queries (dnspython), ``--nameserver``
``tcp``         connect to one address, or to many at once
``tls``         one handshake with SNI (optionally via CONNECT), peer certificate
                kept even when verification fails
``http``        `request()`: one HTTP request pinned to an address, key rules,
                redirects returned, body capped, time bounded, phase timings
``proxy``       which proxy the user's clients would use (httpx's rules)
``trust``       the CAs the clients trust, certifi, the OS store
``errors``      exception → `Kind` (a str Enum; the map is its docstring)
``cloudflare``  what a Cloudflare answer means and its fix (net.http, gateway.live)
``gatewayanswer`` LiteLLM's answers as plain data: error kinds, key/model shapes
                (the gateway checks, clients.paths)
``together``    run a few bounded probes at once (optionally with one timeout for all)
``family``      which IP family an address is (4/6, ipv4/IPv4, AF_INET/AF_INET6)
``route``       route lookups (platform checks)
==============  ==============================================================

The facts the network checks share (resolved addresses, reachable addresses,
the proxy decision ...) are declared, with their types, in `cborg_doctor.facts`.

Probes import httpx and dnspython lazily, so ``--version`` and ``--list-checks`` stay fast.
"""

import sys
from pathlib import Path


def owns_process() -> bool:
    """Whether this process is the `cborg-doctor` command itself.

    Only then may the probes trim optional features of shared libraries (trio
    detection in httpcore, DoH/DoQ in dnspython) to start faster: inside a
    user's notebook or test session (`diagnose()`, the pytest plugin) those
    libraries belong to the user and are left alone.
    """
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    if spec is not None and str(spec.name).startswith("cborg_doctor"):
        return True
    return Path(sys.argv[0] if sys.argv else "").stem == "cborg-doctor"
