"""The measured pass x position matrix (tzer/execute/pass_stages.json, written by tools/pass_matrix.py) is well-formed
and agrees with TVM's default pipeline: every pass that pipeline runs is supported where it runs it."""

from __future__ import annotations

import json
import pathlib

import pytest

from tzer.execute.pipeline import DEFAULT_PIPELINE, POSITIONS, SKELETON, positions_of

STAGES = pathlib.Path(__file__).resolve().parents[2] / "tzer" / "execute" / "pass_stages.json"


@pytest.fixture(scope="module")
def stages() -> dict:
    return json.loads(STAGES.read_text())


def test_shape(stages):
    assert tuple(stages["skeleton"]) == SKELETON
    assert len(stages["positions"]) == POSITIONS
    assert stages["programs"] and stages["tvm_version"]
    for name, entry in stages["passes"].items():
        ok, failed = set(entry["ok"]), {int(p) for p in entry["failures"]}
        assert not ok & failed, name
        assert ok | failed == set(range(POSITIONS)), name
        assert entry["ok"] == sorted(entry["ok"]), name
        assert all(reason.strip() for reason in entry["failures"].values()), name


def _outcome(entry: dict, position: int) -> str:
    return "ok" if position in entry["ok"] else entry["failures"][str(position)]


def test_skeleton_passes_are_absent_or_consistent(stages):
    # Inserting skeleton pass k just before itself (position k) or just after (k + 1) builds the same pipeline:
    # the pass twice in a row. The two measurements must agree.
    for k, name in enumerate(stages["skeleton"]):
        entry = stages["passes"].get(name)
        if entry is not None:
            assert _outcome(entry, k) == _outcome(entry, k + 1), name


def test_default_pipeline_passes_are_supported_where_the_default_pipeline_runs_them(stages):
    checked = 0
    for name, position in zip(DEFAULT_PIPELINE, positions_of(DEFAULT_PIPELINE)):
        if name in SKELETON:
            continue
        entry = stages["passes"].get(name)
        assert entry is not None, f"{name} was not measured"
        assert position in entry["ok"], f"{name} fails at position {position}: {entry['failures'].get(str(position))}"
        checked += 1
    assert checked == len(DEFAULT_PIPELINE) - len(SKELETON)


def test_a_failure_names_what_failed(stages):
    # The matrix is only useful to the fuzzer if it can fail: NarrowDataType on S-TIR crashes TVM (section 3 of the
    # TVM notes), and that must show as a failure, not as support.
    entry = stages["passes"]["tirx.NarrowDataType:32"]
    assert 0 not in entry["ok"] and entry["failures"]["0"]


def test_a_pass_that_is_a_misuse_by_design_is_never_drawn():
    """A campaign's finding: s_tir.DecorateDeviceScope, inserted into a CPU pipeline by pass.insert, made
    LowerTVMBuiltin fail "Unknown device id in current IR": the pass marks host code as device code (a false
    positive). Pass mutation must not put it in a pipeline."""
    import random

    from tzer.execute.pipeline import MISUSE_BY_DESIGN, known_passes, supported_positions
    from tzer.mutate.passes import insert_pass, repeat_pass
    from tzer.records import PassConfig

    assert "s_tir.DecorateDeviceScope" in MISUSE_BY_DESIGN
    assert not MISUSE_BY_DESIGN & (known_passes() | set(supported_positions()))
    rng = random.Random(0)
    passes = PassConfig()
    for _ in range(300):
        passes = insert_pass(passes, rng) if rng.random() < 0.7 else (repeat_pass(passes, rng) or passes)
        assert not MISUSE_BY_DESIGN & set(passes.pipeline)
        if len(passes.pipeline) > 90:
            passes = PassConfig()


def test_pass_drop_keeps_the_minimal_lowering():
    """A campaign's finding: pass.drop dropped tirx.BF16ComputeLegalize, and BF16StorageLegalize then raised on a
    bfloat16 store (a misuse: the minimal lowering needs it; a false positive on 2026-12-07)."""
    import random

    from tzer.execute.pipeline import MINIMAL_PIPELINE
    from tzer.mutate.passes import drop_pass
    from tzer.records import PassConfig

    rng = random.Random(0)
    passes = PassConfig()
    while passes is not None:
        assert set(MINIMAL_PIPELINE) <= set(passes.pipeline or DEFAULT_PIPELINE)
        passes = drop_pass(passes, rng)
