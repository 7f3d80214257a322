"""The CUDA target without TVM: target specs, GPU steps as a suffix, what the scheduler draws for a GPU target,
the CUDA counts in the campaign's stats, and which findings are the CUDA build's."""

import dataclasses
import random
import shutil

import pytest

from tzer.config import FuzzConfig
from tzer.errors import ConfigError, TzerBug
from tzer.execute.targets import target_names, uses_gpu
from tzer.judge.cuda import is_cuda_signature
from tzer.mutate import GPU_MUTATORS, MUTATORS
from tzer.mutate.apply import split_gpu_steps
from tzer.records import CampaignStats, Execution, MutationStep, Signature, Stage, Symptom, Verdict
from tzer.scheduling import SCHEDULERS
from tzer.view import gpu_checks


def test_target_specs_name_one_target_or_several():
    assert target_names("llvm") == ("llvm",)
    assert target_names("cuda") == ("cuda",)
    assert target_names("llvm, cuda") == ("llvm", "cuda")
    assert not uses_gpu("llvm") and uses_gpu("cuda") and uses_gpu("llvm,cuda")


def test_the_cuda_architecture_is_the_targets_option():
    from tzer.execute.targets import parse_targets

    llvm, cuda = parse_targets("llvm,cuda:sm_80")
    assert (llvm.name, cuda.name, cuda.arch) == ("llvm", "cuda", "sm_80")
    assert parse_targets("cuda")[0].arch == "sm_90" and target_names("cuda:sm_90a") == ("cuda",)


@pytest.mark.parametrize("spec, message", [("vulkan", "unknown target 'vulkan'"),
                                           ("llvm,opencl", "unknown target 'opencl'"),
                                           ("cuda,cuda", "names a target twice"),
                                           ("cuda,cuda:sm_80", "names a target twice"),
                                           ("cuda:ampere", "bad CUDA architecture 'ampere'"),
                                           ("llvm:x86", "target 'llvm' takes no option")])
def test_bad_target_specs_are_config_errors(spec, message):
    with pytest.raises(ConfigError, match=message):
        FuzzConfig(seed=0, target=spec)


def test_a_cuda_target_needs_nvcc(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(ConfigError, match="needs nvcc on PATH"):
        FuzzConfig(seed=0, target="llvm,cuda")
    FuzzConfig(seed=0, target="llvm")  # the CPU target does not


def steps(*names):
    return tuple(MutationStep(name, i) for i, name in enumerate(names))


def test_gpu_steps_are_split_off_as_a_suffix():
    host, gpu = split_gpu_steps(steps("schedule_split", "swap_binary_op", "gpu_bind_threads", "gpu_dlight"))
    assert [s.mutator for s in host] == ["schedule_split", "swap_binary_op"]
    assert [s.mutator for s in gpu] == ["gpu_bind_threads", "gpu_dlight"]
    assert split_gpu_steps(steps("schedule_split")) == (steps("schedule_split"), ())


def test_a_gpu_step_before_a_program_step_is_tzers_error():
    with pytest.raises(TzerBug, match="GPU mutation step before a CPU one"):
        split_gpu_steps(steps("gpu_bind_threads", "schedule_split"))


def drawn_mutations(target: str, count: int = 300):
    config = FuzzConfig(seed=3, mode="ir", generators=("max_pool",), target=target)
    scheduler = SCHEDULERS.get("ir")(config, random.Random(3))
    first = scheduler.next_test_case()
    scheduler.observe(first, Execution(Verdict.PASS), new_features=1)
    return [tc.mutations for tc in (scheduler.next_test_case() for _ in range(count)) if tc.mutations]


def test_the_cpu_campaign_never_draws_gpu_mutators():
    drawn = {step.mutator for mutations in drawn_mutations("llvm") for step in mutations}
    assert drawn and drawn <= set(MUTATORS.names())


def test_a_gpu_campaign_draws_gpu_mutators_too_and_keeps_them_a_suffix():
    drawn = drawn_mutations("cuda")
    names = {step.mutator for mutations in drawn for step in mutations}
    assert names & set(GPU_MUTATORS.names()) and names & set(MUTATORS.names())
    for mutations in drawn:
        split_gpu_steps(mutations)  # raises if a GPU step precedes a program step


def test_a_program_mutation_drops_the_gpu_schedule_to_be_drawn_anew():
    config = FuzzConfig(seed=5, mode="ir", generators=("max_pool",), target="cuda")
    scheduler = SCHEDULERS.get("ir")(config, random.Random(5))
    first = scheduler.next_test_case()
    with_gpu = dataclasses.replace(first, mutations=steps("schedule_split", "gpu_bind_threads"))
    scheduler.observe(first, Execution(Verdict.PASS), new_features=1)
    scheduler.pool[0].test_case = with_gpu
    for _ in range(200):
        mutations = scheduler._ir_mutation(scheduler.pool[0])[0].mutations
        if mutations[-1].mutator in GPU_MUTATORS:
            assert mutations[:2] == with_gpu.mutations and len(mutations) == 3
        else:
            assert mutations[0] == with_gpu.mutations[0] and len(mutations) == 2


def drawn_pass_mutators(target: str) -> set[str]:
    config = FuzzConfig(seed=4, mode="pass", generators=("max_pool",), target=target)
    scheduler = SCHEDULERS.get("pass")(config, random.Random(4))
    first = scheduler.next_test_case()
    scheduler.observe(first, Execution(Verdict.PASS), new_features=1)
    return {scheduler._pass_mutation(scheduler.pool[0])[1] for _ in range(300)}


def test_gpu_configs_are_drawn_for_gpu_targets_only():
    assert "pass.gpu_config" in drawn_pass_mutators("cuda")
    assert "pass.gpu_config" not in drawn_pass_mutators("llvm") and "pass.config" in drawn_pass_mutators("llvm")


def test_campaign_stats_carry_the_cuda_counts_and_read_older_records():
    stats = CampaignStats(executions=5, nvcc_checked=4, nvcc_accepted=3, gpu_runs=2)
    assert CampaignStats.from_json(stats.to_json()) == stats
    older = {k: v for k, v in stats.to_json().items() if k not in ("nvcc_checked", "nvcc_accepted", "gpu_runs")}
    assert CampaignStats.from_json(older).nvcc_checked == 0
    assert gpu_checks(stats) == "nvcc 3/4 compiled (75%)  gpu runs 2"
    assert gpu_checks(CampaignStats(executions=5)) == ""


def test_executions_record_the_nvcc_verdict_and_the_gpu_run():
    execution = Execution(Verdict.PASS, nvcc_accepted=True, gpu_ran=True)
    assert Execution.from_json(execution.to_json()) == execution
    older = {k: v for k, v in execution.to_json().items() if k not in ("nvcc_accepted", "gpu_ran")}
    assert Execution.from_json(older).nvcc_accepted is None


def test_cuda_findings_are_told_apart_by_their_signature():
    assert is_cuda_signature(Signature(Symptom.REJECTED_CODE, Stage.CODEGEN, "", "cuda: error: x"))
    assert is_cuda_signature(Signature(Symptom.MISMATCH, Stage.COMPARE, "", "cuda vs llvm: conv:float32"))
    assert not is_cuda_signature(Signature(Symptom.MISMATCH, Stage.COMPARE, "", "conv:float32"))
