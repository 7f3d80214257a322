"""The SQLite report store (tzer.store.sqlite) on real files: findings, campaigns, timeline, and refusing foreign files."""

import dataclasses
import hashlib
import json
import random
import sqlite3

import pytest

from tzer.errors import ConfigError, StoreError
from tzer.generate import GENERATORS
from tzer.records import (
    CampaignStats, Execution, Finding, PassConfig, Signature, Stage, Symptom, TestCase, Verdict,
)
from tzer.store.base import open_store
from tzer.store.sqlite import SCHEMA, SCHEMA_VERSION, SQLiteStore

CHECK = Signature(Symptom.INTERNAL_ERROR, Stage.LOWER, "tir.Simplify", "InternalError: Check failed: N == N")
MISMATCH = Signature(Symptom.MISMATCH, Stage.COMPARE, "", "pooling:float16")


def make_test_case(seed: int, generator: str = "max_pool") -> TestCase:
    params = GENERATORS.get(generator)(random.Random(seed))
    return TestCase(generator, params, seed, seed + 1000, "llvm", PassConfig(2, ("tir.Simplify",), (("k", 1),)))


def make_finding(test_case: TestCase, signature: Signature, error: str = "boom") -> Finding:
    execution = Execution(
        Verdict.FINDING, signature, error,
        max_abs_error=0.5 if signature.symptom is Symptom.MISMATCH else None,
        max_rel_error=0.25 if signature.symptom is Symptom.MISMATCH else None,
        program_script=f"# from tvm.script import tir as T\n# program {test_case.key[:8]}\n",
        program_json=json.dumps({"root": 1, "key": test_case.key}), tvm_version="0.27.0.post1",
    )
    return Finding(test_case, execution)


def digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def sidecars(path) -> list:
    return sorted(p.name for p in path.parent.iterdir() if p.name != path.name)


@pytest.fixture
def store_path(tmp_path):
    return tmp_path / "reports" / "tzer.db"  # a missing parent directory is created


@pytest.fixture
def store(store_path):
    with SQLiteStore.open(str(store_path), create=True) as opened:
        yield opened


def test_create_makes_a_wal_store_that_passes_integrity_check(store, store_path):
    assert store_path.exists()
    with sqlite3.connect(store_path) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert raw.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()[0] == str(SCHEMA_VERSION)
    assert store.findings() == [] and store.campaigns() == [] and store.timeline() == [] and store.test_cases() == []


def test_campaign_begin_checkpoint_and_end(store):
    campaign = store.begin_campaign(42, "llvm", "generate", "0.27", {"seed": 42, "generators": ["conv"]})
    [record] = store.campaigns()
    assert (record.id, record.seed, record.target, record.mode, record.tvm_version) == (campaign, 42, "llvm",
                                                                                         "generate", "0.27")
    assert record.ended_at is None and record.stop_reason is None and record.stats == CampaignStats()

    cases = [make_test_case(seed) for seed in range(3)]
    store.checkpoint(campaign, CampaignStats(1.0, 3, 0, 0, 0, None), cases)
    store.checkpoint(campaign, CampaignStats(2.0, 5, 1, 0, 0, 17), cases[:1])  # duplicates are ignored
    final = CampaignStats(3.5, 8, 2, 1, 1, 20)
    store.end_campaign(campaign, final, "iteration_budget")

    [record] = store.campaigns()
    assert record.stop_reason == "iteration_budget"
    assert record.stats == final
    assert record.ended_at is not None and record.ended_at >= record.started_at
    assert [p.stats.elapsed for p in store.timeline(campaign)] == [1.0, 2.0, 3.5]
    assert [p.stats.executions for p in store.timeline()] == [3, 5, 8]
    assert sorted(tc.key for tc in store.test_cases()) == sorted(tc.key for tc in cases)
    assert {tc.key: tc for tc in store.test_cases()} == {tc.key: tc for tc in cases}


