"""Delta debugging (Zeller and Hildebrandt's ddmin): a smallest subsequence that is still interesting.

Used for pass sequences (which passes make a result wrong) and by the reducer (which schedule steps, which
statements). Deterministic: the same items and the same answers give the same result, in the same number of tests.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclasses.dataclass(frozen=True)
class Minimized(Generic[T]):
    items: tuple[T, ...]  # interesting, in the input's order
    tests: int  # calls of the predicate (repeated subsets are answered from a cache)
    minimal: bool  # 1-minimal (no single item can go); False when the budget ran out first


class _OutOfBudget(Exception):
    pass


def ddmin(items: Sequence[T], interesting: Callable[[tuple[T, ...]], bool],
          budget: int | None = None) -> Minimized[T]:
    """A 1-minimal interesting subsequence of `items`, which must be interesting themselves (not tested again).

    `budget` caps the predicate calls; when it runs out, the smallest interesting subsequence found so far is
    returned with `minimal=False`."""
    cache: dict[tuple[int, ...], bool] = {tuple(range(len(items))): True}
    calls = 0

    def test(indices: list[int]) -> bool:
        nonlocal calls
        key = tuple(indices)
        if key not in cache:
            if budget is not None and calls >= budget:
                raise _OutOfBudget
            calls += 1
            cache[key] = bool(interesting(tuple(items[i] for i in key)))
        return cache[key]

    current = list(range(len(items)))
    try:
        current = _reduce(current, test)
        minimal = True
    except _OutOfBudget:
        minimal = False
        current = list(min((key for key, ok in cache.items() if ok), key=len))
    return Minimized(tuple(items[i] for i in current), calls, minimal)


def _reduce(current: list[int], test: Callable[[list[int]], bool]) -> list[int]:
    granularity = 2
    while len(current) >= 2:
        chunks = _split(current, granularity)
        subset = next((chunk for chunk in chunks if test(chunk)), None)
        if subset is not None:
            current, granularity = subset, 2
            continue
        complement = None
        if granularity > 2:  # with two chunks each complement is the other chunk, already tried
            complement = next((c for c in ([i for i in current if i not in chunk] for chunk in chunks) if test(c)),
                              None)
        if complement is not None:
            current, granularity = complement, max(granularity - 1, 2)
        elif granularity >= len(current):
            break
        else:
            granularity = min(len(current), 2 * granularity)
    if len(current) == 1 and test([]):
        return []
    return current


def _split(indices: list[int], parts: int) -> list[list[int]]:
    """`parts` contiguous chunks of near-equal size, in order."""
    size, extra = divmod(len(indices), parts)
    chunks, start = [], 0
    for part in range(parts):
        end = start + size + (1 if part < extra else 0)
        chunks.append(indices[start:end])
        start = end
    return [chunk for chunk in chunks if chunk]
