"""Execution backends without TVM: stage time limits, the in-process backend's queue, and TVM-free imports."""

import subprocess
import sys

import pytest

from tzer.config import FuzzConfig
from tzer.errors import ConfigError
from tzer.execute.backends import BACKENDS, InProcess, make_backend
from tzer.execute.sandbox import Limits
from tzer.records import Execution, PassConfig, Signature, Stage, Symptom, TestCase, Verdict

HEAVY = ("tvm", "tvm_ffi", "torch")


class FixedRunner:
    """A test double for tzer.runner.Runner (which needs TVM): returns one fixed Execution and logs what it ran."""

    tvm_version = "fake"

    def __init__(self, execution: Execution):
        self.execution = execution
        self.executed: list[TestCase] = []

    def execute(self, test_case: TestCase) -> Execution:
        self.executed.append(test_case)
        return self.execution


FINDING = Execution(Verdict.FINDING, Signature(Symptom.EXCEPTION, Stage.LOWER, "", "ValueError: bad"), "bad")


def make_test_case(seed: int) -> TestCase:
    return TestCase("max_pool", {"seed": seed}, seed, seed + 1, "llvm", PassConfig())


@pytest.mark.parametrize("stage", list(Stage))
def test_stage_seconds_use_the_run_limit_for_run_and_the_compile_limit_otherwise(stage):
    limits = Limits(compile_seconds=30.0, run_seconds=2.0, retry_factor=3.0)
    base = 2.0 if stage is Stage.RUN else 30.0
    assert limits.stage_seconds(stage, 0) == base
    assert limits.stage_seconds(stage, 1) == base * 3.0


def test_default_limits():
    limits = Limits()
    assert limits.stage_seconds(Stage.RUN, 0) == 10.0 and limits.stage_seconds(Stage.RUN, 1) == 40.0
    assert limits.stage_seconds(Stage.LOWER, 0) == 60.0 and limits.stage_seconds(Stage.COMPARE, 1) == 240.0


@pytest.mark.parametrize("jobs", [0, 2, 8])
def test_in_process_backend_refuses_more_than_one_job(jobs):
    with pytest.raises(ConfigError, match="needs the fork server") as info:
        InProcess(FixedRunner(FINDING), jobs=jobs)
    assert "\n" not in str(info.value)


def test_in_process_backend_runs_test_cases_in_submission_order_when_asked():
    runner = FixedRunner(FINDING)
    backend = InProcess(runner)
    assert backend.slots == 1 and backend.in_flight() == 0 and backend.states() == []
    cases = [make_test_case(seed) for seed in range(3)]
    for count, test_case in enumerate(cases, 1):
        backend.submit(test_case)
        assert backend.in_flight() == count
    assert runner.executed == []  # nothing runs until its result is asked for
    results = []
    for left in (2, 1, 0):
        results.append(backend.next_result())
        assert backend.in_flight() == left
    assert results == [(test_case, FINDING) for test_case in cases]
    assert runner.executed == cases
    backend.close()


def test_make_backend_builds_the_configured_isolation():
    runner = FixedRunner(Execution(Verdict.PASS))
    backend = make_backend(FuzzConfig(seed=0, isolation="none"), runner)
    assert isinstance(backend, InProcess) and backend.runner is runner
    assert BACKENDS.get("none") is InProcess


@pytest.mark.parametrize("module", ["tzer.execute.sandbox", "tzer.execute.backends"])
def test_importing_a_backend_does_not_import_tvm(module):
    # A fresh interpreter: in this one the modules are imported already, so sys.modules would prove nothing.
    code = f"import sys, {module}; print(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r})))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_the_shared_page_names_the_passes_running_and_how_many_started():
    """What the parent reads after a crash or a hang: the passes the child was in, outermost first."""
    import mmap
    import os

    from tzer.execute.sandbox import _MARKER_BYTES, _ChildListener, _read_marker

    page = mmap.mmap(-1, _MARKER_BYTES)
    assert _read_marker(page) == ([], 0) and _read_marker(None) == ([], 0)
    read, write = os.pipe()
    try:
        listener = _ChildListener(write, page)
        listener.stage(Stage.BUILD)
        assert _read_marker(page) == ([], 0)
        listener.pass_started("tirx.LowerIntrin")
        listener.pass_started("s_tir.StmtSimplify")
        assert _read_marker(page) == (["tirx.LowerIntrin", "s_tir.StmtSimplify"], 2)
        listener.pass_finished("s_tir.StmtSimplify")
        listener.pass_finished("tirx.LowerIntrin")
        listener.pass_started("tirx.VectorizeLoop")
        assert _read_marker(page) == (["tirx.VectorizeLoop"], 3)
    finally:
        os.close(read)
        os.close(write)
        page.close()
