"""The tolerance policy (tzer.judge.tolerance): planted errors are flagged, rounding noise and conventions pass."""

import numpy as np
import pytest

from tzer.errors import TzerBug
from tzer.judge.tolerance import FLOAT16_MAX_ACCUMULATION, Tolerance, compare, tolerance_for

ACCUMULATIONS = [1, 9, 256, 1000]


def accumulated_reference(rng: np.random.Generator, k: int, dtype: str, positive: bool, n: int = 512):
    """A realistic reference: each of n outputs sums k products of inputs in `dtype` (as a conv or pool does),
    computed in float64 on exactly the values TVM would see."""
    if positive:
        a = rng.uniform(0.5, 2.0, (n, k)).astype(dtype)
        b = rng.uniform(0.5, 2.0, k).astype(dtype)
    else:
        a = rng.standard_normal((n, k)).astype(dtype)
        b = rng.standard_normal(k).astype(dtype)
    return a, b, a.astype(np.float64) @ b.astype(np.float64)


def magnitude_of(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """What the oracle's magnitude reference gives for these sums: the sum of the terms' magnitudes."""
    return np.abs(a.astype(np.float64)) @ np.abs(b.astype(np.float64))


def sequential_sum(a: np.ndarray, b: np.ndarray, dtype: str) -> np.ndarray:
    """The sum as a naive loop in `dtype` computes it: every partial sum rounded to `dtype`."""
    products = (a * b).astype(dtype)
    return np.cumsum(products, axis=1, dtype=dtype)[:, -1]


def test_tolerance_for_integers_is_exact_and_floats_grow_with_accumulation():
    assert tolerance_for("int8", 100, False).exact
    assert tolerance_for("int32", 1, True).exact
    assert not tolerance_for("float32", 1, False).exact
    assert tolerance_for("float32", 100, False).rtol > tolerance_for("float32", 10, False).rtol
    assert tolerance_for("float32", 10, True).rtol > tolerance_for("float32", 10, False).rtol
    assert tolerance_for("float16", 10, False).rtol > tolerance_for("float32", 10, False).rtol


@pytest.mark.parametrize("dtype", ["float32", "float16", "int8", "int32"])
def test_identical_arrays_pass(dtype):
    rng = np.random.default_rng(0)
    if dtype.startswith("int"):
        got = rng.integers(np.iinfo(dtype).min, np.iinfo(dtype).max, (4, 5), dtype=dtype, endpoint=True)
    else:
        got = rng.uniform(0.5, 2.0, (4, 5)).astype(dtype)
    result = compare(got, got.astype(np.float64), dtype, tolerance_for(dtype, 1, False))
    assert result.ok, result.message
    assert result.bad_elements == 0 and result.max_abs_error == 0.0 and result.message == ""


@pytest.mark.parametrize("k", ACCUMULATIONS)
@pytest.mark.parametrize("transcendental", [False, True])
def test_float32_planted_relative_error_1e_3_is_flagged(k, transcendental):
    rng = np.random.default_rng(k)
    a, b, ref = accumulated_reference(rng, k, "float32", positive=False)
    got = (ref.astype(np.float32) * np.float32(1 + 1e-3)).astype(np.float32)
    result = compare(got, ref, "float32", tolerance_for("float32", k, transcendental), magnitude_of(a, b))
    assert not result.ok
    assert result.bad_elements > ref.size // 2  # not just one unlucky element: most of the output is flagged
    assert result.max_rel_error == pytest.approx(1e-3, rel=0.05)
    assert "elements differ" in result.message and "\n" not in result.message


@pytest.mark.parametrize("k", ACCUMULATIONS)
def test_float32_real_accumulation_rounding_passes(k):
    rng = np.random.default_rng(100 + k)
    a, b, ref = accumulated_reference(rng, k, "float32", positive=False)
    got = sequential_sum(a, b, "float32")
    assert not np.array_equal(got.astype(np.float64), ref) or k == 1  # there is rounding to forgive
    result = compare(got, ref, "float32", tolerance_for("float32", k, False), magnitude_of(a, b))
    assert result.ok, result.message


@pytest.mark.parametrize("k", ACCUMULATIONS)
@pytest.mark.parametrize("ulps", [1, 2, 3])
def test_float32_noise_of_a_few_ulps_passes(k, ulps):
    rng = np.random.default_rng(200 + k)
    _, _, ref = accumulated_reference(rng, k, "float32", positive=False)
    got = ref.astype(np.float32)
    direction = np.where(rng.random(got.shape) < 0.5, np.float32(-np.inf), np.float32(np.inf))
    for _ in range(ulps):
        got = np.nextafter(got, direction)
    result = compare(got, ref, "float32", tolerance_for("float32", k, False))
    assert result.ok, result.message


@pytest.mark.parametrize("k", list(range(1, FLOAT16_MAX_ACCUMULATION + 1)))
def test_float16_planted_relative_error_1e_2_is_flagged(k):
    rng = np.random.default_rng(300 + k)
    ref = rng.uniform(0.5, 2.0, 1024).astype(np.float16).astype(np.float64)
    got = (ref * (1 + 1e-2)).astype(np.float16)
    result = compare(got, ref, "float16", tolerance_for("float16", k, False))
    assert not result.ok
    assert result.bad_elements == ref.size


@pytest.mark.parametrize("k", list(range(1, FLOAT16_MAX_ACCUMULATION + 1)))
def test_float16_planted_relative_error_1e_2_is_flagged_on_positive_sums(k):
    rng = np.random.default_rng(400 + k)
    _, _, ref = accumulated_reference(rng, k, "float16", positive=True)
    got = (ref * (1 + 1e-2)).astype(np.float16)
    result = compare(got, ref, "float16", tolerance_for("float16", k, False))
    assert not result.ok
    assert result.bad_elements > ref.size // 2


@pytest.mark.parametrize("k", list(range(1, FLOAT16_MAX_ACCUMULATION + 1)))
def test_float16_real_accumulation_rounding_passes_on_positive_inputs(k):
    rng = np.random.default_rng(500 + k)
    a, b, ref = accumulated_reference(rng, k, "float16", positive=True)
    got = sequential_sum(a, b, "float16")
    result = compare(got, ref, "float16", tolerance_for("float16", k, False))
    assert result.ok, result.message


@pytest.mark.parametrize("k", [1, FLOAT16_MAX_ACCUMULATION])
def test_float16_one_ulp_noise_passes(k):
    rng = np.random.default_rng(600 + k)
    ref = rng.uniform(0.5, 2.0, 1024)
    got = np.nextafter(ref.astype(np.float16), np.float16(np.inf))
    result = compare(got, ref, "float16", tolerance_for("float16", k, False))
    assert result.ok, result.message


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("dtype", ["float32", "float16"])
def test_non_finite_output_where_reference_is_finite_is_a_mismatch(dtype, bad):
    ref = np.linspace(-1.0, 1.0, 12).reshape(3, 4)
    got = ref.astype(dtype)
    got[1, 2] = bad
    result = compare(got, ref, dtype, Tolerance(1.0, 1.0))  # even a huge tolerance never forgives NaN/Inf
    assert not result.ok
    assert result.bad_elements == 1
    assert "(1, 2)" in result.message


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_reference_is_tzers_bug(bad):
    ref = np.ones((2, 3))
    ref[0, 1] = bad
    with pytest.raises(TzerBug):
        compare(np.ones((2, 3), np.float32), ref, "float32", tolerance_for("float32", 1, False))


@pytest.mark.parametrize("dtype", ["int8", "int32"])
def test_integers_are_exact(dtype):
    rng = np.random.default_rng(7)
    got = rng.integers(-100, 100, (3, 5), dtype=dtype)
    ref = got.astype(np.float64)
    tolerance = tolerance_for(dtype, 1000, True)
    assert compare(got, ref, dtype, tolerance).ok
    off = ref.copy()
    off[2, 4] += 1
    result = compare(got, off, dtype, tolerance)
    assert not result.ok and result.bad_elements == 1 and result.max_abs_error == 1.0


@pytest.mark.parametrize("dtype", ["float32", "float16", "int8", "int32"])
def test_max_pool_padding_convention_lowest_finite_matches_minus_inf(dtype):
    # topi pads max pooling with the dtype's lowest finite value, PyTorch with -inf: a convention, not a bug.
    lowest = np.finfo(dtype).min if dtype.startswith("float") else np.iinfo(dtype).min
    ref = np.array([[1.0, -np.inf, 3.0], [-np.inf, 5.0, 6.0]])
    got = np.array([[1, lowest, 3], [lowest, 5, 6]], dtype=dtype)
    result = compare(got, ref, dtype, tolerance_for(dtype, 1, False))
    assert result.ok, result.message


@pytest.mark.parametrize("dtype", ["float32", "float16"])
def test_max_pool_padding_minus_inf_output_matches_minus_inf_reference(dtype):
    ref = np.array([1.0, -np.inf, 3.0])
    assert compare(ref.astype(dtype), ref, dtype, tolerance_for(dtype, 1, False)).ok


@pytest.mark.parametrize(
    "dtype,wrong",
    [
        ("float32", 0.0),
        ("float32", float(np.finfo("float32").min) / 2),
        ("float32", float(np.finfo("float16").min)),  # the lowest value of another dtype is not the convention
        ("float32", np.nan),
        ("float32", np.inf),
        ("float16", -1.0),
        ("int8", -127),
        ("int8", 0),
        ("int32", -128),
    ],
)
def test_minus_inf_reference_with_another_value_fails(dtype, wrong):
    ref = np.array([[1.0, -np.inf], [2.0, 3.0]])
    got = np.array([[1, 0], [2, 3]], dtype=dtype)
    got[0, 1] = wrong
    result = compare(got, ref, dtype, tolerance_for(dtype, 1000, True))
    assert not result.ok
    assert result.bad_elements == 1


@pytest.mark.parametrize("got_shape", [(2, 3, 1), (3, 2), (6,)])
def test_shape_mismatch_fails(got_shape):
    ref = np.zeros((2, 3))
    result = compare(np.zeros(got_shape, np.float32), ref, "float32", tolerance_for("float32", 1, False))
    assert not result.ok
    assert "shape" in result.message


def test_cancellation_is_judged_by_the_terms_magnitude():
    # A residual chain's output can be the small difference of large terms (seen: a MetaFormer block whose output
    # was 0.0029 with terms near 1). Its float32 rounding error is about u * |terms|, far above u * |result|.
    rng = np.random.default_rng(3)
    big = rng.uniform(0.5, 1.0, 64)
    small = rng.uniform(-0.01, 0.01, 64)
    ref = (big + small) - big  # = small, computed exactly in float64
    got = ((big + small).astype(np.float32) - big.astype(np.float32)).astype(np.float32)
    magnitude = 2 * big + np.abs(small)
    tolerance = tolerance_for("float32", 2, False)
    assert not compare(got, ref, "float32", tolerance).ok, "judged by |ref| alone, rounding looks like a bug"
    assert compare(got, ref, "float32", tolerance, magnitude).ok
    planted = (got.astype(np.float64) * (1 + 1e-3) + 1e-3 * np.sign(ref) * magnitude).astype(np.float32)
    assert not compare(planted, ref, "float32", tolerance, magnitude).ok
