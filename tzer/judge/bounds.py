"""Bounds judging: whether every buffer access of an S-TIR program is provably in bounds, and the serial-loop twin
of a program that the opt-vs-unopt oracle builds its reference from.

Why: TVM 0.27 checks no access at run time (InstrumentBoundCheckers inserts nothing), so a mutant that reads past a
buffer computes garbage, and a "wrong result" from it would be tzer's mistake, not a TVM bug. `unproven_access`
proves each index in [0, extent) under the facts that hold where the access runs; a mutant with an access it cannot
prove is counted invalid. It is conservative: what it cannot prove counts as unproven. An integer division whose
divisor is not proven nonzero is unproven too: the code traps or yields garbage (seen with swap_binary_op mutants).

Each obligation is tried cheapest first: the analyzer's constant bound (~1 us); exhaustive evaluation over the few
loop variables it depends on, when they span at most _MAX_POINTS points (it correlates a Select's condition with
its value, which adaptive pooling's windows need and the analyzer cannot do); `can_prove` (~0.1-2 ms); last the
analyzer's Z3 fallback under a deterministic resource limit (tens of ms).
"""

from __future__ import annotations

import contextlib
from typing import Any

import tvm
import tvm_ffi
from tvm import s_tir, tirx
from tvm.sym import Analyzer, ConstIntBound, ProofStrength

# Z3's effort per obligation, as its deterministic rlimit: a verdict never depends on the machine's speed.
_Z3_RLIMIT = 100_000
# The analyzer gives up on some mutants with a check failure of its own: InternalError ("Binding of variable w_let
# ... conflicts" after wrap_let) or ValueError (its simplifier builds a literal out of int32's range: "Literal value
# 2147483649 exceeds range of int32"). What it cannot handle counts as unproven, never as a tzer bug.
_ANALYZER_ERRORS = (tvm.error.InternalError, ValueError)
# Exhaustive evaluation is skipped when the loops an obligation depends on may span more points than this.
_MAX_POINTS = 4096
# Loop annotations that make TVM transform a loop whatever its kind (UnrollLoop reads "pragma_auto_unroll_max_step"
# and "pragma_unroll_explicit"): the reference runs every loop plainly.
_FORCING_PREFIXES = ("pragma_",)
_FORCING_WORDS = ("unroll", "vectoriz", "parallel")


def unproven_access(mod: Any) -> str | None:
    """None when every buffer access of every PrimFunc of `mod` is proven in bounds (and every integer divisor
    nonzero), else a one-line description of the first unproven one: function, buffer, indices and the bound the
    analyzer found."""
    for gvar, func in mod.functions_items():
        if isinstance(func, tirx.PrimFunc):
            found = _Prover().check(func)
            if found is not None:
                return f"{gvar.name_hint}: {found}"
    return None


def serialize_loops(mod: Any) -> Any:
    """`mod` with every vectorized, unrolled and parallel loop made serial and the loop annotations that force
    unrolling or vectorizing removed; thread-bound loops stay as they are."""
    serial = mod.clone()  # keeps attributes and global infos; `mod` itself is left alone
    for gvar, func in mod.functions_items():
        if isinstance(func, tirx.PrimFunc):
            serial.update_func(gvar, func.with_body(tvm_ffi.structural_map(func.body, [(tirx.For, _serial_for)])))
    return serial


def _serial_for(loop: Any) -> Any:
    keep_kind = loop.kind in (tirx.ForKind.SERIAL, tirx.ForKind.THREAD_BINDING)
    annotations = {key: value for key, value in loop.annotations.items() if not _forces_transform(key)}
    if keep_kind and len(annotations) == len(loop.annotations):
        return loop
    kind = loop.kind if keep_kind else tirx.ForKind.SERIAL
    binding = loop.thread_binding if kind == tirx.ForKind.THREAD_BINDING else None
    return tirx.For(loop.loop_var, loop.min, loop.extent, kind, loop.body, binding, annotations, loop.step,
                    loop.span)


def _forces_transform(key: str) -> bool:
    return key.startswith(_FORCING_PREFIXES) or any(word in key for word in _FORCING_WORDS)


