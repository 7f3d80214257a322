"""Where each TIR pass may run: every pass of TVM, inserted at each position of a minimal lowering pipeline, compiled
and run on a fixed set of programs, and compared with the minimal pipeline's own output.

The minimal pipeline (SKELETON) lowers S-TIR to packed-API TIR on llvm. Position p (0..6) means "after the first p
skeleton passes". A pass is supported at p when every program compiles, runs and gives the skeleton's output there;
otherwise the position gets a short reason. Each (pass, position) runs in a forked child that works through the
programs in order; a child that crashes or hangs (SIGKILL after --timeout seconds on one program) is replaced by a
fresh one for the programs left, so one crash never hides the other programs' outcomes.

A shortcut keeps the matrix affordable: the parent lowers each program by hand up to each position once; a child
first applies the pass to that module, and when the pass leaves it structurally equal, the full compile would repeat
the skeleton's (already checked) and the trial counts as ok. Everything else is compiled through a registered TIR
pipeline by `tvm.compile`, exactly as the fuzzer compiles.

Usage (from the repository root): `python tools/pass_matrix.py [--jobs 2] [--passes a,b] [--details FILE]` writes
tzer/execute/pass_stages.json (read by tzer.execute.pipeline and tests/unit/test_pass_stages.py); the whole catalog
(85 passes and variants x 7 positions x 25 programs) took 23 minutes on 2 cores with TVM 0.27.0.post1.
`--details FILE` keeps every program's outcome and the crash logs; `--from-details FILE` rebuilds the JSON from
them without measuring again.
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import gc
import inspect
import json
import os
import random
import re
import select
import signal
import sys
import tempfile
import time
from typing import Any, Callable

import numpy as np

from tzer.execute import pipeline
from tzer.execute.pipeline import SKELETON
from tzer.execute.sandbox import _die_with_parent
from tzer.generate import GENERATORS
from tzer.generate.graph import GraphSpec, build_program
from tzer.generate.inputs import draw_inputs
from tzer.judge.signature import key_line, normalize_message

POSITIONS = (f"before {SKELETON[0]}", *(f"after {name}" for name in SKELETON))
DEFAULT_OUT = os.path.join(os.path.dirname(__file__), os.pardir, "tzer", "execute", "pass_stages.json")
PIPELINE_NAME = "pass_matrix"
TZER_BUG = 70  # a worker's exit status when tzer itself failed in it
OPT_LEVEL = 3  # the fuzzer's PassConfig default (every TIR pass has opt_level 0, so this only mirrors the executor)

# Arguments worth measuring, per pass that takes one; "" is the constructor's default. Argument syntax as in
# tzer.execute.pipeline ("True" -> bool, digits -> int, else str), which constructs every pass with a Python
# constructor; the others need SPECIAL_ARGUMENTS (and the FFI registry) below.
VARIANTS = {
    "tirx.NarrowDataType": ("16", "32", "64"),
    "tirx.VectorizeLoop": ("True", "False"),
    "tirx.FP8ComputeLegalize": ("", "float16"),
    "tirx.BindTarget": ("llvm",),
    "s_tir.ThreadSync": ("shared", "shared.dyn", "warp", "global"),
    "s_tir.InjectPTXLDG32": ("True", "False"),
    "s_tir.HoistIfThenElse": ("", "basic"),
    "s_tir.CompactBufferAllocation": ("", "False"),
    "s_tir.RemoveWeightLayoutRewriteBlock": ("", "True"),
}
# Constructors that need an argument the name syntax cannot carry; what they are built with is documented here.
GPU_LIMITS = {"max_threads_per_block": 1024, "max_shared_memory_per_block": 49152, "max_local_memory_per_block": 65536,
              "max_thread_x": 1024, "max_thread_y": 1024, "max_thread_z": 64, "max_vthread": 8}
SPECIAL_ARGUMENTS: dict[str, tuple[str, Callable[[], tuple]]] = {  # name -> (what it is built with, arguments)
    "tirx.BindTarget": ("llvm with itself as host, as tvm.compile binds it", lambda: (_llvm(),)),
    "tirx.RemapThreadAxis": ("{}: CPU programs have no thread axis to remap", lambda: ({},)),
    "s_tir.VerifyGPUCode": (repr(GPU_LIMITS), lambda: (GPU_LIMITS,)),
}
SKIPPED = {  # listed in the output with the reason
    "tirx.Apply": "takes a Python function: a pass factory, not a pass of TVM",
    "tirx.Filter": "takes a Python predicate: a pass factory, not a pass of TVM",
    "tirx.CreatePrimFuncPass": "FFI pass factory (takes a Python function)",
    "s_tir.HoistIfThenElseBasic": "measured as s_tir.HoistIfThenElse:basic (the Python constructor's variant)",
}


def _llvm() -> Any:
    import tvm

    llvm = tvm.target.Target({"kind": "llvm"})
    return llvm.with_host(llvm)


# The pass catalog


def _namespaces() -> dict[str, Any]:
    import tvm

    return {"tirx": tvm.tirx.transform, "s_tir": tvm.s_tir.transform}


def catalog() -> list[str]:
    """Every pass to measure, by name: the Python constructors of both namespaces, then FFI-only ones."""
    import tvm_ffi

    names = set()
    for namespace, module in _namespaces().items():
        for attribute, value in vars(module).items():
            if attribute[:1].isupper() and inspect.isfunction(value):
                names.add(f"{namespace}.{attribute}")
        prefix = f"{namespace}.transform."
        names.update(namespace + "." + global_name[len(prefix):] for global_name in
                     tvm_ffi.registry.list_global_func_names() if global_name.startswith(prefix))
    return sorted(f"{name}:{argument}" if argument else name
                  for name in names - set(SKIPPED) for argument in VARIANTS.get(name, ("",)))


def special_constructors(names: list[str]) -> dict[str, str]:
    """The measured passes that tzer.execute.pipeline.construct cannot build, and how this tool builds them."""
    special = {}
    for name in names:
        qualified = name.partition(":")[0]
        namespace, _, pass_name = qualified.partition(".")
        if qualified in SPECIAL_ARGUMENTS or not hasattr(_namespaces()[namespace], pass_name):
            arguments = SPECIAL_ARGUMENTS[qualified][0] if qualified in SPECIAL_ARGUMENTS else ""
            special[name] = f"{namespace}.transform.{pass_name}({arguments})"
    return special


def construct(name: str) -> Any:
    """The pass named `name`: as the fuzzer's pipelines construct it, else (FFI-only passes, arguments the name
    cannot carry) from TVM's FFI registry with the arguments above."""
    import tvm_ffi

    qualified, _, _ = name.partition(":")
    namespace, _, pass_name = qualified.partition(".")
    factory = getattr(_namespaces()[namespace], pass_name, None)
    if factory is not None and qualified not in SPECIAL_ARGUMENTS:
        return pipeline.construct(name)
    if factory is None:
        factory = tvm_ffi.get_global_func(f"{namespace}.transform.{pass_name}")
    return factory(*SPECIAL_ARGUMENTS[qualified][1]()) if qualified in SPECIAL_ARGUMENTS else factory()


