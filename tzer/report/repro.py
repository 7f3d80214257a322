"""Standalone reproducers: one Python script per finding that needs only apache-tvm and numpy.

The script is `reproducer_template.py` beside this module with its data filled in: the (reduced) TVMScript, the
schedule steps, the pass pipeline, the input recipe and what to expect. It runs the TVM part in a child process (a
crash must not end the script with a signal), prints the TVM version, what is expected and what happens, and exits
1 when the bug reproduces, 0 when it does not. Mismatches compare TVM's output with the same program's minimal
lowering, all loops serial (tzer's opt-vs-unopt oracle), on the elements that lowering determines. A finding of
the CUDA build (what it shows without a GPU: TVM's errors while building, nvcc's rejection, launch limits) gets the
same script around the module as built for CUDA (`cuda_reproducer`); it needs no GPU.
"""

from __future__ import annotations

import os
import pprint
from typing import Any

import numpy as np

from tzer.execute.pipeline import MINIMAL_PIPELINE
from tzer.judge.signature import names_in_script
from tzer.records import Stage, Symptom
from tzer.store.base import StoredFinding
from tzer.triage.case import ScriptCase

TEMPLATE = os.path.join(os.path.dirname(__file__), "reproducer_template.py")
KINDS = {Symptom.CRASH: "crash", Symptom.INTERNAL_ERROR: "error", Symptom.EXCEPTION: "error",
         Symptom.OUT_OF_MEMORY: "error", Symptom.TIMEOUT: "timeout", Symptom.MISMATCH: "mismatch",
         Symptom.OUT_OF_BOUNDS: "out_of_bounds"}
CHILD_SECONDS = 300  # a timeout finding reproduces when the TVM part runs longer than this


def reproducer(finding: StoredFinding, case: ScriptCase) -> str:
    """The reproducer of `finding`, showing `case` (its reduced case, or the unreduced one)."""
    with open(TEMPLATE) as handle:
        template = handle.read()
    data = _case_data(case, _scheduled_names(case))
    reference_script = ""
    if data["kind"] == "mismatch":
        reference_script, data["reference_scratch"], data["determined"] = _reference(case)
    text = template.replace('"""@DOCSTRING@"""', f'"""{_docstring(finding, case)}"""', 1)
    text = _fill(text, 'SCRIPT = ""  # @SCRIPT@', "SCRIPT", _script_literal(case.script))
    text = _fill(text, 'REFERENCE_SCRIPT = ""  # @REFERENCE_SCRIPT@', "REFERENCE_SCRIPT",
                 _script_literal(reference_script))
    return _fill(text, "CASE = {}  # @CASE@", "CASE", pprint.pformat(data, width=116, sort_dicts=False))


CUDA_KINDS = {Symptom.INTERNAL_ERROR: "error", Symptom.EXCEPTION: "error", Symptom.REJECTED_CODE: "rejected_code",
              Symptom.LAUNCH_LIMIT: "launch_limit"}


def cuda_unreproducible(finding: StoredFinding) -> str | None:
    """Why a finding of the CUDA build gets no reproducer, or None: one is written for what a CUDA build shows
    without a GPU (TVM's errors while building, nvcc's rejection, launch limits); not yet for runs on a GPU."""
    signature = finding.signature
    if signature.symptom not in CUDA_KINDS or signature.stage not in (Stage.LOWER, Stage.CODEGEN):
        return (f"finding {finding.id} ({signature.symptom.name.lower()} at {signature.stage.name.lower()}) was "
                f"seen on the CUDA build: reproducers of its runs on a GPU are not written yet")
    return None


