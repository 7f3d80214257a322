"""The embedded report store: SQLite in WAL mode, one transaction per finding.

A file that is not a tzer store (another database, a corrupt or truncated file) is never written to: opening it
raises a one-line `StoreError`. Concurrent campaigns on one file serialize their writes with BEGIN IMMEDIATE.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator
from typing import Any

from tzer.errors import StoreError
from tzer.records import CampaignStats, Finding, Signature, TestCase, canonical_json
from tzer.store.base import CampaignRecord, Occurrence, Store, StoredFinding, TimelinePoint
from tzer.triage.case import Reduction

SCHEMA_VERSION = 4
LOCK_SECONDS = 30.0  # how long a write waits for another campaign's transaction on the same store
SQLITE_HEADER = b"SQLite format 3\x00"

SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE campaigns (
    id INTEGER PRIMARY KEY, started_at REAL NOT NULL, ended_at REAL, seed INTEGER NOT NULL, target TEXT NOT NULL,
    mode TEXT NOT NULL, tvm_version TEXT NOT NULL, config TEXT NOT NULL, stop_reason TEXT, stats TEXT NOT NULL,
    engine_state TEXT
);
CREATE TABLE test_cases (
    key TEXT PRIMARY KEY, generator TEXT NOT NULL, record TEXT NOT NULL, campaign_id INTEGER, added_at REAL NOT NULL
);
CREATE TABLE findings (
    id INTEGER PRIMARY KEY, signature_key TEXT NOT NULL, target TEXT NOT NULL,
    symptom TEXT NOT NULL, stage TEXT NOT NULL, guilty_pass TEXT NOT NULL, detail TEXT NOT NULL,
    tvm_version TEXT NOT NULL, count INTEGER NOT NULL, first_seen REAL NOT NULL, last_seen REAL NOT NULL,
    test_case_key TEXT NOT NULL REFERENCES test_cases(key), passes TEXT NOT NULL, input_seed INTEGER NOT NULL,
    error TEXT NOT NULL, max_abs_error REAL, max_rel_error REAL,
    program_script TEXT NOT NULL, program_json TEXT NOT NULL, reproducer TEXT,
    blame TEXT NOT NULL DEFAULT '[]', reduction TEXT,
    UNIQUE (signature_key, target)
);
CREATE TABLE occurrences (
    id INTEGER PRIMARY KEY, finding_id INTEGER NOT NULL REFERENCES findings(id),
    campaign_id INTEGER NOT NULL REFERENCES campaigns(id), test_case_key TEXT NOT NULL, seen_at REAL NOT NULL
);
CREATE TABLE timeline (
    campaign_id INTEGER NOT NULL REFERENCES campaigns(id), elapsed REAL NOT NULL, stats TEXT NOT NULL,
    PRIMARY KEY (campaign_id, elapsed)
);
"""


# Upgrades of older stores, each from version N to N+1, in one transaction: nothing stored is lost.
MIGRATIONS: dict[int, tuple[str, ...]] = {
    1: ("ALTER TABLE campaigns ADD COLUMN rng_state TEXT",),
    2: ("ALTER TABLE campaigns RENAME COLUMN rng_state TO engine_state",),  # it now holds the scheduler's too
    3: ("ALTER TABLE findings ADD COLUMN blame TEXT NOT NULL DEFAULT '[]'",  # a mismatch's guilty passes
        "ALTER TABLE findings ADD COLUMN reduction TEXT"),  # the reduced script case (tzer.triage.case)
}


def _stats_from_json(text: str) -> CampaignStats:
    return CampaignStats.from_json(json.loads(text))


