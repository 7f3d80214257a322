"""The pass-effect feedback (tzer.observe.pass_effects) on real compiles: its shortcuts (functions whose fields are
the same objects are unchanged; the others are compared by structural equality) report exactly what hashing the whole
module before and after every pass reports."""

from __future__ import annotations

import dataclasses
import random

import pytest

from tzer.execute.pipeline import default_pipeline
from tzer.generate import GENERATORS, draw_test_case
from tzer.mutate.passes import PASS_MUTATORS
from tzer.records import PassConfig
from tzer.runner import build

pytestmark = pytest.mark.integration


class WholeModuleHashes:
    """A pass observer: whole-module structural hashes before and after each pass, nothing kept or skipped."""

    def __init__(self, events: list[str]):
        self.events = events
        self.before: list[int] = []

    def run_before_pass(self, mod, info):
        import tvm_ffi

        self.before.append(tvm_ffi.structural_hash(mod))

    def run_after_pass(self, mod, info):
        import tvm_ffi

        changed = tvm_ffi.structural_hash(mod) != self.before.pop()
        self.events.append(f"pass:{info.name}:{'changed' if changed else 'same'}")


def _pipelines(rng: random.Random) -> list[PassConfig]:
    """TVM's own pipeline, the default written out, and a few pass mutants of it."""
    configs = [PassConfig(), PassConfig(pipeline=default_pipeline())]
    for name in sorted(PASS_MUTATORS)[:6]:
        mutated = PASS_MUTATORS[name](configs[-1], rng)
        if mutated is not None and mutated.keeps_pipeline_order:
            configs.append(mutated)
    return configs


@pytest.mark.parametrize("generator", GENERATORS.names())
def test_pass_effects_report_what_whole_module_hashes_report(generator):
    from tzer.execute.executor import Executor
    from tzer.observe.pass_effects import PassEffects

    executor, feedback, rng = Executor("llvm"), PassEffects(), random.Random(5)
    program = build(draw_test_case(random.Random(11), generator, "llvm"))
    verdicts = set()
    for passes in _pipelines(rng):
        expected: list[str] = []
        observers = feedback.observers()
        _, failure = executor.compile(program.mod, passes, observers=[WholeModuleHashes(expected), *observers])
        assert failure is None, failure
        assert feedback._events == expected, dataclasses.asdict(passes)  # pass by pass, in order
        verdicts |= {e.rsplit(":", 1)[1] for e in expected}
    assert verdicts == {"changed", "same"}
