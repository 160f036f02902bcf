"""The command line: parse, validate everything up front, run, report, exit.

Usage errors are one line on stderr and exit 2, never a traceback. Heavy
modules are imported only after `--version` has had its chance to answer.
"""

from __future__ import annotations

import argparse
import math
import signal
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, NoReturn, TextIO

from . import __version__
from .exitcodes import ExitCode
from .options import DEFAULT_TIMEOUT, FailOn, Options, parse_nameserver

if TYPE_CHECKING:
    from .check import Check
    from .registry import Registry
    from .secrets import ApiKey
    from .session import Session

PROG = "cborg-doctor"


class UsageError(Exception):
    """Bad input from the user: one line, exit 2."""


def _fatal(message: str) -> NoReturn:
    raise UsageError(message)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        _fatal(message)


def _timeout(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--timeout {text!r}: not a number of seconds") from None
    if not math.isfinite(value) or value <= 0 or value > 3600:
        raise argparse.ArgumentTypeError(f"--timeout {text!r}: must be between 0 and 3600 seconds")
    return value


def _nameserver(text: str) -> str:
    try:
        parse_nameserver(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def _repeat(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 10000:
        raise argparse.ArgumentTypeError(f"--repeat {text!r}: must be a whole number from 1 to 10000")
    return int(text)


def _interval(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--interval {text!r}: not a number of seconds") from None
    if not math.isfinite(value) or value < 0 or value > 3600:
        raise argparse.ArgumentTypeError(f"--interval {text!r}: must be between 0 and 3600 seconds")
    return value


def _ids(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description="Find out why the CBorg API does not work here, and how to fix it.",
        epilog="Exit codes: 0 nothing at or above --fail-on, 1 problems found, 2 bad usage.",
    )
    add = parser.add_argument
    add("--base-url", metavar="URL", help="the gateway to test (default: $CBORG_BASE_URL, "
        "$OPENAI_BASE_URL if it is a CBorg host, else https://api.cborg.lbl.gov)")
    add("--api-key-file", metavar="PATH", help="read the key from a file ('-' = stdin); "
        "default $CBORG_API_KEY, then $OPENAI_API_KEY")
    add("--model", metavar="NAME", help="also check that this model is available")
    add("--timeout", type=_timeout, default=DEFAULT_TIMEOUT, metavar="SECONDS",
        help=f"limit for each network operation (default {DEFAULT_TIMEOUT:g})")
    add("--nameserver", type=_nameserver, action="append", default=[], metavar="ADDR[:PORT]",
        help="resolve through this server instead of the system resolver (repeatable)")
    add("--only", type=_ids, action="append", default=[], metavar="ID,...",
        help="run only these checks (and what they need)")
    add("--skip", type=_ids, action="append", default=[], metavar="ID,...",
        help="do not run these checks")
    add("--live", action="store_true", help="also send one tiny chat completion (may cost money)")
    add("--json", action="store_true", help="print the JSON report on stdout and nothing else")
    add("--report", action="append", default=[], metavar="PATH",
        help="write the report here; format by extension: .json .md .xml .html (repeatable)")
    add("--no-report", action="store_true", help="write no report file")
    add("--fail-on", choices=[f.value for f in FailOn], default=FailOn.FAIL.value,
        help="what makes the exit code non-zero (default fail)")
    add("--list-checks", action="store_true", help="list the checks in run order and exit")
    add("--explain", metavar="CODE", help="explain a finding code and how to fix it")
    add("--no-color", action="store_true", help="no colours (NO_COLOR is honoured too)")
    add("-v", "--verbose", action="store_true", help="show details and tracebacks")
    add("--helpdesk", action="store_true",
        help="after the run, print an email to scienceit@lbl.gov (and a mailto: link) to send with the report")
    add("--repeat", type=_repeat, metavar="N",
        help="after the checks, rerun the network and HTTP probes N times to catch intermittent failures")
    add("--interval", type=_interval, metavar="SECONDS",
        help="seconds between the rounds of --repeat (default 1)")
    add("--version", action="version", version=f"{PROG} {__version__}")
    return parser


def parse_options(argv: Sequence[str]) -> tuple[Options, argparse.Namespace]:
    ns = build_parser().parse_args(argv)
    if ns.no_report and ns.report:
        _fatal("--no-report and --report cannot be used together")
    if ns.interval is not None and ns.repeat is None:
        _fatal("--interval needs --repeat N")
    options = Options(
        base_url=ns.base_url,
        api_key_file=ns.api_key_file,
        model=ns.model,
        timeout=ns.timeout,
        nameservers=tuple(ns.nameserver),
        only=tuple(i for group in ns.only for i in group),
        skip=tuple(i for group in ns.skip for i in group),
        live=ns.live,
        json=ns.json,
        repeat=ns.repeat or 0,
        interval=1.0 if ns.interval is None else ns.interval,
        reports=tuple(ns.report),
        no_report=ns.no_report,
        fail_on=FailOn(ns.fail_on),
        color=not ns.no_color,
        verbose=ns.verbose,
    )
    return options, ns


def list_checks(registry: Registry, out: TextIO) -> None:
    rows = [("#", "id", "title", "needs")]
    for n, check in enumerate(registry.checks, 1):
        needs = check.needs_text()
        if check.opt_in:
            needs += f" (only with --{check.opt_in.replace('_', '-')})"
        rows.append((str(n), check.id, check.title, needs))
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    for row in rows:
        out.write("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=False)))
        out.write(f"  {row[3]}\n")
    for problem in registry.problems:
        out.write(f"(plugin not loaded: {problem.source}: {problem.reason})\n")


def _owner(check: Check) -> str:
    """Who raises a code: the check, or for an opt-in check the option that runs it."""
    return f"--{check.opt_in.replace('_', '-')}" if check.opt_in else check.id


def explain(registry: Registry, code: str, out: TextIO) -> None:
    from .registry import closest
    from .runner import ENGINE_CODES

    owned = {name: (_owner(check), c) for name, (check, c) in registry.codes().items()}
    for c in ENGINE_CODES:
        owned.setdefault(c.code, ("(engine)", c))
    wanted = code.strip().upper()
    if wanted not in owned:
        near = closest(wanted, owned)
        hint = f"; did you mean {', '.join(near)}?" if near else ""
        _fatal(f"--explain {code}: unknown finding code{hint}")
    check_id, found = owned[wanted]
    from .findings import fill

    out.write(f"{found.code}  ({found.severity.value}, raised by {check_id})\n\n")
    out.write(f"{fill(found.summary, {})}\n")
    if found.explain:
        out.write(f"\n{found.explain}\n")
    for cause in found.causes.values():  # a run prints only the steps of the cause it found
        out.write(f"\nWhen {fill(cause.when, {})}:\n")
        for n, step in enumerate(cause.fix, 1):
            out.write(f"  {n}. {fill(step, {})}\n")
    if found.fix:
        out.write("\nAlso:\n" if found.causes else "\nHow to fix:\n")
        for n, step in enumerate(found.fix, 1):
            out.write(f"  {n}. {fill(step, {})}\n")


class _Terminated(KeyboardInterrupt):
    """SIGTERM, handled like Ctrl-C: finish the report, then exit 143."""

    signal_name = "SIGTERM"


def _on_sigterm(signum: int, frame: object) -> NoReturn:
    raise _Terminated


def _run(argv: Sequence[str], keys_seen: list[ApiKey]) -> int:
    options, ns = parse_options(argv)
    from .registry import SelectionError, load_registry

    registry = load_registry()
    if ns.list_checks:
        list_checks(registry, sys.stdout)
        return ExitCode.OK
    if ns.explain is not None:
        explain(registry, ns.explain, sys.stdout)
        return ExitCode.OK

    from .reportfiles import ReportPathError
    from .secrets import KeyFileError
    from .session import Session

    try:
        session = Session.prepare(options, registry=registry, default_report=True)
    except (ReportPathError, SelectionError, KeyFileError) as exc:
        _fatal(str(exc))
    if session.ctx.key is not None:
        keys_seen.append(session.ctx.key)  # so even an internal error is scrubbed of a key from a file
    return _diagnose_and_report(session, helpdesk=ns.helpdesk)


def _diagnose_and_report(session: Session, helpdesk: bool = False) -> int:
    from rich.console import Console
    from rich.markup import escape

    from .ci import in_ci, publish
    from .formats import render
    from .formats.console import render_check, render_footer
    from .output import ScrubbingStream
    from .progress import ConsoleProgress

    ctx = session.ctx
    options, scrub = ctx.options, ctx.scrub
    ci = in_ci(ctx.env)  # CI logs: no colour, no spinner, nothing interactive
    console = Console(
        file=ScrubbingStream(sys.stderr if options.json else sys.stdout, scrub),
        no_color=not options.color or "NO_COLOR" in ctx.env or ci,
        highlight=False,
        force_terminal=False if ci else None,
        force_interactive=False if ci else None,
    )
    terminated = False
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        if options.json:
            report = session.run()
        else:
            key = ctx.key
            key_text = f"{key.fingerprint} ({key.source})" if key else "none"
            console.print(
                f"[bold]cborg-doctor {__version__}[/] · {escape(ctx.target.base_url)} "
                f"· key {escape(key_text)}"
            )
            with ConsoleProgress(console, session.checks, options.verbose) as progress:
                report = session.run(progress)
            # Plugins that failed to load have no place in the run order: print them last.
            for result in report.checks[len(session.checks):]:
                render_check(result, console, options.verbose)
        if not options.json:
            from .waterfall import render_timings

            render_timings(report, console)
            render_footer(report, console)
        terminated = report.interrupted == "SIGTERM"
    finally:
        signal.signal(signal.SIGTERM, previous)

    written, failed = session.write(report)
    for path, exc in failed:
        sys.stderr.write(f"{PROG}: could not write report {path}: {exc.strerror or exc}\n")
    # GitHub Actions: annotations and the job summary (workflow commands on stdout, or stderr with --json).
    for problem in publish(report, ctx.env, scrub, sys.stderr if options.json else console.file):
        sys.stderr.write(f"{PROG}: {problem}\n")
    if helpdesk:
        from .helpdesk import compose

        email = compose(report, written, ctx.home, scrub)
        (sys.stderr if options.json else console.file).write("\n" + email.text() + "\n")
    if options.json:
        from .options import ReportFormat

        sys.stdout.write(render(report, ReportFormat.JSON, scrub, options.verbose))
        sys.stdout.flush()
        for path in written:
            sys.stderr.write(f"Report: {path}\n")
    else:
        for path in written:
            console.print(f"Report: {escape(path)}", soft_wrap=True)
    if report.interrupted:
        return ExitCode.TERMINATED if terminated else ExitCode.INTERRUPTED
    return report.exit_code(options.fail_on)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    keys_seen: list[ApiKey] = []
    try:
        return int(_run(args, keys_seen))
    except UsageError as exc:
        sys.stderr.write(f"{PROG}: error: {exc} (see --help)\n")
        return ExitCode.USAGE
    except BrokenPipeError:
        return ExitCode.PROBLEMS
    except KeyboardInterrupt:
        sys.stderr.write(f"{PROG}: interrupted\n")
        return ExitCode.INTERRUPTED
    except Exception as exc:  # a bug of ours: one scrubbed line, never a traceback
        line = f"{PROG}: internal error: {type(exc).__name__}: {exc}"
        sys.stderr.write(_scrub_all_keys(line, keys_seen) + "\n")
        return ExitCode.PROBLEMS


def _scrub_all_keys(text: str, keys_seen: list[ApiKey]) -> str:
    """Scrub outside a run: the run's key if it got that far, and every key the environment holds."""
    import os

    from .probes.proxy import passwords
    from .secrets import KEY_VARIABLES, ApiKey, Scrubber

    keys = [*keys_seen, *(ApiKey(os.environ[n], n) for n in KEY_VARIABLES if os.environ.get(n))]
    for key in keys:
        text = Scrubber(key)(text)
    return Scrubber(None, passwords(os.environ))(text)  # proxy logins too
