"""Structural wrappers (Tzer's): put one statement of a PrimFunc inside a new loop, condition, attribute, allocation
or binding, or after an assumption that holds, or one expression inside a Select or a Let, and leave the rest of the
program as it was.

Statement sites are the statements inside S-TIR blocks and between them (loops, block realizations, stores), except
the root block and the leaves that scope over their later siblings (Bind, AllocBuffer, DeclBuffer). Expression sites
are the sub-expressions of one BufferStore. No wrapper touches a block's iteration bindings or changes which buffer
elements a statement accesses (a loop around a statement accesses the same elements again), so the reads/writes
regions every block declares stay true.
"""

from __future__ import annotations

import enum
import random
from dataclasses import dataclass, replace
from typing import Any, Callable

import tvm
import tvm_ffi
from tvm import tirx
from tvm.s_tir import SBlock, SBlockRealize

from tzer.mutate import well_formed_or_none
from tzer.mutate.sites import sequence

# Leaves without a body: what they define is visible to their later siblings, so wrapping one would cut that scope.
SCOPING_LEAVES = (tirx.Bind, tirx.AllocBuffer, tirx.DeclBuffer)
# Nodes that define a variable, a block or a buffer: a statement holding one cannot be duplicated as it is.
DEFINING = (tirx.For, SBlockRealize, SBlock, tirx.Let, *SCOPING_LEAVES)

LOOP_KINDS = (tirx.ForKind.SERIAL, tirx.ForKind.PARALLEL, tirx.ForKind.VECTORIZED, tirx.ForKind.UNROLLED)
SMALL_EXTENTS = (2, 3, 4, 8)
# Loop kinds whose iterations TVM assumes independent (its parallel/vectorize primitives check it): parallel copies
# of an accumulation race, and VectorizeLoop emits a body that does not use the loop variable once, so
# `B[0] = B[0] + x` under T.vectorized(4) adds x once where a serial loop adds it four times. Around a statement
# that is not repeat-safe, these kinds get extent 1.
INDEPENDENT_ITERATIONS = (tirx.ForKind.PARALLEL, tirx.ForKind.VECTORIZED)
# AttrStmt keys that the installed passes read (strings of libtvm_compiler.so): UnrollLoop reads the two unroll
# pragmas, LoopPartition the partition hint (see _hint_partition), the LLVM codegen storage_alignment (its node
# is an allocated buffer). Left out: pragma_import_llvm/import_c (they load code),
# pragma_debug_skip_region (it deletes the statement: reads of uninitialised memory, no new structure) and the
# pragma_parallel_* keys (codegen checks that they sit inside a parallel launch; anywhere else they only crash).
PRAGMA_VALUES = {"pragma_auto_unroll_max_step": (0, 4, 16, 64), "pragma_unroll_explicit": (0, 1)}
ALIGNMENTS = (16, 64, 128)
ALLOC_DTYPES = ("float32", "float16", "int8", "int32")
ALLOC_SCOPES = ("", "local")  # "" prints and parses back as global


@dataclass(frozen=True)
class Bounded:
    """A variable in scope whose values lie in [lo, lo + extent): a loop variable or a block iteration variable."""

    var: Any
    lo: int
    extent: int


@dataclass(frozen=True)
class Scope:
    """What a site may refer to: bounded variables, the buffers allocated by enclosing blocks, the parameters."""

    variables: tuple[Bounded, ...] = ()
    buffers: tuple[Any, ...] = ()
    params: tuple[Any, ...] = ()

    def with_loop(self, loop: Any) -> Scope:
        bounded = _bounded(loop.loop_var, loop.min, loop.extent)
        return self if bounded is None else replace(self, variables=(*self.variables, bounded))

    def inside(self, block: Any) -> Scope:
        """The scope of a block's body: S-TIR forbids using outer loop variables there, so only its own iteration
        variables are in scope, plus every buffer allocated so far."""
        bounded = (_bounded(iv.var, iv.dom.min, iv.dom.extent) for iv in block.iter_vars)
        return Scope(tuple(b for b in bounded if b is not None), (*self.buffers, *block.alloc_buffers), self.params)


def _bounded(var: Any, lo: Any, extent: Any) -> Bounded | None:
    if isinstance(lo, tirx.IntImm) and isinstance(extent, tirx.IntImm):
        return Bounded(var, int(lo.value), int(extent.value))
    return None


# ---------------------------------------------------------------------------------------------------------------
# Sites: one traversal that counts eligible sites and, given a target, replaces that one.

Eligible = Callable[[Any, Scope], bool]
Make = Callable[[Any, Scope], Any]


