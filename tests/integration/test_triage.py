"""Triage on real TVM: a script case shows a known TVM 0.27 wrong-result bug, pass bisection blames the pass that
causes it, the reducer shrinks a padded program around it keeping its signature, and the generated reproducer,
run alone, exits 1.

The bug: tirx.StorageRewrite reuses a dead input's memory in place for `dst[i] = f(src[i])` without checking that
each element is stored once (reproducers/storage_rewrite_inplace_repeated_store.py), so a block that stores the
same element twice reads its own output.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys

import pytest

from tzer.execute.pipeline import DEFAULT_PIPELINE
from tzer.records import PassConfig, Signature, Stage, Symptom, Verdict
from tzer.triage.bisect import optional_passes
from tzer.triage.case import ScriptCase

pytestmark = pytest.mark.integration

PADDED = '''
@I.ir_module
class Module:
    @T.prim_func(s_tir=True)
    def main(A: T.Buffer((16,), "float32"), C: T.Buffer((16,), "float32")):
        T.func_attr({"tirx.noalias": True})
        B = T.sblock_alloc_buffer((16,))
        E = T.sblock_alloc_buffer((16,))
        D = T.sblock_alloc_buffer((16,))
        for i in range(16):
            with T.sblock("B"):
                vi = T.axis.spatial(16, i)
                B[vi] = A[vi] + T.float32(1)
        for i in range(16):
            with T.sblock("E"):
                vi = T.axis.spatial(16, i)
                E[vi] = T.max(B[vi], T.float32(0)) * T.float32(3)
        for i in range(16):
            with T.sblock("D"):
                vi = T.axis.spatial(16, i)
                D[vi] = E[vi] * T.float32(2)
                D[vi] = E[vi] * T.float32(2)
        for i in range(16):
            with T.sblock("C"):
                vi = T.axis.spatial(16, i)
                C[vi] = D[vi] + T.float32(0.5)
'''

SIGNATURE = Signature(Symptom.MISMATCH, Stage.COMPARE, "tirx.StorageRewrite", "token_mixing:float32")


def storage_rewrite_case(**changes) -> ScriptCase:
    case = ScriptCase(script=PADDED, passes=PassConfig(pipeline=DEFAULT_PIPELINE), input_domains=("normal",),
                      input_seed=3, target="llvm", signature=SIGNATURE, family="token_mixing", dtype="float32",
                      rtol=1e-5, atol=1e-6)
    return dataclasses.replace(case, **changes)


@pytest.fixture(scope="module")
def script_runner():
    from tzer.triage.check import ScriptRunner

    return ScriptRunner("llvm")


def test_the_padded_program_shows_the_bug_and_bisection_blames_storage_rewrite(script_runner):
    execution = script_runner.execute(storage_rewrite_case())
    assert execution.verdict is Verdict.FINDING, execution.error
    assert execution.signature == SIGNATURE
    assert execution.blame == ("tirx.StorageRewrite",)


def test_a_script_the_parser_rejects_is_invalid_not_a_finding(script_runner):
    broken = storage_rewrite_case(script=PADDED.replace("E[vi] = T.max", "E[vi, vi] = T.max"))
    assert script_runner.execute(broken).verdict is Verdict.INVALID


UNWRITTEN_LOCAL = '''
@I.ir_module
class Module:
    @T.prim_func(s_tir=True)
    def main(x: T.Buffer((1, 1, 1), "float16"), pool_avg: T.Buffer((1, 1, 2), "float16")):
        T.func_attr({"tirx.noalias": True})
        pool_avg_local = T.sblock_alloc_buffer((1, 1, 2), "float16", scope="local")
        for ax0, ax1, ax2 in T.grid(1, 1, 2):
            with T.sblock("pool_avg_local"):
                v0, v1, v2 = T.axis.remap("SSS", [ax0, ax1, ax2])
                pool_avg[v0, v1, v2] = pool_avg_local[v0, v1, v2]
'''


def test_a_copy_of_an_unwritten_local_buffer_is_an_uninitialized_read_not_a_finding(script_runner):
    """What the reducer once reached from a real finding: the output copies a local buffer nothing writes. Two runs
    in one process read the same stale stack, so only exposing local buffers too (and filling them) shows it."""
    from tzer.records import Invalidity

    case = storage_rewrite_case(script=UNWRITTEN_LOCAL, dtype="float16", rtol=3e-3, atol=5e-4,
                                signature=dataclasses.replace(SIGNATURE, detail="pooling:float16"))
    execution = script_runner.execute(case)
    assert execution.verdict is Verdict.INVALID and execution.invalidity is Invalidity.UNINITIALIZED_READ


def test_without_the_guilty_pass_the_program_is_right(script_runner):
    pipeline = tuple(p for p in DEFAULT_PIPELINE if p != "tirx.StorageRewrite")
    execution = script_runner.execute(storage_rewrite_case(passes=PassConfig(pipeline=pipeline)))
    assert execution.verdict is Verdict.PASS, execution.error


@pytest.fixture(scope="module")
def reduction():
    from tzer.triage.findings import canonical_script, checking
    from tzer.triage.reduce import Reducer

    with checking("llvm") as checker:
        return Reducer(checker, time_limit=600, canonical=canonical_script).reduce(storage_rewrite_case())


def test_reduction_keeps_the_signature_and_shrinks_program_and_pipeline(reduction, script_runner):
    assert reduction is not None and reduction.complete
    reduced = reduction.case
    assert reduced.signature == SIGNATURE
    assert reduced.lines < reduction.original_lines
    assert optional_passes(reduced.passes.pipeline) == ("tirx.StorageRewrite",)
    assert 'T.sblock("E")' not in reduced.script or 'T.sblock("B")' not in reduced.script  # padding went
    again = script_runner.execute(reduced)
    assert again.verdict is Verdict.FINDING and again.signature == SIGNATURE


def test_reduction_is_deterministic(reduction):
    from tzer.triage.findings import canonical_script, checking
    from tzer.triage.reduce import Reducer

    with checking("llvm") as checker:
        again = Reducer(checker, time_limit=600, canonical=canonical_script).reduce(storage_rewrite_case())
    assert again.case == reduction.case and again.checks == reduction.checks


def test_the_reproducer_runs_alone_and_exits_1(tmp_path, reduction):
    from tzer.report.repro import reproducer
    from tzer.store.base import StoredFinding

    finding = StoredFinding(1, SIGNATURE, "llvm", "0.27.0.post1", 1, 0.0, 0.0, _test_case(), "", None, None,
                            PADDED, "", None, (), ("tirx.StorageRewrite",), reduction)
    path = tmp_path / "repro.py"
    path.write_text(reproducer(finding, reduction.case))
    done = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=300,
                          cwd=tmp_path, env={**os.environ, "PYTHONPATH": ""})
    assert done.returncode == 1, done.stdout + done.stderr
    assert "BUG REPRODUCES" in done.stdout and "wrong result" in done.stdout
    assert "import tzer" not in path.read_text()


def _test_case():
    import random

    from tzer.generate import draw_test_case

    return draw_test_case(random.Random(0), "poolformer", "llvm")


def test_a_campaign_reduces_its_new_findings_and_writes_their_reproducers(cli, tmp_path):
    import json

    empty = tmp_path / "empty"
    empty.mkdir()
    result = cli.run("fuzz", "--time", "15", "--seed", "2", "--store", "t.db", "--corpus", str(empty), "--mode",
                     "generate", "--generator", "conv", "--extra-pass", "fault.check_failure", "--reduce-time", "40",
                     timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "triage" in result.stdout  # the phase is timed in the summary
    findings = json.loads(cli.run("findings", "--store", "t.db", "--format", "json", "--full").stdout)
    assert findings and all(f["reduction"] is not None and f["reproducer"] for f in findings)
    for finding in findings:
        reduction = finding["reduction"]
        assert reduction["case"]["signature"] == finding["signature"]
        assert finding["reduced_lines"] < reduction["original_lines"]
    replayed = cli.run("regress", "--store", "t.db", timeout=300)  # the reduced cases, checked again
    assert replayed.returncode == 1 and replayed.stdout.count(": reproduces (") == len(findings), replayed.stdout


def test_the_triage_phase_reduces_findings_side_by_side_on_its_jobs(cli, tmp_path):
    """Two findings (two planted faults, one campaign each), reduced by the triage phase with two jobs: each in a
    worker process of its own, which stores its reduction and reproducer."""
    import json

    from tzer.execute.sandbox import Limits
    from tzer.store.base import open_store
    from tzer.triage.findings import CampaignTriage

    empty = tmp_path / "empty"
    empty.mkdir()
    for fault in ("fault.check_failure", "fault.exception"):
        result = cli.run("fuzz", "--iterations", "6", "--seed", "2", "--store", "t.db", "--corpus", str(empty),
                         "--mode", "generate", "--generator", "conv", "--extra-pass", fault, "--no-reduce")
        assert result.returncode == 0, result.stderr[-3000:]
    store_path = str(tmp_path / "t.db")
    with open_store(store_path) as store:
        ids = [finding.id for finding in store.findings()]
        assert len(ids) == 2
        CampaignTriage("llvm", Limits(), 40.0, store_path, jobs=2)(store, ids, lambda: False)
    findings = json.loads(cli.run("findings", "--store", "t.db", "--format", "json", "--full").stdout)
    assert all(f["reduction"] is not None and f["reproducer"] for f in findings)


def test_regress_replays_a_store_and_writes_junit_that_follows_fail_on(cli, tmp_path):
    import json
    import xml.etree.ElementTree as ET

    empty = tmp_path / "empty"
    empty.mkdir()
    cli.run("fuzz", "--iterations", "8", "--seed", "2", "--store", "r.db", "--corpus", str(empty), "--mode",
            "generate", "--generator", "conv", "--extra-pass", "fault.check_failure", "--no-reduce")
    failing = cli.run("regress", "--store", "r.db", "--junit", "out.xml", timeout=300)
    passing = cli.run("regress", "--store", "r.db", "--fail-on", "fixed,changed", timeout=300)
    assert failing.returncode == 1 and passing.returncode == 0, failing.stdout + failing.stderr + passing.stderr
    assert "reproduces" in failing.stdout
    root = ET.parse(tmp_path / "out.xml").getroot()
    suite = root.find("testsuite")
    cases = suite.findall("testcase")
    findings = json.loads(cli.run("findings", "--store", "r.db", "--format", "json").stdout)
    assert len(cases) == len(findings) >= 1
    assert all(case.find("failure") is not None for case in cases)
    assert suite.get("failures") == str(len(cases)) and suite.get("tests") == str(len(cases))


# topi's adaptive max pooling of 8 elements down to 7 per row, as reproducers/cache_read_adaptive_pool_oob.py has
# it: cache_read on its inner block copies a window one element past the end of each row of x.
ADAPTIVE = '''
@I.ir_module
class Module:
    @T.prim_func(s_tir=True)
    def main(x: T.Buffer((2, 8), "float32"), y: T.Buffer((2, 7), "float32")):
        for c, i in T.grid(2, 7):
            with T.sblock("outer"):
                vc, vi = T.axis.remap("SS", [c, i])
                for k in range(T.Select((vi * 8 + 1) % 7 == 0, (vi * 8 + 8) // 7, (vi * 8 + 8) // 7 + 1) - vi * 8 // 7):
                    with T.sblock("inner"):
                        vc_1 = T.axis.spatial((vc, vc + 1), vc)
                        vi_1 = T.axis.spatial((vi, vi + 1), vi)
                        vk = T.axis.reduce(
                            T.Select((vi * 8 + 1) % 7 == 0, (vi * 8 + 8) // 7, (vi * 8 + 8) // 7 + 1) - vi * 8 // 7, k)
                        with T.init():
                            y[vc_1, vi_1] = T.float32(-3.4e38)
                        y[vc_1, vi_1] = T.max(y[vc_1, vi_1], x[vc_1, vi_1 * 8 // 7 + vk])
'''


def cache_read(mod):
    from tvm import s_tir

    from tzer.mutate.schedule import trace_json
    from tzer.records import MutationStep

    sch = s_tir.Schedule(mod, debug_mask="all")
    sch.cache_read(sch.get_sblock("inner"), 0, "local")
    return sch.mod, MutationStep("schedule_cache_read", 0, trace_json(sch))


def test_an_out_of_bounds_read_made_by_a_schedule_step_is_observed_and_blames_the_step(script_runner):
    import numpy as np

    from tzer.runner import introduced_out_of_bounds
    from tzer.triage.check import parse

    original = parse(ADAPTIVE)
    scheduled, step = cache_read(original)
    x = np.random.default_rng(0).standard_normal((2, 8)).astype("float32")
    found = introduced_out_of_bounds(original, scheduled, (step,), "v", script_runner.executor, [x], (2, 7),
                                     "float32")
    assert found is not None and found.verdict is Verdict.FINDING
    assert (found.signature.symptom, found.signature.guilty_pass) == (Symptom.OUT_OF_BOUNDS, "schedule_cache_read")
    assert "observed at run time: read x[16]" in found.error  # x[1, 8], one past the end
    assert found.signature.detail == "reads input out of bounds"
    assert introduced_out_of_bounds(original, original, (), "v", script_runner.executor, [x], (2, 7),
                                    "float32") is None


def test_the_out_of_bounds_reproducer_shows_the_access(tmp_path, script_runner):
    from tzer.report.repro import reproducer
    from tzer.store.base import StoredFinding
    from tzer.triage.check import parse

    _, step = cache_read(parse(ADAPTIVE))
    placeholder = Signature(Symptom.OUT_OF_BOUNDS, Stage.BUILD, "schedule_cache_read", "")
    case = ScriptCase(script=ADAPTIVE, passes=PassConfig(pipeline=DEFAULT_PIPELINE), input_domains=("normal",),
                      input_seed=0, target="llvm", signature=placeholder, steps=(step,))
    shown = script_runner.execute(case)
    assert shown.verdict is Verdict.FINDING and shown.signature.symptom is Symptom.OUT_OF_BOUNDS
    case = dataclasses.replace(case, signature=shown.signature)
    finding = StoredFinding(2, shown.signature, "llvm", "0.27.0.post1", 1, 0.0, 0.0, _test_case(), "", None, None,
                            ADAPTIVE, "", None)
    path = tmp_path / "oob.py"
    path.write_text(reproducer(finding, case))
    done = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "accesses out of bounds at run time" in done.stdout and "read x[16]" in done.stdout


def test_one_tvm_bug_reached_by_four_programs_is_one_finding_seen_four_times(cli, tmp_path):
    """TVM 0.27's LLVM codegen emits a module its verifier rejects ("Instruction does not dominate all uses!",
    reproducers/llvm_dominance_maxpool1d.py). Four programs reach it: PoNet pooling of a (1, 4, 10) sequence with
    one and with two segments (other constants), average pooling of (1, 4, 7, 11) (another family and shape), and
    the two-segment one after a schedule split (another schedule). One finding, seen four times."""
    import json

    from tzer.corpus import save_test_case
    from tzer.records import TestCase

    corpus = tmp_path / "corpus"
    with open(os.path.join(os.path.dirname(__file__), "data", "llvm_dominance_cases.json")) as handle:
        cases = [TestCase.from_json(record) for record in json.load(handle)]
    assert len({case.key for case in cases}) == 4 and any(case.mutations for case in cases)
    for case in cases:
        save_test_case(str(corpus), case)
    result = cli.run("fuzz", "--mode", "generate", "--iterations", "4", "--seed", "1", "--store", "d.db",
                     "--corpus", str(corpus), "--warm-up-passes", "1", "--no-reduce", timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    [finding] = json.loads(cli.run("findings", "--store", "d.db", "--format", "json", "--full").stdout)
    assert finding["count"] == 4 and len({o["test_case_key"] for o in finding["history"]}) == 4
    assert (finding["symptom"], finding["stage"]) == ("internal_error", "codegen")
    assert "Instruction does not dominate all uses!" in finding["detail"]


def test_a_program_whose_tvmscript_tvm_cannot_parse_back_is_kept_as_json_and_still_reproduces(tmp_path,
                                                                                           script_runner):
    """After rfactor, TVM 0.27 prints this program as TVMScript its own parser refuses ("Variable
    adaptive_pool_max_rf already defined"); its script case holds TVM's JSON instead, which shows the finding's
    signature, and its reproducer runs alone and exits 1."""
    import json

    from tzer.records import TestCase
    from tzer.report.repro import reproducer
    from tzer.store.base import StoredFinding
    from tzer.triage.check import parse
    from tzer.triage.extract import script_cases

    with open(os.path.join(os.path.dirname(__file__), "data", "unparseable_script_case.json")) as handle:
        data = json.load(handle)
    test_case, signature = TestCase.from_json(data["test_case"]), Signature.from_json(data["signature"])
    [case] = script_cases(test_case, signature)
    assert not case.is_tvmscript
    with pytest.raises(Exception, match="already defined"):
        parse(parse(case.script).script())
    execution = script_runner.execute(case)
    assert execution.verdict is Verdict.FINDING and execution.signature == signature
    finding = StoredFinding(1, signature, "llvm", "0.27.0.post1", 1, 0.0, 0.0, test_case, "", None, None, "", "",
                            None, (), (), None)
    path = tmp_path / "repro.py"
    path.write_text(reproducer(finding, case))
    done = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=300,
                          cwd=tmp_path, env={**os.environ, "PYTHONPATH": ""})
    assert done.returncode == 1 and "VectorizeLoop before LiftStorageAlloc" in done.stdout, done.stdout + done.stderr
