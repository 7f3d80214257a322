"""The engine's state (rng, scheduler, features) through JSON and the store: a resumed campaign draws exactly what
it would have drawn."""

import itertools
import json
import random

import pytest

from tzer.config import FuzzConfig
from tzer.engine import Engine, _rng_state_from_json
from tzer.records import CampaignStats, canonical_json
from tzer.store.sqlite import SQLiteStore

# _engine_state, _restore and _draw_forever are the engine's private helpers; these tests call them on
# purpose, since they are exactly what checkpoint and --resume use. Engine() itself touches neither store nor
# backend, so none is passed.

GENERATORS = ("max_pool", "conv", "gem")


def engine(seed: int, **changes) -> Engine:
    return Engine(FuzzConfig(seed=seed, **changes), store=None, backend=None)


def draws(rng: random.Random) -> list:
    return [rng.getrandbits(64) for _ in range(5)] + [rng.random(), rng.gauss(0.0, 1.0), rng.choice("abcdef")]


@pytest.mark.parametrize("pending_gauss", [False, True], ids=["no-gauss", "pending-gauss"])
def test_rng_state_survives_json_text(pending_gauss):
    original = engine(12345)
    original.rng.random()
    if pending_gauss:
        original.rng.gauss(0.0, 1.0)  # leaves the second normal of the pair pending: a float in the state
    state = json.loads(json.dumps(original._engine_state()))
    assert (state["rng"][2] is not None) is pending_gauss
    restored = engine(0)
    restored._restore(state)
    assert restored.rng.getstate() == original.rng.getstate()
    assert draws(restored.rng) == draws(original.rng)


def test_a_state_stored_before_the_scheduler_restores_the_rng():
    original = engine(5)
    old_state = json.loads(json.dumps(original._engine_state()["rng"]))  # what older stores hold: the rng alone
    restored = engine(0)
    restored._restore(old_state)
    assert restored.rng.getstate() == original.rng.getstate()
    assert restored.rng.getstate() == random.Random(5).getstate()
    assert _rng_state_from_json(old_state) == original.rng.getstate()


def test_rng_state_survives_the_store(tmp_path):
    original = engine(7)
    [original.rng.gauss(0.0, 1.0) for _ in range(3)]
    with SQLiteStore.open(str(tmp_path / "tzer.db"), create=True) as store:
        campaign = store.begin_campaign(7, "llvm", "generate", "v", {})
        store.checkpoint(campaign, CampaignStats(1.0, 3), (), original._engine_state())
    with SQLiteStore.open(str(tmp_path / "tzer.db")) as store:
        state = store.last_campaign().engine_state
    assert canonical_json(state) == canonical_json(original._engine_state())
    restored = engine(0)
    restored._restore(state)
    assert draws(restored.rng) == draws(original.rng)


def test_a_restored_engine_draws_the_same_test_cases():
    first = engine(99, generators=GENERATORS)
    drawn = first._draw_forever()
    list(itertools.islice(drawn, 4))
    state = json.loads(json.dumps(first._engine_state()))
    expected = list(itertools.islice(drawn, 6))

    resumed = engine(99, generators=GENERATORS)
    resumed._restore(state)
    assert list(itertools.islice(resumed._draw_forever(), 6)) == expected
    restarted = list(itertools.islice(engine(99, generators=GENERATORS)._draw_forever(), 6))
    assert restarted != expected  # without the state, a resumed campaign would draw its first test cases again
