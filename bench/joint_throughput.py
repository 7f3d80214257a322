"""Throughput of tzer's joint mode against a raw loop doing the floor work for the very same test cases.

What it measures, in one process:

* tzer: a whole joint-mode campaign (`tzer fuzz --mode joint`'s engine, scheduler and oracles, native coverage
  attached as `tzer fuzz` attaches it, the persistent fork server, a fresh temporary SQLite store, no triage phase),
  `--iterations N` test cases from seed S. Every test case the engine submits is recorded, in order.
* raw: the floor work of those same test cases, in the same order: build the program, apply its mutation steps,
  draw its inputs, compile it with its pass configuration and run it once (the fuzzed build); then its reference:
  for a mutant whose steps changed the meaning, compile it with all loops serial under the minimal pipeline and run
  that once (the minimal-lowering build); for an unmutated program or one whose steps keep the meaning (schedule
  primitives), PyTorch's float64 reference. No store, no engine, no bounds proof, no uninitialised-read fills, no
  comparison, no bisection: what any differential fuzzer of these mutants must do at least.

The sides alternate (tzer, raw on the cases tzer just ran, tzer, ...), R runs each; each tzer run is a new campaign
with the same seed (with coverage feedback its test cases may differ a little run to run: the raw side always
replays the cases of the tzer run before it). The last line is `ratio=` (tzer over raw, the median of the paired
runs: common.print_summary); the table gives each run, and the quartiles of the paired ratios say how stable it was.

    .venv/bin/python bench/joint_throughput.py [--iterations N] [--runs R] [--seed S] [--warmup W]
"""

from __future__ import annotations

import os
import sys
import time

_BENCH = os.path.dirname(os.path.abspath(__file__))
if _BENCH not in sys.path:
    sys.path.insert(0, _BENCH)

from common import Run, campaign, cpu_seconds, make_parser, parse_args, print_header, print_summary, print_table


class RecordingBackend:
    """A backend that records every test case submitted to the one it wraps."""

    def __init__(self, backend, submitted: list):
        self._backend = backend
        self.submitted = submitted

    def submit(self, test_case) -> None:
        self.submitted.append(test_case)
        self._backend.submit(test_case)

    def __getattr__(self, name):
        return getattr(self._backend, name)


def tzer_run(seed: int, iterations: int, runner):
    """One joint campaign (common.campaign): its Campaign outcome, and the test cases it ran, in order."""
    submitted: list = []
    outcome = campaign(seed, iterations, runner, "fork", label="joint", mode="joint",
                       wrap=lambda backend: RecordingBackend(backend, submitted))
    return outcome, submitted


def raw_floor(test_cases, executor) -> tuple[float, float, dict[str, int]]:
    """The floor work of `test_cases`: the fuzzed build run once, and the reference its oracle needs."""
    import numpy as np
    import torch

    from tzer.execute.pipeline import MINIMAL_PIPELINE
    from tzer.generate.inputs import draw_inputs
    from tzer.judge.bounds import serialize_loops
    from tzer.mutate.apply import apply_steps, preserves_semantics, split_gpu_steps
    from tzer.records import PassConfig
    from tzer.runner import build

    counts = {"builds": 0, "failed": 0, "pytorch": 0, "no_site": 0}
    start, cpu_start = time.perf_counter(), cpu_seconds()
    for test_case in test_cases:
        program = build(test_case)
        mutated = apply_steps(program.mod, split_gpu_steps(test_case.mutations)[0])
        if mutated.mod is None:
            counts["no_site"] += 1
            continue
        inputs = draw_inputs(program.inputs, test_case.input_seed)
        output = program.output
        builds = [(mutated.mod, test_case.passes)]
        if mutated.applied and not preserves_semantics(mutated.applied):
            builds.append((serialize_loops(mutated.mod), PassConfig(pipeline=MINIMAL_PIPELINE)))
        else:
            with torch.no_grad():
                program.reference([torch.from_numpy(x).to(torch.float64) for x in inputs])
            counts["pytorch"] += 1
        for mod, passes in builds:
            entry, failure, _ = executor.load(mod, passes)
            if failure is None:
                _, failure = executor.call(entry, inputs, [np.zeros(output.shape, output.dtype)])
            counts["failed" if failure is not None else "builds"] += 1
    return time.perf_counter() - start, cpu_seconds() - cpu_start, counts


def main(argv: list[str] | None = None) -> int:
    parser = make_parser(__doc__.split("\n\n")[0])
    args = parse_args(parser, argv)

    import torch

    from tzer.observe.coverage import attach_coverage
    from tzer.runner import Runner

    torch.set_num_threads(1)
    coverage = attach_coverage("native-bb", lambda message: print(f"note: {message}"), progress=False)
    runner = Runner("llvm", coverage=coverage)  # one per process, as a fork server's parent holds it
    print_header(args, f", joint mode, coverage {coverage.name}, fork server")
    runs: list[Run] = []
    if args.warmup:
        _, cases = tzer_run(args.seed + 1, args.warmup, runner)
        raw_floor(cases, runner.executor)
    for run in range(1, args.runs + 1):
        coverage.reset()  # each campaign starts from nothing covered, as a new campaign does (untimed)
        outcome, cases = tzer_run(args.seed, args.iterations, runner)
        seconds, cpu, stats = outcome.seconds, outcome.cpu, outcome.stats
        runs.append(Run("tzer", run, seconds, cpu, len(cases) / seconds, len(cases) / cpu,
                        (f"{outcome.stats_rate:.2f}", f"valid {stats.valid}, invalid {stats.invalid}, "
                                                      f"findings {stats.findings}")))
        print(f"  tzer run {run}: {seconds:6.2f} s, {runs[-1].rate:5.2f} execs/s", flush=True)
        seconds, cpu, counts = raw_floor(cases, runner.executor)
        runs.append(Run("raw", run, seconds, cpu, len(cases) / seconds, len(cases) / cpu,
                        ("", ", ".join(f"{k} {v}" for k, v in counts.items()))))
        print(f"  raw  run {run}: {seconds:6.2f} s, {runs[-1].rate:5.2f} execs/s", flush=True)
    print_table(runs, lambda run: run.outcome, timed="the whole loop", own="the campaign's")
    print_summary(runs, "raw", "tzer")
    return 0


if __name__ == "__main__":
    sys.exit(main())
