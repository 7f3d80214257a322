"""Sites and the walker behind the general TIR mutators (tzer.mutate.ir): number the places a mutator can act on in
one pre-order pass over a function body, rewrite the chosen one, and keep S-TIR blocks consistent (their read/write
regions are recomputed by TVM's own analysis whenever their body changes).

A mutator is a pair of functions: `sites_of(node, walker)` lists the sub-sites a node offers, and
`edit(node, site, walker)` rewrites one; `mutate_one` draws one site uniformly among all of a module's.
"""

from __future__ import annotations

import random
from typing import Any, Callable

import tvm
import tvm_ffi
from tvm import s_tir, tirx

from tzer.mutate import is_tvm_error, well_formed_or_none

FLOATS = ("float16", "bfloat16", "float32", "float64")
INTS = ("int8", "int16", "int32", "int64", "uint8", "uint32")
DIVISION_NODES = (tirx.Div, tirx.Mod, tirx.FloorDiv, tirx.FloorMod)

NO_OP = tirx.Evaluate(tirx.IntImm("int32", 0))

SitesOf = Callable[[Any, "Walker"], list]  # node -> its sub-sites; [] when the node is not a site
Edit = Callable[[Any, Any, "Walker"], Any]  # (node, sub-site, walker) -> replacement node, or None to give up


# ---------------------------------------------------------------------------------------------------------------
# The walker


class Walker:
    """One pre-order pass over a function body: numbers the sites `sites_of` reports, rewrites those `chosen` picks
    with `edit`, tracks the variables usable at each point, and recomputes the regions of every changed block."""

    def __init__(self, func, sites_of: SitesOf, edit: Edit | None = None, chosen: Callable[[int], bool] = None):
        self.sites_of, self.edit = sites_of, edit
        self.chosen = chosen or (lambda number: False)
        self.found: list = []  # (node, sub-site) in visit order
        self.gave_up = False  # an edit could not rewrite its site consistently (exceptions do not cross the FFI)
        self.scope: list[list] = [[]]  # variables usable here; a block opens a fresh frame (outer loops are hidden)
        self.loops: list = []  # enclosing For nodes
        self.root = func.body.block if isinstance(func.body, s_tir.SBlockRealize) else None
        self.buffers, self.block_names, self.extents, self.divisors = inventory(func)
        self._mutator = None

    def run(self, body):
        return tvm_ffi.structural_mutate(body, [(object, self._on_node)])

    def visit(self, node):
        """Rewrite a child of the node being edited or descended (its sites keep being numbered)."""
        return self._mutator.mutate(node)

    def _on_node(self, node, mutator):
        self._mutator = mutator
        for sub in self.sites_of(node, self):
            self.found.append((node, sub))
            if self.chosen(len(self.found) - 1):
                new = self.edit(node, sub, self)
                if new is None:
                    self.gave_up = True
                    return node
                return self._fix_block(node, new)
        if node is None or isinstance(node, (tvm.ir.Var, tvm.ir.Type, tvm.ir.Op, str)):
            return node
        return self._fix_block(node, self.descend(node))

    def descend(self, node):
        """Rewrite the body parts of `node` only: never loop bounds, bindings, domains, regions or buffers."""
        if isinstance(node, s_tir.SBlockRealize):
            block = self.visit(node.block)
            return node if block.same_as(node.block) else realize_with(node, block)
        if isinstance(node, s_tir.SBlock):
            self.scope.append([iv.var for iv in node.iter_vars])
            body, init = self.visit(node.body), None if node.init is None else self.visit(node.init)
            self.scope.pop()
            same = body.same_as(node.body) and (init is None or init.same_as(node.init))
            return node if same else block_with(node, body=body, init=init)
        if isinstance(node, tirx.For):
            self.scope[-1].append(node.loop_var)
            self.loops.append(node)
            body = self.visit(node.body)
            self.loops.pop()
            self.scope[-1].pop()
            return node if body.same_as(node.body) else for_with(node, body=body)
        if isinstance(node, tirx.BufferStore):
            # Store indices stay: a changed one writes out of bounds (heap corruption, seen as malloc aborts) or
            # onto another iteration's element, which is our bug rather than TVM's.
            value = self.visit(node.value)
            return node if value.same_as(node.value) else tirx.BufferStore(node.buffer, value, node.indices, node.span)
        if isinstance(node, tirx.Bind):  # its var is a definition, not an expression to mutate
            value = self.visit(node.value)
            return node if value.same_as(node.value) else tirx.Bind(node.var, value, node.span)
        if isinstance(node, tirx.Let):
            value, body = self.visit(node.value), self.visit(node.body)
            same = value.same_as(node.value) and body.same_as(node.body)
            return node if same else tirx.Let(node.var, value, body, node.span)
        return self._mutator.default_mutate(node)

    def _fix_block(self, old, new):
        if not isinstance(new, s_tir.SBlock) or new.same_as(old) or old.same_as(self.root):
            return new  # the root block declares no regions, by convention
        try:
            reads, writes = s_tir.analysis.get_sblock_read_write_region(new, {b: b for b in self.buffers})
        except (RuntimeError, ValueError, TypeError) as error:
            # TVM's region analysis gives up on some edits (seen: perturb_constant made a loop start at INT32_MIN,
            # and the analysis negated it: "Literal value 2147483648 exceeds range of int32"); the mutant has no
            # regions to declare, so the mutator gives up, as an edit that cannot rewrite its site does.
            if not is_tvm_error(error):
                raise
            self.gave_up = True
            return new
        return block_with(new, reads=reads, writes=writes)


