"""The pass-effect feedback: which passes changed the program, and the program's shape with constants abstracted.

Tzer's coverage stands in for "did this mutant exercise the compiler differently". Until native coverage lands,
two coarse signals do: for each pass, whether it changed the IR (a pass observer compares structural hashes), and
the kinds of IR nodes the program holds (node types, loop kinds, cast and buffer dtypes, intrinsic names), with every
constant abstracted away. A hash of the whole IR would not do: every changed constant would be new, and the
scheduler would never move on to pass mutation.
"""

from __future__ import annotations

import functools
from typing import Any

from tzer.execute.executor import PassObserver
from tzer.observe import FeedbackProvider


class PassEffects(FeedbackProvider):
    name = "pass_effects"

    def __init__(self) -> None:
        self._events: list[str] = []

    def observers(self) -> list[PassObserver]:
        self._events = []
        return [ChangeObserver(self._events)]

    def features(self, mod: Any) -> tuple[str, ...]:
        return tuple(sorted(set(self._events) | ir_shape(mod)))


class ChangeObserver(PassObserver):
    """Records, for each pass, whether it changed the module.

    Hashing the whole module before and after every pass was most of this feedback's cost (4% of a generate
    campaign's time), yet most passes return the module's functions as copies whose fields are the very objects they
    had (TVM's copy-on-write), or the functions themselves: those are unchanged without a look inside. The others
    are compared by structural equality, which stops at the first difference (a per-function hash, kept for the next
    pass, walked every new function whole: 2.3% of a generate campaign's time, against 0.8% now). Functions are
    compared as they were when the pass began: tirx.AnnotateEntryFunc changes its module in place."""

    def __init__(self, events: list[str]):
        self.events = events
        self.before: list[tuple[Any, dict[str, Any]]] = []
        self.last: tuple[Any, tuple[Any, dict[str, Any]]] | None = None  # the module a pass returned, its snapshot

    def run_before_pass(self, mod: Any, info: Any) -> None:
        # A pass usually gets the module the pass before it returned, untouched since: its snapshot serves again.
        reuse = self.last is not None and self.last[0].same_as(mod)
        self.before.append(self.last[1] if reuse else _snapshot(mod))

    def run_after_pass(self, mod: Any, info: Any) -> None:
        if self.before:
            after = _snapshot(mod)
            self.last = (mod, after)
            changed = self._changed(self.before.pop(), after)
            self.events.append(f"pass:{info.name}:{'changed' if changed else 'same'}")

    def _changed(self, before: tuple[Any, dict[str, Any]], after: tuple[Any, dict[str, Any]]) -> bool:
        import tvm_ffi

        (module_before, functions_before), (module_after, functions_after) = before, after
        if functions_before.keys() != functions_after.keys():
            return True
        if any(not _same_object(x, y) and not tvm_ffi.structural_equal(x, y)
               for x, y in zip(module_before, module_after)):
            return True
        return any(not _same_function(functions_before[name], after) and
                   not tvm_ffi.structural_equal(functions_before[name], after)
                   for name, after in functions_after.items())


def _snapshot(mod: Any) -> tuple[Any, dict[str, Any]]:
    """What a pass may change in a module: its attributes and global infos, and its functions by name."""
    # mod.functions rather than functions_items(), which sorts by name: this runs after every pass of every case.
    return (mod.attrs, mod.global_infos), {gvar.name_hint: function for gvar, function in mod.functions.items()}


def _same_function(a: Any, b: Any) -> bool:
    """True when `b` is `a`, or a copy of it whose fields (those structural equality reads) are the objects `a` has:
    then no pass changed it."""
    if a.same_as(b):
        return True
    fields = _structural_fields(type(a))
    return type(a) is type(b) and bool(fields) and all(_same_object(getattr(a, f), getattr(b, f)) for f in fields)


@functools.cache
def _structural_fields(cls: type) -> tuple[str, ...]:
    """The fields of an FFI object type, its ancestors' included, that structural equality compares (not the
    span), read from the type's reflection; () where the FFI does not describe the type."""
    names, info = [], getattr(cls, "__tvm_ffi_type_info__", None)
    while info is not None:
        names += [field.name for field in info.fields if getattr(field, "c_structural_eq", None) != "ignore"]
        info = info.parent_type_info
    return tuple(names)


def _same_object(a: Any, b: Any) -> bool:
    return a is b or (a is not None and b is not None and a.same_as(b))


def ir_shape(mod: Any) -> set[str]:
    """The kinds of nodes in `mod`, constants abstracted."""
    import tvm
    import tvm_ffi
    from tvm import tirx

    shape: set[str] = set()
    kinds: set[type] = set()  # called for every node: the names are made once per kind, below

    def loop(n):
        shape.add(f"ir:For:{n.kind}")

    def cast(n):
        shape.add(f"ir:Cast:{n.value.ty}->{n.ty}")

    def call(n):
        shape.add(f"ir:Call:{getattr(n.op, 'name', 'function')}")

    def load(n):  # in 0.27 a buffer load is an ir.TensorLoad whose source is the buffer's Var
        shape.add(f"ir:Load:{n.ty}:{len(n.indices)}d")

    def store(n):
        shape.add(f"ir:Store:{n.value.ty}:{len(n.indices)}d")

    visitors = [
        ((tirx.For,), loop), ((tirx.Cast,), cast), ((tvm.ir.Call,), call),
        (tvm.ir.TensorLoad, load), (tirx.BufferStore, store), ((tirx.Stmt, tvm.ir.Expr), lambda n: kinds.add(type(n))),
    ]
    for func in mod.functions.values():
        tvm_ffi.structural_walk(func.body, visitors)
    return shape | {f"ir:{kind.__name__}" for kind in kinds}


def compute_dtypes(mod: Any) -> frozenset[str]:
    """The dtypes `mod` stores and casts to: what its arithmetic rounds in."""
    import tvm_ffi
    from tvm import tirx

    dtypes: set[str] = set()
    tvm_ffi.structural_walk(mod["main"].body, [
        (tirx.Cast, lambda n: dtypes.add(str(n.ty.dtype))),
        (tirx.BufferStore, lambda n: dtypes.add(str(n.value.ty.dtype))),
    ])
    return frozenset(dtypes)
