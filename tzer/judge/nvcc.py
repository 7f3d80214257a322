"""The nvcc oracle: CUDA C that TVM generated must compile with NVIDIA's compiler. No GPU is needed.

TVM's CUDA codegen writes C that TVM itself never compiles (it is compiled when loaded on a GPU), so a kernel nvcc
rejects is a codegen bug that surfaces only on a GPU. `nvcc_check` compiles the source to PTX for the target's
architecture with the nvcc on PATH (tvm.support.nvcc, TVM's own driver of it) and says what nvcc said.

On a machine with a GPU, TVM does compile its CUDA C during `tvm.compile`, through the hook
`tvm_callback_cuda_compile`, whose default (NVRTC) initializes the CUDA runtime in the compiling process; in the
fork server's warm parent that breaks every child ("cudaErrorInitializationError": a CUDA context does not survive
fork; seen on the device machine). `NvccHook` takes the hook over in such processes: it runs this oracle on what TVM
hands it and returns the PTX, so the oracle's one nvcc run per build is the only one, GPU or not.
"""

from __future__ import annotations

import dataclasses
import shutil
import time
from typing import Any


class NvccUnavailable(Exception):
    """No nvcc on PATH: the oracle cannot run here."""


@dataclasses.dataclass(frozen=True)
class NvccResult:
    accepted: bool
    seconds: float
    error: str = ""  # nvcc's diagnostics when it rejected the source


def nvcc_check(source: str, target: Any) -> NvccResult:
    """Compile CUDA C `source` for `target` (a tvm.target.Target of kind cuda, which names the architecture)."""
    return _compile(source, target)[0]


def _compile(source: str, target: Any) -> tuple[NvccResult, bytes]:
    """The oracle's verdict on `source`, and the PTX where nvcc accepted it."""
    from tvm.support import nvcc

    if shutil.which("nvcc") is None:
        raise NvccUnavailable("nvcc is not on PATH")
    start = time.perf_counter()
    try:
        with target:  # compile_cuda reads the architecture from the current target
            ptx = nvcc.compile_cuda(source, target_format="ptx", compiler="nvcc")
    except RuntimeError as error:  # tvm.support.nvcc raises RuntimeError with nvcc's output on a failed compile
        message = str(error)
        diagnostics = message[message.find("Compilation error:"):] if "Compilation error:" in message else message
        return NvccResult(False, time.perf_counter() - start, diagnostics.strip()), b""
    return NvccResult(True, time.perf_counter() - start), bytes(ptx)


class NvccHook:
    """TVM's `tvm_callback_cuda_compile`, taken over for this process: each source TVM hands it goes through the
    oracle (for `target`), which keeps the verdict for `check`. Never in a process that runs kernels (the GPU
    worker keeps TVM's own hook)."""

    def __init__(self, target: Any):
        import tvm_ffi

        self.target = target
        self._verdicts: dict[str, NvccResult] = {}
        tvm_ffi.register_global_func("tvm_callback_cuda_compile", self._hook, override=True)

    def _hook(self, source: str) -> bytes:
        verdict, ptx = _compile(source, self.target)
        self._verdicts = {source: verdict}  # the build in progress only
        # An empty module where nvcc failed: this process never loads it, and the judge reports the rejection.
        return ptx

    def rejected(self) -> tuple[str, NvccResult] | None:
        """The source of the build in progress and nvcc's rejection of it, if TVM's build asked and nvcc said no
        (TVM may then fail the build on the empty module)."""
        for source, verdict in self._verdicts.items():
            if not verdict.accepted:
                return source, verdict
        return None

    def check(self, source: str) -> NvccResult:
        """The oracle's verdict on `source`: the one TVM's build asked for, or a compile now (no GPU here, so TVM
        did not compile its source)."""
        verdict = self._verdicts.pop(source, None)
        return verdict if verdict is not None else nvcc_check(source, self.target)