def test_timeline_is_per_campaign(store):
    first = store.begin_campaign(1, "llvm", "generate", "v", {})
    second = store.begin_campaign(2, "llvm", "generate", "v", {})
    store.checkpoint(first, CampaignStats(1.0, 1), ())
    store.checkpoint(second, CampaignStats(1.0, 10), ())
    store.checkpoint(second, CampaignStats(2.0, 20), ())
    assert [p.stats.executions for p in store.timeline(first)] == [1]
    assert [p.stats.executions for p in store.timeline(second)] == [10, 20]
    assert [(p.campaign_id, p.stats.executions) for p in store.timeline()] == [(first, 1), (second, 10), (second, 20)]


def test_same_signature_twice_is_one_finding_seen_twice(store):
    campaign = store.begin_campaign(0, "llvm", "generate", "v", {})
    first, second = make_test_case(1), make_test_case(2)
    assert first.key != second.key
    id_one, new_one = store.record_finding(campaign, make_finding(first, CHECK, "first error"))
    id_two, new_two = store.record_finding(campaign, make_finding(second, CHECK, "second error"))
    assert (new_one, new_two) == (True, False) and id_one == id_two

    [stored] = store.findings()
    assert stored.count == 2
    assert [o.test_case_key for o in stored.history] == [first.key, second.key]
    assert all(o.campaign_id == campaign for o in stored.history)
    assert stored.test_case == first and stored.error == "first error"  # the first test case that showed it
    assert stored.first_seen <= stored.last_seen


def test_a_different_signature_is_a_second_finding(store):
    campaign = store.begin_campaign(0, "llvm", "generate", "v", {})
    test_case = make_test_case(1)
    id_one, _ = store.record_finding(campaign, make_finding(test_case, CHECK))
    other = dataclasses.replace(CHECK, guilty_pass="tir.VectorizeLoop")
    id_two, new = store.record_finding(campaign, make_finding(test_case, other))
    assert new and id_two != id_one
    assert [(f.id, f.signature, f.count) for f in store.findings()] == [(id_one, CHECK, 1), (id_two, other, 1)]


def test_same_signature_on_another_target_is_another_finding(store):
    campaign = store.begin_campaign(0, "llvm", "generate", "v", {})
    test_case = make_test_case(1)
    store.record_finding(campaign, make_finding(test_case, CHECK))
    _, new = store.record_finding(campaign, make_finding(dataclasses.replace(test_case, target="cuda"), CHECK))
    assert new and len(store.findings()) == 2


@pytest.mark.parametrize("signature", [CHECK, MISMATCH], ids=["internal-error", "mismatch"])
def test_finding_round_trip(store, signature):
    campaign = store.begin_campaign(0, "llvm", "generate", "v", {})
    test_case = make_test_case(3, "conv")
    finding = make_finding(test_case, signature, "InternalError: Check failed: 3 == 4\n  at line 2")
    finding_id, _ = store.record_finding(campaign, finding)

    stored = store.finding(finding_id)
    ex = finding.execution
    assert stored.signature == signature
    assert stored.test_case == test_case
    assert (stored.error, stored.program_script, stored.program_json) == (ex.error, ex.program_script, ex.program_json)
    assert (stored.max_abs_error, stored.max_rel_error) == (ex.max_abs_error, ex.max_rel_error)
    assert (stored.target, stored.tvm_version, stored.count, stored.reproducer) == ("llvm", "0.27.0.post1", 1, None)
    assert store.finding(finding_id + 100) is None
    full = json.loads(json.dumps(stored.to_json(full=True)))
    assert full["test_case"] == test_case.to_json() and full["signature"] == signature.to_json()
    assert full["history"][0]["test_case_key"] == test_case.key


def test_set_reproducer(store):
    campaign = store.begin_campaign(0, "llvm", "generate", "v", {})
    finding_id, _ = store.record_finding(campaign, make_finding(make_test_case(1), CHECK))
    store.set_reproducer(finding_id, "print('repro')\n")
    assert store.finding(finding_id).reproducer == "print('repro')\n"
    assert store.finding(finding_id).to_json()["has_reproducer"] is True
    with pytest.raises(StoreError, match="no finding"):
        store.set_reproducer(finding_id + 1, "x")


