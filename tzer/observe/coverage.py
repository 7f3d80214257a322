"""Coverage providers: which parts of TVM's C++ compiler the test cases ran, as fuzzing feedback.

A provider instruments TVM once, in the warm parent, after `import tvm` and before any compile; fork-server children
inherit it. Its points (basic blocks, or function entries) are covered once and for all: the union over the parent
and every child, so one worker's discovery is not new to another.

- `native-bb` (the default on Linux x86-64): every basic block of libtvm_compiler.so (tzer.observe.native). Rich,
  with a little noise: repeated identical compiles still find a few blocks at first (allocation- and hash-order-
  dependent paths), which is why the engine calibrates a noise threshold.
- `native-func`: function entries only. Coarse, and nearly deterministic (a repeated compile rarely reaches a new
  function: one in CI's test, never more).
- `none`: no coverage. The pass-effect features (tzer.observe.pass_effects) are then the only feedback.

Each point is TVM's own code or not (tzer.observe.native.owners: the library links LLVM and Z3 too); Tzer measured
TVM's code only, and so does tzer's feedback: a provider counts the owned points apart.

What a provider answers, per process: `new_since_last` (the points this process was first of all to cover since the
previous call, in all and TVM's own: a test case's novelty, and a pass's), `trace` (every point this process trapped
on since `reset_trace`: per-input coverage in "full mode", in a child forked for one input), `total` and `covered`
(the union so far), `total_own` (of those, TVM's own), `restore` (a resumed campaign's union), `sync` (the parent
stops trapping on what children found) and `reset`. To add one: subclass `CoverageProvider` and register it in `COVERAGE`.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np

from tzer.registry import Registry


@dataclasses.dataclass(frozen=True)
class Novelty:
    """Points first covered by one process in some span: in all, and those in TVM's own code."""

    points: int = 0
    own: int = 0

    def __add__(self, other: "Novelty") -> "Novelty":
        return Novelty(self.points + other.points, self.own + other.own)

    def __sub__(self, other: "Novelty") -> "Novelty":
        return Novelty(self.points - other.points, self.own - other.own)


class CoverageProvider:
    name: ClassVar[str]
    unit: ClassVar[str] = "points"

    def __init__(self, progress: bool = True):
        """`progress`: show a progress bar on stderr for slow set-up (a native block table built the first time)."""
        self.progress = progress

    def attach(self) -> None:
        """Instrument TVM in this process; raises NativeCoverageUnavailable if it cannot."""

    @property
    def identity(self) -> str:
        """What the points are numbered against (stored with a snapshot; a snapshot of another build is void)."""
        return self.name

    @property
    def points(self) -> int:
        """How many points there are to cover."""
        return 0

    def new_since_last(self) -> Novelty:
        return Novelty()

    def total(self) -> int:
        return 0

    def total_own(self) -> int:
        """Points covered so far in TVM's own code."""
        return 0

    def owned(self, points: np.ndarray) -> np.ndarray:
        """Whether each point is TVM's own code."""
        return np.zeros(len(points), dtype=bool)

    def covered(self) -> np.ndarray:
        """The points covered so far (indices, uint32), in the order they were first covered."""
        return np.empty(0, dtype=np.uint32)

    def restore(self, points: np.ndarray) -> int:
        """Count `points` as covered (and stop trapping on them); returns how many were new."""
        return 0

    def sync(self) -> None:
        pass

    def reset(self) -> None:
        """Forget all coverage (no child may be running)."""

    def reset_trace(self) -> None:
        pass

    def trace(self) -> np.ndarray:
        """The points this process ran since `reset_trace`, beyond what its parent had covered when it forked."""
        return np.empty(0, dtype=np.uint32)

    def functions_of(self, points: np.ndarray) -> np.ndarray:
        """The function each point belongs to."""
        return np.empty(0, dtype=np.int64)

    def entry_points(self) -> np.ndarray:
        """The points that are function entries (sorted indices)."""
        return np.empty(0, dtype=np.int64)


class NoCoverage(CoverageProvider):
    name = "none"


