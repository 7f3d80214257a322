"""Structural wrappers (tzer/mutate/wrap.py), no compiling: on hand-written modules each wrapper adds exactly its
node around one statement or expression of the original, and taking that node away gives the original back."""

import functools
import random

import pytest

from tzer.mutate import MUTATORS, WRAPPERS

SEEDS = range(24)

ELEMENTWISE = """
@I.ir_module
class Module:
    @T.prim_func(s_tir=True)
    def main(A: T.Buffer((16,), "float32"), B: T.Buffer((16,), "float32")):
        for i in range(16):
            with T.sblock("scale"):
                vi = T.axis.spatial(16, i)
                T.reads(A[vi])
                T.writes(B[vi])
                B[vi] = A[vi] * T.float32(2.0) + T.float32(1.0)
"""

# a copy into a buffer the function allocates, then a reduction over it
REDUCTION = """
@I.ir_module
class Module:
    @T.prim_func(s_tir=True)
    def main(A: T.Buffer((8, 4), "float32"), B: T.Buffer((8,), "float32")):
        C = T.sblock_alloc_buffer((8, 4))
        for i, j in T.grid(8, 4):
            with T.sblock("copy"):
                vi, vj = T.axis.remap("SS", [i, j])
                T.reads(A[vi, vj])
                T.writes(C[vi, vj])
                C[vi, vj] = A[vi, vj]
        for i, k in T.grid(8, 4):
            with T.sblock("sum"):
                vi, vk = T.axis.remap("SR", [i, k])
                T.reads(C[vi, vk])
                T.writes(B[vi])
                with T.init():
                    B[vi] = T.float32(0.0)
                B[vi] = B[vi] + C[vi, vk]
"""

# no parameter, no loop: nothing in scope to name in a condition or an attribute
BARE = """
@I.ir_module
class Module:
    @T.prim_func(s_tir=True)
    def main():
        T.evaluate(0)
"""

NO_STORE = """
@I.ir_module
class Module:
    @T.prim_func(s_tir=True)
    def main(A: T.Buffer((4,), "float32")):
        T.evaluate(0)
"""


@functools.lru_cache(maxsize=None)
def parse(source: str):
    import tvm

    return tvm.script.from_source(source)


def mutants(name: str, source: str, seeds=SEEDS) -> list:
    """(original, mutant) for each seed; each mutant must exist (the modules above all have sites)."""
    mod = parse(source)
    found = [MUTATORS.get(name)(mod, random.Random(seed)) for seed in seeds]
    assert all(m is not None for m in found), f"{name} found no site on a module with sites"
    return found


def nodes(node, kind) -> list:
    import tvm_ffi

    found = []
    tvm_ffi.structural_walk(node, [(kind, found.append)], order="pre")
    return found


def named(var, name: str) -> bool:
    return var.name == name


def assert_gives_back(original, mod, *passes):
    """Mapping `mod`'s main body by each of `passes` in turn (tvm_ffi.structural_map entries) gives `original`."""
    import tvm_ffi

    body = mod["main"].body
    for callbacks in passes:
        body = tvm_ffi.structural_map(body, callbacks)
    restored = mod["main"].with_body(body)
    assert tvm_ffi.structural_equal(restored, original["main"]), restored.script()


def uses(node, var) -> bool:
    from tvm import tirx

    return any(v.same_as(var) for v in nodes(node, tirx.Var))


def test_every_wrapper_is_registered():
    assert set(WRAPPERS) == {"wrap_loop", "wrap_if", "wrap_attr", "wrap_alloc", "wrap_assume", "wrap_select",
                            "wrap_let"}
    assert all(name in MUTATORS for name in WRAPPERS)


# --- wrap_loop --------------------------------------------------------------------------------------------------

def test_wrap_loop_puts_one_statement_in_a_fresh_loop():
    from tvm import tirx

    from tzer.mutate.wrap import LOOP_KINDS, SMALL_EXTENTS

    original, kinds, extents = parse(ELEMENTWISE), set(), set()
    for mutant in mutants("wrap_loop", ELEMENTWISE):
        (loop,) = [f for f in nodes(mutant["main"].body, tirx.For) if named(f.loop_var, "w_loop")]
        assert loop.kind in LOOP_KINDS and loop.min.value == 0
        assert loop.extent.value in (1, *SMALL_EXTENTS)
        assert not uses(loop.body, loop.loop_var)
        kinds.add(loop.kind)
        extents.add(loop.extent.value)
        assert_gives_back(original, mutant, [(tirx.For, lambda f: f.body if named(f.loop_var, "w_loop") else f)])
    assert len(kinds) >= 3 and 1 in extents and len(extents) >= 2


