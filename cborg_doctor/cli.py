"""The command line: parse, validate everything up front, run, report, exit.

Usage errors are one line on stderr and exit 2, never a traceback. Heavy
modules are imported only after `--version` has had its chance to answer.
"""

from __future__ import annotations

import math
import re
import signal
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, NoReturn, TextIO

from . import __version__
from .exitcodes import ExitCode
from .options import DEFAULT_TIMEOUT, FailOn, Options, parse_nameserver
from .version import PROG, version_text

if TYPE_CHECKING:
    import argparse

    from rich.console import Console

    from .check import Check
    from .context import RunContext
    from .registry import Registry
    from .report import Report
    from .secrets import ApiKey
    from .session import Session



class UsageError(Exception):
    """Bad input from the user: one line, exit 2."""


def _fatal(message: str) -> NoReturn:
    raise UsageError(message)


def _usage_line(message: str) -> str:
    """argparse's "argument --timeout: --timeout '0': ..." said once: "--timeout '0': ..."."""
    match = re.match(r"argument ([^:]+): (.*)$", message, re.S)
    if match and any(match.group(2).startswith(name) for name in match.group(1).split("/")):
        return match.group(2)
    return message


def _seconds(option: str, text: str, low: float, low_included: bool) -> float:
    from argparse import ArgumentTypeError

    try:
        value = float(text)
    except ValueError:
        raise ArgumentTypeError(f"{option} {text!r}: not a number of seconds") from None
    too_low = value < low if low_included else value <= low
    if not math.isfinite(value) or too_low or value > 3600:
        least = f"at least {low:g}" if low_included else f"more than {low:g}"
        raise ArgumentTypeError(f"{option} {text!r}: must be {least} and at most 3600 seconds")
    return value


def _timeout(text: str) -> float:
    return _seconds("--timeout", text, 0, low_included=False)


def _nameserver(text: str) -> str:
    from argparse import ArgumentTypeError

    try:
        parse_nameserver(text)
    except ValueError as exc:
        raise ArgumentTypeError(str(exc)) from None
    return text


def _repeat(text: str) -> int:
    from argparse import ArgumentTypeError

    if not text.isdigit() or not 1 <= int(text) <= 10000:
        raise ArgumentTypeError(f"--repeat {text!r}: must be a whole number from 1 to 10000")
    return int(text)


def _interval(text: str) -> float:
    return _seconds("--interval", text, 0, low_included=True)


