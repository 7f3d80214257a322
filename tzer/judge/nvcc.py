"""The nvcc oracle: CUDA C that TVM generated must compile with NVIDIA's compiler. No GPU is needed.

TVM's CUDA codegen writes C that TVM itself never compiles (it is compiled when loaded on a GPU), so a kernel nvcc
rejects is a codegen bug that surfaces only on a GPU. `nvcc_check` compiles the source to PTX for the target's
architecture with the nvcc on PATH (tvm.support.nvcc, TVM's own driver of it) and says what nvcc said.
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
    from tvm.support import nvcc

    if shutil.which("nvcc") is None:
        raise NvccUnavailable("nvcc is not on PATH")
    start = time.perf_counter()
    try:
        with target:  # compile_cuda reads the architecture from the current target
            nvcc.compile_cuda(source, target_format="ptx", compiler="nvcc")
    except RuntimeError as error:  # tvm.support.nvcc raises RuntimeError with nvcc's output on a failed compile
        message = str(error)
        diagnostics = message[message.find("Compilation error:"):] if "Compilation error:" in message else message
        return NvccResult(False, time.perf_counter() - start, diagnostics.strip())
    return NvccResult(True, time.perf_counter() - start)
