"""The fork server under fire: planted faults are classified while the campaign goes on; kill -9 and --resume;
two campaigns on one store; no process left behind."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import time

import pytest

pytestmark = pytest.mark.integration

# Quick generators and tight limits keep each campaign short; a timeout costs limit * (1 + retry factor 4).
FAST = ("--mode", "generate", "--generator", "max_pool", "--generator", "avg_pool", "--generator", "global_pool",
        "--no-reduce")  # planted faults are no TVM bugs to triage (test_triage_phase covers the phase)
LIMITS = ("--compile-timeout", "1", "--run-timeout", "1")

# fault -> (symptom, stage, guilty pass or None when the fault has none, a word in the stored error)
PLANTED = {
    "segfault": ("crash", "lower", "fault.segfault", "SIGSEGV"),
    "abort": ("crash", "lower", "fault.abort", "SIGABRT"),
    "hang": ("timeout", "lower", "fault.hang", "took over"),
    "allocate": ("out_of_memory", "lower", "fault.allocate", "MemoryError"),
    "check_failure": ("internal_error", "lower", "tirx.FlattenBuffer", "Check failed"),
    "exception": ("exception", "lower", "fault.exception", "planted"),
    "kernel_hang": ("timeout", "run", "", "run took over"),
}


@pytest.fixture
def empty_corpus(tmp_path):
    path = tmp_path / "empty-corpus"
    path.mkdir()
    return str(path)


def _findings(cli, store: str) -> list[dict]:
    result = cli.run("findings", "--store", store, "--format", "json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _stats(cli, store: str) -> dict:
    result = cli.run("stats", "--store", store, "--format", "json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def _wait_until(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


def _stored(path: str) -> tuple[int, int]:
    """(executions at the last checkpoint, findings) in the store at `path`; zeros while it is being created."""
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
            row = db.execute("SELECT max(json_extract(stats, '$.executions')) FROM campaigns").fetchone()
            findings = db.execute("SELECT count(*) FROM findings").fetchone()[0]
        return int(row[0] or 0), int(findings)
    except sqlite3.OperationalError:
        return 0, 0


@pytest.mark.parametrize("fault", sorted(PLANTED))
def test_planted_fault_is_classified_and_the_campaign_goes_on(cli, tmp_path, empty_corpus, fault):
    symptom, stage, guilty_pass, word = PLANTED[fault]
    result = cli.run("fuzz", "--time", "10", "--seed", "2", "--store", "f.db", "--corpus", empty_corpus,
                     "--extra-pass", f"fault.{fault}", *FAST, *LIMITS, "--jobs", "2", timeout=180)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "stopped: time budget reached" in result.stdout
    findings = _findings(cli, "f.db")
    assert [(f["symptom"], f["stage"], f["guilty_pass"]) for f in findings] == [(symptom, stage, guilty_pass)], \
        findings
    assert word in findings[0]["error"]
    stats = _stats(cli, "f.db")
    assert stats["executions"] > stats["findings"] >= 1, "the fault fires on some programs, not on all"
    assert not _group_alive(cli.children[0].pid), "a worker outlived its campaign"


def test_segfault_keeps_tvm_backtrace(cli, tmp_path, empty_corpus):
    cli.run("fuzz", "--iterations", "6", "--seed", "2", "--store", "s.db", "--corpus", empty_corpus,
            "--extra-pass", "fault.segfault", *FAST)
    [finding] = _findings(cli, "s.db")
    assert "Segfault encountered" in finding["error"]  # TVM's own signal handler, from the worker's stderr


def test_kill_9_then_resume(cli, tmp_path, empty_corpus):
    store = str(tmp_path / "k.db")
    child = cli.start("fuzz", "--time", "300", "--seed", "4", "--store", store, "--corpus", empty_corpus,
                      "--extra-pass", "fault.exception", "--jobs", "2", *FAST)
    # The planted fault fires on about one program in three; which ones finish before the kill depends on timing.
    _wait_until(lambda: _stored(store)[0] >= 8 and _stored(store)[1] >= 1, 120, "8 executions and a finding stored")
    os.kill(child.pid, signal.SIGKILL)  # the campaign process only: its workers must die with it
    child.wait(timeout=30)
    _wait_until(lambda: not _group_alive(child.pid), 10, "the workers to die with their parent")
    with sqlite3.connect(store) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    before = _stats(cli, "k.db")
    findings_before = {f["id"]: f["count"] for f in _findings(cli, "k.db")}
    assert findings_before and before["campaigns"][0]["stop_reason"] is None

    resumed = cli.run("fuzz", "--resume", "--iterations", "6", "--store", store, "--jobs", "2", timeout=180)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    after = _stats(cli, "k.db")
    assert len(after["campaigns"]) == 1, "resume continues the campaign, it does not start another"
    assert after["executions"] == before["executions"] + 6
    assert after["campaigns"][0]["stop_reason"] == "iteration_budget"
    assert after["campaigns"][0]["seed"] == 4
    findings_after = {f["id"]: f["count"] for f in _findings(cli, "k.db")}
    assert all(findings_after[i] >= count for i, count in findings_before.items())


def test_resume_needs_a_campaign(cli, tmp_path):
    result = cli.run("fuzz", "--resume", "--iterations", "1", "--store", "none.db")
    assert result.returncode == 2 and "no store at" in result.stderr


def test_two_campaigns_on_one_store_at_once(cli, tmp_path, empty_corpus):
    args = ("--iterations", "8", "--store", "shared.db", "--corpus", empty_corpus, "--extra-pass", "fault.exception",
            *FAST)
    first, second = cli.start("fuzz", "--seed", "5", *args), cli.start("fuzz", "--seed", "6", *args)
    for child in (first, second):
        child.wait(timeout=180)
        assert child.returncode == 0, cli.read(child)[1][-3000:]
    stats = _stats(cli, "shared.db")
    assert len(stats["campaigns"]) == 2 and stats["executions"] == 16
    findings = _findings(cli, "shared.db")
    assert len(findings) == 1, "one planted bug, one finding, whichever campaign saw it first"
    assert findings[0]["count"] == stats["findings"] >= 2
    with sqlite3.connect(tmp_path / "shared.db") as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_corrupt_store_is_refused_and_kept(cli, tmp_path):
    path = tmp_path / "corrupt.db"
    path.write_bytes(b"not a database, and not to be overwritten" * 100)
    before = path.read_bytes()
    result = cli.run("fuzz", "--iterations", "1", "--store", "corrupt.db")
    assert result.returncode == 2
    assert result.stderr.strip().startswith("tzer: error:") and len(result.stderr.strip().splitlines()) == 1
    assert path.read_bytes() == before
