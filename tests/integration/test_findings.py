"""Findings end to end on real TVM: a failure becomes a stored finding that replays, and the CLI reads it back.

The failure is planted through TVM itself (tzer.testing.faults, `fault.check_failure`): a pass runs TVM's
FlattenBuffer before the blocks are made opaque, and TVM's own check fails. It stands in for a TVM bug, because
unmutated programs rarely find one. Disabling a pass the pipeline needs, by contrast, is misuse: invalid.
"""

from __future__ import annotations

import dataclasses
import json
import random

import pytest

from tzer.generate import draw_test_case
from tzer.records import Execution, Finding, PassConfig, Stage, Symptom, Verdict
from tzer.runner import build
from tzer.testing.faults import fires
from tzer.replay import ReplayOutcome, replay
from tzer.store.sqlite import SQLiteStore

pytestmark = pytest.mark.integration

PLANTED_PASSES = PassConfig(extra_passes=("fault.check_failure",))


def planted_cases(count: int, generator: str = "conv", first_seed: int = 0):
    """The first `count` test cases of `generator` whose program the planted check failure fires on."""
    found = []
    seed = first_seed
    while len(found) < count:
        test_case = dataclasses.replace(draw_test_case(random.Random(seed), generator, "llvm"), passes=PLANTED_PASSES)
        if fires(build(test_case).mod["main"]):
            found.append(test_case)
        seed += 1
    return found


@pytest.fixture(scope="module")
def runner():
    from tzer.runner import Runner

    return Runner("llvm")


@pytest.fixture(scope="module")
def planted(runner):
    [test_case] = planted_cases(1)
    return test_case, runner.execute(test_case)


@pytest.fixture
def store_with_finding(tmp_path, planted):
    path = str(tmp_path / "f.db")
    with SQLiteStore.open(path, create=True) as store:
        campaign = store.begin_campaign(0, "llvm", "generate", "test", {})
        finding_id, new = store.record_finding(campaign, Finding(*planted))
        assert new
    return path, finding_id


def test_planted_failure_is_an_internal_error_in_the_passes(planted):
    _, execution = planted
    assert execution.verdict is Verdict.FINDING
    signature = execution.signature
    assert (signature.symptom, signature.stage) == (Symptom.INTERNAL_ERROR, Stage.LOWER)
    assert signature.guilty_pass  # the PassInstrument names the pass that was running
    assert "Check failed" in signature.detail
    assert "@T.prim_func" in execution.program_script or "T.prim_func" in execution.program_script
    assert json.loads(execution.program_json)["nodes"]  # TVM's JSON graph of the program


def test_same_failure_from_other_programs_is_one_finding(tmp_path, runner, planted):
    with SQLiteStore.open(str(tmp_path / "d.db"), create=True) as store:
        campaign = store.begin_campaign(0, "llvm", "generate", "test", {})
        ids = set()
        for test_case in planted_cases(3, first_seed=100):
            execution = runner.execute(test_case)
            assert execution.signature == planted[1].signature, "normalization must merge one bug's occurrences"
            ids.add(store.record_finding(campaign, Finding(test_case, execution))[0])
        assert len(ids) == 1
        assert store.findings()[0].count == 3


def test_disabling_a_required_pass_is_invalid_not_a_finding(runner):
    test_case = dataclasses.replace(draw_test_case(random.Random(0), "conv", "llvm"),
                                    passes=PassConfig(disabled_passes=("s_tir.LowerInitBlock",)))
    execution = runner.execute(test_case)
    assert execution.verdict is Verdict.INVALID and execution.signature is None
    assert "Check failed" in execution.error


def test_replay_reproduces(store_with_finding, runner):
    path, finding_id = store_with_finding
    with SQLiteStore.open(path) as store:
        finding = store.finding(finding_id)
    result = replay(finding, runner)
    assert result.outcome is ReplayOutcome.REPRODUCES
    assert result.params_redrawn_equal


def test_replay_tells_fixed_and_changed(tmp_path, runner, planted):
    test_case, execution = planted
    fixed_case = dataclasses.replace(test_case, passes=PassConfig())  # the same program, lowered properly
    other = dataclasses.replace(execution.signature, detail="InternalError: another check")
    with SQLiteStore.open(str(tmp_path / "r.db"), create=True) as store:
        campaign = store.begin_campaign(0, "llvm", "generate", "test", {})
        fixed_id, _ = store.record_finding(campaign, Finding(fixed_case, execution))
        changed_id, _ = store.record_finding(campaign, Finding(test_case, Execution(
            Verdict.FINDING, other, "x", tvm_version="test")))
        assert replay(store.finding(fixed_id), runner).outcome is ReplayOutcome.FIXED
        assert replay(store.finding(changed_id), runner).outcome is ReplayOutcome.CHANGED


def test_cli_lists_and_replays_the_finding(cli, store_with_finding):
    path, finding_id = store_with_finding
    listed = cli.run("findings", "--store", path, "--format", "json")
    assert listed.returncode == 0, listed.stderr
    [row] = json.loads(listed.stdout)
    assert (row["symptom"], row["stage"]) == ("internal_error", "lower")
    assert row["signature"]["guilty_pass"] == row["guilty_pass"] != ""
    replayed = cli.run("replay", str(finding_id), "--store", path)
    assert replayed.returncode == 0, replayed.stdout + replayed.stderr
    assert "reproduces" in replayed.stdout
