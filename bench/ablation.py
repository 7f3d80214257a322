"""Ablation: blocks of TVM's own code covered after the same time budget, per mode, with and without feedback.

Runs `tzer fuzz` once per row, one after the other, on the same seed, corpus and machine, each on a fresh store with
`--coverage native-bb`, so every row measures libtvm_compiler.so's basic blocks the same way:

  generate             fresh programs only (the generation-based baseline)
  ir-no-feedback       IR mutation with coverage measured but nothing guiding (`--no-coverage-feedback`: every
                       valid case joins the pool, Tzer's "without coverage feedback")
  ir / pass / joint    mutation, guided by coverage of TVM's own code (a case that covers more new TVM blocks than
                       the noise floor joins the seed pool)
  interleaved          IR mutation with random pass mutations at the joint schedule's ceiling (1 try in 5): "IR +
                       random pass mutation", to tell the joint schedule's timing from its pass budget
  joint-no-feedback    joint mutation with coverage measured but not guiding

It prints a table (TVM's own blocks and all blocks covered, executions, valid, the share of mutant tries that were
pass mutations, finding occurrences and distinct findings, and each row's TVM blocks over generate's), writes it as
CSV after each row (with the share of valid mutants that were new in each campaign's second half), keeps the stores
and their stderr with `--keep DIR` (for `tzer stats` and `tzer report` on a row; with `--reuse`, a row whose store
is already there is read, not run again: an ablation run in several sittings, rows on the same seed and budget),
goes on past a row whose campaign exits non-zero (marked in the CSV with its elapsed time and exit status; the
script then exits 1), and, with matplotlib, plots TVM's blocks covered over time from each store's timeline. The
last line is `ratio=<joint TVM blocks / generate TVM blocks>`. Run by hand (`--minutes 20`: two hours), not in CI.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile

ROWS = {
    "generate": ["--mode", "generate"],
    "ir-no-feedback": ["--mode", "ir", "--no-coverage-feedback"],
    "ir": ["--mode", "ir"],
    "pass": ["--mode", "pass"],
    "interleaved": ["--mode", "interleaved"],
    "joint": ["--mode", "joint"],
    "joint-no-feedback": ["--mode", "joint", "--no-coverage-feedback"],
}


def tzer(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tzer", *args], capture_output=True, text=True)


def run_row(name: str, minutes: float, seed: int, jobs: int, directory: str, reuse: bool = False) -> dict:
    store = os.path.join(directory, f"{name}.db")
    if os.path.exists(store) and reuse:  # a row of an earlier sitting: read, never resumed or run again
        return _row(name, store, None)
    if os.path.exists(store):  # a row is one fresh campaign, never a resumed one
        raise SystemExit(f"{name}: {store} exists; keep each ablation's stores in a directory of their own, "
                         "or pass --reuse to read it as the row")
    fuzz = tzer("fuzz", *ROWS[name], "--time", f"{minutes * 60:g}", "--seed", str(seed), "--jobs", str(jobs),
                "--coverage", "native-bb", "--no-reduce", "--store", store)  # no triage: each row is its budget
    with open(os.path.join(directory, f"{name}.stderr"), "w") as log:
        log.write(fuzz.stderr)
    if fuzz.returncode != 0:  # the row stands, marked: its campaign may have stopped before its budget
        print(f"{name}: tzer fuzz exited {fuzz.returncode}: {fuzz.stderr.strip()[-600:]}", file=sys.stderr)
    return _row(name, store, fuzz.returncode)


def _row(name: str, store: str, exit_status: int | None) -> dict:
    """The row's figures from its store; `exit_status` None for a reused row: 0 if its campaign reached its budget."""
    stats = json.loads(tzer("stats", "--store", store, "--format", "json").stdout)
    campaign = stats["campaigns"][-1]
    if exit_status is None:
        exit_status = 0 if campaign["stop_reason"] == "time_budget" else 1
    if campaign["native_coverage"] is None:
        raise SystemExit(f"{name}: its campaign measured no native coverage (see its .stderr)")
    timeline = [(p["elapsed"], p["coverage_tvm"]) for p in stats["timeline"] if p["coverage_tvm"] is not None]
    return {"row": name, "tvm_blocks": campaign["coverage_tvm"], "blocks": campaign["native_coverage"],
            "executions": campaign["executions"], "valid": campaign["valid"],
            "pass_share": campaign["guidance"]["pass_share"] or 0.0,
            "new_share_second_half": campaign["guidance"]["new_share_second_half"], "findings": campaign["findings"],
            "distinct": stats["distinct_findings"], "elapsed": campaign["elapsed"], "timeline": timeline,
            "exit": exit_status}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="time budget per row (default 10)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=2, help="workers per campaign (default 2: this machine's cores)")
    parser.add_argument("--rows", default=",".join(ROWS), help=f"comma-separated subset of {', '.join(ROWS)}")
    parser.add_argument("--csv", default=os.path.join("bench", "results", "ablation.csv"))
    parser.add_argument("--plot", default=os.path.join("bench", "results", "ablation.png"))
    parser.add_argument("--keep", metavar="DIR",
                        help="keep each row's store and stderr in DIR (for `tzer stats`, the findings)")
    parser.add_argument("--reuse", action="store_true",
                        help="with --keep: a row whose store is already in DIR is read from it, not run again (an "
                             "ablation run in several sittings; its exit status is 0 if its campaign reached its "
                             "time budget)")
    args = parser.parse_args(argv)
    rows = [r for r in args.rows.split(",") if r]
    unknown = set(rows) - set(ROWS)
    if unknown or args.minutes <= 0 or args.jobs < 1:
        parser.error(f"bad --rows {sorted(unknown)} or --minutes/--jobs")
    if args.reuse and not args.keep:
        parser.error("--reuse reads the stores of --keep DIR: name it")
    print(f"ablation: {args.minutes:g} min per row, seed {args.seed}, --jobs {args.jobs}, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.2f}", flush=True)
    results = []
    with tempfile.TemporaryDirectory(prefix="tzer-ablation-") as directory:
        if args.keep:
            os.makedirs(args.keep, exist_ok=True)
        for name in rows:
            results.append(run_row(name, args.minutes, args.seed, args.jobs, args.keep or directory, args.reuse))
            r = results[-1]
            print(f"  {name:<18} {r['tvm_blocks']:>8} TVM blocks  {r['blocks']:>8} blocks  {r['executions']:>6} execs"
                  f"  {r['distinct']:>4} distinct findings  {r['elapsed']:.0f} s, exit {r['exit']}", flush=True)
            write_csv(results, args)  # after each row: an ablation stopped halfway keeps the rows it ran
    baseline = _tvm_blocks(results, "generate")
    print()
    print(f"{'row':<18} {'TVM blocks':>10} {'vs generate':>11} {'all blocks':>10} {'execs':>7} {'valid':>7} "
          f"{'pass share':>10} {'findings':>8} {'distinct':>8}")
    for r in results:
        versus = f"{r['tvm_blocks'] / baseline:.3f}" if baseline else "-"
        print(f"{r['row']:<18} {r['tvm_blocks']:>10} {versus:>11} {r['blocks']:>10} {r['executions']:>7} "
              f"{r['valid']:>7} {r['pass_share']:>10.3f} {r['findings']:>8} {r['distinct']:>8}")
    print(f"csv: {write_csv(results, args)}")
    plot(results, args.plot)
    joint = _tvm_blocks(results, "joint")
    failed = [r["row"] for r in results if r["exit"] != 0]
    if failed:
        print(f"rows whose campaign exited non-zero (see their .stderr): {', '.join(failed)}")
    if joint and baseline:
        print(f"ratio={joint / baseline:.3f}")
    return 1 if failed else 0


def _tvm_blocks(results: list[dict], row: str) -> int | None:
    """The TVM blocks the row named `row` covered; None if it did not run."""
    return next((r["tvm_blocks"] for r in results if r["row"] == row), None)


def write_csv(results: list[dict], args: argparse.Namespace) -> str:
    baseline = _tvm_blocks(results, "generate")
    os.makedirs(os.path.dirname(args.csv) or ".", exist_ok=True)
    with open(args.csv, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["row", "minutes", "seed", "jobs", "tvm_blocks", "tvm_blocks_vs_generate", "blocks",
                         "executions", "valid", "pass_share", "new_share_second_half", "findings",
                         "distinct_findings", "elapsed_seconds", "exit_status"])
        for r in results:
            writer.writerow([r["row"], args.minutes, args.seed, args.jobs, r["tvm_blocks"],
                             round(r["tvm_blocks"] / baseline, 4) if baseline else "", r["blocks"], r["executions"],
                             r["valid"], r["pass_share"], r["new_share_second_half"], r["findings"],
                             r["distinct"], round(r["elapsed"]), r["exit"]])
    return args.csv


def plot(results: list[dict], path: str) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("plot: matplotlib is not installed; skipped")
        return
    figure, axes = plt.subplots(figsize=(7, 4.5))
    for r in results:
        if r["timeline"]:
            seconds, blocks = zip(*r["timeline"])
            axes.plot([s / 60 for s in seconds], blocks, label=r["row"])
    axes.set_xlabel("minutes")
    axes.set_ylabel("basic blocks of TVM's own code covered")
    axes.legend()
    axes.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    print(f"plot: {path}")


if __name__ == "__main__":
    sys.exit(main())