# The programs


@dataclasses.dataclass(frozen=True)
class Subject:
    """One program of the matrix, with its inputs, its skeleton output and its module lowered to each position."""

    label: str
    mod: Any
    inputs: tuple[np.ndarray, ...]
    out_shape: tuple[int, ...]
    out_dtype: str
    expected: np.ndarray | None = None
    prefixes: tuple[Any, ...] = ()


def _seeds(name: str, count: int) -> list[int]:
    """Seed 0, then the first seeds that draw a dtype not drawn yet (dtypes matter to some passes), then the
    smallest seeds left."""
    dtypes = [GENERATORS.get(name)(random.Random(seed))["dtype"] for seed in range(32)]
    seeds = [seed for seed in range(32) if dtypes[seed] not in dtypes[:seed]][:count]
    return sorted(seeds + [seed for seed in range(32) if seed not in seeds][:count - len(seeds)])


def generator_subjects(per_generator: int) -> list[Subject]:
    subjects = []
    for name in GENERATORS.names():
        for seed in _seeds(name, per_generator):
            program = build_program(GraphSpec.from_json(GENERATORS.get(name)(random.Random(seed))))
            subjects.append(Subject(f"{name}-{seed}", program.mod, tuple(draw_inputs(program.inputs, 0)),
                                    program.output.shape, program.output.dtype))
    return subjects


