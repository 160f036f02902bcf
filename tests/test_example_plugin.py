"""The example plugin (examples/lab-proxy-plugin) installed by pip, as a third party's would be."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.doctor import clean_env, run_doctor

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "lab-proxy-plugin"


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(a copy of the example's source, the folder pip installed it into)."""
    work = tmp_path_factory.mktemp("example")
    source = work / "lab-proxy-plugin"
    shutil.copytree(EXAMPLE, source)  # pip builds in place: keep the repository clean
    site = work / "site"
    proc = subprocess.run(
        # Offline: no index, no build isolation (setuptools comes from the test extra).
        [sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "--no-build-isolation",
         "--quiet", "--disable-pip-version-check", "--target", str(site), str(source)],
        capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return source, site


@pytest.fixture
def env(example: tuple[Path, Path]) -> dict[str, str]:
    return {"PYTHONPATH": f"{example[1]}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}


@pytest.fixture
def proxy() -> Iterator[dict[str, object]]:
    """A loopback proxy that answers each CONNECT with `state["answer"]`."""
    server = socket.create_server(("127.0.0.1", 0))
    state: dict[str, object] = {"answer": b"HTTP/1.1 200 Connection established\r\n\r\n"}

    def serve() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            with conn:
                conn.recv(1024)
                conn.sendall(state["answer"])  # type: ignore[arg-type]

    threading.Thread(target=serve, daemon=True).start()
    state["url"] = f"http://127.0.0.1:{server.getsockname()[1]}"
    yield state
    server.close()


def test_pip_installs_a_real_distribution_with_the_entry_point(example: tuple[Path, Path]) -> None:
    _, site = example
    (dist,) = site.glob("cborg_doctor_lab_proxy-0.1.0.dist-info")
    assert "lab-proxy = cborg_lab_proxy:CHECK" in (dist / "entry_points.txt").read_text()
    assert (site / "cborg_lab_proxy.py").is_file()


def test_listed_after_what_it_needs_and_explained(home: Path, env: dict[str, str]) -> None:
    listing = run_doctor("--list-checks", home=home, env=env)
    ids = [line.split()[1] for line in listing.stdout.splitlines()[1:] if line.split()[0].isdigit()]
    assert ids.index("lab.proxy") > ids.index("config.base_url")
    assert "not loaded" not in listing.stdout
    explained = run_doctor("--explain", "lab_proxy_down", home=home, env=env)
    assert explained.stdout.startswith("LAB_PROXY_DOWN  (fail, raised by lab.proxy)")
    assert "1. Connect to LBLnet or the lab VPN first" in explained.stdout


def test_proxy_tunnels_check_passes(home: Path, env: dict[str, str], proxy: dict[str, object]) -> None:
    run = run_doctor("--only", "lab.proxy", "--base-url", "http://127.0.0.1:9", "--json", "--no-report",
                     home=home, env={**env, "LAB_PROXY_URL": str(proxy["url"])})
    assert run.code == 0, run.output
    checks = {c["id"]: c for c in run.json()["checks"]}
    assert list(checks) == ["config.base_url", "lab.proxy"]  # its prerequisite ran first
    assert checks["lab.proxy"]["status"] == "pass"
    assert checks["lab.proxy"]["summary"] == f"{str(proxy['url']).removeprefix('http://')} tunnels to 127.0.0.1:9"


def test_proxy_refusing_the_tunnel_fails_with_its_fix(
    home: Path, env: dict[str, str], proxy: dict[str, object]
) -> None:
    proxy["answer"] = b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n"
    run = run_doctor("--only", "lab.proxy", "--base-url", "http://127.0.0.1:9",
                     home=home, env={**env, "LAB_PROXY_URL": str(proxy["url"])})
    assert run.code == 1
    assert "LAB_PROXY_DENIED" in run.stdout and "HTTP/1.1 403 Forbidden" in run.stdout
    address = str(proxy["url"]).removeprefix("http://")
    assert f"1. Ask your lab's computing contact to allow CONNECT to 127.0.0.1:9 on {address}." in run.stdout


def test_proxy_down_and_not_configured(home: Path, env: dict[str, str]) -> None:
    with socket.create_server(("127.0.0.1", 0)) as closed:
        port = closed.getsockname()[1]
    down = run_doctor("--only", "lab.proxy", "--base-url", "http://127.0.0.1:9", "--json", "--no-report",
                      home=home, env={**env, "LAB_PROXY_URL": f"127.0.0.1:{port}"})
    assert down.code == 1 and down.json()["verdict"]["code"] == "LAB_PROXY_DOWN"
    unset = run_doctor("--only", "lab.proxy", "--base-url", "http://127.0.0.1:9", "--json", "--no-report",
                       home=home, env=env)
    assert unset.code == 0
    (check,) = [c for c in unset.json()["checks"] if c["id"] == "lab.proxy"]
    assert check["status"] == "skip" and check["skipped_because"] == "LAB_PROXY_URL is not set"


def test_the_examples_own_tests_pass(example: tuple[Path, Path], home: Path, env: dict[str, str]) -> None:
    """What the README's "Testing a check" shows works as written."""
    source, _ = example
    full_env = clean_env(home, **env)
    full_env.pop("PYTEST_ADDOPTS", None)
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
                          cwd=source, env=full_env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "4 passed" in proc.stdout