class _Prover:
    """One PrimFunc's proof. It walks the body with `tvm_ffi.structural_visit`: the callbacks below add the facts
    of their node to the analyzer, and to `frames` for exhaustive evaluation, for the children they visit; any
    other node gets TVM's default descent, so the accesses under a node type not handled here are still checked,
    under the facts gathered so far. A callback returns a `VisitInterrupt` carrying the first unproven access."""

    def __init__(self):
        self.analyzer = Analyzer()
        if self.analyzer.is_z3_enabled:
            self.analyzer.set_z3_rlimit(_Z3_RLIMIT)
        # ("loop", var, min, extent, step) / ("value", var, expr) / ("cond", expr), outermost first.
        self.frames: list[tuple] = []
        self.evaluator = _Evaluator()

    def check(self, func: Any) -> str | None:
        callbacks = [
            (tirx.For, self._for),
            (s_tir.SBlockRealize, self._realize),
            (s_tir.SBlock, self._block),
            (tirx.IfThenElse, self._if_stmt),
            (tirx.SeqStmt, self._seq),
            (tirx.Bind, self._bind),
            (tirx.Let, self._let),
            (tvm.ir.Call, self._call),
            (tvm.ir.TensorLoad, self._load),
            (tirx.BufferStore, self._store),
            (tvm.ir.TensorRegion, self._region),
            ((tirx.Div, tirx.Mod, tirx.FloorDiv, tirx.FloorMod), self._division),
        ]
        interrupt = tvm_ffi.structural_visit(func.body, callbacks)
        return None if interrupt is None else interrupt.value

    # -- facts ---------------------------------------------------------------------------------------------------

    def _for(self, loop, visitor):
        found = _visit_all(visitor, [loop.min, loop.extent, loop.step])
        if found is not None:
            return found
        if loop.step is not None and not self._prove(loop.step > 0):
            # A loop that may step down has no range to bind; its variable stays unknown and its accesses unproven.
            return visitor.visit(loop.body)
        var = loop.loop_var
        self._bind_fact(var, tvm.ir.Range.from_min_extent(loop.min, loop.extent))
        # The range is not also entered as a literal constraint: with a symbolic extent (adaptive pooling) that
        # made every later bind cost milliseconds, and exhaustive evaluation proves what it would.
        return self._scoped(visitor, [loop.body], [("loop", var, loop.min, loop.extent, loop.step)], None)

    def _realize(self, realize, visitor):
        found = _visit_all(visitor, list(realize.iter_values) + [realize.predicate])
        if found is not None:
            return found
        block = realize.block
        depth = len(self.frames)
        try:
            for iter_var, value in zip(block.iter_vars, realize.iter_values):
                self._bind_fact(iter_var.var, value)
                self.frames.append(("value", iter_var.var, value))
            return self._scoped(visitor, [block], _conditions(realize.predicate), realize.predicate,
                                check=lambda: self._domains(block, realize.iter_values))
        finally:
            del self.frames[depth:]

    def _domains(self, block, values):
        """Lowering replaces each block var by its value, so the value is what runs; a value outside the declared
        domain breaks S-TIR's contract (TVM sizes buffers and regions by the domain), so it is unproven."""
        for iter_var, value in zip(block.iter_vars, values):
            dom = iter_var.dom
            if not self._in_range(value, dom.min, dom.extent):
                return _interrupt(f"block {block.name_hint}: {iter_var.var.name} = {value} not proven in its domain "
                                  f"[{dom.min}, {dom.min + dom.extent}), bound {self._bound_text(value)}")
        return None

    def _block(self, block, visitor):
        # reads/writes are declared regions, not accesses (TE's padding declares x[v - 2]); annotations never run.
        for match in block.match_buffers:
            found = self._region(match.source, visitor)
            if found is not None:
                return found
        return _visit_all(visitor, [block.init, block.body])

    def _if_stmt(self, stmt, visitor):
        return self._guarded(visitor, stmt.condition, stmt.then_case, stmt.else_case)

    def _call(self, call, visitor):
        if not _is_if_then_else(call):
            return visitor.default_visit(call)
        condition, then_value, else_value = call.args
        return self._guarded(visitor, condition, then_value, else_value)

    def _guarded(self, visitor, condition, then_node, else_node):
        found = visitor.visit(condition)
        if found is None:
            found = self._scoped(visitor, [then_node], _conditions(condition), condition)
        if found is not None or else_node is None:
            return found
        negated = tirx.Not(condition)
        return self._scoped(visitor, [else_node], _conditions(negated), negated)

    def _seq(self, seq, visitor):
        # A Bind holds for the statements after it in its SeqStmt and no further.
        depth = len(self.frames)
        try:
            return _visit_all(visitor, list(seq.seq))
        finally:
            del self.frames[depth:]

    def _bind(self, stmt, visitor):
        found = visitor.visit(stmt.value)
        if found is None:
            self._bind_fact(stmt.var, stmt.value)
            self.frames.append(("value", stmt.var, stmt.value))
        return found

    def _let(self, let, visitor):
        found = visitor.visit(let.value)
        if found is not None:
            return found
        self._bind_fact(let.var, let.value)
        return self._scoped(visitor, [let.body], [("value", let.var, let.value)], None)

    def _bind_fact(self, var, value) -> None:
        """Give the analyzer `var`'s value or range, unless it refuses; then it goes on without that fact.

        Seen in the ablation's interleaved row: binding a value with a Let inside made the analyzer bind that Let's
        variable a second time ("Binding of variable w_let as ir.Range(...) conflicts with previous binding"),
        which stopped the campaign as a tzer bug. TVM's own passes fail the same way on such programs
        (s_tir.CompactBufferAllocation, tirx.LowerIntrin: a finding an audit judged real), so the mutant must not be
        dropped here. Every binding given is true of the program, so an analyzer that took part of one before it
        refused knows only true facts; what it does not know stays unproven, and exhaustive evaluation still has the
        binding in its frames."""
        try:
            self.analyzer.bind(var, value, allow_override=True)
        except _ANALYZER_ERRORS:
            pass

    def _scoped(self, visitor, nodes, frames, constraint, check=None):
        """Visit `nodes` with `frames` pushed and `constraint` (None: none) held by the analyzer; `check` first."""
        depth = len(self.frames)
        self.frames.extend(frames)
        try:
            with contextlib.ExitStack() as scope:
                if constraint is not None and _constant(constraint) != 1:
                    try:
                        scope.enter_context(self.analyzer.constraint_scope(constraint))
                    except _ANALYZER_ERRORS:
                        # The analyzer refuses some constraints (a Let in one rebinds its variable: "Binding of
                        # variable w_let ... conflicts"); without it fewer accesses are proven: conservative.
                        pass
                return (check and check()) or _visit_all(visitor, nodes)
        finally:
            del self.frames[depth:]  # with any Bind frame left by a body that is a lone Bind

    # -- obligations ---------------------------------------------------------------------------------------------

    def _load(self, load, visitor):
        found = _visit_all(visitor, list(load.indices))
        return found if found is not None else self._access(load.source, load.indices)

    def _store(self, store, visitor):
        found = _visit_all(visitor, [store.value] + list(store.indices))
        return found if found is not None else self._access(store.buffer, store.indices)

    def _region(self, region, visitor):
        """A region met outside a block's reads/writes (a match_buffer source, an intrinsic's operand) is accessed
        whole: its first and its last element must be in bounds."""
        found = _visit_all(visitor, [part for r in region.region for part in (r.min, r.extent)])
        if found is not None:
            return found
        found = self._access(region.source, [r.min for r in region.region])
        return found if found is not None else self._access(region.source,
                                                            [r.min + r.extent - 1 for r in region.region])

    def _division(self, division, visitor):
        """A division by zero has no value: an integer one traps or yields garbage, and TVM's simplifier rejects a
        float divisor it folds to zero, by design. So a divisor must be proven nonzero, wherever the division is,
        unless it is a float read from data (IEEE gives inf or NaN, the same in every build). Seen: swap_binary_op
        made `min(2, 3 - v) % 1` a divisor; wrap_select made one `Select(c, n, 0)` with c always false."""
        found = _visit_all(visitor, [division.a, division.b])
        if found is not None:
            return found
        divisor = division.b.value if isinstance(division.b, tirx.Broadcast) else division.b
        if self._divisor_nonzero(divisor):
            return None
        return _interrupt(f"{division}: divisor {divisor} not proven nonzero")

    def _divisor_nonzero(self, divisor) -> bool:
        """Integers: proven nonzero. Floats, as generated programs build them (an average's window size):
        a nonzero literal, a cast of a nonzero value, a product of nonzero factors, or data."""
        if _dtype(divisor).startswith(("int", "uint")):
            return self._nonzero(divisor)
        if isinstance(divisor, tvm.ir.TensorLoad):
            return True
        if isinstance(divisor, tirx.FloatImm):
            return divisor.value != 0
        if isinstance(divisor, tirx.Cast):
            return self._divisor_nonzero(divisor.value)
        if isinstance(divisor, tirx.Mul):
            return self._divisor_nonzero(divisor.a) and self._divisor_nonzero(divisor.b)
        return False

    def _nonzero(self, value) -> bool:
        if value.ty.dtype.lanes != 1:
            return False
        bound = self._bound(value)
        if bound is not None and (bound.min_value > 0 or bound.max_value < 0):
            return True
        return self._prove(tirx.NE(value, tirx.const(0, str(value.ty.dtype))))

    def _access(self, buffer, indices):
        if not tirx.is_buffer_var(buffer):
            return _interrupt(f"access to {buffer}, which is not a buffer")
        shape = list(buffer.ty.shape)
        if len(shape) != len(indices):
            return _interrupt(f"{buffer.name}: {len(indices)} indices for a {len(shape)}-d buffer")
        for dim, (index, extent) in enumerate(zip(indices, shape)):
            if not self._index_in_bounds(index, extent):
                shown = ", ".join(str(i) for i in indices)
                return _interrupt(f"{buffer.name}[{shown}]: index {dim} ({index}) not proven in [0, {extent}), "
                                  f"bound {self._bound_text(index)}")
        return None

    def _index_in_bounds(self, index, extent) -> bool:
        if self._may_overflow(index):
            return False  # the machine's arithmetic wraps where the analyzer's does not
        if isinstance(index, tirx.Ramp):
            last = index.base + index.stride * (index.lanes - 1)
            return self._in_range(index.base, 0, extent) and self._in_range(last, 0, extent)
        if isinstance(index, tirx.Broadcast):
            return self._in_range(index.value, 0, extent)
        return self._in_range(index, 0, extent)

    def _may_overflow(self, expr) -> bool:
        """Whether a sum, difference or product inside `expr` may leave its integer type's range (seen:
        perturb_constant made `v - -2147483648` an index). A division cannot, so `v // 2147483647` is fine."""
        parts = []
        tvm_ffi.structural_walk(expr, [((tirx.Add, tirx.Sub, tirx.Mul), parts.append)])
        for part in parts:
            dtype = _dtype(part)
            if not dtype.startswith(("int", "uint")) or part.ty.dtype.lanes != 1:
                continue
            bits = int(dtype.lstrip("uint") or 32)
            low, high = (0, 2**bits - 1) if dtype.startswith("uint") else (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1)
            bound = self._bound(part)
            if bound is None or bound.min_value < low or bound.max_value > high:
                return True
        return False

    def _in_range(self, value, low, extent) -> bool:
        """low <= value < low + extent; a vector (lanes > 1) that is neither Ramp nor Broadcast is not proven."""
        if value.ty.dtype.lanes != 1:
            return False
        if value.same_as(low) and (_constant(extent) or 0) >= 1:
            return True  # a block var remapped to its domain's own start (v = T.axis.spatial((v0, v0 + 1), v0))
        bound = self._bound(value)
        low_ok = bound is not None and _constant(low) is not None and bound.min_value >= _constant(low)
        end = low + extent
        end_ok = bound is not None and _constant(end) is not None and bound.max_value < _constant(end)
        return (low_ok or self._prove(value >= low)) and (end_ok or self._prove(value < end))

    def _prove(self, fact) -> bool:
        verdict = self.evaluator.verdict(self.frames, fact, self._may_span)
        if verdict is not None:
            return verdict
        try:
            if self.analyzer.can_prove(fact):
                return True
            return self.analyzer.is_z3_enabled and self.analyzer.can_prove(fact, ProofStrength.SYMBOLIC_BOUND)
        except _ANALYZER_ERRORS:
            return False

    def _bound(self, value) -> ConstIntBound | None:
        """The analyzer's constant bound of `value`; None when it gives up (then nothing is known)."""
        try:
            return self.analyzer.const_int_bound(value)
        except _ANALYZER_ERRORS:
            return None

    def _may_span(self, extent) -> int:
        bound = self._bound(extent)
        return bound.max_value if bound is not None else ConstIntBound.POS_INF

    def _bound_text(self, value) -> str:
        if value.ty.dtype.lanes != 1:
            return "unknown (vector)"
        bound = self._bound(value)
        return f"[{_show(bound.min_value)}, {_show(bound.max_value)}]" if bound is not None else "unknown"


