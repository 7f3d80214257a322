"""TVM 0.27.0.post1: s_tir.Schedule.cache_read on topi's adaptive pooling copies a window one element past the end of
the input, so the scheduled program reads out of bounds.

The module below is adaptive max pooling of 8 elements down to 7 per row (2 rows), written as
topi.nn.adaptive_pool1d writes it: window i is x[c, floor(8i/7) : ceil(8(i+1)/7)], a loop whose extent is a Select.
It reads only inside x. TVM infers the outer block's read region itself (no T.reads is written):
x[vc, vi*8//7 : vi*8//7 + ((vi % 7 + 8) // 7 + 1)], an over-approximation of the window that for vi = 6 is [6, 9)
while the window is [6, 8). `cache_read(inner, 0, "local")` is accepted, even with debug_mask="all", and copies that
region verbatim: the cache stage loops
`for ax1 in range((vi % 7 + 8) // 7 + 1): x_local[0, ax1] = x[vc, vi*8//7 + ax1]`, which at vi = 6 loads x[c, 8],
one element past the end of each row (and of x, for the last row).

Expected: the cached program reads only what the original reads and computes the same result.
Actual: the cache copy reads x[1, 8]. With x's 16 floats placed at the very end of a readable page followed by a
PROT_NONE page, the original program runs and is correct, and the cached one dies with SIGSEGV (each program runs in
a forked child). If the run-time demonstration cannot be set up, or the load does not fault, the script still
reports the bug from the IR: the copy block's last index at vi = 6 is 8 on an axis of length 8.

Guilty primitive: s_tir.Schedule.cache_read (src/s_tir/schedule/primitive/cache_read_write.cc, CacheRead, "Case 2.
The buffer is the input block for the scope").
Root cause: for a buffer with no writer in the scope, cache_read sizes and fills the cache from the scope block's
declared read region (here the inferred, over-approximated window [s, s + (v % 7 + 8) // 7 + 1)) without clamping it
to the buffer's shape or to the consumer's real accesses, turning a harmless over-approximation into real loads.

Found by tzer: joint mode, `tzer fuzz --time 300 --jobs 2 --seed 100` (the issue-4 code of 2026-11-30): out_of_bounds at build,
guilty schedule_cache_read, generator adaptive_pool (3-d avg adaptive pool, input (1, 6, 3, 8, 3), output (3, 3, 3),
program seed 2508523437, mutator seed 3715190570): "index 3 (v_ax3 * 8 // 3 + v3) not proven in [0, 8)".

Needs only apache-tvm (and numpy). Exit status: 1 when the bug reproduces, 0 when it does not.
"""

import ctypes
import mmap
import os
import signal
import sys

import numpy as np
import tvm
import tvm.sym
from tvm import s_tir
from tvm.script import tirx as T

ROWS, N, OUT = 2, 8, 7


