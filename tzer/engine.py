"""The campaign engine: one loop in named phases (load corpus -> warm up -> fuzz -> finish) with one budget check.

The engine owns the campaign's `random.Random` (seeded from the config, never global) and its scheduler (the mode:
tzer.scheduling), keeps every slot of its execution backend busy with the scheduler's test cases, tells the
scheduler each outcome and whether it brought new feedback, counts every outcome, stores each finding in its own
transaction and checkpoints totals, timeline, corpus and engine state (rng, scheduler, features seen, coverage)
once per `checkpoint_seconds`, so a resumed campaign carries on where the last checkpoint left it. It stops for
exactly one `StopReason`.

Feedback is native coverage of TVM's own code (tzer.observe.coverage) where a provider is attached: a test case is
new if it was the first to cover more of TVM's points than the noise floor. The warm-up runs the seed corpus
`warm_up_passes` times; the repeats change nothing in the program, so what they still cover is noise, and the floor
is a high quantile of it.
Without native coverage the pass-effect features decide. With `coverage_feedback` off (the ablations' rows without
feedback) nothing decides: every valid case counts as new and joins the pool, as in Tzer's own ablation
(`cov_increase > 0 or not use_coverage_feedback`), so the row measures guidance against none at all.
"""

from __future__ import annotations

import collections
import dataclasses
import enum
import random
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from tzer.config import FuzzConfig
from tzer.observe import FeatureMap
from tzer.observe.coverage import CoverageProvider, NoCoverage, pack_points, unpack_points
from tzer.records import CampaignStats, Execution, Finding, TestCase, Verdict
from tzer.scheduling import SCHEDULERS
from tzer.store.base import CampaignRecord, Store


DEFAULT_NOISE_FLOOR = 20  # new points a case must exceed when no calibration ran (measured noise: a few to ~50)
NOISE_QUANTILE = 0.9  # the floor: this quantile of the new points per case in the last warm-up pass
COVERAGE_SNAPSHOT_SECONDS = 30.0  # how often the covered points go into the checkpointed engine state


class StopReason(enum.Enum):
    TIME_BUDGET = "time budget reached"
    ITERATION_BUDGET = "iteration budget reached"
    INTERRUPTED = "interrupted"
    ERROR = "stopped by an error"  # the error itself is raised after the campaign's totals are stored


class Phase(enum.Enum):
    LOAD_CORPUS = "load corpus"
    WARM_UP = "warm up"
    FUZZ = "fuzz"
    TRIAGE = "triage"  # reduce the campaign's new findings (after a budget stop; not after Ctrl-C or an error)
    FINISH = "finish"


@dataclasses.dataclass(frozen=True)
class LastFinding:
    finding_id: int
    new: bool
    summary: str


@dataclasses.dataclass(frozen=True)
class Progress:
    """What the live view shows; a snapshot, published after every execution."""

    campaign_id: int
    phase: Phase
    stats: CampaignStats
    by_symptom: tuple[tuple[str, int], ...]
    last_finding: LastFinding | None
    seed: int
    workers: tuple[Any, ...] = ()  # the backend's WorkerStates


@dataclasses.dataclass(frozen=True)
class CampaignResult:
    campaign_id: int
    stop_reason: StopReason
    stats: CampaignStats
    phase_seconds: tuple[tuple[str, float], ...]
    by_symptom: tuple[tuple[str, int], ...]


