"""Throughput of tzer's persistent fork server against in-process execution, on the very same programs.

What it measures, in one process and one run: two kinds of whole tzer campaign on the same N test cases (one seed),

* none: `Engine(config, <fresh temporary SQLite store>, make_backend(config, runner)).run()` with
  `config = FuzzConfig(seed=S, iterations=N, isolation="none", ...)`: every test case runs in this process
  (`tzer.execute.backends.InProcess`);
* fork: the same with `isolation="fork"` (the default of `tzer fuzz`): every test case runs in a persistent child
  forked from this warm process (`tzer.execute.sandbox.ForkServer`), which tells the parent over a pipe, in JSON
  lines, each stage it enters (about 5 lines per test case; the passes it runs go to a shared page instead) and
  sends the `Execution` record at the end; the parent waits on the pipe with `select`.

Both sides share ONE `Runner("llvm")`, created once: TVM and PyTorch are imported once, the runner is warmed up
once (untimed), and the fork server's child is forked from the very process that ran the in-process side. Each side
builds its backend before the timer (ForkServer's constructor warms the runner up again, which is cheap once warm),
and is timed with `time.perf_counter` around `Engine.run()`, which includes opening and closing the campaign in the
store and, for fork, forking the child at the first test case and reaping it when `run()` closes the backend. A few
programs run untimed on each side first. The sides alternate (none, fork, none, fork, ...), R runs each, and the
medians are compared.

How to read it: `execs/s` is executions per wall second; `ratio` (the last line, `ratio=<x.xxx>`) is the fork
server's median over in-process execution's median. 1.0 means the sandbox costs nothing measurable; 0.9 means the
fork server spends ~10% more time per program (forking, copy-on-write page faults in the child, the pipe and the
parent's event loop); above 1.0 is noise. Both sides must execute the same programs with the same outcomes: the
table gives each run's executions, findings and findings by symptom, and a line below it says whether the findings
(signature and count) were identical on every run.

Noise: one program takes 0.05-0.6 s, nearly all of it in TVM (LLVM codegen and JIT), so another process's load
moves a run by 10-30%. The table therefore also gives executions per CPU second and their median ratio ("cpu
ratio"), CPU being this process's user+system time plus that of the children reaped during the run (`os.times()`;
the fork-server child is reaped before `run()` returns). When the wall ratio and the CPU ratio disagree, the machine
was busy: rerun, or use more --runs.

    .venv/bin/python bench/isolation.py [--iterations N] [--runs R] [--seed S] [--warmup W]
"""

from __future__ import annotations

import os
import sys

_BENCH = os.path.dirname(os.path.abspath(__file__))
if _BENCH not in sys.path:  # for `from common import ...` from any cwd, even under python -P or -I
    sys.path.insert(0, _BENCH)

from common import alternate, campaign, make_parser, parse_args, print_header, print_summary, print_table

SIDES = ("none", "fork")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(make_parser(__doc__.split("\n\n")[0]), argv)

    import torch  # noqa: F401  (torch, then tvm, imported here as before; print_header reads their versions)
    import tvm  # noqa: F401

    from tzer.runner import Runner

    runner = Runner("llvm")  # one for both sides: the fork server forks from the process that ran in-process
    runner.warm_up()  # untimed; the fork server's constructor calls it again on every run (cheap once warm)

    print_header(args)

    def measure(side: str, iterations: int):
        outcome = campaign(args.seed, iterations, runner, side)
        return outcome.seconds, outcome.cpu, outcome

    def describe(run):
        outcome = run.outcome
        stats = outcome.stats
        symptoms = ", ".join(f"{name} {count}" for name, count in outcome.by_symptom)
        verdicts = (f"executions {stats.executions}, pass {stats.executions - stats.findings}, findings "
                    f"{stats.findings}" + (f" ({symptoms})" if symptoms else ""))
        return f"{outcome.stats_rate:.2f}", verdicts

    runs = alternate(SIDES, args, measure)
    print_table(runs, describe, timed="Engine.run()", own="the campaign's own")
    first = runs[0].outcome.findings
    same = all(run.outcome.findings == first and run.outcome.stats.executions == args.iterations for run in runs)
    print(f"same programs, same outcomes on every run: {'yes' if same else 'NO'} "
          f"({args.iterations} executions and {len(first)} distinct finding signatures per run"
          + ("" if same else " in the first run; the runs differ") + ")")
    print_summary(runs, "none", "fork")
    return 0


if __name__ == "__main__":
    sys.exit(main())