def test_wrap_loop_repeats_an_accumulation_only_in_a_serial_or_unrolled_loop():
    import tvm
    from tvm import tirx

    checked = 0
    for mutant in mutants("wrap_loop", REDUCTION, range(60)):
        (loop,) = [f for f in nodes(mutant["main"].body, tirx.For) if named(f.loop_var, "w_loop")]
        stored = {s.buffer.name for s in nodes(loop.body, tirx.BufferStore)}
        loaded = {load.source.name for load in nodes(loop.body, tvm.ir.TensorLoad)}
        if stored & loaded and loop.kind in (tirx.ForKind.PARALLEL, tirx.ForKind.VECTORIZED):
            assert loop.extent.value == 1, mutant.script()
            checked += 1
    assert checked > 0


# --- wrap_if ----------------------------------------------------------------------------------------------------

def truth(cond, mod) -> str:
    """'true', 'false' or 'varying', proved over the ranges of the loop and block variables of `mod`."""
    import tvm
    from tvm import tirx

    analyzer = tvm.sym.Analyzer()
    for loop in nodes(mod["main"].body, tirx.For):
        analyzer.bind(loop.loop_var, tvm.ir.Range.from_min_extent(loop.min, loop.extent))
    for block in nodes(mod["main"].body, _block_type()):
        for iv in block.iter_vars:
            analyzer.bind(iv.var, iv.dom)
    if analyzer.can_prove(cond):
        return "true"
    if analyzer.can_prove(tirx.Not(cond)):
        return "false"
    return "varying"


def _block_type():
    from tvm.s_tir import SBlock

    return SBlock


def test_wrap_if_puts_one_statement_under_a_data_independent_condition():
    import tvm
    import tvm_ffi
    from tvm import tirx
    from tvm.s_tir import SBlockRealize

    original, truths, with_else = parse(ELEMENTWISE), set(), set()
    for mutant in mutants("wrap_if", ELEMENTWISE):
        (branch,) = nodes(mutant["main"].body, tirx.IfThenElse)
        assert not nodes(branch.condition, tvm.ir.TensorLoad), "data-dependent condition"
        truths.add(truth(branch.condition, mutant))
        if branch.else_case is not None:
            assert tvm_ffi.structural_equal(branch.else_case, branch.then_case)
            assert not nodes(branch.then_case, (tirx.For, SBlockRealize)), "a copy would redefine a variable"
        with_else.add(branch.else_case is not None)
        assert_gives_back(original, mutant, [(tirx.IfThenElse, lambda b: b.then_case)])
    assert truths == {"true", "false", "varying"} and with_else == {True, False}


# --- wrap_attr --------------------------------------------------------------------------------------------------

def test_wrap_attr_puts_one_statement_under_a_pragma_or_alignment_passes_read():
    from tvm import tirx

    from tzer.mutate.wrap import PRAGMA_VALUES

    original, keys = parse(REDUCTION), set()
    allocated = original["main"].body.block.alloc_buffers
    for mutant in mutants("wrap_attr", REDUCTION, range(40)):
        attrs = nodes(mutant["main"].body, tirx.AttrStmt)
        hinted = [f for f in nodes(mutant["main"].body, tirx.For) if "pragma_loop_partition_hint" in f.annotations]
        assert len(attrs) + len(hinted) == 1
        if hinted:
            keys.add("pragma_loop_partition_hint")
            assert_gives_back(original, mutant, [(tirx.For, _without_hint)])
            continue
        (attr,) = attrs
        keys.add(attr.attr_key)
        assert isinstance(attr.value, tirx.IntImm)
        if attr.attr_key == "storage_alignment":
            assert any(attr.node.same_as(buf) for buf in allocated)
        else:
            assert attr.value.value in PRAGMA_VALUES[attr.attr_key]
        assert_gives_back(original, mutant, [(tirx.AttrStmt, lambda a: a.body)])
    assert keys == {*PRAGMA_VALUES, "storage_alignment", "pragma_loop_partition_hint"}


