"""Operator graphs with two faces: a TE computation for TVM and the PyTorch computation that means the same.

A program is a chain of `Layer`s on one input tensor (each step optionally a residual add), described by JSON-able
params. `build_program(params)` turns the params into a `Program`: the IRModule TVM compiles, the input specs, and a
float64 PyTorch reference. Building is deterministic: the same params give a structurally equal module.

To add an operator: subclass `Layer` as a frozen dataclass with JSON-able fields, give it a unique `op` name, add it to
`LAYERS` below (module:class), and implement `out_shape`, `te`, `torch` (and `weights`/`accumulation` if it has them).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

from tzer.errors import TzerBug
from tzer.registry import Registry

Shape = tuple[int, ...]

LAYERS: Registry[type["Layer"]] = Registry(
    "layer",
    {
        "pool": "tzer.generate.pooling:Pool",
        "adaptive_pool": "tzer.generate.pooling:AdaptivePool",
        "global_pool": "tzer.generate.pooling:GlobalPool",
        "gem": "tzer.generate.pooling:GeM",
        "spp": "tzer.generate.pooling:SpatialPyramidPool",
        "poolformer_mixer": "tzer.generate.token_mixing:PoolFormerMixer",
        "ponet_pool": "tzer.generate.token_mixing:PoNetPool",
        "maxformer_embed": "tzer.generate.token_mixing:MaxFormerEmbed",
        "conv": "tzer.generate.convolution:Conv",
        "activation": "tzer.generate.convolution:Activation",
    },
)

# Input domains: how input values are drawn. Chosen per program so that the reference is finite and the
# tolerance policy's error model holds (see tzer.judge.tolerance).
DOMAINS = ("normal", "positive", "int_full", "int_small")
DTYPES = ("float16", "float32", "int8", "int32")


@dataclasses.dataclass(frozen=True)
class TensorSpec:
    name: str
    shape: Shape
    dtype: str
    domain: str

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "shape": list(self.shape), "dtype": self.dtype, "domain": self.domain}


@dataclasses.dataclass(frozen=True)
class Layer:
    """One operator. Subclasses are frozen dataclasses; their fields are the operator's parameters."""

    op: ClassVar[str]
    family: ClassVar[str]
    transcendental: ClassVar[bool] = False  # uses pow/erf/exp: a few ulps more error
    subtracts: ClassVar[bool] = False  # computes a difference: positive inputs may cancel

    def out_shape(self, shape: Shape) -> Shape:
        raise NotImplementedError

    def weights(self, shape: Shape) -> tuple[Shape, ...]:
        """Shapes of the extra tensors (weights, bias) this layer reads, in the input's dtype and domain."""
        return ()

    def accumulation(self, shape: Shape) -> int:
        """How many terms one output element accumulates (the tolerance policy scales with it)."""
        return 1

    def te(self, x, weights: Sequence[Any]):
        raise NotImplementedError

    def torch(self, x, weights: Sequence[Any]):
        raise NotImplementedError

    def magnitude(self, x, weights: Sequence[Any]):
        """An upper bound, per output element, of the magnitudes of the terms it is computed from, given the same for
        the input and the weights (non-negative tensors). The tolerance policy scales rounding error by it, so a
        small result of large cancelling terms is judged by the size of its terms. The default fits ops that are
        monotone and positively homogeneous on non-negative inputs (sums, averages, max, convolution); a layer that
        subtracts or saturates overrides it."""
        return self.torch(x, weights)

    def to_json(self) -> dict[str, Any]:
        return {"op": self.op, **_to_lists(dataclasses.asdict(self))}

    @staticmethod
    def from_json(data: dict[str, Any]) -> "Layer":
        fields = dict(data)
        cls = LAYERS.get(fields.pop("op"))
        return cls(**{k: _to_tuples(v) for k, v in fields.items()})


