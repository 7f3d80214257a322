"""What a person sees: the live campaign view, the end-of-campaign summary, and the findings and stats tables.

On a terminal the live view redraws in place (rich); elsewhere (CI logs, pipes) it prints one status line every few
seconds, so a log still shows progress. While the live view is up, whatever TVM's C++ code writes to stderr
(warnings, LLVM diagnostics) goes to a log file beside the store instead: a stray line would tear the view apart.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Sequence

from rich.console import Console, Group
from rich.live import Live
from rich.panel import Panel
from rich.table import Table

from tzer.engine import CampaignResult, Progress
from tzer.records import CampaignStats
from tzer.store.base import CampaignRecord, StoredFinding

PLAIN_LINE_SECONDS = 5.0


def _rate(executions: int, elapsed: float) -> float:
    return executions / elapsed if elapsed > 0 else 0.0


def gpu_checks(s: CampaignStats) -> str:
    """The CUDA oracles' counts ("nvcc 40/41 compiled (98%)  gpu runs 12"); empty for a campaign without CUDA."""
    if not s.nvcc_checked and not s.gpu_runs:
        return ""
    rate = 100.0 * s.nvcc_accepted / s.nvcc_checked if s.nvcc_checked else 0.0
    return f"nvcc {s.nvcc_accepted}/{s.nvcc_checked} compiled ({rate:.0f}%)  gpu runs {s.gpu_runs}"


def status_line(progress: Progress) -> str:
    s = progress.stats
    symptoms = ", ".join(f"{name} {count}" for name, count in progress.by_symptom) or "none"
    busy = sum(w.state != "idle" for w in progress.workers)
    workers = f"  workers {busy}/{len(progress.workers)} busy" if progress.workers else ""
    covered = f"  cov {s.native_coverage} (tvm {s.coverage_tvm})" if s.native_coverage is not None else ""
    gpu = f"  {gpu_checks(s)}" if gpu_checks(s) else ""
    return (f"[{progress.phase.value}] {s.elapsed:7.1f}s  execs {s.executions}  {_rate(s.executions, s.elapsed):.2f}/s"
            f"{covered}{gpu}  valid {s.valid}  invalid {s.invalid}  findings {s.findings} ({symptoms}){workers}")


def _dashboard(progress: Progress | None) -> Panel:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold cyan", justify="right")
    table.add_column()
    if progress is None:
        table.add_row("status", "starting (importing TVM and PyTorch)")
        return Panel(table, title="tzer")
    s = progress.stats
    table.add_row("campaign", f"#{progress.campaign_id}  seed {progress.seed}  phase {progress.phase.value}")
    table.add_row("elapsed", f"{s.elapsed:.1f} s")
    table.add_row("executions", f"{s.executions}  ({_rate(s.executions, s.elapsed):.2f}/s)")
    table.add_row("valid / invalid", f"{s.valid} / {s.invalid}")
    if s.native_coverage is not None:
        table.add_row("coverage", f"{s.coverage_tvm} points of TVM's own code covered, {s.native_coverage} of "
                                  f"libtvm_compiler.so in all (with its LLVM and Z3)")
    if gpu_checks(s):
        table.add_row("CUDA", gpu_checks(s))
    table.add_row("feedback", f"{s.coverage or 0} features seen")
    busiest = sorted(s.mutators, key=lambda item: -item[1].tries)[:6]
    table.add_row("mutators", "  ".join(f"{name} {m.valid}/{m.tries}" for name, m in busiest) or "-")
    by_symptom = ", ".join(f"{name}: {count}" for name, count in progress.by_symptom) or "none"
    table.add_row("findings", f"{s.findings} ({s.new_findings} new)  by symptom: {by_symptom}")
    last = progress.last_finding
    table.add_row("last finding", f"#{last.finding_id}{' (new)' if last.new else ''}: {last.summary}" if last else "-")
    for w in progress.workers:
        doing = f"{w.state} ({w.generator})" if w.generator else w.state
        table.add_row(f"worker {w.index}", f"pid {w.pid or '-'}  {doing}  cases {w.cases}  restarts {w.restarts}")
    return Panel(table, title="tzer fuzz", subtitle="Ctrl-C stops and keeps everything")


