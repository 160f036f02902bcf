"""`--fix` for TLS inspection whose CA the OS trusts and Python's certifi does not.

The "OS trust store" is made real for one process: the doctor runs in a private mount
namespace (`unshare -m`) where the system's CA bundle file is replaced, by a bind mount,
with the system's roots plus the lab's CA. Nothing outside that process sees it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from cborg_doctor.fixes.remedies import os_bundle
from tests.doctor import clean_env
from tests.netscenario import NAME, Lab, lab_fixture  # noqa: F401  (the lab fixture)

pytestmark = pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() != 0 or shutil.which("unshare") is None
    or not sys.platform.startswith("linux") or os_bundle() is None,
    reason="needs root, unshare and a Linux CA bundle file (a private mount namespace)")


def _doctor_trusting_lab_ca_in_the_os(lab: Lab, port: int, *args: str) -> dict:
    system = os_bundle()
    assert system is not None
    fake = lab.tmp / "os-bundle.pem"
    fake.write_bytes(system.resolve().read_bytes() + b"\n" + lab.pki.ca_file.read_bytes())
    doctor = [sys.executable, "-m", "cborg_doctor", "--json", "--no-report", "--only", "tls",
              "--base-url", f"https://{NAME}:{port}", "--nameserver", lab.dns.arg, "--timeout", "2",
              *args]
    script = 'mount --bind "$1" "$2" && shift 2 && exec "$@"'
    run = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", script,
                          "sh", str(fake), str(system.resolve()), *doctor],
                         env=clean_env(lab.home, CBORG_API_KEY=lab.key, SHELL="/bin/bash"),
                         cwd=lab.home, capture_output=True, text=True, timeout=90)
    assert lab.key not in run.stdout + run.stderr
    assert run.stdout.strip(), run.stderr
    return json.loads(run.stdout)


def test_the_org_ca_goes_in_a_bundle_and_ssl_cert_file_in_the_shell(lab: Lab) -> None:
    port = lab.gateway(families=(4,))
    plain = _doctor_trusting_lab_ca_in_the_os(lab, port)
    tls = next(c for c in plain["checks"] if c["id"] == "tls")
    assert [f["code"] for f in tls["findings"]] == ["TLS_INTERCEPTED"]
    assert "OS trust store accepts" in tls["findings"][0]["message"]

    report = _doctor_trusting_lab_ca_in_the_os(lab, port, "--fix", "--yes")
    assert [(f["code"], f["outcome"]) for f in report["fixes"]] == [("TLS_INTERCEPTED", "fixed")], report
    bundle = lab.home / ".config/cborg-doctor/ca-bundle.pem"
    assert lab.pki.ca_file.read_text().strip() in bundle.read_text()
    assert f"export SSL_CERT_FILE={bundle}" in (lab.home / ".bashrc").read_text()
    assert f"export REQUESTS_CA_BUNDLE={bundle}" in (lab.home / ".bashrc").read_text()
    assert next(c for c in report["checks"] if c["id"] == "tls")["status"] == "pass"
    # What the OpenAI SDK will do in a new terminal: httpx verifies with that bundle.
    import ssl

    import httpx

    with httpx.Client(verify=ssl.create_default_context(cafile=str(bundle)), timeout=5) as client:
        request = client.build_request("GET", f"https://127.0.0.1:{port}/v1/models",
                                       headers={"Host": NAME}, extensions={"sni_hostname": NAME})
        assert client.send(request).status_code >= 200  # verified: the gateway answers over TLS
    with httpx.Client(timeout=5) as client, pytest.raises(httpx.ConnectError):  # certifi alone
        request = client.build_request("GET", f"https://127.0.0.1:{port}/v1/models",
                                       headers={"Host": NAME}, extensions={"sni_hostname": NAME})
        client.send(request)
