"""Regression mode: replay every finding against the installed TVM and say of each whether it still reproduces,
is fixed, or changed (another signature, or no longer a valid program).

From a store, a finding's reduced case is checked (tzer.triage.check) where it has one, else its test case is
replayed; both in fork-server children, so a crash is an outcome, not the end of the run. From a directory, each
reproducer script (`tzer repro`, or written by hand to the same convention: exit 1 while the bug reproduces, 0 once
it does not, and an `actual:   changed: ...` line when it fails in another way) runs in its own process.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable

from tzer.execute.sandbox import ForkServer, Limits
from tzer.records import Execution, Signature, Verdict
from tzer.replay import ReplayOutcome
from tzer.store.base import StoredFinding

SCRIPT_SECONDS = 900.0  # a reproducer that runs longer than this is reported as changed (it hung)


@dataclasses.dataclass(frozen=True)
class Regression:
    name: str  # "finding 3" or the reproducer's file name
    was: str  # what it showed when found, in one line
    outcome: ReplayOutcome
    now: str  # what it shows now, in one line
    seconds: float


def describe(signature: Signature) -> str:
    where = f" in {signature.guilty_pass}" if signature.guilty_pass else ""
    return f"{signature.symptom.name.lower()} at {signature.stage.name.lower()}{where}: {signature.detail}"


def outcome_of(expected: Signature, execution: Execution) -> tuple[ReplayOutcome, str]:
    if execution.verdict is Verdict.FINDING:
        assert execution.signature is not None
        if execution.signature == expected:
            return ReplayOutcome.REPRODUCES, describe(execution.signature)
        return ReplayOutcome.CHANGED, describe(execution.signature)
    if execution.verdict is Verdict.INVALID:
        return ReplayOutcome.CHANGED, f"no longer a valid program: {execution.error.splitlines()[0][:160]}"
    return ReplayOutcome.FIXED, "compiles, runs and is right"


def regress_store(findings: Iterable[StoredFinding], limits: Limits = Limits(),
                  on_result: Callable[[Regression], None] = lambda r: None) -> list[Regression]:
    """Replay `findings` in order, grouped by target and kind of case (reduced or not) per fork server."""
    findings = list(findings)
    results: dict[int, Regression] = {}
    for target in sorted({f.target for f in findings}):
        for reduced in (True, False):
            group = [f for f in findings if f.target == target and (f.reduction is not None) == reduced]
            if group:
                for finding, regression in _replay_group(group, target, reduced, limits):
                    results[finding.id] = regression
                    on_result(regression)
    return [results[f.id] for f in findings]


def _replay_group(findings: list[StoredFinding], target: str, reduced: bool, limits: Limits):
    if reduced:
        from tzer.triage.check import ScriptRunner

        runner = ScriptRunner(target)
    else:
        from tzer.runner import Runner

        runner = Runner(target)
    server = ForkServer(runner, jobs=1, limits=limits)
    try:
        for finding in findings:
            start = time.monotonic()
            server.submit(finding.reduction.case if finding.reduction is not None else finding.test_case)
            _, execution = server.next_result()
            outcome, now = outcome_of(finding.signature, execution)
            yield finding, Regression(f"finding {finding.id}", describe(finding.signature), outcome, now,
                                      time.monotonic() - start)
    finally:
        server.close()


def reproducer_scripts(directory: str) -> list[str]:
    return sorted(os.path.join(directory, name) for name in os.listdir(directory)
                  if name.endswith(".py") and not name.startswith("_"))


def regress_scripts(paths: Iterable[str], timeout: float = SCRIPT_SECONDS,
                    on_result: Callable[[Regression], None] = lambda r: None) -> list[Regression]:
    results = []
    for path in paths:
        results.append(_run_script(path, timeout))
        on_result(results[-1])
    return results


def _run_script(path: str, timeout: float) -> Regression:
    name = os.path.basename(path)
    start = time.monotonic()
    # Its own process group, so a reproducer that hangs goes with the child it started.
    process = subprocess.Popen([sys.executable, path], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               start_new_session=True)
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        return Regression(name, _first_docstring_line(path), ReplayOutcome.CHANGED,
                          f"the reproducer ran over {timeout:g}s", time.monotonic() - start)
    done = subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)
    lines = done.stdout.splitlines()
    actual = next((line.split(":", 1)[1].strip() for line in reversed(lines) if line.startswith("actual:")), "")
    if done.returncode == 1:
        outcome = ReplayOutcome.REPRODUCES
    elif done.returncode == 0:
        outcome = ReplayOutcome.CHANGED if actual.startswith("changed") else ReplayOutcome.FIXED
    else:
        outcome = ReplayOutcome.CHANGED
        tail = (done.stderr.strip().splitlines() or [""])[-1]
        actual = f"the reproducer exited with status {done.returncode}: {tail}"
    now = actual or (lines[-1] if lines else "")
    return Regression(name, _first_docstring_line(path), outcome, now, time.monotonic() - start)


def _first_docstring_line(path: str) -> str:
    import ast

    try:
        with open(path) as handle:
            docstring = ast.get_docstring(ast.parse(handle.read())) or ""
    except (OSError, SyntaxError, ValueError):
        return ""
    return docstring.strip().splitlines()[0] if docstring.strip() else ""