def _to_lists(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return [_to_lists(v) for v in value]
    if isinstance(value, dict):
        return {k: _to_lists(v) for k, v in value.items()}
    return value


def _to_tuples(value: Any) -> Any:
    return tuple(_to_tuples(v) for v in value) if isinstance(value, list) else value


@dataclasses.dataclass(frozen=True)
class Step:
    layer: Layer
    residual: bool = False  # out = x + layer(x); needs a shape-preserving layer


@dataclasses.dataclass(frozen=True)
class GraphSpec:
    """A chain of steps on one input: the params a generator draws."""

    shape: Shape
    dtype: str
    domain: str
    steps: tuple[Step, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "shape": list(self.shape),
            "dtype": self.dtype,
            "domain": self.domain,
            "steps": [{"layer": s.layer.to_json(), "residual": s.residual} for s in self.steps],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "GraphSpec":
        steps = tuple(Step(Layer.from_json(s["layer"]), bool(s["residual"])) for s in data["steps"])
        if data["dtype"] not in DTYPES or data["domain"] not in DOMAINS:
            raise ValueError(f"unsupported dtype {data['dtype']!r} or input domain {data['domain']!r}")
        if len(data["shape"]) < 3 or not all(isinstance(d, int) and d > 0 for d in data["shape"]):
            raise ValueError(f"input shape {data['shape']} is not (N, C, spatial...) with positive extents")
        return cls(tuple(data["shape"]), str(data["dtype"]), str(data["domain"]), steps)

    def shapes(self) -> list[Shape]:
        """The shape entering each step, then the output shape."""
        shapes = [self.shape]
        for step in self.steps:
            out = step.layer.out_shape(shapes[-1])
            if step.residual and out != shapes[-1]:
                raise TzerBug(f"residual around {step.layer.op} changes shape {shapes[-1]} -> {out}")
            shapes.append(out)
        return shapes

    def accumulation(self) -> int:
        shapes = self.shapes()
        return sum(s.layer.accumulation(shapes[i]) + int(s.residual) for i, s in enumerate(self.steps))

    @property
    def families(self) -> tuple[str, ...]:
        return tuple(sorted({s.layer.family for s in self.steps}))

    @property
    def transcendental(self) -> bool:
        return any(s.layer.transcendental for s in self.steps)

    @property
    def float16_safe(self) -> bool:
        """Whether the tolerance policy can judge this program in float16 (see tzer.judge.tolerance)."""
        from tzer.judge.tolerance import FLOAT16_MAX_ACCUMULATION

        plain = not self.transcendental and not any(s.layer.subtracts for s in self.steps)
        return plain and self.accumulation() <= FLOAT16_MAX_ACCUMULATION


@dataclasses.dataclass(frozen=True)
class Program:
    """A buildable program: what TVM compiles, what it reads and writes, and what PyTorch says it should compute."""

    spec: GraphSpec
    mod: Any  # tvm.IRModule with one PrimFunc "main"(inputs..., output)
    inputs: tuple[TensorSpec, ...]
    output: TensorSpec
    reference: Callable[[Sequence[Any]], Any]  # float64 torch tensors in input order -> float64 torch tensor
    magnitude: Callable[[Sequence[Any]], Any]  # |inputs| (float64) -> bound on the terms' magnitudes (Layer.magnitude)

    @property
    def family(self) -> str:
        families = self.spec.families
        return families[0] if len(families) == 1 else "composition"


def build_program(spec: GraphSpec) -> Program:
    """Build the TE graph, the PrimFunc and the reference for `spec`. Deterministic."""
    import tvm
    from tvm import te, topi

    shapes = spec.shapes()
    x = te.placeholder(spec.shape, spec.dtype, name="x")
    inputs = [TensorSpec("x", spec.shape, spec.dtype, spec.domain)]
    placeholders = [x]
    step_weights: list[range] = []
    current = x
    for index, step in enumerate(spec.steps):
        first = len(inputs)
        for k, wshape in enumerate(step.layer.weights(shapes[index])):
            name = f"w{index}_{k}"
            placeholders.append(te.placeholder(wshape, spec.dtype, name=name))
            inputs.append(TensorSpec(name, wshape, spec.dtype, spec.domain))
        step_weights.append(range(first, len(inputs)))
        out = step.layer.te(current, [placeholders[i] for i in step_weights[-1]])
        current = topi.add(current, out) if step.residual else out
    got_shape = tuple(int(d) for d in current.shape)
    if got_shape != shapes[-1] or current.dtype != spec.dtype:
        raise TzerBug(f"TE graph gives {got_shape} {current.dtype}, expected {shapes[-1]} {spec.dtype}: {spec}")
    func = te.create_prim_func([*placeholders, current])
    mod = tvm.IRModule({"main": func})

    def chain(tensors: Sequence[Any], face: str) -> Any:
        value = tensors[0]
        for step, indices in zip(spec.steps, step_weights):
            out = getattr(step.layer, face)(value, [tensors[i] for i in indices])
            value = value + out if step.residual else out  # for magnitudes too: |a + b| <= |a| + |b|
        return value

    output = TensorSpec("out", shapes[-1], spec.dtype, spec.domain)
    return Program(spec, mod, tuple(inputs), output, lambda tensors: chain(tensors, "torch"),
                   lambda magnitudes: chain(magnitudes, "magnitude"))


# Helpers shared by the layer modules.


def spatial_layout(dims: int) -> str:
    """topi's layout string for an N-d NC... tensor."""
    return {1: "NCW", 2: "NCHW", 3: "NCDHW"}[dims]


def const(value: float, dtype: str):
    from tvm import tirx

    return tirx.const(value, dtype)
