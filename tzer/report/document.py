"""The campaign report (`tzer report`): built once from a store as a `Report`, then written as Markdown or as one
self-contained HTML file (plots embedded as PNG data), and summarized on the terminal with rich.

It holds: a summary per campaign (time, executions, valid rate, coverage, findings), coverage and findings over
time, a table of findings by symptom, stage and guilty pass, and per finding its signature, program (reduced where
it was), reproducer and history.
"""

from __future__ import annotations

import base64
import collections
import dataclasses
import datetime
import html
import os
from collections.abc import Sequence

from tzer.observe.guidance import guidance
from tzer.report.plots import coverage_plot, findings_plot
from tzer.store.base import CampaignRecord, Store, StoredFinding


@dataclasses.dataclass(frozen=True)
class CampaignRow:
    id: int
    mode: str
    seed: int
    target: str
    minutes: float
    executions: int
    valid_percent: float
    native_coverage: int | None
    coverage_tvm: int | None
    pass_share: float | None  # pass mutations over mutant tries (tzer.observe.guidance)
    never_fired: tuple[str, ...] | None  # passes of the vocabulary that never changed the IR; None: not measured
    features: int | None
    findings: int
    new_findings: int
    stopped: str


@dataclasses.dataclass(frozen=True)
class FindingGroup:
    symptom: str
    stage: str
    guilty_pass: str
    findings: int
    occurrences: int


@dataclasses.dataclass(frozen=True)
class Report:
    store: str
    tvm_versions: tuple[str, ...]
    campaigns: tuple[CampaignRow, ...]
    groups: tuple[FindingGroup, ...]
    findings: tuple[StoredFinding, ...]
    coverage_png: bytes
    findings_png: bytes


def build_report(store: Store, location: str) -> Report:
    campaigns = store.campaigns()
    timeline = store.timeline()
    findings = store.findings()
    rows = tuple(_campaign_row(c, [p.stats for p in timeline if p.campaign_id == c.id]) for c in campaigns)
    groups: dict[tuple[str, str, str], list[StoredFinding]] = collections.defaultdict(list)
    for finding in findings:
        sig = finding.signature
        groups[(sig.symptom.name.lower(), sig.stage.name.lower(), sig.guilty_pass)].append(finding)
    return Report(
        store=location,
        tvm_versions=tuple(sorted({c.tvm_version for c in campaigns} | {f.tvm_version for f in findings})),
        campaigns=rows,
        groups=tuple(FindingGroup(*key, len(group), sum(f.count for f in group))
                     for key, group in sorted(groups.items())),
        findings=tuple(findings),
        coverage_png=coverage_plot(timeline, campaigns),
        findings_png=findings_plot(timeline, campaigns),
    )


def _campaign_row(c: CampaignRecord, points: list) -> CampaignRow:
    measures = guidance(c.stats, points)
    return CampaignRow(
        c.id, c.mode, c.seed, c.target, c.stats.elapsed / 60, c.stats.executions,
        100.0 * c.stats.valid / c.stats.executions if c.stats.executions else 0.0, c.stats.native_coverage,
        c.stats.coverage_tvm, measures["pass_share"], tuple(measures["passes_never_fired"]) if c.stats.pass_firings
        else None, c.stats.coverage, c.stats.findings, c.stats.new_findings, c.stop_reason or "running or killed")


