"""Pass mutators: new pass sequences and PassContext configs for a test case (Tzer's pass mutation).

A pass mutator is `(passes: PassConfig, rng) -> PassConfig | None`: pure data, no TVM. The pipelines it draws keep
the skeleton and put passes only where they are supported (tzer.execute.pipeline), so TVM accepts most of them; one
mutator, `pass.misorder`, puts a pass where it is not supported, and the scheduler calls it at a low rate: TVM may
reject such a sequence (counted invalid), but it must not crash or hang on it, and those are findings.

To add one: write it here and add it to `PASS_MUTATORS`.
"""

from __future__ import annotations

import dataclasses
import random
from typing import Any, Callable

from tzer.execute.pipeline import (
    MINIMAL_PIPELINE, POSITIONS, SKELETON, default_pipeline, info_name, known_misuse_crashes, positions_of,
    supported_positions,
)
from tzer.records import PassConfig

# PassContext configs and the values drawn for them. Left out on purpose: tirx.enable_fast_math (changes results
# within its rights: the oracles would flag it), tirx.RemoveNoOp's max_simplification_steps (a test aid: exceeding it
# is a designed check failure), the GPU-only keys (GPU_CONFIG_VALUES, for CUDA targets), the Hexagon-only keys, and
# the profiling instruments.
CONFIG_VALUES: dict[str, list[Any]] = {
    "tirx.disable_vectorize": [True, False],
    "tirx.disable_cse_tir": [True, False],
    "tirx.disable_storage_rewrite": [True, False],
    "tirx.debug_keep_trivial_loop": [True, False],
    "tirx.enable_buffer_level_predication": [True, False],
    "tirx.noalias": [True, False],
    "tirx.disable_assert": [True, False],
}
STRUCT_CONFIG_FIELDS: dict[str, dict[str, list[Any]]] = {
    "tirx.UnrollLoop": {"auto_max_step": [0, 4, 16, 64, 512], "auto_max_depth": [1, 2, 4, 8],
                        "auto_max_extent": [0, 2, 8, 32], "explicit_unroll": [True, False],
                        "unroll_local_access": [True, False]},
    "s_tir.LoopPartition": {"partition_const_loop": [True, False], "no_unroll_loop_with_extent_one": [True, False],
                            "unroll_loop_with_partition_hint_no_interval": [True, False]},
    "tirx.StmtSimplify": {"transitively_prove_inequalities": [True, False],
                          "convert_boolean_to_and_of_ors": [True, False],
                          "apply_constraints_to_boolean_branches": [True, False]},
    "s_tir.HoistIfThenElse": {"support_block_scope_hoisting": [True, False]},
    "s_tir.InjectDoubleBuffer": {"split_loop": [1, 2, 4]},
    "s_tir.HoistExpression": {"hoisted_conditionals": list(range(8)), "hoisted_let_bindings": list(range(8))},
}


def _pipeline(passes: PassConfig) -> list[str]:
    return list(passes.pipeline if passes.pipeline is not None else default_pipeline())


def _with_pipeline(passes: PassConfig, pipeline: list[str]) -> PassConfig:
    return dataclasses.replace(passes, pipeline=tuple(pipeline))


def _insertion_points(pipeline: list[str], position: int) -> list[int]:
    """Indices in `pipeline` where an inserted pass lands at skeleton position `position`."""
    positions = positions_of(tuple(pipeline)) + [len(SKELETON)]
    return [i for i, p in enumerate(positions) if p == position]


def insert_pass(passes: PassConfig, rng: random.Random) -> PassConfig | None:
    """Insert a pass where it is supported."""
    name, allowed = rng.choice(sorted(supported_positions().items()))
    pipeline = _pipeline(passes)
    index = rng.choice(_insertion_points(pipeline, rng.choice(sorted(allowed))))
    return _with_pipeline(passes, pipeline[:index] + [name] + pipeline[index:])


def drop_pass(passes: PassConfig, rng: random.Random) -> PassConfig | None:
    """Drop a pass outside the minimal lowering (the skeleton and the bfloat16 legalization: without it LLVM's code
    generation fails on bfloat16 arithmetic, a misuse of the pipeline, not a TVM bug)."""
    pipeline = _pipeline(passes)
    needed = set(SKELETON) | set(MINIMAL_PIPELINE)
    droppable = [i for i, name in enumerate(pipeline) if name not in needed]
    if not droppable:
        return None
    index = rng.choice(droppable)
    return _with_pipeline(passes, pipeline[:index] + pipeline[index + 1:])


