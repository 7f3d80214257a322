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
from tzer.store.sqlite import SCHEMA_VERSION, SQLiteStore

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
