"""Coverage as data (no TVM): covered points in the engine state, Tzer's pass-sequence shrink, corpus minimisation
over measured point sets, and the noise estimate from repeated runs."""

from __future__ import annotations

import random

import numpy as np
import pytest

from tzer.execute.pipeline import DEFAULT_PIPELINE, MINIMAL_PIPELINE, SKELETON, keeps_stage_order
from tzer.mutate.passes import shrink_pipeline
from tzer.observe.coverage import COVERAGE, pack_points, unpack_points
from tzer.observe.per_input import CorpusCoverage, InputCoverage, _combine, minimize, union
from tzer.records import PassConfig, TestCase


def make_test_case(input_seed: int) -> TestCase:
    return TestCase(generator="max_pool", params={"shape": [1, 2, 8], "dtype": "float32"}, program_seed=7,
                    input_seed=input_seed, target="llvm", passes=PassConfig())


def test_providers_registered_by_name():
    assert set(COVERAGE.names()) == {"native-bb", "native-func", "none"}


@pytest.mark.parametrize("count", [0, 1, 1000, 200_000])
def test_packed_points_round_trip(count):
    rng = np.random.default_rng(count)
    points = rng.choice(7_000_000, size=count, replace=False).astype(np.uint32)
    text = pack_points(points)
    assert isinstance(text, str)
    assert np.array_equal(unpack_points(text), np.sort(points))


def test_packed_points_are_compact():
    points = np.random.default_rng(0).choice(7_000_000, size=300_000, replace=False)
    assert len(pack_points(points)) < 4 * len(points) * 0.6  # well under the raw uint32 size


def _events(pipeline, new_by_pass):
    """What the pass instrument reports for a compile of `pipeline`: each pass by its TVM name, in order."""
    return tuple((name.partition(":")[0], new_by_pass.get(name, 0)) for name in pipeline)


def test_shrink_keeps_skeleton_lowering_needs_and_passes_that_covered_new_points():
    pipeline = DEFAULT_PIPELINE
    shrunk = shrink_pipeline(PassConfig(pipeline=pipeline),
                             _events(pipeline, {"tirx.StorageRewrite": 12, "s_tir.LoopPartition": 3}))
    kept = shrunk.pipeline
    assert set(SKELETON) <= set(kept) and set(MINIMAL_PIPELINE) <= set(kept)
    assert "tirx.StorageRewrite" in kept and "s_tir.LoopPartition" in kept
    assert "tirx.RemoveNoOp" not in kept and "s_tir.InjectVirtualThread" not in kept
    assert [p for p in pipeline if p in kept] == list(kept)  # order kept
    assert keeps_stage_order(kept)


def test_shrink_matches_repeated_passes_in_order():
    pipeline = ("s_tir.LowerInitBlock", "tirx.StmtSimplify", "s_tir.ConvertBlocksToOpaque", "s_tir.LowerOpaqueBlock",
                "tirx.FlattenBuffer", "tirx.StmtSimplify", "tirx.VectorizeLoop:True", "tirx.MakePackedAPI")
    events = (("s_tir.LowerInitBlock", 0), ("tirx.StmtSimplify", 0), ("s_tir.ConvertBlocksToOpaque", 0),
              ("s_tir.LowerOpaqueBlock", 0), ("tirx.FlattenBuffer", 0), ("tirx.StmtSimplify", 7),
              ("tirx.VectorizeLoop", 0), ("tirx.MakePackedAPI", 0), ("sequential", 0))
    kept = shrink_pipeline(PassConfig(pipeline=pipeline), events).pipeline
    assert kept.count("tirx.StmtSimplify") == 1
    assert kept.index("tirx.StmtSimplify") > kept.index("tirx.FlattenBuffer")  # the second one, which covered


def test_shrink_keeps_passes_the_compile_never_reached_and_leaves_default_pipelines_alone():
    pipeline = DEFAULT_PIPELINE
    reached = _events(pipeline[:10], {})  # the compile failed after ten passes
    kept = shrink_pipeline(PassConfig(pipeline=pipeline), reached).pipeline
    assert kept[-len(pipeline[10:]):] == pipeline[10:]
    assert shrink_pipeline(PassConfig(), reached) == PassConfig()
    assert shrink_pipeline(PassConfig(pipeline=pipeline), ()) == PassConfig(pipeline=pipeline)


class _Points:
    """A provider's numbering of points, as data: points 0, 10, 20, ... are function entries."""

    name, unit, points = "native-bb", "blocks", 1000

    def entry_points(self):
        return np.arange(0, 1000, 10)

    def functions_of(self, points):
        return np.asarray(points) // 10


def _input(points, outcome="pass", seed=0):
    return InputCoverage(make_test_case(input_seed=seed), np.unique(np.asarray(points, dtype=np.uint32)), outcome)


def test_minimize_keeps_the_union_and_drops_inputs_it_already_has():
    inputs = [_input(range(0, 50), seed=1), _input(range(0, 30), seed=2), _input(range(40, 90), seed=3),
              _input(range(45, 60), seed=4)]
    chosen = minimize(inputs, _Points())
    assert np.array_equal(union(chosen), union(inputs))
    assert sorted(c.test_case.input_seed for c in chosen) == [1, 3]


def test_minimize_leaves_out_noise_sized_gains_but_never_a_function():
    inputs = [_input(range(0, 500), seed=1),
              _input(list(range(0, 400)) + [501, 502, 503], seed=2),  # 3 new points, no new function: noise
              _input(list(range(100, 200)) + [700], seed=3)]  # 1 new point, a function entry: kept
    chosen = minimize(inputs, _Points(), noise=5)
    assert sorted(c.test_case.input_seed for c in chosen) == [1, 3]
    functions = _Points().functions_of(union(chosen))
    assert 70 in functions


def test_minimize_keeps_every_input_that_could_not_be_measured():
    inputs = [_input(range(10), seed=1), _input([], outcome="killed by SIGSEGV", seed=2), _input(range(5), seed=3)]
    chosen = minimize(inputs, _Points())
    assert sorted(c.test_case.input_seed for c in chosen) == [1, 2]


def test_repeated_runs_keep_what_every_run_covered_and_estimate_noise():
    runs = [_input([1, 2, 3, 4, 9]), _input([1, 2, 3, 4, 8]), _input([1, 2, 3, 5])]
    combined = _combine(runs)
    assert combined.points.tolist() == [1, 2, 3] and combined.variation == 4
    died = _combine([runs[0], _input([], outcome="killed by SIGSEGV")])
    assert not died.measured
    corpus = CorpusCoverage(_Points(), [combined, _combine(runs[:2])], np.empty(0, np.uint32))
    assert corpus.noise == 2  # variations 4 and 2: half the (upper) median


def test_minimize_is_deterministic():
    rng = random.Random(3)
    inputs = [_input(rng.sample(range(1000), 60), seed=i) for i in range(30)]
    first = [c.test_case.input_seed for c in minimize(inputs, _Points(), noise=2)]
    again = [c.test_case.input_seed for c in minimize(inputs, _Points(), noise=2)]
    assert first == again
