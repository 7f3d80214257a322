"""The token-mixing family: PoolFormer's pooling mixer, PoNet's multi-granularity pooling, Max-Former's embedding.

These are the pooling-based token mixers of MetaFormer-style models; each is one layer with its own generator.
"""

from __future__ import annotations

import dataclasses
import random
from typing import Any

from tzer.generate.convolution import Conv
from tzer.generate.dtypes import draw_spatial_shape, single_layer_params
from tzer.generate.graph import Layer, Shape
from tzer.generate.pooling import Pool


@dataclasses.dataclass(frozen=True)
class PoolFormerMixer(Layer):
    """pool(x) - x with avg pooling (pool_size, stride 1, pad pool_size//2, count_include_pad=False)."""

    op = "poolformer_mixer"
    family = "token_mixing"
    subtracts = True
    pool_size: int = 3
    dims: int = 2

    def _pool(self) -> Pool:
        ones = (1,) * self.dims
        pad = (self.pool_size // 2,) * self.dims
        return Pool("avg", (self.pool_size,) * self.dims, ones, pad, ones, False, False)

    def out_shape(self, shape: Shape) -> Shape:
        return shape

    def accumulation(self, shape: Shape) -> int:
        return self.pool_size**self.dims + 1

    def te(self, x, weights):
        from tvm import topi

        return topi.subtract(self._pool().te(x, []), x)

    def torch(self, x, weights):
        return self._pool().torch(x, []) - x

    def magnitude(self, x, weights):
        return self._pool().torch(x, []) + x


@dataclasses.dataclass(frozen=True)
class PoNetPool(Layer):
    """PoNet-style multi-granularity pooling on a sequence (N, C, L): the sum, per position, of the global average,
    the max of the position's segment (L split into `segments` equal segments) and a local max over `local` tokens."""

    op = "ponet_pool"
    family = "token_mixing"
    segments: int
    local: int  # odd window, stride 1, same padding

    def out_shape(self, shape: Shape) -> Shape:
        return shape

    def accumulation(self, shape: Shape) -> int:
        return shape[2] + 2

    def _local(self) -> Pool:
        return Pool("max", (self.local,), (1,), (self.local // 2,), (1,))

    def te(self, x, weights):
        from tvm import te, topi

        n, c, length = (int(d) for d in x.shape)
        seg_len = length // self.segments
        mean = topi.nn.adaptive_pool1d(x, [1], "avg", layout="NCW")
        seg = topi.nn.adaptive_pool1d(x, [self.segments], "max", layout="NCW")
        local = self._local().te(x, [])
        return te.compute(
            (n, c, length),
            lambda b, ch, i: mean[b, ch, 0] + seg[b, ch, i // seg_len] + local[b, ch, i],
            name="ponet_mix",
        )

    def torch(self, x, weights):
        import torch.nn.functional as F

        length = x.shape[2]
        mean = x.mean(dim=2, keepdim=True)
        seg = F.adaptive_max_pool1d(x, self.segments).repeat_interleave(length // self.segments, dim=2)
        return mean + seg + self._local().torch(x, [])


@dataclasses.dataclass(frozen=True)
class MaxFormerEmbed(Layer):
    """Max-Former-style patch embedding: max_pool(patch, stride patch), then z + depthwise_conv3x3(z)."""

    op = "maxformer_embed"
    family = "token_mixing"
    patch: int

    def _pool(self) -> Pool:
        return Pool("max", (self.patch,) * 2, (self.patch,) * 2, (0, 0), (1, 1))

    def _mixer(self, channels: int) -> Conv:
        return Conv(dims=2, out_channels=channels, kernel=(3, 3), stride=(1, 1), padding=(1, 1), dilation=(1, 1),
                    groups=channels, bias=False, activation="none")

    def out_shape(self, shape: Shape) -> Shape:
        return self._pool().out_shape(shape)

    def weights(self, shape: Shape) -> tuple[Shape, ...]:
        return self._mixer(shape[1]).weights(self.out_shape(shape))

    def accumulation(self, shape: Shape) -> int:
        return 9 + 1

    def te(self, x, weights):
        from tvm import topi

        z = self._pool().te(x, [])
        return topi.add(z, self._mixer(int(x.shape[1])).te(z, weights))

    def torch(self, x, weights):
        z = self._pool().torch(x, [])
        return z + self._mixer(x.shape[1]).torch(z, weights)


def poolformer(rng: random.Random) -> dict[str, Any]:
    dims = rng.choice([1, 2, 2, 3])
    pool_size = rng.choice([3, 3, 5]) if dims < 3 else 3
    return single_layer_params(rng, draw_spatial_shape(rng, dims), PoolFormerMixer(pool_size, dims))


def ponet(rng: random.Random) -> dict[str, Any]:
    segments = rng.choice([1, 2, 4])
    length = segments * rng.randint(2, 8)
    shape = (rng.choice([1, 2]), rng.randint(1, 8), length)
    return single_layer_params(rng, shape, PoNetPool(segments, rng.choice([1, 3, 5])))


def maxformer(rng: random.Random) -> dict[str, Any]:
    patch = rng.choice([2, 4])
    shape = draw_spatial_shape(rng, 2, low=patch)
    return single_layer_params(rng, shape, MaxFormerEmbed(patch))