@T.prim_func(s_tir=True)
def adaptive_max_pool(x: T.Buffer((2, 8), "float32"), y: T.Buffer((2, 7), "float32")):
    for c, i in T.grid(2, 7):
        with T.sblock("outer"):
            vc, vi = T.axis.remap("SS", [c, i])
            for k in range(T.Select((vi * 8 + 1) % 7 == 0, (vi * 8 + 8) // 7, (vi * 8 + 8) // 7 + 1) - vi * 8 // 7):
                with T.sblock("inner"):
                    vc_1 = T.axis.spatial((vc, vc + 1), vc)
                    vi_1 = T.axis.spatial((vi, vi + 1), vi)
                    vk = T.axis.reduce(
                        T.Select((vi * 8 + 1) % 7 == 0, (vi * 8 + 8) // 7, (vi * 8 + 8) // 7 + 1) - vi * 8 // 7, k)
                    with T.init():
                        y[vc_1, vi_1] = T.float32(-3.4e38)
                    y[vc_1, vi_1] = T.max(y[vc_1, vi_1], x[vc_1, vi_1 * 8 // 7 + vk])


def expected(x: np.ndarray) -> np.ndarray:
    """Adaptive max pooling: window i is [floor(N*i/OUT), ceil(N*(i+1)/OUT))."""
    return np.stack([x[:, (N * i) // OUT:-((-N * (i + 1)) // OUT)].max(axis=1) for i in range(OUT)], axis=1)


def last_index_read_by_copy(sch: s_tir.Schedule) -> int:
    """From the IR: the largest x index along the pooled axis that the cache stage "x_local" loads, over all vi."""
    (vi,) = [iv.var for iv in sch.get(sch.get_sblock("outer")).iter_vars if iv.var.name == "vi"]
    copy = sch.get(sch.get_sblock("x_local"))
    index = copy.reads[0].region[1].min              # vi * 8 // 7 + v1
    v1 = copy.iter_vars[1]                           # v1 in [0, (vi % 7 + 8) // 7 + 1)
    last = []
    for value in range(OUT):
        analyzer = tvm.sym.Analyzer()
        analyzer.bind(vi, value)
        analyzer.bind(v1.var, analyzer.simplify(v1.dom.min + v1.dom.extent - 1))
        last.append(int(analyzer.simplify(index)))
    return max(last)


def guarded_input(x: np.ndarray):
    """x's bytes at the very end of a readable page; the next page is PROT_NONE. Returns (array, guard address)."""
    page = mmap.PAGESIZE
    assert x.nbytes % 64 == 0 and x.nbytes <= page  # TVM requires 64-byte-aligned tensors
    buf = mmap.mmap(-1, 2 * page)
    base = ctypes.addressof(ctypes.c_char.from_buffer(buf))
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mprotect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    if libc.mprotect(base + page, page, 0) != 0:  # 0 = PROT_NONE
        raise OSError(ctypes.get_errno(), "mprotect failed")
    arr = np.frombuffer(buf, dtype=x.dtype, count=x.size, offset=page - x.nbytes).reshape(x.shape)
    arr[...] = x
    guarded_input.keep = buf  # keep the mapping alive
    return arr, base + page


def in_child(action) -> str:
    """Run action() in a forked child; "ok", "wrong result", "error" or "killed by SIGxxx"."""
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 2)  # silence TVM's segfault backtrace
            os._exit(0 if action() else 3)
        except BaseException:
            os._exit(4)
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        return f"killed by {signal.Signals(os.WTERMSIG(status)).name}"
    return {0: "ok", 3: "wrong result"}.get(os.WEXITSTATUS(status), "error")


def main() -> int:
    print(f"TVM {tvm.__version__}, target llvm")
    print("expected: the cache_read-scheduled adaptive max pool reads only x and computes the same result")
    original = tvm.IRModule({"main": adaptive_max_pool})
    sch = s_tir.Schedule(adaptive_max_pool, debug_mask="all")
    sch.cache_read(sch.get_sblock("inner"), 0, "local")
    script = sch.mod.script().splitlines()
    copy_stage = [line.strip() for line in script if "T.grid(1, (vi" in line or "x_local[v0, v1] = " in line]
    print("cache stage: " + " ... ".join(copy_stage))

    last = last_index_read_by_copy(sch)
    ir_oob = last >= N
    print(f"IR: the copy loads x[c, {last}] at most; x's pooled axis has length {N}"
          + (" -> OUT OF BOUNDS" if ir_oob else " (in bounds)"))

    x = np.random.default_rng(0).standard_normal((ROWS, N)).astype("float32")
    want = expected(x)
    fault = False
    try:
        arr, guard = guarded_input(x)
        kernels = {name: tvm.compile(m, target="llvm")["main"]
                   for name, m in (("original", original), ("cache_read", sch.mod))}
        out = tvm.runtime.empty((ROWS, OUT), "float32", tvm.cpu())
        x_tvm = tvm.runtime.from_dlpack(arr)  # zero copy: the kernel reads the guarded memory itself

        def run(name):
            return lambda: (kernels[name](x_tvm, out), np.array_equal(out.numpy(), want))[1]

        guard_works = in_child(lambda: ctypes.c_float.from_address(guard).value is None).startswith("killed")
        status = {name: in_child(run(name)) for name in kernels}
        print(f"run with x ending at a guard page (guard {'faults' if guard_works else 'DOES NOT fault'}): "
              f"original {status['original']}, cache_read {status['cache_read']}")
        if guard_works and status["original"] == "ok":
            fault = status["cache_read"].startswith("killed")
        else:
            print("run-time demonstration unavailable here; relying on the IR")
    except Exception as error:
        print(f"run-time demonstration unavailable ({type(error).__name__}: {error}); relying on the IR")

    if fault:
        print(f"BUG REPRODUCES: the cache_read copy reads x[{ROWS - 1}, {last}], past the end of x, and faults;"
              " the original program does not")
        return 1
    if ir_oob:
        print(f"BUG REPRODUCES: the cache_read copy reads x[c, {last}] (IR), past the end of each row of x")
        return 1
    print("does not reproduce: the cache stage stays inside x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
