"""The schedulers of the modes: what they draw, what outcomes teach them, and their state through JSON."""

import collections
import dataclasses
import json
import random

import pytest

from tzer.config import FuzzConfig
from tzer.records import Execution, Invalidity, MutationStep, TestCase, Verdict
from tzer.scheduling import MAX_POOL, MAX_STEPS, SCHEDULERS, Origin, PoolEntry

GENERATORS = ("max_pool", "conv")
PASSED = Execution(Verdict.PASS)


def scheduler(mode: str, seed: int = 0, **changes):
    config = FuzzConfig(seed=seed, mode=mode, generators=GENERATORS, **changes)
    return SCHEDULERS.get(mode)(config, random.Random(seed))


def seeded(mode: str, seed: int = 0, **changes):
    """A scheduler whose pool holds one fresh program."""
    s = scheduler(mode, seed, **changes)
    first = s.next_test_case()
    assert s.observe(first, PASSED, new_features=3) == first
    return s, first


def mutants(s, count: int) -> list[TestCase]:
    return [s.next_test_case() for _ in range(count)]


def test_generate_mode_draws_fresh_unmutated_programs_only():
    s = scheduler("generate")
    drawn = mutants(s, 20)
    assert all(not tc.mutations and tc.passes.pipeline is None and tc.generator in GENERATORS for tc in drawn)
    assert len({tc.key for tc in drawn}) == 20


def test_ir_mode_adds_one_step_to_a_pool_entry_and_keeps_its_passes():
    s, first = seeded("ir")
    drawn = [tc for tc in mutants(s, 40) if tc.mutations]
    assert len(drawn) >= 30  # a tenth or so are fresh programs
    for tc in drawn:
        assert tc.params == first.params and tc.passes == first.passes and len(tc.mutations) == 1


def test_pass_mode_changes_passes_only():
    s, first = seeded("pass")
    drawn = [tc for tc in mutants(s, 40) if tc.params == first.params]
    assert len(drawn) >= 30
    assert all(not tc.mutations and tc.passes != first.passes for tc in drawn)


def test_joint_mode_moves_to_pass_mutation_after_n_max_fruitless_ir_mutations():
    s, first = seeded("joint", n_max=3)
    for _ in range(3):
        tc = next(tc for tc in iter(s.next_test_case, None) if tc.params == first.params)
        assert tc.mutations and tc.passes == first.passes  # IR mutation while the entry has fails < n_max
        assert s.observe(tc, PASSED, new_features=0) is None
    tc = next(tc for tc in iter(s.next_test_case, None) if tc.params == first.params)
    assert not tc.mutations and tc.passes != first.passes  # then a pass mutation
    s.observe(tc, PASSED, new_features=0)
    tc = next(tc for tc in iter(s.next_test_case, None) if tc.params == first.params)
    assert tc.mutations  # which resets the count: IR mutation again


def test_a_mutant_with_new_feedback_joins_the_pool_with_its_steps_as_applied():
    s, first = seeded("ir")
    tc = next(tc for tc in iter(s.next_test_case, None) if tc.mutations)
    applied = (dataclasses.replace(tc.mutations[0], seed=tc.mutations[0].seed + 1, trace='{"t": 1}'),)
    kept = s.observe(tc, Execution(Verdict.PASS, applied=applied), new_features=1)
    assert kept == dataclasses.replace(tc, mutations=applied)
    assert [e.test_case for e in s.pool.values()] == [first, kept]
    stats = dict(s.mutator_stats())[tc.mutations[0].mutator]
    assert (stats.tries, stats.valid, stats.new, stats.invalid) == (1, 1, 1, 0)


def test_invalid_and_finding_outcomes_are_counted_per_mutator_and_never_join_the_pool():
    s, _ = seeded("ir")
    outcomes = [Execution(Verdict.INVALID, invalidity=Invalidity.NO_SITE),
                Execution(Verdict.INVALID, invalidity=Invalidity.OUT_OF_BOUNDS), Execution(Verdict.FINDING)]
    mutated = [tc for tc in mutants(s, 40) if tc.mutations][:3]
    for tc, execution in zip(mutated, outcomes):
        assert s.observe(tc, execution, new_features=5) is None
    totals = [stats for _, stats in s.mutator_stats()]
    assert sum(t.tries for t in totals) == 3 and sum(t.no_site for t in totals) == 1
    assert sum(t.invalid for t in totals) == 1 and sum(t.findings for t in totals) == 1
    assert sum(t.valid for t in totals) == 1 and len(s.pool) == 1


def test_an_entry_with_max_steps_gets_no_more_ir_mutation():
    s, first = seeded("ir")
    long_chain = dataclasses.replace(first, mutations=tuple(MutationStep("m", i) for i in range(MAX_STEPS)))
    s.pool = {0: type(s.pool[0])(long_chain)}
    assert all(not tc.mutations for tc in mutants(s, 20))  # fresh programs instead


@pytest.mark.parametrize("mode", ["ir", "pass", "interleaved", "joint"])
def test_state_round_trips_through_json_and_a_restored_scheduler_draws_the_same(mode):
    s, _ = seeded(mode, seed=4)
    for tc in mutants(s, 10):
        s.observe(tc, PASSED, new_features=1)
    state = json.loads(json.dumps(s.state()))
    stats = s.mutator_stats()
    assert sum(t.tries for _, t in stats) > 0
    rng_state = s.rng.getstate()
    expected = mutants(s, 10)
    restored = scheduler(mode, seed=99)
    restored.restore(state)
    restored.rng.setstate(rng_state)
    assert mutants(restored, 10) == expected
    assert restored.mutator_stats() == stats


