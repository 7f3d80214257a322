"""Schedule mutators (tzer/mutate/schedule.py), no compiling: each applies where it must and leaves its mark, a
recorded trace replays to the same module, and a schedule that saw a TVM error is never returned."""

import functools
import random

import pytest

from tzer.mutate import MUTATORS, SCHEDULE
from tzer.mutate import schedule as S

SEEDS = range(6)


@functools.lru_cache(maxsize=None)
def program(generator: str, program_seed: int):
    from tzer.generate import GENERATORS
    from tzer.generate.graph import GraphSpec, build_program

    return build_program(GraphSpec.from_json(GENERATORS.get(generator)(random.Random(program_seed)))).mod


def mutants(name: str, mod, seeds=SEEDS) -> list:
    """The mutants of `mod` for each seed; each must exist (the tests below pick programs where they must)."""
    found = [MUTATORS.get(name)(mod, random.Random(seed)) for seed in seeds]
    assert all(m is not None for m in found), f"{name} found no site on a program where it must apply"
    return found


def walk(mod, kind) -> list:
    import tvm_ffi

    nodes = []
    tvm_ffi.structural_walk(mod["main"].body, [(kind, nodes.append)], order="pre")
    return nodes


def block_names(mod) -> set:
    from tvm.s_tir import SBlock

    return {block.name_hint for block in walk(mod, SBlock)}


def loop_kinds(mod) -> list:
    from tvm.tirx import For

    return [loop.kind for loop in walk(mod, For)]


def root_nests(mod) -> int:
    """How many statements sit directly in the root block (one per loop nest not moved under another)."""
    from tvm.tirx import SeqStmt

    body = mod["main"].body.block.body
    return len(body.seq) if isinstance(body, SeqStmt) else 1


def has_predicate(mod) -> bool:
    from tvm.s_tir import SBlockRealize
    from tvm.tirx import IntImm

    predicates = [realize.predicate for realize in walk(mod, SBlockRealize)]
    return any(not (isinstance(p, IntImm) and int(p.value) == 1) for p in predicates)


# Conv: pad_temp -> conv2d_nchw (a reduction) -> gelu. GeM: an elementwise chain around a global pooling.
CONV = ("conv", 0)
GEM = ("gem", 0)
GLOBAL_POOL = ("global_pool", 1)


def test_every_primitive_is_registered_once():
    assert len(SCHEDULE) == 16
    assert all(isinstance(MUTATORS.get(name), S.ScheduleMutator) for name in SCHEDULE)


def test_split_adds_loops_and_a_predicate_for_a_non_divisible_factor():
    mod = program(*CONV)
    found = mutants("schedule_split", mod, range(12))
    assert all(len(loop_kinds(m)) > len(loop_kinds(mod)) for m in found)
    assert not has_predicate(mod) and any(has_predicate(m) for m in found)


def test_reorder_changes_a_loop_order_and_fuse_removes_loops():
    from tvm.tirx import For

    mod = program(*CONV)
    order = [loop.loop_var.name for loop in walk(mod, For)]
    assert all([loop.loop_var.name for loop in walk(m, For)] != order for m in mutants("schedule_reorder", mod))
    assert all(len(loop_kinds(m)) < len(loop_kinds(mod)) for m in mutants("schedule_fuse", mod))


@pytest.mark.parametrize("name, kind", [("schedule_parallel", "PARALLEL"), ("schedule_vectorize", "VECTORIZED"),
                                        ("schedule_unroll", "UNROLLED")])
def test_loop_kind_primitives_set_their_kind(name, kind):
    from tvm.tirx import ForKind

    for m in mutants(name, program(*CONV)):
        assert loop_kinds(m).count(getattr(ForKind, kind)) == 1


def test_parallel_never_nests_parallel_loops():
    from tvm.tirx import ForKind

    mod = program(*CONV)
    for seed in range(4):
        once = S.schedule_parallel(mod, random.Random(seed))
        for again in [S.schedule_parallel(once, random.Random(s)) for s in range(4)]:
            if again is not None:
                assert _max_parallel_depth(again) == 1, again.script()
        assert loop_kinds(once).count(ForKind.PARALLEL) == 1


