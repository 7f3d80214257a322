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
