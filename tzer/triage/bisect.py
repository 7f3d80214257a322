"""Pass bisection: the smallest set of a pipeline's passes, beyond the minimal lowering, whose presence makes a
program's result wrong. The first of them in pipeline order is a mismatch's guilty pass (its signature's).

The minimal lowering (tzer.execute.pipeline.MINIMAL_PIPELINE) is what every pipeline keeps; VectorizeLoop, which it
lacks, is a candidate like any other pass: without it, vectorized loops are lowered as serial ones
(`VectorizeLoop(False)`), so a schedule's vectorize annotation still compiles. The predicate `wrong` compiles and
judges one pipeline; a pipeline that fails to compile is not wrong (that would be another bug).
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable

from tzer.execute.pipeline import MINIMAL_PIPELINE
from tzer.triage.ddmin import ddmin

VECTORIZE = "tirx.VectorizeLoop:True"
SERIAL_VECTORIZE = "tirx.VectorizeLoop:False"
BISECTION_BUDGET = 48  # compiles; a mismatch's bisection typically takes 10-20


class Blame(enum.Enum):
    PASSES = "passes"  # these passes make it wrong
    NOT_THE_PASSES = "not the passes"  # wrong without any of them: the program itself, or the minimal lowering
    NOT_REPRODUCED = "not reproduced"  # right under the explicit pipeline: nothing to bisect


@dataclasses.dataclass(frozen=True)
class Bisection:
    blame: Blame
    guilty: tuple[str, ...] = ()  # in pipeline order
    tests: int = 0
    minimal: bool = True  # False when the budget ran out: `guilty` is wrong, but maybe not the smallest such set

    @property
    def guilty_pass(self) -> str:
        return self.guilty[0] if self.guilty else ""


def optional_passes(pipeline: tuple[str, ...]) -> tuple[str, ...]:
    """The passes of `pipeline` beyond the minimal lowering (a serial VectorizeLoop, which stands in for a dropped
    one, belongs to the base)."""
    return tuple(name for name in pipeline if name not in MINIMAL_PIPELINE and name != SERIAL_VECTORIZE)


def keeping(pipeline: tuple[str, ...], kept: tuple[str, ...]) -> tuple[str, ...]:
    """`pipeline` with only the minimal lowering's passes and `kept`, in its order."""
    result = []
    for name in pipeline:
        if name in MINIMAL_PIPELINE or name == SERIAL_VECTORIZE or name in kept:
            result.append(name)
        elif name == VECTORIZE:
            result.append(SERIAL_VECTORIZE)
    return tuple(result)


def bisect_passes(pipeline: tuple[str, ...], wrong: Callable[[tuple[str, ...]], bool],
                  budget: int = BISECTION_BUDGET, known_wrong: bool = False) -> Bisection:
    """Which optional passes of `pipeline` make `wrong` true. `wrong(pipeline)` is tested first, unless the caller
    knows it already (`known_wrong`)."""
    answers: dict[tuple[str, ...], bool] = {pipeline: True} if known_wrong else {}

    def wrong_keeping(kept: tuple[str, ...]) -> bool:
        candidate = keeping(pipeline, kept)
        if candidate not in answers:
            answers[candidate] = bool(wrong(candidate))
        return answers[candidate]

    candidates = optional_passes(pipeline)
    if not wrong_keeping(candidates):
        return Bisection(Blame.NOT_REPRODUCED, tests=len(answers))
    if wrong_keeping(()):
        return Bisection(Blame.NOT_THE_PASSES, tests=len(answers))
    result = ddmin(candidates, wrong_keeping, budget=budget)
    return Bisection(Blame.PASSES, result.items, len(answers), result.minimal)
