"""The pooling family: avg/max pooling, adaptive and global pooling, GeM, spatial pyramid pooling; and its generators.

Each generator draws a `GraphSpec` from an injected `random.Random`; parameters stay inside what PyTorch accepts
and where topi and PyTorch agree on the convention (see `pool_output_length`).
"""

from __future__ import annotations

import dataclasses
import math
import random
from typing import Any

from tzer.generate.graph import Layer, Shape, const, spatial_layout
from tzer.generate.dtypes import draw_spatial_shape, single_layer_params


def pool_output_length(length: int, kernel: int, stride: int, pad: int, dilation: int, ceil_mode: bool) -> int | None:
    """PyTorch's output length, or None where topi's convention differs from PyTorch's.

    topi's ceil mode pads the end by stride-1 and stops there; PyTorch also drops a last window that would start in
    the right padding. Where that rule kicks in the two disagree by design (a convention, not a bug), so such
    parameters are never drawn.
    """
    span = length + 2 * pad - dilation * (kernel - 1) - 1
    if span < 0:
        return None
    out = (span + (stride - 1 if ceil_mode else 0)) // stride + 1
    if ceil_mode and (out - 1) * stride >= length + pad:
        return None
    return out


@dataclasses.dataclass(frozen=True)
class Pool(Layer):
    op = "pool"
    family = "pooling"
    kind: str  # "avg" | "max"
    kernel: tuple[int, ...]
    stride: tuple[int, ...]
    padding: tuple[int, ...]  # symmetric, one per spatial dim
    dilation: tuple[int, ...]
    ceil_mode: bool = False
    count_include_pad: bool = True

    def out_shape(self, shape: Shape) -> Shape:
        spatial = []
        for length, k, s, p, d in zip(shape[2:], self.kernel, self.stride, self.padding, self.dilation):
            out = pool_output_length(length, k, s, p, d, self.ceil_mode)
            if out is None:
                raise ValueError(f"pool {self} does not fit length {length}")
            spatial.append(out)
        return (*shape[:2], *spatial)

    def accumulation(self, shape: Shape) -> int:
        return math.prod(self.kernel) if self.kind == "avg" else 1

    def te(self, x, weights):
        from tvm import topi

        dims = len(self.kernel)
        pool = {1: topi.nn.pool1d, 2: topi.nn.pool2d, 3: topi.nn.pool3d}[dims]
        return pool(x, list(self.kernel), list(self.stride), list(self.dilation), [*self.padding, *self.padding],
                    self.kind, ceil_mode=self.ceil_mode, layout=spatial_layout(dims),
                    count_include_pad=self.count_include_pad)

    def torch(self, x, weights):
        import torch.nn.functional as F

        dims = len(self.kernel)
        if self.kind == "avg":
            avg = {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}[dims]
            return avg(x, self.kernel, self.stride, self.padding, ceil_mode=self.ceil_mode,
                       count_include_pad=self.count_include_pad)
        mx = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}[dims]
        return mx(x, self.kernel, self.stride, self.padding, self.dilation, ceil_mode=self.ceil_mode)