def _statement_pass(func: Any, eligible: Eligible, target: int = -1, make: Make | None = None) -> tuple[int, Any]:
    """Visit `func`'s statements in a fixed pre-order with the scope of each; count the eligible ones and replace
    the `target`-th (0-based) by `make(stmt, scope)`. Returns (count, new body). Counting and replacing run this
    same code, so the n-th site of both is the same statement."""
    scopes = [Scope(params=tuple(func.params))]
    count = 0

    def site(stmt: Any) -> Any:
        nonlocal count
        if isinstance(stmt, SCOPING_LEAVES) or not eligible(stmt, scopes[-1]):
            return None
        count += 1
        return make(stmt, scopes[-1]) if count - 1 == target else None

    def descend(node: Any, mutator: Any, scope: Scope) -> Any:
        scopes.append(scope)
        try:
            return mutator.default_mutate(node)
        finally:
            scopes.pop()

    def on_for(stmt: Any, mutator: Any) -> Any:
        new = site(stmt)
        return descend(stmt, mutator, scopes[-1].with_loop(stmt)) if new is None else new

    def on_realize(stmt: Any, mutator: Any) -> Any:
        new = None if stmt.same_as(func.body) else site(stmt)  # the root block stays the function's body
        return mutator.default_mutate(stmt) if new is None else new

    def on_stmt(stmt: Any, mutator: Any) -> Any:
        new = site(stmt)
        return mutator.default_mutate(stmt) if new is None else new

    body = tvm_ffi.structural_mutate(func.body, [
        (tvm.ir.Expr, lambda expr, mutator: expr),  # statement sites only: no need to walk expressions
        (tirx.For, on_for),
        (SBlock, lambda block, mutator: descend(block, mutator, scopes[-1].inside(block))),
        (SBlockRealize, on_realize),
        (tirx.Stmt, on_stmt),
    ])
    return count, body


def _expression_pass(stmt: Any, eligible: Callable[[Any, bool], bool], target: int = -1,
                     make: Callable[[Any], Any] | None = None) -> tuple[int, Any]:
    """Like _statement_pass, over the scalar sub-expressions of `stmt` (a BufferStore) in use position;
    `eligible(expr, in_index)` also sees whether the expression sits in a buffer index."""
    index_depth = 0
    count = 0

    def site(expr: Any, mutator: Any) -> Any:
        nonlocal count
        if mutator.def_region_kind() != tvm_ffi.DefRegionKind.NONE or not _is_scalar(expr):
            return None  # a Let's variable is a definition, a buffer is a Var of buffer type: neither is a value
        if not eligible(expr, index_depth > 0):
            return None
        count += 1
        return make(expr) if count - 1 == target else None

    def as_index(expr: Any, mutator: Any) -> Any:
        nonlocal index_depth
        index_depth += 1
        try:
            return mutator.mutate(expr)
        finally:
            index_depth -= 1

    def on_store(store: Any, mutator: Any) -> Any:
        value = mutator.mutate(store.value)
        indices = [as_index(index, mutator) for index in store.indices]
        return tirx.BufferStore(store.buffer, value, indices)

    def on_load(load: Any, mutator: Any) -> Any:
        new = site(load, mutator)
        if new is not None:
            return new
        indices = [as_index(index, mutator) for index in load.indices]
        return tirx.BufferLoad(load.source, indices)

    def on_expr(expr: Any, mutator: Any) -> Any:
        new = site(expr, mutator)
        return mutator.default_mutate(expr) if new is None else new

    new_stmt = tvm_ffi.structural_mutate(stmt, [
        (tirx.BufferStore, on_store), (tvm.ir.TensorLoad, on_load), (tvm.ir.Expr, on_expr)])
    return count, new_stmt


def _is_scalar(expr: Any) -> bool:
    """A scalar value: not a buffer (a Var of buffer type), an Op, a string, a vector or a pointer."""
    ty = getattr(expr, "ty", None)
    return isinstance(ty, tvm.ir.PrimType) and ty.dtype.lanes == 1 and str(ty.dtype) not in ("handle", "void")


def _replace_expression(stmt: Any, eligible: Callable[[Any, bool], bool], rng: random.Random,
                        make: Callable[[Any], Any]) -> Any | None:
    """`stmt` with one eligible sub-expression, drawn uniformly, replaced by `make(expr)`; None if none is."""
    count, _ = _expression_pass(stmt, eligible)
    if count == 0:
        return None
    return _expression_pass(stmt, eligible, rng.randrange(count), make)[1]


