"""The safety rules of `--fix`, one at a time, on real files (no subprocess)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from cborg_doctor.findings import Finding, Severity
from cborg_doctor.fixes.apply import FixSession
from cborg_doctor.fixes.guard import MAX_BYTES, Refused, read_for_edit
from cborg_doctor.fixes.journal import undo
from cborg_doctor.fixes.model import Change, FixContext, Plan, Remedy
from cborg_doctor.secrets import Scrubber


def _ctx(home: Path) -> FixContext:
    return FixContext(env={"HOME": str(home), "CBORG_DOCTOR_REPORT_DIR": str(home / "reports")},
                      home=home, key_source=None, allowed=(home,))


def test_a_file_larger_than_a_config_is_refused(home: Path) -> None:
    big = home / "big.json"
    big.write_bytes(b" " * (MAX_BYTES + 1))
    with pytest.raises(Refused, match="larger than 1024 KiB"):
        read_for_edit(big, (home,))


def test_a_file_outside_home_is_refused(home: Path, tmp_path: Path) -> None:
    with pytest.raises(Refused, match="outside your home folder"):
        read_for_edit(tmp_path / "x", (home,))


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root")
def test_as_root_another_users_file_is_refused(home: Path) -> None:
    path = home / ".bashrc"
    path.write_text("x=1\n")
    os.chown(path, 12345, 12345)
    with pytest.raises(Refused, match="belongs to another user and the doctor runs as root"):
        read_for_edit(path, (home,))


def _session(home: Path, lines: list[str]) -> FixSession:
    return FixSession(_ctx(home), Scrubber(None), lines.append, ask=None, yes=True)


def test_a_file_changed_after_planning_is_not_written(home: Path) -> None:
    path = home / "conf.env"
    path.write_bytes(b"A=1\n")

    def plan(finding: Finding, ctx: FixContext) -> list[Plan]:
        planned = [Plan("X", "set A", (Change(path, b"A=1\n", b"A=2\n", shown="~/conf.env"),))]
        path.write_bytes(b"A=1\nB=3\n")  # the person edits it meanwhile
        return planned

    lines: list[str] = []
    session = _session(home, lines)
    session.offer(Finding("X", Severity.WARN, "m"), Remedy("set A", plan))
    assert [(r.outcome, r.detail) for r in session.records] == [
        ("refused", "~/conf.env changed since the diagnosis; run the doctor again")]
    assert path.read_bytes() == b"A=1\nB=3\n" and session.journal.folder is None


def test_undo_restores_what_it_can_and_keeps_the_rest_for_later(home: Path) -> None:
    first, second = home / "a.env", home / "b.env"
    first.write_bytes(b"A=1\r\n")
    second.write_bytes(b"B=1\n")
    os.chmod(second, 0o640)

    def plan(finding: Finding, ctx: FixContext) -> list[Plan]:
        return [Plan("X", "both", (Change(first, b"A=1\r\n", b"A=2\r\n", shown="~/a.env"),
                                   Change(second, b"B=1\n", b"B=2\n", shown="~/b.env")))]

    session = _session(home, [])
    session.offer(Finding("X", Severity.WARN, "m"), Remedy("both", plan))
    assert first.read_bytes() == b"A=2\r\n" and second.stat().st_mode & 0o777 == 0o640
    second.write_bytes(b"B=9\n")
    lines, ok = undo(_ctx(home).env)
    assert not ok and lines[0].startswith("refused: ~/b.env changed since the fix")
    assert lines[1] == "restored: ~/a.env" and first.read_bytes() == b"A=1\r\n"
    second.write_bytes(b"B=2\n")  # put back as the fix left it: the second --undo restores it
    assert undo(_ctx(home).env) == (["restored: ~/b.env"], True)
    assert second.read_bytes() == b"B=1\n" and second.stat().st_mode & 0o777 == 0o640
