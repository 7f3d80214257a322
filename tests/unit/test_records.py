"""Records: JSON round trips, canonical JSON and the content-hash keys of test cases and signatures."""

import dataclasses
import hashlib
import json

import pytest

from tzer.records import (
    CampaignStats, Execution, Finding, Invalidity, MutationStep, MutatorStats, PassConfig, Signature, Stage, Symptom,
    TestCase, Verdict, canonical_json,
    content_hash,
)


def make_test_case(**changes) -> TestCase:
    base = TestCase(
        generator="max_pool",
        params={"shape": [1, 2, 8], "dtype": "float32"},
        program_seed=7,
        input_seed=11,
        target="llvm",
        passes=PassConfig(2, ("tir.Simplify",), (("tir.noalias", True),)),
    )
    return dataclasses.replace(base, **changes)


def through_json_text(data):
    return json.loads(json.dumps(data))


def test_canonical_json_sorts_keys_at_every_level_without_spaces():
    assert canonical_json({"b": 1, "a": {"d": [3, {"z": 0, "y": 1}], "c": 2}}) == (
        '{"a":{"c":2,"d":[3,{"y":1,"z":0}]},"b":1}'
    )


def test_content_hash_ignores_insertion_order_but_not_values():
    assert content_hash({"a": 1, "b": 2}) == content_hash({"b": 2, "a": 1})
    assert content_hash({"a": 1, "b": 2}) != content_hash({"a": 1, "b": 3})


def test_canonical_json_rejects_nan():
    with pytest.raises(ValueError):
        canonical_json({"x": float("nan")})


def test_pass_config_round_trip():
    passes = PassConfig(1, ("tir.Simplify", "tir.VectorizeLoop"), (("a.flag", False), ("b.count", 3)))
    assert PassConfig.from_json(through_json_text(passes.to_json())) == passes
    assert PassConfig.from_json(through_json_text(PassConfig().to_json())) == PassConfig()


def test_pass_config_from_json_sorts_config_items():
    restored = PassConfig.from_json({"opt_level": 3, "disabled_passes": [], "config": {"z": 1, "a": 2}})
    assert restored.config == (("a", 2), ("z", 1))


def test_test_case_round_trip_through_json_text():
    test_case = make_test_case()
    restored = TestCase.from_json(through_json_text(test_case.to_json()))
    assert restored == test_case
    assert restored.key == test_case.key


def test_test_case_key_is_sha256_of_canonical_json_and_stable():
    # Pinned: corpus files and stored test cases are named by this hash, so it must not drift between versions.
    test_case = make_test_case()
    expected_text = (
        '{"generator":"max_pool","input_seed":11,"params":{"dtype":"float32","shape":[1,2,8]},'
        '"passes":{"config":{"tir.noalias":true},"disabled_passes":["tir.Simplify"],"opt_level":2},'
        '"program_seed":7,"target":"llvm"}'
    )
    assert canonical_json(test_case.to_json()) == expected_text
    assert test_case.key == hashlib.sha256(expected_text.encode()).hexdigest()
    assert test_case.key == "26bb3b073ce514a42fb8bce01feb9075d3d6cee209b8a528259a97d5a4124c5d"
    assert make_test_case().key == test_case.key


@pytest.mark.parametrize(
    "changes",
    [
        {"generator": "avg_pool"},
        {"params": {"shape": [1, 2, 9], "dtype": "float32"}},
        {"params": {"shape": [1, 2, 8], "dtype": "float16"}},
        {"program_seed": 8},
        {"input_seed": 12},
        {"target": "cuda"},
        {"passes": PassConfig(3, ("tir.Simplify",), (("tir.noalias", True),))},
        {"passes": PassConfig(2, (), (("tir.noalias", True),))},
        {"passes": PassConfig(2, ("tir.Simplify",), (("tir.noalias", False),))},
        {"passes": PassConfig(2, ("tir.Simplify",), ())},
    ],
    ids=lambda changes: "-".join(changes),
)
def test_test_case_key_changes_when_any_field_changes(changes):
    assert make_test_case(**changes).key != make_test_case().key


