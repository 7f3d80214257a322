"""Reduction: a smallest script case that still shows a finding's signature.

Phases, each kept only where the signature holds: the pass sequence (delta debugging over the passes beyond the
minimal lowering, tzer.triage.bisect; then the PassContext's settings back to defaults), then the program
(the TVMScript edits of tzer.triage.script_edits, one candidate at a time in their fixed order, until none applies),
then the printed form (TVM's own printing of the result). Every candidate is checked in a fork-server child
(it may crash or hang TVM), so the outcome depends only on the case and TVM: the same finding always reduces to the
same script. A time limit stops the search early; what was reduced by then is kept.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable

from tzer.records import Execution, PassConfig, Verdict
from tzer.triage.bisect import keeping, optional_passes
from tzer.triage.case import Reduction, ScriptCase
from tzer.triage.ddmin import ddmin
from tzer.triage.script_edits import EDITS, END


class _OutOfTime(Exception):
    pass


class Reducer:
    """Reduces script cases, checking candidates with `check` (a case -> its Execution, run in isolation)."""

    def __init__(self, check: Callable[[ScriptCase], Execution], time_limit: float,
                 canonical: Callable[[str], str] = lambda script: script,
                 clock: Callable[[], float] = time.monotonic, should_stop: Callable[[], bool] = lambda: False):
        """`canonical`: the printed form of a script (TVM's parse and print), tried last; `should_stop`: asked
        before each check (a campaign's Ctrl-C), like the time limit."""
        self.check = check
        self.should_stop = should_stop
        self.time_limit = time_limit
        self.canonical = canonical
        self.clock = clock
        self.checks = 0
        self.first: Execution | None = None  # the last reduce()'s check of its case as given
        self._deadline = 0.0

    def _check(self, case: ScriptCase) -> Execution:
        if self.clock() > self._deadline or self.should_stop():
            raise _OutOfTime
        self.checks += 1
        return self.check(case)

    def shows_signature(self, case: ScriptCase) -> bool:
        execution = self._check(case)
        return execution.verdict is Verdict.FINDING and execution.signature == case.signature

    def reduce(self, case: ScriptCase) -> Reduction | None:
        """The reduced case, or None when `case` does not show its signature to begin with."""
        start = self.clock()
        self._deadline = start + self.time_limit
        self.checks = 0
        best = case
        complete = False
        self.first = None
        try:
            first = self.first = self._check(case)
            if first.verdict is not Verdict.FINDING or first.signature != case.signature:
                return None
            best = self._reduce_passes(best, first.blame or (case.signature.guilty_pass,))
            best = self._reduce_program(best)
            best = self._print_canonically(best)
            complete = True
        except _OutOfTime:
            pass
        return Reduction(best, self._printed_lines(case), self.checks, self.clock() - start, complete,
                         self._printed_lines(best))

    def _reduce_passes(self, case: ScriptCase, blamed: tuple[str, ...]) -> ScriptCase:
        """Delta debugging over the optional passes; first over the blamed ones alone (bisection's set, or the
        pass an error names), which usually is the answer, for a handful of checks instead of dozens."""
        pipeline = case.passes.pipeline
        assert pipeline is not None, "a script case's pipeline is explicit"

        def with_passes(kept: tuple[str, ...]) -> ScriptCase:
            return dataclasses.replace(case, passes=dataclasses.replace(case.passes,
                                                                        pipeline=keeping(pipeline, kept)))

        candidates = optional_passes(pipeline)
        hint = tuple(name for name in candidates if name in blamed)
        if hint != candidates and self.shows_signature(with_passes(hint)):
            candidates = hint
        best = with_passes(ddmin(candidates, lambda kept: self.shows_signature(with_passes(kept))).items)
        plain = dataclasses.replace(best, passes=PassConfig(pipeline=best.passes.pipeline))
        return plain if plain != best and self.shows_signature(plain) else best

    def _reduce_program(self, case: ScriptCase) -> ScriptCase:
        changed = case.is_tvmscript  # the edits work on TVMScript, not on TVM's JSON
        while changed:
            changed = False
            for edit in EDITS.values():
                reduced = self._apply_edit(case, edit)
                changed |= reduced is not case
                case = reduced
        return case

    def _apply_edit(self, case: ScriptCase, edit) -> ScriptCase:
        """Try the edit's candidates in order; after a success, the next candidate has the same number (the
        numbering shifts), so one sweep tries each site once."""
        number = 0
        while True:
            script = edit(case.script, number)
            if script is END:
                return case
            candidate = dataclasses.replace(case, script=script)
            if script != case.script and self.shows_signature(candidate):
                case = candidate
            else:
                number += 1

    def _printed_lines(self, case: ScriptCase) -> int:
        """Lines of the case as TVM prints it: reduced and original are measured alike."""
        try:
            return dataclasses.replace(case, script=self.canonical(case.script)).lines
        except Exception:  # TVM's printer or parser refuses the text: count it as it is
            return case.lines

    def _print_canonically(self, case: ScriptCase) -> ScriptCase:
        if not case.is_tvmscript:  # TVM's JSON stands for a module whose TVMScript does not parse back
            return case
        try:
            script = self.canonical(case.script)
        except Exception:  # TVM's printer or parser refuses the text: keep the reduced text as it is
            return case
        candidate = dataclasses.replace(case, script=script)
        return candidate if script != case.script and self.shows_signature(candidate) else case
