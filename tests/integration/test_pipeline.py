"""Explicit TIR pipelines (tzer.execute.pipeline): TVM's default, written out pass by pass, compiles every family
exactly as TVM's own pipeline does; a pipeline out of stage order is misuse."""

from __future__ import annotations

import dataclasses
import random

import numpy as np
import pytest

from tzer.execute.pipeline import default_pipeline
from tzer.generate import GENERATORS, draw_test_case
from tzer.generate.inputs import draw_inputs
from tzer.records import Invalidity, PassConfig, Verdict
from tzer.runner import build

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def runner():
    from tzer.runner import Runner

    return Runner("llvm")


def _output(runner, test_case):
    program = build(test_case)
    inputs = draw_inputs(program.inputs, test_case.input_seed)
    result = runner.executor.run(program.mod, test_case.passes, inputs, program.output.shape, program.output.dtype)
    assert result.failure is None, result.failure
    return result.output


@pytest.mark.parametrize("generator", GENERATORS.names())
def test_default_pipeline_written_out_matches_tvms_own(runner, generator):
    test_case = draw_test_case(random.Random(3), generator, "llvm")
    explicit = dataclasses.replace(test_case, passes=PassConfig(pipeline=default_pipeline()))
    assert np.array_equal(_output(runner, test_case), _output(runner, explicit), equal_nan=True)
    assert runner.execute(explicit).verdict is Verdict.PASS


def test_pipeline_that_breaks_stage_order_is_invalid_when_tvm_rejects_it(runner):
    pipeline = default_pipeline()
    lower_opaque = pipeline.index("s_tir.LowerOpaqueBlock")
    flatten_first = ("tirx.FlattenBuffer",) + pipeline[:lower_opaque + 1] + pipeline[lower_opaque + 2:]
    test_case = dataclasses.replace(draw_test_case(random.Random(0), "conv", "llvm"),
                                    passes=PassConfig(pipeline=flatten_first))
    assert not test_case.passes.keeps_pipeline_order
    execution = runner.execute(test_case)
    assert execution.verdict is Verdict.INVALID and execution.invalidity is Invalidity.MISUSED_PIPELINE


def test_info_names_are_what_tvm_names_each_known_pass():
    from tzer.execute.pipeline import construct, info_name, known_passes

    for name in sorted(known_passes()):
        assert info_name(name) == construct(name).info.name, name
