"""The HTML report: one self-contained page made from the report data with a template.

No script, no external stylesheet, font or image, so it works offline and as an
email attachment, and prints well (colours kept, no cut tables). Every value
that comes from the run (a server's answer may be hostile) goes through
`html.escape`; code samples in fix steps become ``<pre><code>`` blocks.

Sections: the title (verdict and date), the verdict box with its fix steps,
the environment, a table of the checks, the findings with their fix steps, the
timing waterfall as CSS bars (a stalled phase drawn up to when it was given
up) and the ``--repeat`` statistics.
"""

from __future__ import annotations

import re
from html import escape
from string import Template

from ..check import CheckResult
from ..findings import Finding, Severity, Status
from ..report import Report
from ..waterfall import REPEAT_HEADER, bars, failure_kinds, repeat_rows
from .text import SYMBOLS, counts_line, headline, other_problems

PAGE = Template("""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>$title</title>
<style>
$css
</style>
</head>
<body>
<main>
<header>
<h1>cborg-doctor report</h1>
<p class="meta">$created · $gateway · cborg-doctor $version</p>
</header>
<section id="verdict" class="verdict $status">
<h2>$headline</h2>
$verdict
</section>
<section id="environment">
<h2>Environment</h2>
<table class="facts"><tbody>
$environment
</tbody></table>
</section>
<section id="checks">
<h2>Checks <span class="counts">($counts)</span></h2>
<div class="scroll"><table class="checks">
<thead><tr><th></th><th>Check</th><th>Status</th><th>Summary</th><th class="num">Time</th></tr></thead>
<tbody>
$checks
</tbody></table></div>
</section>
$findings
$fixes
$waterfall
$repeat
<footer><p>Made by cborg-doctor $version on $created. The key appears only as its fingerprint.</p></footer>
</main>
</body>
</html>
""")

CSS = """
:root { --pass: #1a7f37; --warn: #9a6700; --fail: #cf222e; --skip: #6e7781; --error: #8250df;
        --line: #d0d7de; --soft: #f6f8fa; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
       color: #1f2328; background: #fff; }
main { max-width: 60rem; margin: 0 auto; padding: 1rem; }
h1 { font-size: 1.5rem; margin: 0; }
h2 { font-size: 1.2rem; margin: 1.5rem 0 .5rem; }
h3 { font-size: 1rem; margin: 1rem 0 .25rem; }
.meta, .counts, footer { color: #59636e; font-size: .9rem; }
code, pre { font: .9em/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
code { overflow-wrap: anywhere; }
pre { background: var(--soft); border: 1px solid var(--line); padding: .75rem; overflow-x: auto;
      white-space: pre; max-width: 100%; }
td, p, li { overflow-wrap: anywhere; }
th { overflow-wrap: normal; }
.verdict { border: 2px solid var(--line); border-left-width: .5rem; padding: .25rem 1rem .75rem;
           border-radius: .375rem; background: var(--soft); }
.verdict h2 { margin-top: .5rem; }
.verdict.pass { border-color: var(--pass); } .verdict.warn { border-color: var(--warn); }
.verdict.fail, .verdict.error { border-color: var(--fail); } .verdict.skip { border-color: var(--skip); }
.scroll { max-width: 100%; overflow-x: auto; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; vertical-align: top; padding: .3rem .5rem; border-bottom: 1px solid var(--line); }
th.num, td.num { text-align: right; white-space: nowrap; }
table.facts th { width: 6.5rem; color: #59636e; font-weight: normal; }
.status { font-weight: 600; white-space: nowrap; }
tr.pass .status, .sev.info { color: var(--pass); }
tr.warn .status, .sev.warn { color: var(--warn); }
tr.fail .status, .sev.fail { color: var(--fail); }
tr.skip .status, tr.skip td { color: var(--skip); }
tr.error .status { color: var(--error); }
.finding { border-top: 1px solid var(--line); padding-top: .25rem; }
.sev { font-weight: 600; }
ol.fix li { margin: .25rem 0; }
.also li { margin: .15rem 0; }
.waterfall { display: grid; grid-template-columns: minmax(5rem, 8rem) 1fr minmax(5rem, auto); gap: .3rem .5rem;
             align-items: center; }
.track { position: relative; height: 1.1rem; background: var(--soft); border: 1px solid var(--line); }
.bar { position: absolute; top: 0; bottom: 0; min-width: 2px; }
.bar.dns { background: #0969da; } .bar.tcp { background: #1f6feb; } .bar.tls { background: #8250df; }
.bar.ttfb { background: var(--pass); }
.bar.failed { background: var(--fail); width: 3px; }
.bar.stalled { background: repeating-linear-gradient(45deg, var(--fail) 0 6px, #ffd8d3 6px 12px); }
.figure { font-variant-numeric: tabular-nums; white-space: nowrap; }
.figure.bad { color: var(--fail); }
.note { color: var(--fail); }
@media (max-width: 30rem) {
  main { padding: .5rem; }
  .waterfall { grid-template-columns: 4.5rem 1fr; }
  .waterfall .figure { grid-column: 2; font-size: .85rem; }
  table.checks th:nth-child(5), table.checks td:nth-child(5) { display: none; }
}
@media print {
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  body { font-size: 11pt; } main { max-width: none; padding: 0; }
  .scroll { overflow: visible; } pre { white-space: pre-wrap; }
  section, tr, .finding { break-inside: avoid; }
}
"""