class _Unsupported(Exception):
    """The fact cannot be evaluated exhaustively (an unknown variable or node, too many points)."""


class _Evaluator:
    """Exhaustive evaluation of a fact over the loop points it depends on. Expressions become Python functions of
    an environment (variable handle -> int), compiled once per expression and kept for the whole PrimFunc."""

    def __init__(self):
        self._functions: dict[int, tuple[Any, Any]] = {}
        self._vars: dict[int, tuple[Any, frozenset[int]]] = {}

    def verdict(self, frames, fact, may_span) -> bool | None:
        """True: `fact` holds at every point; False: it fails at a point no dropped condition excludes (a
        counterexample); None: not evaluated (unsupported, or more than _MAX_POINTS points may be spanned)."""
        try:
            relevant, exact = self._relevant(frames, fact)
            if _product(may_span(frame[3]) for frame in relevant if frame[0] == "loop") > _MAX_POINTS:
                return None
            test = self._function(fact)
            holds = all(test(env) for env in self._points(relevant))
        except (_Unsupported, ArithmeticError, ValueError):  # ArithmeticError: a zero divisor; ValueError: step 0
            return None
        return True if holds else (False if exact else None)

    def _relevant(self, frames, fact):
        """The frames `fact` depends on, transitively through values and ranges, outermost first, and the
        conditions on their variables; and whether no condition was dropped (dropping one only adds points)."""
        wanted = set(self._var_ids(fact))
        chosen = [False] * len(frames)
        for at in range(len(frames) - 1, -1, -1):
            frame = frames[at]
            if frame[0] != "cond" and frame[1].__chandle__() in wanted:
                chosen[at] = True
                for part in frame[2:]:
                    wanted |= self._var_ids(part)
        defined = {frame[1].__chandle__() for frame, keep in zip(frames, chosen) if keep}
        if not wanted <= defined:
            raise _Unsupported("a variable with no known range")
        exact = True
        for at, frame in enumerate(frames):
            if frame[0] == "cond":
                chosen[at] = self._var_ids(frame[1]) <= defined
                exact = exact and chosen[at]
        return [frame for frame, keep in zip(frames, chosen) if keep], exact

    def _points(self, frames):
        envs: list[dict[int, int]] = [{}]
        for frame in frames:
            if frame[0] == "cond":
                test = self._function(frame[1])
                envs = [env for env in envs if test(env)]
            elif frame[0] == "value":
                key, value = frame[1].__chandle__(), self._function(frame[2])
                for env in envs:  # each env is a fresh dict of its own (made by _expand_loop): no sharing
                    env[key] = value(env)
            else:
                envs = self._expand_loop(envs, *frame[1:])
        return envs

    def _expand_loop(self, envs, var, low, extent, step):
        low_of, extent_of = self._function(low), self._function(extent)
        step_of = self._function(step) if step is not None else (lambda env: 1)
        key, grown = var.__chandle__(), []
        for env in envs:
            start = low_of(env)
            grown.extend({**env, key: i} for i in range(start, start + extent_of(env), step_of(env)))
            if len(grown) > _MAX_POINTS:  # a symbolic extent may exceed its estimate
                raise _Unsupported("too many points")
        return grown

    def _var_ids(self, expr) -> frozenset[int]:
        if expr is None:
            return frozenset()
        key = expr.__chandle__()
        if key not in self._vars:
            found: set[int] = set()
            tvm_ffi.structural_walk(expr, [(tvm.ir.Var, lambda var: found.add(var.__chandle__()))])
            self._vars[key] = (expr, frozenset(found))  # the expression is kept so that its handle stays unique
        return self._vars[key][1]

    def _function(self, expr):
        key = expr.__chandle__()
        if key not in self._functions:
            source = _python(expr)  # built from the known integer nodes below only
            self._functions[key] = (expr, eval(f"lambda e: {source}", {"_tdiv": _tdiv, "_tmod": _tmod}))
        return self._functions[key][1]


