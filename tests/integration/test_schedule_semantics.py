"""Schedule mutants compute what their program computes: each schedule mutator's mutant of a few generator programs,
compiled for llvm, gives the unmutated program's output on random inputs. Two TVM scheduling bugs found this way
are kept as strict xfails, with minimal programs."""

from __future__ import annotations

import functools
import random

import numpy as np
import pytest

from tzer.mutate import MUTATORS, SCHEDULE

pytestmark = pytest.mark.integration

MUTATION_SEED = 0
INPUT_SEED = 0
# Programs where every mutator applies: conv 0 (float32: pad, convolution, gelu), GeM 0 (float32: elementwise ops
# around a global pooling), conv 7 (int32, compared exactly).
PROGRAMS = (("conv", 0), ("gem", 0), ("conv", 7))
ONLY_ON = {"schedule_reverse_compute_inline": (("gem", 0), ("metaformer", 1))}  # needs an elementwise consumer

BLOCKIZE_DROPS_DOMAIN_MIN = (
    "TVM bug: blockize of a loop inside topi's adaptive pooling binds the new outer block's iterators to 0 instead "
    "of the inner iterators' domain minimum ([v, v + 1), bound to v), so every window writes element 0 "
    "(minimal program: test_tvm_blockize_keeps_the_domain_minimum)")


def _tvm_bug(reason: str):
    # raises=AssertionError: only a wrong output counts as the bug; any other failure (no mutant, TVM now refusing
    # the primitive) fails the test, so a fix or a change in TVM is noticed.
    return pytest.mark.xfail(strict=True, raises=AssertionError, reason=reason)


def _cases():
    for name in sorted(SCHEDULE):
        for generator, seed in ONLY_ON.get(name, PROGRAMS):
            yield pytest.param(name, generator, seed, id=f"{name}-{generator}{seed}")
    yield pytest.param("schedule_blockize", "spp", 1, id="schedule_blockize-spp1",
                       marks=_tvm_bug(BLOCKIZE_DROPS_DOMAIN_MIN))


@functools.lru_cache(maxsize=None)
def _program(generator: str, seed: int):
    from tzer.generate import GENERATORS
    from tzer.generate.graph import GraphSpec, build_program
    from tzer.generate.inputs import draw_inputs

    program = build_program(GraphSpec.from_json(GENERATORS.get(generator)(random.Random(seed))))
    inputs = draw_inputs(program.inputs, INPUT_SEED)
    return program, inputs, _run(program.mod, inputs, program.output.shape, program.output.dtype)


def _run(mod, inputs, shape, dtype) -> np.ndarray:
    import tvm

    executable = tvm.compile(mod, target="llvm")
    # A sentinel fill, so an output element that the mutant never writes cannot pass by luck.
    fill = np.nan if dtype.startswith("float") else np.iinfo(dtype).min
    output = tvm.runtime.tensor(np.full(shape, fill, dtype=dtype))
    executable["main"](*[tvm.runtime.tensor(a) for a in inputs], output)
    return output.numpy()


def _assert_same(expected: np.ndarray, actual: np.ndarray) -> None:
    if expected.dtype.kind in "iu":
        np.testing.assert_array_equal(actual, expected)
        return
    # rfactor, split and reorder change the order of float sums: cancelling terms may leave an element near zero
    # whose relative error is large, so the absolute tolerance scales with the output's magnitude.
    scale = float(np.max(np.abs(expected)))
    np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=1e-5 * scale)


@pytest.mark.parametrize("name, generator, seed", list(_cases()))
def test_mutant_computes_the_same_output(name, generator, seed):
    program, inputs, expected = _program(generator, seed)
    mutant = MUTATORS.get(name)(program.mod, random.Random(MUTATION_SEED))
    if mutant is None:
        pytest.fail(f"{name} found no site on {generator} {seed}")
    _assert_same(expected, _run(mutant, inputs, program.output.shape, program.output.dtype))


# Minimal programs of the TVM bugs found by these mutators.


@_tvm_bug(BLOCKIZE_DROPS_DOMAIN_MIN)
def test_tvm_blockize_keeps_the_domain_minimum():
    from tvm import s_tir
    from tvm.script import tirx as T

    @T.prim_func(s_tir=True)
    def row_sums(x: T.Buffer((4, 3), "float32"), y: T.Buffer((4,), "float32")):
        for i in range(4):
            with T.sblock("outer"):
                vi = T.axis.spatial(4, i)
                T.reads(x[vi, 0:3])
                T.writes(y[vi])
                for k in range(3):
                    with T.sblock("inner"):
                        vi_1 = T.axis.spatial((vi, vi + 1), vi)
                        vk = T.axis.reduce(3, k)
                        T.reads(x[vi_1, vk])
                        T.writes(y[vi_1])
                        with T.init():
                            y[vi_1] = T.float32(0)
                        y[vi_1] = y[vi_1] + x[vi_1, vk]

    sch = s_tir.Schedule(row_sums, debug_mask="all")
    sch.blockize(sch.get_loops("inner")[-1])
    x = np.arange(12, dtype="float32").reshape(4, 3)
    _assert_same(x.sum(axis=1), _run(sch.mod, [x], (4,), "float32"))


REVERSE_COMPUTE_AT_DROPS_BORDER = (
    "TVM bug: reverse_compute_at of a padding consumer under its producer's loop keeps only the iterations that "
    "read the producer, so the border (the padding) is never written; debug_mask='all' does not catch it when the "
    "consumer is the output (cf. apache/tvm#15911)")


@_tvm_bug(REVERSE_COMPUTE_AT_DROPS_BORDER)
def test_tvm_reverse_compute_at_keeps_the_padding_border():
    from tvm import s_tir
    from tvm.script import tirx as T

    @T.prim_func(s_tir=True)
    def padded_sums(x: T.Buffer((8,), "float32"), out: T.Buffer((4,), "float32")):
        acc = T.sblock_alloc_buffer((2,))
        for i, k in T.grid(2, 4):
            with T.sblock("acc"):
                vi, vk = T.axis.remap("SR", [i, k])
                with T.init():
                    acc[vi] = T.float32(0)
                acc[vi] = acc[vi] + x[vi * 4 + vk]
        for i in range(4):
            with T.sblock("pad"):
                vi = T.axis.remap("S", [i])
                out[vi] = T.if_then_else(1 <= vi and vi < 3, acc[vi - 1], T.float32(0))

    sch = s_tir.Schedule(padded_sums, debug_mask="all")
    sch.reverse_compute_at("pad", sch.get_loops("acc")[0])  # accepted without error
    x = np.arange(8, dtype="float32")
    expected = np.array([0, x[:4].sum(), x[4:].sum(), 0], dtype="float32")
    _assert_same(expected, _run(sch.mod, [x], (4,), "float32"))
