"""Whose code a function is (tzer.observe.native.owners): the segmentation and the spreading of anchors, on made-up
address layouts (the real library is checked by tests/integration/test_native_coverage.py)."""

import numpy as np

from tzer.observe.native.owners import _namespace, _namespace_of_symbol, owner_runs, spread_along_jumps


def starts_of(count: int) -> np.ndarray:
    return np.arange(count, dtype=np.uint64) * 16 + 0x1000


def test_runs_follow_the_anchors_and_a_stray_anchor_does_not_split_a_run():
    labels = np.zeros(200, dtype=np.int64)
    labels[0:100:3] = 1  # TVM's objects first
    labels[100:200:3] = -1  # then LLVM's
    labels[40] = -1  # an LLVM template instantiated in a TVM object
    owned = owner_runs(starts_of(200), labels)
    assert owned[:99].all() and not owned[101:].any()
    assert owned[40]


def test_unlabelled_functions_take_the_nearest_labelled_ones_owner():
    labels = np.zeros(100, dtype=np.int64)
    labels[:20] = 1
    labels[80:] = -1
    owned = owner_runs(starts_of(100), labels)
    assert owned[:50].all() and not owned[50:].any()


def test_a_run_needs_more_disagreeing_anchors_than_the_switch_cost():
    labels = np.ones(300, dtype=np.int64)
    labels[100:105] = -1  # five: noise
    labels[200:240] = -1  # forty: a run of its own
    owned = owner_runs(starts_of(300), labels, switch_cost=12.0)
    assert owned[100:105].all() and not owned[200:240].any() and owned[240:].all()


def test_no_anchor_at_all_owns_nothing():
    assert not owner_runs(starts_of(5), np.zeros(5, dtype=np.int64)).any()


def test_cold_fragments_take_their_parents_owner_along_jumps():
    starts = starts_of(10)
    labels = np.array([1, 0, 0, -1, 0, 0, 0, 0, 0, 0])
    jumps = np.array([[0, starts[5]], [5, starts[6] + 4],  # 0 -> its fragment 5 -> a fragment of that, mid-code
                      [3, starts[7]], [5, starts[0] + 8]], dtype=np.uint64)  # 3 -> 7; a jump back into 0
    spread = spread_along_jumps(labels, starts, jumps)
    assert list(spread) == [1, 0, 0, -1, 0, 1, 1, -1, 0, 0]


def test_namespaces_of_mangled_names():
    assert _namespace("N3tvm4tirx12StmtMutatorE") == "tvm"
    assert _namespace("NK4llvm5ValueE") == "llvm"
    assert _namespace("St9exception") == "std"
    assert _namespace("NSt6vectorIiSaIiEEE") == "std"
    assert _namespace("12ast_manager") == "<global>"
    assert _namespace("N12_GLOBAL__N_19SomeClassE") == "_GLOBAL__N_1"
    assert _namespace("ZN3tvm5arith3fooEvE5Local") == "tvm"
    assert _namespace_of_symbol("_ZNK3tvm4tirx9PrimFunc4nameEv") == "tvm"
    assert _namespace_of_symbol("_ZSt4cout") == "std"
    assert _namespace_of_symbol("TVMFFIAnyViewToOwnedAny") == ""
