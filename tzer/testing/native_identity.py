"""Whether patching TVM for native coverage changes what it computes: `python -m tzer.testing.native_identity COUNT
COVERAGE` compiles and runs COUNT programs and mutants (drawn from a fixed seed, so every invocation draws the same
ones) with the coverage provider COVERAGE attached, and prints one JSON line: a digest of each output's bytes, or the
failure's stage and type. Run it with `native-bb` and with `none` in two processes and compare the digests.

Only a program whose output is a function of the program can be compared: a mutant that may read out of bounds is
labelled so and not run (its output would depend on the memory layout, which differs between any two processes).
The rest run with their intermediate buffers exposed as arguments (tzer.judge.initialization), so every byte they
may read is set first; one whose output changes with those initial contents (it reads memory it never wrote) is
labelled `UNWRITTEN`."""

from __future__ import annotations

import hashlib
import json
import random
import sys

import numpy as np

SEED = 11
MAX_STEPS = 3  # mutation steps per program: 0, 1 or 2
FILLED_WITH = (0, 2)  # which of tzer.judge.initialization's fills the output and intermediates start with
UNWRITTEN = "UNWRITTEN"


def differing(first: list[str], second: list[str]) -> list[int]:
    """Indices where two runs' results differ; a program either run saw read unwritten memory is not compared."""
    return [i for i, (a, b) in enumerate(zip(first, second)) if a != b and UNWRITTEN not in (a, b)]


def digests(count: int, coverage_name: str) -> dict:
    from tzer.execute.executor import Executor
    from tzer.generate import GENERATORS, draw_test_case
    from tzer.generate.graph import GraphSpec, build_program
    from tzer.generate.inputs import draw_inputs
    from tzer.judge.bounds import unproven_access
    from tzer.judge.initialization import expose_allocations, filled
    from tzer.mutate import MUTATORS
    from tzer.mutate.apply import apply_steps
    from tzer.observe.coverage import attach_coverage
    from tzer.records import MutationStep

    coverage = attach_coverage(coverage_name, lambda message: print(message, file=sys.stderr), progress=False)
    executor = Executor("llvm")
    rng = random.Random(SEED)
    generators, mutators = GENERATORS.names(), MUTATORS.names()
    results = []
    for _ in range(count):
        test_case = draw_test_case(rng, rng.choice(generators), "llvm")
        program = build_program(GraphSpec.from_json(test_case.params))
        steps = tuple(MutationStep(rng.choice(mutators), rng.getrandbits(32)) for _ in range(rng.randrange(MAX_STEPS)))
        mutated = apply_steps(program.mod, steps)
        if mutated.mod is None:
            results.append("no site")
            continue
        if steps and unproven_access(mutated.mod) is not None:
            results.append("out of bounds")
            continue
        inputs = draw_inputs(program.inputs, test_case.input_seed)
        exposed, scratch = expose_allocations(mutated.mod)
        entry, failure, _ = executor.load(exposed, test_case.passes)
        outputs = []
        for which in FILLED_WITH if failure is None else ():
            buffers = [filled(program.output.shape, program.output.dtype, which),
                       *(filled(shape, dtype, which) for shape, dtype in scratch)]
            returned, failure = executor.call(entry, inputs, buffers)
            if failure is not None:
                break
            outputs.append(np.ascontiguousarray(returned[0]).tobytes())
        if failure is not None:
            results.append(f"{failure.stage.name}:{failure.error_type}")
        elif len(set(outputs)) > 1:
            results.append(UNWRITTEN)
        else:
            results.append(hashlib.sha256(outputs[0]).hexdigest())
    return {"coverage": coverage.name, "covered": coverage.total(), "digests": results}


if __name__ == "__main__":
    print(json.dumps(digests(int(sys.argv[1]), sys.argv[2])))