def test_reopen_reads_everything_back(store_path):
    with SQLiteStore.open(str(store_path), create=True) as store:
        campaign = store.begin_campaign(9, "llvm", "generate", "v", {"seed": 9})
        store.checkpoint(campaign, CampaignStats(1.0, 2), [make_test_case(5)])
        store.record_finding(campaign, make_finding(make_test_case(6), CHECK))
        store.record_finding(campaign, make_finding(make_test_case(7), CHECK))
        store.record_finding(campaign, make_finding(make_test_case(8), MISMATCH))
        store.end_campaign(campaign, CampaignStats(2.0, 4, 0, 3, 2), "time_budget")
        before = (store.findings(), store.campaigns(), store.timeline(), store.test_cases())
    with open_store(str(store_path)) as reopened:
        after = (reopened.findings(), reopened.campaigns(), reopened.timeline(), reopened.test_cases())
    assert after == before
    findings, campaigns, _, test_cases = after
    assert [f.count for f in findings] == [2, 1] and campaigns[0].stop_reason == "time_budget"
    assert len(test_cases) == 4
    with sqlite3.connect(store_path) as raw:
        assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_open_store_accepts_a_sqlite_url_and_rejects_unknown_schemes(store_path):
    SQLiteStore.open(str(store_path), create=True).close()
    with open_store(f"sqlite://{store_path}") as store:
        assert store.findings() == []
    with pytest.raises(ConfigError, match="unknown store backend 'postgres'"):
        open_store("postgres://host/db")


# Error paths: nothing that is not a tzer store is ever created or written.


@pytest.mark.parametrize("location", ["missing.db", "sub/dir/missing.db"])
def test_missing_store_without_create_raises_and_creates_nothing(tmp_path, location):
    path = tmp_path / location
    with pytest.raises(StoreError, match="no store at") as info:
        SQLiteStore.open(str(path), create=False)
    assert "\n" not in str(info.value)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("create", [False, True])
def test_random_bytes_raise_and_stay_unchanged(tmp_path, create):
    path = tmp_path / "corrupt.db"
    path.write_bytes(random.Random(0).randbytes(8192))
    before = digest(path)
    with pytest.raises(StoreError, match="not a tzer store") as info:
        SQLiteStore.open(str(path), create=create)
    assert "\n" not in str(info.value)
    assert digest(path) == before
    assert sidecars(path) == []


@pytest.mark.parametrize("create", [False, True])
def test_truncated_header_raises_and_stays_unchanged(tmp_path, create):
    path = tmp_path / "short.db"
    path.write_bytes(b"SQLite f")
    with pytest.raises(StoreError):
        SQLiteStore.open(str(path), create=create)
    assert path.read_bytes() == b"SQLite f" and sidecars(path) == []


@pytest.mark.parametrize("create", [False, True])
def test_foreign_sqlite_database_raises_and_stays_unchanged(tmp_path, create):
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as raw:
        raw.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)")
        raw.execute("INSERT INTO users VALUES (1, 'ada')")
    raw.close()
    before = digest(path)
    with pytest.raises(StoreError, match="not a tzer store") as info:
        SQLiteStore.open(str(path), create=create)
    assert "\n" not in str(info.value)
    assert digest(path) == before
    assert sidecars(path) == []
    with sqlite3.connect(path) as raw:
        assert raw.execute("SELECT name FROM users").fetchall() == [("ada",)]
    raw.close()


def test_other_schema_version_raises_and_stays_unchanged(tmp_path):
    path = tmp_path / "future.db"
    SQLiteStore.open(str(path), create=True).close()
    with sqlite3.connect(path) as raw:
        raw.execute("UPDATE meta SET value='99' WHERE key='schema_version'")
    raw.close()
    before = digest(path)
    with pytest.raises(StoreError, match="schema 99"):
        SQLiteStore.open(str(path), create=True)
    assert digest(path) == before


