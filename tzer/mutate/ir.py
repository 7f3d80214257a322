"""General TIR mutators (Tzer's): each changes the meaning of a program at one site drawn uniformly among all sites.

A site is one place a mutator can act on (an operator, a constant, a loop, a condition, a statement of a sequence, an
index of a load, an intermediate buffer). `tzer.mutate.sites.Walker` numbers the sites of a function body in one
pre-order pass and replaces the chosen one; a mutator is a pair of functions: which sub-sites a node offers, and how
one is rewritten.

S-TIR consistency. Blocks declare what their bodies read and write, and TVM's lowering trusts the declarations. So
every block whose body a mutation changes gets its read/write regions recomputed by TVM's own analysis
(`s_tir.analysis.get_sblock_read_write_region`), a changed loop extent gives the block iterators bound to that loop
the domain their binding now spans, and the walker never touches what is not body: iterator bindings and domains,
declared regions, buffer shapes, annotations. Out-of-bounds indices are allowed; the judge sorts them out.

Conversions stay within a type class (float to float, integer to integer): converting an out-of-range float to an
integer is poison in LLVM, so both sides of an opt-vs-unopt comparison could legitimately disagree.
"""

from __future__ import annotations

import random

import tvm
import tvm_ffi
from tvm import s_tir, tirx

from tzer.mutate import parallel_loops
from tzer.mutate.sites import (
    DIVISION_NODES, FLOATS, INTS, NO_OP, Walker, block_with, call_with_args, dtype_of, for_with, int_const,
    is_call_to, is_literal, mutate_one, pick, realize_with, replace_function, same_class, sequence, unique, uses,
)

FLOAT_MAX = {"float16": 65504.0, "bfloat16": 3.3895313892515355e38, "float32": 3.4028234663852886e38,
             "float64": 1.7976931348623157e308}
DEFINITIONS = (tirx.Bind, tirx.AllocBuffer, tirx.DeclBuffer)  # statements whose definitions scope what follows
LOOP_KINDS = (tirx.ForKind.SERIAL, tirx.ForKind.PARALLEL, tirx.ForKind.VECTORIZED, tirx.ForKind.UNROLLED)

# ---------------------------------------------------------------------------------------------------------------
# swap_binary_op


def _float_floordiv(a, b, span=None):
    """Floor division of floats: TVM's FloorDiv node takes integers only, and lowers float floordiv to this."""
    return tirx.floor(tirx.Div(a, b, span))


ARITH = (tirx.Add, tirx.Sub, tirx.Mul, tirx.Div, tirx.Mod, tirx.FloorDiv, tirx.FloorMod, tirx.Min, tirx.Max)
FLOAT_ARITH = (tirx.Add, tirx.Sub, tirx.Mul, tirx.Div, _float_floordiv, tirx.Min, tirx.Max)
COMPARISONS = (tirx.LT, tirx.LE, tirx.GT, tirx.GE, tirx.EQ, tirx.NE)
LOGIC = (tirx.And, tirx.Or)
DIVISIONS = DIVISION_NODES + (_float_floordiv,)


def _op_alternatives(node) -> tuple:
    kind = type(node)
    if kind in COMPARISONS:
        return tuple(op for op in COMPARISONS if op is not kind)
    if kind in LOGIC:
        return tuple(op for op in LOGIC if op is not kind)
    if kind not in ARITH or dtype_of(node) is None:
        return ()
    # TVM refuses to build a division by a literal zero (and an integer one would be our crash, not TVM's); the
    # TVMScript printer writes min/max of two literals as T.min/T.max, which the parser folds: no round trip.
    divide_ok = not (is_literal(node.b) and node.b.value == 0)
    min_max_ok = not (is_literal(node.a) and is_literal(node.b))
    family = FLOAT_ARITH if dtype_of(node) in FLOATS else ARITH
    return tuple(op for op in family if op is not kind and (divide_ok or op not in DIVISIONS)
                 and (min_max_ok or op not in (tirx.Min, tirx.Max)))


def swap_binary_op(mod, rng: random.Random):
    """Replace an arithmetic operator by another of its type class, a comparison by another, And by Or."""
    return mutate_one(mod, rng, lambda node, w: [None] if _op_alternatives(node) else [],
                       lambda node, _, w: rng.choice(_op_alternatives(node))(node.a, node.b, node.span))