@pytest.mark.parametrize("symptom", list(Symptom))
@pytest.mark.parametrize("stage", list(Stage))
def test_signature_round_trip(symptom, stage):
    signature = Signature(symptom, stage, "tir.Simplify", "InternalError: Check failed: N == N")
    assert Signature.from_json(through_json_text(signature.to_json())) == signature


def test_signature_json_uses_lowercase_names():
    data = Signature(Symptom.INTERNAL_ERROR, Stage.LOWER).to_json()
    assert data == {"symptom": "internal_error", "stage": "lower", "guilty_pass": "", "detail": ""}


@pytest.mark.parametrize(
    "changes",
    [{"symptom": Symptom.CRASH}, {"stage": Stage.CODEGEN}, {"guilty_pass": "tir.Other"}, {"detail": "other"}],
    ids=lambda changes: "-".join(changes),
)
def test_signature_key_changes_when_any_field_changes(changes):
    signature = Signature(Symptom.EXCEPTION, Stage.LOWER, "tir.Simplify", "ValueError: bad")
    assert dataclasses.replace(signature, **changes).key != signature.key
    assert Signature(Symptom.EXCEPTION, Stage.LOWER, "tir.Simplify", "ValueError: bad").key == signature.key


def test_enums_are_ordered_along_the_pipeline_and_by_severity():
    assert [s.name for s in sorted(Stage)] == ["BUILD", "LOWER", "CODEGEN", "LOAD", "RUN", "COMPARE"]
    assert Symptom.CRASH < Symptom.INTERNAL_ERROR < Symptom.MISMATCH
    assert Verdict.PASS < Verdict.INVALID < Verdict.FINDING


def test_finding_signature_is_the_execution_signature():
    signature = Signature(Symptom.MISMATCH, Stage.COMPARE, "", "pooling:float32")
    finding = Finding(make_test_case(), Execution(Verdict.FINDING, signature, "differs"))
    assert finding.signature is signature


def test_campaign_stats_valid_and_json():
    stats = CampaignStats(elapsed=1.23456, executions=10, invalid=3, findings=2, new_findings=1, coverage=None,
                          native_coverage=4321, coverage_tvm=1234, pass_firings=(("tirx.Simplify", 2, 7),))
    assert stats.valid == 7
    assert stats.to_json() == {
        "elapsed": 1.235, "executions": 10, "valid": 7, "invalid": 3, "findings": 2, "new_findings": 1,
        "coverage": None, "mutators": {}, "native_coverage": 4321, "coverage_tvm": 1234,
        "pass_firings": {"tirx.Simplify": {"fired": 2, "ran": 7}}, "nvcc_checked": 0, "nvcc_accepted": 0,
        "gpu_runs": 0,
    }
    assert CampaignStats.from_json(stats.to_json()) == dataclasses.replace(stats, elapsed=1.235)


def test_campaign_stats_round_trip_per_mutator_counts():
    counts = MutatorStats(tries=9, no_site=1, invalid=2, valid=6, findings=1, new=3)
    stats = CampaignStats(2.0, 9, 3, 1, 1, 40, (("split", counts), ("swap_binary_op", MutatorStats(tries=1))))
    data = json.loads(json.dumps(stats.to_json()))
    assert data["mutators"]["split"] == {"tries": 9, "no_site": 1, "invalid": 2, "valid": 6, "findings": 1, "new": 3}
    assert CampaignStats.from_json(data) == stats


def test_mutation_steps_round_trip_and_unmutated_records_keep_their_hash():
    plain = make_test_case()
    assert "mutations" not in plain.to_json()
    steps = (MutationStep("swap_binary_op", 7), MutationStep("split", 9, '{"insts": []}'))
    mutated = dataclasses.replace(plain, mutations=steps)
    assert TestCase.from_json(json.loads(json.dumps(mutated.to_json()))) == mutated
    assert mutated.key != plain.key and "trace" not in mutated.to_json()["mutations"][0]
    execution = Execution(Verdict.INVALID, invalidity=Invalidity.OUT_OF_BOUNDS, features=("pass:a:changed",),
                          applied=steps[:1])
    assert Execution.from_json(json.loads(json.dumps(execution.to_json()))) == execution


