"""Scheduling: where the engine's next test case comes from, one scheduler per mode, and what outcomes teach it.

- generate: fresh programs from the generators, nothing else (the baseline of the ablations).
- ir: a seed pool of (program, pass sequence) entries; each test case is an entry with one more IR mutation (a
  general mutator, a structural wrapper or a schedule primitive; tzer.mutate; for a CUDA target, a GPU schedule
  mutator too: GPU steps stay a suffix of the steps, and a program mutation drops them, to be drawn anew).
- pass: the same pool; each test case is an entry with a mutated pass sequence or PassContext config
  (tzer.mutate.passes).
- interleaved: IR mutation, and a pass mutation at random one try in `n_max + 1` (for the ablation).
- joint (Tzer, OOPSLA 2022): an entry is mutated in IR until `n_max` tries in a row bring no new feedback, then it
  gets one pass mutation of its program as it is, and IR mutation goes on (Tzer's `n_ir_cont_fail`, with one pass
  try: `__MAX_PASS_FAIL__ = 1`). With nothing new at all, one try in `n_max + 1` is a pass mutation. An entry
  that reaches `n_max` fails gets its pass try next, ahead of the energy draw: energy decides how often an entry's
  cycles run, not whether a cycle that ran its IR tries ends (drawn by energy alone, entries whose tries had worn
  their energy down waited for their pass try while young entries took IR tries: 14.6% of a 20-minute campaign's
  mutant tries were pass mutations, against the schedule's ceiling of 20%; with the rule, 15.3%).
A test case that brings new feedback (tzer.observe) joins the pool; one made by a pass mutation joins it with its
pass sequence shrunk to the passes that covered new points of TVM's own code (Tzer's shrink;
tzer.mutate.passes.shrink_pipeline). Fresh programs keep arriving at `FRESH_RATE`.
Pool entries are chosen by energy (`PoolEntry.energy`), a power schedule after AFL++'s: more for entries that
covered more of TVM's code when they joined and compile faster (AFL++'s `calculate_score`), for entries whose
mutants joined the pool, less the more often an entry was mutated without that (AFL++'s `fast` schedule; libFuzzer
likewise weighs inputs by their mutants' successes). When the pool is full, the entry with the least energy leaves.
Mutators are drawn with weights that favour those whose mutants were valid and new (per-mutator statistics, which
`tzer stats` reports). All choices come from the engine's `random.Random`; the pool and the statistics are part of
the engine's checkpointed state, so a resumed campaign goes on where it stopped.

To add a mode: subclass `Scheduler`, override `_mutate`, and register it in `SCHEDULERS`.
"""

from __future__ import annotations

import collections
import dataclasses
import random
from typing import Any

from tzer.execute.targets import uses_gpu
from tzer.mutate.passes import is_pass_mutator
from tzer.records import Execution, Invalidity, MutationStep, MutatorStats, TestCase, Verdict
from tzer.registry import Registry

FRESH_RATE = 0.1  # share of test cases that are fresh programs, once the pool has entries
MIN_POOL = 8  # below this many entries, every valid fresh program joins the pool, new feedback or not
MAX_POOL = 256  # beyond it, the entry with the least energy leaves
MAX_STEPS = 12  # an entry with this many mutation steps gets no more IR mutation
MISORDER_RATE = 0.05  # share of pass mutations that put a pass where it is not supported
DEFAULT_N_MAX = 4
ENERGY_DECAY_TRIES = 4.0  # an entry mutated this many times without success has half its energy


@dataclasses.dataclass
class PoolEntry:
    test_case: TestCase
    fails: int = 0  # IR mutations in a row that brought nothing new
    novelty: int = 0  # points of TVM's own code it was first to cover when it joined
    seconds: float = 0.0  # its compile and run time
    tries: int = 0  # test cases made from it
    successes: int = 0  # of those, the ones that joined the pool

    def energy(self, mean_novelty: float, mean_seconds: float) -> float:
        """How often to choose this entry, relative to the others (see the module docstring)."""
        coverage = _clamp((self.novelty + 1) / (mean_novelty + 1), 0.25, 4.0)
        speed = _clamp((mean_seconds + 0.01) / (self.seconds + 0.01), 0.25, 4.0)
        return coverage * speed * (1 + self.successes) / (1 + self.tries / ENERGY_DECAY_TRIES)

    def to_json(self) -> dict[str, Any]:
        return {"test_case": self.test_case.to_json(), "fails": self.fails, "novelty": self.novelty,
                "seconds": self.seconds, "tries": self.tries, "successes": self.successes}

    @classmethod
    def from_json(cls, data: dict[str, Any] | list) -> "PoolEntry":
        if isinstance(data, list):  # states before energies: [id, test case, fails]
            return cls(TestCase.from_json(data[1]), int(data[2]))
        return cls(TestCase.from_json(data["test_case"]), int(data["fails"]), int(data["novelty"]),
                   float(data["seconds"]), int(data["tries"]), int(data["successes"]))


def _clamp(value: float, low: float, high: float) -> float:
    return min(high, max(low, value))