def _wrap(mod: Any, rng: random.Random, eligible: Eligible, make: Callable[[Any, Scope, random.Random], Any]) -> Any:
    """The mutant in which one eligible statement site, drawn uniformly over all PrimFuncs, is replaced by
    `make(stmt, scope, rng)`; None if no site is eligible or TVM's verifier rejects the result."""
    funcs = [(gv, f) for gv, f in sorted(mod.functions_items(), key=lambda item: item[0].name_hint)
             if isinstance(f, tirx.PrimFunc)]
    counts = [_statement_pass(f, eligible)[0] for _, f in funcs]
    if sum(counts) == 0:
        return None
    k = rng.randrange(sum(counts))
    for (gv, func), count in zip(funcs, counts):
        if k < count:
            _, body = _statement_pass(func, eligible, k, lambda stmt, scope: make(stmt, scope, rng))
            if body.same_as(func.body):
                return None  # the drawn site had nothing to wrap after all
            mutant = mod.clone()
            mutant.update_func(gv, func.with_body(_flatten(body)))
            return well_formed_or_none(mutant)
        k -= count
    raise AssertionError("unreachable: k < sum(counts)")


def _flatten(body: Any) -> Any:
    """A wrapper's SeqStmt placed inside a SeqStmt prints as one sequence and parses back flat: flatten nested
    sequences so that the mutant survives the TVMScript round trip."""
    def on_seq(seq: Any, mutator: Any) -> Any:
        seq = mutator.default_mutate(seq)  # may come back as a lone statement: a no-op T.evaluate(0) is dropped
        if not isinstance(seq, tirx.SeqStmt) or not any(isinstance(s, tirx.SeqStmt) for s in seq.seq):
            return seq
        return sequence(list(seq.seq))

    return tvm_ffi.structural_mutate(body, [(tvm.ir.Expr, lambda expr, mutator: expr), (tirx.SeqStmt, on_seq)])


def _contains(node: Any, types: tuple[type, ...]) -> bool:
    found = []
    tvm_ffi.structural_walk(node, [(types, found.append)])
    return bool(found)


def _any_statement(stmt: Any, scope: Scope) -> bool:
    return True


def _is_store(stmt: Any, scope: Scope) -> bool:
    return isinstance(stmt, tirx.BufferStore)


# ---------------------------------------------------------------------------------------------------------------
# Conditions, shared by wrap_if and wrap_select.

class Truth(enum.Enum):
    ALWAYS = "always true"
    NEVER = "always false"
    VARYING = "depends on a loop variable"


def draw_condition(scope: Scope, rng: random.Random) -> Any:
    """A data-independent condition: always true, always false, or varying with a bounded variable in scope."""
    family = rng.choice(list(Truth))
    varying = [b for b in scope.variables if b.extent > 1]
    if family is Truth.VARYING and varying:
        return _varying(rng.choice(varying), rng)
    if family is Truth.VARYING:
        family = rng.choice([Truth.ALWAYS, Truth.NEVER])
    if not scope.variables or rng.random() < 0.25:
        return tirx.const(family is Truth.ALWAYS, "bool")
    return _constant_truth(rng.choice(scope.variables), family is Truth.ALWAYS, rng)


def _int(value: int, like: Any) -> Any:
    return tirx.const(value, str(like.ty.dtype))


def _constant_truth(b: Bounded, truth: bool, rng: random.Random) -> Any:
    v, lo, end = b.var, _int(b.lo, b.var), _int(b.lo + b.extent, b.var)
    if truth:
        return rng.choice([tirx.LE(lo, v), tirx.LT(v, end)])
    return rng.choice([tirx.LT(v, lo), tirx.LE(end, v)])


def _varying(b: Bounded, rng: random.Random) -> Any:
    v, k = b.var, rng.randrange(1, b.extent)
    cond = rng.choice([
        tirx.LT(v, _int(b.lo + k, v)),
        tirx.EQ(v, _int(b.lo + k, v)),
        tirx.EQ(tirx.FloorMod(v, _int(2, v)), _int(0, v)),
    ])
    # likely() is what LoopPartition looks for when it splits a loop around a condition
    return tirx.likely(cond) if rng.random() < 0.25 else cond


# ---------------------------------------------------------------------------------------------------------------
# The wrappers.

def wrap_loop(mod: Any, rng: random.Random) -> Any:
    """Wrap a statement in a serial, parallel, vectorized or unrolled loop of extent 1 or a small extent, over a
    fresh variable that the statement does not use."""
    return _wrap(mod, rng, _any_statement, _make_loop)


