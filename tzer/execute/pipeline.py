"""TVM's default TIR pipeline as data: every pass of it, in order, with the stage it belongs to.

A pass is named `<namespace>.<Pass>` (`s_tir.LowerInitBlock`, `tirx.FlattenBuffer`), with its argument after a
colon where it takes one (`tirx.NarrowDataType:32`, `s_tir.ThreadSync:shared`). A pipeline is a tuple of such names;
`PassConfig.pipeline` carries one, and the executor compiles with it through a registered TIR pipeline. Stages
follow the three forms the IR takes (schedulable S-TIR, flattened TIR, packed API); a pipeline keeps TVM's order
when its stages never go backwards. Read off tvm/s_tir/pipeline.py (TVM 0.27) for an llvm target with the default
PassContext config.
"""

from __future__ import annotations

import dataclasses
import enum
from typing import Any


class PipelineStage(enum.IntEnum):
    S_TIR = 0  # blocks and buffers as scheduled, up to LowerOpaqueBlock
    FLAT = 1  # flattened buffers, up to SplitHostDevice
    PACKED = 2  # after MakePackedAPI


@dataclasses.dataclass(frozen=True)
class PassSpec:
    name: str
    stage: PipelineStage

    def construct(self) -> Any:
        import tvm

        qualified, _, argument = self.name.partition(":")
        namespace, _, pass_name = qualified.partition(".")
        factory = getattr({"s_tir": tvm.s_tir.transform, "tirx": tvm.tirx.transform}[namespace], pass_name)
        if not argument:
            return factory()
        return factory(_parse_argument(argument))


def _parse_argument(text: str) -> Any:
    if text in ("True", "False"):
        return text == "True"
    return int(text) if text.isdigit() else text


_S, _F, _P = PipelineStage.S_TIR, PipelineStage.FLAT, PipelineStage.PACKED
DEFAULT_PIPELINE: tuple[PassSpec, ...] = tuple(PassSpec(name, stage) for name, stage in (
    ("s_tir.CanonicalizeLoop", _S), ("s_tir.LowerCrossThreadReduction", _S), ("s_tir.LowerInitBlock", _S),
    ("s_tir.PlanAndUpdateBufferAllocationLocation", _S), ("s_tir.ConvertBlocksToOpaque", _S),
    ("s_tir.LiftThreadBinding", _S), ("s_tir.ManifestSharedMemoryLocalStage", _S),
    ("s_tir.CompactBufferAllocation", _S), ("s_tir.LowerAutoCopy", _S), ("s_tir.UnifyThreadBinding", _S),
    ("s_tir.LowerMatchBuffer", _S), ("s_tir.StmtSimplify", _S), ("s_tir.InjectPermutedLayout", _S),
    ("s_tir.AnnotateIrregularLoop", _S), ("s_tir.InjectSoftwarePipeline", _S), ("s_tir.TransformMmaBufferLayout", _S),
    ("s_tir.LowerOpaqueBlock", _S),
    ("tirx.FlattenBuffer", _F), ("tirx.BF16ComputeLegalize", _F), ("tirx.NarrowDataType:32", _F),
    ("s_tir.LoopPartition", _F), ("tirx.VectorizeLoop:True", _F), ("s_tir.InjectVirtualThread", _F),
    ("s_tir.InjectDoubleBuffer", _F), ("tirx.StorageRewrite", _F), ("s_tir.HoistIfThenElse", _F),
    ("tirx.UnrollLoop", _F), ("s_tir.RenormalizeSplitPattern", _F), ("tirx.StmtSimplify", _F),
    ("tirx.RemoveNoOp", _F), ("s_tir.RewriteUnsafeSelect", _F), ("tirx.CommonSubexprElim", _F),
    ("tirx.FP8ComputeLegalize", _F), ("s_tir.VerifyVTCMLimit", _F), ("s_tir.LowerVtcmAlloc", _F),
    ("tirx.VerifyMemory", _F), ("tirx.AnnotateEntryFunc", _F), ("s_tir.ThreadSync:shared", _F),
    ("s_tir.ThreadSync:shared.dyn", _F), ("s_tir.ThreadSync:warp", _F), ("s_tir.InferFragment", _F),
    ("s_tir.LowerThreadAllreduce", _F), ("s_tir.MergeSharedMemoryAllocations", _F), ("tirx.SplitHostDevice", _F),
    ("tirx.MakePackedAPI", _P), ("tirx.FP8StorageLegalize", _P), ("tirx.BF16StorageLegalize", _P),
))
PASSES: dict[str, PassSpec] = {spec.name: spec for spec in DEFAULT_PIPELINE}
PIPELINE_NAME = "tzer"


def default_pipeline() -> tuple[str, ...]:
    return tuple(spec.name for spec in DEFAULT_PIPELINE)


def keeps_stage_order(pipeline: tuple[str, ...]) -> bool:
    """Every pass is known and the stages never go backwards."""
    if any(name not in PASSES for name in pipeline):
        return False
    stages = [PASSES[name].stage for name in pipeline]
    return all(a <= b for a, b in zip(stages, stages[1:]))


def register(pipeline: tuple[str, ...]) -> str:
    """Register `pipeline` as TVM's TIR pipeline PIPELINE_NAME (replacing the last one) and return that name."""
    import tvm
    from tvm.s_tir.pipeline import finalize_device_passes, finalize_host_passes

    sequential = tvm.transform.Sequential([PASSES[name].construct() for name in pipeline])
    tvm.tirx.register_tir_pipeline(PIPELINE_NAME, lambda: (sequential, finalize_host_passes, finalize_device_passes))
    return PIPELINE_NAME
