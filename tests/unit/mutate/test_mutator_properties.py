"""Properties every registered mutator must have, checked with Hypothesis on programs of every generator:
the mutant is well-formed or None, the same seed gives the same mutant, the input is left alone, and the mutant
survives the TVMScript and JSON round trips."""

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tzer.mutate import MUTATORS

PROPERTY_SETTINGS = settings(max_examples=12, deadline=None, derandomize=True,
                             suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def _mutate(name, mod, seed):
    return MUTATORS.get(name)(mod, random.Random(seed))


@pytest.mark.parametrize("name", MUTATORS.names())
@PROPERTY_SETTINGS
@given(data=st.data(), seed=st.integers(0, 2**32 - 1))
def test_mutant_is_well_formed_deterministic_and_round_trips(seeds, name, data, seed):
    import tvm
    import tvm_ffi

    label, mod = data.draw(st.sampled_from(seeds), label="seed module")
    before = tvm_ffi.structural_hash(mod)
    mutant = _mutate(name, mod, seed)
    assert tvm_ffi.structural_hash(mod) == before, f"{name} changed its input"
    if mutant is None:
        return
    assert tvm.s_tir.analysis.verify_well_formed(mutant), f"{name} on {label}: ill-formed mutant"
    again = _mutate(name, mod, seed)
    assert again is not None and tvm_ffi.structural_equal(mutant, again), f"{name} on {label}: not deterministic"
    reparsed = tvm.script.from_source(mutant.script())
    assert tvm_ffi.structural_equal(mutant, reparsed), f"{name} on {label}: TVMScript round trip differs"
    reloaded = tvm.ir.load_json(tvm.ir.save_json(mutant))
    assert tvm_ffi.structural_equal(mutant, reloaded), f"{name} on {label}: JSON round trip differs"


def test_every_table_entry_names_a_mutator():
    for name in MUTATORS.names():
        assert callable(MUTATORS.get(name)), name
