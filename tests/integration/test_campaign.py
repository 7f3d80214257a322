"""Campaigns end to end: `tzer fuzz` on real TVM, the store it leaves, determinism, and stopping by signal."""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import time

import pytest

from tzer.config import FuzzConfig
from tzer.corpus import save_test_case
from tzer.engine import Engine, StopReason
from tzer.execute.backends import make_backend
from tzer.generate import draw_test_case
from tzer.store.sqlite import SQLiteStore

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def runner():
    from tzer.runner import Runner

    return Runner("llvm")


def _stats(cli, store: str) -> dict:
    result = cli.run("stats", "--store", store, "--format", "json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _integrity(path: str) -> str:
    with sqlite3.connect(path) as db:
        return db.execute("PRAGMA integrity_check").fetchone()[0]


def test_fuzz_then_stats_and_findings(cli, tmp_path):
    seeds = tmp_path / "seeds"
    save_test_case(str(seeds), draw_test_case(random.Random(5), "ponet", "llvm"))
    result = cli.run("fuzz", "--mode", "generate", "--iterations", "5", "--seed", "1", "--store", "a.db",
                     "--corpus", str(seeds), "--warm-up-passes", "1")
    assert result.returncode == 0, result.stderr
    assert "stopped: iteration budget reached" in result.stdout
    stats = _stats(cli, "a.db")
    assert stats["executions"] == 5 and stats["valid"] == 5 and stats["invalid"] == 0
    assert stats["campaigns"][0]["stop_reason"] == "iteration_budget"
    assert stats["timeline"], "a per-second timeline point is stored at least at the end"
    listed = cli.run("findings", "--store", "a.db", "--format", "json")
    assert listed.returncode == 0 and json.loads(listed.stdout) == []
    with SQLiteStore.open(str(tmp_path / "a.db")) as store:
        assert len(store.test_cases()) == 5  # the seed plus 4 generated, all in the corpus table


def test_same_seed_same_campaign(tmp_path, runner):
    keys = []
    for name in ("x.db", "y.db"):
        config = FuzzConfig(seed=42, store=str(tmp_path / name), iterations=4, mode="generate")
        with SQLiteStore.open(config.store, create=True) as store:
            result = Engine(config, store, make_backend(config, runner)).run()
            assert result.stop_reason is StopReason.ITERATION_BUDGET
            keys.append([tc.key for tc in store.test_cases()])
    assert keys[0] == keys[1] and len(keys[0]) == 4


def _wait_for_executions(path: str, at_least: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if os.path.exists(path):
            try:
                with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
                    row = db.execute("SELECT max(json_extract(stats, '$.executions')) FROM timeline").fetchone()
                if row and row[0] is not None and row[0] >= at_least:
                    return
            except sqlite3.OperationalError:
                pass  # the schema is being created
        time.sleep(0.5)
    raise AssertionError(f"no {at_least} executions stored within {timeout}s")


@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGKILL])
def test_stopped_campaign_leaves_a_readable_store(cli, tmp_path, how):
    empty = tmp_path / "empty"
    empty.mkdir()
    child = cli.start("fuzz", "--time", "300", "--seed", "3", "--store", "k.db", "--corpus", str(empty), "--no-reduce")
    _wait_for_executions(str(tmp_path / "k.db"), 3, timeout=120)
    os.killpg(child.pid, how) if how == signal.SIGKILL else child.send_signal(how)
    child.wait(timeout=60)
    assert _integrity(str(tmp_path / "k.db")) == "ok"
    stats = _stats(cli, "k.db")
    assert stats["executions"] >= 3
    campaign = stats["campaigns"][0]
    if how == signal.SIGINT:
        assert child.returncode == 0, cli.read(child)[1]
        assert campaign["stop_reason"] == "interrupted"
        assert "stopped: interrupted" in cli.read(child)[0]
    else:
        assert campaign["stop_reason"] is None  # killed: totals up to the last checkpoint survive


def test_bad_corpus_file_touches_no_store(cli, tmp_path):
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "x.json").write_text("{bad")
    result = cli.run("fuzz", "--iterations", "1", "--store", "s.db", "--corpus", str(bad))
    assert result.returncode == 2
    assert result.stderr.strip().startswith("tzer: error: corrupt corpus file") and "x.json" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "s.db").exists()
