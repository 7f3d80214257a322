"""Generators and GraphSpec (no compile): deterministic draws, JSON round trips, shapes, and the dtype policy."""

import json
import random
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tzer.errors import ConfigError, TzerBug
from tzer.generate import GENERATORS, draw_test_case
from tzer.generate.graph import DOMAINS, GraphSpec, Layer, Step, TensorSpec
from tzer.generate.inputs import draw_inputs
from tzer.generate.pooling import Pool
from tzer.judge.tolerance import FLOAT16_MAX_ACCUMULATION
from tzer.records import canonical_json

NAMES = GENERATORS.names()
SEEDS = st.integers(0, 2**32 - 1)
PROPERTY = settings(max_examples=50, deadline=None, derandomize=True, database=None)

# Integer programs must be exact: max-type pooling on the full int range, or convolution on small ints in int32.
MAX_TYPE_OPS = {"pool", "adaptive_pool", "global_pool", "spp"}


def draw(name: str, seed: int) -> dict:
    return GENERATORS.get(name)(random.Random(seed))


def test_every_expected_generator_is_registered():
    assert set(NAMES) == {"avg_pool", "max_pool", "adaptive_pool", "global_pool", "gem", "spp", "poolformer",
                          "ponet", "maxformer", "conv", "metaformer"}


@pytest.mark.parametrize("name", NAMES)
@PROPERTY
@given(seed=SEEDS)
def test_same_seed_draws_equal_params(name, seed):
    assert draw(name, seed) == draw(name, seed)


@pytest.mark.parametrize("name", NAMES)
@PROPERTY
@given(seed=SEEDS)
def test_drawing_leaves_global_random_state_alone(name, seed):
    state = random.getstate()
    draw(name, seed)
    assert random.getstate() == state


@pytest.mark.parametrize("name", NAMES)
def test_different_seeds_draw_different_params(name):
    drawn = {canonical_json(draw(name, seed)) for seed in range(50)}
    assert len(drawn) > 10


@pytest.mark.parametrize("name", NAMES)
@PROPERTY
@given(seed=SEEDS)
def test_params_survive_json_and_graph_spec_round_trip(name, seed):
    params = draw(name, seed)
    loaded = json.loads(json.dumps(params))
    assert loaded == params
    spec = GraphSpec.from_json(loaded)
    assert spec.to_json() == params
    assert GraphSpec.from_json(spec.to_json()) == spec
    canonical_json(params)  # no NaN or other value the store cannot hash


@pytest.mark.parametrize("name", NAMES)
@PROPERTY
@given(seed=SEEDS)
def test_shapes_are_consistent(name, seed):
    spec = GraphSpec.from_json(draw(name, seed))
    shapes = spec.shapes()
    assert len(shapes) == len(spec.steps) + 1
    assert shapes[0] == spec.shape
    for shape in shapes:
        assert all(isinstance(d, int) and d >= 1 for d in shape), shapes
    for step, before, after in zip(spec.steps, shapes, shapes[1:]):
        if step.residual:
            assert before == after
    assert 1 <= spec.accumulation() < 2000  # the float32 policy's bound assumes K stays below ~2000


@pytest.mark.parametrize("name", NAMES)
@PROPERTY
@given(seed=SEEDS)
def test_dtype_policy(name, seed):
    spec = GraphSpec.from_json(draw(name, seed))
    assert spec.domain in DOMAINS
    if spec.dtype == "float16":
        assert spec.float16_safe and spec.domain == "positive"
        assert spec.accumulation() <= FLOAT16_MAX_ACCUMULATION
    elif spec.dtype in ("int8", "int32"):
        if spec.domain == "int_small":
            assert spec.dtype == "int32" and [s.layer.op for s in spec.steps] == ["conv"]
            assert spec.steps[0].layer.activation != "gelu"
        else:
            assert spec.domain == "int_full"
            assert all(s.layer.op in MAX_TYPE_OPS and s.layer.kind == "max" for s in spec.steps), spec
    else:
        assert (spec.dtype, spec.domain) == ("float32", "normal")