class NativeCoverage(CoverageProvider):
    """One-shot breakpoints on the points of libtvm_compiler.so (tzer.observe.native)."""

    def __init__(self, progress: bool = True):
        super().__init__(progress)
        self._runtime: Any = None
        self._points = np.empty(0, dtype=np.uint64)
        self._functions = np.empty(0, dtype=np.int64)
        self._entries = np.empty(0, dtype=np.int64)
        self._owned = np.empty(0, dtype=bool)
        self._build_id = ""
        self._won = Novelty()

    def select(self, table: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The points to instrument (addresses), the function of each, which of them are function entries, and
        which are TVM's own code."""
        raise NotImplementedError

    def attach(self) -> None:
        from tzer.observe import native

        native.check_platform()
        import tvm  # noqa: F401  (maps the library; its static initialisers are not counted)

        path, base = native.loaded_library()
        table = native.block_table(path, self.progress)
        runtime = native.runtime_library()
        self._points, self._functions, self._entries, self._owned = self.select(table)
        if len(self._points) and int(self._points[-1]) >= 2**32:
            raise native.NativeCoverageUnavailable(f"{path} is too large (points beyond 4 GiB)")
        offsets = np.ascontiguousarray(self._points, dtype=np.uint32)
        owned = np.ascontiguousarray(self._owned, dtype=np.uint8)
        status = runtime.cov_setup(base, offsets.ctypes.data, len(offsets))
        if status == 0:
            status = runtime.cov_set_owned(owned.ctypes.data)
        if status == 0:
            status = runtime.cov_patch()
        if status != 0:
            raise native.NativeCoverageUnavailable(f"cannot patch {path}: {os.strerror(-status)}")
        self._runtime, self._build_id = runtime, table.build_id
        self._won = self._won_so_far()

    @property
    def identity(self) -> str:
        return f"{self.name}:{self._build_id}"

    @property
    def points(self) -> int:
        return len(self._points)

    def _won_so_far(self) -> Novelty:
        return Novelty(self._runtime.cov_won(), self._runtime.cov_won_owned())

    def new_since_last(self) -> Novelty:
        won = self._won_so_far()
        new, self._won = won - self._won, won
        return new

    def total(self) -> int:
        return self._runtime.cov_total()

    def total_own(self) -> int:
        return self._runtime.cov_total_owned()

    def owned(self, points: np.ndarray) -> np.ndarray:
        return self._owned[np.asarray(points, dtype=np.int64)]

    def covered(self) -> np.ndarray:
        total = self.total()
        out = np.empty(total, dtype=np.uint32)
        return out[:self._runtime.cov_read_log(out.ctypes.data, 0, total)]

    def restore(self, points: np.ndarray) -> int:
        points = np.ascontiguousarray(points, dtype=np.uint32)
        new = self._runtime.cov_mark(points.ctypes.data, len(points))
        self._won = self._won_so_far()
        return new

    def sync(self) -> None:
        self._runtime.cov_sync()

    def reset(self) -> None:
        self._runtime.cov_reset()
        self._won = Novelty()

    def reset_trace(self) -> None:
        self._runtime.cov_trace_reset()

    def trace(self) -> np.ndarray:
        count = self._runtime.cov_trace_count()
        out = np.empty(count, dtype=np.uint32)
        return np.unique(out[:self._runtime.cov_read_trace(out.ctypes.data, count)])

    def functions_of(self, points: np.ndarray) -> np.ndarray:
        return self._functions[np.asarray(points, dtype=np.int64)]

    def entry_points(self) -> np.ndarray:
        return self._entries

    def handler_installed(self) -> bool:
        return bool(self._runtime.cov_handler_installed())


class NativeBlocks(NativeCoverage):
    name = "native-bb"
    unit = "blocks"

    def select(self, table: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        return table.blocks, table.block_functions, table.entry_blocks, table.block_owned


class NativeFunctions(NativeCoverage):
    name = "native-func"
    unit = "functions"

    def select(self, table: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        every = np.arange(len(table.function_starts))
        return table.function_starts, every, every, table.function_owned


class CaseMeter:
    """One test case's novelty: the points it was first to cover, and the owned points each pass of its fuzzed
    compile was first to cover (the innermost pass running gets them; for Tzer's pass-sequence shrink, which keeps
    the passes that covered TVM's own code)."""

    def __init__(self, provider: CoverageProvider):
        self.provider = provider
        provider.new_since_last()  # whatever ran before this case is not its own
        self.total = Novelty()
        self.passes: list[tuple[str, int]] = []

    def _take(self) -> int:
        new = self.provider.new_since_last()
        self.total += new
        return new.own

    def observer(self) -> Any:
        """A pass observer (tzer.execute.executor.PassObserver) crediting each pass with what it covered."""
        return _PassCoverage(self)

    def finish(self) -> tuple[Novelty, tuple[tuple[str, int], ...]]:
        self._take()
        return self.total, tuple(self.passes)


class _PassCoverage:
    """CaseMeter's pass observer: the owned points first covered while each pass ran (the innermost pass running
    gets them). Never raises: an exception inside an instrument callback can take the process down."""

    def __init__(self, meter: CaseMeter):
        self.meter = meter
        self.stack: list[list] = []  # [pass name, owned points it covered so far], innermost last

    def run_before_pass(self, mod: Any, info: Any) -> None:
        if self.stack:
            self.stack[-1][1] += self.meter._take()
        else:
            self.meter._take()
        self.stack.append([info.name, 0])

    def run_after_pass(self, mod: Any, info: Any) -> None:
        if self.stack:
            name, own = self.stack.pop()
            self.meter.passes.append((name, own + self.meter._take()))


COVERAGE: Registry[type[CoverageProvider]] = Registry("coverage", {
    "native-bb": "tzer.observe.coverage:NativeBlocks",
    "native-func": "tzer.observe.coverage:NativeFunctions",
    "none": "tzer.observe.coverage:NoCoverage",
})


def attach_coverage(name: str, notice: Callable[[str], None], progress: bool = True) -> CoverageProvider:
    """The provider `name`, attached to TVM in this process; where native coverage cannot work, a one-line
    `notice` saying why, and `none`."""
    from tzer.observe.native import NativeCoverageUnavailable

    provider = COVERAGE.get(name)(progress)
    try:
        provider.attach()
    except NativeCoverageUnavailable as exc:
        notice(f"native coverage is unavailable ({exc}); running with --coverage none")
        return NoCoverage()
    return provider


def pack_points(points: np.ndarray) -> str:
    """Covered points as a short string for the checkpointed engine state: sorted, delta-encoded, zlib, base64."""
    import base64
    import zlib

    ordered = np.sort(np.asarray(points, dtype=np.uint32))
    deltas = np.diff(ordered, prepend=np.uint32(0)).astype("<u4")
    return base64.b64encode(zlib.compress(deltas.tobytes(), 6)).decode()


def unpack_points(text: str) -> np.ndarray:
    import base64
    import zlib

    deltas = np.frombuffer(zlib.decompress(base64.b64decode(text)), dtype="<u4")
    return np.cumsum(deltas, dtype=np.uint64).astype(np.uint32)