@dataclasses.dataclass(frozen=True)
class Origin:
    entry_id: int | None  # the pool entry mutated; None for a fresh program or a corpus seed
    mutator: str | None  # None for a fresh program


class Scheduler:
    def __init__(self, config: Any, rng: random.Random):
        self.config = config
        self.rng = rng
        self.pool: dict[int, PoolEntry] = {}
        self._next_id = 0
        self._stats: dict[str, MutatorStats] = {}
        self._origins: dict[str, collections.deque[Origin]] = collections.defaultdict(collections.deque)
        self._gpu = uses_gpu(getattr(config, "target", "llvm"))  # GPU schedule mutators are drawn too

    # What the engine calls

    def next_test_case(self) -> TestCase:
        test_case, origin = None, Origin(None, None)
        if self.pool and self.rng.random() >= FRESH_RATE:
            entry_id = self._choose_entry()
            mutated = self._mutate(self.pool[entry_id])
            if mutated is not None:
                test_case, origin = mutated[0], Origin(entry_id, mutated[1])
        if test_case is None:
            test_case = self._fresh()
        self._origins[test_case.key].append(origin)
        return test_case

    def observe(self, test_case: TestCase, execution: Execution, new_features: int) -> TestCase | None:
        """Learn from one outcome; returns the test case (with its steps as applied) if it joined the pool."""
        queue = self._origins.get(test_case.key)
        origin = queue.popleft() if queue else Origin(None, None)  # corpus seeds were never scheduled
        if queue is not None and not queue:
            del self._origins[test_case.key]
        valid = execution.verdict is Verdict.PASS
        keep = valid and (new_features > 0 or (origin.mutator is None and len(self.pool) < MIN_POOL))
        if origin.mutator is not None:
            self._count(origin.mutator, execution, keep)
        parent = self.pool.get(origin.entry_id) if origin.entry_id is not None else None
        if parent is not None:
            parent.fails = 0 if keep or is_pass_mutator(origin.mutator) else parent.fails + 1
            parent.tries += 1
            parent.successes += int(keep)
            self._tried(origin.entry_id, parent)
        if not keep:
            return None
        kept = dataclasses.replace(test_case, mutations=execution.applied) if execution.applied else test_case
        feedback = getattr(self.config, "coverage_feedback", True)
        if is_pass_mutator(origin.mutator) and feedback:
            from tzer.mutate.passes import shrink_pipeline

            kept = dataclasses.replace(kept, passes=shrink_pipeline(kept.passes, execution.pass_coverage))
        # Without feedback coverage must not steer the choice of entries either: every novelty is the same.
        self._add(PoolEntry(kept, novelty=execution.new_coverage_tvm if feedback else 0,
                            seconds=execution.compile_seconds + execution.run_seconds))
        return kept

    def mutator_stats(self) -> tuple[tuple[str, MutatorStats], ...]:
        return tuple(sorted(self._stats.items()))

    def state(self) -> dict[str, Any]:
        return {
            "pool": [[entry_id, entry.to_json()] for entry_id, entry in sorted(self.pool.items())],
            "next_id": self._next_id,
            "stats": {name: stats.to_json() for name, stats in sorted(self._stats.items())},
        }

    def restore(self, state: dict[str, Any]) -> None:
        self.pool = {int(row[0]): PoolEntry.from_json(row[1] if len(row) == 2 else row) for row in state["pool"]}
        self._next_id = int(state["next_id"])
        self._stats = {name: MutatorStats.from_json(value) for name, value in state["stats"].items()}

    # What modes decide

    def _tried(self, entry_id: int, entry: PoolEntry) -> None:
        """Called after each outcome of a test case made from a pool entry, its bookkeeping updated."""

    def _mutate(self, entry: PoolEntry) -> tuple[TestCase, str] | None:
        """The next test case made from `entry` and the mutator that made it; None: a fresh program instead."""
        return None

    def _ir_mutation(self, entry: PoolEntry) -> tuple[TestCase, str] | None:
        from tzer.mutate import GPU_MUTATORS, MUTATORS
        from tzer.mutate.apply import split_gpu_steps

        test_case = entry.test_case
        if len(test_case.mutations) >= MAX_STEPS:
            return None
        name = self._choose(MUTATORS.names() + (GPU_MUTATORS.names() if self._gpu else []))
        step = MutationStep(name, self.rng.getrandbits(32))
        if name in GPU_MUTATORS:
            mutations = test_case.mutations + (step,)
        else:  # a change of the program: its GPU schedule (a suffix of GPU steps) is drawn anew after it
            mutations = split_gpu_steps(test_case.mutations)[0] + (step,)
        return dataclasses.replace(test_case, mutations=mutations), name

    def _pass_mutation(self, entry: PoolEntry) -> tuple[TestCase, str] | None:
        from tzer.mutate.passes import GPU_PASS_MUTATORS, MISORDER, PASS_MUTATORS

        mutators = {**PASS_MUTATORS, **(GPU_PASS_MUTATORS if self._gpu else {})}
        if self.rng.random() < MISORDER_RATE:
            name = MISORDER
        else:
            name = self._choose([n for n in mutators if n != MISORDER])
        passes = mutators[name](entry.test_case.passes, self.rng)
        if passes is None:
            return None
        return dataclasses.replace(entry.test_case, passes=passes), name

    # Helpers

    def _fresh(self) -> TestCase:
        from tzer.generate import draw_test_case

        generator = self.rng.choice(self.config.generator_names)
        return draw_test_case(self.rng, generator, self.config.target, self.config.pass_config)

    def _energies(self) -> tuple[list[int], list[float]]:
        ids = sorted(self.pool)
        entries = [self.pool[i] for i in ids]
        mean_novelty = sum(e.novelty for e in entries) / len(entries)
        mean_seconds = sum(e.seconds for e in entries) / len(entries)
        return ids, [e.energy(mean_novelty, mean_seconds) for e in entries]

    def _choose_entry(self) -> int:
        """A pool entry, drawn by energy."""
        ids, energies = self._energies()
        return self.rng.choices(ids, energies)[0]

    def _choose(self, names: list[str]) -> str:
        """A mutator, favouring those whose mutants were valid and brought new feedback (never starving one)."""
        weights = [max(0.05, (1 + s.new + 0.25 * s.valid) / (2 + s.tries))
                   for s in (self._stats.get(name, MutatorStats()) for name in names)]
        return self.rng.choices(names, weights)[0]

    def _count(self, mutator: str, execution: Execution, kept: bool) -> None:
        s = self._stats.get(mutator, MutatorStats())
        invalid = execution.verdict is Verdict.INVALID
        no_site = invalid and execution.invalidity is Invalidity.NO_SITE
        self._stats[mutator] = dataclasses.replace(
            s, tries=s.tries + 1, no_site=s.no_site + int(no_site), invalid=s.invalid + int(invalid and not no_site),
            valid=s.valid + int(not invalid), findings=s.findings + int(execution.verdict is Verdict.FINDING),
            new=s.new + int(kept))

    def _add(self, entry: PoolEntry) -> None:
        if len(self.pool) >= MAX_POOL:
            ids, energies = self._energies()
            del self.pool[ids[energies.index(min(energies))]]
        self.pool[self._next_id] = entry
        self._next_id += 1


