"""Compile, load and run one program on one target, classifying any failure by pipeline stage.

The executor only reports what happened; it does not judge. A failure carries the stage, the pass that was running
(from a pass observer) and the exception, so the engine can tell a TVM bug from an invalid program.
"""

from __future__ import annotations

import dataclasses
import functools
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from tzer.execute.passes import EXTRA_PASSES
from tzer.execute.pipeline import register
from tzer.execute.targets import TARGETS, Target
from tzer.records import PassConfig, Stage


class ExecutionListener:
    """Hears where an execution is: the stage it enters, the passes it starts and finishes. The fork server's
    children forward these to the parent, which then knows where a child that crashed or hung was. Default: quiet."""

    def stage(self, stage: Stage) -> None:
        pass

    def pass_started(self, name: str) -> None:
        pass

    def pass_finished(self, name: str) -> None:
        pass


QUIET = ExecutionListener()


@dataclasses.dataclass(frozen=True)
class Failure:
    stage: Stage
    error_type: str  # e.g. "InternalError", "TypeError"
    message: str
    internal: bool  # a TVM check failure (tvm.error.InternalError)
    guilty_pass: str = ""
    out_of_memory: bool = False


@dataclasses.dataclass(frozen=True)
class RunResult:
    output: np.ndarray | None
    failure: Failure | None
    compile_seconds: float
    run_seconds: float


class PassObserver:
    """Watches the passes of one compile: `run_before_pass(mod, info)` and `run_after_pass(mod, info)`, as a TVM
    PassInstrument would, but a plain object: the executor hands all of a compile's observers to TVM as one
    PassInstrument, so each pass crosses from TVM into Python twice, not twice per observer. An observer must never
    raise: an exception inside an instrument callback can take the process down."""

    def run_before_pass(self, mod: Any, info: Any) -> None:
        pass

    def run_after_pass(self, mod: Any, info: Any) -> None:
        pass


class PassTracker(PassObserver):
    """Knows which pass is running, so a failure inside the passes names its pass; tells the listener too."""

    def __init__(self, listener: ExecutionListener):
        self.listener = listener
        self.running: list[str] = []

    def run_before_pass(self, mod: Any, info: Any) -> None:
        self.running.append(info.name)
        self.listener.pass_started(info.name)

    def run_after_pass(self, mod: Any, info: Any) -> None:
        if self.running:
            self.running.pop()
        self.listener.pass_finished(info.name)


@functools.cache
def _observers_instrument() -> type:
    """The PassInstrument class that runs a compile's observers (made once: wrapping a class as a PassInstrument
    costs as much as some passes)."""
    import tvm

    @tvm.instrument.pass_instrument
    class Observers:
        def __init__(self, observers: Sequence[PassObserver]):
            self.observers = observers

        def run_before_pass(self, mod, info):
            for observer in self.observers:
                observer.run_before_pass(mod, info)

        def run_after_pass(self, mod, info):
            for observer in self.observers:
                observer.run_after_pass(mod, info)

    return Observers


def _failure(stage: Stage, exc: BaseException, guilty_pass: str = "") -> Failure:
    import tvm

    internal = isinstance(exc, tvm.error.InternalError)
    return Failure(stage, type(exc).__name__, str(exc), internal, guilty_pass, isinstance(exc, MemoryError))


class Executor:
    """Runs programs on one target. Construct once per worker process (it imports TVM)."""

    def __init__(self, target: str | Target):
        """`target`: a registered target's name, or a Target (e.g. CUDA for another architecture)."""
        self.target: Target = TARGETS.get(target)() if isinstance(target, str) else target
        self._tvm_target = self.target.tvm_target()
        self._device = self.target.device()

    @property
    def tvm_target(self) -> Any:
        return self._tvm_target

    def compile(self, mod: Any, passes: PassConfig, listener: ExecutionListener = QUIET,
                observers: Sequence[PassObserver] = ()) -> tuple[Any, Failure | None]:
        import tvm

        tracker = PassTracker(listener)
        context = tvm.transform.PassContext(
            opt_level=passes.opt_level,
            disabled_pass=list(passes.disabled_passes),
            config=dict(passes.config),
            instruments=[_observers_instrument()([tracker, *observers])],
        )
        try:
            with context:
                for name in passes.extra_passes:
                    mod = EXTRA_PASSES.get(name)()(mod)
                if passes.pipeline is None:
                    return tvm.compile(mod, target=self._tvm_target), None
                return tvm.compile(mod, target=self._tvm_target, tir_pipeline=register(passes.pipeline)), None
        except Exception as exc:  # TVM raises many types; every one is classified, none is swallowed
            if tracker.running:
                return None, _failure(Stage.LOWER, exc, tracker.running[-1])
            return None, _failure(Stage.CODEGEN, exc)

    def load(self, mod: Any, passes: PassConfig, listener: ExecutionListener = QUIET,
             observers: Sequence[PassObserver] = ()) -> tuple[Any, Failure | None, float]:
        """Compile `mod` with `passes` (watched by `observers`, e.g. feedback) and look up its entry; returns
        (entry or None, failure or None, seconds)."""
        start = time.perf_counter()
        listener.stage(Stage.LOWER)
        executable, failure = self.compile(mod, passes, listener, observers)
        if failure is not None:
            return None, failure, time.perf_counter() - start
        listener.stage(Stage.LOAD)
        try:
            entry = executable["main"]  # the first lookup JIT-compiles the LLVM module
        except Exception as exc:
            return None, _failure(Stage.LOAD, exc), time.perf_counter() - start
        return entry, None, time.perf_counter() - start

    def call(self, entry: Any, inputs: Sequence[np.ndarray], outputs: Sequence[np.ndarray],
             listener: ExecutionListener = QUIET) -> tuple[list[np.ndarray] | None, Failure | None]:
        """Call a loaded entry on copies of `inputs` and `outputs` (outputs and scratch, pre-filled by the caller);
        returns the outputs as the call left them."""
        import tvm

        listener.stage(Stage.RUN)
        try:
            tensors = [tvm.runtime.tensor(x, self._device) for x in [*inputs, *outputs]]
            entry(*tensors)
            return [t.numpy() for t in tensors[len(inputs):]], None
        except Exception as exc:
            return None, _failure(Stage.RUN, exc)

    def run(self, mod: Any, passes: PassConfig, inputs: Sequence[np.ndarray], out_shape, out_dtype,
            listener: ExecutionListener = QUIET, observers: Sequence[PassObserver] = ()) -> RunResult:
        """Compile `mod` with `passes` (watched by `observers`, e.g. feedback) and run it on `inputs`."""
        entry, failure, load_seconds = self.load(mod, passes, listener, observers)
        if failure is not None:
            return RunResult(None, failure, load_seconds, 0.0)
        start = time.perf_counter()
        outputs, failure = self.call(entry, inputs, [np.empty(out_shape, out_dtype)], listener)
        output = outputs[0] if outputs is not None else None
        return RunResult(output, failure, load_seconds, time.perf_counter() - start)