def _max_parallel_depth(mod) -> int:
    from tvm.tirx import For, ForKind

    def depth(loop) -> int:
        inner = [depth(child) for child in walk_stmt(loop.body, For)]
        return int(loop.kind == ForKind.PARALLEL) + max(inner, default=0)

    return max(depth(loop) for loop in walk(mod, For))


def walk_stmt(stmt, kind) -> list:
    import tvm_ffi

    nodes = []
    tvm_ffi.structural_walk(stmt, [(kind, nodes.append)])
    return nodes


@pytest.mark.parametrize("name, suffixes", [("schedule_cache_read", ("_global", "_local")),
                                            ("schedule_cache_write", ("_global", "_local")),
                                            ("schedule_rfactor", ("_rf",)),
                                            ("schedule_decompose_reduction", ("_init",)),  # and "_update"
                                            ("schedule_blockize", ("_o",))])
@pytest.mark.parametrize("where", [CONV, GLOBAL_POOL])
def test_block_adding_primitives_add_their_block(name, suffixes, where):
    mod = program(*where)
    for m in mutants(name, mod):
        new = block_names(m) - block_names(mod)
        assert any(n.endswith(suffixes) for n in new), sorted(block_names(m))


def test_compute_inline_removes_the_pad_block():
    mod = program(*CONV)
    gone = [block_names(mod) - block_names(m) for m in mutants("schedule_compute_inline", mod)]
    assert all(g == {"pad_temp"} for g in gone)  # conv2d_nchw is a reduction and gelu the output: only pad_temp


def test_reverse_compute_inline_removes_a_consumer():
    mod = program(*GEM)
    assert all(len(block_names(mod) - block_names(m)) == 1 for m in mutants("schedule_reverse_compute_inline", mod))


@pytest.mark.parametrize("name", ["schedule_compute_at", "schedule_reverse_compute_at"])
def test_compute_at_moves_a_block_under_another_nest(name):
    mod = program(*CONV)
    assert all(root_nests(m) == root_nests(mod) - 1 for m in mutants(name, mod))


def test_storage_align_annotates_an_intermediate_buffer_only():
    from tvm.s_tir import SBlock

    mod = program(*CONV)
    for m in mutants("schedule_storage_align", mod):
        aligned = [b for b in walk(m, SBlock) if "buffer_dim_align" in b.annotations]
        assert [b.name_hint for b in aligned] in (["pad_temp"], ["conv2d_nchw"])  # never gelu, the output


def test_mutator_without_site_returns_none():
    single_block = program("global_pool", 0)  # one reduction block: nothing to inline, nothing to move
    for name in ("schedule_compute_inline", "schedule_reverse_compute_inline", "schedule_compute_at"):
        assert MUTATORS.get(name)(single_block, random.Random(0)) is None


@pytest.mark.parametrize("name", sorted(SCHEDULE))
def test_recorded_trace_replays_to_the_same_module(name):
    import tvm_ffi

    for where in (CONV, GEM):
        mod = program(*where)
        result = MUTATORS.get(name).traced(mod, random.Random(3))
        if result is None:
            continue
        mutant, trace = result
        assert isinstance(trace, str)
        assert tvm_ffi.structural_equal(S.replay_trace(mod, trace), mutant)
        assert tvm_ffi.structural_equal(MUTATORS.get(name)(mod, random.Random(3)), mutant)


# The corrupt-state pitfall. In maxformer 0, pad_temp consumes a max pooling; reverse_compute_at of pad_temp under
# the pooling's outer loop fails TVM's post-check (InternalError "Wrong stage_pipeline") *after* rewriting the IR.
MAXFORMER = ("maxformer", 0)


def _corrupting_call(sch):
    sch.reverse_compute_at("pad_temp", sch.get_loops("pool_max")[0])


