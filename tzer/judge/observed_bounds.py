"""Out-of-bounds accesses observed at run time: a build of a program that reports every access outside its buffer.

The static judge (tzer.judge.bounds) says what it cannot prove; this says what happens. The program is lowered by
the minimal pipeline with one more pass right after FlattenBuffer, when every access is `buffer[flat index]`: each
store is guarded by the bounds of every access in it, and an access out of bounds calls back into Python (a packed
function) with the buffer's name, the index and the extent instead of touching memory. Loops run serially (a
callback cannot be vectorized). An out-of-bounds finding is only reported when its run shows such an access: the
static judge is conservative, and a finding must be real.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np

CALLBACK = "tzer.out_of_bounds"
MAX_REPORTED = 64  # accesses kept per run (a loop may go out of bounds thousands of times)


@dataclasses.dataclass(frozen=True)
class Access:
    kind: str  # "read" or "write"
    buffer: str
    index: int  # flat
    extent: int

    def __str__(self) -> str:
        return f"{self.kind} {self.buffer}[{self.index}] (flat; its extent is {self.extent})"


_observed: list[Access] = []
_registered = False


def _register() -> None:
    global _registered
    if _registered:
        return
    import tvm

    @tvm.register_global_func(CALLBACK)
    def _report(write, name, index, extent):  # called from the compiled code
        if len(_observed) < MAX_REPORTED:
            _observed.append(Access("write" if int(write) else "read", str(name), int(index), int(extent)))
        return 0

    _registered = True


def _instrument(func: Any, mod: Any, ctx: Any) -> Any:
    import tvm
    import tvm_ffi
    from tvm import tirx

    def guard(store: Any) -> Any:
        accesses: list[Any] = []
        tvm_ffi.structural_walk(store, [((tvm.ir.TensorLoad, tirx.BufferStore), accesses.append)])
        checks = []
        for access in accesses:
            buffer = access.buffer if isinstance(access, tirx.BufferStore) else access.source
            if len(buffer.shape) != 1 or len(access.indices) != 1 or access.indices[0].ty.dtype.lanes != 1:
                continue
            index, extent = access.indices[0], buffer.shape[0]
            inside = tirx.all(index >= 0, index < extent)
            write = int(isinstance(access, tirx.BufferStore))
            report = tirx.Evaluate(tirx.call_packed(CALLBACK, write, buffer.name, index, extent))
            checks.append((inside, tirx.IfThenElse(tirx.Not(inside), report, None)))
        if not checks:
            return store
        return tirx.SeqStmt([*(report for _, report in checks),
                             tirx.IfThenElse(tirx.all(*(inside for inside, _ in checks)), store, None)])

    def serial(loop: Any) -> Any:
        if loop.kind in (tirx.ForKind.VECTORIZED, tirx.ForKind.UNROLLED, tirx.ForKind.PARALLEL):
            return tirx.For(loop.loop_var, loop.min, loop.extent, tirx.ForKind.SERIAL, loop.body,
                            loop.thread_binding, loop.annotations)
        return loop

    return func.with_body(tvm_ffi.structural_map(func.body, [(tirx.BufferStore, guard), (tirx.For, serial)]))


def observe_out_of_bounds(mod: Any, target: Any, inputs: Sequence[np.ndarray],
                          outputs: Sequence[np.ndarray]) -> list[Access]:
    """Build `mod` with the bounds instrumentation, call it on copies of `inputs` and `outputs` (output and any
    exposed intermediates), and return the accesses it made outside their buffers (at most MAX_REPORTED)."""
    import tvm
    from tvm.s_tir.pipeline import finalize_device_passes, finalize_host_passes

    from tzer.execute.pipeline import MINIMAL_PIPELINE, construct

    _register()
    passes = []
    for name in MINIMAL_PIPELINE:
        passes.append(construct(name))
        if name == "tirx.FlattenBuffer":
            passes.append(tvm.tirx.transform.prim_func_pass(_instrument, opt_level=0, name="tzer.ObserveBounds"))
    sequential = tvm.transform.Sequential(passes)
    tvm.tirx.register_tir_pipeline("tzer.observe_bounds",
                                   lambda: (sequential, finalize_host_passes, finalize_device_passes))
    entry = tvm.compile(mod, target=target, tir_pipeline="tzer.observe_bounds")["main"]
    _observed.clear()
    entry(*(tvm.runtime.tensor(array) for array in [*inputs, *outputs]))
    found = list(_observed)
    _observed.clear()
    return found


def roles(mod: Any, inputs: int) -> dict[str, str]:
    """Buffer name -> "input", "output" or "intermediate" for main's parameters (the first `inputs` are inputs, the
    next the output, the rest exposed intermediates); a buffer that is no parameter is an intermediate."""
    func = mod["main"]
    names = [param.name for param in func.params]
    return {name: "input" if i < inputs else "output" if i == inputs else "intermediate"
            for i, name in enumerate(names)}


def describe(accesses: Sequence[Access], buffer_roles: dict[str, str]) -> str:
    """What kinds of access went out of bounds, e.g. "reads input; writes output": the same for one bug whatever
    the program's shapes and names, so it can name a finding's signature."""
    kinds = sorted({f"{a.kind}s {buffer_roles.get(a.buffer, 'intermediate')}" for a in accesses})
    return "; ".join(kinds) + " out of bounds"
