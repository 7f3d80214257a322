"""The command line: parse arguments -> a validated frozen config -> the engine or a store query. No logic here.

Every user error (a bad flag, a missing or corrupt store, a bad corpus file) ends as one line on stderr and exit
status 2; nothing stored is changed by a failed command.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import signal
import sys
from collections.abc import Sequence

from tzer import __version__
from tzer.config import DEFAULT_CORPUS, DEFAULT_STORE, FuzzConfig, parse_duration, parse_size
from tzer.errors import ConfigError, UserError

EXIT_USAGE = 2
EXIT_NOT_REPRODUCED = 1


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (plus exit 2), like every other tzer error."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise ConfigError(f"{message} (see {self.prog} --help)")


def _add_store(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--store", default=DEFAULT_STORE, help=f"report store (default: {DEFAULT_STORE})")


def _add_format(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", choices=["table", "json"], default="table")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="tzer", description="Fuzz Apache TVM's tensor compiler and keep what breaks.")
    parser.add_argument("--version", action="version", version=f"tzer {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    fuzz = commands.add_parser("fuzz", help="run a fuzz campaign")
    fuzz.add_argument("--time", type=str, help="time budget: seconds (300) or with a unit (90s, 5m, 1h)")
    fuzz.add_argument("--iterations", type=int, help="stop after this many executions")
    fuzz.add_argument("--seed", type=int, help="campaign seed (default: random, printed and stored)")
    fuzz.add_argument("--target", default="llvm",
                      help="llvm (default), cuda (nvcc oracles; runs on a GPU where one is present; cuda:sm_80 for "
                           "another architecture than sm_90), or both: llvm,cuda (adds the CPU-vs-CUDA differential "
                           "on a GPU)")
    fuzz.add_argument("--mode", default="joint",
                      help="joint (IR and pass mutation, Tzer's scheme; default), ir, pass, interleaved (IR mutation "
                           "with random pass mutations, for ablations), or generate (no mutation)")
    fuzz.add_argument("--n-max", type=int, default=4,
                      help="joint mode: IR mutations of a seed in a row without new feedback before a pass mutation")
    fuzz.add_argument("--generator", action="append", default=[], help="only these generators (repeatable)")
    fuzz.add_argument("--corpus", help=f"seed corpus directory (default: ./{DEFAULT_CORPUS} if present)")
    fuzz.add_argument("--jobs", type=int, default=1, help="parallel workers sharing the store (default 1)")
    fuzz.add_argument("--resume", action="store_true", help="continue the store's last campaign")
    fuzz.add_argument("--isolation", default="fork", help="fork (sandboxed workers, default) or none (in-process)")
    fuzz.add_argument("--compile-timeout", type=str, default="60", help="per compile stage (default 60s)")
    fuzz.add_argument("--run-timeout", type=str, default="10", help="for the compiled kernel (default 10s)")
    fuzz.add_argument("--memory-limit", type=str, default="4G", help="address space per worker (default 4G)")
    fuzz.add_argument("--coverage", default="native-bb",
                      help="feedback from native coverage of libtvm_compiler.so: native-bb (basic blocks, default), "
                           "native-func (function entries) or none")
    fuzz.add_argument("--no-coverage-feedback", dest="coverage_feedback", action="store_false",
                      help="measure coverage but let nothing guide: every valid case joins the pool (ablations)")
    fuzz.add_argument("--warm-up-passes", type=int, default=3,
                      help="runs of the seed corpus before fuzzing; the repeats calibrate coverage noise (default 3)")
    fuzz.add_argument("--reduce-time", type=str, default="60",
                      help="after fuzzing, reduce each new finding for up to this long (default 60s)")
    fuzz.add_argument("--no-reduce", dest="reduce", action="store_false", help="do not reduce new findings")
    fuzz.add_argument("--extra-pass", action="append", default=[],
                      help="testing: run this registered pass first (planted faults: fault.segfault, ...)")
    _add_store(fuzz)

    findings = commands.add_parser("findings", help="list the findings in a store")
    _add_store(findings)
    _add_format(findings)
    findings.add_argument("--full", action="store_true", help="with --format json: programs, history, reproducer")

    stats = commands.add_parser("stats", help="campaign totals and the throughput timeline")
    _add_store(stats)
    _add_format(stats)

    corpus = commands.add_parser("corpus", help="corpus work: minimize")
    corpus_commands = corpus.add_subparsers(dest="corpus_command", required=True, parser_class=_Parser)
    minimize = corpus_commands.add_parser(
        "minimize", help="copy a smallest subset of a corpus with the same native coverage to another directory")
    minimize.add_argument("corpus_dir")
    minimize.add_argument("--out", required=True, help="directory for the minimized corpus (new or empty)")
    minimize.add_argument("--coverage", default="native-bb", help="native-bb (default) or native-func")
    minimize.add_argument("--runs", type=int, default=2,
                          help="measure each input this many times; only what every run covers counts (default 2)")
    _add_format(minimize)

    coverage = commands.add_parser("coverage", help="the native coverage of a corpus, input by input")
    coverage.add_argument("corpus_dir", nargs="?", help="a corpus directory (or --store)")
    coverage.add_argument("--store", help="measure the corpus a store kept (its seeds and the inputs that were new)")
    coverage.add_argument("--coverage", default="native-bb", help="native-bb (default) or native-func")
    _add_format(coverage)

    replay = commands.add_parser("replay", help="re-run one finding; exit 0 if it reproduces, 1 if not")
    replay.add_argument("finding_id", type=int)
    _add_store(replay)

    reduce = commands.add_parser("reduce", help="reduce a finding to its smallest program (kept in the store)")
    reduce.add_argument("finding_id", type=int)
    reduce.add_argument("--time", default="300", help="time limit (default 300s)")
    _add_store(reduce)

    regress = commands.add_parser("regress", help="replay every finding against the installed TVM (a CI gate)")
    regress.add_argument("reproducers", nargs="?", help="a directory of reproducer scripts (instead of a store)")
    regress.add_argument("--store", help=f"replay this store's findings (default: {DEFAULT_STORE})")
    regress.add_argument("--junit", help="also write the results as JUnit XML to this file")
    regress.add_argument("--fail-on", default="reproduces",
                         help="outcomes that make the exit status 1, comma-separated: reproduces, fixed, changed, "
                              "or none (default: reproduces)")

    report = commands.add_parser("report", help="write the campaign report (Markdown or self-contained HTML)")
    report.add_argument("--format", choices=["md", "html"], default="html")
    report.add_argument("--out", required=True, help="file to write (Markdown writes its plots beside it)")
    _add_store(report)

    repro = commands.add_parser("repro", help="write a standalone reproducer script (apache-tvm and numpy only)")
    repro.add_argument("finding_id", type=int)
    repro.add_argument("--out", help="file to write (default: standard output)")
    _add_store(repro)
    return parser


def _fuzz_config(args: argparse.Namespace) -> FuzzConfig:
    corpus = args.corpus
    if corpus is None and os.path.isdir(DEFAULT_CORPUS):
        corpus = DEFAULT_CORPUS
    seed = args.seed if args.seed is not None else int.from_bytes(os.urandom(4), "little")
    return FuzzConfig(
        seed=seed, store=args.store, time_budget=parse_duration(args.time) if args.time else None,
        iterations=args.iterations, target=args.target, mode=args.mode, n_max=args.n_max,
        generators=tuple(args.generator),
        corpus=corpus, jobs=args.jobs, isolation=args.isolation, extra_passes=tuple(args.extra_pass),
        compile_seconds=parse_duration(args.compile_timeout), run_seconds=parse_duration(args.run_timeout),
        memory_bytes=parse_size(args.memory_limit), coverage=args.coverage, coverage_feedback=args.coverage_feedback,
        warm_up_passes=args.warm_up_passes,
        reduce_seconds=parse_duration(args.reduce_time) if args.reduce else 0.0,
    )


def _run_fuzz(args: argparse.Namespace) -> int:
    from rich.console import Console

    from tzer.corpus import load_corpus
    from tzer.engine import Engine
    from tzer.store.base import open_store
    from tzer.view import LiveView, campaign_summary

    config = _fuzz_config(args)
    seeds = load_corpus(config.corpus) if config.corpus and not args.resume else []  # before any store is touched
    console = Console()
    with open_store(config.store, create=not args.resume) as store:
        last = None
        if args.resume:
            last = store.last_campaign()
            if last is None:
                raise UserError(f"nothing to resume: {config.store} holds no campaign")
            config = config.resumed(last.config)
        coverage = _attach_coverage(config.coverage)
        with LiveView(console, f"{config.store}.stderr.log") as view:
            from tzer.execute.backends import make_backend
            from tzer.runner import Runner  # imports TVM and PyTorch: after the cheap checks

            from tzer.triage.findings import CampaignTriage

            runner = Runner(config.target, coverage=coverage)
            try:
                backend = make_backend(config, runner)
                triage = CampaignTriage(config.target, config.limits, config.reduce_seconds, config.store,
                                        config.jobs) if config.reduce_seconds > 0 else None
                engine = Engine(config, store, backend, seeds, on_progress=view.update, resumed=last, triage=triage)
                _install_stop_handlers(engine)
                result = engine.run()
            finally:
                runner.close()
    with open_store(config.store) as store:
        findings = [f for f in store.findings() if any(o.campaign_id == result.campaign_id for o in f.history)]
    console.print(campaign_summary(result, findings, config.store))
    return 0


def _attach_coverage(name: str):
    """The coverage provider, attached to TVM in this process (imports TVM); where native coverage cannot work,
    one line on stderr says why and the campaign runs without it."""
    from tzer.observe.coverage import attach_coverage

    return attach_coverage(name, lambda message: print(f"tzer: {message}", file=sys.stderr, flush=True))


def _install_stop_handlers(engine) -> None:
    """First Ctrl-C (or SIGTERM): finish the test case in flight, store everything, stop. Second: stop now."""

    def handle(signum, frame):
        if engine.stop_requested:
            raise KeyboardInterrupt
        engine.request_stop()

    signal.signal(signal.SIGINT, handle)
    signal.signal(signal.SIGTERM, handle)


def _run_findings(args: argparse.Namespace) -> int:
    from rich.console import Console

    from tzer.store.base import open_store
    from tzer.view import findings_table

    with open_store(args.store) as store:
        findings = store.findings()
    if args.format == "json":
        print(json.dumps([f.to_json(full=args.full) for f in findings], indent=1))
    else:
        Console().print(findings_table(findings))
    return 0


def _stats_json(store) -> dict:
    campaigns = store.campaigns()
    totals = {key: sum(getattr(c.stats, key) for c in campaigns)
              for key in ("executions", "valid", "invalid", "findings")}
    from tzer.observe.guidance import guidance

    points = store.timeline()
    timeline = [{"campaign": p.campaign_id, **p.stats.to_json(),
                 "execs_per_second": round(p.stats.executions / p.stats.elapsed, 3) if p.stats.elapsed else 0.0}
                for p in points]
    return {
        **totals,
        "distinct_findings": len(store.findings()),
        "mutators": _mutator_totals(campaigns),
        "campaigns": [{"id": c.id, "seed": c.seed, "target": c.target, "mode": c.mode, "tvm_version": c.tvm_version,
                       "stop_reason": c.stop_reason, **c.stats.to_json(),
                       "guidance": guidance(c.stats, [p.stats for p in points if p.campaign_id == c.id])}
                      for c in campaigns],
        "modes": _mode_totals(campaigns),
        "timeline": timeline,
    }


def _mode_totals(campaigns) -> dict:
    """Per mode over all campaigns: the share of mutant tries that were pass mutations, of valid mutants new."""
    from tzer.observe.guidance import guidance
    from tzer.records import CampaignStats, MutatorStats

    report = {}
    for mode in sorted({campaign.mode for campaign in campaigns}):
        counts = _merged_counts(campaign for campaign in campaigns if campaign.mode == mode)
        stats = CampaignStats(mutators=tuple((name, MutatorStats(**count)) for name, count in counts.items()))
        measures = guidance(stats)
        report[mode] = {key: measures[key] for key in ("mutant_tries", "pass_share", "new_share")}
    return report


def _merged_counts(campaigns) -> dict[str, collections.Counter]:
    """Per mutator, its counts summed over `campaigns`."""
    totals: dict[str, collections.Counter] = {}
    for campaign in campaigns:
        for name, stats in campaign.stats.mutators:
            totals.setdefault(name, collections.Counter()).update(stats.to_json())
    return totals


def _mutator_totals(campaigns) -> dict:
    """Per mutator over all campaigns: its counts, and the share of its mutants TVM rejected."""
    report = {}
    for name, counts in sorted(_merged_counts(campaigns).items()):
        mutants = counts["invalid"] + counts["valid"]
        report[name] = {**counts, "invalid_rate": round(counts["invalid"] / mutants, 4) if mutants else None}
    return report


def _run_stats(args: argparse.Namespace) -> int:
    from rich.console import Console

    from tzer.store.base import open_store
    from tzer.view import campaigns_table, mutators_table

    with open_store(args.store) as store:
        if args.format == "json":
            print(json.dumps(_stats_json(store), indent=1))
        else:
            campaigns = store.campaigns()
            Console().print(campaigns_table(campaigns))
            totals = _mutator_totals(campaigns)
            if totals:
                Console().print(mutators_table(totals))
    return 0


def _run_replay(args: argparse.Namespace) -> int:
    from tzer.replay import ReplayOutcome, replay
    from tzer.store.base import open_store

    with open_store(args.store) as store:
        finding = _stored_finding(store, args.finding_id, args.store)
    from tzer.runner import Runner

    result = replay(finding, Runner(finding.test_case.target))
    if not result.params_redrawn_equal:
        print("note: this tzer's generator draws other params from the recorded seed; replayed the recorded params")
    sig = finding.signature
    print(f"finding {finding.id} ({sig.symptom.name.lower()} at {sig.stage.name.lower()}: {sig.detail}): "
          f"{result.outcome.value}")
    if result.outcome is ReplayOutcome.CHANGED and result.execution.signature is not None:
        print(f"now: {result.execution.signature.to_json()}")
    return 0 if result.outcome is ReplayOutcome.REPRODUCES else EXIT_NOT_REPRODUCED


def _stored_finding(store, finding_id: int, location: str):
    finding = store.finding(finding_id)
    if finding is None:
        raise UserError(f"no finding {finding_id} in {location} (see: tzer findings --store {location})")
    return finding


def _run_reduce(args: argparse.Namespace) -> int:
    from tzer.store.base import open_store

    time_limit = parse_duration(args.time)
    with open_store(args.store) as store:
        finding = _stored_finding(store, args.finding_id, args.store)
        from tzer.triage.findings import NotReduced, checking, not_reducible, reduce_finding  # imports TVM

        reason = not_reducible(finding)
        if reason:
            print(f"finding {finding.id}: {reason}")
            return EXIT_NOT_REPRODUCED
        with checking(finding.target) as checker:
            reduction = reduce_finding(store, finding, checker, time_limit)
    if isinstance(reduction, NotReduced):
        sig = finding.signature
        print(f"finding {finding.id}: not reduced: {reduction.reason}, not {sig.symptom.name.lower()} at "
              f"{sig.stage.name.lower()} ({sig.detail})")
        return EXIT_NOT_REPRODUCED
    state = "" if reduction.complete else "; time limit reached before no edit applied"
    print(f"finding {finding.id}: {reduction.original_lines} -> {reduction.lines} lines of TVMScript, "
          f"{reduction.checks} checks in {reduction.seconds:.0f}s{state}")
    print(reduction.case.script)
    return 0


def _run_repro(args: argparse.Namespace) -> int:
    from tzer.store.base import open_store

    with open_store(args.store) as store:
        finding = _stored_finding(store, args.finding_id, args.store)
        from tzer.judge.cuda import is_cuda_signature

        from tzer.report.repro import cuda_reproducer, cuda_unreproducible, reproducer  # imports TVM
        from tzer.triage.extract import script_cases

        if is_cuda_signature(finding.signature):
            reason = cuda_unreproducible(finding)
            if reason is not None:
                raise UserError(reason)
            text = cuda_reproducer(finding)
        else:
            case = finding.reduction.case if finding.reduction else next(script_cases(finding.test_case,
                                                                                      finding.signature))
            text = reproducer(finding, case)
        store.set_reproducer(finding.id, text)
    if args.out:
        with open(args.out, "w") as handle:
            handle.write(text)
        print(f"wrote {args.out}: python {args.out} exits 1 while the bug reproduces", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def _run_report(args: argparse.Namespace) -> int:
    from rich.console import Console

    from tzer.report.document import build_report, findings_rich_table, write_report
    from tzer.store.base import open_store

    directory = os.path.dirname(os.path.abspath(args.out))
    if not os.path.isdir(directory):
        raise UserError(f"cannot write {args.out}: no directory {directory}")
    with open_store(args.store) as store:
        report = build_report(store, args.store)
    written = write_report(report, args.out, args.format)
    Console().print(findings_rich_table(report))
    print(f"wrote {', '.join(written)}")
    return 0


_OUTCOME_NAMES = {"reproduces": "REPRODUCES", "fixed": "FIXED", "changed": "CHANGED"}


def _fail_on(text: str):
    from tzer.replay import ReplayOutcome

    names = [name.strip() for name in text.split(",") if name.strip()]
    if names == ["none"]:
        return frozenset()
    unknown = [name for name in names if name not in _OUTCOME_NAMES]
    if unknown or not names:
        raise ConfigError(f"bad --fail-on {text!r}: use reproduces, fixed, changed (comma-separated) or none")
    return frozenset(ReplayOutcome[_OUTCOME_NAMES[name]] for name in names)


def _run_regress(args: argparse.Namespace) -> int:
    from tzer.triage.regress import regress_scripts, regress_store, reproducer_scripts

    failing = _fail_on(args.fail_on)
    if args.reproducers and args.store:
        raise ConfigError("give a directory of reproducers or --store, not both")

    def show(result) -> None:
        print(f"{result.name}: {result.outcome.value} ({result.now})", flush=True)

    if args.reproducers:
        if not os.path.isdir(args.reproducers):
            raise UserError(f"{args.reproducers} is not a directory of reproducer scripts")
        scripts = reproducer_scripts(args.reproducers)
        if not scripts:
            raise UserError(f"no reproducer scripts (*.py) in {args.reproducers}")
        results = regress_scripts(scripts, on_result=show)
    else:
        from tzer.store.base import open_store

        with open_store(args.store or DEFAULT_STORE) as store:
            findings = store.findings()
        results = regress_store(findings, on_result=show)
    counts = collections.Counter(result.outcome for result in results)
    print(", ".join(f"{counts[outcome]} {outcome.value}" for outcome in sorted(counts, key=lambda o: o.name)) or
          "no findings to replay")
    if args.junit:
        from importlib.metadata import version

        from tzer.report.junit import junit_xml

        with open(args.junit, "w") as handle:
            handle.write(junit_xml(results, failing, version("apache-tvm")))
    return EXIT_NOT_REPRODUCED if any(result.outcome in failing for result in results) else 0


def _run_corpus(args: argparse.Namespace) -> int:
    from tzer.corpus import load_corpus, save_test_case
    from tzer.observe.per_input import measure_corpus, minimize, union

    if os.path.isdir(args.out) and os.listdir(args.out):
        raise UserError(f"--out {args.out} is not empty: minimize writes only into a new or empty directory")
    if os.path.exists(args.out) and not os.path.isdir(args.out):
        raise UserError(f"--out {args.out} is not a directory")
    if not os.path.isdir(args.corpus_dir):
        raise UserError(f"corpus directory {args.corpus_dir} does not exist")
    if not 1 <= args.runs <= 10:
        raise UserError(f"--runs must be between 1 and 10, got {args.runs}")
    test_cases = load_corpus(args.corpus_dir)
    if not test_cases:
        raise UserError(f"corpus directory {args.corpus_dir} holds no test cases")
    measured = measure_corpus(test_cases, args.coverage, runs=args.runs)
    chosen = minimize(measured.measured, measured.provider, measured.noise)
    os.makedirs(args.out, exist_ok=True)
    for item in chosen:
        save_test_case(args.out, item.test_case)
    report = {"inputs": len(test_cases), "kept": len(chosen), "out": args.out, "noise": measured.noise,
              "all": measured.summary(),
              "minimized": measured.summary(union(chosen))}
    if args.format == "json":
        print(json.dumps(report, indent=1))
    else:
        unit = measured.provider.unit
        before, after = report["all"], report["minimized"]
        print(f"kept {len(chosen)} of {len(test_cases)} inputs in {args.out}: {after['covered']} {unit} "
              f"(all inputs: {before['covered']}), {after['functions']} functions (all inputs: "
              f"{before['functions']}), beyond a baseline of {before['baseline']} {unit}; inputs adding no more "
              f"than {measured.noise} {unit} (run-to-run noise) were left out")
    return 0


def _run_coverage(args: argparse.Namespace) -> int:
    from tzer.corpus import load_corpus
    from tzer.observe.per_input import measure_corpus

    if (args.store is None) == (args.corpus_dir is None):
        raise UserError("give a corpus directory or --store, one of them")
    if args.store is not None:
        from tzer.store.base import open_store

        with open_store(args.store) as store:
            test_cases = store.test_cases()
        source = args.store
    else:
        if not os.path.isdir(args.corpus_dir):
            raise UserError(f"corpus directory {args.corpus_dir} does not exist")
        test_cases = load_corpus(args.corpus_dir)
        source = args.corpus_dir
    if not test_cases:
        raise UserError(f"{source} holds no test cases")
    measured = measure_corpus(test_cases, args.coverage)
    report = {"source": source, "inputs": len(test_cases), **measured.summary(),
              "per_input": [{"key": m.test_case.key, "generator": m.test_case.generator, "outcome": m.outcome,
                             "covered": len(m.points)} for m in measured.measured]}
    if args.format == "json":
        print(json.dumps(report, indent=1))
    else:
        from rich.console import Console

        from tzer.view import coverage_table

        Console().print(coverage_table(report, measured.provider.unit))
    return 0


COMMANDS = {"fuzz": _run_fuzz, "findings": _run_findings, "stats": _run_stats, "replay": _run_replay,
            "corpus": _run_corpus, "coverage": _run_coverage, "reduce": _run_reduce, "repro": _run_repro,
            "regress": _run_regress, "report": _run_report}


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        return COMMANDS[args.command](args)
    except UserError as exc:
        print(f"tzer: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("tzer: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