def test_a_restored_pool_keeps_each_entrys_energy_bookkeeping_and_reads_the_old_format():
    s, first = seeded("joint", seed=2)
    for tc in mutants(s, 12):
        s.observe(tc, Execution(Verdict.PASS, new_coverage_tvm=50, compile_seconds=0.5), new_features=0)
    state = json.loads(json.dumps(s.state()))
    restored = scheduler("joint", seed=2)
    restored.restore(state)
    assert restored.pool == s.pool and restored.pool[0].tries > 0
    old = {**state, "pool": [[0, first.to_json(), 3]]}  # stores written before energies
    restored.restore(old)
    assert restored.pool[0].test_case == first and restored.pool[0].fails == 3 and restored.pool[0].tries == 0


def test_entries_are_chosen_by_energy():
    s, first = seeded("ir", seed=5)
    s.pool = {0: PoolEntry(first, novelty=2000, seconds=0.1, tries=0),  # covered much, fast, fresh
              1: PoolEntry(first, novelty=10, seconds=2.0, tries=40)}  # covered little, slow, worn out
    drawn = collections.Counter(s._choose_entry() for _ in range(2000))
    assert drawn[0] > 50 * drawn[1] and drawn[1] > 0  # never starved


def test_a_full_pool_drops_its_entry_with_the_least_energy():
    s, first = seeded("ir", seed=6)
    s.pool = {i: PoolEntry(first, novelty=100, seconds=0.5) for i in range(MAX_POOL)}
    s.pool[7].tries = 100
    s._next_id = MAX_POOL
    s._add(PoolEntry(first))
    assert 7 not in s.pool and len(s.pool) == MAX_POOL


def test_joint_mode_gives_one_try_in_n_max_plus_one_to_pass_mutation_when_nothing_is_new():
    s, _ = seeded("joint", seed=7, n_max=4)
    tries = collections.Counter()
    for _ in range(600):
        s.observe(s.next_test_case(), PASSED, new_features=0)
    for name, stats in s.mutator_stats():
        tries["pass" if name.startswith("pass.") else "ir"] += stats.tries
    share = tries["pass"] / (tries["pass"] + tries["ir"])
    assert 0.15 <= share <= 0.21, share  # 1/5, less the pass mutations that found nothing to change


def test_an_entry_that_reaches_n_max_fails_gets_its_pass_try_next_whatever_its_energy():
    s, first = seeded("joint", seed=9, n_max=2)
    s.pool = {0: PoolEntry(first, novelty=10, seconds=2.0, tries=40, fails=1),  # worn out, one fail from its pass try
              1: PoolEntry(first, novelty=2000, seconds=0.1)}  # fresh: drawn some 100 times as often
    s._origins[first.key].append(Origin(0, "general.flip"))
    s.observe(first, PASSED, new_features=0)  # entry 0's second fail in a row
    assert s._choose_entry() == 0  # its pass try comes first
    drawn = collections.Counter(s._choose_entry() for _ in range(200))
    assert drawn[1] > 150  # and then the energy draw again
    state = json.loads(json.dumps(s.state()))
    assert state["pass_due"] == []


def test_interleaved_mode_draws_pass_mutations_at_random_whatever_the_feedback():
    """Joint mode gives pass mutations only to entries whose IR tries stopped bringing anything new; interleaved
    mode (the ablation's "IR + random pass mutation") at one try in n_max + 1 even when every mutant is new."""
    shares = {}
    for mode in ("joint", "interleaved"):
        s, _ = seeded(mode, seed=8, n_max=4)
        for _ in range(400):
            s.observe(s.next_test_case(), PASSED, new_features=1)
        tries = collections.Counter()
        for name, stats in s.mutator_stats():
            tries["pass" if name.startswith("pass.") else "ir"] += stats.tries
        shares[mode] = tries["pass"] / (tries["pass"] + tries["ir"])
    assert shares["joint"] < 0.05 and 0.15 <= shares["interleaved"] <= 0.25, shares


def test_without_feedback_every_valid_case_is_new_and_coverage_does_not_weigh_the_entries():
    """Tzer's ablation without feedback: nothing guides, neither which cases join the pool nor which are chosen."""
    from tzer.engine import Engine

    covered = Execution(Verdict.PASS, new_coverage_tvm=500)
    guided = Engine(FuzzConfig(seed=0), store=None, backend=None)
    unguided = Engine(FuzzConfig(seed=0, coverage_feedback=False), store=None, backend=None)
    assert guided._feedback(PASSED, new_features=0) == 0 and guided._feedback(covered, new_features=2) == 2
    assert unguided._feedback(PASSED, new_features=0) == 1
    assert unguided._feedback(Execution(Verdict.INVALID), new_features=0) == 0
    assert unguided._feedback(Execution(Verdict.FINDING), new_features=5) == 0
    s, first = seeded("joint", coverage_feedback=False)
    tc = next(tc for tc in iter(s.next_test_case, None) if tc.mutations)
    assert s.observe(tc, covered, new_features=1) is not None
    assert [entry.novelty for entry in s.pool.values()] == [0, 0]
    s, first = seeded("joint")
    tc = next(tc for tc in iter(s.next_test_case, None) if tc.mutations)
    s.observe(tc, covered, new_features=1)
    assert sorted(entry.novelty for entry in s.pool.values()) == [0, 500]