def _schedule(tensors: list[Any], apply: Callable[[Any], None]) -> Any:
    import tvm
    from tvm import s_tir, te

    sch = s_tir.Schedule(tvm.IRModule({"main": te.create_prim_func(tensors)}))
    apply(sch)
    return sch.mod


def _dense() -> Any:
    """Matrix product: split, reorder, parallel, unroll, vectorize, decompose_reduction."""
    from tvm import te

    a, b = te.placeholder((16, 32), "float32", name="A"), te.placeholder((24, 32), "float32", name="B")
    k = te.reduce_axis((0, 32), name="k")
    c = te.compute((16, 24), lambda i, j: te.sum(a[i, k] * b[j, k], axis=k), name="C")

    def apply(sch):
        block = sch.get_sblock("C")
        i, j, kk = sch.get_loops(block)
        io, ii = sch.split(i, [None, 4])
        jo, ji = sch.split(j, [None, 8])
        sch.reorder(io, jo, kk, ii, ji)
        sch.parallel(io)
        sch.unroll(ii)
        sch.vectorize(ji)
        sch.decompose_reduction(block, kk)

    return _schedule([a, b, c], apply)


def _blur() -> Any:
    """A padded producer computed at its consumer's outer loop (compute_at): guarded loads, overlapping tiles."""
    import tvm
    from tvm import te

    a = te.placeholder((12, 20), "float32", name="A")
    b = te.compute((12, 22), lambda i, j: te.if_then_else(tvm.tirx.all(j >= 1, j <= 20), a[i, j - 1] * 2.0, 0.0),
                   name="B")
    c = te.compute((12, 20), lambda i, j: b[i, j] + b[i, j + 1] + b[i, j + 2], name="C")

    def apply(sch):
        _, j = sch.get_loops(sch.get_sblock("C"))
        jo, _ = sch.split(j, [None, 4])
        sch.compute_at(sch.get_sblock("B"), jo)

    return _schedule([a, c], apply)


def _row_sum() -> Any:
    """An int32 row sum split and rfactored, the rfactor block's init decomposed out."""
    from tvm import te

    a = te.placeholder((8, 64), "int32", name="A")
    k = te.reduce_axis((0, 64), name="k")
    b = te.compute((8,), lambda i: te.sum(a[i, k], axis=k), name="B")

    def apply(sch):
        _, kk = sch.get_loops(sch.get_sblock("B"))
        _, ki = sch.split(kk, [None, 4])
        rf = sch.rfactor(ki, 0)
        sch.decompose_reduction(rf, sch.get_loops(rf)[1])

    return _schedule([a, b], apply)


def scheduled_subjects() -> list[Subject]:
    subjects = []
    rng = np.random.default_rng(0)
    for label, build in (("sched-dense", _dense), ("sched-blur", _blur), ("sched-rowsum", _row_sum)):
        mod = build()
        params = mod["main"].params
        shapes = [(tuple(int(d) for d in p.shape), str(p.dtype)) for p in params]
        inputs = tuple(rng.uniform(-2, 2, s).astype(d) if d.startswith("float") else
                       rng.integers(-100, 100, s, dtype=d) for s, d in shapes[:-1])
        subjects.append(Subject(label, mod, inputs, *shapes[-1]))
    return subjects


