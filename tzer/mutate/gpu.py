"""GPU schedule mutation: thread bindings, caches in shared and local memory, cross-thread reductions and dlight's
rules, the schedules a CUDA build is fuzzed with.

Like tzer/mutate/schedule.py's primitives, a binding primitive is `(sch, rng) -> None` wrapped in ScheduleMutator,
so its trace is recorded and replays without redrawing; it acts on one block under the root (looked up by name)
and leaves the others to the baseline schedule (tzer.execute.gpu_schedule.bind_blocks binds what is still
unbound). dlight's rules are not schedule primitives (they build their own schedule), so `gpu_dlight` is a plain
mutator: deterministic given the module and its rng. None of these belong to the CPU campaign's table (binding is
meaningless on the llvm target): they form their own table, GPU_MUTATORS in tzer/mutate/__init__.py.
"""

from __future__ import annotations

import random
from typing import Any

from tzer.execute.gpu_schedule import bind_spatial, fused_spatial_loop, unbound_root_blocks
from tzer.mutate import is_tvm_error
from tzer.mutate.schedule import NoSite, ScheduleMutator, reduction_loops

THREAD_COUNTS = (32, 64, 128, 256, 512, 1024)
DLIGHT_RULES = ("Fallback", "Reduction", "GeneralReduction")


def _sites(sch) -> list:
    """The unbound blocks under the root, each looked up by name: the trace names the block it binds."""
    return [sch.get_sblock(sch.get(block).name_hint) for block in unbound_root_blocks(sch)]


def bind_threads(sch, rng: random.Random) -> None:
    """One block's spatial loops over blockIdx.x / threadIdx.x, with a random number of threads per block."""
    blocks = _sites(sch)
    if not blocks:
        raise NoSite()
    bind_spatial(sch, rng.choice(blocks), rng.choice(THREAD_COUNTS))


def cross_thread_reduction(sch, rng: random.Random) -> None:
    """One reduction block's spatial loops over blockIdx.x, its innermost reduction loop bound to threadIdx.x: the
    threads of a block reduce together (TVM lowers it with LowerCrossThreadReduction). `rng` picks the block."""
    # Leaf blocks only: a block holding blocks (adaptive pooling's outer block) passes `bind`, then TVM's
    # LowerCrossThreadReduction refuses it ("violates the condition #3").
    sites = [block for block in _sites(sch)
             if not sch.get_child_blocks(block) and reduction_loops(sch, block)]
    if not sites:
        raise NoSite()
    block = rng.choice(sites)
    sch.bind(fused_spatial_loop(sch, block), "blockIdx.x")
    # The whole innermost reduction loop, unsplit: a split whose factor does not divide it leaves a predicate, and
    # TVM's LowerCrossThreadReduction then refuses the block ("reduction-related loops ... not the deepest").
    sch.bind(reduction_loops(sch, block)[-1], "threadIdx.x")


def _bound_block(sch, rng: random.Random) -> tuple[Any, Any, Any, int]:
    """One unbound leaf block under the root (drawn by `rng`), its leading spatial loops fused, split by a drawn
    number of threads and bound to blockIdx.x / threadIdx.x: (block, block loop, thread loop, threads)."""
    sites = [block for block in _sites(sch) if not sch.get_child_blocks(block)]
    if not sites:
        raise NoSite()
    block, threads = rng.choice(sites), rng.choice(THREAD_COUNTS)
    return (block, *bind_spatial(sch, block, threads), threads)


def cache_local(sch, rng: random.Random) -> None:
    """One block on GPU threads, its output written through a per-thread cache in local memory (cache_write to
    "local", the write-back moved under the threadIdx.x loop)."""
    block, _, thread_loop, _ = _bound_block(sch, rng)
    sch.reverse_compute_at(sch.cache_write(block, 0, "local"), thread_loop)


def cache_shared(sch, rng: random.Random) -> None:
    """One block on GPU threads, one of its inputs (drawn) read through shared memory: cache_read to "shared",
    computed at the blockIdx.x loop, the copy's loops fused, split and bound to threadIdx.x (a cooperative fetch;
    TVM's ThreadSync adds the barriers). A copy larger than the GPU's shared memory is TVM's to refuse."""
    block, block_loop, _, threads = _bound_block(sch, rng)
    reads = sch.get(block).reads
    if not reads:
        raise NoSite()
    cache = sch.cache_read(block, rng.randrange(len(reads)), "shared")
    sch.compute_at(cache, block_loop)
    copy_loops = sch.get_loops(cache)[1:]  # below the blockIdx.x loop
    if copy_loops:
        fused = sch.fuse(*copy_loops) if len(copy_loops) > 1 else copy_loops[0]
        sch.bind(sch.split(fused, [None, threads])[1], "threadIdx.x")


gpu_bind_threads = ScheduleMutator(bind_threads)
gpu_cross_thread_reduction = ScheduleMutator(cross_thread_reduction)
gpu_cache_local = ScheduleMutator(cache_local)
gpu_cache_shared = ScheduleMutator(cache_shared)


def gpu_dlight(mod: Any, rng: random.Random) -> Any:
    """`mod` scheduled by one of dlight's GPU rules (drawn by `rng`), for the default CUDA target; None when the
    rule declines (the module comes back unscheduled) or TVM refuses it."""
    import tvm
    from tvm.s_tir import dlight as dl

    from tzer.execute.targets import CUDA

    rule = getattr(dl.gpu, rng.choice(DLIGHT_RULES))()
    copy = tvm.IRModule(dict(mod.functions_items()))  # dlight rewrites the module it is given
    try:
        with CUDA().tvm_target():
            scheduled = dl.ApplyDefaultSchedule(rule)(copy)
    except (RuntimeError, ValueError, TypeError) as error:
        if not is_tvm_error(error):
            raise
        return None
    attrs = scheduled["main"].attrs
    return scheduled if attrs is not None and "tirx.is_scheduled" in attrs else None
