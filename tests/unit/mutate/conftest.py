"""Mutator tier of the unit tests: TVM is imported (mutators are TVM IR rewrites) but nothing is compiled.

This conftest replaces the unit tier's no-import guard with a no-compile guard, and provides seed modules: programs
drawn by every generator, built once per session.
"""

import random

import pytest


@pytest.fixture(autouse=True)
def no_heavy_imports(monkeypatch):
    """Overrides the unit tier's guard of the same name: importing TVM is allowed here, compiling is not."""
    import tvm

    def refuse(*args, **kwargs):
        raise AssertionError("a unit test compiled a program; compile in the integration tier")

    monkeypatch.setattr(tvm, "compile", refuse)
    yield


def _seed_modules():
    from tzer.generate import GENERATORS
    from tzer.generate.graph import GraphSpec, build_program

    modules = []
    for name in GENERATORS.names():
        for program_seed in range(2):
            params = GENERATORS.get(name)(random.Random(program_seed))
            modules.append((f"{name}-{program_seed}", build_program(GraphSpec.from_json(params)).mod))
    return modules


SEED_MODULES = None


def seed_modules():
    """(label, IRModule) for two programs of each generator; built on first use and kept for the session."""
    global SEED_MODULES
    if SEED_MODULES is None:
        SEED_MODULES = _seed_modules()
    return SEED_MODULES


@pytest.fixture(scope="session")
def seeds():
    return seed_modules()
