"""``--helpdesk``: the email to scienceit@lbl.gov, ready to copy, plus a ``mailto:`` link.

The subject names the root cause's code, so the helpdesk can sort mail before
opening it; the body has what they ask for first (what fails, where, on what
system) and says which report file to attach. Nothing personal goes in beyond
what the diagnosis needs: the key only as its fingerprint, no environment
variables or PATH, and the home directory written as ``~`` wherever a path
shows it (so no user names either).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from .cborg import HELPDESK
from .check import CheckResult
from .findings import Status
from .formats.text import SYMBOLS, counts_line, is_security_only, plural, problems
from .report import Report
from .secrets import Scrubber

# Browsers and mail programs cut longer mailto: links (Windows at about 2,000);
# past this the link carries a shortened body and the printed text is the whole one.
MAILTO_LIMIT = 1900

# Facts that are noise or could be personal in an email; the report keeps the rest.
_DROPPED_FACTS = {"traceback", "path_variable", "environ", "environment", "env", "PATH"}
_FACT_LIMIT = 240

# Home folders of any user, for paths that do not start with this run's $HOME.
_OTHER_HOMES = re.compile(
    r"(?:(?<![\w.])/home/|(?<![\w.])/Users/|[A-Za-z]:\\Users\\|/var/home/)[^/\\\s:;,'\"()\[\]{}]+"
)


def redact_paths(text: str, home: Path | None) -> str:
    """Write the home directory as ``~``: no user names in the paths an email shows."""
    if home is not None and str(home) not in ("", "/", "."):
        for variant in sorted({str(home), str(home).rstrip("/\\")}, key=len, reverse=True):
            if variant:
                text = text.replace(variant, "~")
    return _OTHER_HOMES.sub("~", text)


@dataclass(frozen=True)
class Email:
    to: str
    subject: str
    body: str
    short_body: str

    def mailto(self, limit: int = MAILTO_LIMIT) -> str:
        """An RFC 6068 link: every reserved character percent-encoded, lines as CRLF."""
        for body in (self.body, self.short_body):
            link = _mailto(self.to, self.subject, body)
            if len(link) <= limit:
                return link
        return _mailto(self.to, self.subject, "")

    def text(self) -> str:
        """What `--helpdesk` prints: the email, then the link."""
        rule = "─" * 72
        return (
            f"{rule}\nEmail to send to the helpdesk (copy it, or open the link below):\n{rule}\n"
            f"To: {self.to}\nSubject: {self.subject}\n\n{self.body}\n{rule}\n"
            f"Open in your mail program: {self.mailto()}\n"
        )


def _mailto(to: str, subject: str, body: str) -> str:
    query = f"subject={quote(subject, safe='')}"
    if body:
        query += f"&body={quote(body.replace(chr(10), chr(13) + chr(10)), safe='')}"
    return f"mailto:{to}?{query}"


def subject_for(report: Report) -> str:
    verdict = report.verdict
    if report.interrupted:
        return "CBorg API: cborg-doctor run interrupted" + (f" ({verdict.code})" if verdict else "")
    if verdict is None:
        return "CBorg API: cborg-doctor finds no problem, but it does not work for me"
    if is_security_only(report):
        n = len(problems(report))
        return f"CBorg API works; {plural(n, 'security problem')} to fix: {verdict.code} ({verdict.check})"
    kind = "problem" if report.status in (Status.FAIL, Status.ERROR) else "warning"
    return f"CBorg API {kind}: {verdict.code} ({verdict.check})"


_MARKUP = re.compile(r"<\s*/?\s*[a-zA-Z!][^>]*>")


def _facts(data: Mapping[str, object]) -> Iterator[str]:
    """One line per fact; a page of HTML is named, not pasted (the report has its start)."""
    for name, value in data.items():
        if name in _DROPPED_FACTS or value in (None, "", [], {}):
            continue
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
        if isinstance(value, str) and len(_MARKUP.findall(value)) >= 2:
            text = f"(an HTML page, {len(value)} characters shown; its start is in the report)"
        text = " ".join(text.split())
        if len(text) > _FACT_LIMIT:
            text = text[: _FACT_LIMIT - 1] + "…"
        yield f"{name}: {text}"


def _check_block(check: CheckResult, verdict_code: str | None) -> list[str]:
    """A check that failed or warned: its status, its findings (the cause once) and facts."""
    messages = {f.message for f in check.findings}
    summary = "" if check.summary in messages else f" — {check.summary}"
    lines = [f"  {SYMBOLS[check.status]} {check.id} ({check.title}): {check.status.value}{summary}"]
    shown: set[str] = set()
    for finding in check.findings:
        if finding.status is Status.PASS and check.status is not Status.ERROR:
            continue
        said = "the cause named above" if finding.code == verdict_code else finding.message
        lines.append(f"      {finding.code}: {said}")
        facts = list(_facts(finding.data))
        shown.update(facts)
        lines += [f"        {fact}" for fact in facts]
    lines += [f"      {fact}" for fact in _facts(check.data) if fact not in shown]
    return lines


def public_ip(report: Report) -> str:
    """What the gateway sees as this machine's address (the helpdesk asks for it), or why unknown."""
    egress = next((c for c in report.checks if c.id == "egress"), None)
    if egress is None or egress.status is Status.SKIP:
        return "not measured (the egress check did not run)"
    addresses = egress.data.get("addresses") if isinstance(egress.data, Mapping) else None
    seen = [f"{'IPv6' if ':' in str(ip) else 'IPv4'} {ip}" for ip in (addresses or {}).values() if ip]
    return ", ".join(seen) + " (as the gateway sees it)" if seen else "unknown (the gateway did not say)"


