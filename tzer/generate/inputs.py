"""Input tensors for a program, drawn from a recorded seed so every test case replays bit for bit."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from tzer.generate.graph import TensorSpec


def _draw(rng: np.random.Generator, spec: TensorSpec) -> np.ndarray:
    shape = spec.shape
    if spec.domain == "normal":
        return rng.standard_normal(shape).astype(spec.dtype)
    if spec.domain == "positive":
        return rng.uniform(0.5, 2.0, shape).astype(spec.dtype)
    if spec.domain == "int_full":
        info = np.iinfo(spec.dtype)
        return rng.integers(info.min, info.max, shape, dtype=spec.dtype, endpoint=True)
    if spec.domain == "int_small":
        return rng.integers(-8, 8, shape, dtype=spec.dtype, endpoint=True)
    raise ValueError(f"unknown input domain {spec.domain!r}")


def draw_inputs(specs: Sequence[TensorSpec], seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [_draw(rng, spec) for spec in specs]
