"""Campaign configuration: one frozen, validated record built from the command line.

A bad value raises `ConfigError` with a one-line message; nothing downstream re-validates user input.
"""

from __future__ import annotations

import dataclasses
import os
import re
import shutil

from tzer.errors import ConfigError

DEFAULT_STORE = os.path.join("reports", "tzer.db")
DEFAULT_CORPUS = "corpus"

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smh]?)\s*$")
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600}


def parse_duration(text: str) -> float:
    """'300', '90s', '5m', '1.5h' -> seconds."""
    match = _DURATION.match(text)
    if not match:
        raise ConfigError(f"bad duration {text!r}: use seconds (300) or a unit (90s, 5m, 1h)")
    seconds = float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    if seconds <= 0:
        raise ConfigError(f"duration must be positive, got {text!r}")
    return seconds


_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(?:([kmgt])i?b?|b)?\s*$", re.IGNORECASE)
_UNIT_BYTES = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}


def parse_size(text: str) -> int:
    """'4G', '512M', '1073741824' -> bytes."""
    match = _SIZE.match(text)
    size = int(float(match.group(1)) * _UNIT_BYTES[(match.group(2) or "").lower()]) if match else 0
    if size <= 0:
        raise ConfigError(f"bad size {text!r}: use a whole number of bytes or a unit (512M, 4G)")
    return size


@dataclasses.dataclass(frozen=True)
class FuzzConfig:
    seed: int
    store: str = DEFAULT_STORE
    time_budget: float | None = None  # seconds; None with no iteration budget runs until interrupted
    iterations: int | None = None
    target: str = "llvm"
    mode: str = "joint"  # a scheduler (tzer.scheduling): generate, ir, pass, interleaved or joint
    n_max: int = 4  # joint mode: IR mutations of a seed in a row that bring nothing new before a pass mutation
    generators: tuple[str, ...] = ()  # empty: every registered generator
    corpus: str | None = None  # a directory of seed test cases (JSON), executed first
    checkpoint_seconds: float = 1.0  # how often totals, the timeline and new corpus entries are committed
    jobs: int = 1  # parallel workers (fork-server children)
    isolation: str = "fork"  # "fork": sandboxed children; "none": in this process (tzer.execute.backends)
    resume: bool = False  # continue the store's last campaign
    extra_passes: tuple[str, ...] = ()  # registered passes run before the pipeline (planted faults for tests)
    compile_seconds: float = 60.0  # time limit of each compile stage, before a re-run with longer limits
    run_seconds: float = 10.0  # time limit of the compiled kernel
    memory_bytes: int = 4 << 30  # address space a worker may add to the warm parent's
    coverage: str = "native-bb"  # a coverage provider (tzer.observe.coverage): native-bb, native-func or none
    coverage_feedback: bool = True  # False: coverage is measured, nothing guides: every valid case is kept (ablations)
    warm_up_passes: int = 3  # runs of the seed corpus before fuzzing; the repeats calibrate the noise floor
    reduce_seconds: float = 60.0  # after fuzzing, each new finding is reduced for up to this long; 0: not at all

    def __post_init__(self) -> None:
        from tzer.execute.backends import BACKENDS
        from tzer.execute.passes import EXTRA_PASSES
        from tzer.execute.targets import target_names
        from tzer.generate import GENERATORS
        from tzer.observe.coverage import COVERAGE
        from tzer.scheduling import SCHEDULERS

        if self.mode not in SCHEDULERS:
            raise ConfigError(f"unknown mode {self.mode!r}; available: {', '.join(SCHEDULERS.names())}")
        if self.n_max < 1:
            raise ConfigError(f"--n-max must be at least 1, got {self.n_max}")
        if "cuda" in target_names(self.target) and shutil.which("nvcc") is None:  # unknown targets raise
            raise ConfigError("--target cuda needs nvcc on PATH (its oracle compiles TVM's CUDA C)")
        for name in self.generators:
            if name not in GENERATORS:
                raise ConfigError(f"unknown generator {name!r}; available: {', '.join(GENERATORS.names())}")
        if self.iterations is not None and self.iterations <= 0:
            raise ConfigError(f"--iterations must be positive, got {self.iterations}")
        if not 0 <= self.seed < 2**63:
            raise ConfigError(f"--seed must be in [0, 2^63), got {self.seed}")
        if self.corpus is not None and not os.path.isdir(self.corpus):
            raise ConfigError(f"corpus directory {self.corpus} does not exist")
        if not 1 <= self.jobs <= 256:
            raise ConfigError(f"--jobs must be between 1 and 256, got {self.jobs}")
        if self.isolation not in BACKENDS:
            raise ConfigError(f"unknown isolation {self.isolation!r}; available: {', '.join(BACKENDS.names())}")
        if self.jobs > 1 and self.isolation != "fork":
            raise ConfigError("--jobs above 1 needs the fork server (--isolation fork)")
        for name in self.extra_passes:
            if name not in EXTRA_PASSES:
                raise ConfigError(f"unknown extra pass {name!r}; available: {', '.join(EXTRA_PASSES.names())}")
        if self.coverage not in COVERAGE:
            raise ConfigError(f"unknown coverage {self.coverage!r}; available: {', '.join(COVERAGE.names())}")
        if not 1 <= self.warm_up_passes <= 100:
            raise ConfigError(f"--warm-up-passes must be between 1 and 100, got {self.warm_up_passes}")
        if self.reduce_seconds < 0:
            raise ConfigError(f"--reduce-time must not be negative, got {self.reduce_seconds}")
        if self.compile_seconds <= 0 or self.run_seconds <= 0 or self.memory_bytes <= 0:
            raise ConfigError("time and memory limits must be positive")

    @property
    def generator_names(self) -> tuple[str, ...]:
        from tzer.generate import GENERATORS

        return self.generators or tuple(GENERATORS.names())

    @property
    def pass_config(self):
        from tzer.records import PassConfig

        return PassConfig(extra_passes=self.extra_passes)

    @property
    def limits(self):
        from tzer.execute.sandbox import Limits

        return Limits(compile_seconds=self.compile_seconds, run_seconds=self.run_seconds,
                      memory_bytes=self.memory_bytes)

    def to_json(self) -> dict:
        return dataclasses.asdict(self)

    def resumed(self, stored: dict) -> "FuzzConfig":
        """This config continuing a stored campaign: what the campaign draws (seed, target, mode, n_max,
        generators, extra passes, coverage) comes from the store; budgets, jobs and limits from this invocation."""
        kept = ("seed", "target", "mode", "n_max", "generators", "extra_passes", "coverage", "coverage_feedback")
        defaults = {field.name: field.default for field in dataclasses.fields(FuzzConfig)}
        values = {k: stored.get(k, defaults[k]) for k in kept}  # older stores lack newer fields
        return dataclasses.replace(self, **{k: tuple(v) if isinstance(v, list) else v for k, v in values.items()},
                                   resume=True)
