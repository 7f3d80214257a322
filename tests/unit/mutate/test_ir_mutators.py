"""The general TIR mutators of tzer/mutate/ir.py on small hand-written programs: each finds its site and changes it
the way it says (keeping the blocks' declared regions and iterator domains true), and finds nothing where there is
nothing to change. Nothing is compiled here."""

import random

import pytest

from tzer.mutate import GENERAL, MUTATORS

MUTATOR_NAMES = sorted(GENERAL)

ELEMENTWISE = """
@T.prim_func(s_tir=True)
def main(A: T.Buffer((8,), "float32"), B: T.Buffer((8,), "float32")):
    for i in range(8):
        with T.sblock("B"):
            vi = T.axis.remap("S", [i])
            B[vi] = A[vi] + T.float32(1.0)
"""

COPY = """
@T.prim_func(s_tir=True)
def main(A: T.Buffer((8,), "float32"), B: T.Buffer((8,), "float32")):
    for i in range(8):
        with T.sblock("B"):
            vi = T.axis.remap("S", [i])
            B[vi] = A[vi]
"""

# An intermediate buffer, a Select, an if_then_else with a comparison, and a reduction.
TWO_STAGE = """
@T.prim_func(s_tir=True)
def main(A: T.Buffer((8,), "float32"), C: T.Buffer((1,), "float32")):
    Bbuf = T.sblock_alloc_buffer((8,))
    for i in range(8):
        with T.sblock("B"):
            vi = T.axis.remap("S", [i])
            Bbuf[vi] = T.Select(A[vi] > T.float32(0.0), A[vi], T.float32(0.0))
    for k in range(8):
        with T.sblock("C"):
            vk = T.axis.remap("R", [k])
            with T.init():
                C[0] = T.float32(0.0)
            C[0] = C[0] + T.if_then_else(vk < 4, Bbuf[vk], T.float32(0.0))
"""

BRANCHY = """
@T.prim_func(s_tir=True)
def main(A: T.Buffer((8,), "float32"), B: T.Buffer((8,), "float32")):
    for i in range(8):
        with T.sblock("B"):
            vi = T.axis.remap("S", [i])
            if 1 <= vi and vi < 7:
                B[vi] = A[vi]
            else:
                B[vi] = A[0]
"""

NO_LOOP = """
@T.prim_func(s_tir=True)
def main(A: T.Buffer((1,), "float32"), B: T.Buffer((1,), "float32")):
    with T.sblock("B"):
        B[0] = A[0]
"""

NO_BLOCK_NO_LOAD = """
@T.prim_func(s_tir=True)
def main(B: T.Buffer((1,), "float32")):
    B[0] = T.float32(1.0)
"""

NO_EXPRESSION = """
@T.prim_func(s_tir=True)
def main(B: T.Buffer((1,), "float32")):
    T.evaluate(T.bool(True))
"""


def parse(source):
    import tvm

    return tvm.IRModule({"main": tvm.script.from_source(source)})


def mutate(name, source, seed=0):
    return MUTATORS.get(name)(parse(source), random.Random(seed))


def mutants(name, source, seeds=range(40)):
    module = parse(source)
    return [m for m in (MUTATORS.get(name)(module, random.Random(s)) for s in seeds) if m is not None]


def nodes(root, kind):
    """Nodes of `kind` under `root` (a module: its main body), in post-order."""
    import tvm
    import tvm_ffi

    found = []
    tvm_ffi.structural_walk(root["main"].body if isinstance(root, tvm.IRModule) else root, [(kind, found.append)])
    return found


def block(mod, name):
    from tvm import s_tir

    return next(b for b in nodes(mod, s_tir.SBlock) if b.name_hint == name)


def store_value(mod, name):
    return block(mod, name).body.value


def equal(a, b):
    import tvm_ffi

    return tvm_ffi.structural_equal(a, b)


def distinct(objects) -> bool:
    return not any(a.same_as(b) for i, a in enumerate(objects) for b in objects[i + 1:])


# ------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", MUTATOR_NAMES)
def test_a_module_without_functions_has_no_site(name):
    import tvm

    assert MUTATORS.get(name)(tvm.IRModule({}), random.Random(0)) is None


@pytest.mark.parametrize("name, source", [
    ("swap_binary_op", COPY), ("perturb_constant", COPY), ("change_loop_extent", NO_LOOP),
    ("change_loop_kind", NO_LOOP), ("change_dtype", COPY), ("insert_cast", NO_EXPRESSION),
    ("negate_condition", COPY), ("swap_branches", COPY), ("drop_statement", NO_BLOCK_NO_LOAD),
    ("duplicate_statement", NO_BLOCK_NO_LOAD), ("swap_statements", COPY), ("replace_index", NO_BLOCK_NO_LOAD),
])
def test_no_site_gives_none(name, source):
    assert mutate(name, source) is None


def test_swap_binary_op_replaces_the_add_by_another_float_operator():
    from tvm import tirx

    kinds = {type(store_value(m, "B")) for m in mutants("swap_binary_op", ELEMENTWISE)}
    assert tirx.Add not in kinds and len(kinds) >= 3
    assert not kinds & {tirx.FloorMod, tirx.Mod}, "no modulo on floats"


