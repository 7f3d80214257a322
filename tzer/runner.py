"""The test-case runner: one test case from its record to an `Execution` record (build, mutate, compile, run,
judge).

Everything a finding needs to replay lives in the `TestCase`; everything it showed lives in the `Execution`. The
runner imports TVM and PyTorch: build one per worker process and reuse it.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from tzer.errors import TzerBug
from tzer.execute.executor import QUIET, ExecutionListener, Executor, Failure, RunResult
from tzer.execute.pipeline import MINIMAL_PIPELINE
from tzer.execute.targets import HOST, parse_targets
from tzer.generate.graph import GraphSpec, Program, build_program
from tzer.generate.inputs import draw_inputs
from tzer.judge.initialization import FILLS, expose_allocations, filled, same_output
from tzer.judge.cuda import CudaCase, CudaJudge
from tzer.judge.oracles import ORACLES, Evidence, Oracle
from tzer.judge.signature import error_signature, key_line, mismatch_signature, names_in_script
from tzer.judge.tolerance import Comparison
from tzer.mutate.apply import apply_steps, preserves_semantics, split_gpu_steps
from tzer.observe import FEEDBACK
from tzer.observe.coverage import CaseMeter, CoverageProvider, NoCoverage
from tzer.observe.pass_effects import compute_dtypes
from tzer.records import (
    Execution, Invalidity, MutationStep, PassConfig, Signature, Stage, Symptom, TestCase, Verdict,
)
from tzer.triage.blame import blame_mismatch, guilty_prefix


def build(test_case: TestCase) -> Program:
    """Rebuild the program of a test case. A failure here is tzer's: generators only draw valid programs, and a
    program that is not well-formed (TVM's own verifier) is not valid."""
    import tvm

    try:
        program = build_program(GraphSpec.from_json(test_case.params))
        well_formed = tvm.s_tir.analysis.verify_well_formed(program.mod)
    except TzerBug:
        raise
    except Exception as exc:
        raise TzerBug(f"cannot build {test_case.generator} program {test_case.params}: {exc!r}") from exc
    if not well_formed:
        raise TzerBug(f"{test_case.generator} drew an ill-formed program: {test_case.params}")
    return program


def program_texts(mod: Any) -> tuple[str, str]:
    """The module as TVMScript and as TVM JSON, for the store."""
    import tvm

    return mod.script(), tvm.ir.save_json(mod)


class Runner:
    case_type = TestCase  # what it executes (the fork server decodes cases as this)

    def __init__(self, target: str, feedback: str = "pass_effects", coverage: CoverageProvider | None = None,
                 gpu: Any = "auto"):
        """`target`: a target spec (tzer.execute.targets: "llvm", "cuda", "llvm,cuda"); `coverage`: a provider
        already attached to TVM in this process (tzer.observe.coverage), or none; `gpu`: for a CUDA target, the
        GPU worker to run its builds in (tzer.execute.gpu_worker), None for none, or "auto": one where this
        machine has a GPU."""
        import torch
        import tvm

        # One thread: cheaper for small programs, and forked workers hang in a multi-threaded torch (issue 3).
        torch.set_num_threads(1)
        self.tvm_version = tvm.__version__
        self.target = target
        targets = parse_targets(target)
        self.targets = tuple(t.name for t in targets)
        self.executor = Executor(HOST)  # the CPU build, and tzer's own references whatever the targets
        self.feedback = FEEDBACK.get(feedback)()
        self.coverage = coverage or NoCoverage()
        self.cuda: CudaJudge | None = None
        cuda = next((t for t in targets if t.gpu), None)
        if cuda is not None:
            if gpu == "auto":
                from tzer.execute.gpu_worker import GpuWorker, gpu_available

                gpu = GpuWorker(cuda.arch) if gpu_available() else None
            self.cuda = CudaJudge(self.tvm_version, cuda, gpu)

    def close(self) -> None:
        """Stop the GPU worker, if one runs."""
        if self.cuda is not None and self.cuda.gpu is not None:
            self.cuda.gpu.close()

    def execute(self, test_case: TestCase, listener: ExecutionListener = QUIET) -> Execution:
        """Build, mutate, compile, run and judge one test case. The steps of the Execution it returns are the steps
        as applied (`Execution.applied`), for the store and the seed pool; its coverage is what the whole case
        (mutation, reference, fuzzed compile) was first to cover."""
        meter = CaseMeter(self.coverage)
        execution = self._execute(test_case, listener, meter)
        novelty, pass_coverage = meter.finish()
        return dataclasses.replace(execution, new_coverage=novelty.points, new_coverage_tvm=novelty.own,
                                   pass_coverage=pass_coverage)

    def _execute(self, test_case: TestCase, listener: ExecutionListener, meter: CaseMeter) -> Execution:
        if test_case.target != self.target:
            raise TzerBug(f"runner for {self.target} got a test case for {test_case.target}")
        listener.stage(Stage.BUILD)
        program = build(test_case)
        host_steps, gpu_steps = split_gpu_steps(test_case.mutations)
        mutated = apply_steps(program.mod, host_steps)
        if mutated.mod is None:
            failed = host_steps[len(mutated.applied)]
            return self._invalid(Invalidity.NO_SITE, f"{failed.mutator} found no site", mutated.applied)
        mod = mutated.mod
        inputs = draw_inputs(program.inputs, test_case.input_seed)
        lowered_reference = None
        if mutated.applied and preserves_semantics(mutated.applied):
            out_of_bounds = introduced_out_of_bounds(program.mod, mod, mutated.applied, self.tvm_version,
                                                     self.executor, inputs, program.output.shape,
                                                     program.output.dtype)
            if out_of_bounds is not None:
                return out_of_bounds
        elif mutated.applied:
            lowered_reference = self._lowered_reference(program, mod, inputs, listener)
            if isinstance(lowered_reference, Execution):
                return dataclasses.replace(lowered_reference, applied=mutated.applied)
        observers = self.feedback.observers() + ([meter.observer()] if self.coverage.points else [])
        execution, cpu_output = None, None
        if HOST in self.targets:
            result = self.executor.run(mod, test_case.passes, inputs, program.output.shape, program.output.dtype,
                                       listener, observers)
            execution = self._judge(test_case, program, mod, inputs, result, lowered_reference, mutated.applied,
                                    listener)
            cpu_output = result.output
        if self.cuda is not None and (execution is None or execution.verdict is Verdict.PASS):
            execution = self._judge_cuda(test_case, program, mod, gpu_steps, inputs, lowered_reference,
                                         cpu_output, listener, observers)
            execution = dataclasses.replace(execution, applied=mutated.applied + execution.applied)
        else:
            execution = dataclasses.replace(execution, applied=mutated.applied)
        return dataclasses.replace(execution, features=self.feedback.features(mod))

    def _judge_cuda(self, test_case: TestCase, program: Program, mod: Any, gpu_steps: tuple[MutationStep, ...],
                    inputs: list, lowered_reference: Any, cpu_output: Any, listener: ExecutionListener,
                    observers: list) -> Execution:
        """The CUDA build of the mutant (tzer.judge.cuda), judged by the oracle the CPU build is judged by and,
        where the CPU build ran, against its output."""
        dtypes = compute_dtypes(mod)

        def against_cpu(output: Any) -> Comparison:
            return self.oracles["cpu_vs_cuda"].judge(Evidence(program, inputs, output, cpu_output, dtypes))

        expected = self._oracle(program, mod, inputs, lowered_reference)
        case = CudaCase(program, mod, gpu_steps, test_case.passes, inputs, expected,
                        against_cpu if cpu_output is not None else None, not test_case.mutations)
        return self.cuda.judge(case, listener, observers)

    def _lowered_reference(self, program: Program, mod: Any, inputs: list, listener: ExecutionListener):
        """The mutant's output under the minimal lowering, all loops serial; or the INVALID Execution saying why
        there is none: the mutant may access memory out of bounds (TVM checks nothing at run time), the minimal
        lowering rejects it, or its output depends on memory it never wrote (tzer.judge.initialization)."""
        from tzer.judge.bounds import unproven_access

        unproven = unproven_access(mod)
        if unproven is not None:
            return self._invalid(Invalidity.OUT_OF_BOUNDS, unproven)
        outputs = minimal_lowering_outputs(self.executor, mod, inputs, program.output.shape, program.output.dtype,
                                           listener)
        if isinstance(outputs, Failure):
            return self._invalid(Invalidity.REFERENCE_FAILED, f"{outputs.error_type}: {key_line(outputs.message)}")
        if not same_output(*outputs):
            return self._invalid(Invalidity.UNINITIALIZED_READ, "the output depends on the initial memory contents")
        return outputs[0]

    def _judge(self, test_case: TestCase, program: Program, mod: Any, inputs: list, result: RunResult,
               lowered_reference: Any, applied: tuple[MutationStep, ...], listener: ExecutionListener) -> Execution:
        timing = {"compile_seconds": result.compile_seconds, "run_seconds": result.run_seconds}
        if result.failure is not None and not test_case.passes.keeps_pipeline_order:
            # TVM rejecting a misordered pipeline is what it should do: counted as invalid, not a finding.
            # (Signals and hangs under it are still findings: the fork server reports those.)
            return self._invalid(Invalidity.MISUSED_PIPELINE,
                                 f"{result.failure.error_type}: {key_line(result.failure.message)}", **timing)
        if result.failure is not None:
            return failure_execution(mod, result.failure, self.tvm_version, timing)
        listener.stage(Stage.COMPARE)
        judge = self._oracle(program, mod, inputs, lowered_reference)
        comparison = judge(result.output)
        if comparison.ok:
            return Execution(Verdict.PASS, max_abs_error=comparison.max_abs_error,
                             max_rel_error=comparison.max_rel_error, tvm_version=self.tvm_version, **timing)
        blame = blame_mismatch(self.executor, program.mod, mod, test_case.passes, applied, inputs,
                               program.output.shape, program.output.dtype, judge, listener)
        script, as_json = program_texts(mod)
        signature = mismatch_signature(program.family, program.spec.dtype, blame[0] if blame else "")
        return Execution(Verdict.FINDING, signature, comparison.message, comparison.max_abs_error,
                         comparison.max_rel_error, script, as_json, self.tvm_version, blame=blame, **timing)

    def _oracle(self, program: Program, mod: Any, inputs: list,
                lowered_reference: Any) -> Callable[[Any], Comparison]:
        """An output of `mod` -> its Comparison by the oracle a mutant is judged by: the PyTorch reference, or the
        minimal lowering's output where a mutation changed the meaning (tzer.judge.oracles)."""
        oracle = self.oracles["reference" if lowered_reference is None else "minimal_lowering"]
        dtypes = compute_dtypes(mod)

        def judge(output: Any) -> Comparison:
            return oracle.judge(Evidence(program, inputs, output, lowered_reference, dtypes))

        return judge

    @functools.cached_property
    def oracles(self) -> dict[str, Oracle]:
        return {name: ORACLES.get(name)() for name in ORACLES.names()}

    def _invalid(self, invalidity: Invalidity, error: str, applied: tuple[MutationStep, ...] = (),
                 **timing: float) -> Execution:
        return Execution(Verdict.INVALID, error=error, tvm_version=self.tvm_version, invalidity=invalidity,
                         applied=applied, **timing)

    def warm_up(self) -> None:
        """Compile and run two small programs, so lazy initialisation (LLVM, the JIT, PyTorch) is paid once, here,
        and not by every forked worker."""
        import random

        from tzer.generate import draw_test_case

        for generator in ("max_pool", "conv"):
            self.execute(draw_test_case(random.Random(0), generator, self.target))

    def program_texts(self, test_case: TestCase) -> tuple[str, str]:
        """TVMScript and TVM JSON of a test case's program, mutated (for findings the runner did not finish
        itself)."""
        mutated = apply_steps(build(test_case).mod, split_gpu_steps(test_case.mutations)[0])
        if mutated.mod is None:
            raise TzerBug(f"the mutation steps of a finding no longer apply: {test_case.mutations}")
        return program_texts(mutated.mod)


def introduced_out_of_bounds(original: Any, mod: Any, applied: tuple[MutationStep, ...], tvm_version: str,
                             executor: Executor, inputs: list, out_shape: tuple[int, ...],
                             out_dtype: str) -> Execution | None:
    """A finding if semantics-preserving steps (schedule primitives) made `original` access memory out of bounds:
    an access the static judge cannot prove in bounds (tzer.judge.bounds) that a run of the instrumented program
    (tzer.judge.observed_bounds, intermediates exposed) shows happening. Generated programs are all proven in
    bounds, so a primitive broke the program (seen: cache_read on adaptive pooling copies a window one element past
    the input). The guilty step is the first after which an access is seen out of bounds; the signature names it
    and the kinds of access (e.g. "reads input"), which do not change with the program's shapes. None when nothing
    is out of bounds, or nothing is seen to be."""
    from tzer.judge.bounds import unproven_access
    from tzer.judge.observed_bounds import describe, roles

    def observed(program: Any) -> list:
        return _observe_out_of_bounds(program, executor, inputs, out_shape, out_dtype)

    unproven = unproven_access(mod)
    if unproven is None:
        return None
    seen = observed(mod)
    if not seen:
        return None
    at_guilty: list = []  # the last prefix tried and the accesses seen in it: the guilty one, once found

    def seen_in(prefix: Any) -> bool:
        at_guilty[:] = [prefix, observed(prefix) if unproven_access(prefix) is not None else []]
        return bool(at_guilty[1])

    count = guilty_prefix(original, applied, seen_in)
    if count is None:
        raise TzerBug(f"an access of the mutant is out of bounds, but of none of its step prefixes: {applied}")
    guilty = applied[count - 1]
    detail = describe(at_guilty[1], roles(at_guilty[0], len(inputs)))
    script, as_json = program_texts(mod)
    accesses = ", ".join(str(access) for access in seen[:4])
    return Execution(Verdict.FINDING, Signature(Symptom.OUT_OF_BOUNDS, Stage.BUILD, guilty.mutator, detail),
                     f"out of bounds after {guilty.mutator}: {unproven}\nobserved at run time: {accesses}",
                     program_script=script, program_json=as_json, tvm_version=tvm_version, applied=applied)


def _observe_out_of_bounds(mod: Any, executor: Executor, inputs: list, out_shape: tuple[int, ...],
                           out_dtype: str) -> list:
    """The accesses out of bounds a run of `mod` (intermediates exposed) makes; none where TVM cannot build or run
    the instrumented twin (then the real build is judged as usual)."""
    from tzer.judge.observed_bounds import observe_out_of_bounds

    exposed, scratch = expose_allocations(mod)
    buffers = [np.zeros(out_shape, out_dtype), *(np.zeros(shape, dtype) for shape, dtype in scratch)]
    try:
        return observe_out_of_bounds(exposed, executor.tvm_target, inputs, buffers)
    except Exception:  # TVM rejects the instrumented build: a failure of the real build is judged as usual
        return []


def minimal_lowering_outputs(executor: Executor, mod: Any, inputs: list, out_shape: tuple[int, ...], out_dtype: str,
                             listener: ExecutionListener) -> list | Failure:
    """`mod` with every loop serial, lowered by the minimal pipeline and run once per fill of
    tzer.judge.initialization (its intermediates exposed and filled too): the outputs, one per fill, or the
    failure. Where they differ, the program read memory it never wrote."""
    from tzer.judge.bounds import serialize_loops

    exposed, scratch = expose_allocations(serialize_loops(mod))
    entry, failure, _ = executor.load(exposed, PassConfig(pipeline=MINIMAL_PIPELINE), listener)
    outputs = []
    for which in range(len(FILLS)) if failure is None else ():
        buffers = [filled(out_shape, out_dtype, which), *(filled(shape, dtype, which) for shape, dtype in scratch)]
        returned, failure = executor.call(entry, inputs, buffers, listener)
        if failure is not None:
            break
        outputs.append(returned[0])
    return failure if failure is not None else outputs


def failure_execution(mod: Any, failure: Failure, tvm_version: str, timing: dict[str, float]) -> Execution:
    """The finding a TVM failure on a valid program is: its signature names the symptom, stage, pass and check."""
    symptom = (Symptom.OUT_OF_MEMORY if failure.out_of_memory else
               Symptom.INTERNAL_ERROR if failure.internal else Symptom.EXCEPTION)
    script, as_json = program_texts(mod)
    signature = error_signature(symptom, failure.stage, failure.error_type, failure.message, failure.guilty_pass,
                                names_in_script(script))
    return Execution(Verdict.FINDING, signature, f"{failure.error_type}: {failure.message}",
                     program_script=script, program_json=as_json, tvm_version=tvm_version, **timing)