def inventory(func):
    """(buffers, block names, constant loop extents, constant divisors) of a function."""
    buffers = [p for p in func.params if tirx.is_buffer_var(p)]
    names, extents, divisors = [], [], []

    def on_block(block):
        names.append(block.name_hint)
        buffers.extend(block.alloc_buffers)
        buffers.extend(match.buffer for match in block.match_buffers)

    def on_for(loop):
        if isinstance(loop.extent, tirx.IntImm) and loop.extent.value not in extents:
            extents.append(loop.extent.value)

    def on_division(node):
        if is_literal(node.b):
            divisors.append(node.b)

    tvm_ffi.structural_walk(func.body, [(s_tir.SBlock, on_block), (tirx.For, on_for), (DIVISION_NODES, on_division)])
    return buffers, names, extents, divisors


def prim_funcs(mod):
    return [(gv, f) for gv, f in mod.functions_items() if isinstance(f, tirx.PrimFunc)]


def pick(mod, rng: random.Random, sites_of: SitesOf):
    """(global var, function, site number, (node, sub-site)) of a site drawn uniformly over the module, or None."""
    counted = []
    for gv, func in prim_funcs(mod):
        walker = Walker(func, sites_of)
        walker.run(func.body)
        counted.append((gv, func, walker.found))
    total = sum(len(found) for _, _, found in counted)
    if total == 0:
        return None
    number = rng.randrange(total)
    for gv, func, found in counted:
        if number < len(found):
            return gv, func, number, found[number]
        number -= len(found)
    raise AssertionError("unreachable: the number is below the total")


def replace_function(mod, gv, func, walker: Walker):
    body = walker.run(func.body)
    if walker.gave_up:
        return None
    new_mod = mod.clone()
    new_mod[gv] = func.with_body(body)
    return well_formed_or_none(new_mod)


def mutate_one(mod, rng: random.Random, sites_of: SitesOf, edit: Edit):
    """The shape of most mutators: draw one site uniformly, rewrite it, check the result."""
    picked = pick(mod, rng, sites_of)
    if picked is None:
        return None
    gv, func, number, _ = picked
    return replace_function(mod, gv, func, Walker(func, sites_of, edit, chosen=lambda n: n == number))


# ---------------------------------------------------------------------------------------------------------------
# Node helpers


def block_with(block, **changes):
    fields = dict(iter_vars=block.iter_vars, reads=block.reads, writes=block.writes, name_hint=block.name_hint,
                  body=block.body, init=block.init, alloc_buffers=block.alloc_buffers,
                  match_buffers=block.match_buffers, annotations=block.annotations, span=block.span)
    fields.update(changes)
    return s_tir.SBlock(**fields)


def realize_with(realize, block):
    return s_tir.SBlockRealize(realize.iter_values, realize.predicate, block, realize.span)


def for_with(loop, **changes):
    fields = dict(loop_var=loop.loop_var, min=loop.min, extent=loop.extent, kind=loop.kind, body=loop.body,
                  thread_binding=loop.thread_binding, annotations=loop.annotations, step=loop.step, span=loop.span)
    fields.update(changes)
    return tirx.For(**fields)


def dtype_of(node) -> str | None:
    """The dtype of a scalar primitive expression; None for anything else (buffers, handles, vectors, arrays)."""
    ty = getattr(node, "ty", None)
    if not isinstance(ty, tvm.ir.PrimType) or ty.dtype.lanes != 1:
        return None
    return str(ty.dtype)


def same_class(dtype: str | None) -> tuple:
    """The dtypes a value of `dtype` may be converted to without poison: its own class, itself excluded."""
    family = FLOATS if dtype in FLOATS else INTS if dtype in INTS else ()
    return tuple(d for d in family if d != dtype)


def int_const(dtype, value: int):
    return tirx.IntImm(dtype, value)


def uses(expr, var) -> bool:
    hit = tvm_ffi.structural_walk(expr, [(tvm.ir.Var, lambda v: tvm_ffi.VisitInterrupt(v) if v.same_as(var) else None)])
    return hit is not None


def is_call_to(node, name: str) -> bool:
    return isinstance(node, tvm.ir.Call) and isinstance(node.op, tvm.ir.Op) and node.op.name == name


def call_with_args(call, args):
    return tvm.ir.Call(call.op, args, call.attrs, call.ty_args, call.span, ret_ty=call.ty)


def is_literal(node) -> bool:
    return isinstance(node, (tirx.IntImm, tirx.FloatImm))


def unique(values) -> list:
    """Values in first-seen order, without repeats (-0.0 and 0.0 stay apart: they are different constants)."""
    seen, out = set(), []
    for value in values:
        key = (type(value), value, str(value))
        if key not in seen:
            seen.add(key)
            out.append(value)
    return out


def sequence(stmts: list) -> Any:
    """`stmts` in order as one statement, normalised as TVM's SeqStmt constructor does (where one of them is a
    sequence, it is spliced in and every no-op `T.evaluate(0)` dropped) but never failing on it: the constructor
    rejects a result of one statement or none, which a sequence of no-ops (a statement deleted, then duplicated)
    comes to; that is a lone statement here, or a no-op."""
    if any(isinstance(stmt, tirx.SeqStmt) for stmt in stmts):
        stmts = [inner for stmt in stmts for inner in (stmt.seq if isinstance(stmt, tirx.SeqStmt) else [stmt])
                 if not _is_no_op(inner)]
    return NO_OP if not stmts else stmts[0] if len(stmts) == 1 else tirx.SeqStmt(stmts)


def _is_no_op(stmt: Any) -> bool:
    return isinstance(stmt, tirx.Evaluate) and isinstance(stmt.value, tirx.IntImm) and stmt.value.value == 0
