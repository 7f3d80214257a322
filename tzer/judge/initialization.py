"""Reads of uninitialized memory: a mutant that reads a buffer element before writing it has no defined output.

General mutators and wrappers can drop a producer, guard it with a false condition or shrink its loop, and then a
consumer reads whatever the memory held. Two builds of such a program disagree for no fault of TVM's, so the
opt-vs-unopt oracle must not judge it. The check is dynamic: the reference build exposes the function's
intermediate buffers as extra parameters (`expose_allocations`), so the caller owns their memory; it runs once per
fill in `FILLS`, with every output and intermediate element set to it first, and a program whose output changes with
the fill read memory it never wrote. The fills are a large positive, a large negative and a small value of
different magnitudes, so neither a max or min over an uninitialized element nor an even function of it (pow(x, 4)
in GeM maps +a and -a to the same value) can hide it; and NaN for floats, which no absorption hides (a sum with
-FLT_MAX in it swamps any finite fill).

Only buffers allocated in the root block, in a scope that is plain memory on the CPU (global, and local: what
cache_read/cache_write make) and in a dtype numpy holds (bfloat16 included), are exposed (that is where generated
and scheduled programs allocate); the others stay internal, and a read of them before a write goes unnoticed. (A
local buffer left out once let a program that only copied an unwritten local buffer pass as determined: two runs
in one process read the same stale stack.)
"""

from __future__ import annotations

from typing import Any

import numpy as np

EXPOSED_SCOPES = ("global", "local")  # plain memory to the llvm target, so a parameter can stand for them
FILLS = (1.0e4, -3.7e3, 0.37, float("nan"))  # the finite ones finite in float16
INTEGER_FILLS = (100, -37, 3, 7)  # in int8's range; unsigned types clip the negative one to 0


def expose_allocations(mod: Any) -> tuple[Any, list[tuple[tuple[int, ...], str]]]:
    """`mod` with the root block's intermediate buffers (in EXPOSED_SCOPES) moved into main's parameters (after
    the existing ones), and their (shape, dtype) in that order."""
    from tvm import s_tir, tirx

    func = mod["main"]
    realize = func.body
    if not isinstance(realize, s_tir.SBlockRealize):
        return mod, []
    root = realize.block
    exposed = [b for b in root.alloc_buffers
               if _scope(b) in EXPOSED_SCOPES and _static_shape(b) is not None and _numpy_dtype(str(b.dtype))]
    if not exposed:
        return mod, []
    kept = [b for b in root.alloc_buffers if not any(b.same_as(e) for e in exposed)]
    new_root = s_tir.SBlock(root.iter_vars, root.reads, root.writes, root.name_hint, root.body, root.init, kept,
                            root.match_buffers, root.annotations)
    body = s_tir.SBlockRealize(realize.iter_values, realize.predicate, new_root)
    new_func = tirx.PrimFunc([*func.params, *exposed], body, func.ret_type, func.attrs)
    shapes = [(_static_shape(b), str(b.dtype)) for b in exposed]
    return mod.__class__({"main": new_func}), shapes


def filled(shape: tuple[int, ...], dtype: str, which: int) -> np.ndarray:
    """An array of fill number `which`; the fills of any dtype differ (bool has two values: the third repeats)."""
    kind = np.dtype(dtype).kind
    if kind == "f" or dtype == "bfloat16":  # ml_dtypes' bfloat16 is of kind "V"
        value = FILLS[which]
    elif kind == "b":
        value = which % 2 == 0
    else:
        info = np.iinfo(dtype)
        value = min(max(INTEGER_FILLS[which], int(info.min)), int(info.max))  # unsigned: 100 and 0
    return np.full(shape, value, dtype=dtype)


def determined(*outputs: np.ndarray) -> np.ndarray:
    """The elements that are the same in every output (runs under different fills): what the program computes."""
    first = outputs[0]
    mask = np.ones(first.shape, dtype=bool)
    for other in outputs[1:]:
        same = first == other
        if np.dtype(first.dtype).kind == "f":
            same |= np.isnan(first) & np.isnan(other)
        mask &= same
    return mask


def same_output(*outputs: np.ndarray) -> bool:
    first = outputs[0]
    return all(np.array_equal(first, other, equal_nan=np.dtype(first.dtype).kind == "f") for other in outputs[1:])


def _numpy_dtype(dtype: str) -> bool:
    """Whether numpy holds this dtype and the fills fit it: the native kinds, and bfloat16 (ml_dtypes, which TVM
    imports). The float8 types stay internal: the fills are out of their range."""
    try:
        return np.dtype(dtype).kind in "fiub" or dtype == "bfloat16"
    except TypeError:
        return False


def _scope(buffer: Any) -> str:
    scope = buffer.scope() if callable(getattr(buffer, "scope", None)) else getattr(buffer, "scope", "global")
    return str(scope) or "global"


def _static_shape(buffer: Any) -> tuple[int, ...] | None:
    try:
        return tuple(int(d) for d in buffer.shape)
    except (TypeError, ValueError):  # a symbolic extent
        return None
