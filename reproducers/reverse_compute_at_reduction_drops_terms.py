"""TVM 0.27.0.post1: mismatch at compare in schedule_reverse_compute_at: convolution:float32

Target: llvm. Passes: the pipeline in CASE['pipeline'] (the minimal lowering plus s_tir.CanonicalizeLoop, s_tir.LowerCrossThreadReduction, s_tir.PlanAndUpdateBufferAllocationLocation, s_tir.LiftThreadBinding, s_tir.ManifestSharedMemoryLocalStage, s_tir.CompactBufferAllocation, s_tir.LowerAutoCopy, s_tir.UnifyThreadBinding, s_tir.LowerMatchBuffer, s_tir.StmtSimplify, s_tir.InjectPermutedLayout, s_tir.AnnotateIrregularLoop, s_tir.InjectSoftwarePipeline, s_tir.TransformMmaBufferLayout, tirx.NarrowDataType:32, s_tir.LoopPartition, tirx.VectorizeLoop:True, s_tir.InjectVirtualThread, s_tir.InjectDoubleBuffer, tirx.StorageRewrite, s_tir.HoistIfThenElse, tirx.UnrollLoop, s_tir.RenormalizeSplitPattern, tirx.StmtSimplify, tirx.RemoveNoOp, s_tir.RewriteUnsafeSelect, tirx.CommonSubexprElim, tirx.FP8ComputeLegalize, s_tir.VerifyVTCMLimit, s_tir.LowerVtcmAlloc, tirx.VerifyMemory, tirx.AnnotateEntryFunc, s_tir.ThreadSync:shared, s_tir.ThreadSync:shared.dyn, s_tir.ThreadSync:warp, s_tir.InferFragment, s_tir.LowerThreadAllreduce, s_tir.MergeSharedMemoryAllocations, tirx.SplitHostDevice, tirx.FP8StorageLegalize).
Expected: the same output as the program with all loops serial under the minimal lowering (within rtol 4.17e-06, atol 5.96e-08 x the output's scale).
What happens: the output differs; without schedule_reverse_compute_at it is right.

Found by tzer: finding 11, seen 1 time(s); generator conv.
Guilty (pass bisection against the minimal lowering): schedule_reverse_compute_at.
The schedule step applied to the program below: schedule_reverse_compute_at.

Bug: `Schedule.reverse_compute_at` of the conv reduction (reading pad_temp[yy * 2 + ry]) under the producer's
pad_temp i2 loop binds yy = i2 // 2, ry = i2 % 2 with the predicate `i2 < 19 and i2 % 2 < 1`, so every ry = 1 term
is dropped and 16 of 20 outputs are wrong. The program is the conv generator's, unmutated.
Deciding change: in the scheduled program, `T.where(i2 < 19 and i2 % 2 < 1)` -> `T.where(i2 < 20)` -> the result is
right. (tzer reduced it from 27 to 24 lines, but the reduced program is degenerate (the producer writes the input x,
the reduction has no init and does not accumulate, declared regions past the buffers), so this script keeps the
unreduced one.)

Needs only apache-tvm and numpy. Exit status: 1 when the bug reproduces, 0 when it does not."""

import json
import signal
import subprocess
import sys

import numpy as np

