"""Schedule mutation: S-TIR schedule primitives applied at random sites, which change how a program computes but never
what it computes, so a mutant's output must still match the unmutated program's.

Each primitive is a function `(sch: tvm.s_tir.Schedule, rng: random.Random) -> None` that picks a site with `rng`
and applies one primitive there; it raises TVM's error when TVM refuses the site and `NoSite` when the program has
no site at all. `ScheduleMutator` adapts it to the mutator contract (see tzer/mutate/__init__.py) and records the
schedule trace, which `replay_trace` applies again without redrawing.

To add a primitive: write `def name(sch, rng) -> None` below, wrap it as `schedule_name = ScheduleMutator(name)` and
add one line to the SCHEDULE table. Only primitives that preserve the program's meaning belong here (never `bind`
on CPU, `set_scope` to an unrelated scope, or a non-bijective `transform_layout`).
"""

from __future__ import annotations

import random
from typing import Any, Callable

from tzer.mutate import is_tvm_error, well_formed_or_none

TRIES = 8  # fresh schedules (random sites) tried before a mutator gives up
SEED_RANGE = (1, 2**31 - 1)  # what tvm.s_tir.Schedule accepts as a seed
SCOPES = ("global", "local")  # storage scopes that mean the same memory to the llvm target
# Vectorizing or unrolling a long loop only makes compilation slow (LLVM handles any lane count); keep them short.
MAX_VECTOR_LANES = 64
MAX_UNROLL = 64
ALIGN_FACTORS = (2, 4, 8, 16, 32)


class NoSite(Exception):
    """The program offers the primitive no site at all: another random choice cannot help."""


class ScheduleMutator:
    """A schedule primitive as a mutator: `(mod, rng) -> IRModule | None`, plus `traced` for the trace JSON.

    Every try starts from a fresh Schedule: with debug_mask="all", a primitive that fails TVM's post-check raises
    without rolling the schedule back, so a schedule that saw any error holds corrupt IR and is dropped."""

    def __init__(self, primitive: Callable[[Any, random.Random], None], tries: int = TRIES):
        self.primitive = primitive
        self.tries = tries
        self.__name__ = primitive.__name__
        self.__doc__ = primitive.__doc__

    def __call__(self, mod, rng: random.Random):
        result = self.traced(mod, rng)
        return None if result is None else result[0]

    def traced(self, mod, rng: random.Random) -> tuple[Any, str] | None:
        """(mutant, trace JSON) or None when no try found a site that TVM accepts and that changes the program."""
        import tvm_ffi

        for _ in range(self.tries):
            try:
                sch = self._apply(mod, rng)
            except NoSite:
                return None
            if sch is None:
                continue
            mutant = well_formed_or_none(sch.mod)
            if mutant is not None and not tvm_ffi.structural_equal(mutant, mod):
                return mutant, trace_json(sch)
        return None

    def _apply(self, mod, rng: random.Random):
        """A fresh schedule of `mod` after the primitive, or None when TVM refused it."""
        from tvm.s_tir import Schedule

        try:
            sch = Schedule(mod, seed=rng.randint(*SEED_RANGE), debug_mask="all", error_render_level="none")
            self.primitive(sch, rng)
        except (RuntimeError, ValueError, TypeError) as error:
            if not is_tvm_error(error):
                raise
            return None
        return sch


def trace_json(sch) -> str:
    """The schedule's trace as TVM JSON text (save_json keeps IntImm factors exact, which json.dumps cannot).
    Simplified: the site search's lookups whose results the primitive did not use are dropped (about 60% of it)."""
    import tvm
    import tvm_ffi

    return tvm.ir.save_json(tvm_ffi.convert(sch.trace.simplified(remove_postproc=False).as_json()))


def replay_trace(mod, trace: str):
    """`mod` with a recorded trace applied: a finding replays from its record even if the mutators change."""
    import tvm
    from tvm.s_tir import Schedule, Trace

    sch = Schedule(mod, debug_mask="all", error_render_level="none")
    Trace.apply_json_to_schedule(tvm.ir.load_json(trace), sch)
    return sch.mod


# Sites: what a primitive may act on, enumerated in program order so one rng state picks one site.