# ---------------------------------------------------------------------------------------------------------------
# perturb_constant


def _int_range(dtype: str) -> tuple[int, int]:
    bits = tvm.runtime.DataType(dtype).bits
    return (0, 2**bits - 1) if dtype.startswith("uint") else (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1)


def _constant_candidates(node, walker) -> list:
    dtype, value = dtype_of(node), node.value
    # A literal zero divisor makes TVMScript refuse the program ("Divide by zero" while parsing).
    nonzero = any(node.same_as(divisor) for divisor in walker.divisors)
    if dtype == "bool":
        return [1 - value]
    if isinstance(node, tirx.IntImm) and dtype in INTS:
        low, high = _int_range(dtype)
        raw = [0, 1, -1, low, high, value + 1, value - 1, 2 * value, *walker.extents]
        return unique(c for c in raw if low <= c <= high and c != value and (c or not nonzero))
    if isinstance(node, tirx.FloatImm) and dtype in FLOAT_MAX:
        top = FLOAT_MAX[dtype]
        raw = [0.0, -0.0, 1.0, -1.0, 0.5, 1e-6, value + 1, value - 1, 2 * value, -value, top, -top, 1e4]
        return unique(c for c in raw if abs(c) <= top and str(c) != str(value) and (c or not nonzero))
    return []


def perturb_constant(mod, rng: random.Random):
    """Move an integer or float constant to a boundary or nearby value (0, +-1, the dtype's limits, +-1, x2, a loop
    extent of the function; for floats also 0.5, -0.0, 1e-6, large values), keeping its dtype."""

    def sites_of(node, walker):
        return [None] if is_literal(node) and _constant_candidates(node, walker) else []

    def edit(node, _, walker):
        return type(node)(node.ty, rng.choice(_constant_candidates(node, walker)), node.span)

    return mutate_one(mod, rng, sites_of, edit)


# ---------------------------------------------------------------------------------------------------------------
# change_loop_extent, change_loop_kind


def _is_loop(node) -> bool:
    return isinstance(node, tirx.For) and node.kind in LOOP_KINDS


def _extent_candidates(extent) -> list:
    if isinstance(extent, tirx.IntImm):
        return [int_const(extent.ty, v) for v in unique([1, extent.value - 1, extent.value + 1, 2 * extent.value])
                if v > 0 and v != extent.value]
    one = int_const(extent.ty, 1)
    return [one, tirx.Sub(extent, one), tirx.Add(extent, one), tirx.Mul(extent, int_const(extent.ty, 2))]


def _binding_domain(value, loops):
    """The range a block iterator bound to `value` spans when the loops run over their current bounds; None when
    TVM's analyzer cannot bound it."""
    for loop in loops:
        if value.same_as(loop.loop_var):
            return tvm.ir.Range.from_min_extent(loop.min, loop.extent)
    analyzer = tvm.sym.Analyzer()

    def span(loop):
        last = analyzer.simplify(tirx.Sub(tirx.Add(loop.min, loop.extent), int_const(loop.extent.ty, 1)))
        return tvm.sym.IntervalSet(loop.min, last)

    spans = analyzer.int_set(value, {loop.loop_var: span(loop) for loop in loops})
    if spans.is_everything() or spans.is_nothing():
        return None
    extent = analyzer.simplify(tirx.Add(tirx.Sub(spans.max_value, spans.min_value), int_const(value.ty, 1)))
    return tvm.ir.Range.from_min_extent(spans.min_value, extent)


def _rebind_domains(loop, outer_loops):
    """`loop` with every block iterator bound to its variable given the domain its binding now spans (None when one
    cannot be bounded)."""
    loops, unbounded = list(outer_loops) + [loop], []

    def on_for(node, mutator):
        loops.append(node)
        out = mutator.default_mutate(node)
        loops.pop()
        return out

    def rebound(iv, value):
        if not uses(value, loop.loop_var):
            return iv
        domain = _binding_domain(value, loops)
        unbounded.extend([] if domain else [iv])
        return tirx.IterVar(domain or iv.dom, iv.var, iv.iter_type, iv.thread_tag)

    def on_realize(realize, mutator):  # nested realizes cannot see `loop`'s variable: no descent
        iter_vars = [rebound(iv, value) for iv, value in zip(realize.block.iter_vars, realize.iter_values)]
        return realize_with(realize, block_with(realize.block, iter_vars=iter_vars))

    body = tvm_ffi.structural_mutate(loop.body, [(tirx.For, on_for), (s_tir.SBlockRealize, on_realize)])
    return None if unbounded else for_with(loop, body=body)


