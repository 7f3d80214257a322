"""Drawing shapes, dtypes and input domains for generated programs.

Shapes stay small so a compile takes well under a second. The dtype choice follows the tolerance policy: float16 only
where the policy can tell a real error from rounding (see tzer.judge.tolerance), integers only where exact.
"""

from __future__ import annotations

import dataclasses
import random

from typing import Any

from tzer.generate.graph import GraphSpec, Layer, Shape, Step

# Spatial extents per number of spatial dims: (low, high).
SPATIAL_RANGE = {1: (4, 32), 2: (4, 16), 3: (3, 8)}


def draw_spatial_shape(rng: random.Random, dims: int, low: int | None = None, channels: int | None = None) -> Shape:
    lo, hi = SPATIAL_RANGE[dims]
    lo = max(lo, low or lo)
    batch = rng.choice([1, 1, 2])
    c = channels if channels is not None else rng.randint(1, 8)
    return (batch, c, *(rng.randint(lo, hi) for _ in range(dims)))


def choose_dtype(rng: random.Random, steps: tuple[Step, ...], shape: Shape, int_ok: bool) -> GraphSpec:
    """The spec of `steps` on `shape` with a drawn dtype and input domain; float32 on normal inputs by default.

    float16 draws positive inputs: with no subtraction, the rounding error of a sum stays relative, so the policy
    can bound it (accumulation <= FLOAT16_MAX_ACCUMULATION). Integer dtypes only for exact ops (max, int conv).
    """
    spec = GraphSpec(shape, "float32", "normal", steps)
    roll = rng.random()
    if int_ok and roll < 0.2:
        dtype = rng.choice(["int8", "int32"])
        return dataclasses.replace(spec, dtype=dtype, domain="int_full")
    if spec.float16_safe and roll < 0.4:
        return dataclasses.replace(spec, dtype="float16", domain="positive")
    return spec


def single_layer_params(rng: random.Random, shape: Shape, layer: Layer, int_ok: bool = False) -> dict[str, Any]:
    """A generator's params for one `layer` on `shape`, with a drawn dtype (choose_dtype)."""
    return choose_dtype(rng, (Step(layer),), shape, int_ok).to_json()