def test_a_directory_is_not_a_store(tmp_path):
    with pytest.raises(StoreError):
        SQLiteStore.open(str(tmp_path), create=True)


# Schema 2: the engine's rng state, and continuing the last campaign (--resume).

RNG_STATE = [3, list(range(624)) + [624], None]  # the shape of random.Random.getstate() as the engine stores it


def test_checkpoint_stores_the_engine_state_and_a_checkpoint_without_one_keeps_it(store):
    campaign = store.begin_campaign(1, "llvm", "generate", "v", {"seed": 1})
    assert store.last_campaign().engine_state is None
    store.checkpoint(campaign, CampaignStats(1.0, 1), (), RNG_STATE)
    assert store.last_campaign().engine_state == RNG_STATE
    store.checkpoint(campaign, CampaignStats(2.0, 2), ())
    store.end_campaign(campaign, CampaignStats(3.0, 3), "iteration_budget")  # checkpoints without a state too
    assert store.last_campaign().engine_state == RNG_STATE
    later = [3, list(range(1, 625)) + [7], 0.5]
    store.checkpoint(campaign, CampaignStats(4.0, 4), (), later)
    assert store.last_campaign().engine_state == later


def test_last_campaign_is_none_on_an_empty_store_and_else_the_newest(store):
    assert store.last_campaign() is None
    first = store.begin_campaign(1, "llvm", "generate", "v", {"seed": 1, "generators": ["conv"]})
    store.checkpoint(first, CampaignStats(1.0, 1), (), RNG_STATE)
    store.end_campaign(first, CampaignStats(1.0, 1), "time_budget")
    assert store.last_campaign().id == first
    second = store.begin_campaign(2, "llvm", "generate", "v", {"seed": 2, "generators": []})
    last = store.last_campaign()
    assert (last.id, last.seed, last.config, last.engine_state) == (second, 2, {"seed": 2, "generators": []}, None)
    assert last.ended_at is None and last.stop_reason is None
    assert last == store.campaigns()[-1]


def test_campaigns_return_their_config_and_engine_state(store):
    first = store.begin_campaign(1, "llvm", "generate", "v", {"seed": 1, "extra_passes": ["fault.segfault"]})
    second = store.begin_campaign(2, "llvm", "generate", "v", {"seed": 2})
    store.checkpoint(first, CampaignStats(1.0, 1), (), RNG_STATE)
    assert [(c.id, c.config, c.engine_state) for c in store.campaigns()] == [
        (first, {"seed": 1, "extra_passes": ["fault.segfault"]}, RNG_STATE), (second, {"seed": 2}, None)]


def test_reopen_campaign_clears_the_end_and_keeps_the_rest(store):
    campaign = store.begin_campaign(1, "llvm", "generate", "v", {"seed": 1})
    store.checkpoint(campaign, CampaignStats(1.0, 5), [make_test_case(1)], RNG_STATE)
    store.end_campaign(campaign, CampaignStats(2.0, 6), "interrupted")
    ended = store.last_campaign()
    assert ended.ended_at is not None and ended.stop_reason == "interrupted"
    store.reopen_campaign(campaign)
    reopened = store.last_campaign()
    assert reopened.ended_at is None and reopened.stop_reason is None
    assert reopened == dataclasses.replace(ended, ended_at=None, stop_reason=None)
    store.end_campaign(campaign, CampaignStats(3.0, 9), "iteration_budget")
    assert store.last_campaign().stop_reason == "iteration_budget"
    assert [p.stats.executions for p in store.timeline(campaign)] == [5, 6, 9]


def test_a_second_create_on_the_same_path_sees_the_schema(store_path):
    with SQLiteStore.open(str(store_path), create=True) as first:
        campaign = first.begin_campaign(1, "llvm", "generate", "v", {})
    with SQLiteStore.open(str(store_path), create=True) as second:
        assert [c.id for c in second.campaigns()] == [campaign]
    with sqlite3.connect(store_path) as raw:
        assert raw.execute("SELECT count(*) FROM meta").fetchone()[0] == 1
    raw.close()


