"""TIR pass pipelines as data: TVM's default pipeline, the minimal one, and where each pass is supported.

A pass is named `<namespace>.<Pass>` (`s_tir.LowerInitBlock`, `tirx.FlattenBuffer`), with its argument after a
colon where it takes one (`tirx.NarrowDataType:32`, `s_tir.ThreadSync:shared`). A pipeline is a tuple of such names;
`PassConfig.pipeline` carries one, and the executor compiles with it through a registered TIR pipeline.

Every pipeline must run the skeleton (the passes without which nothing compiles) once each, in order; the skeleton
cuts a pipeline into positions 0..6 (0: before LowerInitBlock, ..., 6: after MakePackedAPI). Every other pass is
supported at some positions only: running it elsewhere is misuse, which TVM may reject. Which positions, was measured
by tools/pass_matrix.py (every pass at every position on a set of programs) into pass_stages.json beside this
module (passes the tool had to build by hand are left out); and every pass of TVM's default pipeline is supported
where that pipeline runs it. The default
pipeline was read off tvm/s_tir/pipeline.py (TVM 0.27) for an llvm target with the default PassContext config.
"""

from __future__ import annotations

import functools
import json
import os
from typing import Any

SKELETON: tuple[str, ...] = (
    "s_tir.LowerInitBlock", "s_tir.ConvertBlocksToOpaque", "s_tir.LowerOpaqueBlock", "tirx.FlattenBuffer",
    "tirx.VectorizeLoop:True", "tirx.MakePackedAPI",
)
# The minimal lowering, for programs whose loops were made serial (tzer.judge.bounds.serialize_loops): the skeleton
# without VectorizeLoop, plus the bfloat16 legalization the llvm backend needs (without it LLVM codegen crashes on
# bfloat16 arithmetic, which mutants that change a buffer's dtype reach). The opt-vs-unopt oracle compiles its
# reference with it.
MINIMAL_PIPELINE: tuple[str, ...] = (
    "s_tir.LowerInitBlock", "s_tir.ConvertBlocksToOpaque", "s_tir.LowerOpaqueBlock", "tirx.FlattenBuffer",
    "tirx.BF16ComputeLegalize", "tirx.MakePackedAPI", "tirx.BF16StorageLegalize",
)
POSITIONS = len(SKELETON) + 1

DEFAULT_PIPELINE: tuple[str, ...] = (
    "s_tir.CanonicalizeLoop", "s_tir.LowerCrossThreadReduction", "s_tir.LowerInitBlock",
    "s_tir.PlanAndUpdateBufferAllocationLocation", "s_tir.ConvertBlocksToOpaque", "s_tir.LiftThreadBinding",
    "s_tir.ManifestSharedMemoryLocalStage", "s_tir.CompactBufferAllocation", "s_tir.LowerAutoCopy",
    "s_tir.UnifyThreadBinding", "s_tir.LowerMatchBuffer", "s_tir.StmtSimplify", "s_tir.InjectPermutedLayout",
    "s_tir.AnnotateIrregularLoop", "s_tir.InjectSoftwarePipeline", "s_tir.TransformMmaBufferLayout",
    "s_tir.LowerOpaqueBlock",
    "tirx.FlattenBuffer", "tirx.BF16ComputeLegalize", "tirx.NarrowDataType:32", "s_tir.LoopPartition",
    "tirx.VectorizeLoop:True", "s_tir.InjectVirtualThread", "s_tir.InjectDoubleBuffer", "tirx.StorageRewrite",
    "s_tir.HoistIfThenElse", "tirx.UnrollLoop", "s_tir.RenormalizeSplitPattern", "tirx.StmtSimplify",
    "tirx.RemoveNoOp", "s_tir.RewriteUnsafeSelect", "tirx.CommonSubexprElim", "tirx.FP8ComputeLegalize",
    "s_tir.VerifyVTCMLimit", "s_tir.LowerVtcmAlloc", "tirx.VerifyMemory", "tirx.AnnotateEntryFunc",
    "s_tir.ThreadSync:shared", "s_tir.ThreadSync:shared.dyn", "s_tir.ThreadSync:warp", "s_tir.InferFragment",
    "s_tir.LowerThreadAllreduce", "s_tir.MergeSharedMemoryAllocations", "tirx.SplitHostDevice",
    "tirx.MakePackedAPI", "tirx.FP8StorageLegalize", "tirx.BF16StorageLegalize",
)
# Passes the measurement accepted at every position that are still a misuse in a pipeline of host functions: a
# mutant pipeline holding one shows TVM working as designed, not a bug. s_tir.DecorateDeviceScope marks a whole
# function as device code; after it LowerTVMBuiltin finds code with no device id and fails its check (a campaign's
# finding, judged a false positive on 2026-12-07: tests/unit/test_pass_stages.py).
MISUSE_BY_DESIGN: frozenset[str] = frozenset({"s_tir.DecorateDeviceScope"})
PIPELINE_NAME = "tzer"
_MEASURED = os.path.join(os.path.dirname(__file__), "pass_stages.json")