def cuda_reproducer(finding: StoredFinding) -> str:
    """The reproducer of a CUDA build's finding: the module as built for CUDA (GPU schedule applied, kept as the
    finding stored it) with the finding's passes; it builds it for CUDA and checks what the finding showed."""
    import tvm

    from tzer.execute.targets import parse_targets
    from tzer.judge.cuda import CUDA_DETAIL, first_nvcc_error
    from tzer.judge.signature import normalize_message
    from tzer.triage.check import module_text

    signature = finding.signature
    kind = CUDA_KINDS[signature.symptom]
    cuda = next(target for target in parse_targets(finding.target) if target.gpu)
    names = sorted(names_in_script(finding.program_script))
    detail = signature.detail[len(CUDA_DETAIL):]
    if kind == "rejected_code":  # as the script will normalize it: with the program's names
        detail = normalize_message(first_nvcc_error(finding.error), frozenset(names))
    passes = finding.test_case.passes
    data = {
        "kind": kind, "target": {"kind": "cuda", "arch": cuda.arch}, "pipeline": list(passes.pipeline or ()),
        "opt_level": passes.opt_level, "config": dict(passes.config), "disabled_passes": list(passes.disabled_passes),
        "names": names, "detail": detail, "timeout": CHILD_SECONDS,
        "expected": {"error": "TVM builds the program for CUDA",
                     "rejected_code": "nvcc compiles the CUDA C that TVM writes for the program",
                     "launch_limit": "every kernel launches at most the target's max_num_threads per block"}[kind],
    }
    with open(TEMPLATE) as handle:
        template = handle.read()
    happens = {"error": f"TVM raises {detail}", "rejected_code": f"nvcc rejects it: {detail}",
               "launch_limit": "a kernel launches more threads per block than the target allows"}[kind]
    docstring = "\n".join([
        f"TVM {finding.tvm_version}: {signature.symptom.name.lower().replace('_', ' ')} at "
        f"{signature.stage.name.lower()} on CUDA: {detail}", "",
        f"Target: {data['target']}. Passes: " + ("TVM's default pipeline" if not passes.pipeline else
                                                  "the pipeline in CASE['pipeline']") + ".",
        f"Expected: {data['expected']}.", f"What happens: {happens}.", "",
        f"Found by tzer: finding {finding.id}, seen {finding.count} time(s); generator "
        f"{finding.test_case.generator}. The program is the one tzer built for CUDA (its GPU schedule applied).",
        "No GPU is needed" + (" (nvcc is)." if kind == "rejected_code" else "."), "",
        "Needs only apache-tvm and numpy. Exit status: 1 when the bug reproduces, 0 when it does not."])
    docstring = docstring.replace('"""', "'''").replace("\\", "\\\\")
    text = template.replace('"""@DOCSTRING@"""', f'"""{docstring}"""', 1)
    script = module_text(tvm.ir.load_json(finding.program_json))
    text = _fill(text, 'SCRIPT = ""  # @SCRIPT@', "SCRIPT", _script_literal(script))
    return _fill(text, "CASE = {}  # @CASE@", "CASE", pprint.pformat(data, width=116, sort_dicts=False))


def _fill(text: str, placeholder_line_start: str, name: str, value: str) -> str:
    lines = text.splitlines(keepends=True)
    for number, line in enumerate(lines):
        if line.startswith(placeholder_line_start):
            lines[number] = f"{name} = {value}\n"
            return "".join(lines)
    raise AssertionError(f"the reproducer template lost its {name} placeholder")


def _script_literal(script: str) -> str:
    if "'''" in script or "\\" in script:
        return repr(script)
    return "r'''\n" + script.rstrip() + "\n'''"


def _scheduled_names(case: ScriptCase) -> list[str]:
    """The program's own names as TVM prints the program it compiles (its steps applied): an error message that
    mentions them is normalized the way the signature was (tzer.triage.check)."""
    from tzer.mutate.apply import apply_steps
    from tzer.triage.check import parse

    scheduled = apply_steps(parse(case.script), case.steps).mod
    return sorted(names_in_script(scheduled.script() if scheduled is not None else case.script))


def _case_data(case: ScriptCase, names: list[str]) -> dict[str, Any]:
    signature = case.signature
    kind = KINDS[signature.symptom]
    passes = case.passes
    return {
        "kind": kind,
        "target": case.target,
        "pipeline": list(passes.pipeline or ()),
        "opt_level": passes.opt_level,
        "config": dict(passes.config),
        "disabled_passes": list(passes.disabled_passes),
        "steps": [step.trace for step in case.steps],
        "input_seed": case.input_seed,
        "input_domains": list(case.input_domains),
        "names": names,
        "detail": signature.detail,
        "signal": signature.detail if kind == "crash" else "",
        "rtol": case.rtol,
        "atol": case.atol,
        "timeout": CHILD_SECONDS,
        "expected": _expected(case, kind),
        "reference_pipeline": list(MINIMAL_PIPELINE),
        "reference_scratch": [],
        "determined": None,
    }


