"""Run the gateway checks in-process against a loopback gateway, and read what users see.

The network checks before `auth` are replaced by a passing stub `http` check, so
these tests exercise only the gateway checks; end-to-end runs of the whole doctor
use `tests.doctor.run_doctor` instead.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from cborg_doctor_checks import gateway
from cborg_doctor_checks.config import key as config_key

from cborg_doctor.api import Check, Finding, Outcome, RunContext
from cborg_doctor.facts import Fact
from cborg_doctor.formats import render
from cborg_doctor.options import Options, ReportFormat
from cborg_doctor.registry import build_registry
from cborg_doctor.report import Report
from cborg_doctor.session import build_context, run_diagnosis


def _stub(check_id: str, data: Mapping[str, Any] | None = None) -> Check:
    def run(ctx: RunContext) -> Outcome:
        return Outcome("stub", (), dict(data or {}))

    return Check(id=check_id, title=check_id, run=run, order=100 if check_id == "http" else 5)


def diagnose(
    base_url: str,
    key: str | None,
    *,
    model: str | None = None,
    live: bool = False,
    timeout: float = 3.0,
    facts: Mapping[Fact[Any], Any] | None = None,
    configured_models: Sequence[Mapping[str, str]] | None = None,
) -> Report:
    """One run of config.key + the four gateway checks against `base_url`."""
    checks: list[Check] = [_stub("http"), config_key.CHECK, *gateway.CHECKS]
    if configured_models is not None:
        checks.append(_stub("config.clients", {"configured_models": list(configured_models)}))
    registry = build_registry([("test", lambda: checks)])
    options = Options(base_url=base_url, model=model, live=live, timeout=timeout, no_report=True)
    env = {"CBORG_API_KEY": key} if key is not None else {}
    ctx = build_context(options, env)
    for fact, value in (facts or {}).items():
        ctx.share(fact, value)
    return run_diagnosis(ctx, registry)


def result(report: Report, check_id: str) -> Any:
    return next(c for c in report.checks if c.id == check_id)


def codes(report: Report, check_id: str) -> list[str]:
    return [f.code for f in result(report, check_id).findings]


def finding(report: Report, code: str) -> Finding:
    return next(f for c in report.checks for f in c.findings if f.code == code)


def everything(report: Report) -> str:
    """Every format a user or helpdesk could see, plus the raw JSON, in one string."""
    from cborg_doctor.secrets import Scrubber

    no_scrub = Scrubber(None)
    texts = [render(report, fmt, no_scrub, verbose=True) for fmt in ReportFormat]
    import json

    texts.append(json.dumps(report.to_dict(), default=str))
    return "\n".join(texts)
