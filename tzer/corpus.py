"""The seed corpus on disk: one JSON test-case record per file, named by its content hash.

Files are data, never code. Loading checks each file (JSON, fields, a program the generator could have drawn) and
names the first bad file in a one-line `CorpusError`. Writing is atomic: a temporary file, then a rename.
"""

from __future__ import annotations

import json
import os
import tempfile

from tzer.errors import ConfigError, CorpusError, TzerBug
from tzer.execute.pipeline import known_passes
from tzer.generate import GENERATORS
from tzer.generate.graph import GraphSpec
from tzer.records import TestCase, canonical_json


def _load_one(path: str) -> TestCase:
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
        test_case = TestCase.from_json(data)
        GENERATORS.get(test_case.generator)  # a generator this tzer knows
        known = known_passes()
        unknown = [name for name in test_case.passes.pipeline or () if name not in known]
        if unknown:
            raise ValueError(f"unknown pipeline passes {unknown}")
        GraphSpec.from_json(test_case.params).shapes()  # the program's structure holds together
    except (OSError, ValueError, KeyError, TypeError, AttributeError, ArithmeticError, ConfigError, TzerBug) as exc:
        raise CorpusError(f"corrupt corpus file {path}: {type(exc).__name__}: {exc}") from None
    return test_case


def load_corpus(directory: str) -> list[TestCase]:
    names = sorted(n for n in os.listdir(directory) if n.endswith(".json"))
    return [_load_one(os.path.join(directory, name)) for name in names]


def save_test_case(directory: str, test_case: TestCase) -> str:
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, f"{test_case.key[:16]}.json")
    fd, temporary = tempfile.mkstemp(dir=directory, suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(json.dumps(json.loads(canonical_json(test_case.to_json())), indent=1, sort_keys=True) + "\n")
    os.replace(temporary, path)
    return path
