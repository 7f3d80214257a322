"""Replaying a stored finding: rebuild its test case bit for bit, run it again, and say whether it reproduces."""

from __future__ import annotations

import dataclasses
import enum
import random

from tzer.generate import GENERATORS
from tzer.records import Execution, Verdict
from tzer.store.base import StoredFinding


class ReplayOutcome(enum.Enum):
    REPRODUCES = "reproduces"  # same signature
    CHANGED = "changed"  # still a finding, another signature
    FIXED = "does not reproduce"


@dataclasses.dataclass(frozen=True)
class ReplayResult:
    outcome: ReplayOutcome
    execution: Execution
    params_redrawn_equal: bool  # the recorded program seed still draws the recorded params


def replay(finding: StoredFinding, runner) -> ReplayResult:
    test_case = finding.test_case
    redrawn = GENERATORS.get(test_case.generator)(random.Random(test_case.program_seed))
    execution = runner.execute(test_case)
    if execution.verdict is not Verdict.FINDING:
        outcome = ReplayOutcome.FIXED
    elif execution.signature == finding.signature:
        outcome = ReplayOutcome.REPRODUCES
    else:
        outcome = ReplayOutcome.CHANGED
    return ReplayResult(outcome, execution, redrawn == test_case.params)
