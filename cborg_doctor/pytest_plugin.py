"""pytest plugin: ``pytest --cborg-preflight`` checks the gateway before any test runs.

A test suite that calls CBorg fails in a hundred confusing ways when the key is
missing or the gateway is unreachable. With the preflight the doctor runs once,
before collection; if the gateway is unusable the session stops at once with
the doctor's verdict and fix steps (exit status 2, pytest's "interrupted"), and
the Markdown report is written for the helpdesk. Warnings are shown and the
tests run (unless ``--fail-on warn`` is among the doctor's options).

Options (or the ini keys ``cborg_preflight = true`` and ``cborg_preflight_args``)::

    pytest --cborg-preflight
    pytest --cborg-preflight --cborg-preflight-args="--model lbl/llama --report doctor.xml"

The plugin is registered through the ``pytest11`` entry point and does nothing,
imports nothing heavy, unless the preflight is switched on. Under pytest-xdist
only the controller runs it.
"""

from __future__ import annotations

import contextlib
import io
import shlex
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from .report import Report
    from .secrets import Scrubber


@dataclass(frozen=True)
class Preflight:
    """The preflight's outcome, kept on the pytest config for other plugins."""

    report: Report
    blocking: bool
    report_paths: tuple[str, ...]
    scrub: Scrubber  # the run's: removes its key (and any key-shaped text) from what is shown


PREFLIGHT = pytest.StashKey[Preflight]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("cborg-doctor", "CBorg gateway preflight (cborg-doctor)")
    group.addoption(
        "--cborg-preflight",
        action="store_true",
        default=None,
        help="run cborg-doctor before the session; stop the session if the CBorg gateway is unusable",
    )
    group.addoption(
        "--cborg-preflight-args",
        metavar="ARGS",
        default=None,
        help="cborg-doctor options for the preflight, e.g. \"--model lbl/llama --report doctor.xml\"",
    )
    parser.addini("cborg_preflight", type="bool", default=False,
                  help="run the cborg-doctor preflight (like --cborg-preflight)")
    parser.addini("cborg_preflight_args", default="",
                  help="cborg-doctor options for the preflight (like --cborg-preflight-args)")


def _enabled(config: pytest.Config) -> bool:
    flag = config.getoption("cborg_preflight")
    return bool(flag if flag is not None else config.getini("cborg_preflight"))


def _doctor_args(config: pytest.Config) -> list[str]:
    text = config.getoption("cborg_preflight_args")
    if text is None:
        text = config.getini("cborg_preflight_args")
    return shlex.split(text or "")


def run_preflight(args: list[str]) -> Preflight:
    """Run the doctor with command-line `args`; raise `pytest.UsageError` for bad ones."""
    from .cli import UsageError, parse_options
    from .options import ReportFormat
    from .reportfiles import ReportPathError, default_report_path
    from .secrets import KeyFileError
    from .session import Session

    try:
        options, _ = parse_options(args)
        session = Session.prepare(options)
    except (UsageError, ValueError, KeyFileError) as exc:
        raise pytest.UsageError(f"--cborg-preflight-args: {exc}") from None
    report = session.run()
    blocking = bool(report.interrupted) or report.exit_code(options.fail_on) != 0
    extra: list[tuple[str, ReportFormat]] = []
    if blocking and not session.reports and not options.no_report:
        # Like the command line: a failed preflight leaves a report to attach.
        with contextlib.suppress(ReportPathError):
            extra = [(str(default_report_path(session.ctx.env)), ReportFormat.MARKDOWN)]
    written, _ = session.write(report, [*session.reports, *extra])
    return Preflight(report, blocking, tuple(written), session.ctx.scrub)


def render_text(preflight: Preflight, width: int = 100) -> str:
    """The doctor's console view as plain text: every check, finding and fix step."""
    from rich.console import Console

    from .formats.console import render_report

    out = io.StringIO()
    console = Console(file=out, width=width, no_color=True, highlight=False,
                      force_terminal=False, force_interactive=False)
    render_report(preflight.report, console)
    for path in preflight.report_paths:
        console.print(f"Report: {path}", soft_wrap=True, markup=False)
    return preflight.scrub(out.getvalue().rstrip())


@pytest.hookimpl(tryfirst=True)
def pytest_collection(session: pytest.Session) -> None:
    """After pytest's header, before collection: run the doctor, stop if unusable."""
    config = session.config
    if not _enabled(config) or hasattr(config, "workerinput") or PREFLIGHT in config.stash:
        return
    from .formats.text import SYMBOLS, verdict_line

    preflight = run_preflight(_doctor_args(config))
    config.stash[PREFLIGHT] = preflight
    report = preflight.report
    line = f"cborg-doctor preflight: {SYMBOLS[report.status]} {verdict_line(report)}"
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if not preflight.blocking:
        if reporter is not None:
            reporter.write_line(line)
        return
    if reporter is None:
        pytest.exit(f"{line}\n\n{render_text(preflight)}")
    reporter.write_sep("=", "cborg-doctor preflight: the CBorg gateway is not usable here")
    for text in render_text(preflight).splitlines():
        reporter.write_line(text.rstrip())
    verdict = report.verdict
    cause = f"{verdict.code} ({verdict.check})" if verdict else report.status.value
    pytest.exit(f"cborg-doctor preflight failed: {cause}; no test ran")
