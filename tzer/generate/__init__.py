"""Program generation: seed programs drawn from operator families of modern vision and sequence models.

A generator is a function `(random.Random) -> params` (JSON-able `GraphSpec` data); `build_program(params)` turns
params into a compilable program with its PyTorch reference. Generators register here by name (lazily imported).
"""

from __future__ import annotations

from typing import Any, Callable

from tzer.registry import Registry

GENERATORS: Registry[Callable[[Any], dict[str, Any]]] = Registry(
    "generator",
    {
        "avg_pool": "tzer.generate.pooling:avg_pool",
        "max_pool": "tzer.generate.pooling:max_pool",
        "adaptive_pool": "tzer.generate.pooling:adaptive_pool",
        "global_pool": "tzer.generate.pooling:global_pool",
        "gem": "tzer.generate.pooling:gem",
        "spp": "tzer.generate.pooling:spp",
        "poolformer": "tzer.generate.token_mixing:poolformer",
        "ponet": "tzer.generate.token_mixing:ponet",
        "maxformer": "tzer.generate.token_mixing:maxformer",
        "conv": "tzer.generate.convolution:conv",
        "metaformer": "tzer.generate.composition:metaformer",
    },
)


def draw_test_case(rng, generator: str, target: str, passes=None):
    """A fresh test case from `generator`: its program seed and input seed are drawn from `rng` and recorded."""
    import random

    from tzer.records import PassConfig, TestCase

    program_seed = rng.getrandbits(32)
    input_seed = rng.getrandbits(32)
    params = GENERATORS.get(generator)(random.Random(program_seed))
    return TestCase(generator, params, program_seed, input_seed, target, passes or PassConfig())
