"""The bounds judge against compiled code: an off-by-one mutant it flags does read memory it must not (so its output
is garbage, and judging it would be tzer's mistake); serialize_loops gives a reference that the minimal pipeline
compiles and that computes what the scheduled program computes; and no program of any generator is flagged."""

from __future__ import annotations

import random
import statistics
import time

import numpy as np
import pytest
import tvm
import tvm_ffi
from tvm import s_tir, te, topi
from tvm.script import tirx as T

from tzer.generate import GENERATORS
from tzer.generate.graph import GraphSpec, build_program
from tzer.judge.bounds import serialize_loops, unproven_access

pytestmark = pytest.mark.integration

MINIMAL = "bounds_test_min"
SENTINEL = 1000.0


@pytest.fixture(scope="module")
def minimal_pipeline():
    from tvm.s_tir.pipeline import finalize_device_passes, finalize_host_passes

    passes = [s_tir.transform.LowerInitBlock(), s_tir.transform.ConvertBlocksToOpaque(),
              s_tir.transform.LowerOpaqueBlock(), tvm.tirx.transform.FlattenBuffer(),
              tvm.tirx.transform.MakePackedAPI()]
    tvm.tirx.register_tir_pipeline(
        MINIMAL, lambda: (tvm.transform.Sequential(passes), finalize_host_passes, finalize_device_passes))
    return MINIMAL


@T.prim_func(s_tir=True)
def row_sum(A: T.Buffer((4, 16), "float32"), B: T.Buffer((4,), "float32")):
    for i, k in T.grid(4, 16):
        with T.sblock("B"):
            vi, vk = T.axis.remap("SR", [i, k])
            with T.init():
                B[vi] = T.float32(0)
            B[vi] = B[vi] + A[vi, vk]


def _off_by_one(func):
    """The mutant tzer's extent mutation makes: the reduction loop and its block var one longer (consistent,
    well-formed S-TIR, which TVM compiles without complaint)."""
    from tvm import tirx

    def longer(extent):
        return isinstance(extent, tirx.IntImm) and extent.value == 16

    def longer_loop(loop):
        if not longer(loop.extent):
            return loop
        return tirx.For(loop.loop_var, loop.min, loop.extent + 1, loop.kind, loop.body, loop.thread_binding,
                        loop.annotations, loop.step, loop.span)

    def longer_domain(iter_var):
        if not longer(iter_var.dom.extent):
            return iter_var
        dom = tvm.ir.Range.from_min_extent(iter_var.dom.min, iter_var.dom.extent + 1)
        return tirx.IterVar(dom, iter_var.var, iter_var.iter_type, iter_var.thread_tag)

    body = tvm_ffi.structural_map(func.body, [(tirx.For, longer_loop), (tirx.IterVar, longer_domain)])
    mutant = tvm.IRModule({"main": func.with_body(body)})
    assert "T.grid(4, 17)" in mutant.script() and s_tir.analysis.verify_well_formed(mutant)
    return mutant


def _run_row_sum(mod, values):
    """Run with A laid out at the start of a larger buffer whose next element is SENTINEL: a read one past A's end
    returns it."""
    import torch

    storage = torch.full((values.size + 16,), SENTINEL, dtype=torch.float32)
    storage[: values.size] = torch.from_numpy(values.ravel())
    a = storage[: values.size].view(values.shape)
    out = torch.zeros(values.shape[0], dtype=torch.float32)
    tvm.compile(mod, target="llvm")["main"](a, out)
    return out.numpy()


def test_off_by_one_extent_is_flagged_and_really_reads_out_of_bounds():
    original = tvm.IRModule({"main": row_sum})
    mutant = _off_by_one(row_sum)
    assert unproven_access(original) is None
    found = unproven_access(mutant)
    assert found is not None and "A[vi, vk]" in found and "index 1" in found, found

    values = np.random.default_rng(0).standard_normal((4, 16)).astype("float32")
    expected = values.sum(axis=1)
    np.testing.assert_allclose(_run_row_sum(original, values), expected, rtol=1e-5)
    garbage = _run_row_sum(mutant, values)
    # Row i reads A[i, 16], which is A[i + 1, 0] in memory, and the last row reads past A: the sentinel.
    np.testing.assert_allclose(garbage[:3], expected[:3] + values[1:, 0], rtol=1e-5)
    np.testing.assert_allclose(garbage[3], expected[3] + SENTINEL, rtol=1e-5)


def _conv_module():
    data = te.placeholder((1, 3, 16, 16), "float32", name="A")
    weight = te.placeholder((4, 3, 3, 3), "float32", name="W")
    out = topi.nn.conv2d_nchw(data, weight, (1, 1), (1, 1), (1, 1))
    return tvm.IRModule({"main": te.create_prim_func([data, weight, out])})


def _vectorized_parallel_unrolled(mod):
    sch = s_tir.Schedule(mod)
    conv = sch.get_sblock("conv2d_nchw")
    n, f, y, x, rc, ry, rx = sch.get_loops(conv)
    yo, yi = sch.split(y, factors=[None, 4])
    xo, xi = sch.split(x, factors=[None, 4])
    sch.reorder(yo, xo, rc, ry, rx, yi, xi)
    sch.parallel(sch.fuse(n, f))
    sch.vectorize(xi)
    sch.unroll(rx)
    sch.annotate(yo, "pragma_auto_unroll_max_step", 16)
    sch.annotate(yo, "pragma_unroll_explicit", 1)
    sch.compute_inline("pad_temp")
    return sch.mod


def _run_conv(ex):
    rng = np.random.default_rng(1)
    args = [tvm.runtime.tensor(rng.standard_normal(shape).astype("float32")) for shape in ((1, 3, 16, 16),
                                                                                             (4, 3, 3, 3))]
    out = tvm.runtime.empty((1, 4, 16, 16), "float32", tvm.cpu())
    ex["main"](*args, out)
    return out.numpy()


def test_serialized_schedule_compiles_minimally_and_matches_the_scheduled_program(minimal_pipeline):
    scheduled = _vectorized_parallel_unrolled(_conv_module())
    assert unproven_access(scheduled) is None
    with pytest.raises(Exception):  # why the reference needs serial loops: the minimal pipeline cannot vectorize
        tvm.compile(scheduled, target="llvm", tir_pipeline=minimal_pipeline)
    serial = serialize_loops(scheduled)
    assert "T.vectorized" not in serial.script() and "T.parallel" not in serial.script()
    assert "pragma_" not in serial.script() and "T.unroll" not in serial.script()
    reference = _run_conv(tvm.compile(serial, target="llvm", tir_pipeline=minimal_pipeline))
    optimized = _run_conv(tvm.compile(scheduled, target="llvm"))
    np.testing.assert_allclose(optimized, reference, rtol=1e-5, atol=1e-6)


def test_no_generator_program_is_flagged_and_proof_stays_fast():
    unproven, seconds = {}, []
    for name in GENERATORS.names():
        for program_seed in range(30):
            mod = build_program(GraphSpec.from_json(GENERATORS.get(name)(random.Random(program_seed)))).mod
            start = time.process_time()
            found = unproven_access(mod)
            seconds.append(time.process_time() - start)
            if found is not None:
                unproven[f"{name}-{program_seed}"] = found
    assert unproven == {}
    assert statistics.median(seconds) < 0.020, f"median proof {statistics.median(seconds) * 1e3:.1f} ms"