def adaptive_window(length: int, out: int) -> int:
    """The largest adaptive pooling window: end - start with start=floor(i*L/O), end=ceil((i+1)*L/O)."""
    return max(-(-(i + 1) * length // out) - (i * length // out) for i in range(out))


@dataclasses.dataclass(frozen=True)
class AdaptivePool(Layer):
    op = "adaptive_pool"
    family = "pooling"
    kind: str
    output_size: tuple[int, ...]

    def out_shape(self, shape: Shape) -> Shape:
        return (*shape[:2], *self.output_size)

    def accumulation(self, shape: Shape) -> int:
        if self.kind == "max":
            return 1
        return math.prod(adaptive_window(n, o) for n, o in zip(shape[2:], self.output_size))

    def te(self, x, weights):
        from tvm import topi

        dims = len(self.output_size)
        pool = {1: topi.nn.adaptive_pool1d, 2: topi.nn.adaptive_pool, 3: topi.nn.adaptive_pool3d}[dims]
        return pool(x, list(self.output_size), self.kind, layout=spatial_layout(dims))

    def torch(self, x, weights):
        import torch.nn.functional as F

        dims = len(self.output_size)
        table = {
            ("avg", 1): F.adaptive_avg_pool1d, ("avg", 2): F.adaptive_avg_pool2d, ("avg", 3): F.adaptive_avg_pool3d,
            ("max", 1): F.adaptive_max_pool1d, ("max", 2): F.adaptive_max_pool2d, ("max", 3): F.adaptive_max_pool3d,
        }
        return table[(self.kind, dims)](x, self.output_size)


@dataclasses.dataclass(frozen=True)
class GlobalPool(Layer):
    op = "global_pool"
    family = "pooling"
    kind: str
    dims: int

    def out_shape(self, shape: Shape) -> Shape:
        return (*shape[:2], *([1] * self.dims))

    def accumulation(self, shape: Shape) -> int:
        return math.prod(shape[2:]) if self.kind == "avg" else 1

    def te(self, x, weights):
        from tvm import topi

        if self.dims == 2:  # topi has a dedicated global pool for NCHW only; exercise it
            return topi.nn.global_pool(x, self.kind, layout="NCHW")
        return AdaptivePool(self.kind, (1,) * self.dims).te(x, weights)

    def torch(self, x, weights):
        axes = tuple(range(2, 2 + self.dims))
        return x.mean(dim=axes, keepdim=True) if self.kind == "avg" else x.amax(dim=axes, keepdim=True)


@dataclasses.dataclass(frozen=True)
class GeM(Layer):
    """Generalized-mean pooling: (mean of clamp(x, eps)^p)^(1/p) over the spatial dims."""

    op = "gem"
    family = "pooling"
    transcendental = True
    p: float
    eps: float
    dims: int = 2

    def out_shape(self, shape: Shape) -> Shape:
        return (*shape[:2], *([1] * self.dims))

    def accumulation(self, shape: Shape) -> int:
        return math.prod(shape[2:])

    def te(self, x, weights):
        from tvm import topi

        powered = topi.power(topi.maximum(x, const(self.eps, x.dtype)), const(self.p, x.dtype))
        pooled = GlobalPool("avg", self.dims).te(powered, [])
        return topi.power(pooled, const(1.0 / self.p, x.dtype))

    def torch(self, x, weights):
        axes = tuple(range(2, 2 + self.dims))
        return x.clamp(min=self.eps).pow(self.p).mean(dim=axes, keepdim=True).pow(1.0 / self.p)


@dataclasses.dataclass(frozen=True)
class SpatialPyramidPool(Layer):
    """Adaptive pools at several levels on NCHW, each flattened to (N, C*l*l), concatenated on axis 1."""

    op = "spp"
    family = "pooling"
    kind: str
    levels: tuple[int, ...]

    def out_shape(self, shape: Shape) -> Shape:
        return (shape[0], shape[1] * sum(level * level for level in self.levels))

    def accumulation(self, shape: Shape) -> int:
        return max(AdaptivePool(self.kind, (lv, lv)).accumulation(shape) for lv in self.levels)

    def te(self, x, weights):
        from tvm import topi

        n, c = (int(d) for d in x.shape[:2])
        flat = [topi.reshape(topi.nn.adaptive_pool(x, [lv, lv], self.kind), (n, c * lv * lv)) for lv in self.levels]
        return topi.concatenate(flat, axis=1)

    def torch(self, x, weights):
        import torch

        return torch.cat([AdaptivePool(self.kind, (lv, lv)).torch(x, []).flatten(1) for lv in self.levels], dim=1)


# Generators: each draws a GraphSpec (as JSON params) from an injected Random.


def _draw_pool_dim(rng: random.Random, length: int, kind: str, ceil_mode: bool) -> tuple[int, int, int, int] | None:
    kernel = rng.randint(1, min(4, length))
    stride = rng.randint(1, 3)
    dilation = rng.choice([1, 1, 2]) if kind == "max" else 1  # PyTorch's avg pooling has no dilation
    pad = rng.randint(0, kernel // 2)  # PyTorch's rule (on the undilated kernel, whatever its message says)
    if pool_output_length(length, kernel, stride, pad, dilation, ceil_mode) is None:
        return None
    return kernel, stride, pad, dilation


def draw_pool(rng: random.Random, kind: str) -> Pool:
    """Redraws until every spatial dim fits (PyTorch's padding rule and the ceil-mode convention)."""
    dims = rng.randint(1, 3)
    ceil_mode = rng.random() < 0.3
    while True:
        shape = draw_spatial_shape(rng, dims)
        drawn = [_draw_pool_dim(rng, n, kind, ceil_mode) for n in shape[2:]]
        if all(d is not None for d in drawn):
            k, s, p, d = (tuple(col) for col in zip(*drawn))
            return shape, Pool(kind, k, s, p, d, ceil_mode, rng.random() < 0.5)


def avg_pool(rng: random.Random) -> dict[str, Any]:
    shape, layer = draw_pool(rng, "avg")
    return single_layer_params(rng, shape, layer, int_ok=False)


def max_pool(rng: random.Random) -> dict[str, Any]:
    shape, layer = draw_pool(rng, "max")
    return single_layer_params(rng, shape, layer, int_ok=True)


def adaptive_pool(rng: random.Random) -> dict[str, Any]:
    dims = rng.randint(1, 3)
    shape = draw_spatial_shape(rng, dims)
    kind = rng.choice(["avg", "max"])
    out = tuple(rng.randint(1, n) for n in shape[2:])
    return single_layer_params(rng, shape, AdaptivePool(kind, out), int_ok=kind == "max")


def global_pool(rng: random.Random) -> dict[str, Any]:
    dims = rng.randint(1, 3)
    kind = rng.choice(["avg", "max"])
    return single_layer_params(rng, draw_spatial_shape(rng, dims), GlobalPool(kind, dims), int_ok=kind == "max")


def gem(rng: random.Random) -> dict[str, Any]:
    layer = GeM(p=rng.choice([1.0, 2.0, 3.0, 4.0]), eps=rng.choice([1e-6, 1e-3]), dims=2)
    return single_layer_params(rng, draw_spatial_shape(rng, 2), layer, int_ok=False)


def spp(rng: random.Random) -> dict[str, Any]:
    shape = draw_spatial_shape(rng, 2, low=4)
    levels = tuple(sorted(rng.sample([1, 2, 3, 4], rng.randint(2, 3))))
    kind = rng.choice(["max", "max", "avg"])
    return single_layer_params(rng, shape, SpatialPyramidPool(kind, levels), int_ok=kind == "max")