def default_pipeline() -> tuple[str, ...]:
    return DEFAULT_PIPELINE


def positions_of(pipeline: tuple[str, ...]) -> list[int]:
    """The position of each pass: how many skeleton passes ran before it."""
    positions, seen = [], 0
    for name in pipeline:
        positions.append(seen)
        seen += int(name in SKELETON)
    return positions


@functools.lru_cache(maxsize=1)
def _measured() -> dict[str, Any]:
    with open(_MEASURED) as f:
        return json.load(f)


@functools.lru_cache(maxsize=1)
def known_misuse_crashes() -> frozenset[tuple[str, int]]:
    """(pass, position) pairs where the measurement saw the pass kill the process on every program: known misuse
    crashes (NarrowDataType on S-TIR, in ../shared/notes), which pass mutation need not find again."""
    return frozenset((name, int(position)) for name, entry in _measured()["passes"].items()
                     for position, reason in entry["failures"].items() if reason.startswith("signal"))


@functools.lru_cache(maxsize=1)
def supported_positions() -> dict[str, frozenset[int]]:
    """Pass name -> the positions where it is supported (skeleton passes excluded)."""
    supported: dict[str, set[int]] = {}
    for name, position in zip(DEFAULT_PIPELINE, positions_of(DEFAULT_PIPELINE)):
        if name not in SKELETON:
            supported.setdefault(name, set()).add(position)
    measured = _measured()
    special = measured.get("constructed_specially", {})  # built by hand in the tool, not by `construct`: left out
    for name, entry in measured["passes"].items():
        if name not in SKELETON and name not in special and name not in MISUSE_BY_DESIGN:
            supported.setdefault(name, set()).update(entry["ok"])
    return {name: frozenset(positions) for name, positions in supported.items() if positions}


def known_passes() -> frozenset[str]:
    return frozenset(SKELETON) | frozenset(supported_positions())


# Passes whose PassInfo name is not their pipeline name without its argument (TVM 0.27; checked against TVM for
# every known pass by tests/integration/test_pipeline.py).
_INFO_NAMES = {"s_tir.DefaultGPUSchedule": "DefaultGPUSchedule", "s_tir.HoistIfThenElse:basic":
               "s_tir.HoistIfThenElseBasic", "tirx.ForceNarrowIndexToInt32": "tirx.NarrowDataType"}


def info_name(name: str) -> str:
    """The name TVM's PassInfo gives the pass a pipeline name stands for (what PassInstruments see)."""
    return _INFO_NAMES.get(name, name.partition(":")[0])


def keeps_stage_order(pipeline: tuple[str, ...]) -> bool:
    """The skeleton runs once, in order, and every other pass is known and runs where it is supported."""
    if tuple(name for name in pipeline if name in SKELETON) != SKELETON:
        return False
    supported = supported_positions()
    return all(name in SKELETON or position in supported.get(name, ())
               for name, position in zip(pipeline, positions_of(pipeline)))


def construct(name: str) -> Any:
    """The TVM pass a pipeline name stands for."""
    import tvm

    qualified, _, argument = name.partition(":")
    namespace, _, pass_name = qualified.partition(".")
    factory = getattr({"s_tir": tvm.s_tir.transform, "tirx": tvm.tirx.transform}[namespace], pass_name)
    return factory() if not argument else factory(_parse_argument(argument))


def _parse_argument(text: str) -> Any:
    if text in ("True", "False"):
        return text == "True"
    return int(text) if text.isdigit() else text


def register(pipeline: tuple[str, ...], name: str = PIPELINE_NAME) -> str:
    """Register `pipeline` as TVM's TIR pipeline `name` (replacing the last one of that name) and return the name."""
    import tvm
    from tvm.s_tir.pipeline import finalize_device_passes, finalize_host_passes

    sequential = tvm.transform.Sequential([construct(p) for p in pipeline])
    tvm.tirx.register_tir_pipeline(name, lambda: (sequential, finalize_host_passes, finalize_device_passes))
    return name