class LiveView:
    """Receives `Progress` snapshots from the engine and shows them."""

    def __init__(self, console: Console, native_log: str):
        self.console = console
        self.native_log = native_log  # where stderr goes while the live view is up
        self.latest: Progress | None = None
        self._live: Live | None = None
        self._saved_stderr: int | None = None
        self._last_line = 0.0

    def __enter__(self) -> "LiveView":
        if self.console.is_terminal:
            self._redirect_stderr()
            self._live = Live(get_renderable=lambda: _dashboard(self.latest), console=self.console,
                              refresh_per_second=4, transient=False)
            self._live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.__exit__(None, None, None)
            self._restore_stderr()
            self.console.print(f"TVM's stderr during the campaign: {self.native_log}", highlight=False)
        elif self.latest is not None:
            self.console.print(status_line(self.latest), highlight=False)

    def _redirect_stderr(self) -> None:
        sys.stderr.flush()
        self._saved_stderr = os.dup(2)
        with open(self.native_log, "a", encoding="utf-8") as log:
            os.dup2(log.fileno(), 2)

    def _restore_stderr(self) -> None:
        if self._saved_stderr is not None:
            sys.stderr.flush()
            os.dup2(self._saved_stderr, 2)
            os.close(self._saved_stderr)
            self._saved_stderr = None

    def update(self, progress: Progress) -> None:
        self.latest = progress
        now = time.monotonic()
        if self._live is None and now - self._last_line >= PLAIN_LINE_SECONDS:
            self._last_line = now
            self.console.print(status_line(progress), highlight=False)


def findings_table(findings: Sequence[StoredFinding], title: str = "findings") -> Table:
    table = Table(title=title)
    for column in ("id", "symptom", "stage", "pass", "detail", "generator", "count", "target", "reduced"):
        table.add_column(column, overflow="fold")
    for f in findings:
        sig = f.signature
        reduced = f"{f.reduction.original_lines}->{f.reduction.lines} lines" if f.reduction else "-"
        table.add_row(str(f.id), sig.symptom.name.lower(), sig.stage.name.lower(), sig.guilty_pass or "-",
                      sig.detail, f.test_case.generator, str(f.count), f.target, reduced)
    return table


def campaign_summary(result: CampaignResult, findings: Sequence[StoredFinding], store: str) -> Group:
    s = result.stats
    phases = ", ".join(f"{name} {seconds:.1f}s" for name, seconds in result.phase_seconds)
    lines = [
        f"campaign #{result.campaign_id} stopped: {result.stop_reason.value}",
        f"executions {s.executions} in {s.elapsed:.1f}s ({_rate(s.executions, s.elapsed):.2f}/s), "
        f"valid {s.valid}, invalid {s.invalid}; phases: {phases}",
        f"findings: {s.findings} occurrence(s), {s.new_findings} new signature(s); store: {store}",
    ]
    if gpu_checks(s):
        lines.insert(2, f"CUDA: {gpu_checks(s)}")
    return Group(*lines, findings_table(findings, "findings of this campaign") if findings else "no findings")


def mutators_table(totals: dict[str, dict]) -> Table:
    """Per mutator, over the store's campaigns (`tzer stats`): tries, what became of them, and the invalid rate."""
    table = Table(title="mutators")
    columns = ("tries", "no_site", "invalid", "valid", "new", "findings")
    for column in ("mutator", *columns, "invalid rate"):
        table.add_column(column)
    for name, counts in totals.items():
        rate = counts["invalid_rate"]
        table.add_row(name, *(str(counts[c]) for c in columns), "-" if rate is None else f"{rate:.0%}")
    return table


def campaigns_table(campaigns: Sequence[CampaignRecord]) -> Table:
    table = Table(title="campaigns")
    for column in ("id", "mode", "target", "seed", "elapsed", "execs", "execs/s", "valid", "invalid", "findings",
                   "coverage", "tvm coverage", "stopped"):
        table.add_column(column)
    for c in campaigns:
        s = c.stats
        table.add_row(str(c.id), c.mode, c.target, str(c.seed), f"{s.elapsed:.1f}", str(s.executions),
                      f"{_rate(s.executions, s.elapsed):.2f}", str(s.valid), str(s.invalid), str(s.findings),
                      "-" if s.native_coverage is None else str(s.native_coverage),
                      "-" if s.coverage_tvm is None else str(s.coverage_tvm), c.stop_reason or "running or killed")
    return table


def coverage_table(report: dict, unit: str) -> Table:
    """`tzer coverage`: each input's native coverage beyond the baseline, and the totals in the caption."""
    table = Table(title=f"native coverage ({report['coverage']}) of {report['source']}")
    for column in ("input", "generator", "outcome", unit):
        table.add_column(column)
    for item in report["per_input"]:
        table.add_row(item["key"][:16], item["generator"], item["outcome"], str(item["covered"]))
    table.caption = (f"{report['inputs']} inputs cover {report['covered']} {unit} and {report['functions']} "
                     f"functions beyond a baseline of {report['baseline']} {unit} (import and warm-up), "
                     f"of {report['points']} {unit} in libtvm_compiler.so")
    return table