class SQLiteStore(Store):
    def __init__(self, connection: sqlite3.Connection, path: str):
        self._db = connection
        self.path = path

    @classmethod
    def open(cls, path: str, create: bool = False) -> "SQLiteStore":
        exists = os.path.exists(path)
        if not exists and not create:
            raise StoreError(f"no store at {path} (a campaign creates one: tzer fuzz --store {path})")
        if exists:
            _check_header(path)
        elif os.path.dirname(path):
            os.makedirs(os.path.dirname(path), exist_ok=True)
        try:
            connection = sqlite3.connect(path, timeout=LOCK_SECONDS, isolation_level=None)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open store {path}: {exc}") from None
        store = cls(connection, path)
        try:
            store._prepare(create)
        except sqlite3.Error as exc:
            connection.close()
            raise StoreError(f"cannot open store {path}: {exc}") from None
        except StoreError:
            connection.close()
            raise
        return store

    def _tables(self) -> set[str]:
        return {row[0] for row in self._db.execute("SELECT name FROM sqlite_master WHERE type='table'")}

    def _wal(self) -> None:
        """Switch to WAL. Another campaign creating the same new store at this moment holds the lock the switch
        needs, and SQLite answers "database is locked" at once rather than waiting: wait here, as for a write."""
        deadline = time.monotonic() + LOCK_SECONDS
        while True:
            try:
                self._db.execute("PRAGMA journal_mode=WAL")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def _prepare(self, create: bool) -> None:
        if not self._tables() and create:
            self._wal()
            with self._transaction():
                if not self._tables():  # checked again under the write lock: another campaign may have won
                    for statement in SCHEMA.split(";"):
                        if statement.strip():
                            self._db.execute(statement)
                    self._db.execute("INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
        if "meta" not in self._tables():
            raise StoreError(f"{self.path} is an SQLite database but not a tzer store")
        row = self._db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        if row is not None and int(row[0]) in MIGRATIONS:
            self._migrate(int(row[0]))
            row = self._db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        if row is None or int(row[0]) != SCHEMA_VERSION:
            raise StoreError(f"{self.path} has store schema {row and row[0]}; this tzer reads {SCHEMA_VERSION}")
        self._wal()
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("PRAGMA foreign_keys=ON")

    def _migrate(self, version: int) -> None:
        while version in MIGRATIONS:
            with self._transaction() as db:
                # Read again under the write lock: another process may have migrated while this one waited.
                version = int(db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()[0])
                if version not in MIGRATIONS:
                    break
                for statement in MIGRATIONS[version]:
                    db.execute(statement)
                version += 1
                db.execute("UPDATE meta SET value=? WHERE key='schema_version'", (str(version),))

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        try:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
        except sqlite3.Error as exc:
            raise StoreError(f"store {self.path}: {exc}") from None

    def _query(self, sql: str, args: tuple = ()) -> list[sqlite3.Row]:
        try:
            return self._db.execute(sql, args).fetchall()
        except sqlite3.Error as exc:
            raise StoreError(f"store {self.path}: {exc}") from None

    # Campaigns

    def begin_campaign(self, seed: int, target: str, mode: str, tvm_version: str, config: dict[str, Any]) -> int:
        with self._transaction() as db:
            cursor = db.execute(
                "INSERT INTO campaigns (started_at, seed, target, mode, tvm_version, config, stats)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (time.time(), seed, target, mode, tvm_version, canonical_json(config),
                 canonical_json(CampaignStats().to_json())),
            )
            return int(cursor.lastrowid)

    def checkpoint(self, campaign_id: int, stats: CampaignStats, test_cases: Iterable[TestCase],
                   engine_state: Any = None) -> None:
        now = time.time()
        with self._transaction() as db:
            db.executemany(
                "INSERT OR IGNORE INTO test_cases (key, generator, record, campaign_id, added_at) VALUES (?,?,?,?,?)",
                [(tc.key, tc.generator, canonical_json(tc.to_json()), campaign_id, now) for tc in test_cases],
            )
            text = canonical_json(stats.to_json())
            db.execute("UPDATE campaigns SET stats=?, engine_state=coalesce(?, engine_state) WHERE id=?",
                       (text, canonical_json(engine_state) if engine_state is not None else None, campaign_id))
            db.execute("INSERT OR REPLACE INTO timeline VALUES (?, ?, ?)", (campaign_id, stats.elapsed, text))

    def end_campaign(self, campaign_id: int, stats: CampaignStats, stop_reason: str) -> None:
        self.checkpoint(campaign_id, stats, ())
        with self._transaction() as db:
            db.execute("UPDATE campaigns SET ended_at=?, stop_reason=? WHERE id=?",
                       (time.time(), stop_reason, campaign_id))

    def reopen_campaign(self, campaign_id: int) -> None:
        with self._transaction() as db:
            db.execute("UPDATE campaigns SET ended_at=NULL, stop_reason=NULL WHERE id=?", (campaign_id,))

    _CAMPAIGN_COLUMNS = "id, started_at, ended_at, seed, target, mode, tvm_version, stop_reason, stats, config, engine_state"

    @staticmethod
    def _campaign(row: tuple) -> CampaignRecord:
        return CampaignRecord(*row[:8], _stats_from_json(row[8]), json.loads(row[9]),
                              json.loads(row[10]) if row[10] else None)

    def campaigns(self) -> list[CampaignRecord]:
        rows = self._query(f"SELECT {self._CAMPAIGN_COLUMNS} FROM campaigns ORDER BY id")
        return [self._campaign(row) for row in rows]

    def last_campaign(self) -> CampaignRecord | None:
        rows = self._query(f"SELECT {self._CAMPAIGN_COLUMNS} FROM campaigns ORDER BY id DESC LIMIT 1")
        return self._campaign(rows[0]) if rows else None

    def timeline(self, campaign_id: int | None = None) -> list[TimelinePoint]:
        where, args = ("WHERE campaign_id=?", (campaign_id,)) if campaign_id is not None else ("", ())
        rows = self._query(f"SELECT campaign_id, stats FROM timeline {where} ORDER BY campaign_id, elapsed", args)
        return [TimelinePoint(row[0], _stats_from_json(row[1])) for row in rows]

    def test_cases(self) -> list[TestCase]:
        rows = self._query("SELECT record FROM test_cases ORDER BY added_at, key")
        return [TestCase.from_json(json.loads(row[0])) for row in rows]

    # Findings

    def record_finding(self, campaign_id: int, finding: Finding) -> tuple[int, bool]:
        tc, ex, sig = finding.test_case, finding.execution, finding.signature
        now = time.time()
        with self._transaction() as db:
            db.execute(
                "INSERT OR IGNORE INTO test_cases (key, generator, record, campaign_id, added_at) VALUES (?,?,?,?,?)",
                (tc.key, tc.generator, canonical_json(tc.to_json()), campaign_id, now),
            )
            row = db.execute("SELECT id FROM findings WHERE signature_key=? AND target=?",
                             (sig.key, tc.target)).fetchone()
            if row is not None:
                finding_id, new = int(row[0]), False
                db.execute("UPDATE findings SET count=count+1, last_seen=? WHERE id=?", (now, finding_id))
            else:
                s = sig.to_json()
                cursor = db.execute(
                    "INSERT INTO findings (signature_key, target, symptom, stage, guilty_pass, detail, tvm_version,"
                    " count, first_seen, last_seen, test_case_key, passes, input_seed, error, max_abs_error,"
                    " max_rel_error, program_script, program_json, blame)"
                    " VALUES (?,?,?,?,?,?,?,1,?,?,?,?,?,?,?,?,?,?,?)",
                    (sig.key, tc.target, s["symptom"], s["stage"], s["guilty_pass"], s["detail"], ex.tvm_version,
                     now, now, tc.key, canonical_json(tc.passes.to_json()), tc.input_seed, ex.error,
                     ex.max_abs_error, ex.max_rel_error, ex.program_script, ex.program_json,
                     canonical_json(list(ex.blame))),
                )
                finding_id, new = int(cursor.lastrowid), True
            db.execute("INSERT INTO occurrences (finding_id, campaign_id, test_case_key, seen_at) VALUES (?,?,?,?)",
                       (finding_id, campaign_id, tc.key, now))
        return finding_id, new

    def set_reproducer(self, finding_id: int, script: str) -> None:
        self._set(finding_id, "reproducer", script)

    def set_reduction(self, finding_id: int, reduction: Reduction) -> None:
        self._set(finding_id, "reduction", canonical_json(reduction.to_json()))

    def _set(self, finding_id: int, column: str, value: str) -> None:
        with self._transaction() as db:
            if db.execute(f"UPDATE findings SET {column}=? WHERE id=?", (value, finding_id)).rowcount != 1:
                raise StoreError(f"no finding {finding_id} in {self.path}")

    _FINDING_COLUMNS = (
        "f.id, f.symptom, f.stage, f.guilty_pass, f.detail, f.target, f.tvm_version, f.count, f.first_seen,"
        " f.last_seen, t.record, f.error, f.max_abs_error, f.max_rel_error, f.program_script, f.program_json,"
        " f.reproducer, f.blame, f.reduction"
    )

    def _finding_rows(self, where: str = "", args: tuple = ()) -> list[StoredFinding]:
        rows = self._query(f"SELECT {self._FINDING_COLUMNS} FROM findings f JOIN test_cases t"
                           f" ON t.key = f.test_case_key {where} ORDER BY f.id", args)
        return [self._finding(row) for row in rows]

    def _finding(self, row: tuple) -> StoredFinding:
        (fid, symptom, stage, guilty, detail, target, version, count, first, last, record, error, max_abs, max_rel,
         script, as_json, reproducer, blame, reduction) = row
        signature = Signature.from_json({"symptom": symptom, "stage": stage, "guilty_pass": guilty, "detail": detail})
        history = tuple(Occurrence(*r) for r in self._query(
            "SELECT campaign_id, test_case_key, seen_at FROM occurrences WHERE finding_id=? ORDER BY id", (fid,)))
        return StoredFinding(fid, signature, target, version, count, first, last,
                             TestCase.from_json(json.loads(record)), error, max_abs, max_rel, script, as_json,
                             reproducer, history, tuple(json.loads(blame)),
                             Reduction.from_json(json.loads(reduction)) if reduction else None)

    def findings(self) -> list[StoredFinding]:
        return self._finding_rows()

    def finding(self, finding_id: int) -> StoredFinding | None:
        rows = self._finding_rows("WHERE f.id=?", (finding_id,))
        return rows[0] if rows else None

    def close(self) -> None:
        self._db.close()


def _check_header(path: str) -> None:
    """Refuse anything that is not an SQLite file before SQLite sees it, so nothing foreign is ever written."""
    try:
        with open(path, "rb") as handle:
            header = handle.read(len(SQLITE_HEADER))
    except OSError as exc:
        raise StoreError(f"cannot read store {path}: {exc.strerror}") from None
    if header and header != SQLITE_HEADER:
        raise StoreError(f"{path} is not a tzer store (not an SQLite database)")
