"""Real corporate proxies as test peers: squid, tinyproxy and mitmproxy, on loopback.

Each is started by the test that needs it (never as a system service), listens on
127.0.0.1 only, and is stopped by its own process id. A missing binary skips the
test, naming the package that provides it. Name resolution stays on loopback: squid
reads its own ``hosts_file``, mitmproxy gets a tiny addon mapping names to 127.0.0.1.

The oracles are here too: the real `openai` SDK (CBorg's documented example, run as
a user script would be) and curl, with the same proxy and CA settings as the doctor.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from . import netfixtures as nf
from .litellm_proxy import free_port

SQUID = "/usr/sbin/squid"
CERTGEN = "/usr/lib/squid/security_file_certgen"
NCSA_AUTH = "/usr/lib/squid/basic_ncsa_auth"
NTLM_FAKE_AUTH = "/usr/lib/squid/ntlm_fake_auth"
START_BOUND = 30.0


def require(path: str | None, package: str) -> str:
    """The binary's path, or skip the test naming the package that provides it."""
    found = path if path and os.path.exists(path) else None
    if found is None and path:
        found = shutil.which(os.path.basename(path))
    if not found:
        pytest.skip(f"{path or 'binary'} not found: install {package}")
    return found


def mitmdump_path() -> str:
    """$CBORG_TEST_MITMDUMP, /opt/mitm-venv/bin/mitmdump, or mitmdump on PATH."""
    for candidate in (os.environ.get("CBORG_TEST_MITMDUMP"), "/opt/mitm-venv/bin/mitmdump",
                      shutil.which("mitmdump")):
        if candidate and os.path.exists(candidate):
            return candidate
    pytest.skip("mitmdump not found: `python3 -m venv /opt/mitm-venv && /opt/mitm-venv/bin/pip "
                "install mitmproxy`, or set CBORG_TEST_MITMDUMP")
    raise AssertionError  # unreachable


def _wait_listening(proc: subprocess.Popen[bytes], port: int, log: Path, ready: Path | None = None,
                    host: str = "127.0.0.1") -> None:
    until = time.monotonic() + START_BOUND
    while time.monotonic() < until:
        if proc.poll() is not None:
            raise RuntimeError(f"proxy exited with {proc.returncode}: {_tail(log)}")
        with contextlib.suppress(OSError), socket.create_connection((host, port), 0.2):
            if ready is None or ready.exists():
                return
        time.sleep(0.1)
    _stop(proc)
    raise RuntimeError(f"proxy did not listen on {port} within {START_BOUND:g} s: {_tail(log)}")


def _tail(log: Path) -> str:
    try:
        return log.read_text(errors="replace")[-1500:]
    except OSError:
        return "(no log)"


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


@dataclass
class RunningProxy:
    """One proxy process on 127.0.0.1:`port`; `ca_file` is its interception CA, if any."""

    name: str
    port: int
    proc: subprocess.Popen[bytes]
    folder: Path
    log: Path
    ca_file: Path | None = None
    own_folder: bool = False
    host: str = "127.0.0.1"
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def address(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.address}"

    def url_with_login(self, user: str, password: str) -> str:
        from urllib.parse import quote

        return f"http://{quote(user, safe='')}:{quote(password, safe='')}@{self.address}"

    def close(self) -> None:
        _stop(self.proc)
        if self.own_folder:
            shutil.rmtree(self.folder, ignore_errors=True)


# ── squid ────────────────────────────────────────────────────────────────────


def _squid_folder() -> Path:
    """Squid started as root runs as `proxy`, which cannot enter pytest's 0700 tmp: its own
    world-readable folder, owned by that user."""
    folder = Path(tempfile.mkdtemp(prefix="cborg-squid-"))
    folder.chmod(0o755)
    return folder


def _hand_to_squid_user(folder: Path) -> None:
    if os.geteuid() != 0:
        return
    with contextlib.suppress(KeyError, OSError):
        import pwd

        user = pwd.getpwnam("proxy")
        for path in [folder, *folder.rglob("*")]:
            os.chown(path, user.pw_uid, user.pw_gid)