# Lowering, compiling, running, comparing


def lower_prefixes(mod: Any) -> tuple[Any, ...]:
    """The module as the inserted pass sees it at each position: bound to llvm as tvm.compile binds it, then
    lowered by the first p skeleton passes."""
    import tvm

    with tvm.transform.PassContext(opt_level=OPT_LEVEL):
        modules = [tvm.tirx.transform.BindTarget(_llvm())(mod)]
        for name in SKELETON:
            modules.append(construct(name)(modules[-1]))
    return tuple(modules)


def compile_pipeline(subject: Subject, passes: list[str]) -> Any:
    import tvm
    from tvm.s_tir.pipeline import finalize_device_passes, finalize_host_passes

    sequential = tvm.transform.Sequential([construct(name) for name in passes])
    tvm.tirx.register_tir_pipeline(PIPELINE_NAME, lambda: (sequential, finalize_host_passes, finalize_device_passes))
    with tvm.transform.PassContext(opt_level=OPT_LEVEL):
        return tvm.compile(subject.mod, target="llvm", tir_pipeline=PIPELINE_NAME)


def run(subject: Subject, executable: Any) -> np.ndarray:
    import tvm

    entry = executable["main"]  # the first lookup JIT-compiles the LLVM module
    # A fixed fill, not zeros: an element the kernel forgets to write then differs from the skeleton's output.
    sentinel = -7.25 if subject.out_dtype.startswith("float") else 77
    out = tvm.runtime.tensor(np.full(subject.out_shape, sentinel, subject.out_dtype))
    entry(*[tvm.runtime.tensor(x) for x in subject.inputs], out)
    return out.numpy()


_ADDRESS = re.compile(r"0x[0-9a-fA-F]+")
TOLERANCE = {"float16": 1e-2, "float32": 1e-5}  # relative to the output's largest magnitude


def compare(got: np.ndarray, want: np.ndarray) -> str:
    """"ok" when bit-identical (NaN equal to NaN); "ok~<diff>" when a float differs within rounding; else wrong."""
    if np.array_equal(got, want, equal_nan=got.dtype.kind == "f"):
        return "ok"
    if got.dtype.kind == "f" and got.shape == want.shape:
        diff = np.abs(got.astype(np.float64) - want.astype(np.float64))
        finite = np.isfinite(want)
        scale = max(1.0, float(np.max(np.abs(want[finite]), initial=0.0)))
        if np.array_equal(np.isnan(got), np.isnan(want)) and np.nanmax(diff, initial=0.0) <= TOLERANCE[
                str(got.dtype)] * scale:
            return f"ok~{np.nanmax(diff, initial=0.0):.3g}"
    return "wrong result"


def exception_reason(exc: BaseException, stage: str) -> str:
    where = "" if stage == "compile" else f"{stage}: "
    return f"exception {where}{type(exc).__name__}: {key_line(str(exc))[:200]}"


def trial(pass_name: str, position: int, subject: Subject) -> str:
    """The outcome of `pass_name` inserted at `position`, on one program: "ok", "same" (the pass left the module
    unchanged: ok), "ok~..." (within rounding), or a failure reason."""
    import tvm
    import tvm_ffi

    before = subject.prefixes[position]
    try:
        with tvm.transform.PassContext(opt_level=OPT_LEVEL):
            after = construct(pass_name)(before)
        if tvm_ffi.structural_equal(after, before):
            return "same"
    except Exception:  # noqa: BLE001 -- the full compile below reports the exception where tvm.compile raises it
        pass
    try:
        executable = compile_pipeline(subject, [*SKELETON[:position], pass_name, *SKELETON[position:]])
    except Exception as exc:  # TVM raises many types; each becomes the trial's reason
        return exception_reason(exc, "compile")
    try:
        got = run(subject, executable)
    except Exception as exc:
        return exception_reason(exc, "run")
    return compare(got, subject.expected)


def passed(outcome: str) -> bool:
    return outcome in ("ok", "same") or outcome.startswith("ok~")


