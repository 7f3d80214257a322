"""The test-case runner: one test case from its record to an `Execution` record (build, compile, run, judge).

Everything a finding needs to replay lives in the `TestCase`; everything it showed lives in the `Execution`. The
runner imports TVM and PyTorch: build one per worker process and reuse it.
"""

from __future__ import annotations

from typing import Any

from tzer.errors import TzerBug
from tzer.execute.executor import QUIET, ExecutionListener, Executor, Failure
from tzer.generate.graph import GraphSpec, Program, build_program
from tzer.generate.inputs import draw_inputs
from tzer.judge.oracles import ORACLES
from tzer.judge.signature import error_signature, mismatch_signature, names_in_script
from tzer.records import Execution, Stage, Symptom, TestCase, Verdict


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
    def __init__(self, target: str, oracle: str = "reference"):
        import torch
        import tvm

        # One thread: cheaper for small programs, and forked workers hang in a multi-threaded torch (issue 3).
        torch.set_num_threads(1)
        self.tvm_version = tvm.__version__
        self.target = target
        self.executor = Executor(target)
        self.oracle = ORACLES.get(oracle)()

    def execute(self, test_case: TestCase, listener: ExecutionListener = QUIET) -> Execution:
        if test_case.target != self.target:
            raise TzerBug(f"runner for {self.target} got a test case for {test_case.target}")
        listener.stage(Stage.BUILD)
        program = build(test_case)
        inputs = draw_inputs(program.inputs, test_case.input_seed)
        result = self.executor.run(program.mod, test_case.passes, inputs, program.output.shape, program.output.dtype,
                                   listener)
        timing = {"compile_seconds": result.compile_seconds, "run_seconds": result.run_seconds}
        if result.failure is not None and not test_case.passes.keeps_pipeline_order:
            # TVM rejecting a misordered pipeline is what it should do: counted as invalid, not a finding.
            # (Signals and hangs under it are still findings: the fork server reports those.)
            return Execution(Verdict.INVALID, error=f"{result.failure.error_type}: {result.failure.message}",
                             tvm_version=self.tvm_version, **timing)
        if result.failure is not None:
            return self._failed(program, result.failure, timing)
        listener.stage(Stage.COMPARE)
        comparison = self.oracle.judge(program, inputs, result.output)
        if comparison.ok:
            return Execution(Verdict.PASS, max_abs_error=comparison.max_abs_error,
                             max_rel_error=comparison.max_rel_error, tvm_version=self.tvm_version, **timing)
        script, as_json = program_texts(program.mod)
        return Execution(
            Verdict.FINDING, mismatch_signature(program.family, program.spec.dtype), comparison.message,
            comparison.max_abs_error, comparison.max_rel_error, script, as_json, self.tvm_version, **timing,
        )

    def warm_up(self) -> None:
        """Compile and run two small programs, so lazy initialisation (LLVM, the JIT, PyTorch) is paid once, here,
        and not by every forked worker."""
        import random

        from tzer.generate import draw_test_case

        for generator in ("max_pool", "conv"):
            self.execute(draw_test_case(random.Random(0), generator, self.target))

    def program_texts(self, test_case: TestCase) -> tuple[str, str]:
        """TVMScript and TVM JSON of a test case's program (for findings the runner did not finish itself)."""
        return program_texts(build(test_case).mod)

    def _failed(self, program: Program, failure: Failure, timing: dict[str, float]) -> Execution:
        # Generated programs are valid by construction, so every TVM failure on them is a finding.
        symptom = (Symptom.OUT_OF_MEMORY if failure.out_of_memory else
                   Symptom.INTERNAL_ERROR if failure.internal else Symptom.EXCEPTION)
        script, as_json = program_texts(program.mod)
        signature = error_signature(symptom, failure.stage, failure.error_type, failure.message, failure.guilty_pass,
                                    names_in_script(script))
        return Execution(Verdict.FINDING, signature, f"{failure.error_type}: {failure.message}",
                         program_script=script, program_json=as_json, tvm_version=self.tvm_version, **timing)