class Engine:
    def __init__(self, config: FuzzConfig, store: Store, backend: Any, seeds: Sequence[TestCase] = (),
                 on_progress: Callable[[Progress], None] | None = None, resumed: CampaignRecord | None = None,
                 triage: Callable[[Store, list[int], Callable[[], bool]], None] | None = None):
        """`backend` runs test cases (tzer.execute.backends); `seeds`: the corpus, loaded (and so validated) by the
        caller before any store is touched; `resumed`: the stored campaign to continue (`--resume`), whose config
        the caller has already merged into `config`; `triage(store, new finding ids, should_stop)`: the triage
        phase (tzer.triage.findings.CampaignTriage), or None to skip it."""
        self.config = config
        self.resumed = resumed
        self.store = store
        self.backend = backend
        self.seeds = tuple(seeds)
        self.rng = random.Random(config.seed)
        self.scheduler = SCHEDULERS.get(config.mode)(config, self.rng)
        self.features = FeatureMap()
        self.coverage: CoverageProvider = getattr(getattr(backend, "runner", None), "coverage", None) or NoCoverage()
        self.noise_floor = DEFAULT_NOISE_FLOOR
        self._noise_samples: list[int] | None = None  # new points per case in a calibration pass
        self._coverage_snapshot: dict[str, Any] | None = None
        self._coverage_snapshot_at = -COVERAGE_SNAPSHOT_SECONDS
        self._on_progress = on_progress or (lambda progress: None)
        self._stop_requested = False
        self._triage = triage
        self._new_finding_ids: list[int] = []
        self._fuzzing_ended: float | None = None
        self._pending: list[TestCase] = []
        self._by_symptom: collections.Counter[str] = collections.Counter()
        self._last_finding: LastFinding | None = None
        self._phase = Phase.LOAD_CORPUS
        self._stats = CampaignStats()
        self._started = 0.0
        self._elapsed_before = 0.0  # a resumed campaign's time so far
        self._executions_before = 0  # and its executions: budgets count this invocation's work
        self._last_checkpoint = 0.0
        self.campaign_id = -1

    @property
    def stop_requested(self) -> bool:
        return self._stop_requested

    def request_stop(self) -> None:
        """Finish the test cases in flight, then stop (the first Ctrl-C)."""
        self._stop_requested = True

    # Phases

    def run(self) -> CampaignResult:
        self._begin()
        phase_seconds: list[tuple[str, float]] = []
        stop_reason = StopReason.INTERRUPTED
        try:
            corpus = self._timed(phase_seconds, Phase.LOAD_CORPUS, self._load_corpus)
            stop_reason = self._timed(phase_seconds, Phase.WARM_UP, lambda: self._warm_up(corpus))
            if stop_reason is None:
                stop_reason = self._timed(phase_seconds, Phase.FUZZ, lambda: self._drive(self._draw_forever()))
            if self._triage is not None and self._new_finding_ids and stop_reason in (
                    StopReason.TIME_BUDGET, StopReason.ITERATION_BUDGET):
                self.backend.close()  # its workers' memory goes back before the triage's own worker starts
                self._fuzzing_ended = self._elapsed()  # the campaign's time and rates are its fuzzing's
                self._timed(phase_seconds, Phase.TRIAGE, self._run_triage)
        except KeyboardInterrupt:
            stop_reason = StopReason.INTERRUPTED
        except BaseException:
            stop_reason = StopReason.ERROR
            raise
        finally:
            self.backend.close()
            self._timed(phase_seconds, Phase.FINISH, lambda: self._finish(stop_reason))
        return CampaignResult(self.campaign_id, stop_reason, self._stats, tuple(phase_seconds),
                              tuple(sorted(self._by_symptom.items())))

    def _begin(self) -> None:
        config = self.config
        campaign = self.resumed
        if campaign is not None:
            self.campaign_id = campaign.id
            self._stats = campaign.stats
            self._elapsed_before = campaign.stats.elapsed
            self._executions_before = campaign.stats.executions
            if campaign.engine_state is not None:
                self._restore(campaign.engine_state)
            self.store.reopen_campaign(campaign.id)
        else:
            self.campaign_id = self.store.begin_campaign(
                config.seed, config.target, config.mode, self.backend.runner.tvm_version, config.to_json())
        self._started = self._last_checkpoint = time.monotonic()

    def _timed(self, log: list[tuple[str, float]], phase: Phase, body: Callable[[], Any]) -> Any:
        self._phase = phase
        start = time.monotonic()
        try:
            return body()
        finally:
            log.append((phase.value, time.monotonic() - start))

    def _load_corpus(self) -> list[TestCase]:
        """Retarget the seeds to this campaign's target and record them in the store's corpus. A resumed campaign
        ran its seeds already."""
        if self.resumed is not None:
            return []
        corpus = [dataclasses.replace(tc, target=self.config.target) for tc in self.seeds]
        self.store.checkpoint(self.campaign_id, self._stats, corpus, self._engine_state())
        return corpus

    def _warm_up(self, corpus: list[TestCase]) -> StopReason | None:
        """Run the corpus; then, with native coverage, again (`warm_up_passes` in all) to calibrate the noise
        floor. The repeats are real executions (counted, findings stored) that teach the scheduler nothing."""
        stop = self._drive(iter(corpus))
        if not corpus or not self.coverage.points:
            return stop
        for _ in range(self.config.warm_up_passes - 1):
            if stop is not None:
                return stop
            self._noise_samples = []
            stop = self._drive(iter(corpus))
        if self._noise_samples:
            samples = sorted(self._noise_samples)
            self.noise_floor = samples[min(len(samples) - 1, int(NOISE_QUANTILE * len(samples)))]
        self._noise_samples = None
        return stop

    def _draw_forever(self) -> Iterator[TestCase]:
        while True:
            yield self.scheduler.next_test_case()

    def _drive(self, test_cases: Iterator[TestCase]) -> StopReason | None:
        """Keep every backend slot busy with `test_cases` until they run out (None) or the budget says stop; then
        take back what is in flight."""
        stop: StopReason | None = None
        exhausted = False
        while True:
            stop = self._should_stop()
            while stop is None and not exhausted and self.backend.in_flight() < self.backend.slots:
                test_case = next(test_cases, None)
                if test_case is None:
                    exhausted = True
                else:
                    self.backend.submit(test_case)
                    stop = self._should_stop()
            if self.backend.in_flight() == 0:
                return stop
            self._account(*self.backend.next_result())

    def _run_triage(self) -> None:
        self._publish()
        self._triage(self.store, list(self._new_finding_ids), lambda: self._stop_requested)

    def _finish(self, stop_reason: StopReason) -> None:
        elapsed = self._fuzzing_ended if self._fuzzing_ended is not None else self._elapsed()
        self._stats = dataclasses.replace(self._stats, elapsed=elapsed)
        self.store.checkpoint(self.campaign_id, self._stats, self._take_pending(), self._engine_state(final=True))
        self.store.end_campaign(self.campaign_id, self._stats, stop_reason.name.lower())
        self._publish()

    # The one budget check

    def _should_stop(self) -> StopReason | None:
        """Whether to submit no more test cases. Budgets count this invocation's work (a resumed campaign's earlier
        work does not use them up); test cases in flight count against the iteration budget."""
        if self._stop_requested:
            return StopReason.INTERRUPTED
        iterations = self.config.iterations
        executed = self._stats.executions - self._executions_before + self.backend.in_flight()
        if iterations is not None and executed >= iterations:
            return StopReason.ITERATION_BUDGET
        if self.config.time_budget is not None and self._elapsed() - self._elapsed_before >= self.config.time_budget:
            return StopReason.TIME_BUDGET
        return None

    # One test case's outcome

    def _account(self, test_case: TestCase, execution: Execution) -> None:
        stats = self._stats
        invalid = stats.invalid + int(execution.verdict is Verdict.INVALID)
        found = execution.verdict is Verdict.FINDING
        new_findings = stats.new_findings
        if found:
            # Stored with its steps as applied (the seeds that found sites, the schedule traces).
            applied = dataclasses.replace(test_case, mutations=execution.applied) if execution.applied else test_case
            finding = Finding(applied, execution)
            finding_id, new = self.store.record_finding(self.campaign_id, finding)
            new_findings += int(new)
            if new:
                self._new_finding_ids.append(finding_id)
            self._by_symptom[finding.signature.symptom.name.lower()] += 1
            self._last_finding = LastFinding(finding_id, new, _summary(finding))
        new_features = self.features.add(execution.features) if execution.verdict is not Verdict.INVALID else 0
        if self._noise_samples is not None:  # a calibration pass
            self._noise_samples.append(execution.new_coverage_tvm)
        else:
            kept = self.scheduler.observe(test_case, execution, self._feedback(execution, new_features))
            if kept is not None:
                self._pending.append(kept)
        self._stats = dataclasses.replace(
            stats, elapsed=self._elapsed(), executions=stats.executions + 1, invalid=invalid,
            findings=stats.findings + int(found), new_findings=new_findings, coverage=len(self.features),
            mutators=self.scheduler.mutator_stats(),
            native_coverage=self.coverage.total() if self.coverage.points else None,
            coverage_tvm=self.coverage.total_own() if self.coverage.points else None,
            pass_firings=_count_firings(stats.pass_firings, execution.features),
            nvcc_checked=stats.nvcc_checked + int(execution.nvcc_accepted is not None),
            nvcc_accepted=stats.nvcc_accepted + int(bool(execution.nvcc_accepted)),
            gpu_runs=stats.gpu_runs + int(execution.gpu_ran))
        if time.monotonic() - self._last_checkpoint >= self.config.checkpoint_seconds:
            self.store.checkpoint(self.campaign_id, self._stats, self._take_pending(), self._engine_state())
            self._last_checkpoint = time.monotonic()
        self._publish()

    def _feedback(self, execution: Execution, new_features: int) -> int:
        """What a case brought that the scheduler counts as new (> 0: it joins the pool): the points of TVM's own code
        it was first to cover beyond the noise floor; without native coverage its new pass-effect features; without
        feedback (ablations) 1 for every valid case."""
        if not self.config.coverage_feedback:
            return int(execution.verdict is Verdict.PASS)
        if self.coverage.points:
            return execution.new_coverage_tvm if execution.new_coverage_tvm > self.noise_floor else 0
        return new_features

    def _take_pending(self) -> list[TestCase]:
        pending, self._pending = self._pending, []
        return pending

    def _engine_state(self, final: bool = False) -> dict[str, Any]:
        version, internal, gauss = self.rng.getstate()
        state = {"rng": [version, list(internal), gauss], "scheduler": self.scheduler.state(),
                 "features": self.features.to_json(), "noise_floor": self.noise_floor}
        if self.coverage.points:
            now = time.monotonic()
            if final or now - self._coverage_snapshot_at >= COVERAGE_SNAPSHOT_SECONDS:
                self._coverage_snapshot = {"identity": self.coverage.identity,
                                           "points": pack_points(self.coverage.covered())}
                self._coverage_snapshot_at = now
            state["coverage"] = self._coverage_snapshot
        return state

    def _restore(self, state: dict[str, Any] | list) -> None:
        if isinstance(state, list):  # stores before the scheduler kept only the rng state
            state = {"rng": state}
        self.rng.setstate(_rng_state_from_json(state["rng"]))
        if "scheduler" in state:
            self.scheduler.restore(state["scheduler"])
        self.features = FeatureMap(state.get("features", ()))
        self.noise_floor = int(state.get("noise_floor", DEFAULT_NOISE_FLOOR))
        snapshot = state.get("coverage")
        if snapshot and self.coverage.points and snapshot["identity"] == self.coverage.identity:
            self.coverage.restore(unpack_points(snapshot["points"]))  # before any worker is forked

    def _elapsed(self) -> float:
        return self._elapsed_before + time.monotonic() - self._started

    def _publish(self) -> None:
        self._on_progress(Progress(self.campaign_id, self._phase, self._stats,
                                   tuple(sorted(self._by_symptom.items())), self._last_finding, self.config.seed,
                                   tuple(self.backend.states())))


def _rng_state_from_json(state: list) -> tuple:
    version, internal, gauss = state
    return version, tuple(internal), gauss


def _count_firings(firings: tuple[tuple[str, int, int], ...],
                   features: tuple[str, ...]) -> tuple[tuple[str, int, int], ...]:
    """`firings` (pass, cases it changed the IR in, cases it ran in) with one more case's pass-effect features
    (`pass:NAME:changed` or `pass:NAME:same`; tzer.observe.pass_effects) counted in."""
    effects = [feature[len("pass:"):].rsplit(":", 1) for feature in features if feature.startswith("pass:")]
    if not effects:
        return firings
    counts = {name: [fired, ran] for name, fired, ran in firings}
    for name, effect in effects:
        count = counts.setdefault(name, [0, 0])
        count[0] += effect == "changed"
        count[1] += 1
    return tuple(sorted((name, fired, ran) for name, (fired, ran) in counts.items()))


def _summary(finding: Finding) -> str:
    signature = finding.signature
    return (f"{signature.symptom.name.lower()} at {signature.stage.name.lower()} in {finding.test_case.generator}: "
            f"{signature.detail}")[:160]