_BINARY = {"Add": "+", "Sub": "-", "Mul": "*", "FloorDiv": "//", "FloorMod": "%", "EQ": "==", "NE": "!=",
           "LT": "<", "LE": "<=", "GT": ">", "GE": ">=", "And": "and", "Or": "or"}
_CALLS = {"Min": "min", "Max": "max", "Div": "_tdiv", "Mod": "_tmod"}


def _python(expr) -> str:
    """Python source computing the scalar integer expression `expr` as TIR defines it, reading variables from `e`."""
    kind, dtype = type(expr).__name__, _dtype(expr)
    if not dtype.startswith(("int", "uint", "bool")) or "x" in dtype:
        raise _Unsupported(f"{dtype} expression")
    if isinstance(expr, tirx.IntImm):
        return str(int(expr.value))
    if isinstance(expr, tvm.ir.Var):
        return f"e[{expr.__chandle__()}]"
    if kind in _BINARY:
        return f"({_python(expr.a)} {_BINARY[kind]} {_python(expr.b)})"
    if kind in _CALLS:
        return f"{_CALLS[kind]}({_python(expr.a)}, {_python(expr.b)})"
    if isinstance(expr, tirx.Not):
        return f"(not {_python(expr.a)})"
    if isinstance(expr, tirx.Select):
        return f"({_python(expr.true_value)} if {_python(expr.condition)} else {_python(expr.false_value)})"
    if _is_if_then_else(expr):
        condition, then_value, else_value = expr.args
        return f"({_python(then_value)} if {_python(condition)} else {_python(else_value)})"
    if isinstance(expr, tirx.Cast):
        return _python_cast(_python(expr.value), dtype)
    raise _Unsupported(kind)


