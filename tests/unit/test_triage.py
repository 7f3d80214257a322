"""Triage without TVM: delta debugging, pass bisection over a known culprit, TVMScript edits, script case records,
and the reproducer's normalizer against tzer's."""

from __future__ import annotations

import ast

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tzer.execute.pipeline import DEFAULT_PIPELINE, MINIMAL_PIPELINE
from tzer.judge.signature import normalize_message
from tzer.records import MutationStep, PassConfig, Signature, Stage, Symptom
from tzer.triage.bisect import SERIAL_VECTORIZE, VECTORIZE, Blame, bisect_passes, keeping, optional_passes
from tzer.triage.case import Reduction, ScriptCase
from tzer.triage.ddmin import ddmin
from tzer.triage.script_edits import EDITS, END


@given(st.integers(2, 60), st.sets(st.integers(0, 59), min_size=1, max_size=4))
@settings(max_examples=60, deadline=None)
def test_ddmin_finds_exactly_the_needed_items(size, needed):
    needed = {n % size for n in needed}
    result = ddmin(list(range(size)), lambda items: needed <= set(items))
    assert set(result.items) == needed and result.minimal
    assert list(result.items) == sorted(result.items)  # order kept


def test_ddmin_is_deterministic_and_caches():
    calls = []

    def interesting(items):
        calls.append(items)
        return 3 in items and 17 in items

    first = ddmin(list(range(30)), interesting)
    second = ddmin(list(range(30)), interesting)
    assert first == second
    assert len(calls) == 2 * first.tests and len(set(calls[:first.tests])) == first.tests


def test_ddmin_out_of_budget_returns_the_smallest_interesting_set_seen():
    result = ddmin(list(range(40)), lambda items: 7 in items, budget=3)
    assert not result.minimal and 7 in result.items and len(result.items) < 40 and result.tests == 3


def test_ddmin_can_drop_everything():
    assert ddmin([1, 2, 3], lambda items: True).items == ()


def test_bisection_names_the_culprit_pass_first_in_pipeline_order():
    culprits = ("tirx.StorageRewrite", "s_tir.LoopPartition")
    tried = []

    def wrong(pipeline):
        tried.append(pipeline)
        return all(c in pipeline for c in culprits)

    result = bisect_passes(DEFAULT_PIPELINE, wrong)
    assert result.blame is Blame.PASSES and result.minimal
    assert result.guilty == ("s_tir.LoopPartition", "tirx.StorageRewrite")  # pipeline order
    assert result.guilty_pass == "s_tir.LoopPartition"
    assert all(name in p for p in tried for name in MINIMAL_PIPELINE)  # the minimal lowering always stays
    assert result.tests == len(set(tried)) < 40


def test_bisection_without_vectorize_lowers_vectorized_loops_serially():
    pipeline = keeping(DEFAULT_PIPELINE, ())
    assert SERIAL_VECTORIZE in pipeline and VECTORIZE not in pipeline
    assert [p for p in pipeline if p != SERIAL_VECTORIZE] == [p for p in DEFAULT_PIPELINE if p in MINIMAL_PIPELINE]
    assert VECTORIZE in optional_passes(DEFAULT_PIPELINE)


@pytest.mark.parametrize("full,minimal,blame", [(False, False, Blame.NOT_REPRODUCED),
                                                (True, True, Blame.NOT_THE_PASSES)])
def test_bisection_says_when_the_passes_are_not_to_blame(full, minimal, blame):
    result = bisect_passes(DEFAULT_PIPELINE, lambda p: full if p == DEFAULT_PIPELINE else minimal)
    assert result.blame is blame and result.guilty == () and result.guilty_pass == ""


def test_bisection_trusts_a_known_wrong_pipeline():
    tried = []
    bisect_passes(DEFAULT_PIPELINE, lambda p: tried.append(p) or "tirx.StorageRewrite" in p, known_wrong=True)
    assert DEFAULT_PIPELINE not in tried


SCRIPT = '''
@I.ir_module
class Module:
    @T.prim_func(s_tir=True)
    def main(x: T.Buffer((2, 8), "float32"), y: T.Buffer((2, 8), "float32")):
        T.func_attr({"tirx.noalias": True})
        t = T.sblock_alloc_buffer((2, 8))
        for i, j in T.grid(2, 8):
            with T.sblock("t"):
                vi, vj = T.axis.remap("SS", [i, j])
                T.reads(x[vi, vj])
                T.writes(t[vi, vj])
                t[vi, vj] = x[vi, vj] * T.float32(2.0) + T.float32(1.0)
        for i, j in T.grid(2, 8):
            with T.sblock("y"):
                vi, vj = T.axis.remap("SS", [i, j])
                T.reads(t[vi, vj])
                T.writes(y[vi, vj])
                y[vi, vj] = T.max(t[vi, vj], T.float32(0.0))
'''


def all_candidates(edit, source):
    out, number = [], 0
    while (candidate := edit(source, number)) is not END:
        out.append(candidate)
        number += 1
    return out


UNIT_LOOP_SCRIPT = SCRIPT.replace("T.grid(2, 8)", "T.grid(1, 1)", 1)  # block "t" runs once


def test_every_edit_yields_parseable_python_and_is_deterministic():
    for name, edit in EDITS.items():
        candidates = all_candidates(edit, SCRIPT) + all_candidates(edit, UNIT_LOOP_SCRIPT)
        assert candidates, name
        assert candidates == all_candidates(edit, SCRIPT) + all_candidates(edit, UNIT_LOOP_SCRIPT)
        for candidate in candidates:
            ast.parse(candidate)


