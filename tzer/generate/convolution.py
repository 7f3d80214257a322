"""The convolution family: conv1d/2d/3d with stride, padding, dilation and groups (depthwise included), an optional
bias and a ReLU/GELU activation; and its generator."""

from __future__ import annotations

import dataclasses
import math
import random
from typing import Any

from tzer.generate.dtypes import draw_spatial_shape, single_layer_params
from tzer.generate.graph import GraphSpec, Layer, Shape, Step, const, spatial_layout

ACTIVATIONS = ("none", "relu", "gelu")


def _activation_te(y, name: str):
    from tvm import te, topi

    if name == "relu":
        return topi.nn.relu(y)
    if name == "gelu":  # topi has no gelu; the erf form is PyTorch's default
        half, one, rsqrt2 = (const(v, y.dtype) for v in (0.5, 1.0, 0.7071067811865476))
        return te.compute(y.shape, lambda *i: half * y(*i) * (one + te.erf(y(*i) * rsqrt2)), name="gelu")
    return y


def _activation_torch(y, name: str):
    import torch.nn.functional as F

    return {"relu": F.relu, "gelu": F.gelu}.get(name, lambda t: t)(y)


@dataclasses.dataclass(frozen=True)
class Conv(Layer):
    op = "conv"
    family = "convolution"
    dims: int
    out_channels: int
    kernel: tuple[int, ...]
    stride: tuple[int, ...]
    padding: tuple[int, ...]
    dilation: tuple[int, ...]
    groups: int = 1
    bias: bool = False
    activation: str = "none"

    @property
    def transcendental(self) -> bool:  # type: ignore[override]
        return self.activation == "gelu"

    def out_shape(self, shape: Shape) -> Shape:
        spatial = [
            (n + 2 * p - d * (k - 1) - 1) // s + 1
            for n, k, s, p, d in zip(shape[2:], self.kernel, self.stride, self.padding, self.dilation)
        ]
        return (shape[0], self.out_channels, *spatial)

    def weights(self, shape: Shape) -> tuple[Shape, ...]:
        w = (self.out_channels, shape[1] // self.groups, *self.kernel)
        return (w, (self.out_channels,)) if self.bias else (w,)

    def accumulation(self, shape: Shape) -> int:
        return shape[1] // self.groups * math.prod(self.kernel) + int(self.bias)

    def te(self, x, weights):
        from tvm import te, topi

        y = topi.nn.conv(x, weights[0], list(self.stride), list(self.padding), list(self.dilation), self.groups,
                         spatial_layout(self.dims))
        if self.bias:
            b = weights[1]
            y = te.compute(y.shape, lambda n, o, *sp: y[(n, o, *sp)] + b[o], name="bias_add")
        return _activation_te(y, self.activation)

    def torch(self, x, weights):
        import torch.nn.functional as F

        conv = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}[self.dims]
        bias = weights[1] if self.bias else None
        y = conv(x, weights[0], bias, self.stride, self.padding, self.dilation, self.groups)
        return _activation_torch(y, self.activation)

    def magnitude(self, x, weights):
        # ReLU and GELU are (about) 1-Lipschitz: an error passes through them no larger, so the bound stays that of
        # the convolution's terms.
        return dataclasses.replace(self, activation="none").torch(x, weights)


@dataclasses.dataclass(frozen=True)
class Activation(Layer):
    op = "activation"
    family = "convolution"
    name: str

    @property
    def transcendental(self) -> bool:  # type: ignore[override]
        return self.name == "gelu"

    def out_shape(self, shape: Shape) -> Shape:
        return shape

    def te(self, x, weights):
        return _activation_te(x, self.name)

    def torch(self, x, weights):
        return _activation_torch(x, self.name)

    def magnitude(self, x, weights):
        return x  # |relu(x)|, |gelu(x)| <= |x|, and both pass errors on about unchanged


def draw_conv(rng: random.Random, shape: Shape, out_channels: int | None = None) -> Conv | None:
    """A conv that fits `shape`, or None (the caller redraws)."""
    dims = len(shape) - 2
    channels = shape[1]
    groups = rng.choice([g for g in range(1, channels + 1) if channels % g == 0])
    if rng.random() < 0.25:
        groups = channels  # depthwise
    out = out_channels if out_channels is not None else groups * rng.randint(1, max(1, 8 // groups))
    if out % groups:
        return None
    kernel = tuple(rng.randint(1, 3) for _ in range(dims))
    dilation = tuple(rng.choice([1, 1, 2]) for _ in range(dims))
    stride = tuple(rng.choice([1, 1, 2]) for _ in range(dims))
    padding = tuple(rng.randint(0, k // 2 * d + 1) for k, d in zip(kernel, dilation))
    conv = Conv(dims, out, kernel, stride, padding, dilation, groups, rng.random() < 0.5,
                rng.choice(ACTIVATIONS))
    return conv if all(n >= 1 for n in conv.out_shape(shape)[2:]) else None


def conv(rng: random.Random) -> dict[str, Any]:
    while True:
        shape = draw_spatial_shape(rng, rng.randint(1, 3))
        layer = draw_conv(rng, shape)
        if layer is not None:
            break
    if layer.activation != "gelu" and rng.random() < 0.1:
        # Integer convolution on small values is exact in int32 (and in the float64 reference).
        return GraphSpec(shape, "int32", "int_small", (Step(layer),)).to_json()
    return single_layer_params(rng, shape, layer)
