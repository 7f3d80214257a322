"""TVM 0.27.0.post1: s_tir.Schedule.blockize silently miscompiles a reduction block whose spatial iterator is bound
to an iterator of an enclosing block, as topi's adaptive pooling writes it (`vi_1 = T.axis.spatial((vi, vi + 1), vi)`).

The module below computes row sums y[i] = sum_k x[i, k] with the two-level block nest that te.create_prim_func emits
for topi.nn.adaptive_pool: an outer block "outer" per row, and an inner reduction block "inner" whose spatial iterator
is bound to the outer block's iterator vi. `blockize(k)` (k = the inner reduction loop) is accepted, even with
debug_mask="all", but the new block "inner_o" gets `vi_1_o = T.axis.spatial(1, 0)`: every use of vi_1 now reads and
writes row 0.

Expected: the blockized program computes the same row sums as the original, [3, 12, 21, 30] for x = arange(12)
reshaped to (4, 3). Actual: [3, nan, nan, nan]; every row's reduction re-initialises y[0] and sums x[0, :], and
y[1:] is never written (it keeps the NaN the output was filled with).

Guilty primitive: s_tir.Schedule.blockize (src/s_tir/schedule/primitive/blockize_tensorize.cc, DeriveBlockBinding).
Root cause: the subspace division puts the loop-invariant binding `vi` (an outer block's iterator, not a loop variable)
into the inner mark as a constant IterSumExpr(base=vi) of extent 1 and gives the outer mark the binding 0, and
DeriveBlockBinding drops any inner mark of extent 1 ("skip inner var when extent is 1") without adding its base, so
vi_1 is replaced by an outer iterator bound to 0. (The domain minimum is not what matters: a plain
`T.axis.spatial(4, vi)` binding is miscompiled the same way.)

Found by tzer: while triaging its schedule mutators (schedule_blockize) on adaptive_pool programs; reduced by hand.
Not yet reported by a campaign: the early joint-mode campaigns (seeds 21 and 100) tried schedule_blockize 37
times without reaching this site.

Needs only apache-tvm (and numpy). Exit status: 1 when the bug reproduces, 0 when it does not.
"""

import sys

import numpy as np
import tvm
from tvm import s_tir
from tvm.script import tirx as T


@T.prim_func(s_tir=True)
def row_sums(x: T.Buffer((4, 3), "float32"), y: T.Buffer((4,), "float32")):
    for i in range(4):
        with T.sblock("outer"):
            vi = T.axis.spatial(4, i)
            T.reads(x[vi, 0:3])
            T.writes(y[vi])
            for k in range(3):
                with T.sblock("inner"):
                    vi_1 = T.axis.spatial((vi, vi + 1), vi)   # topi's adaptive pooling binds its window this way
                    vk = T.axis.reduce(3, k)
                    T.reads(x[vi_1, vk])
                    T.writes(y[vi_1])
                    with T.init():
                        y[vi_1] = T.float32(0)
                    y[vi_1] = y[vi_1] + x[vi_1, vk]


def run(mod: tvm.IRModule, x: np.ndarray) -> np.ndarray:
    y = tvm.runtime.tensor(np.full(4, np.nan, dtype="float32"))   # NaN marks elements never written
    tvm.compile(mod, target="llvm")["main"](tvm.runtime.tensor(x), y)
    return y.numpy()


def main() -> int:
    print(f"TVM {tvm.__version__}, target llvm")
    x = np.arange(12, dtype="float32").reshape(4, 3)
    expected = x.sum(axis=1)
    print(f"expected: blockize(k) keeps the row sums {expected}")

    original = run(tvm.IRModule({"main": row_sums}), x)
    print(f"original program:  {original}")
    if not np.array_equal(original, expected):
        print("unexpected: the original program is already wrong; this script does not test that")
        return 0

    sch = s_tir.Schedule(row_sums, debug_mask="all")
    try:
        sch.blockize(sch.get_loops(sch.get_sblock("inner"))[-1])
    except Exception as error:  # a fixed TVM may reject the blockize instead of miscompiling
        last_line = str(error).strip().splitlines()[-1][:200]
        print(f"does not reproduce: blockize raised {type(error).__name__}: {last_line}")
        return 0
    outer_binding = [line.strip() for line in sch.mod.script().splitlines() if "vi_1_o = " in line]
    print(f"blockize(k) gives the new outer block: {outer_binding[0] if outer_binding else '(no vi_1_o)'}")

    blockized = run(sch.mod, x)
    print(f"blockized program: {blockized}")
    if np.array_equal(blockized, expected):
        print("does not reproduce: the blockized program matches the expected result")
        return 0
    print("BUG REPRODUCES: blockize bound the inner iterator to 0; every row reads and writes row 0")
    return 1


if __name__ == "__main__":
    sys.exit(main())