SCRIPT = r'''
# from tvm.script import ir as I
# from tvm.script import tirx as T
# from tvm.tirx.layout import Axis

@I.ir_module
class Module:
    @T.prim_func(s_tir=True)
    def main(x: T.Buffer((1, 2, 17), "float32"), w0_0: T.Buffer((2, 1, 2), "float32"), gelu: T.Buffer((1, 2, 10), "float32")):
        T.func_attr({"tirx.noalias": True})
        # with T.sblock("root"):
        pad_temp = T.sblock_alloc_buffer((1, 2, 21))
        group_conv1d_ncw = T.sblock_alloc_buffer((1, 2, 10))
        for i0, i1, i2 in T.grid(1, 2, 21):
            with T.sblock("pad_temp"):
                v_i0, v_i1, v_i2 = T.axis.remap("SSS", [i0, i1, i2])
                T.reads(x[v_i0, v_i1, v_i2 - 2])
                T.writes(pad_temp[v_i0, v_i1, v_i2])
                pad_temp[v_i0, v_i1, v_i2] = T.if_then_else(2 <= v_i2 and v_i2 < 19, x[v_i0, v_i1, v_i2 - 2], T.float32(0.0))
        for nn, ff, yy, rc, ry in T.grid(1, 2, 10, 1, 2):
            with T.sblock("group_conv1d_ncw"):
                v_nn, v_ff, v_yy, v_rc, v_ry = T.axis.remap("SSSRR", [nn, ff, yy, rc, ry])
                T.reads(pad_temp[v_nn, v_ff + v_rc, v_yy * 2 + v_ry], w0_0[v_ff, v_rc, v_ry])
                T.writes(group_conv1d_ncw[v_nn, v_ff, v_yy])
                with T.init():
                    group_conv1d_ncw[v_nn, v_ff, v_yy] = T.float32(0.0)
                group_conv1d_ncw[v_nn, v_ff, v_yy] = group_conv1d_ncw[v_nn, v_ff, v_yy] + pad_temp[v_nn, v_ff + v_rc, v_yy * 2 + v_ry] * w0_0[v_ff, v_rc, v_ry]
        for i0, i1, i2 in T.grid(1, 2, 10):
            with T.sblock("gelu"):
                v_i0, v_i1, v_i2 = T.axis.remap("SSS", [i0, i1, i2])
                T.reads(group_conv1d_ncw[v_i0, v_i1, v_i2])
                T.writes(gelu[v_i0, v_i1, v_i2])
                gelu[v_i0, v_i1, v_i2] = T.float32(0.5) * group_conv1d_ncw[v_i0, v_i1, v_i2] * (T.float32(1.0) + T.erf(group_conv1d_ncw[v_i0, v_i1, v_i2] * T.float32(0.70710678118654757)))
'''
REFERENCE_SCRIPT = r'''
# from tvm.script import ir as I
# from tvm.script import tirx as T
# from tvm.tirx.layout import Axis

@I.ir_module
class Module:
    @T.prim_func(s_tir=True)
    def main(x: T.Buffer((1, 2, 17), "float32"), w0_0: T.Buffer((2, 1, 2), "float32"), gelu: T.Buffer((1, 2, 10), "float32"), pad_temp: T.Buffer((1, 2, 21), "float32"), group_conv1d_ncw: T.Buffer((1, 2, 10), "float32")):
        T.func_attr({"tirx.noalias": True})
        # with T.sblock("root"):
        for i0, i1, i2 in T.grid(1, 2, 21):
            with T.sblock("pad_temp"):
                v_i0, v_i1, v_i2 = T.axis.remap("SSS", [i0, i1, i2])
                T.reads(x[v_i0, v_i1, v_i2 - 2])
                T.writes(pad_temp[v_i0, v_i1, v_i2])
                pad_temp[v_i0, v_i1, v_i2] = T.if_then_else(2 <= v_i2 and v_i2 < 19, x[v_i0, v_i1, v_i2 - 2], T.float32(0.0))
        for nn, ff, yy, rc, ry in T.grid(1, 2, 10, 1, 2):
            with T.sblock("group_conv1d_ncw"):
                v_nn, v_ff, v_yy, v_rc, v_ry = T.axis.remap("SSSRR", [nn, ff, yy, rc, ry])
                T.reads(pad_temp[v_nn, v_ff + v_rc, v_yy * 2 + v_ry], w0_0[v_ff, v_rc, v_ry])
                T.writes(group_conv1d_ncw[v_nn, v_ff, v_yy])
                with T.init():
                    group_conv1d_ncw[v_nn, v_ff, v_yy] = T.float32(0.0)
                group_conv1d_ncw[v_nn, v_ff, v_yy] = group_conv1d_ncw[v_nn, v_ff, v_yy] + pad_temp[v_nn, v_ff + v_rc, v_yy * 2 + v_ry] * w0_0[v_ff, v_rc, v_ry]
        for i0, i1, i2 in T.grid(1, 2, 10):
            with T.sblock("gelu"):
                v_i0, v_i1, v_i2 = T.axis.remap("SSS", [i0, i1, i2])
                T.reads(group_conv1d_ncw[v_i0, v_i1, v_i2])
                T.writes(gelu[v_i0, v_i1, v_i2])
                gelu[v_i0, v_i1, v_i2] = T.float32(0.5) * group_conv1d_ncw[v_i0, v_i1, v_i2] * (T.float32(1.0) + T.erf(group_conv1d_ncw[v_i0, v_i1, v_i2] * T.float32(0.70710678118654757)))
'''
CASE = {'kind': 'mismatch',
 'target': 'llvm',
 'pipeline': ['s_tir.CanonicalizeLoop',
              's_tir.LowerCrossThreadReduction',
              's_tir.LowerInitBlock',
              's_tir.PlanAndUpdateBufferAllocationLocation',
              's_tir.ConvertBlocksToOpaque',
              's_tir.LiftThreadBinding',
              's_tir.ManifestSharedMemoryLocalStage',
              's_tir.CompactBufferAllocation',
              's_tir.LowerAutoCopy',
              's_tir.UnifyThreadBinding',
              's_tir.LowerMatchBuffer',
              's_tir.StmtSimplify',
              's_tir.InjectPermutedLayout',
              's_tir.AnnotateIrregularLoop',
              's_tir.InjectSoftwarePipeline',
              's_tir.TransformMmaBufferLayout',
              's_tir.LowerOpaqueBlock',
              'tirx.FlattenBuffer',
              'tirx.BF16ComputeLegalize',
              'tirx.NarrowDataType:32',
              's_tir.LoopPartition',
              'tirx.VectorizeLoop:True',
              's_tir.InjectVirtualThread',
              's_tir.InjectDoubleBuffer',
              'tirx.StorageRewrite',
              's_tir.HoistIfThenElse',
              'tirx.UnrollLoop',
              's_tir.RenormalizeSplitPattern',
              'tirx.StmtSimplify',
              'tirx.RemoveNoOp',
              's_tir.RewriteUnsafeSelect',
              'tirx.CommonSubexprElim',
              'tirx.FP8ComputeLegalize',
              's_tir.VerifyVTCMLimit',
              's_tir.LowerVtcmAlloc',
              'tirx.VerifyMemory',
              'tirx.AnnotateEntryFunc',
              's_tir.ThreadSync:shared',
              's_tir.ThreadSync:shared.dyn',
              's_tir.ThreadSync:warp',
              's_tir.InferFragment',
              's_tir.LowerThreadAllreduce',
              's_tir.MergeSharedMemoryAllocations',
              'tirx.SplitHostDevice',
              'tirx.MakePackedAPI',
              'tirx.FP8StorageLegalize',
              'tirx.BF16StorageLegalize'],
 'opt_level': 3,
 'config': {},
 'disabled_passes': [],
 'steps': ['{"root_index":35,"nodes":[{"type":"ffi.String","data":"GetSBlock"},{"type":"ffi.Array","data":[]},{"type":"ffi.String","data":"group_conv1d_ncw"},{"type":"ffi.String","data":"main"},{"type":"ffi.Array","data":[2,3]},{"type":"ffi.String","data":"b0"},{"type":"ffi.Array","data":[5]},{"type":"ffi.Array","data":[0,1,4,6]},{"type":"ffi.String","data":"GetProducers"},{"type":"ffi.Array","data":[5]},{"type":"ffi.Array","data":[]},{"type":"ffi.String","data":"b1"},{"type":"ffi.Array","data":[11]},{"type":"ffi.Array","data":[8,9,10,12]},{"type":"ffi.String","data":"GetLoops"},{"type":"ffi.Array","data":[11]},{"type":"ffi.Array","data":[]},{"type":"ffi.String","data":"l2"},{"type":"ffi.String","data":"l3"},{"type":"ffi.String","data":"l4"},{"type":"ffi.Array","data":[17,18,19]},{"type":"ffi.Array","data":[14,15,16,20]},{"type":"ffi.String","data":"ReverseComputeAt"},{"type":"ffi.Array","data":[5,19]},{"type":"None"},{"type":"ir.PrimType","data":{"span":24,"dtype":"int32"}},{"type":"int","data":0},{"type":"ir.IntImm","data":{"span":24,"ty":25,"value":26}},{"type":"int","data":-1},{"type":"ir.IntImm","data":{"span":24,"ty":25,"value":28}},{"type":"ffi.Array","data":[27,29]},{"type":"ffi.Array","data":[]},{"type":"ffi.Array","data":[22,23,30,31]},{"type":"ffi.Array","data":[7,13,21,32]},{"type":"ffi.Array","data":[]},{"type":"ffi.Array","data":[33,34]}],"metadata":{"tvm_version":"0.27.0.post1"}}'],
 'input_seed': 3116666032,
 'input_domains': ['normal', 'normal'],
 'names': ['gelu', 'group_conv1d_ncw', 'pad_temp', 'x'],
 'detail': 'convolution:float32',
 'signal': '',
 'rtol': 4.172325134277344e-06,
 'atol': 5.960464477539063e-08,
 'timeout': 300,
 'expected': 'the same output as the program with all loops serial under the minimal lowering (within rtol '
             "4.17e-06, atol 5.96e-08 x the output's scale)",
 'reference_pipeline': ['s_tir.LowerInitBlock',
                        's_tir.ConvertBlocksToOpaque',
                        's_tir.LowerOpaqueBlock',
                        'tirx.FlattenBuffer',
                        'tirx.BF16ComputeLegalize',
                        'tirx.MakePackedAPI',
                        'tirx.BF16StorageLegalize'],
 'reference_scratch': [[[1, 2, 21], 'float32'], [[1, 2, 10], 'float32']],
 'determined': None}