_FENCE = re.compile(r"```([a-z]*)\n(.*?)```", re.S)
_CODE_SPAN = re.compile(r"`([^`\n]+)`")


def _inline(text: str) -> str:
    """Escaped text with `code spans` as <code>; lines after the first are kept verbatim."""
    head, _, rest = text.partition("\n")
    out = _CODE_SPAN.sub(lambda m: f"<code>{m.group(1)}</code>", escape(head))
    if rest.strip():
        out += f"<pre><code>{escape(rest.strip(chr(10)))}</code></pre>"
    return out


def _step(step: str) -> str:
    """A fix step; a fenced code sample in it becomes a <pre> block, copied as it is."""
    parts: list[str] = []
    last = 0
    for match in _FENCE.finditer(step):
        parts.append(_inline(step[last:match.start()].rstrip()))
        language = escape(match.group(1) or "text")
        parts.append(f'<pre><code class="language-{language}">{escape(match.group(2))}</code></pre>')
        last = match.end()
    parts.append(_inline(step[last:].strip()) if last else _inline(step))
    return "".join(p for p in parts if p)


def _steps(fix: tuple[str, ...]) -> str:
    if not fix:
        return ""
    return '<ol class="fix">' + "".join(f"<li>{_step(s)}</li>" for s in fix) + "</ol>"


def _verdict(report: Report) -> str:
    verdict = report.verdict
    if verdict is None:
        return f"<p>{escape(counts_line(report))}.</p>"
    out = (f"<p><strong><code>{escape(verdict.code)}</code></strong> ({escape(verdict.check)}): "
           f"{_inline(verdict.message)}</p>{_steps(verdict.fix)}")
    others = other_problems(report)
    if others:
        out += f"<p>Also {len(others)} more {'problem' if len(others) == 1 else 'problems'}:</p><ul class=\"also\">"
        out += "".join(f"<li><code>{escape(p.finding.code)}</code> ({escape(p.check.id)}): "
                       f"{escape(p.finding.message.splitlines()[0])}</li>" for p in others)
        out += "</ul>"
    return out


def _environment(report: Report) -> str:
    env = report.environment
    key = report.key
    libs = ", ".join(f"{k} {v}" for k, v in (env.get("libraries") or {}).items()) or "–"
    proxy = next((c.summary for c in report.checks if c.id == "config.proxy"), None)
    rows = [
        ("Gateway", report.target.get("base_url")),
        ("Key", f"{key['fingerprint']} (from {key['source']})" if key.get("fingerprint") else "none found"),
        ("Run", f"{report.created}, {report.duration_ms} ms"
                + (f", interrupted by {report.interrupted}" if report.interrupted else "")),
        ("OS", f"{env.get('platform') or env.get('os') or '?'}"
               + (f" ({env['machine']})" if env.get("machine") else "")),
        ("Python", env.get("python")),
        ("Libraries", libs),
        ("CI", env.get("ci") or "no"),
        ("WSL", "yes" if env.get("wsl") else "no"),
        ("Proxy", proxy),
    ]
    return "\n".join(f"<tr><th>{escape(name)}</th><td>{escape(str(value))}</td></tr>"
                     for name, value in rows if value is not None)


def _check_row(check: CheckResult) -> str:
    summary = check.summary if check.status is not Status.SKIP else f"skipped: {check.summary}"
    time = f"{check.duration_ms} ms" if check.status is not Status.SKIP else ""
    return (f'<tr class="{check.status.value}" id="check-{escape(check.id)}">'
            f'<td class="status">{SYMBOLS[check.status]}</td>'
            f"<td><code>{escape(check.id)}</code><br>{escape(check.title)}</td>"
            f'<td class="status">{check.status.value}</td>'
            f"<td>{escape(summary.splitlines()[0] if summary else '')}</td>"
            f'<td class="num">{time}</td></tr>')


def _finding(finding: Finding) -> str:
    sev = finding.severity.value
    return (f'<div class="finding"><p><span class="sev {sev}">{sev}</span> '
            f"<strong><code>{escape(finding.code)}</code></strong>: {_inline(finding.message)}</p>"
            f"{_steps(finding.fix)}</div>")


def _findings(report: Report, verbose: bool) -> str:
    blocks = []
    for check in report.checks:
        shown = [f for f in check.findings if verbose or f.severity is not Severity.INFO or f.fix]
        if not shown:
            continue
        blocks.append(f'<h3>{SYMBOLS[check.status]} <code>{escape(check.id)}</code> — '
                      f"{escape(check.title)} ({check.status.value})</h3>"
                      + "".join(_finding(f) for f in shown))
    if not blocks:
        return ""
    return '<section id="findings"><h2>Findings and fixes</h2>\n' + "\n".join(blocks) + "</section>"


