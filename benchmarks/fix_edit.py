"""How long one `--fix` edit takes (parse, edit, prove with the real parser) on big configs.

    .venv/bin/python benchmarks/fix_edit.py
"""

from __future__ import annotations

import time

from cborg_doctor.fixes.edit import set_value

NEW = "https://api.cborg.lbl.gov/v1"


def measure(fmt: str, text: str, path: tuple[str, ...], rounds: int = 5) -> None:
    start = time.perf_counter()
    for _ in range(rounds):
        set_value(text, fmt, path, NEW)
    ms = (time.perf_counter() - start) / rounds * 1000
    print(f"{fmt:6} {len(text) // 1024:4d} KiB  {ms:7.1f} ms per edit")


rows = 3000
measure("jsonc", "{\n  // big\n" + "\n".join(f'  "k{i}": "v{i}",' for i in range(rows))
        + '\n  "apiBase": "https://api.openai.com/v1"\n}\n', ("apiBase",))
measure("yaml", "\n".join(f"k{i}: v{i}" for i in range(rows)) + "\napiBase: x\n", ("apiBase",))
measure("toml", "\n".join(f'k{i} = "v{i}"' for i in range(rows)) + '\nbase_url = "x"\n', ("base_url",))
measure("dotenv", "\n".join(f"K{i}=v{i}" for i in range(rows)) + "\nOPENAI_BASE_URL=x\n",
        ("OPENAI_BASE_URL",))