# Migration: a version-1 store (schema 2 without campaigns.engine_state) is upgraded in place when opened.

V1_SCHEMA = SCHEMA.replace("stats TEXT NOT NULL,\n    engine_state TEXT\n", "stats TEXT NOT NULL\n").replace(
    "    blame TEXT NOT NULL DEFAULT '[]', reduction TEXT,\n", "")
TABLES = ("meta", "campaigns", "test_cases", "findings", "occurrences", "timeline")


def rows(path) -> dict[str, list[tuple]]:
    with sqlite3.connect(path) as raw:
        dump = {table: raw.execute(f"SELECT * FROM {table} ORDER BY rowid").fetchall() for table in TABLES}
    raw.close()
    return dump


@pytest.fixture
def v1_store(tmp_path):
    """A version-1 store written by hand: one ended campaign, a corpus entry and a finding with its occurrence."""
    assert "engine_state" not in V1_SCHEMA and V1_SCHEMA != SCHEMA
    path = tmp_path / "old.db"
    corpus_case, finding_case = make_test_case(1), make_test_case(2, "conv")
    stats = json.dumps(CampaignStats(5.0, 4, 0, 1, 1).to_json())
    config = {"seed": 3, "store": str(path), "time_budget": 5.0, "iterations": None, "target": "llvm",
              "mode": "generate", "generators": [], "corpus": None, "checkpoint_seconds": 1.0}
    with sqlite3.connect(path) as raw:
        raw.executescript(V1_SCHEMA)
        raw.execute("INSERT INTO meta VALUES ('schema_version', '1')")
        raw.execute("INSERT INTO campaigns (id, started_at, ended_at, seed, target, mode, tvm_version, config,"
                    " stop_reason, stats) VALUES (1, 100.0, 105.0, 3, 'llvm', 'generate', '0.27.0.post1', ?,"
                    " 'time_budget', ?)", (json.dumps(config), stats))
        for test_case in (corpus_case, finding_case):
            raw.execute("INSERT INTO test_cases VALUES (?, ?, ?, 1, 101.0)",
                        (test_case.key, test_case.generator, json.dumps(test_case.to_json())))
        s = CHECK.to_json()
        raw.execute(
            "INSERT INTO findings (id, signature_key, target, symptom, stage, guilty_pass, detail, tvm_version, count,"
            " first_seen, last_seen, test_case_key, passes, input_seed, error, max_abs_error, max_rel_error,"
            " program_script, program_json, reproducer) VALUES (1, ?, 'llvm', ?, ?, ?, ?, '0.27.0.post1', 1, 102.0,"
            " 102.0, ?, ?, ?, 'InternalError: boom', NULL, NULL, 'script', '{}', NULL)",
            (CHECK.key, s["symptom"], s["stage"], s["guilty_pass"], s["detail"], finding_case.key,
             json.dumps(finding_case.passes.to_json()), finding_case.input_seed))
        raw.execute("INSERT INTO occurrences VALUES (1, 1, 1, ?, 102.0)", (finding_case.key,))
        raw.execute("INSERT INTO timeline VALUES (1, 5.0, ?)", (stats,))
    raw.close()
    return path, config, corpus_case, finding_case


