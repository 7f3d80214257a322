"""Execution backends: where test cases run. The engine submits test cases and takes back executions.

`fork` (the default) runs them in persistent fork-server children (tzer.execute.sandbox): a crash or a hang is a
finding and the campaign goes on. `none` runs them in the campaign's own process: faster to debug, but the first
segfault in TVM ends the campaign. Both implement the same small interface as `InProcess` below.
"""

from __future__ import annotations

import collections
from typing import Any

from tzer.errors import ConfigError
from tzer.records import Execution, TestCase
from tzer.registry import Registry


class InProcess:
    """Runs each test case in this process when its result is asked for."""

    def __init__(self, runner: Any, jobs: int = 1, limits: Any = None):
        if jobs != 1:
            raise ConfigError("--jobs above 1 needs the fork server (--isolation fork)")
        self.runner = runner
        self._queue: collections.deque[TestCase] = collections.deque()

    @property
    def slots(self) -> int:
        return 1

    def in_flight(self) -> int:
        return len(self._queue)

    def submit(self, test_case: TestCase) -> None:
        self._queue.append(test_case)

    def next_result(self) -> tuple[TestCase, Execution]:
        test_case = self._queue.popleft()
        return test_case, self.runner.execute(test_case)

    def states(self) -> list:
        return []

    def close(self) -> None:
        pass


BACKENDS: Registry[Any] = Registry("isolation", {
    "fork": "tzer.execute.sandbox:ForkServer",
    "none": "tzer.execute.backends:InProcess",
})


def make_backend(config: Any, runner: Any) -> Any:
    """The backend a campaign's config asks for, around `runner`."""
    return BACKENDS.get(config.isolation)(runner, config.jobs, config.limits)