@pytest.mark.parametrize("name", ["avg_pool", "max_pool", "metaformer"])
@PROPERTY
@given(seed=SEEDS)
def test_drawn_pools_respect_pytorchs_padding_rule(name, seed):
    # PyTorch checks pad <= kernel // 2 on the undilated kernel; a larger pad makes the reference raise.
    spec = GraphSpec.from_json(draw(name, seed))
    for step in spec.steps:
        if isinstance(step.layer, Pool):
            assert all(p <= k // 2 for k, p in zip(step.layer.kernel, step.layer.padding)), step.layer


def test_every_dtype_path_is_drawn_somewhere():
    # The policy test above is vacuous unless float16 and int programs are actually drawn.
    seen = {(GraphSpec.from_json(draw(n, s)).dtype, GraphSpec.from_json(draw(n, s)).domain)
            for n in NAMES for s in range(60)}
    assert {("float32", "normal"), ("float16", "positive"), ("int8", "int_full"), ("int32", "int_full"),
            ("int32", "int_small")} <= seen


@pytest.mark.parametrize("name", ["gem", "poolformer"])
def test_transcendental_or_subtracting_programs_are_not_float16_safe(name):
    for seed in range(20):
        spec = GraphSpec.from_json(draw(name, seed))
        assert not spec.float16_safe and spec.dtype != "float16"


@pytest.mark.parametrize("name", NAMES)
@PROPERTY
@given(seed=SEEDS)
def test_draw_test_case_records_seeds_that_redraw_its_params(name, seed):
    test_case = draw_test_case(random.Random(seed), name, "llvm")
    again = draw_test_case(random.Random(seed), name, "llvm")
    assert test_case == again and test_case.key == again.key
    assert test_case.generator == name and test_case.target == "llvm"
    assert draw(name, test_case.program_seed) == test_case.params


def test_residual_that_changes_shape_is_tzers_bug():
    shrinking = Pool("max", (2,), (2,), (0,), (1,))
    spec = GraphSpec((1, 2, 8), "float32", "normal", (Step(shrinking, residual=True),))
    with pytest.raises(TzerBug, match="residual"):
        spec.shapes()
    assert GraphSpec((1, 2, 8), "float32", "normal", (Step(shrinking),)).shapes()[-1] == (1, 2, 4)


def test_unknown_layer_op_is_a_config_error():
    with pytest.raises(ConfigError, match="unknown layer 'softmax'"):
        Layer.from_json({"op": "softmax", "axis": 1})


@pytest.mark.parametrize(
    "domain,dtype,low,high",
    [("normal", "float32", -np.inf, np.inf), ("positive", "float16", 0.5, 2.0), ("int_full", "int8", -128, 127),
     ("int_small", "int32", -8, 8)],
)
def test_input_draws_are_seeded_and_stay_in_their_domain(domain, dtype, low, high):
    specs = [TensorSpec("x", (2, 3, 17), dtype, domain), TensorSpec("w", (4,), dtype, domain)]
    first, again, other = draw_inputs(specs, 5), draw_inputs(specs, 5), draw_inputs(specs, 6)
    for a, b, spec in zip(first, again, specs):
        assert a.dtype == np.dtype(dtype) and a.shape == spec.shape
        assert np.array_equal(a, b)
        assert np.isfinite(a.astype(np.float64)).all() and a.min() >= low and a.max() <= high
    assert not np.array_equal(first[0], other[0])


def test_unknown_input_domain_raises():
    with pytest.raises(ValueError, match="unknown input domain"):
        draw_inputs([TensorSpec("x", (2,), "float32", "uniform")], 0)


def test_drawing_every_generator_imports_neither_tvm_nor_torch():
    # A fresh interpreter, so the answer does not depend on what other tests (or tiers) imported before.
    script = textwrap.dedent("""
        import random, sys
        from tzer.generate import GENERATORS, draw_test_case
        from tzer.generate.graph import GraphSpec
        from tzer.generate.inputs import draw_inputs
        from tzer.corpus import load_corpus
        for name in GENERATORS.names():
            for seed in range(5):
                test_case = draw_test_case(random.Random(seed), name, "llvm")
                spec = GraphSpec.from_json(test_case.params)
                spec.shapes(), spec.accumulation(), spec.float16_safe, spec.families
        assert "tzer.generate.metaformer" not in sys.modules
        print(sorted(m for m in sys.modules if m.split(".")[0] in ("tvm", "tvm_ffi", "torch")))
        print("tzer.generate.composition" in sys.modules)
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True)
    assert result.stdout.split("\n")[:2] == ["[]", "True"], result.stdout + result.stderr