def test_tvm_leaves_the_schedule_rewritten_after_a_failed_post_check():
    """The behaviour the adapter guards against (if TVM ever rolls back, this test says the guard is moot)."""
    import tvm
    import tvm_ffi
    from tvm.s_tir import Schedule

    mod = program(*MAXFORMER)
    sch = Schedule(mod, debug_mask="all", error_render_level="none")
    with pytest.raises(tvm.error.InternalError):
        _corrupting_call(sch)
    assert not tvm_ffi.structural_equal(sch.mod, mod)


def test_adapter_drops_a_schedule_that_saw_an_error():
    mod = program(*MAXFORMER)

    def corrupt_then_split(sch, rng):
        _corrupting_call(sch)  # raises; a reused schedule would carry its rewrite into the next primitive
        S.split(sch, rng)

    assert S.ScheduleMutator(corrupt_then_split)(mod, random.Random(0)) is None


def test_adapter_retries_from_a_fresh_schedule():
    import tvm

    mod = program(*MAXFORMER)
    calls = []

    def fails_first(sch, rng):
        calls.append(1)
        if len(calls) == 1:
            _corrupting_call(sch)
        sch.parallel(sch.get_loops("T_add")[1])

    mutant = S.ScheduleMutator(fails_first)(mod, random.Random(0))
    assert len(calls) == 2 and mutant is not None and tvm.s_tir.analysis.verify_well_formed(mutant)
    assert root_nests(mutant) == root_nests(mod)  # pad_temp was not moved: the failed try left nothing behind


def test_reverse_compute_at_never_returns_a_failed_rewrite():
    # Every reverse_compute_at site of maxformer 0 fails in TVM (pad_temp's the post-check above, the others a
    # pattern match), so there is nothing to return: a schedule kept after an error would show up here.
    mod = program(*MAXFORMER)
    assert all(S.schedule_reverse_compute_at(mod, random.Random(seed)) is None for seed in range(6))


def test_python_errors_of_a_primitive_propagate():
    def buggy(sch, rng):
        raise ValueError("a bug in tzer, not a refusal by TVM")

    with pytest.raises(ValueError, match="bug in tzer"):
        S.ScheduleMutator(buggy)(program(*CONV), random.Random(0))


def test_rfactor_skips_a_reduction_that_writes_nothing():
    """A mutant's reduction block may write no buffer (its store gone); rfactor has no site there, and must not
    crash looking for the written buffer (seen in a campaign: IndexError, raised as a tzer bug)."""
    import tvm
    from tvm.script import tirx as T

    @T.prim_func(s_tir=True)
    def writes_nothing(a: T.Buffer((4, 8), "float32"), b: T.Buffer((4,), "float32")):
        for i, k in T.grid(4, 8):
            with T.sblock("r"):
                vi, vk = T.axis.remap("SR", [i, k])
                T.reads(a[vi, vk])
                T.writes()
                T.evaluate(0)

    mod = tvm.IRModule({"main": writes_nothing})
    assert all(MUTATORS.get("schedule_rfactor")(mod, random.Random(seed)) is None for seed in SEEDS)


def test_traces_name_their_blocks_so_they_replay_on_a_program_with_other_blocks_cut_out():
    """What the reducer needs (tzer.triage.reduce): a step's trace still applies after a block it does not use is
    removed, because it looks blocks up by name, not by position among the root's children."""
    import json

    import tvm

    from tzer.triage.script_edits import END, bypass_buffer

    mod = program(*CONV)
    mutant, trace = MUTATORS.get("schedule_split").traced(mod, random.Random(3))
    assert "GetChildBlocks" not in trace
    nodes = json.loads(trace)["nodes"]
    used = {node["data"] for node in nodes if node["type"] == "ffi.String"} & block_names(mod)
    assert len(used) == 1
    replayed = 0
    number = 0
    while (script := bypass_buffer(mod.script(), number)) is not END:
        number += 1
        cut = tvm.script.from_source(script)
        if used <= block_names(cut) and len(block_names(cut)) < len(block_names(mod)):
            assert block_names(S.replay_trace(cut, trace)) == block_names(cut)
            replayed += 1
    assert replayed
