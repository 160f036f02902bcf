"""`clients.paths` against the real LiteLLM proxy: its time for the eight tools of the tests.

Starts LiteLLM with the models and the provider stand-in of tests/test_clients_paths.py,
writes every tool's settings into a temporary home (as the tests do), runs the doctor
(`--only config.clients,clients.paths`) a few times, and prints the median duration of
`clients.paths` (requests run 4 at a time) without and with --live.

    python benchmarks/clients_paths.py
"""

from __future__ import annotations

import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.doctor import run_doctor
from tests.fuzzkit import ScriptedServer, json_reply
from tests.litellm_proxy import CONFIG, GOOD_PREFIX, start_proxy, stop
from tests.test_clients_paths import MODELS, Setup, setup_home

RUNS = 3
KEY = GOOD_PREFIX + "benchmarkbenchmark01"


def main() -> None:
    replies = {"/v1/messages/count_tokens": json_reply('{"input_tokens": 3}'),
               "/v1/responses/input_tokens": json_reply('{"object": "response.input_tokens", "input_tokens": 3}')}
    with tempfile.TemporaryDirectory() as folder, ScriptedServer(replies) as upstream:
        config = MODELS.replace("{upstream}", upstream.url) + CONFIG[CONFIG.index("litellm_settings:"):]
        proc, proxy = start_proxy(Path(folder), config)
        try:
            home = Path(folder) / "home"
            home.mkdir()
            env = setup_home(home, Setup(proxy.base_url), KEY)
            for live in (False, True):
                times: list[int] = []
                for _ in range(RUNS):
                    run = run_doctor("--base-url", proxy.base_url, "--only", "config.clients,clients.paths",
                                     "--json", "--no-report", *(["--live"] if live else []),
                                     home=home, env=env)
                    check = next(c for c in run.json()["checks"] if c["id"] == "clients.paths")
                    times.append(check["duration_ms"])
                    tools = len(check["data"]["rows"])
                print(f"clients.paths, {tools} tools{' --live' if live else '':8}  "
                      f"median {statistics.median(times):6.0f} ms  (runs: {times})")
        finally:
            stop(proc)


if __name__ == "__main__":
    main()