def test_unwrap_unit_loop_runs_the_block_once_without_loop_or_iterators():
    assert all_candidates(EDITS["unwrap_unit_loop"], SCRIPT) == []
    [unwrapped] = all_candidates(EDITS["unwrap_unit_loop"], UNIT_LOOP_SCRIPT)
    assert unwrapped.count("for ") == 1 and unwrapped.count("T.axis.remap") == 1
    assert "t[0, 0] = x[0, 0] * T.float32(2.0) + T.float32(1.0)" in unwrapped and "T.writes(t[0, 0])" in unwrapped


def test_drop_statement_drops_outer_statements_first_and_keeps_structure_calls():
    candidates = all_candidates(EDITS["drop_statement"], SCRIPT)
    first = candidates[0]
    assert "T.sblock_alloc_buffer" not in first and first.count("for ") == 2  # the allocation went first
    assert all("T.reads" in c and "T.axis.remap" in c and "T.func_attr" in c for c in candidates)
    assert any(c.count('T.sblock("') + c.count("T.sblock('") == 1 for c in candidates)  # a whole block nest


def test_simplify_expression_replaces_reads_by_constants_of_their_dtype_and_ops_by_operands():
    candidates = all_candidates(EDITS["simplify_expression"], SCRIPT)
    assert any("t[vi, vj] = T.float32(1.0)" in c for c in candidates)  # the read of x
    assert any("y[vi, vj] = t[vi, vj]" in c for c in candidates)  # T.max(t, 0) -> t
    assert all("T.reads(x[vi, vj])" in c for c in candidates)  # indices and structure untouched


def test_bypass_buffer_cuts_a_producer_and_feeds_its_consumers_an_input_of_its_shape_else_a_constant():
    through_input, through_constant = all_candidates(EDITS["bypass_buffer"], SCRIPT)
    for candidate in (through_input, through_constant):
        assert "T.sblock_alloc_buffer" not in candidate and "t[" not in candidate and candidate.count("for ") == 1
    assert "T.reads(x[vi, vj])" in through_input and "y[vi, vj] = T.max(x[vi, vj], T.float32(0.0))" in through_input
    assert "T.reads()" in through_constant and "y[vi, vj] = T.max(T.float32(1.0), T.float32(0.0))" in through_constant


def test_shrink_number_changes_every_occurrence_together():
    candidates = all_candidates(EDITS["shrink_number"], SCRIPT)
    assert "(2, 1)" in candidates[0] and "T.grid(2, 1)" in candidates[0]  # 8 -> 1 in shapes and extents
    assert "(2, 4)" in candidates[1] and "T.grid(2, 4)" in candidates[1]


def case(**changes) -> ScriptCase:
    base = ScriptCase(script=SCRIPT, passes=PassConfig(pipeline=DEFAULT_PIPELINE), input_domains=("normal",),
                      input_seed=7, target="llvm",
                      signature=Signature(Symptom.MISMATCH, Stage.COMPARE, "tirx.StorageRewrite", "pooling:float32"),
                      steps=(MutationStep("schedule_split", 3, '{"trace": 1}'),), family="pooling",
                      dtype="float32", rtol=1e-5, atol=1e-7)
    return ScriptCase(**{**base.__dict__, **changes})


def test_script_case_and_reduction_round_trip_through_json():
    import json

    for c in (case(), case(steps=(), family="", dtype="", rtol=0.0, atol=0.0)):
        assert ScriptCase.from_json(json.loads(json.dumps(c.to_json()))) == c
    reduction = Reduction(case(), 40, 123, 45.5, False, 12)
    assert Reduction.from_json(json.loads(json.dumps(reduction.to_json()))) == reduction
    older = {key: value for key, value in reduction.to_json().items() if key != "lines"}  # stored before `lines`
    assert Reduction.from_json(older).lines == case().lines
    assert case().lines == len([line for line in SCRIPT.splitlines() if line.strip()])


MESSAGES = [
    "Traceback (most recent call last):\n  File \"x.py\", line 3\nInternalError: Check failed: (extent == 16) is "
    "false: buffer 'A_shared_1' of shape [4, 16] at 0x7ffd5e3a91c0",
    "ValueError: Check failed: value >= -support::kMaxFloat16 (-70000 vs. -65504) : Literal value -70000 exceeds",
    "LLVM module verification failed with the following errors:\nInstruction does not dominate all uses!",
    "Buffer pool_max_1 is used but T_add_12 is not",
    "",
]


@pytest.mark.parametrize("message", MESSAGES)
def test_reproducer_normalizer_matches_tzers(message):
    from tzer.report import reproducer_template as template

    names = frozenset({"pool_max"})
    template.CASE = {"names": sorted(names)}
    assert template.normalize(message) == normalize_message(message, names)
    template.CASE = {"names": []}
    assert template.normalize(message) == normalize_message(message)


def test_reproducer_template_parses_and_has_its_placeholders():
    import inspect

    from tzer.report import reproducer_template as template

    source = inspect.getsource(template)
    for placeholder in ('"""@DOCSTRING@"""', 'SCRIPT = ""  # @SCRIPT@', 'REFERENCE_SCRIPT = ""  # @REFERENCE_SCRIPT@',
                        "CASE = {}  # @CASE@"):
        assert placeholder in source
