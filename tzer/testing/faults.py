"""Planted faults: TIR passes that misbehave on purpose, the way a buggy TVM pass or kernel would.

Each is registered in `tzer.execute.passes.EXTRA_PASSES` as `fault.<name>` and reached with
`tzer fuzz --extra-pass fault.<name>`. A fault fires on about one program in three (chosen by the program's
structural hash, so a replay fires it again) and leaves the others alone, so a campaign shows both the fault and
its own survival. Never used by a real campaign.
"""

from __future__ import annotations

import ctypes
import os
from collections.abc import Callable

FIRE_EVERY = 3


def fires(func) -> bool:
    import tvm_ffi

    return tvm_ffi.structural_hash(func) % FIRE_EVERY == 0


def _planted(name: str, action: Callable) -> Callable[[], object]:
    """A pass constructor: a PrimFunc pass named fault.<name> that applies `action` where the fault fires."""

    def make():
        import tvm

        @tvm.tirx.transform.prim_func_pass(opt_level=0, name=f"fault.{name}")
        def planted(func, mod, ctx):
            return action(func, mod) if fires(func) else func

        return planted

    return make


def _segfault(func, mod):
    ctypes.string_at(0)  # reads address 0: SIGSEGV
    return func


def _abort(func, mod):
    os.abort()


def _hang(func, mod):
    while True:
        pass


def _allocate(func, mod):
    bytearray(64 << 30)  # far above any worker's address-space limit: MemoryError
    return func


def _check_failure(func, mod):
    import tvm

    # FlattenBuffer before ConvertBlocksToOpaque: TVM's own check fails (InternalError), as in a real misordering.
    tvm.tirx.transform.FlattenBuffer()(tvm.IRModule({"main": func}))
    return func


def _exception(func, mod):
    raise TypeError("planted: a pass raised a Python exception")


def _kernel_hang(func, mod):
    """Prepend a loop that spins while x[0] == x[0]: true at run time for the finite inputs tzer draws."""
    from tvm import tirx

    buffer = func.params[0]  # in TVM 0.27 a PrimFunc's params are buffer-typed vars
    first = tirx.BufferLoad(buffer, [tirx.const(0, "int32")] * len(buffer.shape))
    spin = tirx.While(tirx.EQ(first, first), tirx.Evaluate(tirx.const(0, "int32")))
    return func.with_body(tirx.SeqStmt([spin, func.body]))


segfault = _planted("segfault", _segfault)
abort = _planted("abort", _abort)
hang = _planted("hang", _hang)
allocate = _planted("allocate", _allocate)
check_failure = _planted("check_failure", _check_failure)
exception = _planted("exception", _exception)
kernel_hang = _planted("kernel_hang", _kernel_hang)