def squid(hosts: Mapping[str, str], *, deny: str | None = None,
          basic: tuple[str, str] | None = None, ntlm: bool = False,
          bump_ca: nf.Pki | None = None, bump_key: bytes | None = None,
          upstream_ca: Path | None = None, listen: str = "127.0.0.1") -> RunningProxy:
    """squid on loopback. `hosts` is its hosts_file; `deny` a domain it refuses CONNECT to
    (403 ERR_ACCESS_DENIED); `basic` a user and password (basic_ncsa_auth); `ntlm` offers
    NTLM (ntlm_fake_auth); `bump_ca` with `bump_key` intercepts TLS (ssl-bump), verifying
    the gateway with `upstream_ca`. `listen` is 127.0.0.1 or ::1."""
    binary = require(SQUID, "squid-openssl (Debian)")
    folder = _squid_folder()
    port = free_port()
    bind = f"[{listen}]:{port}" if ":" in listen else f"{listen}:{port}"
    (folder / "hosts").write_text("".join(f"{ip} {name}\n" for name, ip in hosts.items()))
    lines = [
        f"pid_filename {folder}/squid.pid", f"cache_log {folder}/cache.log", "access_log none",
        "cache deny all", "cache_mem 8 MB", f"coredump_dir {folder}",
        "shutdown_lifetime 0 seconds", f"hosts_file {folder}/hosts", "dns_v4_first on",
        "visible_hostname squid.test", "forwarded_for delete",
    ]
    if bump_ca is not None:
        require(CERTGEN, "squid-openssl (Debian)")
        assert bump_key is not None
        (folder / "bump.pem").write_bytes(bump_ca.ca_file.read_bytes() + b"\n" + bump_key)
        subprocess.run([CERTGEN, "-c", "-s", str(folder / "ssl_db"), "-M", "4MB"], check=True,
                       capture_output=True, timeout=30)
        lines += [
            f"http_port {bind} ssl-bump tls-cert={folder}/bump.pem "
            "generate-host-certificates=on dynamic_cert_mem_cache_size=4MB",
            f"sslcrtd_program {CERTGEN} -s {folder}/ssl_db -M 4MB",
            "sslcrtd_children 2 startup=1 idle=1",
            "acl step1 at_step SslBump1", "ssl_bump peek step1", "ssl_bump bump all",
        ]
        if upstream_ca is not None:
            shutil.copy(upstream_ca, folder / "upstream.pem")
            lines.append(f"tls_outgoing_options cafile={folder}/upstream.pem")
    else:
        lines.append(f"http_port {bind}")
    if basic is not None:
        require(NCSA_AUTH, "squid (Debian)")
        hashed = subprocess.run(["openssl", "passwd", "-apr1", basic[1]], check=True,
                                capture_output=True, text=True, timeout=30).stdout.strip()
        (folder / "passwd").write_text(f"{basic[0]}:{hashed}\n")
        lines += [f"auth_param basic program {NCSA_AUTH} {folder}/passwd",
                  "auth_param basic realm corp-proxy", "acl login proxy_auth REQUIRED"]
    if ntlm:
        require(NTLM_FAKE_AUTH, "squid (Debian)")
        lines += [f"auth_param ntlm program {NTLM_FAKE_AUTH}", "auth_param ntlm children 1",
                  "acl login proxy_auth REQUIRED"]
    if deny:
        lines += [f"acl denied dstdomain {deny}", "http_access deny CONNECT denied"]
    if basic is not None or ntlm:
        lines.append("http_access deny !login")
    lines.append("http_access allow all")
    (folder / "squid.conf").write_text("\n".join(lines) + "\n")
    _hand_to_squid_user(folder)
    log = folder / "cache.log"
    proc = subprocess.Popen([binary, "-N", "-f", str(folder / "squid.conf")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL)
    try:
        _wait_listening(proc, port, log, host=listen)
    except RuntimeError:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    ca = folder / "bump-ca.pem" if bump_ca is not None else None
    if ca is not None:
        shutil.copy(bump_ca.ca_file, ca)  # type: ignore[union-attr]
    return RunningProxy("squid", port, proc, folder, log, ca, own_folder=True, host=listen)


# ── tinyproxy ────────────────────────────────────────────────────────────────


def tinyproxy(folder: Path, connect_ports: tuple[int, ...] = (443,)) -> RunningProxy:
    """tinyproxy on loopback that allows CONNECT only to `connect_ports` (ConnectPort)."""
    binary = require(shutil.which("tinyproxy"), "tinyproxy (Debian)")
    port = free_port()
    folder.mkdir(parents=True, exist_ok=True)
    conf = folder / "tinyproxy.conf"
    conf.write_text("\n".join([
        f"Port {port}", "Listen 127.0.0.1", "Timeout 30", "MaxClients 20", "LogLevel Info",
        f"PidFile \"{folder}/tinyproxy.pid\"", *(f"ConnectPort {p}" for p in connect_ports),
    ]) + "\n")
    log = folder / "tinyproxy.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([binary, "-d", "-c", str(conf)], stdout=out,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    _wait_listening(proc, port, log)
    return RunningProxy("tinyproxy", port, proc, folder, log)


# ── mitmproxy ────────────────────────────────────────────────────────────────

ADDON = '''
HOSTS = {hosts!r}


def server_connect(data):
    host, port = data.server.address
    if host in HOSTS:
        data.server.address = (HOSTS[host], port)
'''


def mitmdump(folder: Path, hosts: Mapping[str, str]) -> RunningProxy:
    """mitmproxy as an intercepting proxy with its own CA (made in `folder`/conf)."""
    binary = mitmdump_path()
    port = free_port()
    folder.mkdir(parents=True, exist_ok=True)
    addon = folder / "hosts_addon.py"
    addon.write_text(ADDON.format(hosts=dict(hosts)))
    conf = folder / "conf"
    log = folder / "mitmdump.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [binary, "--listen-host", "127.0.0.1", "-p", str(port), "--set", f"confdir={conf}",
             "-s", str(addon), "--ssl-insecure", "-q"],
            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env={k: v for k, v in os.environ.items() if "proxy" not in k.lower()})
    ca = conf / "mitmproxy-ca-cert.pem"
    _wait_listening(proc, port, log, ready=ca)
    return RunningProxy("mitmproxy", port, proc, folder, log, ca)


