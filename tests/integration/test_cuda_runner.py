"""The cuda target in the runner and the campaign, without a GPU: every generated program builds for CUDA and
passes the nvcc oracle, GPU schedule steps reach the CUDA build only, a recorded CUDA codegen bug is a finding of
the CUDA build, what CUDA refuses by design is invalid, and the GPU worker isolates a crash. (Runs on a GPU:
tests/gpu.)"""

from __future__ import annotations

import json
import os
import random
import shutil

import pytest

from tzer.generate import GENERATORS, draw_test_case
from tzer.records import Invalidity, MutationStep, Stage, Symptom, TestCase, Verdict

pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(shutil.which("nvcc") is None, reason="nvcc is not on PATH")]

DATA = os.path.join(os.path.dirname(__file__), "data")


def recorded(name: str, target: str) -> TestCase:
    """A test case recorded by a campaign, for `target`."""
    with open(os.path.join(DATA, name)) as handle:
        return TestCase.from_json({**json.load(handle), "target": target})


@pytest.fixture(scope="module")
def runner():
    from tzer.runner import Runner

    return Runner("llvm,cuda", gpu=None)  # the nvcc oracles only, GPU or not


@pytest.mark.parametrize("generator", GENERATORS.names())
def test_every_generated_program_passes_on_both_builds(runner, generator):
    execution = runner.execute(draw_test_case(random.Random(7), generator, "llvm,cuda"))
    assert execution.verdict is Verdict.PASS, execution.error
    assert execution.nvcc_accepted is True and not execution.gpu_ran


def test_the_cuda_architecture_comes_from_the_target_spec():
    from tzer.runner import Runner

    runner = Runner("cuda:sm_80", gpu=None)
    assert runner.cuda.executor.tvm_target.attrs["arch"] == "sm_80"
    execution = runner.execute(draw_test_case(random.Random(7), "conv", "cuda:sm_80"))
    assert execution.verdict is Verdict.PASS and execution.nvcc_accepted


@pytest.mark.parametrize("steps", [("gpu_bind_threads",), ("gpu_cross_thread_reduction",), ("gpu_cache_local",),
                                   ("gpu_cache_shared",), ("schedule_split", "gpu_bind_threads"),
                                   ("gpu_cache_shared", "gpu_cache_local")])
def test_gpu_steps_reach_the_cuda_build_and_are_recorded_as_applied(runner, steps):
    test_case = draw_test_case(random.Random(2), "avg_pool", "llvm,cuda")
    test_case = TestCase.from_json({**test_case.to_json(),
                                    "mutations": [{"mutator": name, "seed": 3} for name in steps]})
    execution = runner.execute(test_case)
    assert execution.verdict is Verdict.PASS, execution.error
    assert [step.mutator for step in execution.applied] == list(steps)
    assert all(step.trace for step in execution.applied)  # schedule traces: each step replays as recorded


def test_a_cuda_codegen_bug_is_a_finding_of_the_cuda_build(runner):
    # Found by `tzer fuzz --target cuda --seed 1`: a vectorized float16 loop of odd extent (wrap_select, then
    # schedule_vectorize) passes on llvm; TVM's CUDA codegen fails a check on it.
    execution = runner.execute(recorded("cuda_half_odd_lanes_case.json", "llvm,cuda"))
    assert execution.verdict is Verdict.FINDING
    signature = execution.signature
    assert (signature.symptom, signature.stage) == (Symptom.INTERNAL_ERROR, Stage.CODEGEN)
    assert signature.detail.startswith("cuda: ") and "half type" in signature.detail
    assert "thread_binding" in execution.program_script  # the stored program is the one built for CUDA


def test_cuda_c_that_nvcc_rejects_is_a_finding_of_the_cuda_build(runner):
    # Found by `tzer fuzz --time 300 --target cuda --seed 11`: schedule_vectorize on a metaformer program makes
    # TVM write an 8-lane float vector as make_ulonglong4(8 arguments); nvcc: "too many arguments".
    execution = runner.execute(recorded("cuda_nvcc_rejects_vector_constructor_case.json", "llvm,cuda"))
    assert execution.verdict is Verdict.FINDING and execution.nvcc_accepted is False
    signature = execution.signature
    assert (signature.symptom, signature.stage) == (Symptom.REJECTED_CODE, Stage.CODEGEN)
    assert signature.detail == "cuda: error: too many arguments in function call"
    assert "make_ulonglong4" in execution.error  # the source nvcc refused is kept with the finding


def test_the_ldg32_gpu_config_makes_cuda_c_that_nvcc_rejects(runner):
    # pass.gpu_config's tirx.s_tir.ldg32 (InjectPTXLDG32) on a float16 avg_pool program: nvcc finds the half
    # loads ambiguous. Without the config the same program passes.
    import dataclasses

    from tzer.records import PassConfig

    test_case = draw_test_case(random.Random(3), "avg_pool", "llvm,cuda")
    assert runner.execute(test_case).verdict is Verdict.PASS
    with_ldg32 = dataclasses.replace(test_case, passes=PassConfig(config=(("tirx.s_tir.ldg32", True),)))
    execution = runner.execute(with_ldg32)
    assert execution.verdict is Verdict.FINDING and execution.signature.symptom is Symptom.REJECTED_CODE
    assert "more than one conversion function" in execution.signature.detail


