"""Throughput of tzer's generate mode against a raw compile-run-compare loop on the very same programs.

What it measures, in one process and one run:

* tzer: a whole campaign, `Engine(config, <fresh temporary SQLite store>, make_backend(config, runner)).run()` with
  `config = FuzzConfig(seed=S, iterations=N, isolation=I, ...)` and one `Runner("llvm")` shared by all runs, i.e.
  drawing, building, compiling under tzer's PassContext (with its pass-tracking instrument), running, judging against
  the PyTorch float64 reference, and the store's checkpoints and findings. With `--isolation fork` (the default, as
  in `tzer fuzz`) the test cases run in a persistent fork-server child of this process, which reports each stage and
  pass to the parent over a pipe; with `--isolation none` they run in this process.
* raw: the minimal honest loop over the same N test cases (drawn from `random.Random(S)` exactly as the engine
  draws them): draw, `build_program`, `draw_inputs`, `tvm.compile` under a plain PassContext of the test case's
  opt_level (no instrument), call `main` on `tvm.runtime` tensors, compare with the PyTorch float64 reference under
  tzer's tolerance policy (`tolerance_for` + `compare`, with the program's magnitude reference). No store, no
  engine, no instrument.

Both sides are timed with `time.perf_counter` around their whole loop (for tzer: around `Engine.run()`, which
includes opening and closing the campaign in the store and, with the fork server, forking the child and reaping it
when `run()` closes the backend; the backend is built, and so the fork server's runner warmed up, before the timer).
TVM and PyTorch are imported once, PyTorch runs on one thread on both sides, and a few programs are executed untimed
on both sides first (lazy initialisation). The sides alternate (raw, tzer, raw, tzer, ...), R runs each of the same
N programs, and the medians are compared.

How to read it: `execs/s` is executions per second; `ratio` (the last line, `ratio=<x.xxx>`) is tzer's median
over the raw loop's median. 1.0 means tzer's bookkeeping costs nothing measurable; 0.9 means tzer spends ~10% of
its time on work the raw loop does not do; above 1.0 is noise. Both sides must report the same verdicts
(pass/finding counts); the table says so. Wall time depends on the machine and its load; the ratio is what to
compare across commits.

Noise: one program takes 0.05-0.6 s, nearly all of it in TVM (LLVM codegen and JIT), so on a shared machine another
process's load moves a run by 10-30%. The table therefore also gives executions per process-CPU-second and their
median ratio ("cpu ratio"), which other load disturbs much less; when the wall ratio and the CPU ratio disagree,
the machine was busy, and the run should be repeated (or run with more --runs) before reading anything into it.
CPU seconds are this process's user+system time plus that of the children reaped during the run (`os.times()`), so
with the fork server the child's work, where nearly all of it happens, is counted.

    .venv/bin/python bench/throughput.py [--iterations N] [--runs R] [--seed S] [--warmup W] [--isolation fork|none]
"""

from __future__ import annotations

import os
import random
import sys
import time

_BENCH = os.path.dirname(os.path.abspath(__file__))
if _BENCH not in sys.path:  # for `from common import ...` from any cwd, even under python -P or -I
    sys.path.insert(0, _BENCH)

from common import alternate, campaign, cpu_seconds, make_parser, parse_args, print_header, print_summary, print_table


def _draw_test_cases(seed: int, iterations: int, generator_names, target: str):
    """The test cases the engine's fuzz phase draws for this seed, in order (mirrors Engine._fuzz)."""
    from tzer.generate import draw_test_case

    rng = random.Random(seed)
    for _ in range(iterations):
        generator = rng.choice(generator_names)
        yield draw_test_case(rng, generator, target)


def raw_loop(seed: int, iterations: int, generator_names, target: str = "llvm") -> tuple[float, float, dict[str, int]]:
    """The minimal loop: draw, build, compile, run, compare. Returns (wall seconds, CPU seconds, verdict counts)."""
    import torch
    import tvm

    from tzer.generate.graph import GraphSpec, build_program
    from tzer.generate.inputs import draw_inputs
    from tzer.judge.tolerance import compare, tolerance_for

    device = tvm.cpu(0)
    counts = {"pass": 0, "mismatch": 0, "error": 0}
    start, cpu_start = time.perf_counter(), cpu_seconds()
    for tc in _draw_test_cases(seed, iterations, generator_names, target):
        program = build_program(GraphSpec.from_json(tc.params))
        inputs = draw_inputs(program.inputs, tc.input_seed)
        try:
            # Same opt_level as tzer's PassConfig (TVM's own default PassContext is opt_level 2).
            with tvm.transform.PassContext(opt_level=tc.passes.opt_level):
                executable = tvm.compile(program.mod, target=target)
            args = [tvm.runtime.tensor(x, device) for x in inputs]
            out = tvm.runtime.empty(program.output.shape, program.output.dtype, device)
            executable["main"](*args, out)
            output = out.numpy()
        except Exception:  # a TVM failure: the honest loop survives it and counts it
            counts["error"] += 1
            continue
        with torch.no_grad():
            tensors = [torch.from_numpy(x).to(torch.float64) for x in inputs]
            expected = program.reference(tensors).numpy()
            magnitude = program.magnitude([t.abs() for t in tensors]).numpy()
        spec = program.spec
        comparison = compare(output, expected, spec.dtype,
                             tolerance_for(spec.dtype, spec.accumulation(), spec.transcendental), magnitude)
        counts["pass" if comparison.ok else "mismatch"] += 1
    return time.perf_counter() - start, cpu_seconds() - cpu_start, counts


def main(argv: list[str] | None = None) -> int:
    parser = make_parser(__doc__.split("\n\n")[0])
    parser.add_argument("--isolation", choices=("fork", "none"), default="fork",
                        help="the tzer side's execution backend: fork-server children (default, as tzer fuzz) or "
                             "this process")
    args = parse_args(parser, argv)

    import torch
    import tvm  # noqa: F401  (imported here, after torch, as before; print_header reads its version)

    from tzer.config import FuzzConfig
    from tzer.runner import Runner

    torch.set_num_threads(1)  # both sides; the Runner sets it too
    runner = Runner("llvm")  # one per process, reused across campaigns, as a worker would
    generator_names = FuzzConfig(seed=args.seed).generator_names

    print_header(args, f", tzer isolation {args.isolation}")

    def measure(side: str, iterations: int):
        """(wall seconds, CPU seconds, (verdict counts, the stats column)) of one run of `side`."""
        if side == "raw":
            seconds, cpu, counts = raw_loop(args.seed, iterations, generator_names)
            return seconds, cpu, (counts, "")
        outcome = campaign(args.seed, iterations, runner, args.isolation, label="tzer")
        stats = outcome.stats
        counts = {"pass": stats.executions - stats.findings, "findings": stats.findings}
        return outcome.seconds, outcome.cpu, (counts, f"{outcome.stats_rate:.2f}")

    def describe(run):
        counts, stats_rate = run.outcome
        return stats_rate, ", ".join(f"{k} {v}" for k, v in counts.items())

    runs = alternate(("raw", "tzer"), args, measure)
    print_table(runs, describe, timed="the whole loop", own="tzer's own")
    print_summary(runs, "raw", "tzer")
    return 0


if __name__ == "__main__":
    sys.exit(main())