def load(program):
    """The module a program text describes: TVMScript, or TVM's JSON (a module whose TVMScript TVM cannot parse)."""
    import tvm

    return tvm.ir.load_json(program) if program.lstrip().startswith("{") else tvm.script.from_source(program)


def scheduled_module(script, steps):
    """The module the script describes, with the recorded schedule steps (TVM schedule traces) applied."""
    import tvm
    from tvm.s_tir import Schedule, Trace

    mod = load(script)
    for trace in steps:
        sch = Schedule(mod, debug_mask="all", error_render_level="none")
        Trace.apply_json_to_schedule(tvm.ir.load_json(trace), sch)
        mod = sch.mod
    return mod


def make_pass(name):
    """A TIR pass by its pipeline name, e.g. "tirx.FlattenBuffer" or "tirx.VectorizeLoop:True"."""
    import tvm

    qualified, _, argument = name.partition(":")
    namespace, _, pass_name = qualified.partition(".")
    factory = getattr({"s_tir": tvm.s_tir.transform, "tirx": tvm.tirx.transform}[namespace], pass_name)
    if not argument:
        return factory()
    if argument in ("True", "False"):
        return factory(argument == "True")
    return factory(int(argument) if argument.isdigit() else argument)


def register_pipeline(pipeline):
    """Register the TIR pass pipeline `pipeline` (pass names, or passes) as TVM's pipeline "repro"; its name."""
    import tvm
    from tvm.s_tir.pipeline import finalize_device_passes, finalize_host_passes

    sequential = tvm.transform.Sequential([make_pass(p) if isinstance(p, str) else p for p in pipeline])
    tvm.tirx.register_tir_pipeline("repro", lambda: (sequential, finalize_host_passes, finalize_device_passes))
    return "repro"