def _expected(case: ScriptCase, kind: str) -> str:
    if kind == "mismatch":
        return (f"the same output as the program with all loops serial under the minimal lowering "
                f"(within rtol {case.rtol:.3g}, atol {case.atol:.3g} x the output's scale)")
    if kind == "out_of_bounds":
        return "every access of the scheduled program stays inside its buffer"
    return "the program compiles and runs (TVM's parser and verifier accept it)"


def _reference(case: ScriptCase) -> tuple[str, list, list[int] | None]:
    """The reference program of a mismatch (serial loops, intermediates exposed as extra parameters), its scratch
    buffers, and the elements it determines (packed bits; None when all), measured here with tzer's fills."""
    from tzer.execute.executor import QUIET, Executor
    from tzer.generate.inputs import draw_inputs
    from tzer.judge.bounds import serialize_loops
    from tzer.judge.initialization import determined, expose_allocations
    from tzer.runner import minimal_lowering_outputs
    from tzer.triage.check import input_specs, module_text, parse

    original = parse(case.script)
    exposed, scratch = expose_allocations(serialize_loops(original))
    inputs, output = input_specs(original, case.input_domains)
    outputs = minimal_lowering_outputs(Executor(case.target), original, draw_inputs(inputs, case.input_seed),
                                       output.shape, output.dtype, QUIET)
    mask = determined(*outputs) if isinstance(outputs, list) else None
    packed = None if mask is None or mask.all() else [int(b) for b in np.packbits(mask.ravel())]
    return module_text(exposed), [[list(shape), dtype] for shape, dtype in scratch], packed


def _pipeline_summary(case: ScriptCase) -> str:
    from tzer.triage.bisect import optional_passes

    extra = optional_passes(case.passes.pipeline or ())
    return "the minimal lowering" + (f" plus {', '.join(extra)}" if extra else "")


def _happens(case: ScriptCase, kind: str) -> str:
    signature = case.signature
    where = f" in {signature.guilty_pass}" if signature.guilty_pass else f" at {signature.stage.name.lower()}"
    return {
        "crash": f"TVM crashes with {signature.detail}{where}",
        "error": f"TVM raises {signature.detail}{where}",
        "timeout": f"TVM does not finish{where}",
        "mismatch": f"the output differs; without {signature.guilty_pass or 'the optional passes'} it is right",
        "out_of_bounds": f"after {signature.guilty_pass} the program {signature.detail} (seen at run time)",
    }[kind]


def _docstring(finding: StoredFinding, case: ScriptCase) -> str:
    signature = case.signature
    where = f" in {signature.guilty_pass}" if signature.guilty_pass else ""
    title = f"TVM {finding.tvm_version}: {signature.symptom.name.lower().replace('_', ' ')} at " \
            f"{signature.stage.name.lower()}{where}: {signature.detail}"
    kind = KINDS[signature.symptom]
    passes = ("the minimal lowering, with every access checked" if kind == "out_of_bounds" else
              f"the pipeline in CASE['pipeline'] ({_pipeline_summary(case)})")
    lines = [title, "", f"Target: {case.target}. Passes: {passes}.",
             f"Expected: {_expected(case, kind)}.", f"What happens: {_happens(case, kind)}.", ""]
    reduced = finding.reduction
    if reduced is not None and reduced.case == case:
        lines.append(f"Reduced by tzer from {reduced.original_lines} to {reduced.lines} lines of TVMScript "
                     f"({reduced.checks} checks).")
    lines.append(f"Found by tzer: finding {finding.id}, seen {finding.count} time(s); generator "
                 f"{finding.test_case.generator}.")
    if finding.blame:
        lines.append(f"Guilty (pass bisection against the minimal lowering): {', '.join(finding.blame)}.")
    if case.steps:
        lines.append(f"The schedule step applied to the program below: {', '.join(s.mutator for s in case.steps)}.")
    lines += ["", "Needs only apache-tvm and numpy. Exit status: 1 when the bug reproduces, 0 when it does not."]
    return "\n".join(lines).replace('"""', "'''").replace("\\", "\\\\")