def _without_hint(loop):
    from tvm import tirx

    if "pragma_loop_partition_hint" not in loop.annotations:
        return loop
    annotations = {k: v for k, v in loop.annotations.items() if k != "pragma_loop_partition_hint"}
    return tirx.For(loop.loop_var, loop.min, loop.extent, loop.kind, loop.body, loop.thread_binding, annotations,
                    loop.step)


# --- wrap_alloc -------------------------------------------------------------------------------------------------

def test_wrap_alloc_allocates_before_one_statement_unused_or_as_a_copy():
    from tvm import tirx

    original, forms = parse(ELEMENTWISE), set()
    for mutant in mutants("wrap_alloc", ELEMENTWISE):
        (alloc,) = nodes(mutant["main"].body, tirx.AllocBuffer)
        buf = alloc.buffer
        assert buf.name == "w_buf"
        copies = [s for s in nodes(mutant["main"].body, tirx.BufferStore) if s.buffer.same_as(buf)]
        forms.add("copy" if copies else "unused")
        assert_gives_back(original, mutant, [(tirx.SeqStmt, lambda seq: _without_alloc(seq, buf))])
    assert forms == {"copy", "unused"}


def _without_alloc(seq, buf):
    """The sequence without the allocation of `buf`, a copy `buf[0] = v; X[i] = buf[0]` folded back into
    `X[i] = v`; a single statement left stands alone."""
    from tvm import tirx

    stmts = [s for s in seq.seq if not (isinstance(s, tirx.AllocBuffer) and s.buffer.same_as(buf))]
    if len(stmts) == len(seq.seq):
        return seq
    if isinstance(stmts[0], tirx.BufferStore) and stmts[0].buffer.same_as(buf):
        copy, store = stmts[0], stmts[1]
        assert store.value.source.same_as(buf), "the stored value must come from the copy"
        stmts = [tirx.BufferStore(store.buffer, copy.value, store.indices), *stmts[2:]]
    return stmts[0] if len(stmts) == 1 else tirx.SeqStmt(stmts)


# --- wrap_assume ------------------------------------------------------------------------------------------------

def test_wrap_assume_puts_an_assumption_that_holds_before_one_statement():
    import tvm
    from tvm import tirx

    original, forms = parse(REDUCTION), set()
    for mutant in mutants("wrap_assume", REDUCTION, range(40)):
        (call,) = [e.value for e in nodes(mutant["main"].body, tirx.Evaluate) if _is_assume(e)]
        (cond,) = call.args
        forms.add(type(cond).__name__)
        assert not nodes(cond, tvm.ir.TensorLoad), "an assumption about data may not hold"
        assert _holds_everywhere(mutant, cond), cond
        assert_gives_back(original, mutant, [(tirx.SeqStmt, _without_assume)])
    assert forms == {"LE", "LT", "And", "IntImm"}  # IntImm: True, before a statement with no variable in scope


def _is_assume(evaluate) -> bool:
    import tvm

    value = evaluate.value
    return isinstance(value, tvm.ir.Call) and value.op.same_as(tvm.ir.Op.get("tirx.assume"))


def _holds_everywhere(mod, cond) -> bool:
    """True when `cond`, whose variables are loop or block iteration variables of `mod`, holds for every value in
    their ranges (the analyzer proves it from the ranges)."""
    import tvm
    from tvm import tirx
    from tvm.s_tir import SBlock

    analyzer = tvm.sym.Analyzer()
    for loop in nodes(mod["main"].body, tirx.For):
        analyzer.bind(loop.loop_var, tvm.ir.Range.from_min_extent(loop.min, loop.extent))
    for block in nodes(mod["main"].body, SBlock):
        for iv in block.iter_vars:
            analyzer.bind(iv.var, iv.dom)
    return analyzer.can_prove(cond)


def _without_assume(seq):
    from tvm import tirx

    stmts = [s for s in seq.seq if not (isinstance(s, tirx.Evaluate) and _is_assume(s))]
    return seq if len(stmts) == len(seq.seq) else stmts[0] if len(stmts) == 1 else tirx.SeqStmt(stmts)


# --- wrap_select ------------------------------------------------------------------------------------------------