def _fixes(report: Report) -> str:
    """A run with --fix: each remedy offered, its outcome, and the files it changed."""
    if report.fixes is None:
        return ""
    if not report.fixes:
        return '<section id="fixes"><h2>Fixes (--fix)</h2><p>Nothing to fix automatically.</p></section>'
    items = []
    for fix in report.fixes:
        detail = f" ({fix['detail']})" if fix.get("detail") else ""
        files = ", ".join(str(f.get("path")) for f in fix.get("files") or [])
        items.append(f"<li>{escape(str(fix.get('outcome')))}: {escape(str(fix.get('code')))}: "
                     f"{escape(str(fix.get('remedy')))}{escape(detail)}"
                     + (f"<br><code>{escape(files)}</code>" if files else "") + "</li>")
    return '<section id="fixes"><h2>Fixes (--fix)</h2><ul class="fixes">' + "".join(items) + "</ul></section>"


def _figure(ms: float) -> str:
    return f"{ms / 1000:.1f} s" if ms >= 10000 else f"{ms:.0f} ms"


def _waterfall(report: Report) -> str:
    rows = bars(report)
    if not rows:
        return ""
    end = max(row.start + (row.ms or 0.0) for row in rows) or 1.0
    cells = []
    for row in rows:
        left = min(row.start / end * 100, 100.0)
        if row.stalled:
            width = 100.0 - left if row.ms is None else min(row.ms / end * 100, 100.0 - left)
            figure = f"gave up after {_figure(row.ms)}" if row.ms is not None else "gave up"
            bar, cls = f'<div class="bar {row.kind} stalled" style="left:{left:.2f}%;width:{width:.2f}%"></div>', "bad"
        elif row.ms is None:
            figure = f"✖ {row.note or 'failed'}"
            bar, cls = f'<div class="bar failed" style="left:{left:.2f}%"></div>', "bad"
        else:
            width = max(min(row.ms / end * 100, 100.0 - left), 0.3)
            figure = _figure(row.ms)
            bar, cls = f'<div class="bar {row.kind}" style="left:{left:.2f}%;width:{width:.2f}%"></div>', ""
        title = escape(f"{row.label}: starts at {row.start:.0f} ms; {figure}", quote=True)
        cells.append(f'<div class="label">{escape(row.label)}</div>'
                     f'<div class="track" title="{title}">{bar}</div>'
                     f'<div class="figure {cls}">{escape(figure)}</div>')
    stalled = next((row for row in rows if row.stalled), None)
    note = f'<p class="note">{escape(row_note(stalled))}</p>' if stalled else ""
    return ('<section id="timing"><h2>Timing of one request</h2>'
            f'<p class="meta">0 – {_figure(end)}</p><div class="waterfall">'
            + "".join(cells) + f"</div>{note}</section>")


def row_note(row: object) -> str:
    return f"{getattr(row, 'label', '')} {getattr(row, 'note', '')}".strip()


def _repeat(report: Report) -> str:
    rows = repeat_rows(report)
    if not rows:
        return ""
    data = next(c.data for c in report.checks if c.id == "repeat")
    head = "".join(f'<th{" class=num" if i else ""}>{escape(h)}</th>' for i, h in enumerate(REPEAT_HEADER))
    body = "".join("<tr>" + "".join(f'<td{" class=num" if i else ""}>{escape(v)}</td>' for i, v in enumerate(row))
                   + "</tr>" for row in rows)
    kinds = failure_kinds(data)
    extra = f"<p>What failed: {escape(kinds)}</p>" if kinds else ""
    title = f"{data.get('rounds')} rounds, every {data.get('interval_s')} s"
    return (f'<section id="repeat"><h2>Repeated probes</h2><p class="meta">{escape(title)}</p>'
            f'<div class="scroll"><table class="repeat"><thead><tr>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table></div>{extra}</section>")


def title_of(report: Report) -> str:
    """``cborg-doctor: DNS_NXDOMAIN (dns) – 2026-11-25`` — what a browser tab and a mail show."""
    verdict = report.verdict
    day = report.created[:10]
    what = f"{verdict.code} ({verdict.check})" if verdict else "no problems found"
    return f"cborg-doctor: {what} – {day}"


def render(report: Report, verbose: bool = False) -> str:
    return PAGE.substitute(
        title=escape(title_of(report)),
        css=CSS.strip(),
        created=escape(report.created),
        gateway=escape(str(report.target.get("base_url"))),
        version=escape(str(report.tool.get("version"))),
        status=report.status.value,
        headline=escape(headline(report)),
        verdict=_verdict(report),
        environment=_environment(report),
        counts=escape(counts_line(report)),
        checks="\n".join(_check_row(c) for c in report.checks),
        findings=_findings(report, verbose),
        fixes=_fixes(report),
        waterfall=_waterfall(report),
        repeat=_repeat(report),
    )
