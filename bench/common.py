"""Pieces the benchmarks in bench/ share: the common flags, CPU seconds, the environment header, one tzer campaign on
a fresh temporary store, the alternating runs, the results table and the medians + `ratio=` summary.

Not a benchmark: the scripts import it as `from common import ...` (they run as `python bench/NAME.py`, so this
folder is on sys.path; each script also puts it there itself, whatever the working directory).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from typing import Any, Callable, NamedTuple, Sequence

import numpy as np


def cpu_seconds() -> float:
    """User + system CPU seconds of this process and of its children reaped so far (a fork-server child counts once
    the backend's close() has reaped it)."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def make_parser(description: str) -> argparse.ArgumentParser:
    """The flags every benchmark takes: --iterations, --runs, --seed, --warmup (a script may add its own after)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--iterations", type=int, default=40, help="programs per run (default 40)")
    parser.add_argument("--runs", type=int, default=3, help="runs per side, alternating (default 3)")
    parser.add_argument("--seed", type=int, default=0, help="campaign seed; both sides draw from it (default 0)")
    parser.add_argument("--warmup", type=int, default=3, help="programs executed untimed on each side first")
    return parser


def parse_args(parser: argparse.ArgumentParser, argv: list[str] | None) -> argparse.Namespace:
    """Parse and check the common flags (exits with a usage error, as argparse does, when they are out of range)."""
    args = parser.parse_args(argv)
    if args.iterations <= 0 or args.runs <= 0 or args.warmup < 0:
        parser.error("--iterations and --runs must be positive, --warmup non-negative")
    if not 0 <= args.seed < 2**63:
        parser.error("--seed must be in [0, 2^63)")
    return args


def print_header(args: argparse.Namespace, extra: str = "") -> None:
    """The two header lines: versions, CPUs, torch threads and load average; then the settings (+ `extra`)."""
    import torch
    import tvm

    print(f"tvm {tvm.__version__}, torch {torch.__version__}, numpy {np.__version__}, python "
          f"{sys.version.split()[0]}, {os.cpu_count()} CPUs, torch threads {torch.get_num_threads()}"
          + (f", load average {os.getloadavg()[0]:.2f}" if hasattr(os, "getloadavg") else ""))
    print(f"seed {args.seed}, {args.iterations} programs per run, {args.runs} runs per side, "
          f"{args.warmup} warm-up programs per side{extra}", flush=True)


@dataclass
class Campaign:
    """What one timed tzer campaign gives: wall and CPU seconds (this process and its reaped children), the
    campaign's stats, its findings by symptom, and its stored findings as sorted (signature, count) pairs."""

    seconds: float
    cpu: float
    stats: Any
    by_symptom: Any
    findings: list

    @property
    def stats_rate(self) -> float:
        """The campaign's own executions / elapsed."""
        stats = self.stats
        return stats.executions / stats.elapsed if stats.elapsed > 0 else float("nan")


def campaign(seed: int, iterations: int, runner, isolation: str, label: str | None = None, mode: str = "generate",
             wrap: Callable[[Any], Any] = lambda backend: backend) -> Campaign:
    """One `mode` campaign on a fresh temporary store, its test cases run by the `isolation` backend around `runner`
    (handed to the engine through `wrap`, e.g. to record what it is given).

    Timed with `time.perf_counter` and `cpu_seconds` around `Engine.run()` only. Raises RuntimeError, naming the
    campaign `label` (default: `isolation`), if it stops before its iteration budget.
    """
    from tzer.config import FuzzConfig
    from tzer.engine import Engine, StopReason
    from tzer.execute.backends import make_backend
    from tzer.store.base import open_store

    with tempfile.TemporaryDirectory(prefix="tzer-bench-") as tmp:
        path = os.path.join(tmp, "bench.db")
        config = FuzzConfig(seed=seed, iterations=iterations, store=path, corpus=None, isolation=isolation,
                            mode=mode)
        store = open_store(path, create=True)
        try:
            backend = wrap(make_backend(config, runner))  # before the timer: ForkServer warms the runner up here
            engine = Engine(config, store, backend)
            start, cpu_start = time.perf_counter(), cpu_seconds()
            result = engine.run()  # closes the backend: the fork-server child is reaped before run() returns
            seconds, cpu = time.perf_counter() - start, cpu_seconds() - cpu_start
            findings = sorted((tuple(f.signature.to_json().values()), f.count) for f in store.findings())
        finally:
            store.close()
    if result.stop_reason is not StopReason.ITERATION_BUDGET:
        raise RuntimeError(f"{label or isolation} campaign stopped early: {result.stop_reason.value}")
    return Campaign(seconds, cpu, result.stats, result.by_symptom, findings)


class Run(NamedTuple):
    """One timed run of one side: `outcome` is whatever the side's measure function returned with its times."""

    side: str
    run: int
    seconds: float
    cpu: float
    rate: float
    cpu_rate: float
    outcome: Any


def alternate(sides: Sequence[str], args: argparse.Namespace,
              measure: Callable[[str, int], tuple[float, float, Any]]) -> list[Run]:
    """Warm each side up untimed (`args.warmup` programs), then run the sides in turn, `args.runs` times each, with
    `measure(side, iterations) -> (wall seconds, CPU seconds, outcome)`, printing a line per run."""
    if args.warmup:
        for side in sides:
            measure(side, args.warmup)
    runs = []
    for run in range(1, args.runs + 1):
        for side in sides:
            seconds, cpu, outcome = measure(side, args.iterations)
            runs.append(Run(side, run, seconds, cpu, args.iterations / seconds, args.iterations / cpu, outcome))
            print(f"  {side:<4} run {run}: {seconds:6.2f} s, {runs[-1].rate:5.2f} execs/s", flush=True)
    return runs


def print_table(runs: Sequence[Run], describe: Callable[[Run], tuple[str, str]], timed: str, own: str) -> None:
    """The results table, `describe(run) -> (stats column, verdicts)` filling the last two columns, and its legend:
    `timed` is what the wall clock was around, `own` whose executions / elapsed the stats column is."""
    print()
    print(f"{'side':<5} {'run':>3} {'wall s':>7} {'cpu s':>7} {'execs/s':>8} {'per cpu-s':>9} {'stats':>6}  verdicts")
    for run in runs:
        stats_rate, verdicts = describe(run)
        print(f"{run.side:<5} {run.run:>3} {run.seconds:>7.2f} {run.cpu:>7.2f} {run.rate:>8.2f} {run.cpu_rate:>9.2f} "
              f"{stats_rate:>6}  {verdicts}")
    print(f"execs/s: programs / perf_counter seconds around {timed} (the headline number);")
    print("per cpu-s: programs / CPU seconds of this process and its reaped children (less sensitive to other load);")
    print(f"stats: {own} executions / elapsed, for reference.")


def print_summary(runs: Sequence[Run], baseline: str, candidate: str) -> None:
    """The load average at the end, the medians of both sides per wall and per CPU second, the ratio of each pair of
    runs (run k of the candidate over run k of the baseline, taken one after the other), and last
    `ratio=<the median of the paired ratios>`.

    Why paired: this machine's speed drifts by 10-40% over minutes whatever else runs (a shared host; CPU seconds
    drift too), so the medians of each side move with the drift, while two runs taken one after the other see
    nearly the same machine. The spread of the paired ratios is how stable the result is."""
    if hasattr(os, "getloadavg"):
        print(f"load average at the end: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")

    def rates(side: str, field: str) -> list[float]:
        return [getattr(run, field) for run in runs if run.side == side]

    base_median, cand_median = (statistics.median(rates(side, "rate")) for side in (baseline, candidate))
    base_cpu, cand_cpu = (statistics.median(rates(side, "cpu_rate")) for side in (baseline, candidate))
    paired = [c / b for b, c in zip(rates(baseline, "rate"), rates(candidate, "rate"))]
    paired_cpu = [c / b for b, c in zip(rates(baseline, "cpu_rate"), rates(candidate, "cpu_rate"))]
    print()
    for side in (baseline, candidate):
        side_rates = rates(side, "rate")
        print(f"spread of {side}: {max(side_rates) / min(side_rates) - 1:.1%} (max/min - 1 of its {len(side_rates)} "
              f"runs' execs/s: the machine's drift)")
    print(f"median execs/s:       {baseline} {base_median:6.2f}   {candidate} {cand_median:6.2f}   "
          f"ratio of medians {cand_median / base_median:.3f}")
    print(f"median execs/cpu-s:   {baseline} {base_cpu:6.2f}   {candidate} {cand_cpu:6.2f}   "
          f"cpu ratio {statistics.median(paired_cpu):.3f} (paired)")
    quartiles = statistics.quantiles(paired, n=4) if len(paired) > 1 else [paired[0]] * 3
    print(f"paired ratios: {', '.join(f'{r:.3f}' for r in paired)}")
    print(f"paired ratio median {statistics.median(paired):.3f}, quartiles {quartiles[0]:.3f}-{quartiles[2]:.3f}")
    print(f"ratio={statistics.median(paired):.3f}")
