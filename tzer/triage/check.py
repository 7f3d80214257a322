"""Checking a ScriptCase: parse its TVMScript, apply its steps, compile and run it, and say what it shows.

The answer is an `Execution`, as for a generated test case, so the fork server can run script cases in its
children (a candidate of the reducer may crash or hang TVM) and the same signatures come out:
- a script TVM's parser or verifier rejects, whose steps no longer apply, or that accesses memory it cannot be
  proven to own is INVALID (the reducer drops such candidates);
- a failure while compiling or running is a finding with the signature tzer.runner gives it;
- a mismatch case is judged against its own minimal lowering (all loops serial; tzer's opt-vs-unopt oracle), on the
  output elements that lowering determines (an element it leaves unwritten has no expected value), with the case's
  tolerance; its blame comes from pass bisection, as in the campaign;
- an out-of-bounds case shows its signature when its steps make an access unprovable.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tzer.errors import TzerBug
from tzer.execute.executor import QUIET, ExecutionListener, Executor, Failure
from tzer.execute.targets import HOST, target_names
from tzer.generate.graph import TensorSpec
from tzer.generate.inputs import draw_inputs
from tzer.judge.initialization import determined
from tzer.judge.signature import key_line, mismatch_signature
from tzer.judge.tolerance import Comparison, Tolerance, compare_runs
from tzer.mutate.apply import apply_steps
from tzer.records import Execution, Invalidity, PassConfig, Stage, Symptom, Verdict
from tzer.runner import failure_execution, introduced_out_of_bounds, minimal_lowering_outputs, program_texts
from tzer.triage.blame import blame_mismatch
from tzer.triage.case import ScriptCase, is_tvm_json
from tzer.triage.script_guard import require_tvmscript


def parse(script: str) -> Any:
    """The module a program text describes (TVMScript, or TVM's JSON for a module whose TVMScript TVM cannot parse
    back; see `module_text`); raises what TVM's parser raises, and UnsafeProgram, before TVM's parser runs, for a
    TVMScript text that holds Python TVMScript does not need (tzer.triage.script_guard)."""
    import tvm

    if is_tvm_json(script):
        return tvm.ir.load_json(script)
    require_tvmscript(script)
    return tvm.script.from_source(script)


def module_text(mod: Any) -> str:
    """`mod` as TVMScript, or as TVM's JSON when TVM's printer writes TVMScript its parser refuses (seen in 0.27:
    "Variable adaptive_pool_max_rf already defined" after rfactor): the JSON loads with apache-tvm alone, so such a
    finding still has a standalone reproducer, though its program is not reduced (the edits work on TVMScript)."""
    import tvm

    script = mod.script()
    try:
        tvm.script.from_source(script)
    except Exception:  # the parser raises DiagnosticError and others: every one means "does not round-trip"
        return tvm.ir.save_json(mod)
    return script


def input_specs(mod: Any, domains: tuple[str, ...]) -> tuple[list[TensorSpec], TensorSpec]:
    """The inputs and the output of `main` (its parameters in order; the last is the output)."""
    func = mod["main"]
    buffers = list(func.params)  # in S-TIR, a buffer parameter is the buffer
    if len(buffers) != len(domains) + 1:
        raise TzerBug(f"a script case's main takes {len(buffers)} buffers for {len(domains)} input domains")
    specs = [TensorSpec(b.name, tuple(int(d) for d in b.shape), str(b.dtype), domain)
             for b, domain in zip(buffers, (*domains, "normal"))]
    return specs[:-1], specs[-1]


class ScriptRunner:
    """Checks script cases on one target. Construct once per process (it imports TVM), like tzer.runner.Runner."""

    case_type = ScriptCase

    def __init__(self, target: str):
        import tvm

        self.tvm_version = tvm.__version__
        self.target = target
        if HOST not in target_names(target):
            raise TzerBug(f"script cases are checked on {HOST}, which target {target!r} does not name")
        self.executor = Executor(HOST)  # a campaign's CPU-side findings; CUDA ones are not reduced yet

    def warm_up(self) -> None:
        """Pay lazy initialisation (LLVM, the JIT) once, before the fork server forks its children."""
        import random

        from tzer.generate import draw_test_case
        from tzer.runner import build

        program = build(draw_test_case(random.Random(0), "max_pool", self.target))
        self.executor.run(program.mod, PassConfig(), draw_inputs(program.inputs, 0), program.output.shape,
                          program.output.dtype)

    def program_texts(self, case: ScriptCase) -> tuple[str, str]:
        return case.script, ""

    def execute(self, case: ScriptCase, listener: ExecutionListener = QUIET) -> Execution:
        if case.target != self.target:
            raise TzerBug(f"script runner for {self.target} got a case for {case.target}")
        listener.stage(Stage.BUILD)
        built = self._build(case)
        if isinstance(built, Execution):
            return built
        original, mod = built
        input_list, output = input_specs(original, case.input_domains)
        inputs = draw_inputs(input_list, case.input_seed)
        if case.signature.symptom is Symptom.OUT_OF_BOUNDS:
            return introduced_out_of_bounds(original, mod, case.steps, self.tvm_version, self.executor, inputs,
                                            output.shape, output.dtype) or self._passed()
        from tzer.judge.bounds import unproven_access

        unproven = unproven_access(mod)
        if unproven is not None:
            return self._invalid(Invalidity.OUT_OF_BOUNDS, unproven)
        reference = None
        if case.signature.symptom is Symptom.MISMATCH:
            reference = self._reference(original, inputs, output, listener)
            if isinstance(reference, Execution):
                return reference
        result = self.executor.run(mod, case.passes, inputs, output.shape, output.dtype, listener)
        timing = {"compile_seconds": result.compile_seconds, "run_seconds": result.run_seconds}
        if result.failure is not None:
            return failure_execution(mod, result.failure, self.tvm_version, timing)
        if reference is None:
            return self._passed(**timing)
        expected, mask = reference
        tolerance = Tolerance(case.rtol, case.atol)

        def judge(got: Any) -> Comparison:
            return compare_runs(got[mask], expected[mask], output.dtype, tolerance)

        listener.stage(Stage.COMPARE)
        comparison = judge(result.output)
        if comparison.ok:
            return self._passed(**timing)
        blame = blame_mismatch(self.executor, original, mod, case.passes, case.steps, inputs, output.shape,
                               output.dtype, judge, listener)
        signature = mismatch_signature(case.family, case.dtype, blame[0] if blame else "")
        script, as_json = program_texts(mod)
        return Execution(Verdict.FINDING, signature, comparison.message, comparison.max_abs_error,
                         comparison.max_rel_error, script, as_json, self.tvm_version, blame=blame, **timing)

    def _build(self, case: ScriptCase) -> tuple[Any, Any] | Execution:
        """(the parsed module, the module after the case's steps), or why the case is invalid."""
        import tvm

        try:
            original = parse(case.script)
        except Exception as exc:  # the parser raises DiagnosticError and others: every one means "not valid"
            return self._invalid(Invalidity.ILL_FORMED, f"{type(exc).__name__}: {key_line(str(exc))}")
        if "main" not in [gvar.name_hint for gvar in original.get_global_vars()] or \
                not tvm.s_tir.analysis.verify_well_formed(original):
            return self._invalid(Invalidity.ILL_FORMED, "no well-formed main")
        try:
            mutated = apply_steps(original, case.steps)
        except Exception as exc:  # a trace that names a block or loop the script no longer has
            return self._invalid(Invalidity.NO_SITE, f"the steps no longer apply: {type(exc).__name__}")
        if mutated.mod is None:
            return self._invalid(Invalidity.NO_SITE, "the steps no longer apply")
        return original, mutated.mod

    def _reference(self, original: Any, inputs: list, output: TensorSpec,
                   listener: ExecutionListener) -> tuple[np.ndarray, np.ndarray] | Execution:
        """The minimal lowering's output and the mask of the elements it determines (the same under every fill)."""
        outputs = minimal_lowering_outputs(self.executor, original, inputs, output.shape, output.dtype, listener)
        if isinstance(outputs, Failure):
            return self._invalid(Invalidity.REFERENCE_FAILED, f"{outputs.error_type}: {key_line(outputs.message)}")
        mask = determined(*outputs)
        if not mask.any():
            return self._invalid(Invalidity.UNINITIALIZED_READ, "the minimal lowering determines no output element")
        return outputs[0], mask

    def _passed(self, **timing: float) -> Execution:
        return Execution(Verdict.PASS, tvm_version=self.tvm_version, **timing)

    def _invalid(self, invalidity: Invalidity, error: str) -> Execution:
        return Execution(Verdict.INVALID, error=error, tvm_version=self.tvm_version, invalidity=invalidity)

