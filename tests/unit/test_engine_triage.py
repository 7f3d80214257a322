"""The engine's triage phase without TVM: after a budget stop it hands the campaign's new findings to the triage
(once each, in the order found), not after an interrupt; the campaign's time and rates are its fuzzing's."""

from __future__ import annotations

import time
import types

from tzer.config import FuzzConfig
from tzer.engine import Engine, Phase, StopReason
from tzer.records import Execution, Signature, Stage, Symptom, Verdict
from tzer.store.sqlite import SQLiteStore


class FindingBackend:
    """Runs nothing: every test case is a finding whose detail is its generator (so two generators, two bugs)."""

    slots = 1

    def __init__(self):
        self.runner = types.SimpleNamespace(tvm_version="test", coverage=None)
        self.queue = []
        self.closed = 0

    def in_flight(self):
        return len(self.queue)

    def submit(self, test_case):
        self.queue.append(test_case)

    def next_result(self):
        test_case = self.queue.pop(0)
        signature = Signature(Symptom.EXCEPTION, Stage.LOWER, "tirx.Planted", test_case.generator)
        return test_case, Execution(Verdict.FINDING, signature, "planted", tvm_version="test")

    def states(self):
        return []

    def close(self):
        self.closed += 1


def campaign(tmp_path, triage, **changes):
    config = FuzzConfig(seed=3, mode="generate", generators=("max_pool", "conv"), iterations=12,
                        store=str(tmp_path / "t.db"), **changes)
    store = SQLiteStore.open(config.store, create=True)
    return Engine(config, store, FindingBackend(), triage=triage), store


def test_new_findings_go_to_the_triage_after_a_budget_stop(tmp_path):
    calls = []

    def triage(store, finding_ids, should_stop):
        calls.append((list(finding_ids), should_stop()))
        time.sleep(0.5)

    engine, store = campaign(tmp_path, triage)
    result = engine.run()
    assert result.stop_reason is StopReason.ITERATION_BUDGET
    [(finding_ids, stop_asked)] = calls
    assert sorted(finding_ids) == [f.id for f in store.findings()] and len(finding_ids) == 2 and not stop_asked
    phases = dict(result.phase_seconds)
    assert phases[Phase.TRIAGE.value] >= 0.5
    assert result.stats.elapsed < phases[Phase.FUZZ.value] + phases[Phase.WARM_UP.value] + 0.5  # triage not in it
    assert abs(store.last_campaign().stats.elapsed - result.stats.elapsed) < 0.001  # stored rounded to ms
    store.close()


def test_no_triage_after_an_interrupt(tmp_path):
    calls = []
    engine, store = campaign(tmp_path, lambda *args: calls.append(args))
    answer = engine.backend.next_result

    def interrupted():  # Ctrl-C during the first test case
        engine.request_stop()
        return answer()

    engine.backend.next_result = interrupted
    result = engine.run()
    assert result.stop_reason is StopReason.INTERRUPTED and result.stats.new_findings == 1
    assert calls == [] and Phase.TRIAGE.value not in dict(result.phase_seconds)
    store.close()


def test_no_triage_when_every_finding_was_known(tmp_path):
    calls = []
    for _ in range(2):  # the second campaign on the store finds the same two bugs
        engine, store = campaign(tmp_path, lambda store, ids, should_stop: calls.append(ids))
        engine.run()
        store.close()
    assert len(calls) == 1 and len(calls[0]) == 2