def change_loop_extent(mod, rng: random.Random):
    """Set a loop's extent to 1, extent-1, extent+1 or 2*extent (the bound block iterators' domains follow)."""

    def edit(loop, _, walker):
        return _rebind_domains(for_with(loop, extent=rng.choice(_extent_candidates(loop.extent))), walker.loops)

    return mutate_one(mod, rng, lambda node, w: [None] if _is_loop(node) else [], edit)


def _realizes_under(stmt) -> list:
    """The block realizations under `stmt` that are not nested in another block."""
    found = []

    def on_realize(realize, visitor):
        found.append(realize)  # returning without visiting prunes the block

    tvm_ffi.structural_visit(stmt, [(s_tir.SBlockRealize, on_realize)])
    return found


def _parallel_safe(loop) -> bool:
    """Whether the iterations of `loop` write disjoint data: every block under it binds the loop variable, and only
    to data-parallel iterators. A parallel reduction loop would be a data race we wrote, not a TVM bug."""
    realizes = _realizes_under(loop.body)
    for realize in realizes:
        kinds = [iv.iter_type for iv, value in zip(realize.block.iter_vars, realize.iter_values)
                 if uses(value, loop.loop_var)]
        if not kinds or any(kind != tirx.IterVar.DataPar for kind in kinds):
            return False
    return bool(realizes)


def _nests_parallel(loop, enclosing) -> bool:
    """Whether a parallel `loop` would nest parallel loops: LLVM codegen rejects that by design ("Nested parallel
    loop is not supported"), and the minimal reference, whose loops are serial, would not."""
    return bool(parallel_loops(loop.body)) or any(outer.kind == tirx.ForKind.PARALLEL for outer in enclosing)


def _kind_alternatives(loop, enclosing=()) -> list:
    constant = isinstance(loop.extent, tirx.IntImm)
    # TVM unrolls and vectorizes constant extents only: UnrollLoop rejects an unrolled loop of non-constant extent
    # with a check failure, by design (the minimal reference, whose loops are serial, would not see it). Vectorized
    # lanes, like parallel iterations, must be independent: a vectorized reduction loop is not a valid program
    # (its lanes store to one address; Schedule.vectorize refuses such a loop).
    independent = _parallel_safe(loop)
    allowed = {tirx.ForKind.SERIAL: True, tirx.ForKind.UNROLLED: constant,
               tirx.ForKind.VECTORIZED: constant and independent,
               tirx.ForKind.PARALLEL: independent and not _nests_parallel(loop, enclosing)}
    return [kind for kind in LOOP_KINDS if kind != loop.kind and allowed[kind]]


def change_loop_kind(mod, rng: random.Random):
    """Make a loop serial, parallel, vectorized or unrolled (never thread-bound: the target is a CPU)."""
    return mutate_one(mod, rng, lambda node, w: [None] if _is_loop(node) and _kind_alternatives(node, w.loops) else [],
                      lambda loop, _, w: for_with(loop, kind=rng.choice(_kind_alternatives(loop, w.loops))))


# ---------------------------------------------------------------------------------------------------------------
# change_dtype


def _retyped_buffer_sites(node, walker) -> list:
    if isinstance(node, s_tir.SBlock):
        return [i for i, buf in enumerate(node.alloc_buffers) if same_class(str(buf.dtype))]
    return []


def _retype_edit(old, new):
    """Rewrite every use of buffer `old` into `new`: stores cast into the new dtype, loads cast back."""
    old_dtype, new_dtype = str(old.dtype), str(new.dtype)

    def edit(node, _, walker):
        if isinstance(node, s_tir.SBlock):
            allocs = [new if buf.same_as(old) else buf for buf in node.alloc_buffers]
            return walker.descend(block_with(node, alloc_buffers=allocs))
        indices = [walker.visit(index) for index in node.indices]
        if isinstance(node, tirx.BufferStore):
            return tirx.BufferStore(new, tirx.Cast(new_dtype, walker.visit(node.value)), indices, node.span)
        return tirx.Cast(old_dtype, tirx.BufferLoad(new, indices, node.span))

    return edit