def build(mod, pipeline, opt_level=3, config=None, disabled=()):
    """Compile `mod` for llvm with an explicit TIR pass pipeline; return its entry function."""
    import tvm

    name = register_pipeline(pipeline)
    with tvm.transform.PassContext(opt_level=opt_level, config=config or {}, disabled_pass=list(disabled)):
        return tvm.compile(mod, target=CASE["target"], tir_pipeline=name)["main"]


def draw_inputs(mod):
    """The inputs of main (all parameters but the last, the output), drawn from the recorded seed."""
    rng = np.random.default_rng(CASE["input_seed"])
    func = mod["main"]
    buffers = list(func.params)  # a buffer parameter is the buffer (its shape, dtype)
    arrays = []
    for buffer, domain in zip(buffers[:-1], CASE["input_domains"]):
        shape, dtype = tuple(int(d) for d in buffer.shape), str(buffer.dtype)
        if domain == "normal":
            arrays.append(rng.standard_normal(shape).astype(dtype))
        elif domain == "positive":
            arrays.append(rng.uniform(0.5, 2.0, shape).astype(dtype))
        elif domain == "int_full":
            info = np.iinfo(dtype)
            arrays.append(rng.integers(info.min, info.max, shape, dtype=dtype, endpoint=True))
        else:  # int_small
            arrays.append(rng.integers(-8, 8, shape, dtype=dtype, endpoint=True))
    output = buffers[-1]
    return arrays, tuple(int(d) for d in output.shape), str(output.dtype)