@pytest.mark.parametrize("name", ["cuda_half_odd_lanes_case.json", "cuda_nvcc_rejects_vector_constructor_case.json"])
def test_a_cuda_findings_reproducer_runs_alone_and_exits_1(runner, tmp_path, name):
    import subprocess
    import sys

    from tzer.records import Finding
    from tzer.report.repro import cuda_reproducer, cuda_unreproducible
    from tzer.store.sqlite import SQLiteStore

    test_case = recorded(name, "llvm,cuda")
    with SQLiteStore.open(str(tmp_path / "f.db"), create=True) as store:
        campaign = store.begin_campaign(0, "llvm,cuda", "ir", "test", {})
        finding_id, _ = store.record_finding(campaign, Finding(test_case, runner.execute(test_case)))
        finding = store.finding(finding_id)
    assert cuda_unreproducible(finding) is None
    script = tmp_path / "alone" / "repro.py"
    script.parent.mkdir()
    script.write_text(cuda_reproducer(finding))
    done = subprocess.run([sys.executable, str(script)], cwd=script.parent, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "BUG REPRODUCES" in done.stdout and "target {'kind': 'cuda'" in done.stdout


def test_the_cpu_only_campaign_still_passes_that_case():
    from tzer.runner import Runner

    execution = Runner("llvm").execute(recorded("cuda_half_odd_lanes_case.json", "llvm"))
    assert execution.verdict is Verdict.PASS


@pytest.mark.parametrize("name, buffer", [("cuda_global_alloc_in_kernel_case.json", "w_buf"),
                                          ("cuda_rfactor_buffer_in_kernel_case.json", "adaptive_pool_sum.rf")])
def test_global_memory_allocated_in_a_kernel_is_invalid_not_a_finding(name, buffer):
    from tzer.runner import Runner

    case = recorded(name, "cuda")  # each was reported as an internal error before the check
    execution = Runner("cuda", gpu=None).execute(case)
    assert execution.verdict is Verdict.INVALID and execution.invalidity is Invalidity.UNSUPPORTED_ON_TARGET
    assert buffer in execution.error


def test_an_unmutated_program_the_baseline_cannot_schedule_is_tzers_error(runner, monkeypatch):
    from tzer.errors import TzerBug
    from tzer.judge import cuda

    def failing(mod):
        raise ValueError("cannot bind")

    monkeypatch.setattr(cuda, "bind_blocks", failing)
    with pytest.raises(TzerBug, match="baseline GPU schedule fails on a generated program"):
        runner.execute(draw_test_case(random.Random(0), "max_pool", "llvm,cuda"))
    mutant = draw_test_case(random.Random(0), "max_pool", "llvm,cuda")
    mutant = TestCase.from_json({**mutant.to_json(), "mutations": [MutationStep("schedule_split", 0).to_json()]})
    execution = runner.execute(mutant)
    assert execution.verdict is Verdict.INVALID and execution.invalidity is Invalidity.NO_GPU_SCHEDULE


def _fault_firing_program():
    """A max_pool program, GPU-scheduled, on which the planted segfault fires."""
    from tzer.execute.gpu_schedule import bind_blocks
    from tzer.runner import build
    from tzer.testing.faults import fires

    for seed in range(50):
        program = build(draw_test_case(random.Random(seed), "max_pool", "cuda"))
        mod = bind_blocks(program.mod)
        if fires(mod["main"]):
            return program, mod
    raise AssertionError("the planted fault fires on no program")


def test_the_gpu_worker_answers_and_survives_a_crash():
    import tvm

    from tzer.execute.gpu_worker import GpuWorker, gpu_available
    from tzer.generate.inputs import draw_inputs
    from tzer.records import PassConfig

    program, mod = _fault_firing_program()
    inputs = draw_inputs(program.inputs, 0)
    worker = GpuWorker("sm_90")

    def run(passes: PassConfig):
        return worker.run(tvm.ir.save_json(mod), passes.to_json(), inputs, program.output.shape,
                          program.output.dtype)

    try:
        first = run(PassConfig())
        if gpu_available():
            assert first.output is not None and first.output.shape == tuple(program.output.shape)
        else:  # no driver: TVM says so at run time, and the worker passes it on
            assert first.failure is not None and "cuda" in first.failure["message"]
        crashed = run(PassConfig(extra_passes=("fault.segfault",)))
        assert crashed.crashed == "SIGSEGV" and crashed.output is None
        after = run(PassConfig())  # a fresh server answers as the first did
        assert (after.output is None) == (first.output is None) and not after.crashed
        from tzer.errors import TzerBug

        with pytest.raises(TzerBug, match="the GPU worker failed on a request"):  # tzer's error, not a crash
            worker.run("not a module", PassConfig().to_json(), inputs, program.output.shape, program.output.dtype)
        assert not run(PassConfig()).crashed  # and the server is still there
    finally:
        worker.close()
    assert not os.path.exists(worker.directory)


def test_a_cuda_campaign_reports_the_nvcc_rate(cli):
    result = cli.run("fuzz", "--target", "cuda", "--iterations", "8", "--seed", "4", "--store", "c.db",
                     "--generator", "max_pool", "--generator", "gem", "--warm-up-passes", "1", "--no-reduce",
                     "--coverage", "none")
    assert result.returncode == 0, result.stderr
    assert "CUDA: nvcc " in result.stdout
    stats = json.loads(cli.run("stats", "--store", "c.db", "--format", "json").stdout)
    campaign = stats["campaigns"][0]
    assert campaign["target"] == "cuda"
    assert stats["executions"] >= 8 and 0 < campaign["nvcc_accepted"] <= campaign["nvcc_checked"]
