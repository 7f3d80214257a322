"""The bounds judge (tzer.judge.bounds) on hand-written S-TIR: accesses proven in bounds under their loops, guards,
bindings and block predicates; off-by-one reads and writes flagged; Select is no guard; every generator's own
programs proven; and serialize_loops makes every loop serial. Nothing here compiles."""

import pytest
import tvm
from tvm import s_tir, tirx
from tvm.script import tirx as T

from tzer.judge.bounds import serialize_loops, unproven_access


def _module(func):
    return tvm.IRModule({"main": func})


@T.prim_func(s_tir=True)
def copy_in_bounds(A: T.Buffer((16,), "float32"), B: T.Buffer((16,), "float32")):
    for i in range(16):
        with T.sblock("B"):
            vi = T.axis.spatial(16, i)
            B[vi] = A[vi]


@T.prim_func(s_tir=True)
def read_past_end(A: T.Buffer((16,), "float32"), B: T.Buffer((16,), "float32")):
    for i in range(16):
        with T.sblock("B"):
            vi = T.axis.spatial(16, i)
            B[vi] = A[vi + 1]


@T.prim_func(s_tir=True)
def write_past_end(A: T.Buffer((16,), "float32"), B: T.Buffer((16,), "float32")):
    for i in range(16):
        with T.sblock("B"):
            vi = T.axis.spatial(16, i)
            T.reads(A[vi])
            T.writes(B[vi + 1])
            B[vi + 1] = A[vi]


@T.prim_func(s_tir=True)
def read_before_start(A: T.Buffer((16,), "float32"), B: T.Buffer((16,), "float32")):
    for i in range(16):
        with T.sblock("B"):
            vi = T.axis.spatial(16, i)
            B[vi] = A[vi - 1]


@T.prim_func(s_tir=True)
def loop_longer_than_domain(A: T.Buffer((16,), "float32"), B: T.Buffer((16,), "float32")):
    # The loop's extent mutated to 17 while the block var still claims [0, 16): the value runs, not the claim.
    for i in range(17):
        with T.sblock("B"):
            vi = T.axis.spatial(16, i)
            B[vi] = A[vi]


@T.prim_func(s_tir=True)
def loop_and_domain_too_long(A: T.Buffer((16,), "float32"), B: T.Buffer((17,), "float32")):
    for i in range(17):
        with T.sblock("B"):
            vi = T.axis.spatial(17, i)
            B[vi] = A[vi]


@T.prim_func(s_tir=True)
def guarded_by_if_then_else(A: T.Buffer((16,), "float32"), B: T.Buffer((16,), "float32")):
    for i in range(16):
        with T.sblock("B"):
            vi = T.axis.spatial(16, i)
            T.reads(A[0:16])
            T.writes(B[vi])
            B[vi] = T.if_then_else(vi < 15, A[vi + 1], T.if_then_else(vi >= 1, A[vi - 1], T.float32(0)))


@T.prim_func(s_tir=True)
def wrong_if_then_else_guard(A: T.Buffer((16,), "float32"), B: T.Buffer((16,), "float32")):
    for i in range(16):
        with T.sblock("B"):
            vi = T.axis.spatial(16, i)
            T.reads(A[0:16])
            T.writes(B[vi])
            B[vi] = T.if_then_else(vi < 16, A[vi + 1], T.float32(0))


@T.prim_func(s_tir=True)
def else_value_unguarded(A: T.Buffer((16,), "float32"), B: T.Buffer((16,), "float32")):
    # The else value runs exactly where the guard fails: at vi == 15, A[16].
    for i in range(16):
        with T.sblock("B"):
            vi = T.axis.spatial(16, i)
            T.reads(A[0:16])
            T.writes(B[vi])
            B[vi] = T.if_then_else(vi < 15, T.float32(0), A[vi + 1])


@T.prim_func(s_tir=True)
def guarded_by_if_stmt(A: T.Buffer((16,), "float32"), B: T.Buffer((16,), "float32")):
    for i in range(16):
        with T.sblock("B"):
            vi = T.axis.spatial(16, i)
            T.reads(A[0:16])
            T.writes(B[vi])
            if vi >= 1:
                B[vi] = A[vi - 1]
            else:
                B[vi] = A[vi + 15]


