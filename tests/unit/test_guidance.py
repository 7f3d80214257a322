"""The guidance measures (tzer.observe.guidance) and the engine's count of pass firings."""

from tzer.engine import _count_firings
from tzer.observe.guidance import guidance, never_fired, vocabulary
from tzer.records import CampaignStats, MutatorStats


def stats_at(elapsed: float, ir: MutatorStats, passes: MutatorStats, firings=()) -> CampaignStats:
    return CampaignStats(elapsed=elapsed, mutators=(("pass.insert", passes), ("wrap_if", ir)), pass_firings=firings)


def test_pass_share_and_new_share_overall_and_in_the_second_half():
    half = stats_at(50.0, MutatorStats(tries=40, valid=30, new=15), MutatorStats(tries=10, valid=10, new=5))
    end = stats_at(100.0, MutatorStats(tries=120, valid=100, new=20), MutatorStats(tries=30, valid=30, new=6))
    measures = guidance(end, [stats_at(10.0, MutatorStats(), MutatorStats()), half, end])
    assert measures["mutant_tries"] == 150
    assert measures["pass_share"] == round(30 / 150, 4)
    assert measures["pass_share_second_half"] == round(20 / 100, 4)  # (30 - 10) of (150 - 50) tries
    assert measures["new_share"] == round(26 / 130, 4)
    assert measures["new_share_second_half"] == round(6 / 90, 4)  # (26 - 20) new of (130 - 40) valid


def test_without_mutants_the_shares_are_none():
    measures = guidance(CampaignStats())
    assert measures["pass_share"] is None and measures["new_share"] is None


def test_firings_count_cases_a_pass_changed_the_ir_in_and_the_vocabulary_lists_those_that_never_did():
    firings = _count_firings((), ("ir:For:0", "pass:tirx.StmtSimplify:changed", "pass:tirx.RemoveNoOp:same"))
    firings = _count_firings(firings, ("pass:tirx.StmtSimplify:same", "pass:tirx.RemoveNoOp:same"))
    assert firings == (("tirx.RemoveNoOp", 0, 2), ("tirx.StmtSimplify", 1, 2))
    missing = never_fired(firings)
    assert "tirx.RemoveNoOp" in missing and "tirx.StmtSimplify" not in missing
    assert set(missing) < set(vocabulary()) and "tirx.NarrowDataType" in vocabulary()
