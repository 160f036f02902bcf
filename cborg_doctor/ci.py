"""Output for CI systems: quiet consoles everywhere, annotations and a summary on GitHub.

In any CI (``CI`` or a known CI variable set) the console gets no colour, no
spinner and nothing interactive: logs are plain text. In GitHub Actions
(``GITHUB_ACTIONS=true``) the run also

- appends the Markdown report to ``$GITHUB_STEP_SUMMARY`` (the job's summary page),
- prints one workflow command per fail/warn finding, which GitHub shows as an
  annotation on the run: ``::error title=DNS_NXDOMAIN::<message>%0AFix: <step 1>``.

GitLab and Jenkins read the JUnit report (``--report doctor.xml``) instead.
Workflow commands use GitHub's escaping: in the message ``%``, ``\\r`` and
``\\n``; in properties (``title=``) also ``:`` and ``,``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Protocol

from .findings import Severity, Status
from .report import Report
from .secrets import Scrubber

# Values of CI=... that mean "not CI" (people set CI=false to get colours back).
_FALSE = ("", "0", "false", "no", "off")
_CI_VARIABLES = ("CI", "GITHUB_ACTIONS", "GITLAB_CI", "JENKINS_URL", "BUILDKITE", "TF_BUILD")


def _set(env: Mapping[str, str], name: str) -> bool:
    return env.get(name, "").strip().lower() not in _FALSE


def in_ci(env: Mapping[str, str]) -> bool:
    """Whether output goes to a CI log: plain text, no colour, no live display."""
    return any(_set(env, name) for name in _CI_VARIABLES)


def in_github_actions(env: Mapping[str, str]) -> bool:
    return env.get("GITHUB_ACTIONS", "").strip().lower() == "true"


def escape_data(text: str) -> str:
    """Escape a workflow command's message (GitHub's ``escapeData``)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a workflow command's property value (GitHub's ``escapeProperty``)."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


class Writable(Protocol):
    def write(self, text: str, /) -> int: ...


_COMMANDS = {Severity.FAIL: "error", Severity.WARN: "warning"}


def annotations(report: Report) -> Iterator[str]:
    """One ``::error``/``::warning`` line per fail/warn finding, in run order.

    The title is the finding code (what a person searches for and passes to
    ``--explain``); the message is the finding's message and its first fix step.
    A crashed check counts as an error whatever its finding's severity.
    """
    from .formats.text import headline, is_security_only

    lead = f"{headline(report)} " if is_security_only(report) else ""
    for check in report.checks:
        for finding in check.findings:
            command = _COMMANDS.get(finding.severity)
            if check.status is Status.ERROR:
                command = "error"
            if command is None:
                continue
            message = f"{lead}{finding.message} ({check.id})"
            if finding.fix:
                message += f"\nFix: {finding.fix[0]}"
            yield f"::{command} title={escape_property(finding.code)}::{escape_data(message)}"


def step_summary(report: Report, verbose: bool = False) -> str:
    """The job summary: the Markdown report itself, so the two never differ."""
    from .formats.markdown import render

    return render(report, verbose) + "\n"


def publish(report: Report, env: Mapping[str, str], scrub: Scrubber, log: Writable) -> list[str]:
    """In GitHub Actions, annotate the run and add the step summary.

    `log` is a text stream (the runner reads workflow commands from stdout and
    stderr alike). Returns problems worth one line on stderr; a summary file that
    cannot be written never changes the doctor's verdict.
    """
    if not in_github_actions(env):
        return []
    for line in annotations(report):
        log.write(scrub(line) + "\n")
    problems: list[str] = []
    path = env.get("GITHUB_STEP_SUMMARY")
    if path:
        try:
            # Appended, not replaced: other steps of the job write to the same file.
            with open(path, "a", encoding="utf-8", newline="\n") as handle:
                handle.write(scrub(step_summary(report)))
        except OSError as exc:
            problems.append(f"could not write the step summary {path}: {exc.strerror or exc}")
    return problems
