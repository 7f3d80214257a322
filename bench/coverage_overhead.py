"""Native coverage overhead: executions per second with `native-bb` against `none`, on the same programs.

Patching TVM is for the life of a process, so each side is its own long-lived worker process (this script run with
`--serve SIDE`): it imports TVM and PyTorch, attaches its coverage provider (or none), and warms up with `--warm-up`
passes over the seed corpus (default 3: the first pass covers most blocks, the repeats use up the noise) and runs
the first `--warmup` of its programs untimed. Then the sides take turns, none first, each running the same N programs (drawn from `--seed`, executed by tzer's Runner in
the worker's own process, no fork) R times; a run is timed inside the worker. Both sides must agree on every verdict.

Prints a line per run, the medians, and last `ratio=<native-bb median / none median>` of executions per wall second
(1.0: coverage costs nothing; the acceptance bar is 0.95). The `cpu ratio` line (per CPU second) moves less with the
machine's load.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import Run, cpu_seconds, make_parser, parse_args, print_header, print_summary  # noqa: E402

SIDES = ("none", "native-bb")


def serve(side: str, seed: int, iterations: int, warm_up: int, untimed: int, corpus: str) -> None:
    """A worker: warm up, then answer each "run" line on stdin with one JSON line of timings."""
    import random

    from tzer.corpus import load_corpus
    from tzer.generate import GENERATORS, draw_test_case
    from tzer.observe.coverage import attach_coverage
    from tzer.runner import Runner

    provider = attach_coverage(side, lambda message: sys.exit(f"{side}: {message}"), progress=False)
    runner = Runner("llvm", coverage=provider)
    seeds = load_corpus(corpus) if os.path.isdir(corpus) else []
    for _ in range(warm_up):
        for test_case in seeds:
            runner.execute(test_case)
    rng = random.Random(seed)
    names = GENERATORS.names()
    programs = [draw_test_case(rng, rng.choice(names), "llvm") for _ in range(iterations)]
    for test_case in programs[:untimed]:
        runner.execute(test_case)
    print(json.dumps({"ready": True, "covered": provider.total()}), flush=True)
    for line in sys.stdin:
        if line.strip() != "run":
            break
        start, cpu_start = time.perf_counter(), cpu_seconds()
        verdicts = [runner.execute(test_case).verdict.name for test_case in programs]
        print(json.dumps({"seconds": time.perf_counter() - start, "cpu": cpu_seconds() - cpu_start,
                          "verdicts": verdicts, "covered": provider.total()}), flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = make_parser(__doc__.splitlines()[0])
    parser.add_argument("--warm-up-passes", type=int, default=3,
                        help="passes over the seed corpus before timing (default 3)")
    parser.add_argument("--corpus", default="corpus")
    parser.add_argument("--serve", choices=SIDES, help=argparse_hidden())
    args = parse_args(parser, argv)
    if args.serve:
        serve(args.serve, args.seed, args.iterations, args.warm_up_passes, args.warmup, args.corpus)
        return 0
    print_header(args, f", {args.warm_up_passes} warm-up passes over {args.corpus}")
    workers = {}
    for side in SIDES:
        workers[side] = subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), "--serve", side, "--seed", str(args.seed), "--iterations",
             str(args.iterations), "--warm-up-passes", str(args.warm_up_passes), "--warmup", str(args.warmup),
             "--corpus", args.corpus],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        for side, worker in workers.items():
            ready = json.loads(worker.stdout.readline() or "{}")
            if not ready.get("ready"):
                raise SystemExit(f"the {side} worker did not start")
            print(f"  {side:<9} warmed up: {ready['covered']} points covered", flush=True)
        runs, verdicts = [], {}
        for run in range(1, args.runs + 1):
            for side, worker in workers.items():
                worker.stdin.write("run\n")
                worker.stdin.flush()
                result = json.loads(worker.stdout.readline())
                verdicts.setdefault(side, result["verdicts"])
                runs.append(Run(side, run, result["seconds"], result["cpu"], args.iterations / result["seconds"],
                                args.iterations / result["cpu"], result["covered"]))
                print(f"  {side:<9} run {run}: {result['seconds']:6.2f} s, {runs[-1].rate:5.2f} execs/s, "
                      f"{result['covered']} points covered", flush=True)
    finally:
        for worker in workers.values():
            worker.stdin.close()
            worker.wait(timeout=60)
    if verdicts["none"] != verdicts["native-bb"]:
        raise SystemExit("the sides disagree on verdicts: coverage changed what TVM did")
    print(f"verdicts agree on all {args.iterations} programs")
    print_summary(runs, "none", "native-bb")
    return 0


def argparse_hidden() -> str:
    import argparse

    return argparse.SUPPRESS


if __name__ == "__main__":
    sys.exit(main())