def _choose(rng: random.Random, sites: list) -> Any:
    if not sites:
        raise NoSite()
    return rng.choice(sites)


def _blocks(sch) -> list:
    """Every block (the root's descendants), outer blocks first, in program order. Each is looked up by its name
    when names are unique, so a trace names the blocks it uses (GetSBlock) instead of their positions among the
    root's children: it replays on a program reduced around those blocks (tzer.triage.reduce); the position
    lookups, then unused, leave the simplified trace."""
    return by_name(sch, _descendants(sch, sch.get_sblock("root")))


def by_name(sch, blocks: list) -> list:
    """`blocks` each looked up again by its name (GetSBlock in a trace) when their names are unique; else as they
    are (a lookup by a name two blocks share would fail)."""
    names = [sch.get(block).name_hint for block in blocks]
    return [sch.get_sblock(name) for name in names] if len(set(names)) == len(names) else blocks


def _descendants(sch, parent) -> list:
    found = []
    for child in sch.get_child_blocks(parent):
        found.append(child)
        found.extend(_descendants(sch, child))
    return found


def _loops(sch) -> list:
    """Every loop once (a loop above several blocks is listed for the first), outer loops first."""
    seen: dict[Any, Any] = {}
    for block in _blocks(sch):
        for loop in sch.get_loops(block):
            seen.setdefault(sch.get_sref(loop), loop)
    return list(seen.values())


def _extent(sch, loop) -> int | None:
    from tvm.tirx import IntImm

    extent = sch.get(loop).extent
    return int(extent) if isinstance(extent, IntImm) else None


def _is_plain(sch, loop) -> bool:
    """A serial loop without annotation or thread binding: the only kind split, parallel, ... accept."""
    from tvm.tirx import ForKind

    node = sch.get(loop)
    return node.kind == ForKind.SERIAL and node.thread_binding is None and len(node.annotations) == 0


def _is_reduction(sch, block) -> bool:
    from tvm.tirx import IterVar

    return any(iv.iter_type == IterVar.CommReduce for iv in sch.get(block).iter_vars)


def reduction_loops(sch, block) -> list:
    """The loops of `block` that are bound to its reduction iterators and to nothing else."""
    from tvm.tirx import IterVar

    realize = block_realize(sch, block)
    reduce_vars, spatial_vars = set(), set()
    for iv, value in zip(realize.block.iter_vars, realize.iter_values):
        (reduce_vars if iv.iter_type == IterVar.CommReduce else spatial_vars).update(variables_of(value))
    only_reduce = reduce_vars - spatial_vars
    return [loop for loop in sch.get_loops(block) if sch.get(loop).loop_var in only_reduce]


def block_realize(sch, block):
    """The SBlockRealize of `block` (it holds the block's loop bindings)."""
    import tvm_ffi
    from tvm.s_tir import SBlockRealize

    target = sch.get(block)
    found = []
    tvm_ffi.structural_walk(sch.mod[sch.func_working_on].body,
                            [(SBlockRealize, lambda r: found.append(r) if r.block.same_as(target) else None)])
    return found[0]


def variables_of(expr) -> set:
    """The variables in `expr` (TIR variables hash and compare by identity)."""
    import tvm_ffi
    from tvm.tirx import Var

    found: set = set()
    tvm_ffi.structural_walk(expr, [(Var, found.add)])
    return found


def _is_output(sch, block) -> bool:
    from tvm.s_tir.schedule.analysis import is_output_block

    return bool(is_output_block(sch, block))


def _common_loops(sch, blocks: list) -> list:
    """Loops above every block of `blocks` (the places a producer or consumer of all of them may move to)."""
    loops = list(sch.get_loops(blocks[0]))
    for other in blocks[1:]:
        theirs = {sch.get_sref(loop) for loop in sch.get_loops(other)}
        loops = [loop for loop in loops if sch.get_sref(loop) in theirs]
    return loops


def _intermediates(sch) -> set:
    """Buffers that are not function parameters: only their layout may change without changing the interface."""
    params = set(sch.mod[sch.func_working_on].params)  # in 0.27 a PrimFunc's params are its buffers
    return {region.source for block in _blocks(sch) for region in sch.get(block).writes} - params


