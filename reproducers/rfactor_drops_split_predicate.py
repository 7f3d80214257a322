"""TVM 0.27.0.post1: Schedule.rfactor drops the block predicate of the reduction block from the write-back block, so
after a non-divisible split of a spatial loop the write-back block writes (and reads) out of bounds.

The program is a row-wise max: y[i] = max_k x[i, k], x of shape (2, 512), y of shape (2,). The schedule splits the
spatial loop i (extent 2) with factors [2, 2]: a legal split, TVM adds the predicate `T.where(i_0 * 2 + i_1 < 2)`.
Then rfactor(k, 0). The rfactor block "y_rf" keeps the predicate, but the new write-back block "y" is created
without it: its binding vi = i_0 * 2 + i_1 runs over 0..3 although vi's domain is [0, 2).
Expected: the compiled function writes only y[0], y[1] (the memory after y is untouched).
Actual: it also stores to y[2] and y[3] (init to INT_MIN, then max with y_rf read out of bounds); the reproducer
passes y as a 2-element view of a 4-element numpy array and sees the two guard elements clobbered. The lowered IR
shows `for i_0, i_1, k in T.grid(2, 2, 512): ... y[i_0 * 2 + i_1] = T.max(y[i_0 * 2 + i_1], y_rf[k * 2 + i_0 * 2 + i_1])`
with no guard. (The reduction is 512 long so that y_rf is a heap workspace: with a small stack-allocated y_rf LLVM
sees the out-of-bounds read as undefined behaviour and drops the stray stores, hiding the symptom; the bad bindings,
which the script also checks by concrete evaluation, are there either way.) Without rfactor (split only) the result is right and nothing outside y is written.
Guilty: schedule primitive rfactor (s_tir/schedule/primitive/reduction.cc).
Root cause: rfactor builds the write-back block realize with a trivially true predicate instead of carrying over the
original block's predicate (the loops it re-creates are the same split loops, so the guard is still needed).

Found by tzer: joint mode, `tzer fuzz --time 600 --jobs 2 --seed 1002` (the issue-4 code of 2026-11-30)
(generator global_pool max over (2, 1, 28) int32; schedule_split of the batch loop into [2, 1, 2], then
schedule_rfactor; tzer's bound checker flagged "v_ax0 = ax0_0 * 2 + ax0_1 * 2 + ax0_2 not proven in its domain").

Needs only apache-tvm (and numpy). Exit status: 1 when the bug reproduces, 0 when it does not.
"""

import sys

import numpy as np
import tvm
from tvm.sym import Analyzer
from tvm import s_tir
from tvm.script import ir as I
from tvm.script import tirx as T


@I.ir_module
class Module:
    @T.prim_func(s_tir=True)
    def main(x: T.Buffer((2, 512), "int32"), y: T.Buffer((2,), "int32")):
        T.func_attr({"tirx.noalias": True})
        for i, k in T.grid(2, 512):
            with T.sblock("y"):
                vi, vk = T.axis.remap("SR", [i, k])
                with T.init():
                    y[vi] = -2147483648
                y[vi] = T.max(y[vi], x[vi, vk])


GUARD = 123456789


def schedule(rfactor: bool) -> tvm.IRModule:
    sch = s_tir.Schedule(Module)
    i, k = sch.get_loops(sch.get_sblock("y"))
    sch.split(i, factors=[2, 2])  # extent 2 -> 2 x 2: adds T.where(i_0 * 2 + i_1 < 2)
    if rfactor:
        sch.rfactor(k, 0)
    return sch.mod


def out_of_domain_bindings(mod: tvm.IRModule) -> list:
    """Concrete evaluation of every block binding at every loop point where the block's predicate holds: the
    (block, loop values, message) for each binding outside its iter var's domain."""
    realizes = []

    def walk(stmt, loops):
        if isinstance(stmt, tvm.tirx.For):
            walk(stmt.body, loops + [stmt])
        elif isinstance(stmt, tvm.tirx.SeqStmt):
            for s in stmt.seq:
                walk(s, loops)
        elif isinstance(stmt, tvm.s_tir.SBlockRealize):
            realizes.append((stmt, loops))
            walk(stmt.block.body, loops)
        elif hasattr(stmt, "body"):
            walk(stmt.body, loops)

    walk(mod["main"].body, [])
    bad = []
    for realize, loops in realizes:
        for vals in np.ndindex(*[int(l.extent) for l in loops]):
            ana = Analyzer()
            for loop, v in zip(loops, vals):
                ana.bind(loop.loop_var, tvm.tirx.const(int(loop.min) + v, "int32"))
            if not bool(ana.simplify(realize.predicate)):
                continue
            for iv, value in zip(realize.block.iter_vars, realize.iter_values):
                v = int(ana.simplify(value))
                lo, hi = int(iv.dom.min), int(iv.dom.min) + int(iv.dom.extent)
                if not lo <= v < hi:
                    bad.append((realize.block.name_hint, vals, f"{iv.var.name} = {v} not in [{lo}, {hi})"))
    return bad


def run(mod: tvm.IRModule, x: np.ndarray) -> np.ndarray:
    executable = tvm.compile(mod, target="llvm")
    raw = np.full(64, GUARD, dtype="int32")
    start = (-raw.ctypes.data % 64) // 4  # DLPack import needs 64-byte alignment
    storage = raw[start:start + 4]  # y is storage[:2]; storage[2:] are guards
    y = tvm.runtime.from_dlpack(storage[:2])
    executable["main"](tvm.runtime.tensor(x), y)
    return storage.copy()


def main() -> int:
    print(f"TVM {tvm.__version__}, target llvm")
    print("expected: y = x.max(axis=1), nothing written after y")
    x = (np.arange(1024, dtype="int32").reshape(2, 512) * 7919) % 1000 - 500
    expected = x.max(axis=1)
    reproduced = False
    for rfactor in (False, True):
        mod = schedule(rfactor)
        bad = out_of_domain_bindings(mod)
        storage = run(mod, x)
        label = "split + rfactor" if rfactor else "split only     "
        print(f"{label}: y = {storage[:2].tolist()}, guards after y = {storage[2:].tolist()}, "
              f"out-of-domain bindings: {len(bad)}" + (f" e.g. {bad[0]}" if bad else ""))
        wrong = not np.array_equal(storage[:2], expected) or (storage[2:] != GUARD).any()
        if rfactor and (bad or wrong):
            reproduced = True
    if reproduced:
        print("BUG REPRODUCES: after rfactor the write-back block lost the split predicate")
        return 1
    print("does not reproduce")
    return 0


if __name__ == "__main__":
    sys.exit(main())