def _uses_of(buf):
    def sites_of(node, walker):
        if isinstance(node, tvm.ir.TensorLoad) and node.source.same_as(buf):
            return [None]
        if isinstance(node, tirx.BufferStore) and node.buffer.same_as(buf):
            return [None]
        if isinstance(node, s_tir.SBlock) and any(b.same_as(buf) for b in node.alloc_buffers):
            return [None]
        return []

    return sites_of


def change_dtype(mod, rng: random.Random):
    """Change the dtype of an intermediate buffer (allocated in a block, never a parameter) within its type class,
    consistently: every store into it casts to the new dtype, every load from it casts back."""
    picked = pick(mod, rng, _retyped_buffer_sites)
    if picked is None:
        return None
    gv, func, _, (block, index) = picked
    old = block.alloc_buffers[index]
    new = old.with_dtype(rng.choice(same_class(str(old.dtype))))
    walker = Walker(func, _uses_of(old), _retype_edit(old, new), chosen=lambda n: True)
    walker.buffers.append(new)
    return replace_function(mod, gv, func, walker)


# ---------------------------------------------------------------------------------------------------------------
# insert_cast


def insert_cast(mod, rng: random.Random):
    """Wrap an expression in a round trip of casts through another dtype of its class (float32 -> float16 ->
    float32, int32 -> int8 -> int32)."""

    def edit(node, _, walker):
        dtype = dtype_of(node)
        return tirx.Cast(dtype, tirx.Cast(rng.choice(same_class(dtype)), node))

    return mutate_one(mod, rng, lambda node, w: [None] if same_class(dtype_of(node)) else [], edit)


# ---------------------------------------------------------------------------------------------------------------
# negate_condition, swap_branches


def _is_conditional(node) -> bool:
    return isinstance(node, (tirx.IfThenElse, tirx.Select)) or is_call_to(node, "prim.if_then_else")


def _negate(cond):
    return cond.a if isinstance(cond, tirx.Not) else tirx.Not(cond)


def _negated(node, _, walker):
    if isinstance(node, tirx.IfThenElse):
        return tirx.IfThenElse(_negate(node.condition), node.then_case, node.else_case, node.span)
    if isinstance(node, tirx.Select):
        return tirx.Select(_negate(node.condition), node.true_value, node.false_value, node.span)
    cond, then, otherwise = node.args
    return call_with_args(node, [_negate(cond), then, otherwise])


def _swapped(node, _, walker):
    if isinstance(node, tirx.IfThenElse):
        return tirx.IfThenElse(node.condition, node.else_case, node.then_case, node.span)
    if isinstance(node, tirx.Select):
        return tirx.Select(node.condition, node.false_value, node.true_value, node.span)
    cond, then, otherwise = node.args
    return call_with_args(node, [cond, otherwise, then])


def negate_condition(mod, rng: random.Random):
    """Negate the condition of an IfThenElse, a Select or an if_then_else call."""
    return mutate_one(mod, rng, lambda node, w: [None] if _is_conditional(node) else [], _negated)


def swap_branches(mod, rng: random.Random):
    """Swap the two branches of an IfThenElse (one with an else), a Select or an if_then_else call."""

    def sites_of(node, walker):
        has_two = not isinstance(node, tirx.IfThenElse) or node.else_case is not None
        return [None] if _is_conditional(node) and has_two else []

    return mutate_one(mod, rng, sites_of, _swapped)


# ---------------------------------------------------------------------------------------------------------------
# drop_statement, duplicate_statement, swap_statements


def _statement_sites(node, walker) -> list:
    """Children of a sequence (not a Bind, an AllocBuffer or a DeclBuffer: they define what follows uses, and a
    duplicate would define a buffer twice, which crashes TVM's verifier), and the whole body of a non-root block
    whose body is a single statement."""
    if isinstance(node, tirx.SeqStmt):
        return [i for i, stmt in enumerate(node.seq) if not isinstance(stmt, DEFINITIONS)]
    if isinstance(node, s_tir.SBlock) and not node.same_as(walker.root) and \
            not isinstance(node.body, (tirx.SeqStmt, tirx.Bind)):
        return ["body"]
    return []


