"""Judging a CUDA build: what tzer checks of a program compiled for CUDA, with a GPU or without one.

In order: the GPU schedule (the test case's GPU mutation steps, then tzer's baseline binding of whatever they left
unbound: tzer.execute.gpu_schedule); the CUDA compile (a TVM failure on it is a finding, as on the CPU); the kernel
check (a build without a kernel is tzer's failure to schedule: NoKernel, raised); the nvcc oracle (TVM's CUDA C
must compile: a rejection is a finding, REJECTED_CODE at codegen); the launch-limit oracle. Then, where a GPU
worker runs (tzer.execute.gpu_worker), the kernel runs on the GPU and its output is judged like the CPU build's
(PyTorch reference, or the minimal lowering for a mutant that changed the meaning) and, where the campaign compiled
for llvm too, against the CPU build's output (CPU-vs-CUDA).

Every CUDA-side signature's detail begins with "cuda: " ("cuda vs llvm: " for the differential), so a bug seen on
both backends is two findings, one per backend, and triage knows which build to check.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from tzer.errors import TzerBug
from tzer.execute.executor import QUIET, ExecutionListener, Executor, Failure
from tzer.execute.gpu_schedule import NoKernel, bind_blocks, cuda_source
from tzer.judge.launch_limits import launch_violations
from tzer.judge.nvcc import NvccHook, NvccResult
from tzer.judge.signature import key_line, normalize_message
from tzer.judge.tolerance import Comparison
from tzer.mutate.apply import apply_steps
from tzer.records import Execution, Invalidity, MutationStep, PassConfig, Signature, Stage, Symptom, Verdict

CUDA_DETAIL = "cuda: "
DIFFERENTIAL_DETAIL = "cuda vs llvm: "


def is_cuda_signature(signature: Signature) -> bool:
    """Whether a finding was seen on the CUDA build (by its signature's detail)."""
    return signature.detail.startswith((CUDA_DETAIL, DIFFERENTIAL_DETAIL))


@dataclasses.dataclass(frozen=True)
class CudaCase:
    """One program to judge on CUDA: the host mutant (CPU mutation steps applied), the steps still to apply for
    the GPU, and what its output is judged by."""

    program: Any  # tzer.generate.graph.Program
    mod: Any  # the mutant after its CPU steps
    gpu_steps: tuple[MutationStep, ...]
    passes: PassConfig
    inputs: Sequence[np.ndarray]
    expected: Callable[[np.ndarray], Comparison]  # the oracle the CPU build is judged by
    against_cpu: Callable[[np.ndarray], Comparison] | None  # the CPU build's output as reference; None: no CPU build
    unmutated: bool  # no mutation step at all: the baseline schedule must work


class CudaJudge:
    """Compiles for CUDA and judges; construct once per worker process (it imports TVM)."""

    def __init__(self, tvm_version: str, target: Any, gpu: Any | None = None):
        """`target`: the CUDA target (tzer.execute.targets.CUDA, its architecture); `gpu`: a
        tzer.execute.gpu_worker.GpuWorker for it, or None where no GPU is used (the nvcc oracles only)."""
        self.executor = Executor(target)
        self.tvm_version = tvm_version
        self.gpu = gpu
        self.nvcc = NvccHook(self.executor.tvm_target)  # TVM's own hook would start CUDA in this process

    def judge(self, case: CudaCase, listener: ExecutionListener = QUIET,
              observers: Sequence[Any] = ()) -> Execution:
        from tzer.runner import failure_execution

        mutated = apply_steps(case.mod, case.gpu_steps)
        if mutated.mod is None:
            failed = case.gpu_steps[len(mutated.applied)]
            return self._invalid(Invalidity.NO_SITE, f"{failed.mutator} found no site", mutated.applied)
        scheduled = self._schedule(mutated.mod, case.unmutated)
        if isinstance(scheduled, str):
            return self._invalid(Invalidity.NO_GPU_SCHEDULE, scheduled, mutated.applied)
        unsupported = global_allocation_in_kernel(scheduled)
        if unsupported:
            return self._invalid(Invalidity.UNSUPPORTED_ON_TARGET, unsupported, mutated.applied)
        listener.stage(Stage.LOWER)
        executable, failure = self.executor.compile(scheduled, case.passes, listener, observers)
        rejected = self.nvcc.rejected() if failure is not None else None
        if rejected is not None:  # TVM's build asked nvcc (a GPU is here), which refused its source
            return self._rejected(scheduled, *rejected, mutated.applied)
        if failure is not None and not case.passes.keeps_pipeline_order:
            return self._invalid(Invalidity.MISUSED_PIPELINE, f"{failure.error_type}: {key_line(failure.message)}",
                                 mutated.applied)
        if failure is not None:
            execution = failure_execution(scheduled, failure, self.tvm_version, {})
            return self._on_cuda(execution, mutated.applied)
        listener.stage(Stage.CODEGEN)
        try:
            source = cuda_source(executable)
        except NoKernel:
            if case.unmutated or _thread_bound_loops(scheduled):
                raise
            return self._invalid(Invalidity.NO_GPU_SCHEDULE, "no block left for the GPU to run", mutated.applied)
        nvcc = self.nvcc.check(source)
        if not nvcc.accepted:
            return self._rejected(scheduled, source, nvcc, mutated.applied)
        violations = launch_violations(source, self.executor.tvm_target)
        if violations:
            return self._finding(scheduled, Signature(Symptom.LAUNCH_LIMIT, Stage.CODEGEN, "",
                                                      CUDA_DETAIL + "threads per block above max_num_threads"),
                                 "\n".join(map(str, violations)), mutated.applied, nvcc_accepted=True)
        if self.gpu is None:
            return Execution(Verdict.PASS, tvm_version=self.tvm_version, applied=mutated.applied, nvcc_accepted=True)
        return self._run_on_gpu(case, scheduled, mutated.applied, listener)

    def _run_on_gpu(self, case: CudaCase, scheduled: Any, applied: tuple[MutationStep, ...],
                    listener: ExecutionListener) -> Execution:
        import tvm

        from tzer.runner import failure_execution

        listener.stage(Stage.LOAD)  # the worker compiles, loads and runs: the compile stages' time limit applies
        output = case.program.output
        run = self.gpu.run(tvm.ir.save_json(scheduled), case.passes.to_json(), list(case.inputs), output.shape,
                           output.dtype)
        ran = {"nvcc_accepted": True, "gpu_ran": True}
        if run.crashed:
            return self._finding(scheduled, Signature(Symptom.CRASH, Stage.RUN, "", CUDA_DETAIL + run.crashed),
                                 f"the GPU worker died: {run.crashed}\n{self.gpu.stderr_tail()}", applied, **ran)
        if run.timed_out:
            return self._finding(scheduled, Signature(Symptom.TIMEOUT, Stage.RUN, "", CUDA_DETAIL + "run"),
                                 f"the GPU run outlasted {self.gpu.request_seconds:.0f} s", applied, **ran)
        if run.failure is not None:
            failure = Failure(Stage[run.failure["stage"]], run.failure["error_type"], run.failure["message"],
                              bool(run.failure["internal"]))
            return self._on_cuda(dataclasses.replace(failure_execution(scheduled, failure, self.tvm_version, {}),
                                                     **ran), applied)
        listener.stage(Stage.COMPARE)
        family, dtype = case.program.family, case.program.spec.dtype
        for detail, judge in ((CUDA_DETAIL, case.expected), (DIFFERENTIAL_DETAIL, case.against_cpu)):
            comparison = judge(run.output) if judge is not None else None
            if comparison is not None and not comparison.ok:
                return self._finding(scheduled, Signature(Symptom.MISMATCH, Stage.COMPARE, "",
                                                          f"{detail}{family}:{dtype}"),
                                     comparison.message, applied, max_abs_error=comparison.max_abs_error,
                                     max_rel_error=comparison.max_rel_error, **ran)
        return Execution(Verdict.PASS, tvm_version=self.tvm_version, applied=applied, **ran)

    def _schedule(self, mod: Any, unmutated: bool) -> Any:
        """`mod` with tzer's baseline GPU schedule; or, for a mutant it cannot bind, why (a string). On an
        unmutated program a failure is tzer's: every generator's programs are bound (tests/integration)."""
        try:
            return bind_blocks(mod)
        except Exception as exc:  # s_tir.ScheduleError and the TVM errors the schedule raises on odd loop nests
            if unmutated:
                raise TzerBug(f"the baseline GPU schedule fails on a generated program: {exc!r}") from exc
            return f"the baseline GPU schedule cannot bind it: {type(exc).__name__}: {key_line(str(exc))}"

    def _rejected(self, mod: Any, source: str, nvcc: NvccResult, applied: tuple[MutationStep, ...]) -> Execution:
        signature = Signature(Symptom.REJECTED_CODE, Stage.CODEGEN, "",
                              CUDA_DETAIL + normalize_message(first_nvcc_error(nvcc.error)))
        return self._finding(mod, signature, f"nvcc rejects TVM's CUDA C:\n{nvcc.error}\n\n{source}", applied,
                             nvcc_accepted=False)

    def _finding(self, mod: Any, signature: Signature, error: str, applied: tuple[MutationStep, ...],
                 **fields: Any) -> Execution:
        from tzer.runner import program_texts

        script, as_json = program_texts(mod)
        return Execution(Verdict.FINDING, signature, error, program_script=script, program_json=as_json,
                         tvm_version=self.tvm_version, applied=applied, **fields)

    def _on_cuda(self, execution: Execution, applied: tuple[MutationStep, ...]) -> Execution:
        """A finding of the CUDA build, its signature marked as such."""
        assert execution.signature is not None
        signature = dataclasses.replace(execution.signature, detail=CUDA_DETAIL + execution.signature.detail)
        return dataclasses.replace(execution, signature=signature, applied=applied)

    def _invalid(self, invalidity: Invalidity, error: str, applied: tuple[MutationStep, ...]) -> Execution:
        return Execution(Verdict.INVALID, error=error, tvm_version=self.tvm_version, invalidity=invalidity,
                         applied=applied)


def first_nvcc_error(diagnostics: str) -> str:
    """nvcc's first error without its file and line ("error: identifier "x" is undefined"); warnings come
    before it, and "Compilation error:" heads the whole output."""
    for line in diagnostics.splitlines():
        match = re.search(r"\)\s*:\s*(?:catastrophic )?error\s*:?\s*(.*)", line)
        if match:
            return f"error: {match.group(1).strip()}"
    return key_line(diagnostics)


def global_allocation_in_kernel(mod: Any) -> str:
    """Why `mod` cannot be a CUDA program by design, or "": a kernel (a loop bound to a GPU thread index) that
    allocates global memory, which TVM refuses ("Cannot allocate global memory when targeting CUDA"). wrap_alloc
    makes such buffers, and rfactor of a block nested in another allocates its rfactor buffer in the outer block,
    with a shape that depends on the outer block's iterators: TVM then lifts it out of the kernel, where those
    are undefined ("variables ... are used, but are not passed in as API arguments")."""
    import tvm_ffi
    from tvm import s_tir, tirx

    allocated: list = []
    for kernel in _thread_bound_loops(mod):
        tvm_ffi.structural_walk(kernel.body, [(tirx.AllocBuffer, lambda alloc: allocated.append(alloc.buffer)),
                                              (s_tir.SBlock, lambda block: allocated.extend(block.alloc_buffers))])
    global_buffers = sorted({buffer.name for buffer in allocated if buffer.scope() == "global"})
    return f"a kernel allocates global memory: {', '.join(global_buffers)}" if global_buffers else ""


def _thread_bound_loops(mod: Any) -> list:
    """The loops of `mod`'s main bound to a GPU thread index (each one a kernel's, or inside a kernel)."""
    import tvm_ffi
    from tvm import tirx

    bound: list = []
    tvm_ffi.structural_walk(mod["main"], [(tirx.For, lambda loop: bound.append(loop)
                                           if loop.thread_binding is not None else None)])
    return bound