@T.prim_func(s_tir=True)
def if_stmt_else_unguarded(A: T.Buffer((16,), "float32"), B: T.Buffer((16,), "float32")):
    for i in range(16):
        with T.sblock("B"):
            vi = T.axis.spatial(16, i)
            T.reads(A[0:16])
            T.writes(B[vi])
            if vi >= 1:
                B[vi] = A[vi - 1]
            else:
                B[vi] = A[vi - 1]


@T.prim_func(s_tir=True)
def select_is_no_guard(A: T.Buffer((16,), "float32"), B: T.Buffer((16,), "float32")):
    # Select evaluates both values: A[16] is read at vi == 15 although the result is then 0.
    for i in range(16):
        with T.sblock("B"):
            vi = T.axis.spatial(16, i)
            T.reads(A[0:16])
            T.writes(B[vi])
            B[vi] = T.Select(vi < 15, A[vi + 1], T.float32(0))


@T.prim_func(s_tir=True)
def let_stmt_index(A: T.Buffer((16,), "float32"), B: T.Buffer((16,), "float32")):
    for i in range(16):
        with T.sblock("B"):
            vi = T.axis.spatial(16, i)
            T.reads(A[0:16])
            T.writes(B[vi])
            j: T.let = 15 - vi
            B[vi] = A[j]


@T.prim_func(s_tir=True)
def let_stmt_index_off_by_one(A: T.Buffer((16,), "float32"), B: T.Buffer((16,), "float32")):
    for i in range(16):
        with T.sblock("B"):
            vi = T.axis.spatial(16, i)
            T.reads(A[0:16])
            T.writes(B[vi])
            j: T.let = 16 - vi
            B[vi] = A[j]


@T.prim_func(s_tir=True)
def let_expr_index(A: T.Buffer((16,), "float32"), B: T.Buffer((16,), "float32")):
    for i in range(16):
        with T.sblock("B"):
            vi = T.axis.spatial(16, i)
            T.reads(A[0:16])
            T.writes(B[vi])
            x = T.int32()
            B[vi] = T.Let(A[x], where={x: 15 - vi})


@T.prim_func(s_tir=True)
def let_expr_index_off_by_one(A: T.Buffer((16,), "float32"), B: T.Buffer((16,), "float32")):
    for i in range(16):
        with T.sblock("B"):
            vi = T.axis.spatial(16, i)
            T.reads(A[0:16])
            T.writes(B[vi])
            x = T.int32()
            B[vi] = T.Let(A[x], where={x: 16 - vi})


@T.prim_func(s_tir=True)
def split_with_predicate(A: T.Buffer((14,), "float32"), B: T.Buffer((14,), "float32")):
    for i0, i1 in T.grid(4, 4):
        with T.sblock("B"):
            vi = T.axis.spatial(14, i0 * 4 + i1)
            T.where(i0 * 4 + i1 < 14)
            B[vi] = A[vi]


@T.prim_func(s_tir=True)
def split_predicate_too_weak(A: T.Buffer((14,), "float32"), B: T.Buffer((14,), "float32")):
    for i0, i1 in T.grid(4, 4):
        with T.sblock("B"):
            vi = T.axis.spatial(16, i0 * 4 + i1)
            T.where(i0 * 4 + i1 < 15)
            B[vi] = A[vi]


@T.prim_func(s_tir=True)
def reduction_with_init(A: T.Buffer((4, 8), "float32"), B: T.Buffer((4,), "float32")):
    for i, k in T.grid(4, 8):
        with T.sblock("B"):
            vi, vk = T.axis.remap("SR", [i, k])
            with T.init():
                B[vi] = T.float32(0)
            B[vi] = B[vi] + A[vi, vk]


@T.prim_func(s_tir=True)
def init_writes_past_end(A: T.Buffer((4, 8), "float32"), B: T.Buffer((4,), "float32")):
    for i, k in T.grid(4, 8):
        with T.sblock("B"):
            vi, vk = T.axis.remap("SR", [i, k])
            T.reads(A[vi, vk], B[vi])
            T.writes(B[vi])
            with T.init():
                B[vi + 1] = T.float32(0)
            B[vi] = B[vi] + A[vi, vk]


