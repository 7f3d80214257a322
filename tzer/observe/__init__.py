"""Feedback: what an execution showed the fuzzer, as a set of features, and the map of features seen so far.

A feedback provider runs in the worker. Around each fuzzed compile it hands the executor its pass observers, then
names the features of what it observed; a feature is a short string, and "new" means a feature the campaign has
not seen. The features guide the scheduler where native coverage (tzer.observe.coverage, the blocks of TVM's C++
compiler that a test case was first to run) is unavailable or switched off; the campaign counts them either way.

To add a provider: subclass `FeedbackProvider` and register it in `FEEDBACK`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from tzer.registry import Registry


class FeedbackProvider:
    name: ClassVar[str]

    def observers(self) -> list[Any]:
        """Pass observers (tzer.execute.executor.PassObserver) for the fuzzed compile; called once per execution,
        before it."""
        return []

    def features(self, mod: Any) -> tuple[str, ...]:
        """The features of the execution just compiled; `mod` is the program as it entered the pipeline."""
        raise NotImplementedError


FEEDBACK: Registry[type[FeedbackProvider]] = Registry("feedback", {
    "pass_effects": "tzer.observe.pass_effects:PassEffects",
})


class FeatureMap:
    """The features a campaign has seen (parent side)."""

    def __init__(self, seen: Iterable[str] = ()):
        self._seen = set(seen)

    def add(self, features: Iterable[str]) -> int:
        """Record `features`; returns how many were new."""
        before = len(self._seen)
        self._seen.update(features)
        return len(self._seen) - before

    def __len__(self) -> int:
        return len(self._seen)

    def to_json(self) -> list[str]:
        return sorted(self._seen)