def test_records_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        make_test_case().program_seed = 1  # type: ignore[misc]


# Executions cross the fork server's pipe as JSON: every verdict, with and without a signature, must survive it.


@pytest.mark.parametrize("verdict", list(Verdict))
@pytest.mark.parametrize("with_signature", [True, False], ids=["signature", "no-signature"])
def test_execution_round_trip_through_json_text(verdict, with_signature):
    execution = Execution(
        verdict,
        Signature(Symptom.INTERNAL_ERROR, Stage.LOWER, "tir.Simplify", "InternalError: Check failed: N == N")
        if with_signature else None,
        error="InternalError: Check failed: 3 == 4\n  at line 2",
        max_abs_error=0.125, max_rel_error=1e-07,
        program_script="# from tvm.script import tir as T\n", program_json='{"root": 1}', tvm_version="0.27.0.post1",
        compile_seconds=1.5, run_seconds=0.25,
    )
    data = through_json_text(execution.to_json())
    assert data["verdict"] == verdict.name.lower()
    assert (data["signature"] is None) is not with_signature
    assert Execution.from_json(data) == execution


def test_default_execution_round_trip():
    execution = Execution(Verdict.PASS)
    assert execution.to_json()["signature"] is None
    assert Execution.from_json(through_json_text(execution.to_json())) == execution


def test_empty_extra_passes_are_left_out_of_the_json():
    # Left out, not written as []: test cases stored before extra passes existed keep their keys (the pinned key
    # above stays the same).
    assert "extra_passes" not in PassConfig().to_json()
    assert "extra_passes" not in make_test_case().to_json()["passes"]
    assert PassConfig.from_json({"opt_level": 3, "disabled_passes": [], "config": {}}).extra_passes == ()


def test_extra_passes_are_written_and_round_trip():
    passes = PassConfig(2, ("tir.Simplify",), (("tir.noalias", True),), ("fault.segfault", "fault.abort"))
    assert passes.to_json()["extra_passes"] == ["fault.segfault", "fault.abort"]
    assert PassConfig.from_json(through_json_text(passes.to_json())) == passes
    test_case = make_test_case(passes=passes)
    restored = TestCase.from_json(through_json_text(test_case.to_json()))
    assert restored == test_case and restored.key == test_case.key


def test_extra_passes_change_the_key_and_their_order_matters():
    base = make_test_case()
    one = make_test_case(passes=dataclasses.replace(base.passes, extra_passes=("fault.segfault",)))
    two = make_test_case(passes=dataclasses.replace(base.passes, extra_passes=("fault.segfault", "fault.abort")))
    swapped = make_test_case(passes=dataclasses.replace(base.passes, extra_passes=("fault.abort", "fault.segfault")))
    assert len({base.key, one.key, two.key, swapped.key}) == 4
    assert make_test_case(passes=dataclasses.replace(base.passes, extra_passes=())).key == base.key


def test_pipeline_is_omitted_when_unset_and_round_trips_when_set():
    assert "pipeline" not in PassConfig().to_json()
    config = PassConfig(pipeline=("s_tir.LowerInitBlock", "tirx.FlattenBuffer"))
    assert config.to_json()["pipeline"] == ["s_tir.LowerInitBlock", "tirx.FlattenBuffer"]
    assert PassConfig.from_json(json.loads(json.dumps(config.to_json()))) == config
    assert PassConfig(pipeline=()).to_json()["pipeline"] == []  # an empty pipeline is not TVM's default


def test_pipeline_order_decides_whether_the_pipeline_is_kept():
    from tzer.execute.pipeline import default_pipeline

    assert PassConfig(pipeline=default_pipeline()).keeps_pipeline_order
    assert not PassConfig(pipeline=("tirx.MakePackedAPI", "s_tir.LowerInitBlock")).keeps_pipeline_order
    assert not PassConfig(pipeline=("tirx.NoSuchPass",)).keeps_pipeline_order