def _python_cast(source: str, dtype: str) -> str:
    if dtype == "bool":
        return f"({source} != 0)"
    bits = int(dtype.lstrip("uint") or 32)
    if dtype.startswith("uint"):
        return f"({source} % {1 << bits})"
    return f"(({source} + {1 << (bits - 1)}) % {1 << bits} - {1 << (bits - 1)})"  # two's complement wrap


def _dtype(expr) -> str:
    try:
        return str(expr.ty.dtype)
    except AttributeError as error:  # not a primitive-typed expression (a buffer, a tuple...)
        raise _Unsupported(type(expr).__name__) from error


def _tdiv(a: int, b: int) -> int:
    quotient = abs(a) // abs(b)
    return quotient if (a >= 0) == (b > 0) else -quotient


def _tmod(a: int, b: int) -> int:
    return a - b * _tdiv(a, b)


def _product(values) -> int:
    total = 1
    for value in values:
        total *= max(value, 0)
    return total


def _conditions(condition) -> list[tuple]:
    """One "cond" frame per conjunct: exhaustive evaluation keeps each conjunct whose variables it enumerates, so
    `2 <= v and v < 7 and 2 <= w and w < 13` still bounds w when v is not enumerated."""
    if isinstance(condition, tirx.And):
        return _conditions(condition.a) + _conditions(condition.b)
    return [("cond", condition)]


def _is_if_then_else(expr) -> bool:
    # A Call's op may also be a GlobalVar (a call to another function), which has no `name`.
    return isinstance(expr, tvm.ir.Call) and isinstance(expr.op, tvm.ir.Op) and expr.op.name == "prim.if_then_else"


def _visit_all(visitor, nodes):
    for node in nodes:
        if node is None:
            continue
        found = visitor.visit(node)
        if found is not None:
            return found
    return None


def _interrupt(message: str):
    return tvm_ffi.VisitInterrupt(message)


def _constant(value) -> int | None:
    if isinstance(value, int):
        return value
    return int(value.value) if isinstance(value, tirx.IntImm) else None


def _show(value: int) -> str:
    if value >= ConstIntBound.POS_INF:
        return "+inf"
    return "-inf" if value <= ConstIntBound.NEG_INF else str(value)
