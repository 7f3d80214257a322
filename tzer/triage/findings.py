"""Triage of stored findings: reduce one to its smallest script case, with every check in a fork-server child.

The parent process imports TVM once; its fork server's children check candidates (tzer.triage.check), so a
candidate that crashes or hangs TVM costs one child, never the triage.
"""

from __future__ import annotations

import contextlib
import dataclasses
import sys
from collections.abc import Callable, Iterator

from tzer.execute.sandbox import ForkServer, Limits
from tzer.records import Execution, Symptom, Verdict
from tzer.store.base import Store, StoredFinding
from tzer.triage.case import Reduction, ScriptCase

REDUCE_SECONDS = 300.0  # `tzer reduce`'s default time limit per finding


@contextlib.contextmanager
def checking(target: str, limits: Limits = Limits()) -> Iterator["Checker"]:
    """A checker of script cases for `target`, backed by one warm fork-server child."""
    from tzer.triage.check import ScriptRunner

    server = ForkServer(ScriptRunner(target), jobs=1, limits=limits)
    try:
        yield Checker(server)
    finally:
        server.close()


class Checker:
    """A script case -> its Execution, run in the fork server's child (one at a time: reduction is sequential, so
    its outcome does not depend on which candidate finishes first)."""

    def __init__(self, server: ForkServer):
        self.server = server

    def __call__(self, case: ScriptCase) -> Execution:
        self.server.submit(case)
        _, execution = self.server.next_result()
        return execution


def canonical_script(script: str) -> str:
    """TVM's printing of a script (the form reproducers and reports show)."""
    from tzer.triage.check import parse

    return parse(script).script()


def not_reducible(finding: StoredFinding) -> str | None:
    """Why `finding` is not reduced, or None: a hang or an exhausted memory makes every check of a candidate last
    its time limit (a timeout is retried with longer limits), minutes per check."""
    from tzer.judge.cuda import is_cuda_signature

    if finding.signature.symptom in (Symptom.TIMEOUT, Symptom.OUT_OF_MEMORY):
        return f"a {finding.signature.symptom.name.lower()} is not reduced: every check would run to its limit"
    if is_cuda_signature(finding.signature):
        return "a finding of the CUDA build is not reduced yet: the reducer checks its candidates on llvm"
    return None


@dataclasses.dataclass(frozen=True)
class NotReduced:
    """Why a finding was not reduced: what checking its script case showed instead of its signature."""

    reason: str


def reduce_finding(store: Store, finding: StoredFinding, checker: Checker, time_limit: float = REDUCE_SECONDS,
                   should_stop: Callable[[], bool] = lambda: False) -> Reduction | NotReduced:
    """Reduce `finding` within `time_limit` seconds and keep the result in `store`; NotReduced when none of its
    script cases shows its signature (then nothing is stored)."""
    from tzer.triage.extract import script_cases
    from tzer.triage.reduce import Reducer

    reducer = Reducer(checker, time_limit, canonical=canonical_script, should_stop=should_stop)
    shown = []
    for case in script_cases(finding.test_case, finding.signature):
        reduction = reducer.reduce(case)
        if reduction is not None:
            store.set_reduction(finding.id, reduction)
            return reduction
        if reducer.first is not None:
            shown.append(_shown(reducer.first))
    return NotReduced("its program as TVMScript " + ("; ".join(dict.fromkeys(shown)) or "was not checked in time"))


def _shown(execution: Execution) -> str:
    """What a check showed, as the end of a sentence."""
    if execution.verdict is Verdict.INVALID:
        return f"is invalid ({execution.error})"
    if execution.verdict is Verdict.FINDING:
        signature = execution.signature
        return (f"shows {signature.symptom.name.lower()} at {signature.stage.name.lower()} in "
                f"{signature.guilty_pass or 'no pass'} ({signature.detail})")
    return "passes"


class CampaignTriage:
    """The engine's triage phase: reduce each new finding of the campaign, and write its reproducer (a CUDA build's
    finding is not reduced; its reproducer shows the program as built for CUDA)."""

    def __init__(self, target: str, limits: Limits, seconds_per_finding: float):
        self.target = target
        self.limits = limits
        self.seconds_per_finding = seconds_per_finding

    def __call__(self, store: Store, finding_ids: list[int], should_stop: Callable[[], bool]) -> None:
        from tzer.judge.cuda import is_cuda_signature
        from tzer.report.repro import cuda_reproducer, cuda_unreproducible, reproducer

        reducible = []
        for finding_id in finding_ids:
            finding = store.finding(finding_id)
            assert finding is not None, "the campaign stored it"
            reason = not_reducible(finding)
            if reason is None:
                reducible.append(finding)
                continue
            print(f"tzer: finding {finding_id} not reduced: {reason}", file=sys.stderr)
            if is_cuda_signature(finding.signature) and cuda_unreproducible(finding) is None:
                store.set_reproducer(finding_id, cuda_reproducer(finding))
        if not reducible:
            return
        with checking(self.target, self.limits) as checker:
            for finding in reducible:
                finding_id = finding.id
                if should_stop():
                    return
                reduction = reduce_finding(store, finding, checker, self.seconds_per_finding, should_stop)
                if isinstance(reduction, NotReduced):
                    print(f"tzer: finding {finding_id} not reduced: {reduction.reason}", file=sys.stderr)
                else:
                    store.set_reproducer(finding_id, reproducer(store.finding(finding_id), reduction.case))
