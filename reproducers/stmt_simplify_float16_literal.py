"""TVM 0.27.0.post1: StmtSimplify crashes ("Literal value -3.40282e+38 exceeds minimum of float16") on a float16
max reduction whose initial value is the float32 lowest value cast to float16, `T.Cast("float16", -FLT_MAX)`.

Expected: the module compiles, and the cast rounds to -inf as IEEE 754 narrowing does, so y[i] = max_k x[i, k]
(which is what TVM's own minimal lowering, without the simplifiers, compiles and computes: LLVM folds the cast).
Actual: tvm.compile raises ValueError in s_tir.StmtSimplify, at every opt_level; any finite value outside +-65504
does it (-70000.0 too). With both StmtSimplify passes disabled, tirx.RemoveNoOp fails the same way; with RemoveNoOp
disabled too the module compiles and is right. Guilty: the arith simplifier's cast folding (tvm::prim::cast, called
by the canonical simplifier), first reached in s_tir.StmtSimplify.
Root cause: the simplifier folds Cast(float16, FloatImm v) into FloatImm(float16, v) without rounding v to float16,
and the FloatImm constructor rejects finite values beyond the float16 range (it should become +-inf).
Probably the same defect as the open apache/tvm#17744.

Found by tzer: joint mode, `tzer fuzz --time 300 --jobs 2 --seed 100` (the issue-4 code of 2026-11-30)
(generator maxformer, mutator change_dtype made the float32 max-pool buffer float16 and wrapped its init in a cast).

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
    def main(x: T.Buffer((4, 3), "float16"), y: T.Buffer((4,), "float16")):
        T.func_attr({"tirx.noalias": True})
        for i, k in T.grid(4, 3):
            with T.sblock("y"):
                vi, vk = T.axis.remap("SR", [i, k])
                with T.init():
                    y[vi] = T.Cast("float16", T.float32(-340282346638528859811704183484516925440.0))
                y[vi] = T.max(y[vi], x[vi, vk])


def main() -> int:
    print(f"TVM {tvm.__version__}, target llvm")
    print("expected: the module compiles; Cast(float16, -FLT_MAX) is -inf, so y = x.max(axis=1)")
    try:
        executable = tvm.compile(Module, target="llvm")
    except Exception as error:  # ValueError raised through the FFI
        if "exceeds minimum of float16" not in str(error):
            raise
        print(f"BUG REPRODUCES: tvm.compile raised {type(error).__name__}: {str(error).splitlines()[-1][:160]}")
        return 1
    x = np.random.default_rng(0).standard_normal((4, 3)).astype("float16")
    out = tvm.runtime.empty((4,), "float16", tvm.cpu())
    executable["main"](tvm.runtime.tensor(x), out)
    ok = np.array_equal(out.numpy(), x.max(axis=1))
    print("does not reproduce: compiled" + (" and matches the expected result" if ok else ", but the result is WRONG"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