def test_swap_binary_op_swaps_comparisons_and_logic_within_their_class():
    from tvm import tirx

    for m in mutants("swap_binary_op", BRANCHY):
        condition = nodes(m, tirx.IfThenElse)[0].condition
        assert isinstance(condition, (tirx.And, tirx.Or))
        changed = [type(condition) is tirx.Or, type(condition.a) is not tirx.LE, type(condition.b) is not tirx.LT]
        assert sum(changed) == 1
        assert all(isinstance(c, (tirx.LT, tirx.LE, tirx.GT, tirx.GE, tirx.EQ, tirx.NE))
                   for c in (condition.a, condition.b))


def test_perturb_constant_keeps_the_dtype_and_changes_the_value():
    values = set()
    for m in mutants("perturb_constant", ELEMENTWISE):
        constant = store_value(m, "B").b
        assert str(constant.ty) == "float32" and str(constant.value) != "1.0"
        values.add(str(constant.value))
    assert {"0.0", "2.0"} <= values and len(values) >= 6


def test_perturb_constant_keeps_unsigned_non_negative_and_bools_bool():
    from tvm import tirx

    source = ELEMENTWISE.replace("A[vi] + T.float32(1.0)", "T.Cast('float32', T.uint8(3)) + A[vi]")
    values = set()
    for m in mutants("perturb_constant", source):
        constant = store_value(m, "B").a.value
        assert str(constant.ty) == "uint8" and 0 <= constant.value <= 255 and constant.value != 3
        values.add(constant.value)
    assert 255 in values and 0 in values
    flipped = nodes(mutate("perturb_constant", NO_EXPRESSION), tirx.Evaluate)[0].value
    assert str(flipped.ty) == "bool" and flipped.value == 0


def test_perturb_constant_never_makes_a_literal_divisor_zero():
    source = ELEMENTWISE.replace("A[vi] + T.float32(1.0)", "A[vi] / T.float32(3.0)")
    assert all(store_value(m, "B").b.value != 0 for m in mutants("perturb_constant", source))


def test_change_loop_extent_moves_the_extent_and_the_bound_iterator_domain():
    from tvm import tirx

    extents = set()
    for m in mutants("change_loop_extent", ELEMENTWISE):
        extent = nodes(m, tirx.For)[0].extent.value
        extents.add(extent)
        assert block(m, "B").iter_vars[0].dom.extent.value == extent
    assert extents == {1, 7, 9, 16}


def test_change_loop_extent_bounds_a_non_trivial_binding_with_the_analyzer():
    from tvm import tirx

    source = ELEMENTWISE.replace("for i in range(8)", "for i in range(16)").replace(
        'vi = T.axis.remap("S", [i])', "vi = T.axis.spatial(8, i // 2)")
    domains = {}
    for m in mutants("change_loop_extent", source):
        domains[nodes(m, tirx.For)[0].extent.value] = block(m, "B").iter_vars[0].dom
    assert {extent: (dom.min.value, dom.extent.value) for extent, dom in domains.items()} == {
        1: (0, 1), 15: (0, 8), 17: (0, 9), 32: (0, 16)}


def test_change_loop_kind_picks_a_cpu_kind_and_never_parallelizes_a_reduction():
    from tvm import tirx

    seen = set()
    for m in mutants("change_loop_kind", TWO_STAGE):
        spatial, reduction = nodes(m, tirx.For)
        seen.update({spatial.kind, reduction.kind})
        assert reduction.kind != tirx.ForKind.PARALLEL
        assert tirx.ForKind.THREAD_BINDING not in (spatial.kind, reduction.kind)
    assert {tirx.ForKind.PARALLEL, tirx.ForKind.VECTORIZED, tirx.ForKind.UNROLLED} <= seen


def test_change_dtype_retypes_the_intermediate_buffer_with_casts_both_ways():
    from tvm import tirx

    for m in mutants("change_dtype", TWO_STAGE, seeds=range(8)):
        buffer = m["main"].body.block.alloc_buffers[0]
        new_dtype = str(buffer.dtype)
        assert new_dtype in ("float16", "bfloat16", "float64")
        store = block(m, "B").body
        assert store.buffer.same_as(buffer)
        assert isinstance(store.value, tirx.Cast) and str(store.value.ty) == new_dtype
        load_cast = store_value(m, "C").b.args[1]
        assert isinstance(load_cast, tirx.Cast) and str(load_cast.ty) == "float32"
        assert load_cast.value.source.same_as(buffer)
        assert block(m, "C").reads[0].source.same_as(buffer)
        assert all(p.dtype == "float32" for p in m["main"].params), "parameters keep their dtype"