def _attachment(report_paths: Sequence[str]) -> str:
    if not report_paths:
        return ("No report file was written (--no-report). Running `cborg-doctor --helpdesk` "
                "without --no-report writes one to attach.")
    chosen = next((p for p in report_paths if p.endswith(".md")), report_paths[0])
    return f"Attached: the full report, {chosen}\n(please attach this file before sending)."


def compose(report: Report, report_paths: Sequence[str], home: Path | None, scrub: Scrubber) -> Email:
    """The email for this run; every line scrubbed of the key and of the home directory."""
    env = report.environment
    verdict = report.verdict
    key = report.key
    key_text = f"{key['fingerprint']} (from {key['source']})" if key.get("fingerprint") else "none found"
    libraries = ", ".join(f"{k} {v}" for k, v in (env.get("libraries") or {}).items()) or "–"
    opening = ("CBorg works from this machine, but cborg-doctor found a security problem to fix"
               if is_security_only(report) else "The CBorg API does not work for me as expected")
    head = [
        "Hello Science IT,",
        "",
        f"{opening}. cborg-doctor {report.tool.get('version')} says:",
        "",
        f"  {verdict.code} ({verdict.check}): {verdict.message}" if verdict else "  no problem found",
        "",
        f"Summary:   {report.status.value}; {counts_line(report)}"
        + (f"; interrupted by {report.interrupted}" if report.interrupted else ""),
        f"Run:       {report.created}, {report.duration_ms} ms",
        f"Gateway:   {report.target.get('base_url')}",
        f"Key:       {key_text}",
        f"Public IP: {public_ip(report)}",
    ]
    environment = [
        "",
        "Environment:",
        f"  OS:        {env.get('platform') or env.get('os')} ({env.get('machine') or '?'})",
        f"  Python:    {env.get('python')}",
        f"  Libraries: {libraries}",
    ]
    if env.get("ci"):
        environment.append(f"  CI:        {env['ci']}")
    if env.get("wsl"):
        environment.append("  WSL:       yes")
    failing = [c for c in report.checks if c.status in (Status.FAIL, Status.ERROR, Status.WARN)]
    details: list[str] = []
    if failing:
        details += ["", "Checks that failed or warned, with what they saw:"]
        for check in failing:
            details += _check_block(check, verdict.code if verdict else None)
    skipped = [c.id for c in report.checks if c.status is Status.SKIP and c.skipped_because
               and "was not selected" not in c.skipped_because]
    if skipped:
        details += ["", f"Not run because of those: {', '.join(skipped)}"]
    tail = ["", _attachment(report_paths), "", "Thank you,"]

    def clean(lines: list[str]) -> str:
        return redact_paths(scrub("\n".join(lines)), home)

    return Email(
        to=HELPDESK,
        subject=clean([subject_for(report)]),
        body=clean(head + environment + details + tail),
        short_body=clean([*head, *environment, "", "(Shortened to fit a mail link: please paste here the "
                          "full text that cborg-doctor --helpdesk printed.)", *tail]),
    )
