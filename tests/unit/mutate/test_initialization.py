"""The uninitialized-read check's parts: exposing intermediate buffers as parameters, and fills that always differ."""

import itertools
import random

import numpy as np
import pytest

from tzer.judge.initialization import FILLS, expose_allocations, filled, same_output


def _program(generator: str, seed: int = 1):
    from tzer.generate import GENERATORS
    from tzer.generate.graph import GraphSpec, build_program

    return build_program(GraphSpec.from_json(GENERATORS.get(generator)(random.Random(seed)))).mod


def test_root_allocations_become_trailing_parameters_and_the_module_stays_well_formed():
    import tvm

    mod = _program("poolformer")
    allocated = [str(b.name) for b in mod["main"].body.block.alloc_buffers]
    exposed, shapes = expose_allocations(mod)
    params = [str(p.name) for p in exposed["main"].params]
    assert allocated and params == [str(p.name) for p in mod["main"].params] + allocated
    assert len(exposed["main"].body.block.alloc_buffers) == 0 and len(shapes) == len(allocated)
    assert all(isinstance(shape, tuple) and dtype == "float32" for shape, dtype in shapes)
    assert tvm.s_tir.analysis.verify_well_formed(exposed)


def test_a_program_without_intermediates_is_left_alone():
    mod = _program("global_pool", 0)
    if len(mod["main"].body.block.alloc_buffers):
        pytest.skip("this draw allocates")
    assert expose_allocations(mod) == (mod, [])


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64", "int8", "int32", "uint8", "bool"])
def test_the_fills_differ_pairwise_and_stay_apart_under_even_functions(dtype):
    values = [filled((2,), dtype, which)[0] for which in range(len(FILLS))]
    if dtype == "bool":
        assert {v.item() for v in values} == {True, False}
        return
    if np.dtype(dtype).kind == "f":  # pow(x, 2k) and abs must not map two finite fills to one value; NaN is last
        finite = [abs(float(v)) for v in values[:-1]]
        assert len(set(finite)) == len(finite) and np.isnan(values[-1])
    else:
        assert len({v.item() for v in values}) == len(FILLS)


def test_same_output_compares_bitwise_with_nan_equal():
    a = np.array([1.0, np.nan], "float32")
    assert same_output(a, a.copy(), a.copy())
    assert not same_output(a, np.array([1.0, 2.0], "float32"))
    for x, y in itertools.permutations([np.int32(3), np.int32(4)]):
        assert not same_output(np.array([x]), np.array([y]))


def test_bfloat16_intermediates_are_exposed_and_filled():
    from tzer.mutate import MUTATORS

    mod = _program("poolformer")
    for seed in range(64):  # change_dtype draws bfloat16 for some intermediate sooner or later
        mutant = MUTATORS.get("change_dtype")(mod, random.Random(seed))
        dtypes = [str(b.dtype) for b in mutant["main"].body.block.alloc_buffers] if mutant is not None else []
        if "bfloat16" in dtypes:
            break
    else:
        pytest.skip("no bfloat16 intermediate drawn")
    _, shapes = expose_allocations(mutant)
    assert "bfloat16" in [dtype for _, dtype in shapes] and len(shapes) == len(dtypes)
    values = {float(filled((1,), "bfloat16", which)[0]) for which in range(len(FILLS) - 1)}
    assert len(values) == len(FILLS) - 1  # bfloat16 keeps the finite fills apart