def _dropped(node, index, walker):
    if index == "body":
        return block_with(node, body=NO_OP)
    return sequence([stmt for i, stmt in enumerate(node.seq) if i != index])


def _defined_vars(stmt) -> list:
    defined = []
    tvm_ffi.structural_walk(stmt, [
        (tirx.For, lambda loop: defined.append(loop.loop_var)),
        (s_tir.SBlock, lambda b: defined.extend([iv.var for iv in b.iter_vars] + list(b.alloc_buffers))),
        ((tirx.Bind, tirx.Let), lambda node: defined.append(node.var)),
    ])
    return defined


def _fresh(var):
    return var.with_dtype(var.dtype) if tirx.is_buffer_var(var) else tirx.Var(var.name, var.ty)


def _fresh_copy(stmt, taken_names: list):
    """A copy of `stmt` with fresh variables and buffers and unused block names, so it can sit beside the original."""
    started = []

    def remap_once(node, mutator):
        if not started:
            started.append(True)
            for var in _defined_vars(stmt):
                mutator.var_remap_set(var, _fresh(var))
        return mutator.default_mutate(node)

    def rename(block):
        suffix = 1
        while f"{block.name_hint}_{suffix}" in taken_names:
            suffix += 1
        taken_names.append(f"{block.name_hint}_{suffix}")
        return block_with(block, name_hint=taken_names[-1])

    copy = tvm_ffi.structural_mutate(stmt, [(object, remap_once)])
    return tvm_ffi.structural_map(copy, [(s_tir.SBlock, rename)])


def _duplicated(node, index, walker):
    if index == "body":
        return block_with(node, body=sequence([node.body, _fresh_copy(node.body, walker.block_names)]))
    seq = list(node.seq)
    return sequence(seq[:index + 1] + [_fresh_copy(seq[index], walker.block_names)] + seq[index + 1:])


def _pair_sites(node, walker) -> list:
    indices = _statement_sites(node, walker) if isinstance(node, tirx.SeqStmt) else []
    return [(i, j) for i in indices for j in indices if i < j]


def _swapped_pair(node, pair, walker):
    i, j = pair
    seq = list(node.seq)
    seq[i], seq[j] = seq[j], seq[i]
    return tirx.SeqStmt(seq, node.span)


def drop_statement(mod, rng: random.Random):
    """Remove one statement of a sequence, or the body of a block."""
    return mutate_one(mod, rng, _statement_sites, _dropped)


def duplicate_statement(mod, rng: random.Random):
    """Run one statement of a sequence, or the body of a block, twice (the copy gets fresh variables and names)."""
    return mutate_one(mod, rng, _statement_sites, _duplicated)


def swap_statements(mod, rng: random.Random):
    """Exchange two statements of a sequence."""
    return mutate_one(mod, rng, _pair_sites, _swapped_pair)


# ---------------------------------------------------------------------------------------------------------------
# replace_index


def _index_candidates(load, dim: int, scope: list) -> list:
    index = load.indices[dim]
    dtype = dtype_of(index)
    one = int_const(index.ty, 1)
    candidates = [var for var in scope if dtype_of(var) == dtype]
    if isinstance(index, tirx.IntImm):
        candidates += [int_const(index.ty, index.value + 1), int_const(index.ty, index.value - 1)]
    else:
        candidates += [tirx.Add(index, one), tirx.Sub(index, one)]
    candidates.append(int_const(index.ty, 0))
    bound = load.source.shape[dim]
    if isinstance(bound, tirx.IntImm):
        candidates.append(int_const(index.ty, bound.value - 1))
    return [c for c in candidates if not tvm_ffi.structural_equal(c, index)]


def replace_index(mod, rng: random.Random):
    """Replace one index of a buffer load by another in-scope integer expression of its dtype (a loop or block
    variable, the index +-1, 0, the last valid index). The result may read out of bounds; the judge handles it."""

    def sites_of(node, walker):
        if not isinstance(node, tvm.ir.TensorLoad) or not tirx.is_buffer_var(node.source):
            return []
        return [dim for dim, index in enumerate(node.indices) if dtype_of(index) in INTS]

    def edit(load, dim, walker):
        indices = list(load.indices)
        indices[dim] = rng.choice(_index_candidates(load, dim, walker.scope[-1]))
        return tirx.BufferLoad(load.source, indices, load.span)

    return mutate_one(mod, rng, sites_of, edit)