# The parent: forked workers, two at a time


@dataclasses.dataclass
class Job:
    pass_name: str
    position: int
    start: int = 0  # the first program this child runs
    pid: int = 0
    fd: int = -1
    log: str = ""
    in_flight: int = -1
    started: float = 0.0
    buffer: bytes = b""


def _child(job: Job, subjects: list[Subject], write_fd: int, parent: int) -> None:
    status = 0
    try:
        _die_with_parent(parent)
        log = os.open(job.log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(log, 2)  # TVM's warnings and crash backtraces
        for index in range(job.start, len(subjects)):
            os.write(write_fd, json.dumps({"start": index}).encode() + b"\n")
            outcome = trial(job.pass_name, job.position, subjects[index])
            os.write(write_fd, json.dumps({"index": index, "outcome": outcome}).encode() + b"\n")
    except BaseException:  # a tzer bug in the child: the parent sees the exit status
        import traceback

        traceback.print_exc()
        status = TZER_BUG
    finally:
        os._exit(status)


class Matrix:
    """Runs the trials with at most `jobs` children at once and collects one outcome per program."""

    def __init__(self, subjects: list[Subject], jobs: int, timeout: float, log_dir: str):
        self.subjects, self.jobs, self.timeout, self.log_dir = subjects, jobs, timeout, log_dir
        self.outcomes: dict[tuple[str, int], dict[int, str]] = collections.defaultdict(dict)
        self.crash_logs: dict[tuple[str, int, int], str] = {}
        self.running: dict[int, Job] = {}

    def run(self, trials: list[tuple[str, int]], on_done: Callable[[str, int], None]) -> None:
        queue = collections.deque(Job(name, position) for name, position in trials)
        while queue or self.running:
            while queue and len(self.running) < self.jobs:
                self._spawn(queue.popleft())
            for job in self._wait():
                if self._finished(job, queue):
                    on_done(job.pass_name, job.position)

    def _spawn(self, job: Job) -> None:
        read_fd, write_fd = os.pipe()
        handle, job.log = tempfile.mkstemp(dir=self.log_dir, suffix=".log")
        os.close(handle)
        parent = os.getpid()
        pid = os.fork()
        if pid == 0:
            os.close(read_fd)
            for other in self.running.values():
                os.close(other.fd)
            _child(job, self.subjects, write_fd, parent)
        os.close(write_fd)
        job.pid, job.fd, job.in_flight, job.started, job.buffer = pid, read_fd, job.start, time.monotonic(), b""
        self.running[read_fd] = job

    def _wait(self) -> list[Job]:
        """Read what the children said; return the jobs whose child is gone (exited, crashed or killed)."""
        deadline = min(job.started for job in self.running.values()) + self.timeout
        readable, _, _ = select.select(list(self.running), [], [], max(0.0, deadline - time.monotonic()))
        gone = []
        for fd in readable:
            job = self.running[fd]
            chunk = os.read(fd, 65536)
            if not chunk:
                gone.append(job)
                continue
            job.buffer += chunk
            while b"\n" in job.buffer:
                line, job.buffer = job.buffer.split(b"\n", 1)
                self._event(job, json.loads(line))
        for job in self.running.values():
            if job not in gone and time.monotonic() - job.started > self.timeout:
                os.kill(job.pid, signal.SIGKILL)
                gone.append(job)
        return gone

    def _event(self, job: Job, event: dict[str, Any]) -> None:
        if "start" in event:
            job.in_flight, job.started = event["start"], time.monotonic()
        else:
            self.outcomes[job.pass_name, job.position][event["index"]] = event["outcome"]
            job.in_flight = -1

    def _finished(self, job: Job, queue: collections.deque) -> bool:
        """Reap the child; record what killed it on its program in flight; queue the programs it did not reach.
        True when the (pass, position) has an outcome for every program."""
        del self.running[job.fd]
        os.close(job.fd)
        _, status = os.waitpid(job.pid, 0)
        hung = time.monotonic() - job.started > self.timeout
        if job.in_flight >= 0:
            if hung:
                outcome = f"hang (over {self.timeout:g} s)"
            elif os.WIFSIGNALED(status):
                number = os.WTERMSIG(status)
                outcome = f"signal {number} ({signal.Signals(number).name})"
            elif os.WEXITSTATUS(status) == TZER_BUG:
                raise RuntimeError(f"worker for {job.pass_name}@{job.position} failed:\n{_tail(job.log)}")
            else:
                outcome = f"exit {os.WEXITSTATUS(status)}"
            self.outcomes[job.pass_name, job.position][job.in_flight] = outcome
            self.crash_logs[job.pass_name, job.position, job.in_flight] = _tail(job.log)
        elif os.WIFEXITED(status) and os.WEXITSTATUS(status) == TZER_BUG:
            raise RuntimeError(f"worker for {job.pass_name}@{job.position} failed:\n{_tail(job.log)}")
        os.unlink(job.log)
        done = len(self.outcomes[job.pass_name, job.position])
        if done < len(self.subjects):
            queue.appendleft(Job(job.pass_name, job.position, start=done))
            return False
        return True


def _tail(path: str, size: int = 4000) -> str:
    with open(path, "rb") as handle:
        handle.seek(max(0, os.path.getsize(path) - size))
        return handle.read().decode("utf-8", "replace")


# Summaries and output


def summarize(outcomes: dict[int, str], labels: list[str]) -> str | None:
    """None when every program passed; else the reasons, each with the programs it hit unless it hit them all.
    Reasons that fail the same check, or differ only in numbers and names, are one reason (shown by its first
    example)."""
    groups: dict[str, list[int]] = {}
    examples: dict[str, str] = {}
    for index in sorted(outcomes):
        if not passed(outcomes[index]):
            key = _reason_key(outcomes[index])
            groups.setdefault(key, []).append(index)
            examples.setdefault(key, _ADDRESS.sub("<address>", outcomes[index]))  # stable from run to run
    if not groups:
        return None
    return " | ".join(sorted(examples[key] + _programs(indices, labels) for key, indices in groups.items()))


_CHECK = re.compile(r"^(.*?Check failed: .*?)(?: is false\b| \([^()]* vs\. [^()]*\))")


def _reason_key(outcome: str) -> str:
    """What identifies a reason across programs: a failed check's condition (its details name each program's own
    buffers and variables), else the normalized message."""
    check = _CHECK.match(outcome)
    return normalize_message(check.group(1) if check else outcome)


def _programs(indices: list[int], labels: list[str]) -> str:
    """"" for every program, else the shorter of the programs hit and the programs spared."""
    if len(indices) == len(labels):
        return ""
    if 2 * len(indices) <= len(labels):
        return " on " + ", ".join(labels[i] for i in indices)
    return " on all but " + ", ".join(label for i, label in enumerate(labels) if i not in indices)


def table(outcomes: dict[tuple[str, int], dict[int, str]], trials: list[tuple[str, int]],
          labels: list[str]) -> dict[str, Any]:
    passes: dict[str, Any] = {}
    for name, position in trials:
        entry = passes.setdefault(name, {"ok": [], "failures": {}})
        reason = summarize(outcomes[name, position], labels)
        if reason is None:
            entry["ok"].append(position)
        else:
            entry["failures"][str(position)] = reason
    return passes


def write_json(path: str, data: Any) -> None:
    """Atomically: a temporary file beside the target, then a rename."""
    directory = os.path.dirname(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(dir=directory, suffix=".tmp")
    with os.fdopen(handle, "w") as out:
        json.dump(data, out, indent=1, sort_keys=True)
        out.write("\n")
    os.replace(temporary, path)


def prepare(per_generator: int) -> list[Subject]:
    """The programs, each with its skeleton output and its lowered prefixes (computed here, once, before forking)."""
    subjects = []
    for subject in [*generator_subjects(per_generator), *scheduled_subjects()]:
        try:
            expected = run(subject, compile_pipeline(subject, list(SKELETON)))
        except Exception as exc:  # the skeleton must compile everything; a program it rejects is left out, loudly
            print(f"skeleton fails on {subject.label}, left out: {exception_reason(exc, 'compile')}", file=sys.stderr)
            continue
        subjects.append(dataclasses.replace(subject, expected=expected, prefixes=lower_prefixes(subject.mod)))
    return subjects


def measure(args: argparse.Namespace) -> dict[str, Any]:
    """Run the matrix; return every program's outcome per trial (the details) and the programs' labels."""
    import tvm

    started = time.monotonic()
    subjects = prepare(args.per_generator)
    if "torch" in sys.modules:  # torch's thread pool hangs in forked children unless single-threaded
        sys.modules["torch"].set_num_threads(1)
    labels = [s.label for s in subjects]
    names = args.passes.split(",") if args.passes else catalog()
    trials = [(name, position) for name in names for position in range(len(POSITIONS))]
    print(f"{len(names)} passes x {len(POSITIONS)} positions x {len(subjects)} programs "
          f"(prepared in {time.monotonic() - started:.0f} s)", file=sys.stderr, flush=True)
    gc.collect()
    gc.freeze()  # children share the warm state copy-on-write; the collector must not touch (copy) it
    done = [0]

    def progress(name: str, position: int) -> None:
        done[0] += 1
        outcomes = matrix.outcomes[name, position]
        reason = summarize(outcomes, labels) or "ok"
        inexact = [f"{labels[i]} {o}" for i, o in sorted(outcomes.items()) if o.startswith("ok~")]
        reason += f" (within rounding: {', '.join(inexact)})" if inexact else ""
        print(f"[{done[0]}/{len(trials)} {time.monotonic() - started:.0f}s] {name} @{position}: {reason[:150]}",
              file=sys.stderr, flush=True)

    with tempfile.TemporaryDirectory(prefix="pass-matrix-") as log_dir:
        matrix = Matrix(subjects, args.jobs, args.timeout, log_dir)
        matrix.run(trials, progress)
    return {"programs": labels, "tvm_version": tvm.__version__,
            "outcomes": {f"{n}@{p}": {labels[i]: o for i, o in matrix.outcomes[n, p].items()} for n, p in trials},
            "crash_logs": {f"{n}@{p}:{labels[i]}": log for (n, p, i), log in matrix.crash_logs.items()}}


def stages(details: dict[str, Any]) -> dict[str, Any]:
    """The output (pass_stages.json) from the details."""
    labels = details["programs"]
    trials, outcomes = [], {}
    for key, by_label in details["outcomes"].items():
        name, _, position = key.rpartition("@")
        trials.append((name, int(position)))
        outcomes[name, int(position)] = {labels.index(label): outcome for label, outcome in by_label.items()}
    return {"skeleton": list(SKELETON), "positions": list(POSITIONS), "programs": labels,
            "passes": table(outcomes, sorted(trials), labels), "skipped": SKIPPED,
            "constructed_specially": special_constructors(sorted({name for name, _ in trials})),
            "tvm_version": details["tvm_version"]}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=DEFAULT_OUT)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per program before SIGKILL")
    parser.add_argument("--per-generator", type=int, default=2, help="programs per tzer generator")
    parser.add_argument("--passes", default="", help="comma-separated pass names (default: the whole catalog)")
    parser.add_argument("--details", default="", help="also write every program's outcome and crash logs here")
    parser.add_argument("--from-details", default="", help="measure nothing: rebuild --out from a --details file")
    args = parser.parse_args(argv)
    if args.from_details:
        with open(args.from_details) as handle:
            details = json.load(handle)
    else:
        details = measure(args)
        if args.details:
            write_json(args.details, details)
    write_json(args.out, stages(details))
    print(f"wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
