"""The tolerance policy: when TVM's numbers count as equal to the float64 reference's.

Written once, here, for every dtype and op family:

* The reference is PyTorch in float64 on the very inputs TVM saw, so its own rounding is negligible and the whole
  budget goes to TVM's rounding in the program's dtype.
* Floats: element i passes when |got_i - ref_i| <= rtol * M_i + atol * S. M is the magnitude reference: the same
  graph run on |inputs| with every subtraction turned into an addition (Layer.magnitude), an upper bound of the
  magnitudes of the terms element i is computed from; S = max M, and u is the dtype's unit roundoff. A sum of K
  terms errs by at most K * u * (the sum of its terms' magnitudes) in any order, and through a chain of such steps
  the bounds add up, so rtol grows with the program's accumulation K (the terms one output element accumulates,
  summed over the steps). The worst case K * u is far from what random inputs show (rounding errors are
  independent: about sqrt(K) * u), and it would blind the oracle on large reductions, so the growth is
  g(K) = min(K, 4 sqrt(K)) + 4: exact worst case up to K = 16, four standard deviations above it. Scaling by M rather
  than |ref| matters where large terms cancel (PoolFormer's pool(x) - x, residual chains): the result is small but
  its rounding error is not. Without a magnitude reference, M = |ref|.
    - float32: rtol = u * g(K), plus 64 u where the program calls pow/erf (their approximations cost a few ulps);
      atol = u. With K below ~1000 in generated programs, a planted relative error of 1e-3 is always flagged.
    - float16: inputs are drawn positive, so sums have no cancellation and M = |ref|: rtol = u * (K + 2), atol = u.
      Programs draw float16 only when K <= FLOAT16_MAX_ACCUMULATION, which keeps the bound under the 1e-2 relative
      error that must be flagged.
    - integers: exact.
* NaN/Inf: inputs are drawn so the reference is finite; a NaN or Inf in TVM's output where the reference is finite is
  a mismatch. A NaN in the reference is tzer's bug (it drew bad inputs) and raises.
* Convention, not a bug: a max-pool window lying wholly in padding. topi pads max pooling with the dtype's lowest
  finite value, PyTorch with -inf; so a reference of -inf matches TVM's lowest finite value (or -inf).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from tzer.errors import TzerBug

UNIT_ROUNDOFF = {"bfloat16": 2.0**-8, "float16": 2.0**-11, "float32": 2.0**-24, "float64": 2.0**-53}
FLOAT16_MAX_ACCUMULATION = 12
TRANSCENDENTAL_ULPS = 64


@dataclasses.dataclass(frozen=True)
class Tolerance:
    rtol: float
    atol: float  # relative to the output's scale S

    @property
    def exact(self) -> bool:
        return self.rtol == 0 and self.atol == 0


def growth(accumulation: int) -> float:
    """g(K): the worst case K for small sums, four standard deviations of independent rounding errors beyond."""
    return min(float(accumulation), 4.0 * math.sqrt(accumulation)) + 4.0


def tolerance_for(dtype: str, accumulation: int, transcendental: bool) -> Tolerance:
    if dtype not in UNIT_ROUNDOFF:
        return Tolerance(0.0, 0.0)
    u = UNIT_ROUNDOFF[dtype]
    extra = TRANSCENDENTAL_ULPS if transcendental else 0
    if dtype == "float16":
        return Tolerance(u * (accumulation + 2 + extra), u)
    return Tolerance(u * (growth(accumulation) + extra), u)


@dataclasses.dataclass(frozen=True)
class Comparison:
    ok: bool
    max_abs_error: float
    max_rel_error: float
    bad_elements: int
    message: str  # empty when ok


def _lowest(dtype: str) -> float:
    return float(np.finfo(dtype).min if dtype.startswith("float") else np.iinfo(dtype).min)


def compare(got: np.ndarray, ref: np.ndarray, dtype: str, tolerance: Tolerance,
            magnitude: np.ndarray | None = None) -> Comparison:
    """Judge TVM's output `got` (in `dtype`) against the float64 reference `ref`, rounding error scaled by
    `magnitude` (see the module docstring; |ref| when not given)."""
    if got.shape != ref.shape:
        return Comparison(False, float("inf"), float("inf"), got.size, f"shape {got.shape} != reference {ref.shape}")
    if np.isnan(ref).any() or np.isposinf(ref).any():
        raise TzerBug("reference is not finite: the generator drew inputs outside the policy")
    got64 = got.astype(np.float64)
    padded_window = np.isneginf(ref)  # max pooling over a window wholly in padding (see module docstring)
    convention_ok = padded_window & ((got64 == _lowest(dtype)) | np.isneginf(got64))
    finite_ref = np.where(padded_window, 0.0, ref)
    magnitude = np.abs(finite_ref) if magnitude is None else np.where(np.isfinite(magnitude), magnitude, 0.0)
    scale = max(float(magnitude.max(initial=0.0)), np.finfo(np.float64).tiny)
    with np.errstate(invalid="ignore", over="ignore"):
        abs_err = np.abs(got64 - finite_ref)
        abs_err = np.where(np.isnan(abs_err), np.inf, abs_err)  # NaN in TVM's output never passes
        abs_err = np.where(convention_ok, 0.0, np.where(padded_window, np.inf, abs_err))
        bound = tolerance.rtol * magnitude + tolerance.atol * scale
        bad = abs_err > bound
        rel_err = abs_err / np.maximum(np.abs(finite_ref), scale * 1e-6)
    max_abs = float(abs_err.max(initial=0.0))
    max_rel = float(rel_err.max(initial=0.0))
    count = int(bad.sum())
    if count == 0:
        return Comparison(True, max_abs, max_rel, 0, "")
    index = np.unravel_index(int(np.argmax(np.where(bad, abs_err - bound, -np.inf))), got.shape)
    message = (
        f"{count} of {got.size} elements differ; worst at {tuple(int(i) for i in index)}: "
        f"got {float(got64[index])!r}, expected {float(ref[index])!r} (max abs {max_abs:.3g}, max rel {max_rel:.3g}, "
        f"rtol {tolerance.rtol:.3g}, atol {tolerance.atol:.3g} x scale {scale:.3g})"
    )
    return Comparison(False, max_abs, max_rel, count, message)


def run_tolerance(output_dtype: str, compute_dtypes: set[str], accumulation: int, transcendental: bool) -> Tolerance:
    """The tolerance between two builds of one mutant: in the mutant's least precise float dtype (a mutant that
    keeps an intermediate in bfloat16 rounds at different points in different builds), with the worst-case growth."""
    floats = [d for d in compute_dtypes | {output_dtype} if d in UNIT_ROUNDOFF]
    if output_dtype not in UNIT_ROUNDOFF or not floats:
        return tolerance_for(output_dtype, accumulation, transcendental)
    u = max(UNIT_ROUNDOFF[d] for d in floats)
    extra = TRANSCENDENTAL_ULPS if transcendental else 0
    return Tolerance(u * (growth(accumulation) + extra), u)


def compare_runs(got: np.ndarray, ref: np.ndarray, dtype: str, tolerance: Tolerance) -> Comparison:
    """Judge one TVM build's output against another's (opt vs unopt), both in `dtype`. A mutant's reference may
    hold NaN or Inf (a perturbed constant divides by zero): there `got` must hold the same special value. Finite
    elements are judged as in `compare`, scaled by |ref|."""
    got64, ref64 = got.astype(np.float64), ref.astype(np.float64)
    special = ~np.isfinite(ref64)
    same_special = special & ((np.isnan(ref64) & np.isnan(got64)) | (ref64 == got64))
    finite_ref = np.where(special, 0.0, ref64)
    finite_got = np.where(same_special, 0.0, got64)
    result = compare(finite_got, finite_ref, dtype, tolerance)
    mismatched_specials = int((special & ~same_special).sum())
    if mismatched_specials == 0:
        return result
    index = tuple(int(i) for i in np.argwhere(special & ~same_special)[0])
    message = (f"{mismatched_specials} of {got.size} non-finite reference elements differ; first at {index}: got "
               f"{float(got64[index])!r}, expected {float(ref64[index])!r}")
    return Comparison(False, float("inf"), float("inf"), result.bad_elements + mismatched_specials,
                      message if result.ok else f"{result.message}; {message}")