def call(entry, inputs, outputs):
    import tvm

    tensors = [tvm.runtime.tensor(array) for array in [*inputs, *outputs]]
    entry(*tensors)
    return tensors[len(inputs)].numpy()


def expose_intermediates(mod):
    """`mod` with the root block's buffers (global or local scope: plain memory on the CPU) made parameters of main
    (after the others), so the run owns their memory (a bounds check sees them) and a caller can fill them; with
    their (shape, dtype)."""
    from tvm import s_tir, tirx

    func = mod["main"]
    realize = func.body
    if not isinstance(realize, s_tir.SBlockRealize):
        return mod, []
    root = realize.block

    def exposable(buffer):
        try:
            [int(d) for d in buffer.shape]
            dtype = str(buffer.dtype)
            numeric = dtype == "bfloat16" or np.dtype(dtype).kind in "fiub"
        except (TypeError, ValueError):
            return False
        scope = buffer.scope() if callable(getattr(buffer, "scope", None)) else "global"
        return numeric and (str(scope) or "global") in ("global", "local")

    exposed = [b for b in root.alloc_buffers if exposable(b)]
    kept = [b for b in root.alloc_buffers if not any(b.same_as(e) for e in exposed)]
    block = s_tir.SBlock(root.iter_vars, root.reads, root.writes, root.name_hint, root.body, root.init, kept,
                         root.match_buffers, root.annotations)
    new = tirx.PrimFunc([*func.params, *exposed], s_tir.SBlockRealize(realize.iter_values, realize.predicate, block),
                        func.ret_type, func.attrs)
    return mod.__class__({"main": new}), [(tuple(int(d) for d in b.shape), str(b.dtype)) for b in exposed]


OUT_OF_BOUNDS = []


