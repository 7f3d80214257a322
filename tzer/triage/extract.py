"""From a finding's test case to a script case: its program as TVMScript, the blamed schedule step kept as a step.

A finding that blames a schedule step (an access made unprovable, or a wrong result under the minimal lowering too)
keeps that step as a step: its script is the program just before it, so the reproducer shows the primitive doing
the damage. Any other finding's script is the program as compiled. (The script is TVM's JSON where TVMScript does not
round-trip: tzer.triage.check.module_text.) The pipeline becomes explicit (TVM's default one
as data where the test case left it to TVM).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

from tzer.errors import TzerBug
from tzer.execute.pipeline import DEFAULT_PIPELINE
from tzer.judge.tolerance import run_tolerance
from tzer.mutate import SEMANTICS_PRESERVING
from tzer.mutate.apply import apply_steps
from tzer.observe.pass_effects import compute_dtypes
from tzer.records import Signature, Symptom, TestCase
from tzer.runner import build
from tzer.triage.case import ScriptCase
from tzer.triage.check import module_text


def script_cases(test_case: TestCase, signature: Signature) -> Iterator[ScriptCase]:
    """The script cases that may show `signature`, most likely first: where the signature blames a schedule step
    that occurs more than once, one per occurrence. The caller checks which does."""
    program = build(test_case)
    steps = test_case.mutations
    final = _applied(program.mod, steps)
    passes = test_case.passes
    if passes.pipeline is None:
        passes = dataclasses.replace(passes, pipeline=DEFAULT_PIPELINE)
    common: dict[str, Any] = {
        "passes": passes,
        "input_domains": tuple(spec.domain for spec in program.inputs),
        "input_seed": test_case.input_seed,
        "target": test_case.target,
        "signature": signature,
    }
    if signature.symptom is Symptom.MISMATCH:
        spec = program.spec
        tolerance = run_tolerance(spec.dtype, set(compute_dtypes(final)), spec.accumulation(), spec.transcendental)
        common.update(family=program.family, dtype=spec.dtype, rtol=tolerance.rtol, atol=tolerance.atol)
    blamed = [index for index, step in enumerate(steps)
              if step.mutator == signature.guilty_pass and step.mutator in SEMANTICS_PRESERVING and step.trace]
    if signature.symptom in (Symptom.OUT_OF_BOUNDS, Symptom.MISMATCH) and blamed:
        for index in blamed:
            yield ScriptCase(script=module_text(_applied(program.mod, steps[:index])), steps=(steps[index],),
                             **common)
    else:
        yield ScriptCase(script=module_text(final), **common)


def _applied(mod: Any, steps) -> Any:
    mutated = apply_steps(mod, steps)
    if mutated.mod is None:
        raise TzerBug(f"the recorded steps of a finding no longer apply: {steps}")
    return mutated.mod
