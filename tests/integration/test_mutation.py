"""Mutants end to end on real TVM: the oracle each kind of mutant gets, what makes one invalid, exact replay from
the steps as applied, and campaigns in every mode with per-mutator statistics."""

from __future__ import annotations

import dataclasses
import json
import random
import sqlite3

import pytest

from tzer.generate import draw_test_case
from tzer.records import Invalidity, MutationStep, PassConfig, TestCase, Verdict

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def runner():
    from tzer.runner import Runner

    return Runner("llvm")


def mutated(generator: str, program_seed: int, *steps: MutationStep) -> TestCase:
    return dataclasses.replace(draw_test_case(random.Random(program_seed), generator, "llvm"), mutations=steps)


def test_a_schedule_mutant_passes_the_pytorch_oracle_and_replays_from_its_trace(runner):
    test_case = mutated("conv", 3, MutationStep("schedule_split", 11))
    execution = runner.execute(test_case)
    assert execution.verdict is Verdict.PASS, execution.error
    [step] = execution.applied
    assert step.mutator == "schedule_split" and step.trace, "a schedule step records its trace"
    assert execution.features, "the feedback provider saw the passes"
    replayed = runner.execute(dataclasses.replace(test_case, mutations=execution.applied))
    assert replayed.verdict is Verdict.PASS and replayed.applied == execution.applied
    assert replayed.max_abs_error == execution.max_abs_error


def test_general_mutants_are_judged_against_their_minimal_lowering(runner):
    verdicts = []
    for seed in range(12):
        test_case = mutated("avg_pool", seed, MutationStep("swap_binary_op", seed))
        execution = runner.execute(test_case)
        verdicts.append(execution.verdict)
        if execution.verdict is Verdict.PASS:
            again = runner.execute(dataclasses.replace(test_case, mutations=execution.applied))
            assert again.verdict is Verdict.PASS and again.max_abs_error == execution.max_abs_error
    assert Verdict.PASS in verdicts


def test_mutants_that_may_access_out_of_bounds_are_invalid_never_findings(runner):
    invalidities = []
    for seed in range(16):
        execution = runner.execute(mutated("max_pool", seed, MutationStep("change_loop_extent", seed)))
        assert execution.verdict is not Verdict.FINDING or execution.signature.symptom.name != "MISMATCH", \
            execution.error
        invalidities.append(execution.invalidity)
    assert Invalidity.OUT_OF_BOUNDS in invalidities


def test_mutants_that_read_memory_they_never_wrote_are_invalid_never_findings(runner):
    invalidities = []
    for seed in range(16):
        execution = runner.execute(mutated("poolformer", seed, MutationStep("drop_statement", seed)))
        assert execution.verdict is not Verdict.FINDING, execution.error
        invalidities.append(execution.invalidity)
    assert Invalidity.UNINITIALIZED_READ in invalidities


def test_a_pass_mutant_with_a_supported_pipeline_passes(runner):
    from tzer.execute.pipeline import SKELETON

    passes = PassConfig(pipeline=SKELETON[:4] + ("tirx.StmtSimplify",) + SKELETON[4:],
                        config=(("tirx.UnrollLoop", {"auto_max_step": 16}),))
    test_case = dataclasses.replace(draw_test_case(random.Random(1), "gem", "llvm"), passes=passes)
    assert test_case.passes.keeps_pipeline_order
    assert runner.execute(test_case).verdict is Verdict.PASS


def _stats(cli, store: str) -> dict:
    result = cli.run("stats", "--store", store, "--format", "json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


FAST = ("--generator", "max_pool", "--generator", "avg_pool", "--generator", "conv", "--no-reduce")


@pytest.mark.parametrize("mode", ["generate", "ir", "pass", "interleaved", "joint"])
def test_every_mode_runs_and_reports_per_mutator_statistics(cli, tmp_path, mode):
    (tmp_path / "empty").mkdir()
    result = cli.run("fuzz", "--mode", mode, "--iterations", "24", "--seed", "3", "--store", "m.db",
                     "--corpus", "empty", *FAST, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    stats = _stats(cli, "m.db")
    assert stats["executions"] == 24 and stats["campaigns"][0]["mode"] == mode
    mutators = stats["mutators"]
    if mode == "generate":
        assert mutators == {}
        return
    assert mutators, "mutation modes count their mutators"
    assert all(m["tries"] == m["no_site"] + m["invalid"] + m["valid"] for m in mutators.values())
    assert all(set(m) >= {"tries", "valid", "findings", "invalid_rate"} for m in mutators.values())
    kinds = {name.startswith("pass.") for name in mutators}
    assert kinds == {mode == "pass"} if mode not in ("joint", "interleaved") else kinds <= {True, False}
    assert sum(m["tries"] for m in mutators.values()) <= 24


def test_a_joint_campaign_resumes_with_its_seed_pool(cli, tmp_path):
    (tmp_path / "empty").mkdir()
    first = cli.run("fuzz", "--iterations", "16", "--seed", "8", "--store", "j.db", "--corpus", "empty", *FAST,
                    timeout=300)
    assert first.returncode == 0, first.stderr[-3000:]
    with sqlite3.connect(tmp_path / "j.db") as db:
        state = json.loads(db.execute("SELECT engine_state FROM campaigns").fetchone()[0])
    assert state["scheduler"]["pool"] and state["features"]
    before = _stats(cli, "j.db")
    resumed = cli.run("fuzz", "--resume", "--iterations", "8", "--store", "j.db", timeout=300)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    after = _stats(cli, "j.db")
    assert after["executions"] == before["executions"] + 8 and len(after["campaigns"]) == 1
    tries = lambda stats: sum(m["tries"] for m in stats["mutators"].values())  # noqa: E731
    assert tries(after) > tries(before), "the resumed campaign goes on mutating its pool"
