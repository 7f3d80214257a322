"""Triage of stored findings: reduce one to its smallest script case, with every check in a fork-server child.

The parent process imports TVM once; its fork server's children check candidates (tzer.triage.check), so a
candidate that crashes or hangs TVM costs one child, never the triage. A campaign's triage phase reduces its new
findings on all of the campaign's `--jobs`: one reduction is sequential (each check decides the next candidate), so
the findings are shared out among worker processes (spawned, each with its own checker), which store what they
reduce themselves.
"""

from __future__ import annotations

import contextlib
import dataclasses
import signal
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

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


def reduce_and_record(store: Store, finding_id: int, checker: Checker, time_limit: float,
                      should_stop: Callable[[], bool]) -> str | None:
    """Reduce one stored finding and store its reduction and reproducer; a line saying why it was not reduced, or
    None."""
    from tzer.report.repro import reproducer

    finding = store.finding(finding_id)
    assert finding is not None, "the campaign stored it"
    reduction = reduce_finding(store, finding, checker, time_limit, should_stop)
    if isinstance(reduction, NotReduced):
        return f"tzer: finding {finding_id} not reduced: {reduction.reason}"
    store.set_reproducer(finding_id, reproducer(store.finding(finding_id), reduction.case))
    return None


class CampaignTriage:
    """The engine's triage phase: reduce each new finding of the campaign, and write its reproducer (a CUDA build's
    finding is not reduced; its reproducer shows the program as built for CUDA). With `jobs` > 1 and more than one
    finding to reduce, they are reduced `jobs` at a time, each worker process reopening the store at
    `store_location`."""

    def __init__(self, target: str, limits: Limits, seconds_per_finding: float, store_location: str = "",
                 jobs: int = 1):
        self.target = target
        self.limits = limits
        self.seconds_per_finding = seconds_per_finding
        self.store_location = store_location
        self.jobs = jobs

    def __call__(self, store: Store, finding_ids: list[int], should_stop: Callable[[], bool]) -> None:
        from tzer.judge.cuda import is_cuda_signature
        from tzer.report.repro import cuda_reproducer, cuda_unreproducible

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
        ids = [finding.id for finding in reducible]
        if self.jobs > 1 and len(ids) > 1 and self.store_location:
            self._in_workers(ids, should_stop)
            return
        with checking(self.target, self.limits) as checker:
            for finding_id in ids:
                if should_stop():
                    return
                _say(reduce_and_record(store, finding_id, checker, self.seconds_per_finding, should_stop))

    def _in_workers(self, finding_ids: list[int], should_stop: Callable[[], bool]) -> None:
        """Reduce `finding_ids` in `jobs` spawned worker processes; on a stop request, end them (a reduction in
        flight is lost, the stored ones stay)."""
        import multiprocessing

        context = multiprocessing.get_context("spawn")  # a fresh interpreter: never fork a process holding TVM
        pool = context.Pool(min(self.jobs, len(finding_ids)), _start_worker,
                            (self.target, self.limits, self.store_location))
        try:
            pending = [pool.apply_async(_reduce_in_worker, (finding_id, self.seconds_per_finding))
                       for finding_id in finding_ids]
            while pending and not should_stop():
                time.sleep(0.2)
                for result in [r for r in pending if r.ready()]:
                    pending.remove(result)
                    _say(result.get())
        finally:
            pool.terminate()  # the workers' fork-server children die with them (PR_SET_PDEATHSIG)
            pool.join()


def _say(line: str | None) -> None:
    if line:
        print(line, file=sys.stderr)


_WORKER: dict[str, Any] = {}  # a triage worker's store, checker and stop flag


def _start_worker(target: str, limits: Limits, store_location: str) -> None:
    from tzer.store.base import open_store

    signal.signal(signal.SIGINT, lambda *_: _WORKER.update(stop=True))  # the parent decides; finish the check
    stack = contextlib.ExitStack()
    _WORKER.update(stop=False, stack=stack, store=stack.enter_context(open_store(store_location)),
                   checker=stack.enter_context(checking(target, limits)))


def _reduce_in_worker(finding_id: int, time_limit: float) -> str | None:
    return reduce_and_record(_WORKER["store"], finding_id, _WORKER["checker"], time_limit,
                             lambda: bool(_WORKER["stop"]))