@T.prim_func(s_tir=True)
def local_buffer_has_own_shape(A: T.Buffer((16,), "float32"), B: T.Buffer((16,), "float32")):
    C = T.sblock_alloc_buffer((8,))
    for i in range(16):
        with T.sblock("C"):
            vi = T.axis.spatial(16, i)
            T.reads(A[vi])
            T.writes(C[vi // 2])
            C[vi] = A[vi]
    for i in range(16):
        with T.sblock("B"):
            vi = T.axis.spatial(16, i)
            B[vi] = C[vi // 2]


@T.prim_func(s_tir=True)
def symbolic_window(A: T.Buffer((12,), "float32"), B: T.Buffer((8,), "float32")):
    # Adaptive pooling's window: the reduction extent depends on the output index; proving the read needs the
    # Select's condition correlated with its value.
    for i in range(8):
        with T.sblock("outer"):
            vi = T.axis.spatial(8, i)
            T.reads(A[0:12])
            T.writes(B[vi])
            for r in range(T.Select((vi * 12 + 4) % 8 == 0, (vi * 12 + 12) // 8,
                                     (vi * 12 + 12) // 8 + 1) - vi * 12 // 8):
                with T.sblock("inner"):
                    vj = T.axis.spatial((vi, vi + 1), vi)
                    vr = T.axis.reduce(T.Select((vi * 12 + 4) % 8 == 0, (vi * 12 + 12) // 8,
                                                (vi * 12 + 12) // 8 + 1) - vi * 12 // 8, r)
                    with T.init():
                        B[vj] = T.float32(0)
                    B[vj] = B[vj] + A[vj * 12 // 8 + vr]


@T.prim_func(s_tir=True)
def symbolic_window_one_too_wide(A: T.Buffer((12,), "float32"), B: T.Buffer((8,), "float32")):
    for i in range(8):
        with T.sblock("outer"):
            vi = T.axis.spatial(8, i)
            T.reads(A[0:12])
            T.writes(B[vi])
            for r in range(T.Select((vi * 12 + 4) % 8 == 0, (vi * 12 + 12) // 8,
                                     (vi * 12 + 12) // 8 + 1) - vi * 12 // 8 + 1):
                with T.sblock("inner"):
                    vj = T.axis.spatial((vi, vi + 1), vi)
                    vr = T.axis.reduce(T.Select((vi * 12 + 4) % 8 == 0, (vi * 12 + 12) // 8,
                                                (vi * 12 + 12) // 8 + 1) - vi * 12 // 8 + 1, r)
                    with T.init():
                        B[vj] = T.float32(0)
                    B[vj] = B[vj] + A[vj * 12 // 8 + vr]


@T.prim_func(s_tir=True)
def access_under_attr_and_while(A: T.Buffer((16,), "float32"), B: T.Buffer((16,), "float32")):
    # AttrStmt and While are not handled specially: their accesses are still checked, with the facts around them.
    for i in range(16):
        with T.sblock("B"):
            vi = T.axis.spatial(16, i)
            T.reads(A[0:16])
            T.writes(B[vi])
            with T.attr(0, "pragma_fuzz", 1):
                while B[vi] < T.float32(0):
                    B[vi] = A[vi + 1]


@T.prim_func(s_tir=True)
def read_through_match_buffer(A: T.Buffer((16,), "float32"), B: T.Buffer((16,), "float32")):
    for i in range(4):
        with T.sblock("B"):
            vi = T.axis.spatial(4, i)
            T.reads(A[vi * 4:vi * 4 + 5])
            T.writes(B[vi * 4:vi * 4 + 4])
            sub = T.match_buffer(A[vi * 4:vi * 4 + 5], (5,))
            for j in range(4):
                B[vi * 4 + j] = sub[j + 1]


@T.prim_func(s_tir=True)
def data_dependent_index(A: T.Buffer((16,), "float32"), Idx: T.Buffer((16,), "int32"), B: T.Buffer((16,), "float32")):
    # Nothing bounds the values of Idx: conservatively unproven.
    for i in range(16):
        with T.sblock("B"):
            vi = T.axis.spatial(16, i)
            T.reads(A[0:16], Idx[vi])
            T.writes(B[vi])
            B[vi] = A[Idx[vi]]


@T.prim_func(s_tir=True)
def divide_by_loop_var(A: T.Buffer((16,), "float32"), B: T.Buffer((4, 16), "float32")):
    for k, i in T.grid(4, 16):
        with T.sblock("B"):
            vk, vi = T.axis.remap("SS", [k, i])
            T.reads(A[0:16])
            T.writes(B[vk, vi])
            B[vk, vi] = A[vi // (vk + 1)]


@T.prim_func(s_tir=True)
def divide_by_zero(A: T.Buffer((16,), "float32"), B: T.Buffer((4, 16), "float32")):
    # vi // 0 has no value: LLVM code traps (or reads anywhere), whatever the quotient's bound.
    for k, i in T.grid(4, 16):
        with T.sblock("B"):
            vk, vi = T.axis.remap("SS", [k, i])
            T.reads(A[0:16])
            T.writes(B[vk, vi])
            B[vk, vi] = A[vi // vk]


@T.prim_func(s_tir=True)
def float_divide_by_index_that_is_zero(A: T.Buffer((16,), "float32"), B: T.Buffer((16,), "float32")):
    # (vi % 1) is 0 for every vi: TVM's simplifier rejects the constant-zero divisor at compile time, by design.
    for i in range(16):
        with T.sblock("B"):
            vi = T.axis.spatial(16, i)
            B[vi] = A[vi] / T.Cast("float32", T.FloorMod(T.min(2, 3 - vi), 1))


@T.prim_func(s_tir=True)
def float_divide_by_index_plus_one(A: T.Buffer((16,), "float32"), B: T.Buffer((16,), "float32")):
    for i in range(16):
        with T.sblock("B"):
            vi = T.axis.spatial(16, i)
            B[vi] = A[vi] / T.Cast("float32", vi + 1)


@T.prim_func(s_tir=True)
def float_divide_by_window_product(A: T.Buffer((16,), "float32"), B: T.Buffer((16,), "float32")):
    # An adaptive average's divisor: the product of two window sizes, each at least 1.
    for i in range(16):
        with T.sblock("B"):
            vi = T.axis.spatial(16, i)
            B[vi] = A[vi] / (T.Cast("float32", T.Select(vi % 2 == 0, vi // 2 + 1, vi // 2 + 2) - vi // 2)
                             * T.Cast("float32", vi % 3 + 1))


@T.prim_func(s_tir=True)
def float_divide_by_data(A: T.Buffer((16,), "float32"), B: T.Buffer((16,), "float32")):
    # A divisor read from data may be zero at run time: IEEE gives inf or NaN, the same in every build.
    for i in range(16):
        with T.sblock("B"):
            vi = T.axis.spatial(16, i)
            B[vi] = A[vi] / A[15 - vi]


IN_BOUNDS = [copy_in_bounds, float_divide_by_index_plus_one, float_divide_by_data, float_divide_by_window_product, guarded_by_if_then_else, guarded_by_if_stmt, let_stmt_index, let_expr_index,
             split_with_predicate, reduction_with_init, symbolic_window, divide_by_loop_var]
OUT_OF_BOUNDS = {
    read_past_end: "A[vi + 1]", write_past_end: "B[vi + 1]", read_before_start: "A[vi - 1]",
    loop_longer_than_domain: "domain", loop_and_domain_too_long: "A[vi]", wrong_if_then_else_guard: "A[vi + 1]",
    else_value_unguarded: "A[vi + 1]", if_stmt_else_unguarded: "A[vi - 1]", select_is_no_guard: "A[vi + 1]",
    let_stmt_index_off_by_one: "A[j]", let_expr_index_off_by_one: "A[x]", split_predicate_too_weak: "A[vi]",
    init_writes_past_end: "B[vi + 1]", local_buffer_has_own_shape: "C[vi]",
    symbolic_window_one_too_wide: "A[vj * 12 // 8 + vr]", access_under_attr_and_while: "A[vi + 1]",
    read_through_match_buffer: "A[vi * 4 + 5 - 1]", data_dependent_index: "A[Idx[vi]]",
    divide_by_zero: "divisor vk not proven nonzero", float_divide_by_index_that_is_zero: "not proven nonzero",
}


@pytest.mark.parametrize("func", IN_BOUNDS, ids=lambda func: func.__name__)
def test_accesses_in_bounds_are_proven(func):
    assert unproven_access(_module(func)) is None


@pytest.mark.parametrize("func", list(OUT_OF_BOUNDS), ids=lambda func: func.__name__)
def test_out_of_bounds_access_is_flagged_and_named(func):
    found = unproven_access(_module(func))
    assert found is not None
    assert "\n" not in found
    assert OUT_OF_BOUNDS[func] in found, found


def test_description_names_buffer_indices_and_bound():
    found = unproven_access(_module(read_past_end))
    assert found == "main: A[vi + 1]: index 0 (vi + 1) not proven in [0, 16), bound [1, 16]"


def test_every_generator_program_is_proven(seeds):
    # Two programs of each generator (float16/int8 ones and if_then_else padding among them); the integration
    # tier runs 30 programs of each.
    unproven = {label: unproven_access(mod) for label, mod in seeds}
    assert {label: found for label, found in unproven.items() if found is not None} == {}


def _scheduled_variants(mod):
    """A few schedules of a pooling program: non-divisible split (a block predicate), compute_at, cache_read, fuse,
    rfactor, and loop kinds."""
    variants = {}
    sch = s_tir.Schedule(mod)
    sch.split(sch.get_loops(sch.get_sblock("pool_sum"))[3], factors=[None, 3])
    variants["split"] = sch.mod
    sch = s_tir.Schedule(mod)
    sch.compute_at(sch.get_sblock("pad_temp"), sch.get_loops(sch.get_sblock("pool_sum"))[3])
    variants["compute_at"] = sch.mod
    sch = s_tir.Schedule(mod)
    cached = sch.cache_read(sch.get_sblock("pool_sum"), 0, "global")
    sch.compute_at(cached, sch.get_loops(sch.get_sblock("pool_sum"))[2])
    variants["cache_read"] = sch.mod
    sch = s_tir.Schedule(mod)
    loops = sch.get_loops(sch.get_sblock("pad_temp"))
    sch.parallel(sch.fuse(*loops[:3]))
    sch.vectorize(sch.split(loops[3], [None, 4])[1])
    sch.unroll(sch.get_loops(sch.get_sblock("pool_sum"))[-1])
    variants["fuse_parallel_vectorize_unroll"] = sch.mod
    sch = s_tir.Schedule(mod)
    sch.rfactor(sch.get_loops(sch.get_sblock("pool_sum"))[-1], 0)
    variants["rfactor"] = sch.mod
    return variants


@pytest.fixture(scope="module")
def pooling():
    import random

    from tzer.generate import GENERATORS
    from tzer.generate.graph import GraphSpec, build_program

    return build_program(GraphSpec.from_json(GENERATORS.get("avg_pool")(random.Random(0)))).mod


def test_scheduled_variants_stay_proven(pooling):
    variants = _scheduled_variants(pooling)
    assert "T.where" in variants["split"].script()
    assert {name: unproven_access(mod) for name, mod in variants.items()} == dict.fromkeys(variants)


@T.prim_func(s_tir=True)
def loop_kinds(A: T.Buffer((4, 8, 16), "float32"), B: T.Buffer((4, 8, 16), "float32")):
    for i in T.parallel(4):
        for j in T.unroll(8, annotations={"pragma_auto_unroll_max_step": 16, "pragma_unroll_explicit": 1,
                                           "keep_me": 1}):
            for k in T.vectorized(16):
                with T.sblock("B"):
                    vi, vj, vk = T.axis.remap("SSS", [i, j, k])
                    B[vi, vj, vk] = A[vi, vj, vk]


@T.prim_func(s_tir=True)
def thread_bound(A: T.Buffer((64,), "float32"), B: T.Buffer((64,), "float32")):
    for bx in T.thread_binding(2, thread="blockIdx.x"):
        for tx in T.thread_binding(32, thread="threadIdx.x"):
            for k in T.vectorized(1):
                with T.sblock("B"):
                    vi = T.axis.spatial(64, bx * 32 + tx + k)
                    B[vi] = A[vi]


def _loops(func):
    import tvm_ffi

    found = []
    tvm_ffi.structural_walk(func.body, [(tirx.For, found.append)], order="pre")
    return found


def test_serialize_loops_makes_loops_serial_and_drops_forcing_annotations():
    original = _module(loop_kinds)
    serial = serialize_loops(original)
    loops = _loops(serial["main"])
    assert [loop.kind for loop in loops] == [tirx.ForKind.SERIAL] * 3
    assert dict(loops[1].annotations) == {"keep_me": 1}
    assert [loop.kind for loop in _loops(original["main"])] == [tirx.ForKind.PARALLEL, tirx.ForKind.UNROLLED,
                                                                tirx.ForKind.VECTORIZED]
    assert s_tir.analysis.verify_well_formed(serial)
    assert unproven_access(serial) is None


def test_serialize_loops_keeps_thread_bindings():
    loops = _loops(serialize_loops(_module(thread_bound))["main"])
    assert [loop.kind for loop in loops] == [tirx.ForKind.THREAD_BINDING] * 2 + [tirx.ForKind.SERIAL]
    assert [loop.thread_binding.thread_tag for loop in loops[:2]] == ["blockIdx.x", "threadIdx.x"]


def test_serialize_loops_returns_equal_module_when_nothing_to_change():
    import tvm_ffi

    original = _module(copy_in_bounds)
    assert tvm_ffi.structural_equal(serialize_loops(original), original)



def test_a_guard_the_analyzer_refuses_is_dropped_not_raised(monkeypatch):
    # Seen in a campaign: after wrap_let, entering a guard's constraint raised the analyzer's own InternalError
    # ("Binding of variable w_let ... conflicts") and stopped the campaign. The judge goes on without the
    # analyzer's constraint; its own evaluation of the guard still proves the padded read.
    def refuse(self, constraint):
        raise tvm.error.InternalError("Binding of variable w_let conflicts with previous binding")

    assert unproven_access(_module(guarded_by_if_then_else)) is None
    monkeypatch.setattr(tvm.sym.Analyzer, "constraint_scope", refuse)
    assert unproven_access(_module(guarded_by_if_then_else)) is None


def test_an_analyzer_valueerror_counts_as_unproven_not_as_a_tzer_bug(monkeypatch):
    # Seen in the ablation's ir row: can_prove's simplifier built an int32 literal out of range ("Literal value
    # 2147483649 exceeds range of int32") and raised ValueError, which stopped the campaign as a tzer bug.
    x = tirx.Var("x", "int32")
    overflowing = tirx.GT(tirx.Add(tirx.Add(tirx.Max(x, tirx.const(0, "int32")), tirx.const(2147483646, "int32")),
                                   tirx.const(3, "int32")), tirx.const(0, "int32"))
    with pytest.raises(ValueError, match="exceeds range"):
        tvm.sym.Analyzer().can_prove(overflowing)

    def overflow(self, *args, **kwargs):
        raise ValueError("Check failed: ... Literal value 2147483649 exceeds range of int32")

    monkeypatch.setattr(tvm.sym.Analyzer, "can_prove", overflow)
    monkeypatch.setattr(tvm.sym.Analyzer, "const_int_bound", overflow)
    for func in (read_past_end, long_copy):  # what the analyzer cannot do is unproven, not raised
        found = unproven_access(_module(func))
        assert found is not None and "bound unknown" in found


@T.prim_func(s_tir=True)
def long_copy(A: T.Buffer((8192,), "float32"), B: T.Buffer((8192,), "float32")):
    for i in range(8192):
        with T.sblock("B"):
            vi = T.axis.spatial(8192, i)
            B[vi] = A[vi]


def test_a_binding_the_analyzer_refuses_is_skipped_not_raised(monkeypatch):
    # Seen in the ablation's interleaved row: binding a Let's value made the analyzer bind a Let variable inside
    # it a second time ("Binding of variable w_let as ir.Range(...) conflicts with previous binding"); the
    # InternalError stopped the campaign as a tzer bug. TVM's own passes fail the same way on such programs (a real
    # finding), so the judge goes on without the fact: exhaustive evaluation still proves the in-bounds Let index
    # and still flags the off-by-one one.
    bind = tvm.sym.Analyzer.bind

    def refuse_lets(self, var, value, allow_override=False):
        if var.name == "j":  # loop and block variables still bind: only the Let refuses
            raise tvm.error.InternalError("Check failed: (allow_override) is false: Binding of variable w_let as "
                                          "ir.Range(0x1) conflicts with previous binding as ir.Range(0x2)")
        return bind(self, var, value, allow_override)

    monkeypatch.setattr(tvm.sym.Analyzer, "bind", refuse_lets)
    assert unproven_access(_module(let_stmt_index)) is None
    assert "A" in unproven_access(_module(let_stmt_index_off_by_one))

    def refuse_all(self, var, value, allow_override=False):
        raise tvm.error.InternalError("Check failed: (allow_override) is false: Binding of variable ... conflicts")

    monkeypatch.setattr(tvm.sym.Analyzer, "bind", refuse_all)  # loop ranges and block bindings refused too
    assert unproven_access(_module(copy_in_bounds)) is None
    assert unproven_access(_module(read_past_end)) is not None