def observe_out_of_bounds(mod, inputs, outputs):
    """Run `mod` built so that every access outside its buffer is reported (buffer, flat index, extent) instead of
    made: a pass right after FlattenBuffer guards each store by the bounds of all its accesses; loops run serially."""
    import tvm
    import tvm_ffi
    from tvm import tirx

    def report(write, name, index, extent):
        if len(OUT_OF_BOUNDS) < 64:
            kind = "write" if int(write) else "read"
            OUT_OF_BOUNDS.append(f"{kind} {name}[{int(index)}] (flat; its extent is {int(extent)})")
        return 0

    tvm.register_global_func("repro.out_of_bounds", report, override=True)

    def guard(store):
        accesses = []
        tvm_ffi.structural_walk(store, [((tvm.ir.TensorLoad, tirx.BufferStore), accesses.append)])
        checks = []
        for access in accesses:
            buffer = access.buffer if isinstance(access, tirx.BufferStore) else access.source
            if len(buffer.shape) != 1 or len(access.indices) != 1 or access.indices[0].ty.dtype.lanes != 1:
                continue
            index, extent = access.indices[0], buffer.shape[0]
            inside = tirx.all(index >= 0, index < extent)
            write = int(isinstance(access, tirx.BufferStore))
            call = tirx.Evaluate(tirx.call_packed("repro.out_of_bounds", write, buffer.name, index, extent))
            checks.append((inside, tirx.IfThenElse(tirx.Not(inside), call, None)))
        if not checks:
            return store
        return tirx.SeqStmt([*(c for _, c in checks), tirx.IfThenElse(tirx.all(*(i for i, _ in checks)), store, None)])

    def serial(loop):
        if loop.kind in (tirx.ForKind.VECTORIZED, tirx.ForKind.UNROLLED, tirx.ForKind.PARALLEL):
            return tirx.For(loop.loop_var, loop.min, loop.extent, tirx.ForKind.SERIAL, loop.body,
                            loop.thread_binding, loop.annotations)
        return loop

    def instrument(func, _mod, _ctx):
        return func.with_body(tvm_ffi.structural_map(func.body, [(tirx.BufferStore, guard), (tirx.For, serial)]))

    pipeline = []
    for name in CASE["reference_pipeline"]:
        pipeline.append(make_pass(name))
        if name == "tirx.FlattenBuffer":
            pipeline.append(tvm.tirx.transform.prim_func_pass(instrument, opt_level=0, name="repro.ObserveBounds"))
    call(build(mod, pipeline), inputs, outputs)
    return list(OUT_OF_BOUNDS)


def cuda_source(mod):
    """TVM's CUDA C for `mod` (already scheduled for the GPU), built with CASE's passes; never loaded, so no GPU
    is needed. On a machine with a GPU TVM compiles the source while it builds (tvm_callback_cuda_compile); this
    hook answers with nvcc's PTX, or nothing where nvcc refuses, so what is checked is the source, here as there."""
    import tvm
    import tvm_ffi
    from tvm.support import nvcc

    target = tvm.target.Target(CASE["target"])

    def compile_with_nvcc(code):
        try:
            with target:
                return nvcc.compile_cuda(code, target_format="ptx", compiler="nvcc")
        except RuntimeError:
            return b""

    tvm_ffi.register_global_func("tvm_callback_cuda_compile", compile_with_nvcc, override=True)
    with tvm.transform.PassContext(opt_level=CASE["opt_level"], config=CASE["config"],
                                   disabled_pass=CASE["disabled_passes"]):
        if CASE["pipeline"]:
            executable = tvm.compile(mod, target=target, tir_pipeline=register_pipeline(CASE["pipeline"]))
        else:
            executable = tvm.compile(mod, target=target)
    sources = [m.inspect_source("") for m in executable.mod.imports if m.kind == "cuda"]
    return (sources[0] if sources else ""), target


def nvcc_first_error(source, target):
    """nvcc's first error on `source` ("error: ..."), or None when nvcc compiles it."""
    import re

    from tvm.support import nvcc

    try:
        with target:
            nvcc.compile_cuda(source, target_format="ptx", compiler="nvcc")
    except RuntimeError as error:
        for line in str(error).splitlines():
            match = re.search(r"\)\s*:\s*(?:catastrophic )?error\s*:?\s*(.*)", line)
            if match:
                return f"error: {match.group(1).strip()}"
        return str(error).strip().splitlines()[-1]
    return None


def launch_violations(source, target):
    """The kernels whose threads per block (TVM writes them as __launch_bounds__) exceed the target's limit."""
    import re

    limit = int(target.attrs["max_num_threads"])
    kernels = re.findall(r"__global__\s+void\s+__launch_bounds__\((\d+)\)\s+(\w+)\s*\(", source)
    return [f"kernel {name}: {threads} threads per block, the target allows {limit}"
            for threads, name in kernels if int(threads) > limit]


