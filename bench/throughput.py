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
  tzer's tolerance policy (`tolerance_for` + `compare`). No store, no engine, no instrument.

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

import argparse
import os
import random
import statistics
import sys
import tempfile
import time

import numpy as np


def cpu_seconds() -> float:
    """User + system CPU seconds of this process and of its children reaped so far (a fork-server child counts once
    the backend's close() has reaped it)."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


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
            expected = program.reference([torch.from_numpy(x).to(torch.float64) for x in inputs]).numpy()
        spec = program.spec
        comparison = compare(output, expected, spec.dtype,
                             tolerance_for(spec.dtype, spec.accumulation(), spec.transcendental))
        counts["pass" if comparison.ok else "mismatch"] += 1
    return time.perf_counter() - start, cpu_seconds() - cpu_start, counts


def tzer_campaign(seed: int, iterations: int, runner, isolation: str = "fork") -> tuple[float, float, dict[str, int],
                                                                                      float]:
    """One campaign on a fresh temporary store, its test cases run by the `isolation` backend around `runner`.

    Returns (wall seconds, CPU seconds of this process and its children, verdict counts,
    stats.executions / stats.elapsed).
    """
    from tzer.config import FuzzConfig
    from tzer.engine import Engine, StopReason
    from tzer.execute.backends import make_backend
    from tzer.store.base import open_store

    with tempfile.TemporaryDirectory(prefix="tzer-bench-") as tmp:
        path = os.path.join(tmp, "bench.db")
        config = FuzzConfig(seed=seed, iterations=iterations, store=path, corpus=None, isolation=isolation)
        store = open_store(path, create=True)
        try:
            backend = make_backend(config, runner)  # before the timer: ForkServer warms the runner up here
            engine = Engine(config, store, backend)
            start, cpu_start = time.perf_counter(), cpu_seconds()
            result = engine.run()  # closes the backend: the fork-server child is reaped before run() returns
            seconds, cpu = time.perf_counter() - start, cpu_seconds() - cpu_start
        finally:
            store.close()
    if result.stop_reason is not StopReason.ITERATION_BUDGET:
        raise RuntimeError(f"tzer campaign stopped early: {result.stop_reason.value}")
    stats = result.stats
    counts = {"pass": stats.executions - stats.findings, "findings": stats.findings}
    return seconds, cpu, counts, stats.executions / stats.elapsed if stats.elapsed > 0 else float("nan")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--iterations", type=int, default=40, help="programs per run (default 40)")
    parser.add_argument("--runs", type=int, default=3, help="runs per side, alternating (default 3)")
    parser.add_argument("--seed", type=int, default=0, help="campaign seed; both sides draw from it (default 0)")
    parser.add_argument("--warmup", type=int, default=3, help="programs executed untimed on each side first")
    parser.add_argument("--isolation", choices=("fork", "none"), default="fork",
                        help="the tzer side's execution backend: fork-server children (default, as tzer fuzz) or "
                             "this process")
    args = parser.parse_args(argv)
    if args.iterations <= 0 or args.runs <= 0 or args.warmup < 0:
        parser.error("--iterations and --runs must be positive, --warmup non-negative")
    if not 0 <= args.seed < 2**63:
        parser.error("--seed must be in [0, 2^63)")

    import torch
    import tvm

    from tzer.config import FuzzConfig
    from tzer.runner import Runner

    torch.set_num_threads(1)  # both sides; the Runner sets it too
    runner = Runner("llvm")  # one per process, reused across campaigns, as a worker would
    generator_names = FuzzConfig(seed=args.seed).generator_names

    print(f"tvm {tvm.__version__}, torch {torch.__version__}, numpy {np.__version__}, python "
          f"{sys.version.split()[0]}, {os.cpu_count()} CPUs, torch threads {torch.get_num_threads()}"
          + (f", load average {os.getloadavg()[0]:.2f}" if hasattr(os, "getloadavg") else ""))
    print(f"seed {args.seed}, {args.iterations} programs per run, {args.runs} runs per side, "
          f"{args.warmup} warm-up programs per side, tzer isolation {args.isolation}", flush=True)

    if args.warmup:
        raw_loop(args.seed, args.warmup, generator_names)
        tzer_campaign(args.seed, args.warmup, runner, args.isolation)

    rows = []
    rates: dict[str, list[float]] = {"raw": [], "tzer": []}
    cpu_rates: dict[str, list[float]] = {"raw": [], "tzer": []}
    for run in range(1, args.runs + 1):
        for side in ("raw", "tzer"):
            if side == "raw":
                seconds, cpu, counts = raw_loop(args.seed, args.iterations, generator_names)
                stats_rate = ""
            else:
                seconds, cpu, counts, rate = tzer_campaign(args.seed, args.iterations, runner, args.isolation)
                stats_rate = f"{rate:.2f}"
            rates[side].append(args.iterations / seconds)
            cpu_rates[side].append(args.iterations / cpu)
            rows.append((side, run, seconds, cpu, rates[side][-1], cpu_rates[side][-1], stats_rate, counts))
            print(f"  {side:<4} run {run}: {seconds:6.2f} s, {rates[side][-1]:5.2f} execs/s", flush=True)

    print()
    print(f"{'side':<5} {'run':>3} {'wall s':>7} {'cpu s':>7} {'execs/s':>8} {'per cpu-s':>9} {'stats':>6}  verdicts")
    for side, run, seconds, cpu, rate, cpu_rate, stats_rate, counts in rows:
        verdicts = ", ".join(f"{k} {v}" for k, v in counts.items())
        print(f"{side:<5} {run:>3} {seconds:>7.2f} {cpu:>7.2f} {rate:>8.2f} {cpu_rate:>9.2f} {stats_rate:>6}  "
              f"{verdicts}")
    print("execs/s: programs / perf_counter seconds around the whole loop (the headline number);")
    print("per cpu-s: programs / CPU seconds of this process and its reaped children (less sensitive to other load);")
    print("stats: tzer's own executions / elapsed, for reference.")
    if hasattr(os, "getloadavg"):
        print(f"load average at the end: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    raw_median, tzer_median = statistics.median(rates["raw"]), statistics.median(rates["tzer"])
    raw_cpu, tzer_cpu = statistics.median(cpu_rates["raw"]), statistics.median(cpu_rates["tzer"])
    print()
    print(f"median execs/s:       raw {raw_median:6.2f}   tzer {tzer_median:6.2f}")
    print(f"median execs/cpu-s:   raw {raw_cpu:6.2f}   tzer {tzer_cpu:6.2f}   cpu ratio {tzer_cpu / raw_cpu:.3f}")
    print(f"ratio={tzer_median / raw_median:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