# The primitives.


def split(sch, rng: random.Random) -> None:
    """Split a loop in two or three; factors need not divide the extent (TVM then adds a predicate)."""
    loops = [loop for loop in _loops(sch) if _is_plain(sch, loop) and (_extent(sch, loop) or 0) >= 2]
    loop = _choose(rng, loops)
    extent = _extent(sch, loop)
    factors: list = [rng.randint(2, extent) for _ in range(rng.choice((1, 1, 2)))]
    factors.insert(rng.randrange(len(factors) + 1), None)
    sch.split(loop, factors=factors, preserve_unit_iters=rng.random() < 0.5)


def reorder(sch, rng: random.Random) -> None:
    """Permute two or more loops of one block's loop nest into a different order."""
    block = _choose(rng, [block for block in _blocks(sch) if len(sch.get_loops(block)) >= 2])
    loops = list(sch.get_loops(block))
    picked = sorted(rng.sample(range(len(loops)), rng.randint(2, len(loops))))
    order = list(picked)
    while order == picked:
        rng.shuffle(order)
    sch.reorder(*[loops[i] for i in order])


def fuse(sch, rng: random.Random) -> None:
    """Fuse a run of two or more consecutive loops of one block's loop nest."""
    block = _choose(rng, [block for block in _blocks(sch) if len(sch.get_loops(block)) >= 2])
    loops = list(sch.get_loops(block))
    start = rng.randrange(len(loops) - 1)
    stop = rng.randint(start + 2, len(loops))
    sch.fuse(*loops[start:stop], preserve_unit_iters=rng.random() < 0.5)


def parallel(sch, rng: random.Random) -> None:
    """Make a data-parallel loop parallel, never inside or around another parallel loop: llvm rejects nested
    parallel loops ("Nested parallel loop is not supported by threadpool")."""
    from tvm.tirx import ForKind

    nests = [sch.get_loops(block) for block in _blocks(sch)]
    taken = {sch.get_sref(loop) for loops in nests if any(sch.get(loop).kind == ForKind.PARALLEL for loop in loops)
             for loop in loops}
    sch.parallel(_choose(rng, [loop for loop in _loops(sch)
                               if _is_plain(sch, loop) and sch.get_sref(loop) not in taken]))


def vectorize(sch, rng: random.Random) -> None:
    """Vectorize a loop: often an innermost one, but outer loops too (TVM's VectorizeLoop then vectorizes or
    scalarizes the loop nest below); TVM checks that the loop is data parallel."""
    sch.vectorize(_choose(rng, _short_plain_loops(sch, MAX_VECTOR_LANES)))


def unroll(sch, rng: random.Random) -> None:
    """Mark a short loop for unrolling."""
    sch.unroll(_choose(rng, _short_plain_loops(sch, MAX_UNROLL)))


def _short_plain_loops(sch, longest: int) -> list:
    return [loop for loop in _loops(sch) if _is_plain(sch, loop) and 2 <= (_extent(sch, loop) or 0) <= longest]


def cache_read(sch, rng: random.Random) -> None:
    """Stage a buffer that a block reads through a cache block."""
    sites = [(block, index) for block in _blocks(sch) for index in range(len(sch.get(block).reads))]
    block, index = _choose(rng, sites)
    sch.cache_read(block, index, rng.choice(SCOPES))


def cache_write(sch, rng: random.Random) -> None:
    """Write a block's output through a cache block."""
    sites = [(block, index) for block in _blocks(sch) for index in range(len(sch.get(block).writes))]
    block, index = _choose(rng, sites)
    sch.cache_write(block, index, rng.choice(SCOPES))


def compute_at(sch, rng: random.Random) -> None:
    """Move a producer under a loop that encloses all its consumers."""
    sites = [(block, loop) for block in _blocks(sch) if not _is_output(sch, block) and sch.get_consumers(block)
             for loop in _common_loops(sch, sch.get_consumers(block))]
    block, loop = _choose(rng, sites)
    sch.compute_at(block, loop, preserve_unit_loops=rng.random() < 0.5)


