"""Per-input coverage ("full mode"): the native points each test case covers on its own, and corpus minimisation.

Each test case runs in a child forked from this process, which is instrumented and warmed up and never syncs: every
child starts from the same state, and its trace is everything it ran beyond what this process had covered when it
forked (the warm-up's points, common to all inputs, are the baseline). A test case that kills its child gets no
coverage and is reported as such; the child's death never reaches this process.

Function coverage is read off the blocks: a function is covered when its entry block is (function entries are
nearly deterministic; blocks less so: block sets of the same input differ slightly from run to run).
"""

from __future__ import annotations

import dataclasses
import os
import signal
import traceback
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from tzer.errors import TzerBug
from tzer.records import TestCase

CHILD_SECONDS = 300  # a test case still running after this is killed (it gets no coverage)
TZER_BUG = b"tzer-bug"  # the child's report when the runner raised: tzer's bug, raised here, never swallowed


@dataclasses.dataclass(frozen=True)
class InputCoverage:
    test_case: TestCase
    points: np.ndarray  # sorted point indices beyond the baseline (over several runs: those every run covered)
    outcome: str  # the verdict ("pass", "finding", "invalid"), or how the child died
    variation: int = 0  # over several runs: points some runs covered and others did not

    @property
    def measured(self) -> bool:
        return self.outcome in ("pass", "finding", "invalid")


def measure_one(test_case: TestCase, runner: Any) -> InputCoverage:
    """The coverage of one test case, run alone in a fresh fork of this process."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child never returns from here
        status = 70
        try:
            os.close(read)
            signal.alarm(CHILD_SECONDS)
            runner.coverage.reset_trace()
            try:
                execution = runner.execute(test_case)
                payload = execution.verdict.name.lower().encode().ljust(16) + runner.coverage.trace().tobytes()
            except Exception:  # a tzer bug: the parent raises it
                payload = TZER_BUG.ljust(16) + traceback.format_exc().encode()
            view = memoryview(payload)
            while view:
                view = view[os.write(write, view):]
            status = 0
        finally:
            os._exit(status)
    os.close(write)
    chunks = []
    while chunk := os.read(read, 1 << 20):
        chunks.append(chunk)
    os.close(read)
    _, status = os.waitpid(pid, 0)
    data = b"".join(chunks)
    if os.WIFSIGNALED(status):
        return InputCoverage(test_case, np.empty(0, np.uint32), f"killed by {signal.Signals(os.WTERMSIG(status)).name}")
    if data[:16].strip() == TZER_BUG:
        raise TzerBug(f"measuring the coverage of a {test_case.generator} test case: {data[16:].decode()}")
    if os.WEXITSTATUS(status) != 0 or len(data) < 16:
        return InputCoverage(test_case, np.empty(0, np.uint32), f"exit {os.WEXITSTATUS(status)}")
    return InputCoverage(test_case, np.frombuffer(data[16:], dtype=np.uint32).copy(), data[:16].decode().strip())


def union(measured: Iterable[InputCoverage]) -> np.ndarray:
    parts = [m.points for m in measured]
    return np.unique(np.concatenate(parts)) if parts else np.empty(0, np.uint32)


def covered_functions(points: np.ndarray, provider: Any) -> np.ndarray:
    """The functions whose entry point is among `points`."""
    points = np.asarray(points, dtype=np.int64)
    functions = provider.functions_of(points)
    entries = provider.entry_points()
    return np.unique(functions[np.isin(points, entries)])


def minimize(measured: Sequence[InputCoverage], provider: Any, noise: int = 0) -> list[InputCoverage]:
    """A small subset with the same function coverage and nearly the same block coverage: greedy set cover
    (repeatedly the input that adds most points; ties go to the earlier input) while an input adds more than `noise`
    points, then whatever input still adds a function. Inputs that got no coverage (their child died) are all kept:
    nothing is known of them."""
    chosen = [m for m in measured if not m.measured]
    candidates = [m for m in measured if m.measured and len(m.points)]
    everything = union(candidates)
    uncovered = np.ones(len(everything), dtype=bool)
    positions = [np.searchsorted(everything, m.points) for m in candidates]
    entries = np.isin(everything, provider.entry_points())

    def take(best: int) -> None:
        chosen.append(candidates[best])
        uncovered[positions[best]] = False
        del candidates[best], positions[best]

    for counted in (np.ones_like(entries), entries):  # points, then functions
        floor = noise if counted is not entries else 0
        while candidates:
            gains = [int((uncovered[p] & counted[p]).sum()) for p in positions]
            best = max(range(len(candidates)), key=lambda i: (gains[i], -i))
            if gains[best] <= floor:
                break
            take(best)
    return chosen


@dataclasses.dataclass(frozen=True)
class CorpusCoverage:
    """What a corpus covers, input by input, over the baseline the measuring process had covered."""

    provider: Any
    measured: list[InputCoverage]
    baseline: np.ndarray  # points covered before any input ran (import and warm-up)

    @property
    def noise(self) -> int:
        """How many points an input's coverage typically varies by from run to run (half the median symmetric
        difference; 0 from a single run): an input adding no more than this may be adding noise only."""
        variations = sorted(m.variation for m in self.measured if m.measured)
        return variations[len(variations) // 2] // 2 if variations else 0

    @property
    def points(self) -> np.ndarray:
        return union(self.measured)

    def summary(self, points: np.ndarray | None = None) -> dict[str, Any]:
        points = self.points if points is None else points
        return {"coverage": self.provider.name, "points": self.provider.points, "baseline": len(self.baseline),
                "covered": len(points), "functions": len(covered_functions(points, self.provider))}


def measure_corpus(test_cases: Sequence[TestCase], coverage: str = "native-bb", runs: int = 1,
                   progress: bool = True) -> CorpusCoverage:
    """Attach `coverage` to TVM in this process, warm up, and measure each test case on its own, `runs` times
    (keeping the points every run covered). Raises NativeCoverageUnavailable (a one-line user error) where native
    coverage cannot work."""
    from tzer.observe.coverage import COVERAGE, NativeCoverage
    from tzer.observe.native import NativeCoverageUnavailable, progress_bar
    from tzer.runner import Runner

    provider = COVERAGE.get(coverage)(progress)
    if not isinstance(provider, NativeCoverage):
        raise NativeCoverageUnavailable(f"per-input coverage needs a native provider, not {coverage!r}")
    provider.attach()
    runners = {target: Runner(target, coverage=provider) for target in sorted({tc.target for tc in test_cases})}
    for runner in runners.values():
        runner.warm_up()
    baseline = provider.covered()
    measured = []
    with progress_bar(progress, "measuring each input's coverage", runs * len(test_cases)) as advance:
        for test_case in test_cases:
            repeats = []
            for _ in range(runs):
                repeats.append(measure_one(test_case, runners[test_case.target]))
                advance()
            measured.append(_combine(repeats))
    return CorpusCoverage(provider, measured, baseline)


def _combine(repeats: list[InputCoverage]) -> InputCoverage:
    """Several runs of one input as one: the points all of them covered (a run whose child died voids it)."""
    failed = next((r for r in repeats if not r.measured), None)
    if failed is not None:
        return failed
    every, some = repeats[0].points, repeats[0].points
    for other in repeats[1:]:
        every, some = np.intersect1d(every, other.points), np.union1d(some, other.points)
    return dataclasses.replace(repeats[0], points=every, variation=len(some) - len(every))
