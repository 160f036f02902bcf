"""JUnit XML: one testcase per check, the way CI systems display test results.

fail → <failure>, error (the check crashed) → <error>, skip → <skipped>;
warnings pass but are listed in <system-out>.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from ..findings import Status
from ..report import Report

# Characters XML 1.0 cannot hold even escaped; a server's answer may carry them into a message.
_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _details(check_findings: tuple, fix: bool = True) -> str:  # type: ignore[type-arg]
    parts = []
    for f in check_findings:
        parts.append(f"[{f.severity.value}] {f.code}: {f.message}")
        if fix:
            parts += [f"  {n}. {step}" for n, step in enumerate(f.fix, 1)]
    return "\n".join(parts)


def render(report: Report, verbose: bool = False) -> str:
    counts = report.counts
    suites = ET.Element("testsuites", name="cborg-doctor")
    suite = ET.SubElement(
        suites,
        "testsuite",
        name="cborg-doctor",
        tests=str(len(report.checks)),
        failures=str(counts["fail"]),
        errors=str(counts["error"]),
        skipped=str(counts["skip"]),
        time=f"{report.duration_ms / 1000:.3f}",
        timestamp=report.created,
    )
    props = ET.SubElement(suite, "properties")
    for name, value in (
        ("base_url", report.target.get("base_url")),
        ("key", report.key.get("fingerprint")),
        ("status", report.status.value),
    ):
        ET.SubElement(props, "property", name=name, value=str(value))
    for check in report.checks:
        case = ET.SubElement(
            suite,
            "testcase",
            classname=f"cborg-doctor.{check.id}",
            name=f"{check.id}: {check.title}",
            time=f"{check.duration_ms / 1000:.3f}",
        )
        worst = next(
            (f for f in check.findings if f.status.rank >= Status.FAIL.rank), None
        ) or (check.findings[0] if check.findings else None)
        headline = f"{worst.code}: {worst.message}" if worst else check.summary
        if check.status is Status.FAIL:
            el = ET.SubElement(case, "failure", message=headline, type=worst.code if worst else "fail")
            el.text = _details(check.findings)
        elif check.status is Status.ERROR:
            el = ET.SubElement(case, "error", message=headline, type=worst.code if worst else "error")
            el.text = _details(check.findings) + (
                "\n" + str(check.data.get("traceback", "")) if verbose else ""
            )
        elif check.status is Status.SKIP:
            ET.SubElement(case, "skipped", message=check.skipped_because or check.summary)
        out = ET.SubElement(case, "system-out")
        out.text = check.summary + ("\n" + _details(check.findings) if check.findings else "")
    ET.indent(suites)
    text = ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"
    return _NOT_XML.sub("\ufffd", text)
