"""The JSON report, schema ``cborg-doctor/report/v1`` (see the contract)."""

from __future__ import annotations

import json

from ..report import Report


def render(report: Report, verbose: bool = False) -> str:
    return json.dumps(report.to_dict(), indent=2, ensure_ascii=False, default=str) + "\n"