def _when(timestamp: float) -> str:
    return datetime.datetime.fromtimestamp(timestamp, datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def _title(finding: StoredFinding) -> str:
    sig = finding.signature
    where = f" in {sig.guilty_pass}" if sig.guilty_pass else ""
    return f"Finding {finding.id}: {sig.symptom.name.lower()} at {sig.stage.name.lower()}{where}"


def _campaign_cells(row: CampaignRow) -> list[str]:
    coverage = f"{row.native_coverage:,} blocks" if row.native_coverage is not None else \
        (f"{row.features} features" if row.features is not None else "-")
    own = f"{row.coverage_tvm:,} blocks" if row.coverage_tvm is not None else "-"
    share = f"{row.pass_share:.1%}" if row.pass_share is not None else "-"
    return [str(row.id), row.mode, str(row.seed), row.target, f"{row.minutes:.1f}", f"{row.executions:,}",
            f"{row.valid_percent:.1f}%", own, coverage, share, f"{row.findings} ({row.new_findings} new)",
            row.stopped]


CAMPAIGN_HEADER = ["campaign", "mode", "seed", "target", "minutes", "executions", "valid", "TVM's own coverage",
                   "all coverage", "pass mutations", "findings", "stopped"]


def _never_fired_lines(report: Report) -> list[str]:
    """One line per campaign that measured pass firings: the passes of the vocabulary that never changed the IR."""
    return [f"Campaign {row.id}: " + (", ".join(row.never_fired) if row.never_fired else "every pass fired")
            for row in report.campaigns if row.never_fired is not None]


GROUP_HEADER = ["symptom", "stage", "guilty pass", "findings", "occurrences"]


def _group_cells(group: FindingGroup) -> list[str]:
    return [group.symptom, group.stage, group.guilty_pass or "-", str(group.findings), str(group.occurrences)]


def _program(finding: StoredFinding) -> tuple[str, str]:
    """(caption, TVMScript) of the program a finding shows: the reduced one where it was reduced."""
    if finding.reduction is not None:
        reduction = finding.reduction
        state = "" if reduction.complete else ", stopped by its time limit"
        return (f"Reduced program ({reduction.original_lines} -> {reduction.lines} lines, "
                f"{reduction.checks} checks{state})", reduction.case.script)
    return "Program (not reduced: tzer reduce " + str(finding.id) + ")", finding.program_script


def _facts(finding: StoredFinding) -> list[tuple[str, str]]:
    facts = [("signature", finding.signature.detail), ("seen", f"{finding.count} time(s), first "
             f"{_when(finding.first_seen)}, last {_when(finding.last_seen)}"),
             ("target", finding.target), ("TVM", finding.tvm_version), ("generator", finding.test_case.generator)]
    if finding.test_case.mutations:
        facts.append(("mutations", ", ".join(step.mutator for step in finding.test_case.mutations)))
    if finding.blame:
        facts.append(("guilty (bisection)", ", ".join(finding.blame)))
    facts.append(("error", (finding.error.strip().splitlines() or [""])[0][:300]))
    return facts


def to_markdown(report: Report, image_stem: str) -> tuple[str, dict[str, bytes]]:
    """The Markdown text and the images it links ({file name: PNG}), named after `image_stem`."""
    images = {f"{image_stem}-coverage.png": report.coverage_png, f"{image_stem}-findings.png": report.findings_png}
    names = list(images)
    out = [f"# tzer report: {report.store}", "", f"TVM {', '.join(report.tvm_versions) or '-'}", "",
           "## Campaigns", "", _md_table(CAMPAIGN_HEADER, [_campaign_cells(r) for r in report.campaigns]), "",
           f"![coverage over time]({names[0]})", "", f"![findings over time]({names[1]})", "",
           "## Passes that never changed the IR", "", *(f"- {line}" for line in _never_fired_lines(report)), "",
           "## Findings by symptom, stage and guilty pass", "",
           _md_table(GROUP_HEADER, [_group_cells(g) for g in report.groups]), ""]
    for finding in report.findings:
        caption, script = _program(finding)
        out += [f"## {_title(finding)}", ""]
        out += [f"- **{key}**: {value}" for key, value in _facts(finding)]
        out += ["", f"**{caption}**", "", "```python", script.rstrip(), "```", ""]
        if finding.reproducer:
            out += ["<details><summary>Reproducer</summary>", "", "```python", finding.reproducer.rstrip(), "```",
                    "", "</details>", ""]
        out += ["History:", "", _md_table(["campaign", "test case", "seen"],
                                          [[str(o.campaign_id), o.test_case_key[:16], _when(o.seen_at)]
                                           for o in finding.history]), ""]
    return "\n".join(out), images


def _md_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(cell.replace("|", "\\|").replace("\n", " ") for cell in cells) + " |"

    return "\n".join([line(header), line(["---"] * len(header)), *(line(row) for row in rows)]) if rows else "(none)"


_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 72em; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; font-size: 0.9em; }
th { background: #f0f0f0; }
pre { background: #f7f7f7; border: 1px solid #ddd; padding: 0.6em; overflow-x: auto; font-size: 0.85em; }
img { max-width: 100%; border: 1px solid #ddd; margin: 0.5em 0; }
section.finding { border-top: 2px solid #888; margin-top: 2em; }
dt { font-weight: bold; } dd { margin: 0 0 0.4em 1.5em; }
"""


def to_html(report: Report) -> str:
    """One self-contained page: the plots are embedded as data, nothing is loaded from elsewhere."""
    e = html.escape
    parts = [f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>tzer report: {e(report.store)}</title>"
             f"<style>{_STYLE}</style></head><body>",
             f"<h1>tzer report: {e(report.store)}</h1><p>TVM {e(', '.join(report.tvm_versions) or '-')}</p>",
             "<h2>Campaigns</h2>", _html_table(CAMPAIGN_HEADER, [_campaign_cells(r) for r in report.campaigns]),
             _html_image(report.coverage_png, "coverage over time"),
             _html_image(report.findings_png, "findings over time"),
             "<h2>Passes that never changed the IR</h2><ul>",
             *(f"<li>{e(line)}</li>" for line in _never_fired_lines(report)), "</ul>",
             "<h2>Findings by symptom, stage and guilty pass</h2>",
             _html_table(GROUP_HEADER, [_group_cells(g) for g in report.groups])]
    for finding in report.findings:
        caption, script = _program(finding)
        facts = "".join(f"<dt>{e(key)}</dt><dd>{e(value)}</dd>" for key, value in _facts(finding))
        history = _html_table(["campaign", "test case", "seen"], [[str(o.campaign_id), o.test_case_key[:16],
                                                                   _when(o.seen_at)] for o in finding.history])
        reproducer = (f"<details><summary>Reproducer</summary><pre>{e(finding.reproducer)}</pre></details>"
                      if finding.reproducer else "<p>No reproducer yet: <code>tzer repro "
                      f"{finding.id}</code></p>")
        parts.append(f"<section class='finding' id='finding-{finding.id}'><h2>{e(_title(finding))}</h2>"
                     f"<dl>{facts}</dl><h3>{e(caption)}</h3><pre>{e(script)}</pre>{reproducer}"
                     f"<h3>History</h3>{history}</section>")
    parts.append("</body></html>")
    return "\n".join(parts)


def _html_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    if not rows:
        return "<p>(none)</p>"
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _html_image(png: bytes, alt: str) -> str:
    return f"<img alt='{alt}' src='data:image/png;base64,{base64.b64encode(png).decode()}'>"


def write_report(report: Report, path: str, form: str) -> list[str]:
    """Write the report as `form` ("md" or "html") to `path`; the paths written (Markdown links its plots)."""
    if form == "html":
        _write(path, to_html(report).encode())
        return [path]
    stem = os.path.splitext(os.path.basename(path))[0]
    text, images = to_markdown(report, stem)
    _write(path, text.encode())
    written = [path]
    for name, png in images.items():
        image_path = os.path.join(os.path.dirname(path), name)
        _write(image_path, png)
        written.append(image_path)
    return written


def _write(path: str, data: bytes) -> None:
    """Atomically: a reader never sees half a report."""
    temporary = f"{path}.tmp-{os.getpid()}"
    with open(temporary, "wb") as handle:
        handle.write(data)
    os.replace(temporary, path)


def findings_rich_table(report: Report):
    from rich.table import Table

    table = Table(title=f"findings in {report.store}")
    for column in GROUP_HEADER:
        table.add_column(column, justify="right" if column in ("findings", "occurrences") else "left")
    for group in report.groups:
        table.add_row(*_group_cells(group))
    return table