def reverse_compute_at(sch, rng: random.Random) -> None:
    """Move a consumer under a loop that encloses all its producers."""
    sites = [(block, loop) for block in _blocks(sch) if sch.get_producers(block)
             for loop in _common_loops(sch, sch.get_producers(block))]
    block, loop = _choose(rng, sites)
    sch.reverse_compute_at(block, loop, preserve_unit_loops=rng.random() < 0.5)


def compute_inline(sch, rng: random.Random) -> None:
    """Inline a spatial producer (e.g. padding) into its consumers."""
    blocks = [block for block in _blocks(sch)
              if not _is_reduction(sch, block) and not _is_output(sch, block) and sch.get_consumers(block)]
    sch.compute_inline(_choose(rng, blocks))


def reverse_compute_inline(sch, rng: random.Random) -> None:
    """Inline a spatial consumer into its single producer, which must be spatial too (TVM never inlines into a
    reduction)."""
    blocks = [block for block in _blocks(sch) if not _is_reduction(sch, block)
              and [_is_reduction(sch, producer) for producer in sch.get_producers(block)] == [False]]
    sch.reverse_compute_inline(_choose(rng, blocks))


def rfactor(sch, rng: random.Random) -> None:
    """Factor a reduction over one of its reduction loops into a partial-result block plus a final reduction."""
    # rfactor needs the block's one written buffer (a mutant's reduction may write none: a dropped store).
    sites = [(block, loop) for block in _blocks(sch) if _is_reduction(sch, block) and len(sch.get(block).writes) == 1
             for loop in reduction_loops(sch, block)]
    block, loop = _choose(rng, sites)
    ndim = len(sch.get(block).writes[0].source.shape)
    sch.rfactor(loop, rng.randint(0, ndim))  # factor_axis may also be ndim: the new axis goes last


def decompose_reduction(sch, rng: random.Random) -> None:
    """Split a reduction's init statement into its own block, placed above an outer loop of the reduction."""
    sites = [(block, loop) for block in _blocks(sch) if sch.get(block).init is not None
             for loop in _loops_down_to_first_reduction(sch, block)]
    block, loop = _choose(rng, sites)
    sch.decompose_reduction(block, loop)


def _loops_down_to_first_reduction(sch, block) -> list:
    """The loops of `block` from the outermost to its first reduction loop (all of them if none is found)."""
    reductions = {sch.get_sref(loop) for loop in reduction_loops(sch, block)}
    loops = []
    for loop in sch.get_loops(block):
        loops.append(loop)
        if sch.get_sref(loop) in reductions:
            break
    return loops


def blockize(sch, rng: random.Random) -> None:
    """Turn the subtree under a loop into an outer block."""
    sch.blockize(_choose(rng, _loops(sch)), preserve_unit_iters=rng.random() < 0.5)


def storage_align(sch, rng: random.Random) -> None:
    """Pad one axis' stride of an intermediate buffer (never a parameter: its layout is the caller's)."""
    inner = _intermediates(sch)
    sites = [(block, index, axis) for block in _blocks(sch)
             for index, region in enumerate(sch.get(block).writes) if region.source in inner
             for axis in range(len(region.source.shape))]
    block, index, axis = _choose(rng, sites)
    factor = rng.choice(ALIGN_FACTORS)
    sch.storage_align(block, index, axis, factor, rng.randrange(factor))


schedule_split = ScheduleMutator(split)
schedule_reorder = ScheduleMutator(reorder)
schedule_fuse = ScheduleMutator(fuse)
schedule_parallel = ScheduleMutator(parallel)
schedule_vectorize = ScheduleMutator(vectorize)
schedule_unroll = ScheduleMutator(unroll)
schedule_cache_read = ScheduleMutator(cache_read)
schedule_cache_write = ScheduleMutator(cache_write)
schedule_compute_at = ScheduleMutator(compute_at)
schedule_reverse_compute_at = ScheduleMutator(reverse_compute_at)
schedule_compute_inline = ScheduleMutator(compute_inline)
schedule_reverse_compute_inline = ScheduleMutator(reverse_compute_inline)
schedule_rfactor = ScheduleMutator(rfactor)
schedule_decompose_reduction = ScheduleMutator(decompose_reduction)
schedule_blockize = ScheduleMutator(blockize)
schedule_storage_align = ScheduleMutator(storage_align)