@pytest.mark.parametrize("create", [False, True])
def test_a_version_1_store_is_migrated_in_place_and_keeps_every_row(v1_store, create):
    path, config, corpus_case, finding_case = v1_store
    before = rows(path)
    with SQLiteStore.open(str(path), create=create) as store:
        [campaign] = store.campaigns()
        assert (campaign.id, campaign.seed, campaign.stop_reason, campaign.config) == (1, 3, "time_budget", config)
        assert campaign.engine_state is None and campaign.stats == CampaignStats(5.0, 4, 0, 1, 1)
        [finding] = store.findings()
        assert (finding.signature, finding.test_case, finding.error) == (CHECK, finding_case, "InternalError: boom")
        assert [o.test_case_key for o in finding.history] == [finding_case.key]
        assert {tc.key for tc in store.test_cases()} == {corpus_case.key, finding_case.key}
    after = rows(path)
    assert after["meta"] == [("schema_version", str(SCHEMA_VERSION))] and SCHEMA_VERSION == 4
    assert after["campaigns"] == [row + (None,) for row in before["campaigns"]]  # the new column, empty
    assert after["findings"] == [row + ("[]", None) for row in before["findings"]]  # no blame, no reduction
    assert all(after[table] == before[table] for table in TABLES if table not in ("meta", "campaigns", "findings"))
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert "engine_state" in [column[1] for column in raw.execute("PRAGMA table_info(campaigns)")]
    raw.close()


def test_a_migrated_store_is_usable_and_opens_again(v1_store):
    path, _, _, finding_case = v1_store
    with SQLiteStore.open(str(path)) as store:
        store.reopen_campaign(1)
        store.checkpoint(1, CampaignStats(6.0, 5, 0, 1, 1), [make_test_case(3)], RNG_STATE)
        finding_id, new = store.record_finding(1, make_finding(make_test_case(4), CHECK))
        assert (finding_id, new) == (1, False)
    with SQLiteStore.open(str(path)) as store:  # already current: nothing left to migrate
        last = store.last_campaign()
        assert (last.id, last.engine_state, last.ended_at) == (1, RNG_STATE, None)
        assert store.findings()[0].count == 2 and len(store.test_cases()) == 4
        campaign = store.begin_campaign(8, "llvm", "generate", "v", {})
        assert store.last_campaign().id == campaign == 2


def test_blame_reduction_and_reproducer_are_kept_with_the_finding(store, store_path):
    from tzer.triage.case import Reduction, ScriptCase

    campaign = store.begin_campaign(1, "llvm", "joint", "v", {})
    finding = make_finding(make_test_case(5), MISMATCH)
    finding = Finding(finding.test_case, dataclasses.replace(finding.execution, blame=("tirx.StorageRewrite",)))
    finding_id, _ = store.record_finding(campaign, finding)
    case = ScriptCase("script", PassConfig(pipeline=("tirx.FlattenBuffer",)), ("normal",), 3, "llvm", MISMATCH,
                      family="pooling", dtype="float16", rtol=0.01, atol=0.001)
    store.set_reduction(finding_id, Reduction(case, 40, 77, 12.5, True, 1))
    store.set_reproducer(finding_id, "print('repro')")
    with SQLiteStore.open(str(store_path)) as again:
        stored = again.finding(finding_id)
    assert stored.blame == ("tirx.StorageRewrite",)
    assert stored.reduction == Reduction(case, 40, 77, 12.5, True, 1) and stored.reproducer == "print('repro')"
    assert stored.to_json()["reduced_lines"] == 1 and stored.to_json(full=True)["reduction"]["checks"] == 77
    with pytest.raises(StoreError, match="no finding 99"):
        store.set_reduction(99, Reduction(case, 1, 1, 1.0, True))


def _open_at_once(path: str, barrier, results) -> None:
    barrier.wait()
    try:
        SQLiteStore.open(path, create=True).close()
        results.put("ok")
    except StoreError as exc:
        results.put(str(exc))


def test_campaigns_creating_one_new_store_at_once_all_open_it(tmp_path):
    # Seen in CI: two campaigns started on one new store; the second's switch to WAL met the first's lock and
    # SQLite answered "database is locked" at once. Measured before the fix: 6 of 120 opens failed.
    import multiprocessing

    context = multiprocessing.get_context("fork")
    failures = []
    for round_ in range(20):
        barrier, results = context.Barrier(4), context.Queue()
        path = str(tmp_path / f"new-{round_}.db")
        workers = [context.Process(target=_open_at_once, args=(path, barrier, results)) for _ in range(4)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=60)
        failures += [r for r in (results.get(timeout=10) for _ in workers) if r != "ok"]
    assert failures == []
