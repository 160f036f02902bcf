"""`--helpdesk`: the email a person sends to scienceit@lbl.gov, and its mailto: link."""

from __future__ import annotations

import json
import os
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from cborg_doctor.helpdesk import Email, redact_paths
from tests.doctor import run_doctor
from tests.plugin_site import install_plugin

LOCAL = ("--only", "config.key,config.base_url")
RULE = "─" * 72


def email_of(output: str) -> tuple[str, str]:
    """(the email text as printed, the mailto: link)."""
    start = output.index("To: scienceit@lbl.gov")
    end = output.index(RULE, start)
    link_line = next(line for line in output[end:].splitlines() if "mailto:" in line)
    return output[start:end], link_line.split(": ", 1)[1]


def parse_mailto(link: str) -> tuple[str, dict[str, str]]:
    parts = urlsplit(link)
    assert parts.scheme == "mailto"
    assert " " not in link and "\n" not in link
    fields = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
    return unquote(parts.path), fields


def test_failed_run_prints_the_email_with_cause_environment_facts_and_attachment(
    home: Path, canary_key: str
) -> None:
    run = run_doctor(*LOCAL, "--helpdesk", home=home, env={"CBORG_API_KEY": "  " + canary_key})
    assert run.code == 1
    text, link = email_of(run.stdout)
    lines = text.splitlines()
    assert lines[1] == "Subject: CBorg API problem: KEY_MALFORMED (config.key)"
    assert "  KEY_MALFORMED (config.key): The key from env:CBORG_API_KEY starts with whitespace." in text
    assert "Summary:   fail; 1 pass, 1 fail" in text
    assert "Gateway:   https://api.cborg.lbl.gov" in text
    assert f"Key:       {canary_key[:3]}…{canary_key[-4:]} (from env:CBORG_API_KEY)" in text
    assert "Environment:" in text and "  Python:    CPython " in text
    assert "  ✖ config.key (API key): fail" in text
    assert "        fingerprint:" not in text  # facts are those of the check, shown once
    assert "      source: env:CBORG_API_KEY" in text
    (report,) = (home / "reports").glob("cborg-doctor-*.md")
    assert f"Attached: the full report, ~/reports/{report.name}" in text
    assert str(home) not in text  # the home folder (and so the user name) is "~"
    # the last line is still the report's real path
    assert run.stdout.strip().splitlines()[-1] == f"Report: {report}"
    # the link opens the same email
    to, fields = parse_mailto(link)
    assert to == "scienceit@lbl.gov"
    assert fields["subject"] == "CBorg API problem: KEY_MALFORMED (config.key)"
    assert fields["body"].replace("\r\n", "\n") == text.split("\n\n", 1)[1].rstrip("\n")
    assert canary_key not in run.output


def test_nothing_personal_in_the_email(home: Path, tmp_path: Path) -> None:
    site = install_plugin(tmp_path / "site", "homeplugin", '''
        from cborg_doctor.api import Check, Code, Outcome, Severity
        SEEN = Code("LAB_FILE_BAD", Severity.FAIL, "bad file {path}")
        def run(ctx):
            path = str(ctx.home / "project" / ".env")
            return Outcome("looked", [SEEN.finding(path=path, data={"file": path})], {
                "other": "/home/alice/notes.txt and C:\\\\Users\\\\alice\\\\AppData\\\\x.json",
                "PATH": "/opt/very-secret-tool/bin:/usr/bin",
                "traceback": "Traceback (most recent call last): /opt/very-secret-tool",
            })
        CHECK = Check("lab.home", "Home files", run, codes=(SEEN,))
    ''', {"home": "homeplugin:CHECK"})
    env = {"PYTHONPATH": f"{site}{os.pathsep}{os.environ.get('PYTHONPATH', '')}", "USER": "alice"}
    run = run_doctor("--only", "lab.home", "--helpdesk", "--no-report", home=home, env=env)
    text, link = email_of(run.stdout)
    assert "LAB_FILE_BAD (lab.home): bad file ~/project/.env" in text
    assert text.count("bad file ~/project/.env") == 1  # the cause once, not three times
    assert "LAB_FILE_BAD: the cause named above" in text
    assert "file: ~/project/.env" in text
    assert "other: ~/notes.txt and ~\\AppData\\x.json" in text
    assert "alice" not in text and str(home) not in text
    assert "very-secret-tool" not in text  # no PATH, no traceback
    assert "No report file was written (--no-report)" in text
    assert "alice" not in unquote(link)


def test_passing_run_subject_and_json_mode(home: Path, canary_key: str) -> None:
    run = run_doctor(*LOCAL, "--helpdesk", "--json", home=home, env={"CBORG_API_KEY": canary_key})
    assert run.code == 0
    assert json.loads(run.stdout)["status"] == "pass"  # stdout is only the report
    text, _ = email_of(run.stderr)
    assert "Subject: CBorg API: cborg-doctor finds no problem, but it does not work for me" in text
    assert canary_key not in run.output


def test_without_the_option_no_email(home: Path) -> None:
    assert "scienceit@lbl.gov" not in run_doctor(*LOCAL, home=home).stdout


@pytest.mark.parametrize("subject", ["a & b ? c # d % e + f = g", "naïve — ünïcode ✓", "line\nbreak"])
def test_mailto_encodes_every_reserved_character(subject: str) -> None:
    body = "first line\nsecond: a&b=c?d#e%f+g\n"
    link = Email("scienceit@lbl.gov", subject, body, "short").mailto()
    to, fields = parse_mailto(link)
    assert to == "scienceit@lbl.gov"
    assert fields["subject"] == subject
    assert fields["body"] == body.replace("\n", "\r\n")  # RFC 6068: line breaks as CRLF
    assert link.isascii()


def test_long_body_falls_back_to_the_short_one() -> None:
    email = Email("scienceit@lbl.gov", "S", "x" * 5000, "short body")
    link = email.mailto()
    assert len(link) <= 1900
    assert parse_mailto(link)[1]["body"] == "short body"
    assert "x" * 5000 in email.text()  # the printed text stays whole


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/home/bob/.config/x and /home/bob", "~/.config/x and ~"),
        ("/Users/carol/Library/x", "~/Library/x"),
        ("C:\\Users\\dave\\AppData\\y", "~\\AppData\\y"),
        ("https://example.org/home/page", "https://example.org/home/page"),
        ("/var/tmp/x", "/var/tmp/x"),
    ],
)
def test_paths_lose_their_user_names(text: str, expected: str) -> None:
    assert redact_paths(text, Path("/home/bob")) == expected
