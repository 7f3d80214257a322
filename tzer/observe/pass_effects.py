"""The pass-effect feedback: which passes changed the program, and the program's shape with constants abstracted.

Tzer's coverage stands in for "did this mutant exercise the compiler differently". Until native coverage lands,
two coarse signals do: for each pass, whether it changed the IR (a PassInstrument compares structural hashes), and
the kinds of IR nodes the program holds (node types, loop kinds, cast and buffer dtypes, intrinsic names), with every
constant abstracted away. A hash of the whole IR would not do: every changed constant would be new, and the
scheduler would never move on to pass mutation.
"""

from __future__ import annotations

from typing import Any

from tzer.observe import FeedbackProvider


class PassEffects(FeedbackProvider):
    name = "pass_effects"

    def __init__(self) -> None:
        self._events: list[str] = []

    def instruments(self) -> list[Any]:
        import tvm
        import tvm_ffi

        events = self._events = []

        @tvm.instrument.pass_instrument
        class ChangeObserver:
            def __init__(self):
                self.before: list[int] = []

            def run_before_pass(self, mod, info):
                self.before.append(tvm_ffi.structural_hash(mod))

            def run_after_pass(self, mod, info):
                # Never raise in here: an exception inside an instrument callback can take the process down.
                if self.before:
                    changed = tvm_ffi.structural_hash(mod) != self.before.pop()
                    events.append(f"pass:{info.name}:{'changed' if changed else 'same'}")

        return [ChangeObserver()]

    def features(self, mod: Any) -> tuple[str, ...]:
        return tuple(sorted(set(self._events) | ir_shape(mod)))


def ir_shape(mod: Any) -> set[str]:
    """The kinds of nodes in `mod`, constants abstracted."""
    import tvm
    import tvm_ffi
    from tvm import tirx

    shape: set[str] = set()

    def node(n):  # the catch-all callback sees every value: keep IR nodes only
        if isinstance(n, (tirx.Stmt, tvm.ir.Expr)):
            shape.add(f"ir:{type(n).__name__}")

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
        (tvm.ir.TensorLoad, load), (tirx.BufferStore, store), (object, node),
    ]
    for _, func in mod.functions_items():
        tvm_ffi.structural_walk(func.body, visitors)
    return shape


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
