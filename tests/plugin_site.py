"""Install a tiny plugin distribution into a folder, the way pip lays one out.

A `*.dist-info` folder with `entry_points.txt` next to the plugin's module is
a real installed distribution for importlib.metadata; putting the folder on
PYTHONPATH installs it for one doctor run without touching site-packages.
"""

from __future__ import annotations

import textwrap
from pathlib import Path


def install_plugin(site: Path, name: str, module_source: str, entry_points: dict[str, str]) -> Path:
    site.mkdir(parents=True, exist_ok=True)
    (site / f"{name}.py").write_text(textwrap.dedent(module_source))
    dist = site / f"{name}-0.1.dist-info"
    dist.mkdir(exist_ok=True)
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n")
    lines = ["[cborg_doctor.checks]"] + [f"{k} = {v}" for k, v in entry_points.items()]
    (dist / "entry_points.txt").write_text("\n".join(lines) + "\n")
    (dist / "RECORD").write_text("")
    return site


LAB_PLUGIN = '''
import os
from cborg_doctor.api import Check, Code, Outcome, Severity

LAB_NOTE = Code("LAB_NOTE", Severity.WARN, "The lab says {what}.",
                fix=("Ask the lab admin about {what}.",),
                explain="A test plugin's warning.")

def note(ctx):
    return Outcome("lab looked", [LAB_NOTE.finding(what="hello")])

def crash(ctx):
    key = ctx.key.reveal() if ctx.key else "none"
    raise ValueError("upstream rejected Authorization: Bearer " + key)

def leak(ctx):
    key = ctx.key.reveal() if ctx.key else "none"
    return Outcome("summary with " + key, [LAB_NOTE.finding(what="the key " + key)],
                   {"echo": {"nested": [key]}})

CHECKS = [
    Check("lab.note", "Lab note", note, needs=("config.key",), codes=(LAB_NOTE,)),
    Check("lab.crash", "Lab crash", crash),
    Check("lab.leak", "Lab leak", leak),
]
'''
