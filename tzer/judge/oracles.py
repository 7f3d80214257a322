"""Oracles, registered by name: each decides whether one run's output is right.

An oracle gets the `Evidence` of one execution (the program, the inputs TVM saw, TVM's output and, for mutants,
the output of the same mutant under the minimal lowering) and returns a `Comparison` (tzer.judge.tolerance).
To add one: subclass `Oracle`, implement `judge`, register it in `ORACLES`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from tzer.judge.tolerance import Comparison, compare, compare_runs, run_tolerance, tolerance_for
from tzer.registry import Registry


@dataclasses.dataclass(frozen=True)
class Evidence:
    program: Any  # tzer.generate.graph.Program: the generated program, before any mutation
    inputs: Sequence[np.ndarray]
    output: np.ndarray
    lowered_reference: np.ndarray | None = None  # the mutant's output under the minimal lowering
    compute_dtypes: frozenset[str] = frozenset()  # the dtypes the mutant computes in (buffers, casts)


class Oracle:
    name: ClassVar[str]

    def judge(self, evidence: Evidence) -> Comparison:
        raise NotImplementedError


def _tolerance(program: Any):
    spec = program.spec
    return tolerance_for(spec.dtype, spec.accumulation(), spec.transcendental)


class ReferenceOracle(Oracle):
    """TVM's output against the program's PyTorch reference, computed in float64, under the tolerance policy.
    Holds for unmutated programs and for mutants of semantics-preserving mutators (schedules, pass sequences)."""

    name = "reference"

    def judge(self, evidence: Evidence) -> Comparison:
        import torch

        tensors = [torch.from_numpy(x).to(torch.float64) for x in evidence.inputs]
        with torch.no_grad():
            expected = evidence.program.reference(tensors).numpy()
            magnitude = evidence.program.magnitude([t.abs() for t in tensors]).numpy()
        return compare(evidence.output, expected, evidence.program.spec.dtype, _tolerance(evidence.program),
                       magnitude)


class MinimalLoweringOracle(Oracle):
    """Tzer's opt-vs-unopt check, for mutants that changed the program's meaning: the fuzzed pipeline's output
    against the same mutant lowered by the minimal pipeline with every loop serial (tzer.judge.bounds)."""

    name = "minimal_lowering"

    def judge(self, evidence: Evidence) -> Comparison:
        assert evidence.lowered_reference is not None, "the runner builds the minimal lowering first"
        spec = evidence.program.spec
        tolerance = run_tolerance(spec.dtype, set(evidence.compute_dtypes), spec.accumulation(), spec.transcendental)
        return compare_runs(evidence.output, evidence.lowered_reference, spec.dtype, tolerance)


class CpuVsCudaOracle(Oracle):
    """The CUDA build's output against the CPU build's (both of the same mutant, the CPU one already judged right
    by its own oracle), under the run-to-run tolerance: the CPU-vs-CUDA differential."""

    name = "cpu_vs_cuda"

    def judge(self, evidence: Evidence) -> Comparison:
        assert evidence.lowered_reference is not None, "the runner passes the CPU build's output"
        return MinimalLoweringOracle().judge(evidence)


ORACLES: Registry[type[Oracle]] = Registry("oracle", {
    "reference": "tzer.judge.oracles:ReferenceOracle",
    "minimal_lowering": "tzer.judge.oracles:MinimalLoweringOracle",
    "cpu_vs_cuda": "tzer.judge.oracles:CpuVsCudaOracle",
})
