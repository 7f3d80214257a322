"""GPU scheduling: what a program needs before TVM builds it for CUDA, and the check that it got it.

TVM 0.27 compiles an unscheduled function for CUDA without a word and without a kernel: main is retargeted to host
code (../shared/notes/tvm027_api.md, section 6). So every program gets tzer's baseline GPU schedule first
(`bind_blocks`): each block under the root has its leading spatial loops fused and split over blockIdx.x /
threadIdx.x (a block without such a loop gets a unit loop bound to one thread); reductions stay serial in their
thread. It is deterministic and accepted by TVM for every generator's programs, which dlight's rules are not: on
a conv program dlight's Reduction rule writes a schedule TVM's own LowerCrossThreadReduction then rejects
("Cross-thread reduction requires all the reduction-related loops to be the deepest..."), Reduction raises a
failed `bind` on maxformer and metaformer programs, and Fallback declines the nested blocks of adaptive pooling
silently. Those rules are schedules to fuzz with, not a base to stand on.

A compile that still yields no kernel is tzer's failure to schedule (`NoKernel`, a TzerBug), never a finding.
"""

from __future__ import annotations

from typing import Any

from tzer.errors import TzerBug

THREADS_PER_BLOCK = 64


class NoKernel(TzerBug):
    """A CUDA build without a kernel: the program reached TVM unscheduled, which is tzer's error."""


def bind_blocks(mod: Any, threads: int = THREADS_PER_BLOCK) -> Any:
    """Every block under main's root that no loop binds to threads yet (a GPU mutation may have bound some) on its
    own kernel: its leading spatial loops fused, split into blocks of `threads` threads and bound to blockIdx.x /
    threadIdx.x."""
    from tvm.s_tir import Schedule

    sch = Schedule(mod)
    # One block at a time, asking again after each: blocks that share loops with a bound one (rfactor and
    # compute_at nest several under one loop) are then in its kernel, and binding them again would nest one
    # blockIdx.x in another, which TVM accepts and then fails to lower.
    while unbound := unbound_root_blocks(sch):
        bind_spatial(sch, unbound[0], threads)
    return sch.mod


def unbound_root_blocks(sch: Any) -> list:
    """The blocks right under the root that no loop binds to a GPU thread index yet, in program order."""
    root = sch.get_sblock("root")
    return [child for child in sch.get_child_blocks(root)
            if not any(sch.get(loop).thread_binding is not None for loop in sch.get_loops(child))]


def fused_spatial_loop(sch: Any, block: Any) -> Any:
    """`block`'s leading spatial loops fused into one (a new unit loop if it has none)."""
    loops = leading_spatial_loops(sch, block) or [sch.add_unit_loop(block)]
    return sch.fuse(*loops) if len(loops) > 1 else loops[0]


def bind_spatial(sch: Any, block: Any, threads: int) -> tuple[Any, Any]:
    """`block`'s leading spatial loops (a unit loop if it has none) fused, split by `threads` and bound to
    blockIdx.x / threadIdx.x; returns those two loops."""
    outer, inner = sch.split(fused_spatial_loop(sch, block), [None, threads])
    sch.bind(outer, "blockIdx.x")
    sch.bind(inner, "threadIdx.x")
    return outer, inner


def leading_spatial_loops(sch: Any, block: Any) -> list:
    """The outermost loops of `block`, up to the first that a reduction iterator of it depends on or that is not
    serial (a CPU schedule mutator made it parallel, vectorized or unrolled: such a loop cannot be fused)."""
    from tvm.tirx import ForKind, IterVar

    from tzer.mutate.schedule import block_realize, variables_of

    realize = block_realize(sch, block)
    reduce_vars: set = set()
    for iter_var, value in zip(realize.block.iter_vars, realize.iter_values):
        if iter_var.iter_type != IterVar.DataPar:
            reduce_vars |= variables_of(value)
    leading = []
    for loop in sch.get_loops(block):
        node = sch.get(loop)
        if node.loop_var in reduce_vars or node.kind != ForKind.SERIAL:
            break
        leading.append(loop)
    return leading


def cuda_source(executable: Any) -> str:
    """The CUDA C of a CUDA build (its device module); NoKernel when it has none."""
    device_modules = [m for m in executable.mod.imports if m.kind == "cuda"]
    source = device_modules[0].inspect_source("") if device_modules else ""
    if "__global__" not in source:
        raise NoKernel("the CUDA build has no kernel: the program was not scheduled for the GPU")
    return source