def cuda_child():
    """The TVM part of a CUDA build's finding: build for CUDA, then check what the kind says."""
    try:
        source, target = cuda_source(load(SCRIPT))
    except Exception as exc:  # TVM reports the bug as an exception
        print(json.dumps({"outcome": "error", "error_type": type(exc).__name__, "message": str(exc)}))
        return
    report = {"outcome": "ran", "kernel": "__global__" in source}
    if CASE["kind"] == "rejected_code":
        report["nvcc_error"] = nvcc_first_error(source, target)
    if CASE["kind"] == "launch_limit":
        report["launch"] = launch_violations(source, target)
    print(json.dumps(report))


def child():
    """The TVM part, in a child process: prints one JSON line saying what happened (a crash prints nothing)."""
    if isinstance(CASE["target"], dict):  # a CUDA target dict: a CUDA build's finding
        cuda_child()
        return
    mod = scheduled_module(SCRIPT, CASE["steps"])
    inputs, out_shape, out_dtype = draw_inputs(mod)
    if CASE["kind"] == "out_of_bounds":
        exposed, scratch = expose_intermediates(mod)
        buffers = [np.zeros(out_shape, out_dtype), *(np.zeros(shape, dtype) for shape, dtype in scratch)]
        print(json.dumps({"outcome": "ran", "out_of_bounds": observe_out_of_bounds(exposed, inputs, buffers)}))
        return
    expected = None
    if CASE["kind"] == "mismatch":  # the reference: the same program, loops serial, minimal lowering
        reference = load(REFERENCE_SCRIPT)
        scratch = [np.zeros(shape, dtype) for shape, dtype in CASE["reference_scratch"]]
        expected = call(build(reference, CASE["reference_pipeline"]), inputs, [np.zeros(out_shape, out_dtype),
                                                                                *scratch])
    try:
        entry = build(mod, CASE["pipeline"], CASE["opt_level"], CASE["config"], CASE["disabled_passes"])
        got = call(entry, inputs, [np.zeros(out_shape, out_dtype)])
    except Exception as exc:  # TVM reports the bug as an exception
        print(json.dumps({"outcome": "error", "error_type": type(exc).__name__, "message": str(exc)}))
        return
    if expected is None:
        print(json.dumps({"outcome": "ran"}))
        return
    print(json.dumps({"outcome": "ran", **compare(got, expected)}))


def compare(got, expected):
    """TVM's output against the reference's, on the elements the reference determines, within the tolerance."""
    mask = np.ones(expected.shape, dtype=bool)
    if CASE["determined"] is not None:
        mask = np.unpackbits(np.array(CASE["determined"], dtype=np.uint8), count=expected.size).astype(bool)
        mask = mask.reshape(expected.shape)
    got64, ref64 = got.astype(np.float64)[mask], expected.astype(np.float64)[mask]
    special = ~np.isfinite(ref64)
    same_special = special & ((np.isnan(ref64) & np.isnan(got64)) | (ref64 == got64))
    finite_ref = np.where(special, 0.0, ref64)
    scale = max(float(np.abs(finite_ref).max(initial=0.0)), np.finfo(np.float64).tiny)
    with np.errstate(invalid="ignore", over="ignore"):
        error = np.abs(np.where(special, 0.0, got64) - finite_ref)
        error = np.where(np.isnan(error), np.inf, error)
        bad = np.where(special, ~same_special, error > CASE["rtol"] * np.abs(finite_ref) + CASE["atol"] * scale)
    if not bad.any():
        return {"wrong": 0, "of": int(mask.sum())}
    worst = int(np.argmax(np.where(bad, np.where(special, np.inf, error), -1.0)))
    return {"wrong": int(bad.sum()), "of": int(mask.sum()), "got": float(got64[worst]),
            "expected": float(ref64[worst])}