def test_wrap_select_wraps_one_value_expression_and_no_index():
    import tvm
    import tvm_ffi
    from tvm import tirx

    original, forms = parse(ELEMENTWISE), set()
    for mutant in mutants("wrap_select", ELEMENTWISE):
        (store,) = nodes(mutant["main"].body, tirx.BufferStore)
        for index in store.indices:
            assert not nodes(index, (tirx.Select, tvm.ir.Call)), "an index changed"
        wrappers = nodes(store.value, tirx.Select) + [c for c in nodes(store.value, tvm.ir.Call)
                                                      if c.op.name == "prim.if_then_else"]
        assert len(wrappers) == 1, store.value
        chosen, other = _branches(wrappers[0])
        assert isinstance(other, (tirx.IntImm, tirx.FloatImm)) or tvm_ffi.structural_equal(chosen, other)
        forms.add(type(wrappers[0]).__name__)
        assert_gives_back(original, mutant, [(tirx.Select, lambda s: s.true_value),
                                             (tvm.ir.Call, lambda c: _branches(c)[0] if _is_ite(c) else c)])
    assert forms == {"Select", "Call"}


def _is_ite(call) -> bool:
    return call.op.name == "prim.if_then_else"


def _branches(node):
    from tvm import tirx

    return (node.true_value, node.false_value) if isinstance(node, tirx.Select) else (node.args[1], node.args[2])


# --- wrap_let ---------------------------------------------------------------------------------------------------

def test_wrap_let_binds_one_expression_in_a_let_or_before_the_store():
    from tvm import tirx

    original, forms = parse(ELEMENTWISE), set()
    for mutant in mutants("wrap_let", ELEMENTWISE):
        lets = [e for e in nodes(mutant["main"].body, tirx.Let) if named(e.var, "w_let")]
        binds = nodes(mutant["main"].body, tirx.Bind)
        assert len(lets) + len(binds) == 1
        if lets:
            forms.add("Let")
            assert lets[0].body.same_as(lets[0].var)
            assert_gives_back(original, mutant, [(tirx.Let, lambda e: e.value if named(e.var, "w_let") else e)])
            continue
        forms.add("Bind")
        (bind,) = binds
        (store,) = nodes(mutant["main"].body, tirx.BufferStore)
        assert uses(store, bind.var)
        assert_gives_back(original, mutant, [(tirx.SeqStmt, _without_bind)],
                          [(tirx.Var, lambda v: bind.value if v.same_as(bind.var) else v)])
    assert forms == {"Let", "Bind"}


def _without_bind(seq):
    from tvm import tirx

    stmts = [s for s in seq.seq if not isinstance(s, tirx.Bind)]
    return stmts[0] if len(stmts) == 1 else tirx.SeqStmt(stmts)


# --- no site ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["wrap_loop", "wrap_if", "wrap_attr", "wrap_alloc", "wrap_assume"])
def test_statement_wrappers_find_nothing_in_a_module_without_functions(name):
    import tvm

    assert MUTATORS.get(name)(tvm.IRModule({}), random.Random(0)) is None


@pytest.mark.parametrize("name", ["wrap_select", "wrap_let"])
def test_expression_wrappers_find_nothing_without_a_store(name):
    assert MUTATORS.get(name)(parse(NO_STORE), random.Random(0)) is None


@pytest.mark.parametrize("name", ["wrap_loop", "wrap_if", "wrap_attr", "wrap_alloc", "wrap_assume"])
def test_statement_wrappers_need_no_variable_in_scope(name):
    import tvm
    import tvm_ffi

    for mutant in mutants(name, BARE, range(8)):
        assert tvm_ffi.structural_equal(mutant, tvm.script.from_source(mutant.script()))


@pytest.mark.parametrize("name", ["wrap_loop", "wrap_if", "wrap_attr", "wrap_alloc", "wrap_assume",
                                  "duplicate_statement", "drop_statement", "swap_statements"])
def test_a_sequence_of_no_ops_is_mutated_without_tripping_the_seqstmt_constructor(name):
    """A statement deleted (it becomes T.evaluate(0)) and then duplicated leaves a sequence of two no-ops, which
    TVM's SeqStmt constructor keeps, but drops when it splices that sequence into another, and it rejects a result of
    one statement: a campaign stopped on `SeqStmt([AllocBuffer, SeqStmt([evaluate(0), evaluate(0)])])` (wrap_alloc)."""
    import tvm
    from tvm import tirx

    no_op = tirx.Evaluate(tirx.IntImm("int32", 0))
    main = parse(NO_STORE)["main"]
    mod = tvm.IRModule({"main": main.with_body(tirx.SeqStmt([no_op, no_op]))})
    for seed in range(16):
        MUTATORS.get(name)(mod, random.Random(seed))  # a mutant or None, never a TVM error
