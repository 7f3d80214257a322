"""TVM 0.27.0.post1: LLVM codegen emits invalid IR ("Instruction does not dominate all uses!") for a 1-d max pool
(kernel 3, stride 1, padding 1) over a length-10 axis followed by an elementwise add.

Found by tzer (generate mode, family token_mixing, generator ponet, campaign seed 5): an unmutated program, valid
by construction, that TVM rejects with an InternalError at codegen under its default pipeline. The same program with
length 8, 12 or 14 compiles and matches PyTorch. It fails at every opt_level (0-3), with CSE and vectorization
disabled too, so it is not a TIR pass choice: the LLVM module that codegen produces does not verify.

Needs only apache-tvm (and numpy). Exit status: 1 when the bug reproduces, 0 when it does not.
"""

import sys

import numpy as np
import tvm
from tvm.script import ir as I
from tvm.script import tirx as T

LENGTH = 10


@I.ir_module
class Module:
    @T.prim_func(s_tir=True)
    def main(x: T.Buffer((1, 4, 10), "float32"), compute: T.Buffer((1, 4, 10), "float32")):
        T.func_attr({"tirx.noalias": True})
        pad_temp = T.sblock_alloc_buffer((1, 4, 12))
        pool_max = T.sblock_alloc_buffer((1, 4, 10))
        for ax0, ax1, ax2 in T.grid(1, 4, 12):
            with T.sblock("pad_temp"):
                v_ax0, v_ax1, v_ax2 = T.axis.remap("SSS", [ax0, ax1, ax2])
                T.reads(x[v_ax0, v_ax1, v_ax2 - 1])
                T.writes(pad_temp[v_ax0, v_ax1, v_ax2])
                pad_temp[v_ax0, v_ax1, v_ax2] = T.if_then_else(
                    1 <= v_ax2 and v_ax2 < 11, x[v_ax0, v_ax1, v_ax2 - 1], T.float32(-1e30))
        for ax0, ax1, ax2, rv0 in T.grid(1, 4, 10, 3):
            with T.sblock("pool_max"):
                v_ax0, v_ax1, v_ax2, v_rv0 = T.axis.remap("SSSR", [ax0, ax1, ax2, rv0])
                T.reads(pad_temp[v_ax0, v_ax1, v_ax2 + v_rv0])
                T.writes(pool_max[v_ax0, v_ax1, v_ax2])
                with T.init():
                    pool_max[v_ax0, v_ax1, v_ax2] = T.float32(-1e30)
                pool_max[v_ax0, v_ax1, v_ax2] = T.max(pool_max[v_ax0, v_ax1, v_ax2],
                                                      pad_temp[v_ax0, v_ax1, v_ax2 + v_rv0])
        for b, c, i in T.grid(1, 4, 10):
            with T.sblock("compute"):
                v_b, v_c, v_i = T.axis.remap("SSS", [b, c, i])
                T.reads(pool_max[v_b, v_c, v_i])
                T.writes(compute[v_b, v_c, v_i])
                compute[v_b, v_c, v_i] = pool_max[v_b, v_c, v_i] + T.float32(1)


def expected(x: np.ndarray) -> np.ndarray:
    """What the program computes: max over the window [i-1, i+1] (padding never wins), plus one."""
    padded = np.pad(x, ((0, 0), (0, 0), (1, 1)), constant_values=-np.inf)
    return np.maximum(np.maximum(padded[..., :-2], padded[..., 1:-1]), padded[..., 2:]) + 1


def main() -> int:
    print(f"TVM {tvm.__version__}, target llvm")
    print("expected: the module compiles and computes max_pool1d(x, 3, 1, 1) + 1")
    try:
        executable = tvm.compile(Module, target="llvm")
    except tvm.error.InternalError as error:
        detail = " ".join(str(error).splitlines()[:2])
        print(f"BUG REPRODUCES: tvm.compile raised InternalError: {detail[:200]}")
        return 1
    x = np.random.default_rng(0).standard_normal((1, 4, LENGTH)).astype("float32")
    out = tvm.runtime.empty((1, 4, LENGTH), "float32", tvm.cpu())
    executable["main"](tvm.runtime.tensor(x), out)
    ok = np.allclose(out.numpy(), expected(x))
    print("does not reproduce: compiled" + (" and matches the expected result" if ok else ", but the result is WRONG"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
