"""TVM 0.27.0.post1: CompactBufferAllocation crashes ("Literal value 6442450941 exceeds range of int32") on an int32
access t[j // 2147483647, j % 3] with j in [0, 9), although every index the program computes is small.

Expected: the module compiles and computes y[j] = 2 * x[0, j % 3] (j // 2147483647 is always 0). With
s_tir.CompactBufferAllocation disabled it does compile and gives exactly that.
Actual: tvm.compile raises ValueError in s_tir.CompactBufferAllocation. The same error comes from the affine-map
analysis alone, `tvm.sym.detect_iter_map([j // D, j % 3], {j: [0, 9)})`, and it appears as soon as lcm(D, 3) exceeds
2**31 - 1 (D = 2**30 fails, D = 715827882 = 2 * 3 * 119304647 does not, D = 2**30 with j % 2 does not).
Guilty pass: s_tir.CompactBufferAllocation, through the arith iter-map detection behind its region estimate.
Root cause: the iter-map rewriter (arith IterMapRewriter, failing in its FloorMod visitor on `j % 3`) pads the
iterator j to a multiple of every divisor used on it and accumulates their least common multiple as an int32
constant; lcm(2147483647, 3) = 6442450941 overflows the IntImm constructor instead of the analysis giving up on the
map (or computing in 64 bits). Most likely PadDividendToDivisor's `padding_factor = ApproxLeastCommonMultiple(...)`.

Found by tzer: joint mode, `tzer fuzz --time 300 --jobs 2 --seed 100` (the issue-4 code of 2026-11-30)
(generator spp, mutators wrap_if then perturb_constant, which turned the reshape index `v_ax1 // 9` into
`v_ax1 // 2147483647` next to `v_ax1 % 3`).

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
    def main(x: T.Buffer((1, 3), "float32"), y: T.Buffer((9,), "float32")):
        T.func_attr({"tirx.noalias": True})
        t = T.sblock_alloc_buffer((1, 3))
        for i, j in T.grid(1, 3):
            with T.sblock("t"):
                vi, vj = T.axis.remap("SS", [i, j])
                t[vi, vj] = x[vi, vj] * T.float32(2)
        for j in range(9):
            with T.sblock("y"):
                vj = T.axis.remap("S", [j])
                y[vj] = t[vj // 2147483647, vj % 3]


def main() -> int:
    print(f"TVM {tvm.__version__}, target llvm")
    print("expected: the module compiles and computes y[j] = 2 * x[0, j % 3]")
    try:
        executable = tvm.compile(Module, target="llvm")
    except Exception as error:  # ValueError raised through the FFI
        if "exceeds range of int32" not in str(error):
            raise
        detail = str(error).splitlines()[-1]
        print(f"BUG REPRODUCES: tvm.compile raised {type(error).__name__}: ...{detail[detail.index('Literal'):][:80]}")
        return 1
    x = np.random.default_rng(0).standard_normal((1, 3)).astype("float32")
    out = tvm.runtime.empty((9,), "float32", tvm.cpu())
    executable["main"](tvm.runtime.tensor(x), out)
    ok = np.allclose(out.numpy(), 2 * np.tile(x[0], 3))
    print("does not reproduce: compiled" + (" and matches the expected result" if ok else ", but the result is WRONG"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
