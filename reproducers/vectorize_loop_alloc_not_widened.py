"""TVM 0.27.0.post1: VectorizeLoop miscompiles a vectorized loop whose body allocates a temporary buffer. Every lane
writes the same single element, so every lane reads back the value of the last lane.

The program is a vectorized loop over the rows, with a serial loop inside it that computes tmp = x + 1 and then
y = tmp * 2 (a producer placed under its consumer's loops, as compute_at does). The lanes do not depend on each
other, so vectorizing is legal.
Expected: y = (x + 1) * 2.
Actual: every row of y holds the last row's result. It happens at every opt_level (0-3). The result is right with
`tirx.disable_vectorize`, and also with s_tir.PlanAndUpdateBufferAllocationLocation disabled (tmp then stays
allocated at the root, outside the loop).
Guilty: tirx.VectorizeLoop. PlanAndUpdateBufferAllocationLocation moves `tmp` into the vectorized loop (legal) and
CompactBufferAllocation shrinks it to one element. After FlattenBuffer the IR is
`for i0 in T.vectorized(4): for i1: tmp = T.alloc_buffer((1,)); tmp[0] = ...; y[...] = tmp[0] * 2`, and
VectorizeLoop turns it into `tmp[T.Broadcast(0, 4)] = <4 lanes>; y[...] = T.Broadcast(tmp[0] * 2, 4)`. The buffer
keeps shape (1,).
Root cause: the vectorizer's visitor for AllocBuffer only visits the body (its source notes "vectorization of
AllocBuffer not yet implemented"), so it never gives a buffer allocated inside the vectorized loop one slot per lane
(the VecAllocAccess rewriter that does this, s[i] -> s[i * lanes + var], is never called).

Found by tzer: joint mode, `tzer fuzz --time 600 --jobs 2 --seed 1001` (the issue-4 code of 2026-11-30)
(generator metaformer; schedule_vectorize vectorized the batch loop of the padding block, change_dtype, then
schedule_compute_at moved the residual add under it: 343 of 686 outputs, all of batch 0, were wrong against the
minimal lowering).

Needs only apache-tvm (and numpy). Exit status: 1 when the bug reproduces, 0 when it does not.
"""

import sys

import numpy as np
import tvm
from tvm.script import ir as I
from tvm.script import tirx as T


@I.ir_module
class Module:
    @T.prim_func(s_tir=True)
    def main(x: T.Buffer((4, 3), "float32"), y: T.Buffer((4, 3), "float32")):
        T.func_attr({"tirx.noalias": True})
        tmp = T.sblock_alloc_buffer((4, 3))
        for i0 in T.vectorized(4):
            for i1 in range(3):
                with T.sblock("tmp"):
                    v0, v1 = T.axis.remap("SS", [i0, i1])
                    tmp[v0, v1] = x[v0, v1] + T.float32(1)
                with T.sblock("y"):
                    v0, v1 = T.axis.remap("SS", [i0, i1])
                    y[v0, v1] = tmp[v0, v1] * T.float32(2)


def main() -> int:
    print(f"TVM {tvm.__version__}, target llvm")
    print("expected: y = (x + 1) * 2")
    executable = tvm.compile(Module, target="llvm")
    x = np.arange(12, dtype="float32").reshape(4, 3)
    out = tvm.runtime.empty((4, 3), "float32", tvm.cpu())
    executable["main"](tvm.runtime.tensor(x), out)
    got, expected = out.numpy(), (x + 1) * 2
    if np.array_equal(got, expected):
        print("does not reproduce: the result matches")
        return 0
    print(f"BUG REPRODUCES: wrong result\n  got      {got.tolist()}\n  expected {expected.tolist()}")
    return 1


if __name__ == "__main__":
    sys.exit(main())
