"""Small text helpers shared by the human-readable formats."""

from __future__ import annotations

from ..findings import Status
from ..report import Report

SYMBOLS = {
    Status.PASS: "✔",
    Status.WARN: "!",
    Status.FAIL: "✖",
    Status.SKIP: "–",
    Status.ERROR: "✖",
}


def counts_line(report: Report) -> str:
    return ", ".join(f"{n} {status}" for status, n in report.counts.items() if n)


def verdict_line(report: Report) -> str:
    verdict = report.verdict
    prefix = "Interrupted. " if report.interrupted else ""
    if verdict is None:
        return f"{prefix}No problems found ({counts_line(report)})."
    return f"{prefix}{verdict.code} ({verdict.check}): {verdict.message}"
