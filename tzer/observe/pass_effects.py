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
            # Hashing the whole module before and after every pass is most of this feedback's cost; in a flat
            # pipeline the module after one pass is the module before the next, so its hash is kept and reused.
            # (Comparing the module kept from before a pass with the one after it would be cheaper still, but it is
            # wrong: tirx.AnnotateEntryFunc changes the module it was given in place.)
            def __init__(self):
                self.before: list[int] = []
                self.last: tuple[Any, int] | None = None  # the module after the last pass, and its hash

            def run_before_pass(self, mod, info):
                last = self.last
                self.before.append(last[1] if last is not None and last[0].same_as(mod) else
                                   tvm_ffi.structural_hash(mod))

            def run_after_pass(self, mod, info):
                # Never raise in here: an exception inside an instrument callback can take the process down.
                if self.before:
                    after = tvm_ffi.structural_hash(mod)
                    self.last = (mod, after)
                    changed = after != self.before.pop()
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

    def node(n):
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
        (tvm.ir.TensorLoad, load), (tirx.BufferStore, store), ((tirx.Stmt, tvm.ir.Expr), node),
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
