"""Which pass sequences keep TVM's order: the skeleton once and in order, every other pass where it is supported."""

from tzer.execute.pipeline import (
    MINIMAL_PIPELINE, SKELETON, default_pipeline, keeps_stage_order, positions_of, supported_positions,
)
from tzer.records import PassConfig


def test_default_pipeline_and_skeleton_keep_the_order():
    assert keeps_stage_order(default_pipeline())
    assert keeps_stage_order(SKELETON)
    assert keeps_stage_order(tuple(p for p in default_pipeline() if p != "tirx.CommonSubexprElim"))
    assert "tirx.VectorizeLoop:True" not in MINIMAL_PIPELINE and keeps_stage_order(MINIMAL_PIPELINE[:5] + ("tirx.VectorizeLoop:True",) + MINIMAL_PIPELINE[5:])


def test_every_default_pass_is_supported_where_the_default_pipeline_runs_it():
    supported = supported_positions()
    pipeline = default_pipeline()
    for name, position in zip(pipeline, positions_of(pipeline)):
        assert name in SKELETON or position in supported[name], (name, position)


def test_skeleton_out_of_order_missing_or_twice_breaks_the_order():
    flatten = SKELETON.index("tirx.FlattenBuffer")
    swapped = SKELETON[:flatten - 1] + (SKELETON[flatten], SKELETON[flatten - 1]) + SKELETON[flatten + 1:]
    assert not keeps_stage_order(swapped)
    assert not keeps_stage_order(SKELETON[1:])
    assert not keeps_stage_order(SKELETON + SKELETON[-1:])
    assert not keeps_stage_order(("tirx.NoSuchPass",) + SKELETON)


def test_a_pass_at_a_position_where_it_is_unsupported_breaks_the_order():
    supported = supported_positions()
    name, allowed = next((n, a) for n, a in sorted(supported.items()) if len(a) < len(SKELETON) + 1)
    outside = min(set(range(len(SKELETON) + 1)) - allowed)
    inside = min(allowed)
    assert not keeps_stage_order(SKELETON[:outside] + (name,) + SKELETON[outside:])
    assert keeps_stage_order(SKELETON[:inside] + (name,) + SKELETON[inside:])
    assert not PassConfig(pipeline=SKELETON[:outside] + (name,) + SKELETON[outside:]).keeps_pipeline_order


def test_positions_count_the_skeleton_passes_before_each_pass():
    pipeline = ("a", SKELETON[0], "b", SKELETON[1], SKELETON[2], "c")
    assert positions_of(pipeline) == [0, 0, 1, 1, 2, 3]


def test_misorder_never_draws_a_known_misuse_crash():
    import random

    from tzer.execute.pipeline import known_misuse_crashes
    from tzer.mutate.passes import misorder_pass

    known = known_misuse_crashes()
    assert ("tirx.NarrowDataType:32", 0) in known
    rng = random.Random(0)
    for _ in range(300):
        mutant = misorder_pass(PassConfig(pipeline=rng.choice([SKELETON, default_pipeline()])), rng)
        if mutant is None:
            continue
        pipeline = mutant.pipeline
        assert not any((name, position) in known for name, position in zip(pipeline, positions_of(pipeline)))
