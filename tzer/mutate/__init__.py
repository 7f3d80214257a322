"""Mutation: registered mutators that change a program's TIR, and how a recorded mutation step is replayed.

A mutator is a callable `(mod: tvm.IRModule, rng: random.Random) -> tvm.IRModule | None`. It never changes its
input (TVM IR is immutable; build a new module), draws every choice from `rng` (so one seed gives one mutant), and
returns None when it finds nothing to mutate. It need not guarantee validity: the engine checks every mutant with
TVM's verifier and counts the ones TVM rejects as invalid, per mutator.

Four tables name them, by what a mutant means:
- general TIR mutators change the program's meaning; their mutants are judged against a minimal lowering of the
  same mutant (opt-vs-unopt);
- structural wrappers (Tzer's): wrap statements or expressions in loops, conditions, attributes, assumptions, Let or
  Select; they may change the meaning too, so they are judged like general mutators;
- schedule mutators apply S-TIR schedule primitives, which preserve the meaning; their mutants are judged against
  the unmutated program's PyTorch reference. Each also offers `traced(mod, rng) -> (mod, trace_json) | None`, and the
  trace, recorded in the step, replays it without redrawing.
- GPU schedule mutators bind loops to GPU threads or apply dlight's rules; they keep the meaning too, but only a
  CUDA build can use them, so the CPU campaign's table (MUTATORS) leaves them out; STEP_MUTATORS replays all.

To add a mutator: write it in the module of its kind and add one line to that kind's table below.
"""

from __future__ import annotations

import random
from typing import Any, Callable

from tzer.registry import Registry

# general TIR mutators: tzer/mutate/ir.py
GENERAL: dict[str, str] = {
    "swap_binary_op": "tzer.mutate.ir:swap_binary_op",
    "perturb_constant": "tzer.mutate.ir:perturb_constant",
    "change_loop_extent": "tzer.mutate.ir:change_loop_extent",
    "change_loop_kind": "tzer.mutate.ir:change_loop_kind",
    "change_dtype": "tzer.mutate.ir:change_dtype",
    "insert_cast": "tzer.mutate.ir:insert_cast",
    "negate_condition": "tzer.mutate.ir:negate_condition",
    "swap_branches": "tzer.mutate.ir:swap_branches",
    "drop_statement": "tzer.mutate.ir:drop_statement",
    "duplicate_statement": "tzer.mutate.ir:duplicate_statement",
    "swap_statements": "tzer.mutate.ir:swap_statements",
    "replace_index": "tzer.mutate.ir:replace_index",
}

# structural wrappers: tzer/mutate/wrap.py
WRAPPERS: dict[str, str] = {
    "wrap_loop": "tzer.mutate.wrap:wrap_loop",
    "wrap_if": "tzer.mutate.wrap:wrap_if",
    "wrap_attr": "tzer.mutate.wrap:wrap_attr",
    "wrap_alloc": "tzer.mutate.wrap:wrap_alloc",
    "wrap_assume": "tzer.mutate.wrap:wrap_assume",
    "wrap_select": "tzer.mutate.wrap:wrap_select",
    "wrap_let": "tzer.mutate.wrap:wrap_let",
}

# semantics-preserving schedule mutators: tzer/mutate/schedule.py
SCHEDULE: dict[str, str] = {
    f"schedule_{primitive}": f"tzer.mutate.schedule:schedule_{primitive}"
    for primitive in ("split", "reorder", "fuse", "parallel", "vectorize", "unroll", "cache_read", "cache_write",
                      "compute_at", "reverse_compute_at", "compute_inline", "reverse_compute_inline", "rfactor",
                      "decompose_reduction", "blockize", "storage_align")
}

MUTATORS: Registry[Callable[[Any, random.Random], Any]] = Registry("mutator", {**GENERAL, **WRAPPERS, **SCHEDULE})

# GPU schedule mutators: tzer/mutate/gpu.py. Their own table: thread bindings mean nothing to the llvm target, so
# the CPU campaign never draws them. They keep the program's meaning, like the schedule mutators.
GPU: dict[str, str] = {
    "gpu_bind_threads": "tzer.mutate.gpu:gpu_bind_threads",
    "gpu_cross_thread_reduction": "tzer.mutate.gpu:gpu_cross_thread_reduction",
    "gpu_cache_local": "tzer.mutate.gpu:gpu_cache_local",
    "gpu_cache_shared": "tzer.mutate.gpu:gpu_cache_shared",
    "gpu_dlight": "tzer.mutate.gpu:gpu_dlight",
}
GPU_MUTATORS: Registry[Callable[[Any, random.Random], Any]] = Registry("GPU mutator", GPU)

# Every mutator a recorded step may name, for replay (tzer.mutate.apply).
STEP_MUTATORS: Registry[Callable[[Any, random.Random], Any]] = Registry(
    "mutator", {**GENERAL, **WRAPPERS, **SCHEDULE, **GPU})
SEMANTICS_PRESERVING = frozenset(SCHEDULE) | frozenset(GPU)


def well_formed_or_none(mod: Any) -> Any:
    """`mod` if TVM's S-TIR verifier accepts it and it nests no parallel loops, else None: mutators end with this,
    so what they return is well-formed. (TVM may still reject it later, at compile time: that is counted as an
    invalid mutant.) Nested parallel loops pass the verifier, but LLVM codegen rejects them by design, and the
    minimal reference, whose loops are serial, would not: a finding that is not a bug."""
    import tvm

    try:
        well_formed = tvm.s_tir.analysis.verify_well_formed(mod, assert_mode=False)
    except Exception:  # the verifier raises on some malformed IR instead of returning False
        return None
    return mod if well_formed and not _nests_parallel_loops(mod) else None


def is_tvm_error(error: BaseException) -> bool:
    """True for an error TVM raised (a refused schedule primitive, an analysis that gave up); False for a Python
    error of tzer's own code."""
    import tvm
    from tvm.s_tir import ScheduleError

    if isinstance(error, (ScheduleError, tvm.error.InternalError)):
        return True
    # TVM's FFI raises plain ValueError/TypeError too; only those carry the FFI's error object.
    return isinstance(error, (ValueError, TypeError)) and hasattr(error, "__tvm_ffi_error__")


def parallel_loops(node: Any) -> list:
    """The parallel For loops in `node` (any depth)."""
    import tvm_ffi
    from tvm import tirx

    found: list = []
    tvm_ffi.structural_walk(node, [(tirx.For, lambda loop: found.append(loop) if loop.kind ==
                                    tirx.ForKind.PARALLEL else None)])
    return found


def _nests_parallel_loops(mod: Any) -> bool:
    return any(parallel_loops(loop.body) for _, func in mod.functions_items() for loop in parallel_loops(func.body))
