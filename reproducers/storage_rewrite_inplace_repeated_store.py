"""TVM 0.27.0.post1: StorageRewrite miscompiles a block that stores the same element twice: it reuses the dead
input buffer as the output buffer ("in-place"), so the second store reads the value the first store just wrote.

The program is valid and deterministic. B = A + 1; then block "D" writes D[i] = B[i] * 2 twice (the second store is
redundant but harmless); C = D. Expected C = (A + 1) * 2. Actual under the default pipeline: C = (A + 1) * 4,
because StorageRewrite gives D the storage of B (B is dead after block "D"), which turns the block into
    B[i] = B[i] * 2; B[i] = B[i] * 2
It is right with PassContext config {"tirx.disable_storage_rewrite": True} and with a minimal lowering (no
StorageRewrite).

Guilty pass: tirx.StorageRewrite (in-place reuse, InplaceOpVerifier in storage_rewrite.cc).
Root cause: the in-place check accepts any `dst[idx] = f(src[idx])` statement and never checks that each element of
dst is written only once, so a repeated store reads the value overwritten by the earlier one (a comment in the TVM
source names this exact `A[0] = B[0] + 1` twice case as a known gap and leaves it to front ends not to emit it; the
TVMScript parser and the s_tir verifier accept such programs anyway, and the pipeline then silently computes wrong
results).

Found by tzer: joint mode, `tzer fuzz --time 300 --jobs 2 --seed 100` (the issue-4 code of 2026-11-30), two findings
(metaformer, duplicated T_subtract store, default pipeline) and 6 (ponet, duplicated adaptive_pool_avg store,
explicit default-order pipeline); both come from the duplicate_statement mutator and have this one cause.

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
    def main(A: T.Buffer((8,), "float32"), C: T.Buffer((8,), "float32")):
        T.func_attr({"tirx.noalias": True})
        B = T.sblock_alloc_buffer((8,))
        D = T.sblock_alloc_buffer((8,))
        for i in range(8):
            with T.sblock("B"):
                vi = T.axis.spatial(8, i)
                B[vi] = A[vi] + T.float32(1)
        for i in range(8):
            with T.sblock("D"):
                vi = T.axis.spatial(8, i)
                D[vi] = B[vi] * T.float32(2)
                D[vi] = B[vi] * T.float32(2)  # the same store again: idempotent
        for i in range(8):
            with T.sblock("C"):
                vi = T.axis.spatial(8, i)
                C[vi] = D[vi]


def run(config: dict) -> np.ndarray:
    a = np.arange(8, dtype="float32")
    with tvm.transform.PassContext(opt_level=3, config=config):
        executable = tvm.compile(Module, target="llvm")
    out = tvm.runtime.empty((8,), "float32", tvm.cpu())
    executable["main"](tvm.runtime.tensor(a), out)
    return out.numpy()


def main() -> int:
    print(f"TVM {tvm.__version__}, target llvm")
    expected = (np.arange(8, dtype="float32") + 1) * 2
    print(f"expected:                          {expected}")
    without = run({"tirx.disable_storage_rewrite": True})
    print(f"default pipeline, no StorageRewrite: {without}")
    got = run({})
    print(f"default pipeline:                  {got}")
    if not np.array_equal(without, expected):
        print("unexpected: wrong even without StorageRewrite")
        return 1
    if np.array_equal(got, expected):
        print("does not reproduce: the default pipeline computes the expected result")
        return 0
    print("BUG REPRODUCES: StorageRewrite made D share B's storage; the repeated store reads its own output")
    return 1


if __name__ == "__main__":
    sys.exit(main())