def _ids(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


EPILOG = """\
examples:
  cborg-doctor                              diagnose this machine, write a report
  cborg-doctor --model lbl/llama --live     also check a model and send one request
  cborg-doctor --quiet --report doctor.xml  CI: only problems, a JUnit report
  cborg-doctor --explain DNS_NXDOMAIN       what a finding code means, how to fix it

exit codes:
  0    nothing failed (nothing warned either, with --fail-on warn)
  1    a check failed (or warned, with --fail-on warn), or a check crashed
  2    bad usage: the message says which option
  130  interrupted (Ctrl-C); the report so far is still written
  143  terminated (SIGTERM); the report so far is still written
"""


def build_parser() -> argparse.ArgumentParser:
    import argparse

    class _Parser(argparse.ArgumentParser):
        def error(self, message: str) -> NoReturn:
            _fatal(_usage_line(message))

    parser = _Parser(
        prog=PROG,
        description="Find out why the CBorg API does not work here, and how to fix it.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        add_help=False,
    )
    target = parser.add_argument_group("what to test")
    add = target.add_argument
    add("--base-url", metavar="URL", help="the gateway to test (default: $CBORG_BASE_URL, "
        "$OPENAI_BASE_URL if it is a CBorg host, else https://api.cborg.lbl.gov)")
    add("--api-key-file", metavar="PATH", help="read the key from a file ('-' = stdin); "
        "default $CBORG_API_KEY, then $OPENAI_API_KEY")
    add("--model", metavar="NAME", help="also check that this model is available")
    add("--live", action="store_true", help="also send one tiny chat completion (may cost money)")
    add("--timeout", type=_timeout, default=DEFAULT_TIMEOUT, metavar="SECONDS",
        help=f"limit for each network operation (default {DEFAULT_TIMEOUT:g})")
    add("--nameserver", type=_nameserver, action="append", default=[], metavar="ADDR[:PORT]",
        help="resolve through this server instead of the system resolver (repeatable)")
    add("--repeat", type=_repeat, metavar="N",
        help="after the checks, probe the request path N more times to catch intermittent failures")
    add("--interval", type=_interval, metavar="SECONDS",
        help="seconds between the rounds of --repeat (default 1)")

    output = parser.add_argument_group("output")
    add = output.add_argument
    add("--json", action="store_true", help="print the JSON report on stdout and nothing else")
    add("--report", action="append", default=[], metavar="PATH",
        help="write the report here; format by extension: .json .md .xml .html (repeatable)")
    add("--no-report", action="store_true", help="write no report file")
    add("--fail-on", choices=[f.value for f in FailOn], default=FailOn.FAIL.value,
        help="what makes the exit code non-zero (default fail)")
    add("-q", "--quiet", action="store_true", help="print only problems and the closing summary")
    add("-v", "--verbose", action="store_true", help="also show info notes and tracebacks")
    add("--no-color", action="store_true", help="no colours (NO_COLOR is honoured too)")
    add("--helpdesk", action="store_true",
        help="after the run, print an email to scienceit@lbl.gov (and a mailto: link) to send with the report")

    selection = parser.add_argument_group("selection")
    add = selection.add_argument
    add("--only", type=_ids, action="append", default=[], metavar="ID,...",
        help="run only these checks (and what they need)")
    add("--skip", type=_ids, action="append", default=[], metavar="ID,...",
        help="do not run these checks")

    _add_fix_options(parser)  # "fixing": --fix, --dry-run, --yes, --undo

    other = parser.add_argument_group("other")
    add = other.add_argument
    add("--list-checks", action="store_true", help="list the checks in run order and exit")
    add("--explain", metavar="CODE", help="explain a finding code and how to fix it")
    add("--version", action="version", version=version_text(),
        help="print the version, with Python, httpx and the OS, and exit")
    add("-h", "--help", action="help", help="show this help and exit")
    return parser


def _group(parser: argparse.ArgumentParser, title: str) -> argparse._ArgumentGroup:
    """One of build_parser's groups by title (for options added by other parts)."""
    return next(g for g in parser._action_groups if g.title == title)


def _add_fix_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "fixing", "apply the remedies the doctor is sure of (files in your home only; each change "
        "shown first, backed up, undoable)")
    group.add_argument("--fix", action="store_true", help="after diagnosing, show each automatic "
                       "remedy, ask (y/n/a/q), apply it and run the affected checks again")
    group.add_argument("--dry-run", action="store_true", help="with --fix: show every change, "
                       "change nothing")
    group.add_argument("--yes", action="store_true", help="with --fix: apply without asking")
    group.add_argument("--undo", action="store_true", help="restore every file the last --fix "
                       "changed, from its backup")


def parse_options(argv: Sequence[str]) -> tuple[Options, argparse.Namespace]:
    ns = build_parser().parse_args(argv)
    if ns.no_report and ns.report:
        _fatal("--no-report and --report cannot be used together")
    if ns.interval is not None and ns.repeat is None:
        _fatal("--interval needs --repeat N")
    for flag in ("dry_run", "yes"):
        if getattr(ns, flag) and not ns.fix:
            _fatal(f"--{flag.replace('_', '-')} works only with --fix")
    if ns.undo and ns.fix:
        _fatal("--undo and --fix cannot be used together")
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
        quiet=ns.quiet,
        fix=ns.fix,
        dry_run=ns.dry_run,
        yes=ns.yes,
    )
    return options, ns