def normalize(message):
    """The line of a TVM error that says what failed, with what varies between programs stripped (numbers,
    addresses, quoted and program names): the same as the finding's signature detail."""
    import re

    lines = [line.strip() for line in message.splitlines() if line.strip()]
    candidates = [i for i, line in enumerate(lines) if "Check failed" in line]
    candidates += [i for i, line in enumerate(lines) if not line.startswith(("File ", "Traceback", "at ", "#"))]
    line = lines[candidates[0]] if candidates else (lines[0] if lines else "")
    if candidates and line.endswith(":") and "Check failed" not in line and candidates[0] + 1 < len(lines):
        line = f"{line} {lines[candidates[0] + 1]}"
    if CASE["names"]:
        names = "|".join(sorted(map(re.escape, CASE["names"]), key=len, reverse=True))
        line = re.sub(r"\b(" + names + r")(_\d+)?\b", "_", line)
    line = re.sub(r"0x[0-9a-fA-F]+", "ADDR", line)
    line = re.sub(r"(?<!\w)(['\"`])[^'\"`\n]{1,80}\1", r"\1_\1", line)
    line = re.sub(r"(?<=[A-Za-z])_\d+\b", "_N", line)
    line = re.sub(r"(?<![\w.])[-+]?\d+(\.\d+)?([eE][-+]?\d+)?", "N", line)
    return re.sub(r"\s+", " ", line).strip()[:200]


def verdict(returncode, report):
    """(reproduces?, one line saying what happened)."""
    kind = CASE["kind"]
    if returncode < 0:
        name = signal.Signals(-returncode).name
        if kind == "crash":
            return name == CASE["signal"], f"TVM crashed with {name} (expected {CASE['signal']})"
        return False, f"changed: TVM crashed with {name}"
    if report is None:
        return False, f"changed: the TVM part exited with status {returncode} and said nothing"
    if report["outcome"] == "error":
        detail = f"{report['error_type']}: {normalize(report['message'])}"
        if kind == "error":
            return detail == CASE["detail"], f"TVM raised {detail}"
        return False, f"changed: TVM raised {detail}"
    if kind == "rejected_code" and report.get("nvcc_error"):
        detail = normalize(report["nvcc_error"])
        return detail == CASE["detail"], f"nvcc rejects TVM's CUDA C: {report['nvcc_error']}"
    if kind == "launch_limit" and report.get("launch"):
        return True, "; ".join(report["launch"])
    if kind == "out_of_bounds" and report.get("out_of_bounds"):
        accesses = report["out_of_bounds"]
        return True, f"{len(accesses)} accesses out of bounds at run time, e.g. {', '.join(accesses[:3])}"
    if kind == "mismatch" and report.get("wrong"):
        return True, (f"wrong result: {report['wrong']} of {report['of']} elements differ from the reference, "
                      f"e.g. got {report['got']!r}, expected {report['expected']!r}")
    if kind in ("crash", "timeout"):
        return False, f"fixed: no {kind}"
    if isinstance(CASE["target"], dict):
        return False, {"rejected_code": "fixed: nvcc compiles TVM's CUDA C",
                       "launch_limit": "fixed: every kernel fits the target's threads per block"}.get(
                           kind, "fixed: TVM builds it for CUDA")
    return False, "fixed: TVM compiled and ran it" + (" and the result is right" if kind == "mismatch" else "")


def main():
    if sys.argv[1:] == ["--child"]:
        child()
        return 0
    import tvm

    print(f"TVM {tvm.__version__}, target {CASE['target']}")
    print(f"expected: {CASE['expected']}")
    try:
        done = subprocess.run([sys.executable, __file__, "--child"], capture_output=True, text=True,
                              timeout=CASE["timeout"])
    except subprocess.TimeoutExpired:
        reproduces, what = CASE["kind"] == "timeout", f"TVM did not finish within {CASE['timeout']} s"
    else:
        lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
        reproduces, what = verdict(done.returncode, json.loads(lines[-1]) if lines else None)
        if done.returncode < 0 and done.stderr.strip():
            print("TVM's last words:\n  " + "\n  ".join(done.stderr.strip().splitlines()[-12:]))
    print(f"actual:   {what}")
    print("BUG REPRODUCES" if reproduces else "does not reproduce")
    return 1 if reproduces else 0


if __name__ == "__main__":
    sys.exit(main())
