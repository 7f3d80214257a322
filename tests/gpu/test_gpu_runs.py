"""The GPU tier: CUDA builds run on a GPU, in the GPU worker, judged against PyTorch and against the CPU build.
Every test skips, with its reason, on a machine without a GPU (CI's); bench/gpu_check.sh runs this tier on the
device machine. `tox -e gpu` runs it by hand."""

from __future__ import annotations

import random

import pytest

from tzer.execute.gpu_worker import gpu_available
from tzer.generate import GENERATORS, draw_test_case
from tzer.records import MutationStep, Symptom, TestCase, Verdict

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not gpu_available(), reason="no NVIDIA GPU answers here")]


@pytest.fixture(scope="module")
def runner():
    from tzer.runner import Runner

    runner = Runner("llvm,cuda")  # "auto": a GPU worker, since a GPU answers
    assert runner.cuda is not None and runner.cuda.gpu is not None
    yield runner
    runner.close()


def _judged_on_the_gpu(execution, what: str) -> None:
    """A run on the GPU that passed; a finding (a TVM bug, not tzer's) is reported as an expected failure with its
    signature (`-rx` lists them), so the tier stays a check of tzer on a TVM with known bugs."""
    if execution.verdict is Verdict.FINDING:
        pytest.xfail(f"TVM bug on {what}: {execution.signature.to_json()} {execution.error[:500]!r}")
    assert execution.verdict is Verdict.PASS and execution.gpu_ran, (what, execution.error)


@pytest.mark.parametrize("generator", GENERATORS.names())
@pytest.mark.parametrize("seed", [0, 1])
def test_generated_programs_run_on_the_gpu_and_agree_with_pytorch_and_the_cpu(runner, generator, seed):
    execution = runner.execute(draw_test_case(random.Random(seed), generator, "llvm,cuda"))
    _judged_on_the_gpu(execution, f"{generator} seed {seed}")


@pytest.mark.parametrize("mutator", ["gpu_bind_threads", "gpu_cross_thread_reduction", "gpu_cache_local",
                                     "gpu_cache_shared", "gpu_dlight"])
@pytest.mark.parametrize("generator", ["avg_pool", "conv", "gem", "poolformer"])
def test_gpu_schedules_run_on_the_gpu(runner, mutator, generator):
    base = draw_test_case(random.Random(2), generator, "llvm,cuda")
    case = TestCase.from_json({**base.to_json(), "mutations": [MutationStep(mutator, 5).to_json()]})
    execution = runner.execute(case)
    if execution.verdict is Verdict.INVALID:
        pytest.skip(f"{mutator} found no site in this {generator} program: {execution.error}")
    _judged_on_the_gpu(execution, f"{mutator} on {generator}")


def test_a_wrong_gpu_output_is_a_mismatch_of_the_cuda_build(runner, monkeypatch):
    # The oracle's side of the differential, on a real GPU run: an output made wrong after the run is caught
    # against PyTorch and named as the CUDA build's.
    from tzer.execute import gpu_worker

    real = gpu_worker.GpuWorker.run

    def corrupted(self, *args, **kwargs):
        run = real(self, *args, **kwargs)
        assert run.output is not None, run
        run.output.flat[0] += 1000
        return run

    monkeypatch.setattr(gpu_worker.GpuWorker, "run", corrupted)
    execution = runner.execute(draw_test_case(random.Random(0), "avg_pool", "llvm,cuda"))
    assert execution.verdict is Verdict.FINDING and execution.gpu_ran
    assert execution.signature.symptom is Symptom.MISMATCH and execution.signature.detail.startswith("cuda: ")


def test_a_forked_campaign_runs_on_the_gpu(cli):
    # Seen on the device machine before NvccHook: TVM's own CUDA hook (NVRTC) started the CUDA runtime in the warm
    # parent, and every forked child's CUDA build then failed with cudaErrorInitializationError.
    import json

    result = cli.run("fuzz", "--target", "llvm,cuda", "--iterations", "12", "--jobs", "2", "--seed", "3",
                     "--store", "g.db", "--coverage", "none", "--no-reduce", "--warm-up-passes", "1",
                     "--generator", "max_pool", "--generator", "conv")
    assert result.returncode == 0, result.stderr
    campaign = json.loads(cli.run("stats", "--store", "g.db", "--format", "json").stdout)["campaigns"][0]
    assert campaign["gpu_runs"] > 0 and campaign["nvcc_checked"] > 0, campaign
    findings = json.loads(cli.run("findings", "--store", "g.db", "--format", "json").stdout)
    assert not [f for f in findings if "Initialization" in f["detail"]], findings