def test_insert_cast_wraps_an_expression_in_a_round_trip_through_its_type_class():
    from tvm import tirx

    for m in mutants("insert_cast", ELEMENTWISE):
        outer = next(c for c in nodes(m, tirx.Cast) if isinstance(c.value, tirx.Cast))
        inner = outer.value
        outer_dtype, inner_dtype = str(outer.ty), str(inner.ty)
        assert outer_dtype == str(inner.value.ty) != inner_dtype
        floats = ("float16", "bfloat16", "float32", "float64")
        assert (outer_dtype in floats) == (inner_dtype in floats)


def test_negate_condition_negates_a_select_or_an_if_then_else():
    from tvm import tirx

    negated = set()
    for m in mutants("negate_condition", TWO_STAGE):
        select = store_value(m, "B")
        choice = store_value(m, "C").b
        assert isinstance(select.condition, tirx.Not) != isinstance(choice.args[0], tirx.Not)
        negated.add("select" if isinstance(select.condition, tirx.Not) else "if_then_else")
    assert negated == {"select", "if_then_else"}
    statement = nodes(mutate("negate_condition", BRANCHY), tirx.IfThenElse)[0]
    assert isinstance(statement.condition, tirx.Not)


def test_swap_branches_exchanges_the_two_values():
    from tvm import tirx

    original = parse(TWO_STAGE)
    for m in mutants("swap_branches", TWO_STAGE):
        select, choice = store_value(m, "B"), store_value(m, "C").b
        old_select, old_choice = store_value(original, "B"), store_value(original, "C").b
        swapped_select = equal(select.true_value, old_select.false_value)
        swapped_choice = equal(choice.args[1], old_choice.args[2])
        assert swapped_select != swapped_choice
    branchy = parse(BRANCHY)
    statement = nodes(MUTATORS.get("swap_branches")(branchy, random.Random(0)), tirx.IfThenElse)[0]
    before = nodes(branchy, tirx.IfThenElse)[0]
    assert equal(statement.then_case, before.else_case) and equal(statement.else_case, before.then_case)


def test_drop_statement_removes_a_block_body_and_its_declared_write():
    from tvm import tirx

    m = mutate("drop_statement", ELEMENTWISE)
    assert isinstance(block(m, "B").body, tirx.Evaluate)
    assert len(block(m, "B").writes) == 0 and len(block(m, "B").reads) == 0


def test_drop_statement_removes_one_loop_nest_of_a_sequence_or_one_block_body():
    from tvm import s_tir

    names = {tuple(b.name_hint for b in nodes(m, s_tir.SBlock)) for m in mutants("drop_statement", TWO_STAGE)}
    assert names == {("C", "root"), ("B", "root"), ("B", "C", "root")}


def test_duplicate_statement_copies_with_fresh_names():
    from tvm import s_tir, tirx

    seen_copy = False
    for m in mutants("duplicate_statement", TWO_STAGE):
        names = [b.name_hint for b in nodes(m, s_tir.SBlock)]
        assert len(names) == len(set(names)), "block names stay unique"
        if len(names) == 4:
            seen_copy = True
            assert distinct([loop.loop_var for loop in nodes(m, tirx.For)])
            assert distinct([iv.var for b in nodes(m, s_tir.SBlock) for iv in b.iter_vars])
    assert seen_copy
    doubled = mutate("duplicate_statement", ELEMENTWISE)
    assert isinstance(block(doubled, "B").body, tirx.SeqStmt) and len(block(doubled, "B").body.seq) == 2


def test_swap_statements_exchanges_the_two_loop_nests():
    from tvm import s_tir

    m = mutate("swap_statements", TWO_STAGE)
    order = [b.name_hint for b in nodes(m, s_tir.SBlock) if b.name_hint != "root"]
    assert order == ["C", "B"]


def test_replace_index_changes_one_load_index_and_the_declared_read():
    import tvm
    from tvm import tirx

    choices = set()
    for m in mutants("replace_index", ELEMENTWISE):
        load = store_value(m, "B").a
        index = load.indices[0]
        choices.add(index.script() if isinstance(index, tirx.IntImm) else type(index).__name__)
        declared = block(m, "B").reads[0].region[0]
        assert equal(declared.min, index) and declared.extent.value == 1
        assert isinstance(load, tvm.ir.TensorLoad)
    assert {"Add", "Sub"} <= choices and len(choices) >= 4


def test_replace_index_uses_only_variables_in_scope():
    import tvm

    for m in mutants("replace_index", TWO_STAGE):
        for name in ("B", "C"):
            own = [iv.var for iv in block(m, name).iter_vars]
            used = [v for v in nodes(block(m, name).body, tvm.ir.Var) if isinstance(v.ty, tvm.ir.PrimType)]
            assert all(any(v.same_as(o) for o in own) for v in used), f"{name} uses another block's variable"


def test_sites_are_drawn_across_the_whole_module():
    from tvm import s_tir

    touched = set()
    original = parse(TWO_STAGE)
    for m in mutants("insert_cast", TWO_STAGE):
        for name in ("B", "C"):
            if not equal(block(m, name).body, block(original, name).body):
                touched.add(name)
    assert touched == {"B", "C"}
    assert len(nodes(original, s_tir.SBlock)) == 3