# ── the gateway the oracles can use ──────────────────────────────────────────


def oracle_gateway(key: str) -> nf.Handler:
    """LiteLLM behind Cloudflare (nf.litellm) that also lists models at /models and
    /v1/models for the right key, as the OpenAI SDK's `client.models.list()` asks."""
    base = nf.litellm()

    def handle(request: nf.Request, conn: socket.socket) -> None:
        path = request.path.split("?", 1)[0]
        if path not in ("/models", "/v1/models"):
            base(request, conn)
            return
        headers = {**nf.cf_headers(), "content-type": "application/json"}
        if request.headers.get("authorization") != f"Bearer {key}":
            body = {"error": {"message": "Authentication Error, Invalid API key provided.",
                              "type": "auth_error", "param": "None", "code": "401"}}
            nf.respond(conn, 401, json.dumps(body), headers)
            return
        models = {"object": "list", "data": [
            {"id": "lbl/cborg-chat", "object": "model", "created": 1700000000, "owned_by": "lbl"}]}
        nf.respond(conn, 200, json.dumps(models), headers)

    return handle


# ── the oracles ──────────────────────────────────────────────────────────────

SDK_SCRIPT = '''
import os, sys
import openai
client = openai.OpenAI(api_key=os.environ.get("CBORG_API_KEY"), base_url=sys.argv[1],
                       max_retries=0, timeout=float(sys.argv[2]))
try:
    models = client.models.list()
except Exception as exc:
    print("FAIL", type(exc).__name__, str(exc)[:300].replace(os.environ["CBORG_API_KEY"], "<key>"))
    sys.exit(1)
print("OK", ",".join(m.id for m in models.data))
'''

CLEAN = ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "NO_PROXY", "https_proxy", "http_proxy",
         "all_proxy", "no_proxy", "SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE",
         "CURL_CA_BUNDLE", "OPENAI_BASE_URL", "OPENAI_API_KEY")


@dataclass(frozen=True)
class OracleRun:
    ok: bool
    output: str


def _env(key: str, env: Mapping[str, str]) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if k not in CLEAN}
    return {**clean, "CBORG_API_KEY": key, **env}


def openai_sdk(base_url: str, key: str, env: Mapping[str, str], timeout: float = 10) -> OracleRun:
    """CBorg's documented example (`openai.OpenAI(api_key=..., base_url=...)`, then
    `client.models.list()`) with the same HTTPS_PROXY / SSL_CERT_FILE as the doctor."""
    proc = subprocess.run([sys.executable, "-c", SDK_SCRIPT, base_url, str(timeout)],
                          env=_env(key, env),
                          capture_output=True, text=True, timeout=60)
    return OracleRun(proc.returncode == 0 and proc.stdout.startswith("OK"),
                     (proc.stdout + proc.stderr)[-600:])


def curl(url: str, key: str, env: Mapping[str, str], timeout: float = 10) -> OracleRun:
    """curl as users paste it; SSL_CERT_FILE becomes CURL_CA_BUNDLE, curl's own name for it."""
    binary = require(shutil.which("curl"), "curl (Debian)")
    full = _env(key, env)
    if "SSL_CERT_FILE" in env:
        full["CURL_CA_BUNDLE"] = env["SSL_CERT_FILE"]
    proc = subprocess.run([binary, "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--max-time",
                           str(timeout), "-H", f"Authorization: Bearer {key}", url], env=full,
                          capture_output=True, text=True, timeout=60)
    return OracleRun(proc.returncode == 0 and proc.stdout.strip() == "200",
                     (proc.stdout + proc.stderr).replace(key, "<key>")[-600:])


@contextlib.contextmanager
def running(proxy: RunningProxy) -> Iterator[RunningProxy]:
    try:
        yield proxy
    finally:
        proxy.close()


def non_strict_ca(folder: Path, organisation: str = "Example Lab Inspection") -> tuple[nf.Pki, bytes]:
    """A CA whose Basic Constraints extension is not critical (Python 3.13+ rejects it),
    made with cryptography, with trustme's interface for issuing server certificates."""
    import datetime

    import trustme
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
                      x509.NameAttribute(NameOID.COMMON_NAME, f"{organisation} Root CA")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=365))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=False)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                         content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False,
                                         encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                           critical=False)
            .sign(key, hashes.SHA256()))
    pem_key = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    pem_cert = cert.public_bytes(serialization.Encoding.PEM)
    ca = trustme.CA.from_pem(pem_cert, pem_key)  # trustme's issuing, with our certificate
    path = folder / "nonstrict-ca.pem"
    path.write_bytes(pem_cert)
    return nf.Pki(ca, path), pem_key


def ca_key_pem(pki: nf.Pki) -> bytes:
    """The private key of a trustme CA, for squid's ssl-bump."""
    return pki.ca.private_key_pem.bytes()
