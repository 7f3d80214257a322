"""Replaying mutation steps: a test case's recorded steps, applied in order to its generated program.

Each step is (mutator, seed[, schedule trace]). A step with a trace replays the trace; one without runs its mutator
with `Random(seed)`, and where that finds no site, with `Random(seed + 1)`, ... (`MutationStep.SEED_TRIES` seeds),
so the outcome depends on the record alone. The result carries the steps as applied (the seed that worked, the
schedule trace), which is what the store keeps.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Sequence
from typing import Any

from tzer.mutate import GPU, SEMANTICS_PRESERVING, STEP_MUTATORS
from tzer.records import MutationStep


@dataclasses.dataclass(frozen=True)
class Mutated:
    mod: Any | None  # None: a step found no site
    applied: tuple[MutationStep, ...]  # the steps as applied; up to and without the failing one when mod is None


def preserves_semantics(steps: Sequence[MutationStep]) -> bool:
    """Whether every step keeps the program's meaning, so its PyTorch reference still holds."""
    return all(step.mutator in SEMANTICS_PRESERVING for step in steps)


def split_gpu_steps(steps: Sequence[MutationStep]) -> tuple[tuple[MutationStep, ...], tuple[MutationStep, ...]]:
    """A test case's steps as (the program's, the GPU schedule's). GPU steps come last (the scheduler keeps them
    a suffix), so the CPU build is the program without them and the CUDA build the program with them; a GPU step
    anywhere else is tzer's error."""
    first_gpu = next((i for i, step in enumerate(steps) if step.mutator in GPU), len(steps))
    host, gpu = tuple(steps[:first_gpu]), tuple(steps[first_gpu:])
    if any(step.mutator not in GPU for step in gpu):
        from tzer.errors import TzerBug

        raise TzerBug(f"a GPU mutation step before a CPU one: {[step.mutator for step in steps]}")
    return host, gpu


def apply_steps(mod: Any, steps: Sequence[MutationStep]) -> Mutated:
    applied: list[MutationStep] = []
    for step in steps:
        result = _apply_step(mod, step)
        if result is None:
            return Mutated(None, tuple(applied))
        mod, step = result
        applied.append(step)
    return Mutated(mod, tuple(applied))


def _apply_step(mod: Any, step: MutationStep) -> tuple[Any, MutationStep] | None:
    if step.trace:
        from tzer.mutate.schedule import replay_trace

        return replay_trace(mod, step.trace), step
    mutator = STEP_MUTATORS.get(step.mutator)
    traced = getattr(mutator, "traced", None)
    for seed in range(step.seed, step.seed + MutationStep.SEED_TRIES):
        if traced is not None:
            result = traced(mod, random.Random(seed))
            if result is not None:
                return result[0], MutationStep(step.mutator, seed, result[1])
        else:
            mutant = mutator(mod, random.Random(seed))
            if mutant is not None:
                return mutant, MutationStep(step.mutator, seed)
    return None