def list_checks(registry: Registry, out: TextIO) -> None:
    """The checks in run order: id, title, what each needs, and what it looks at (last: it is long)."""
    rows = [("#", "id", "title", "needs", "looks at")]
    for n, check in enumerate(registry.checks, 1):
        needs = check.needs_text()
        if check.opt_in:
            needs += f" (only with --{check.opt_in.replace('_', '-')})"
        rows.append((str(n), check.id, check.title, needs, check.description or "–"))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    for row in rows:
        cells = "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=False))
        out.write(f"{cells}  {row[4]}\n")
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

    levels = " or ".join(dict.fromkeys([found.severity.value, *(sev.value for sev, _ in found.also)]))
    out.write(f"{found.code}  ({levels}, raised by {check_id})\n\n")
    out.write(f"{fill(found.summary, {})}\n")
    if found.also:
        out.write(f"\nSeverity: {found.severity.value} as a rule;\n")
        for sev, when in found.also:
            out.write(f"  {sev.value} {when}\n")
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
    if found.remedy is not None:
        out.write(f"\n`cborg-doctor --fix` can do this for you: {found.remedy.name}.\n")


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
    if ns.undo:
        return _undo()

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

    from .ci import in_ci, publish
    from .formats import render
    from .formats.console import View, header_line, render_check, render_summary
    from .output import ScrubbingStream
    from .progress import ConsoleProgress

    ctx = session.ctx
    options, scrub = ctx.options, ctx.scrub
    view = View(verbose=options.verbose, quiet=options.quiet)
    ci = in_ci(ctx.env)  # CI logs: no colour, no spinner, nothing interactive
    console = Console(
        file=ScrubbingStream(sys.stderr if options.json else sys.stdout, scrub),
        no_color=not options.color or "NO_COLOR" in ctx.env or ci,
        highlight=False,
        soft_wrap=True,
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
            if not options.quiet:
                console.print(header_line(ctx.target.base_url, key_text, __version__),
                              style="bold", markup=False, highlight=False)
            with ConsoleProgress(console, session.checks, view) as progress:
                report = session.run(progress)
            # Plugins that failed to load have no place in the run order: print them last.
            for result in report.checks[len(session.checks):]:
                render_check(result, console, view)
        if not options.json and not options.quiet:
            from .waterfall import render_timings

            render_timings(report, console)
        if options.fix and not report.interrupted:
            try:
                report = _fix(report, ctx, session.registry, console)
            except KeyboardInterrupt as exc:  # outside a prompt (which handles its own): the report still gets written
                from dataclasses import replace

                report = replace(report, interrupted=getattr(exc, "signal_name", "SIGINT"))
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
        # the last screen: verdict, fix, other problems, report
        render_summary(report, console, written, quiet=options.quiet)
    if report.interrupted:
        return ExitCode.TERMINATED if terminated else ExitCode.INTERRUPTED
    return report.exit_code(options.fail_on)


def _fix(report: Report, ctx: RunContext, registry: Registry, console: Console) -> Report:
    """`--fix` after the diagnosis: prompts only when stdin and the console are a terminal."""
    from .fixes.session import fix_report

    options = ctx.options

    def say(line: str) -> None:
        console.print(line, markup=False, highlight=False, soft_wrap=True)

    def ask(prompt: str) -> str:
        console.file.write(prompt)
        console.file.flush()
        answer = sys.stdin.readline()
        if not answer:
            return "q"
        return answer

    terminal = sys.stdin.isatty() and console.file.isatty() if hasattr(console.file, "isatty") \
        else False
    console.print("\n[bold]Fixes[/]")
    report = fix_report(report, ctx, registry, say, ask if terminal else None,
                        yes=options.yes, dry_run=options.dry_run)
    if not terminal and not options.yes and not options.dry_run and any(
            f["outcome"] == "declined" for f in report.fixes or ()):
        say("Nothing was changed: not on a terminal and no --yes (use --fix --yes in scripts).")
    return report


def _undo() -> int:
    from .context import snapshot_environment
    from .fixes.journal import undo

    lines, ok = undo(snapshot_environment())
    for line in lines:
        sys.stdout.write(line + "\n")
    return ExitCode.OK if ok else ExitCode.PROBLEMS


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args == ["--version"]:  # answered before argparse, httpx or rich are imported
        sys.stdout.write(version_text() + "\n")
        return ExitCode.OK
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
