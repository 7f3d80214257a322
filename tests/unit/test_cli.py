"""The command line's error paths (tzer.cli), run as subprocesses: exit 2, one 'tzer: error:' line, no TVM, no writes."""

import hashlib
import os
import random
import sqlite3
import subprocess
import sys

import pytest

from tzer.store.sqlite import SQLiteStore

HEAVY = ("tvm", "tvm_ffi", "torch")
IMPORT_TIME = "import time:"


def run_tzer(cwd, *args: str) -> subprocess.CompletedProcess:
    # -X importtime logs every import to stderr; those lines are split off, so the test sees the real stderr and
    # learns whether the command imported TVM or PyTorch.
    env = {**os.environ, "COLUMNS": "120"}
    return subprocess.run([sys.executable, "-X", "importtime", "-m", "tzer", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=60, env=env)


def imported_modules(result: subprocess.CompletedProcess) -> set[str]:
    return {line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines() if line.startswith(IMPORT_TIME)}


def stderr_lines(result: subprocess.CompletedProcess) -> list[str]:
    return [line for line in result.stderr.splitlines() if not line.startswith(IMPORT_TIME)]


def heavy_imports(result: subprocess.CompletedProcess) -> list[str]:
    return sorted(m for m in imported_modules(result) if m.split(".")[0] in HEAVY)


def snapshot(directory) -> dict[str, str]:
    """Every file under `directory` with its content hash: a failed command must leave it exactly as it was."""
    files = {}
    for root, _, names in os.walk(directory):
        for name in names:
            path = os.path.join(root, name)
            with open(path, "rb") as handle:
                files[os.path.relpath(path, directory)] = hashlib.sha256(handle.read()).hexdigest()
    return files


def assert_usage_error(result: subprocess.CompletedProcess, *needles: str) -> None:
    lines = stderr_lines(result)
    assert result.returncode == 2, result.stderr
    assert len(lines) == 1, lines
    assert lines[0].startswith("tzer: error:"), lines
    for needle in needles:
        assert needle in lines[0], lines
    assert result.stdout == ""
    assert imported_modules(result), "the import log is empty: the TVM check below would be vacuous"
    assert heavy_imports(result) == []


@pytest.fixture
def workdir(tmp_path):
    """A working directory with an empty but valid store, a corrupt store and a foreign SQLite database."""
    SQLiteStore.open(str(tmp_path / "empty.db"), create=True).close()
    (tmp_path / "corrupt.db").write_bytes(random.Random(0).randbytes(4096))
    with sqlite3.connect(tmp_path / "foreign.db") as raw:
        raw.execute("CREATE TABLE t (x)")
    raw.close()
    return tmp_path


CASES = {
    "no-arguments": ((), ["required"]),
    "unknown-flag": (("--bogus",), []),
    "unknown-flag-on-subcommand": (("findings", "--store", "empty.db", "--bogus"), ["--bogus"]),
    "unknown-subcommand": (("bogus",), ["invalid choice", "'bogus'"]),
    "fuzz-time-abc": (("fuzz", "--time", "abc"), ["'abc'"]),
    "fuzz-time-zero": (("fuzz", "--time", "0"), ["positive"]),
    "fuzz-iterations-zero": (("fuzz", "--iterations", "0"), ["--iterations"]),
    "fuzz-iterations-not-int": (("fuzz", "--iterations", "ten"), ["'ten'"]),
    "fuzz-seed-negative": (("fuzz", "--seed", "-1"), ["--seed"]),
    "fuzz-unknown-generator": (("fuzz", "--generator", "softmax"), ["'softmax'"]),
    "fuzz-unknown-target": (("fuzz", "--target", "vulkan"), ["'vulkan'"]),
    "fuzz-unknown-mode": (("fuzz", "--mode", "annealing"), ["'annealing'", "joint"]),
    "fuzz-missing-corpus": (("fuzz", "--corpus", "no-such-dir", "--iterations", "1"), ["no-such-dir"]),
    "findings-missing-store": (("findings", "--store", "missing.db"), ["no store at missing.db"]),
    "findings-corrupt-store": (("findings", "--store", "corrupt.db"), ["not a tzer store"]),
    "stats-corrupt-store": (("stats", "--store", "corrupt.db"), ["corrupt.db", "not a tzer store"]),
    "stats-foreign-store": (("stats", "--store", "foreign.db", "--format", "json"), ["not a tzer store"]),
    "stats-bad-format": (("stats", "--store", "empty.db", "--format", "xml"), ["'xml'"]),
    "replay-missing-finding": (("replay", "99", "--store", "empty.db"), ["no finding 99"]),
    "replay-missing-store": (("replay", "1", "--store", "missing.db"), ["no store"]),
    "replay-bad-id": (("replay", "first", "--store", "empty.db"), ["'first'"]),
    "fuzz-unknown-coverage": (("fuzz", "--coverage", "edges"), ["'edges'", "native-bb"]),
    "fuzz-warm-up-zero": (("fuzz", "--warm-up-passes", "0"), ["--warm-up-passes"]),
    "minimize-without-out": (("corpus", "minimize", "."), ["--out"]),
    "minimize-missing-corpus": (("corpus", "minimize", "no-such-dir", "--out", "min"), ["no-such-dir"]),
    "minimize-into-a-full-directory": (("corpus", "minimize", ".", "--out", "."), ["not empty"]),
    "minimize-bad-runs": (("corpus", "minimize", ".", "--out", "min", "--runs", "0"), ["--runs"]),
    "minimize-empty-corpus": (("corpus", "minimize", ".", "--out", "min"), ["holds no test cases"]),
    "coverage-dir-and-store": (("coverage", ".", "--store", "empty.db"), ["one of them"]),
    "coverage-missing-dir": (("coverage", "no-such-dir"), ["no-such-dir"]),
    "coverage-empty-store": (("coverage", "--store", "empty.db"), ["holds no test cases"]),
    "fuzz-negative-reduce-time": (("fuzz", "--reduce-time", "-5"), ["'-5'"]),
    "reduce-missing-finding": (("reduce", "99", "--store", "empty.db"), ["no finding 99"]),
    "reduce-bad-time": (("reduce", "1", "--store", "empty.db", "--time", "soon"), ["'soon'"]),
    "repro-missing-finding": (("repro", "99", "--store", "empty.db", "--out", "r.py"), ["no finding 99"]),
    "repro-corrupt-store": (("repro", "1", "--store", "corrupt.db"), ["not a tzer store"]),
    "regress-bad-fail-on": (("regress", "--store", "empty.db", "--fail-on", "sometimes"), ["--fail-on"]),
    "regress-missing-dir": (("regress", "no-such-dir"), ["no-such-dir"]),
    "regress-dir-and-store": (("regress", ".", "--store", "empty.db"), ["not both"]),
    "regress-dir-without-scripts": (("regress", "."), ["no reproducer scripts"]),
    "regress-missing-store": (("regress", "--store", "missing.db"), ["no store"]),
    "report-missing-store": (("report", "--store", "missing.db", "--out", "r.html"), ["no store"]),
    "report-bad-format": (("report", "--store", "empty.db", "--format", "pdf", "--out", "r.pdf"), ["'pdf'"]),
    "report-into-a-missing-directory": (("report", "--store", "empty.db", "--out", "nodir/r.html"), ["nodir"]),
}


@pytest.mark.parametrize("case", list(CASES))
def test_user_error_exits_2_with_one_line_and_touches_no_store(workdir, case):
    args, needles = CASES[case]
    before = snapshot(workdir)
    result = run_tzer(workdir, *args)
    assert_usage_error(result, *needles)
    assert snapshot(workdir) == before  # nothing created (no reports/tzer.db, no missing.db), nothing modified


def test_help_exits_0_without_importing_tvm(tmp_path):
    result = run_tzer(tmp_path, "--help")
    assert result.returncode == 0, result.stderr
    for command in ("fuzz", "findings", "stats", "replay"):
        assert command in result.stdout
    assert stderr_lines(result) == []
    assert "tzer.cli" in imported_modules(result)
    assert heavy_imports(result) == []
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("command", ["fuzz", "findings", "stats", "replay", "coverage", "reduce", "repro", "report",
                                     "regress"])
def test_subcommand_help_exits_0_without_importing_tvm(tmp_path, command):
    result = run_tzer(tmp_path, command, "--help")
    assert result.returncode == 0, result.stderr
    assert "--store" in result.stdout
    assert heavy_imports(result) == []
    assert os.listdir(tmp_path) == []


def test_version(tmp_path):
    from tzer import __version__

    result = run_tzer(tmp_path, "--version")
    assert result.returncode == 0 and result.stdout.strip() == f"tzer {__version__}"


def test_reading_commands_on_an_empty_store_succeed_without_tvm(workdir):
    before = snapshot(workdir)
    findings = run_tzer(workdir, "findings", "--store", "empty.db", "--format", "json")
    stats = run_tzer(workdir, "stats", "--store", "empty.db", "--format", "json")
    assert (findings.returncode, stats.returncode) == (0, 0), findings.stderr + stats.stderr
    assert findings.stdout.strip() == "[]"
    assert '"distinct_findings": 0' in stats.stdout
    assert heavy_imports(findings) == heavy_imports(stats) == []
    assert snapshot(workdir) == before


def test_regress_and_report_on_an_empty_store_succeed_without_tvm(workdir):
    regress = run_tzer(workdir, "regress", "--store", "empty.db", "--junit", "out.xml")
    assert regress.returncode == 0, regress.stderr
    assert "no findings to replay" in regress.stdout
    import xml.etree.ElementTree as ET

    suite = ET.parse(workdir / "out.xml").getroot().find("testsuite")
    assert suite.get("tests") == "0" and suite.get("failures") == "0"
    report = run_tzer(workdir, "report", "--store", "empty.db", "--format", "md", "--out", "report.md")
    assert report.returncode == 0, report.stderr
    assert {"report.md", "report-coverage.png", "report-findings.png"} <= set(os.listdir(workdir))
    assert heavy_imports(regress) == heavy_imports(report) == []
