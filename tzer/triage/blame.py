"""Blame: which pass of the pipeline, or which mutation step of the program, made a test case go wrong.

A finding's signature names its guilty part, so that one root cause reached by many programs is one finding:
- a mismatch blames the passes that pass bisection (tzer.triage.bisect) finds, or, when the result is wrong under the
  minimal lowering too and the steps keep the program's meaning, the first schedule step after which it is wrong;
- an access made unprovable by semantics-preserving steps blames the first step after which it is unprovable (not
  the last step: a later one only carried the damage along).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

from tzer.execute.pipeline import DEFAULT_PIPELINE, MINIMAL_PIPELINE
from tzer.mutate.apply import apply_steps, preserves_semantics
from tzer.records import MutationStep, PassConfig
from tzer.triage.bisect import Blame, bisect_passes


def guilty_prefix(mod: Any, steps: Sequence[MutationStep], bad: Callable[[Any], bool]) -> int | None:
    """How many of `steps` it takes before `bad(program)` holds, applying them to `mod` one by one (their seeds and
    traces as applied, so each prefix replays): the last of them is the guilty step. None if no prefix is bad."""
    for count in range(1, len(steps) + 1):
        mutated = apply_steps(mod, steps[:count])
        if mutated.mod is not None and bad(mutated.mod):
            return count
    return None


def blame_mismatch(executor: Any, original: Any, mod: Any, passes: PassConfig, steps: Sequence[MutationStep],
                   inputs: Sequence[Any], out_shape: tuple[int, ...], out_dtype: str,
                   judge: Callable[[Any], Any], listener: Any) -> tuple[str, ...]:
    """What made `mod`'s result under `passes` wrong (`judge(output)` returns a Comparison): the passes bisection
    finds; or, when it is wrong without them and `steps` (which turned `original` into `mod`) keep the program's
    meaning, the step after which the minimal lowering is wrong too: a schedule primitive changed the program's
    meaning. Empty when neither holds. Every compile runs through `executor` and tells `listener` its stages."""
    from tzer.judge.bounds import serialize_loops

    def wrong(candidate: Any, candidate_passes: PassConfig) -> bool:
        result = executor.run(candidate, candidate_passes, inputs, out_shape, out_dtype, listener)
        return result.failure is None and not judge(result.output).ok

    # An explicit pipeline was what gave the wrong result; TVM's default one (None) is run again as data.
    bisection = bisect_passes(passes.pipeline or DEFAULT_PIPELINE,
                              lambda pipeline: wrong(mod, dataclasses.replace(passes, pipeline=pipeline)),
                              known_wrong=passes.pipeline is not None)
    if bisection.blame is Blame.PASSES:
        return bisection.guilty
    if bisection.blame is Blame.NOT_THE_PASSES and steps and preserves_semantics(steps):
        minimal = PassConfig(pipeline=MINIMAL_PIPELINE)
        count = guilty_prefix(original, steps, lambda prefix: wrong(serialize_loops(prefix), minimal))
        return (steps[count - 1].mutator,) if count else ()
    return ()
