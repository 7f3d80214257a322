"""Campaign configuration: one frozen, validated record built from the command line.

A bad value raises `ConfigError` with a one-line message; nothing downstream re-validates user input.
"""

from __future__ import annotations

import dataclasses
import os
import re

from tzer.errors import ConfigError

MODES = ("generate",)  # ir, pass and joint arrive with the mutation engine
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


@dataclasses.dataclass(frozen=True)
class FuzzConfig:
    seed: int
    store: str = DEFAULT_STORE
    time_budget: float | None = None  # seconds; None with no iteration budget runs until interrupted
    iterations: int | None = None
    target: str = "llvm"
    mode: str = "generate"
    generators: tuple[str, ...] = ()  # empty: every registered generator
    corpus: str | None = None  # a directory of seed test cases (JSON), executed first
    checkpoint_seconds: float = 1.0  # how often totals, the timeline and new corpus entries are committed

    def __post_init__(self) -> None:
        from tzer.execute.targets import TARGETS
        from tzer.generate import GENERATORS

        if self.mode not in MODES:
            raise ConfigError(f"unknown mode {self.mode!r}; available: {', '.join(MODES)}")
        if self.target not in TARGETS:
            raise ConfigError(f"unknown target {self.target!r}; available: {', '.join(TARGETS.names())}")
        for name in self.generators:
            if name not in GENERATORS:
                raise ConfigError(f"unknown generator {name!r}; available: {', '.join(GENERATORS.names())}")
        if self.iterations is not None and self.iterations <= 0:
            raise ConfigError(f"--iterations must be positive, got {self.iterations}")
        if not 0 <= self.seed < 2**63:
            raise ConfigError(f"--seed must be in [0, 2^63), got {self.seed}")
        if self.corpus is not None and not os.path.isdir(self.corpus):
            raise ConfigError(f"corpus directory {self.corpus} does not exist")

    @property
    def generator_names(self) -> tuple[str, ...]:
        from tzer.generate import GENERATORS

        return self.generators or tuple(GENERATORS.names())

    def to_json(self) -> dict:
        return dataclasses.asdict(self)
