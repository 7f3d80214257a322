"""The composition family: small MetaFormer-like blocks chaining 2-5 layers of the other families with residual adds."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from tzer.generate.convolution import Activation, Conv
from tzer.generate.dtypes import choose_dtype, draw_spatial_shape
from tzer.generate.graph import Layer, Step
from tzer.generate.pooling import Pool
from tzer.generate.token_mixing import MaxFormerEmbed, PoolFormerMixer


def _same_pool(kind: str, dims: int) -> Pool:
    ones = (1,) * dims
    return Pool(kind, (3,) * dims, ones, ones, ones, False, False)


def _depthwise(channels: int, dims: int) -> Conv:
    return Conv(dims, channels, (3,) * dims, (1,) * dims, (1,) * dims, (1,) * dims, channels, True, "none")


def _pointwise(channels: int, dims: int, rng: random.Random) -> Conv:
    ones = (1,) * dims
    return Conv(dims, channels, ones, ones, (0,) * dims, ones, 1, True, rng.choice(["none", "relu", "gelu"]))


# Shape-preserving layer makers: (rng, channels, dims) -> Layer.
BLOCK_LAYERS: list[Callable[[random.Random, int, int], Layer]] = [
    lambda rng, c, d: PoolFormerMixer(3, d),
    lambda rng, c, d: _depthwise(c, d),
    lambda rng, c, d: _pointwise(c, d, rng),
    lambda rng, c, d: Activation(rng.choice(["relu", "gelu"])),
    lambda rng, c, d: _same_pool(rng.choice(["avg", "max"]), d),
]


def metaformer(rng: random.Random) -> dict[str, Any]:
    dims = rng.choice([1, 2, 2, 3])
    shape = draw_spatial_shape(rng, dims, low=4)
    steps: list[Step] = []
    if dims == 2 and rng.random() < 0.3:
        steps.append(Step(MaxFormerEmbed(2)))
    while len(steps) < rng.randint(2, 5):
        layer = rng.choice(BLOCK_LAYERS)(rng, shape[1], dims)
        steps.append(Step(layer, residual=rng.random() < 0.6))
    return choose_dtype(rng, tuple(steps), shape, int_ok=False).to_json()