def repeat_pass(passes: PassConfig, rng: random.Random) -> PassConfig | None:
    """Run a pass of the pipeline once more, later, where it is still supported."""
    pipeline = _pipeline(passes)
    supported = supported_positions()
    positions = positions_of(tuple(pipeline))
    choices = [(i, name) for i, name in enumerate(pipeline) if name in supported]
    if not choices:
        return None
    index, name = rng.choice(choices)
    later = [i for i in range(index + 1, len(pipeline) + 1)
             if (positions + [len(SKELETON)])[i] in supported[name]]
    if not later:
        return None
    at = rng.choice(later)
    return _with_pipeline(passes, pipeline[:at] + [name] + pipeline[at:])


def set_config(passes: PassConfig, rng: random.Random) -> PassConfig | None:
    """Set one PassContext config item, or one field of a structured one."""
    config = dict(passes.config)
    key = rng.choice(sorted(CONFIG_VALUES) + sorted(STRUCT_CONFIG_FIELDS))
    if key in CONFIG_VALUES:
        config[key] = rng.choice(CONFIG_VALUES[key])
    else:
        field = rng.choice(sorted(STRUCT_CONFIG_FIELDS[key]))
        config[key] = {**config.get(key, {}), field: rng.choice(STRUCT_CONFIG_FIELDS[key][field])}
    return dataclasses.replace(passes, config=tuple(config.items()))


# GPU-only PassContext configs: the default pipeline adds GPU passes for them (LowerAsyncDMA and InjectPTXAsyncCopy;
# InjectPTXLDG32). Drawn for CUDA targets only (GPU_PASS_MUTATORS).
GPU_CONFIG_VALUES: dict[str, list[Any]] = {
    "tirx.use_async_copy": [True, False],
    "tirx.s_tir.ldg32": [True, False],
}


def set_gpu_config(passes: PassConfig, rng: random.Random) -> PassConfig | None:
    """Set one GPU-only PassContext config item."""
    key = rng.choice(sorted(GPU_CONFIG_VALUES))
    config = {**dict(passes.config), key: rng.choice(GPU_CONFIG_VALUES[key])}
    return dataclasses.replace(passes, config=tuple(config.items()))


def misorder_pass(passes: PassConfig, rng: random.Random) -> PassConfig | None:
    """Put a pass where it is not supported (or a skeleton pass out of order): TVM should reject, not crash. Known
    misuse crashes (measured) are not drawn: every campaign would report them again."""
    pipeline = _pipeline(passes)
    supported = supported_positions()
    known = known_misuse_crashes()
    unsupported = sorted((name, p) for name, allowed in supported.items()
                         for p in range(POSITIONS) if p not in allowed and (name, p) not in known)
    if rng.random() < 0.2 or not unsupported:
        for _ in range(8):  # move any pass anywhere, unless that lands on a known crash
            index = rng.randrange(len(pipeline))
            moved = pipeline[:index] + pipeline[index + 1:]
            at = rng.randrange(len(moved) + 1)
            candidate = moved[:at] + [pipeline[index]] + moved[at:]
            if not any(pair in known for pair in zip(candidate, positions_of(tuple(candidate)))):
                return _with_pipeline(passes, candidate)
        return None
    name, position = rng.choice(unsupported)
    index = rng.choice(_insertion_points(pipeline, position))
    return _with_pipeline(passes, pipeline[:index] + [name] + pipeline[index:])


PASS_MUTATORS: dict[str, Callable[[PassConfig, random.Random], PassConfig | None]] = {
    "pass.insert": insert_pass,
    "pass.drop": drop_pass,
    "pass.repeat": repeat_pass,
    "pass.config": set_config,
    "pass.misorder": misorder_pass,
}
MISORDER = "pass.misorder"


def is_pass_mutator(name: str | None) -> bool:
    """Whether a mutator name is one of the pass mutators (their names all start with "pass.")."""
    return name is not None and name.startswith("pass.")
GPU_PASS_MUTATORS: dict[str, Callable[[PassConfig, random.Random], PassConfig | None]] = {
    "pass.gpu_config": set_gpu_config,
}


def shrink_pipeline(passes: PassConfig, pass_coverage: tuple[tuple[str, int], ...]) -> PassConfig:
    """Tzer's pass-sequence shrink: of an explicit pipeline, keep the passes that covered new points of TVM's own
    code in the run `pass_coverage` measured (pass name, new points, in the order the passes finished), the
    skeleton, and the passes lowering needs (MINIMAL_PIPELINE). A pass the run never reached is kept: nothing is known about it. Pass
    insertion and repetition grow sequences; this keeps them to what adds coverage."""
    if passes.pipeline is None or not pass_coverage:
        return passes
    needed = set(SKELETON) | set(MINIMAL_PIPELINE)
    kept, cursor = [], 0
    for entry in passes.pipeline:
        name = info_name(entry)
        match = next((i for i in range(cursor, len(pass_coverage)) if pass_coverage[i][0] == name), None)
        if match is not None:
            cursor = match + 1
        if match is None or entry in needed or pass_coverage[match][1] > 0:
            kept.append(entry)
    return _with_pipeline(passes, kept)