class GenerateScheduler(Scheduler):
    """Fresh programs only."""

    def next_test_case(self) -> TestCase:
        return self._fresh()

    def observe(self, test_case: TestCase, execution: Execution, new_features: int) -> TestCase | None:
        return test_case if execution.verdict is Verdict.PASS else None


class IRScheduler(Scheduler):
    def _mutate(self, entry: PoolEntry) -> tuple[TestCase, str] | None:
        return self._ir_mutation(entry)


class PassScheduler(Scheduler):
    def _mutate(self, entry: PoolEntry) -> tuple[TestCase, str] | None:
        return self._pass_mutation(entry)


class JointScheduler(Scheduler):
    def __init__(self, config: Any, rng: random.Random):
        super().__init__(config, rng)
        self._pass_due: collections.deque[int] = collections.deque()  # entries that just reached n_max fails

    def state(self) -> dict[str, Any]:
        return {**super().state(), "pass_due": list(self._pass_due)}

    def restore(self, state: dict[str, Any]) -> None:
        super().restore(state)
        self._pass_due = collections.deque(int(i) for i in state.get("pass_due", ()))

    def _tried(self, entry_id: int, entry: PoolEntry) -> None:
        if entry.fails == self.config.n_max:
            self._pass_due.append(entry_id)

    def _choose_entry(self) -> int:
        while self._pass_due:  # an entry may have left the pool, or had its pass try, since it was due
            entry_id = self._pass_due.popleft()
            entry = self.pool.get(entry_id)
            if entry is not None and entry.fails >= self.config.n_max:
                return entry_id
        return super()._choose_entry()

    def _mutate(self, entry: PoolEntry) -> tuple[TestCase, str] | None:
        if entry.fails >= self.config.n_max or len(entry.test_case.mutations) >= MAX_STEPS:
            return self._pass_mutation(entry) or self._ir_mutation(entry)
        return self._ir_mutation(entry)


class InterleavedScheduler(Scheduler):
    """IR mutation with a pass mutation at the rate the joint schedule's ceiling allows (one try in `n_max + 1`),
    drawn at random rather than after `n_max` fruitless IR tries: the ablation's "IR + random pass mutation", the
    joint schedule's budget of pass tries without its timing."""

    def _mutate(self, entry: PoolEntry) -> tuple[TestCase, str] | None:
        if self.rng.random() < 1 / (self.config.n_max + 1) or len(entry.test_case.mutations) >= MAX_STEPS:
            return self._pass_mutation(entry) or self._ir_mutation(entry)
        return self._ir_mutation(entry)


SCHEDULERS: Registry[type[Scheduler]] = Registry("mode", {
    "generate": "tzer.scheduling:GenerateScheduler",
    "ir": "tzer.scheduling:IRScheduler",
    "pass": "tzer.scheduling:PassScheduler",
    "joint": "tzer.scheduling:JointScheduler",
    "interleaved": "tzer.scheduling:InterleavedScheduler",
})
