"""Oracles, registered by name: each decides whether one run's output is right.

An oracle gets the program, the inputs TVM saw and TVM's output, and returns a `Comparison` (tzer.judge.tolerance).
To add one: subclass `Oracle`, implement `judge`, register it in `ORACLES`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from tzer.judge.tolerance import Comparison, compare, tolerance_for
from tzer.registry import Registry


class Oracle:
    name: ClassVar[str]

    def judge(self, program: Any, inputs: Sequence[np.ndarray], output: np.ndarray) -> Comparison:
        raise NotImplementedError


class ReferenceOracle(Oracle):
    """TVM's output against the program's PyTorch reference, computed in float64, under the tolerance policy."""

    name = "reference"

    def judge(self, program: Any, inputs: Sequence[np.ndarray], output: np.ndarray) -> Comparison:
        import torch

        tensors = [torch.from_numpy(x).to(torch.float64) for x in inputs]
        with torch.no_grad():
            expected = program.reference(tensors).numpy()
            magnitude = program.magnitude([t.abs() for t in tensors]).numpy()
        spec = program.spec
        tolerance = tolerance_for(spec.dtype, spec.accumulation(), spec.transcendental)
        return compare(output, expected, spec.dtype, tolerance, magnitude)


ORACLES: Registry[type[Oracle]] = Registry("oracle", {"reference": "tzer.judge.oracles:ReferenceOracle"})