def _make_loop(stmt: Any, scope: Scope, rng: random.Random) -> Any:
    kind = rng.choice(LOOP_KINDS)
    extent = 1 if rng.random() < 0.5 else rng.choice(SMALL_EXTENTS)
    if kind in INDEPENDENT_ITERATIONS and not _repeat_safe(stmt):
        extent = 1
    var = tirx.Var("w_loop", "int32")
    return tirx.For(var, tirx.const(0, "int32"), tirx.const(extent, "int32"), kind, stmt)


def _repeat_safe(stmt: Any) -> bool:
    """Whether running `stmt` several times, in any order or at once, gives what running it once does: true when no
    buffer is both stored and loaded in it (a reduction block's update loads what it stores)."""
    stored, loaded = [], []
    tvm_ffi.structural_walk(stmt, [(tirx.BufferStore, lambda s: stored.append(s.buffer)),
                                   (tvm.ir.TensorLoad, lambda load: loaded.append(load.source))])
    return not any(s.same_as(load) for s in stored for load in loaded)


def wrap_if(mod: Any, rng: random.Random) -> Any:
    """Wrap a statement in an IfThenElse on a data-independent condition (always true, always false, or varying
    with a loop variable), with or without an else branch that repeats the statement."""
    return _wrap(mod, rng, _any_statement, _make_if)


def _make_if(stmt: Any, scope: Scope, rng: random.Random) -> Any:
    cond = draw_condition(scope, rng)
    # a copy of a statement that defines a loop variable, block or buffer would define it twice
    repeat = not _contains(stmt, DEFINING) and rng.random() < 0.5
    return tirx.IfThenElse(cond, stmt, stmt if repeat else None)


def wrap_attr(mod: Any, rng: random.Random) -> Any:
    """Wrap a statement in an AttrStmt whose key a TVM pass reads: unroll pragmas, or a storage alignment for a
    buffer the function allocates; or give a loop the partition hint, as an annotation (see _hint_partition)."""
    return _wrap(mod, rng, _any_statement, _make_attr)


def _make_attr(stmt: Any, scope: Scope, rng: random.Random) -> Any:
    keys = sorted(PRAGMA_VALUES)
    if scope.buffers:
        keys.append("storage_alignment")
    if isinstance(stmt, tirx.For) and "pragma_loop_partition_hint" not in stmt.annotations:
        keys.append("pragma_loop_partition_hint")
    key = rng.choice(keys)
    if key == "pragma_loop_partition_hint":
        return _hint_partition(stmt)
    if key == "storage_alignment":
        node, value = rng.choice(scope.buffers), rng.choice(ALIGNMENTS)
    else:
        node, value = _pragma_node(scope, rng), rng.choice(PRAGMA_VALUES[key])
    return tirx.AttrStmt(node, key, tirx.const(value, "int32"), stmt)


def _pragma_node(scope: Scope, rng: random.Random) -> Any:
    """UnrollLoop ignores a pragma's node. A variable in scope (a buffer is one) prints and parses back as itself;
    without one, a plain 0 does too (an IntImm 0 would come back as a plain int and fail the round trip)."""
    candidates = [b.var for b in scope.variables] + list(scope.params)
    return rng.choice(candidates) if candidates else 0


def _hint_partition(loop: Any) -> Any:
    """The loop with a pragma_loop_partition_hint annotation. The AttrStmt that LoopPartition reads names the loop's
    variable before the loop defines it, which the S-TIR verifier rejects; the loop annotation is S-TIR's spelling
    of it (LowerOpaqueBlock turns each pragma_ annotation into that AttrStmt around the loop)."""
    annotations = {**dict(loop.annotations), "pragma_loop_partition_hint": 1}  # a plain int, as the parser reads it
    return tirx.For(loop.loop_var, loop.min, loop.extent, loop.kind, loop.body, loop.thread_binding, annotations,
                    loop.step)


def wrap_alloc(mod: Any, rng: random.Random) -> Any:
    """Allocate a buffer just before a statement: unused, or, before a store, a one-element buffer through which the
    stored value is copied."""
    return _wrap(mod, rng, _any_statement, _make_alloc)


def _make_alloc(stmt: Any, scope: Scope, rng: random.Random) -> Any:
    storage = rng.choice(ALLOC_SCOPES)
    if isinstance(stmt, tirx.BufferStore) and rng.random() < 0.5:
        dtype = str(stmt.value.ty.dtype)
        buf = tirx.decl_buffer((1,), dtype, "w_buf", scope=storage, layout=None)
        zero = [tirx.const(0, "int32")]
        return sequence([tirx.AllocBuffer(buf), tirx.BufferStore(buf, stmt.value, zero),
                         tirx.BufferStore(stmt.buffer, tirx.BufferLoad(buf, zero), stmt.indices)])
    # layout=None: the parser gives T.alloc_buffer no layout, so a defaulted one would fail the round trip
    buf = tirx.decl_buffer((rng.choice((1, 4, 16)),), rng.choice(ALLOC_DTYPES), "w_buf", scope=storage, layout=None)
    return sequence([tirx.AllocBuffer(buf), stmt])


def wrap_assume(mod: Any, rng: random.Random) -> Any:
    """Put `T.assume(c)` before a statement, c a condition that holds there (a variable in scope within its range,
    one bound or both; `True` where none is in scope). The simplifier takes an assumption as a fact, RemoveAssume
    drops it, and no program tzer generates has one: without this wrapper RemoveAssume never changed the IR."""
    return _wrap(mod, rng, _any_statement, _make_assume)


def _make_assume(stmt: Any, scope: Scope, rng: random.Random) -> Any:
    if not scope.variables:
        cond = tirx.const(True, "bool")
    elif rng.random() < 0.5:
        cond = _constant_truth(rng.choice(scope.variables), True, rng)
    else:
        b = rng.choice(scope.variables)
        cond = tirx.And(tirx.LE(_int(b.lo, b.var), b.var), tirx.LT(b.var, _int(b.lo + b.extent, b.var)))
    return sequence([tirx.Evaluate(tirx.assume(cond)), stmt])


def wrap_select(mod: Any, rng: random.Random) -> Any:
    """Wrap a value sub-expression e of a store as Select(cond, e, other) or if_then_else(cond, e, other), cond as in
    wrap_if, other a constant or e itself. Index expressions are left alone: another index would access another
    element than the block declares."""
    return _wrap(mod, rng, _is_store, _make_select)


def _make_select(store: Any, scope: Scope, rng: random.Random) -> Any:
    def select(expr: Any) -> Any:
        cond = draw_condition(scope, rng)
        other = expr if rng.random() < 1 / 3 and not _contains(expr, DEFINING) else _constant_like(expr, rng)
        if isinstance(cond, tirx.IntImm) or rng.random() < 0.5:
            return tirx.Select(cond, expr, other)
        # call_intrin, not tirx.if_then_else: that one folds a constant condition away, and so does the TVMScript
        # parser, hence constant conditions only go into a Select
        return tirx.call_intrin(str(expr.ty.dtype), "prim.if_then_else", cond, expr, other)

    return _replace_expression(store, lambda expr, in_index: not in_index, rng, select)


def _constant_like(expr: Any, rng: random.Random) -> Any:
    dtype = str(expr.ty.dtype)
    return tirx.const(rng.choice([True, False]) if dtype == "bool" else rng.choice([0, 1]), dtype)


def wrap_let(mod: Any, rng: random.Random) -> Any:
    """Wrap a sub-expression e of a store (value or index) as Let(v, e, v), or bind it before the store
    (Bind(v, e), the Let statement of TVM 0.27) and use v in its place."""
    return _wrap(mod, rng, _is_store, _make_let)


def _make_let(store: Any, scope: Scope, rng: random.Random) -> Any:
    if rng.random() < 0.5:
        return _bind_before(store, rng)
    return _replace_expression(store, lambda expr, in_index: True, rng, _let_of)


def _let_of(expr: Any) -> Any:
    var = tirx.Var("w_let", str(expr.ty.dtype))
    return tirx.Let(var, expr, var)


def _bind_before(store: Any, rng: random.Random) -> Any:
    """Bind(v, e) followed by the store with one occurrence of e replaced by v. Sub-expressions that use a variable
    bound by a Let inside the store are not bindable outside it."""
    let_vars = []
    tvm_ffi.structural_walk(store, [(tirx.Let, lambda let: let_vars.append(let.var))])

    def bindable(expr: Any, in_index: bool) -> bool:
        used = []
        tvm_ffi.structural_walk(expr, [(tirx.Var, used.append)])
        return not any(u.same_as(v) for u in used for v in let_vars)

    bound = []

    def bind(expr: Any) -> Any:
        bound.append((tirx.Var("w_let", str(expr.ty.dtype)), expr))
        return bound[-1][0]

    new_store = _replace_expression(store, bindable, rng, bind)
    if new_store is None:
        return _replace_expression(store, lambda expr, in_index: True, rng, _let_of)
    var, expr = bound[0]
    return sequence([tirx.Bind(var, expr), new_store])
