"""The fork server: test cases run in persistent children forked from a warm parent (AFL++'s persistent mode).

The parent imports TVM and PyTorch once and warms up; each of its `jobs` children then runs test cases in a loop
until it crashes, hangs, exceeds its memory, or reaches its case limit, and the parent forks a fresh one from its warm
state. A child reports over a pipe in JSON lines the stage it enters (the parent's time limits follow it) and the
`Execution` record at the end; the passes it is running it keeps in a small shared-memory page, which the parent
reads only when the child crashed or hung (a pipe message per pass would cost ~120 wake-ups per compile). So when a
child dies, the parent knows the stage and the pass it died in, and the child's stderr (TVM's backtrace) since the
case began. Nothing pickled crosses the pipe.

Classification (a finding's symptom x stage): a signal -> crash (named); a stage past its time limit -> re-run once
with longer limits on a fresh child, then timeout; a MemoryError, or death near the address-space limit ->
out-of-memory. A Python exception that escapes the runner in a child is a tzer bug: it is raised in the parent.
"""

from __future__ import annotations

import collections
import ctypes
import dataclasses
import gc
import json
import mmap
import os
import resource
import select
import signal
import tempfile
import time
import traceback
from typing import Any

from tzer.errors import TzerBug
from tzer.judge.signature import normalize_message
from tzer.records import Execution, Signature, Stage, Symptom, TestCase, Verdict

PR_SET_PDEATHSIG = 1
_STDERR_TAIL = 16_384
_MARKER_BYTES = 4096  # the shared page: lines "<seen>", then the running passes, outermost first; NUL-terminated


@dataclasses.dataclass(frozen=True)
class Limits:
    compile_seconds: float = 60.0  # per stage before RUN (build, lower, codegen, load) and for COMPARE
    run_seconds: float = 10.0  # the compiled kernel
    retry_factor: float = 4.0  # a timeout is re-run once with limits this much longer
    memory_bytes: int = 4 << 30  # address space a child may add to the warm parent's
    cases_per_child: int = 1000  # then a fresh child (keeps leaks and fragmentation bounded)

    def stage_seconds(self, stage: Stage, attempt: int) -> float:
        base = self.run_seconds if stage is Stage.RUN else self.compile_seconds
        return base * (self.retry_factor if attempt else 1.0)


@dataclasses.dataclass
class _Slot:
    """The parent's view of one child."""

    index: int
    pid: int = 0
    to_child: int = -1
    from_child: int = -1
    stderr_path: str = ""
    buffer: bytes = b""
    cases: int = 0
    restarts: int = 0
    case: TestCase | None = None
    attempt: int = 0
    stage: Stage = Stage.BUILD
    stage_started: float = 0.0
    marker: mmap.mmap | None = None  # shared with the child: the passes it is running
    stderr_offset: int = 0


@dataclasses.dataclass(frozen=True)
class WorkerState:
    index: int
    pid: int
    state: str  # "idle" or the stage name of the case in flight
    cases: int
    restarts: int
    generator: str


class ForkServer:
    """Runs test cases in `jobs` persistent children of this (warm) process. The runner says what a case is
    (`runner.case_type`: a TestCase for tzer.runner.Runner, a ScriptCase for tzer.triage.check.ScriptRunner)."""

    def __init__(self, runner: Any, jobs: int = 1, limits: Limits = Limits()):
        self.runner = runner
        self.limits = limits
        runner.warm_up()
        # The warm state is what every child shares copy-on-write. Freezing it keeps the garbage collector from
        # writing to (and so copying) the pages of objects the children only read.
        gc.collect()
        gc.freeze()
        self._stderr_dir = tempfile.TemporaryDirectory(prefix="tzer-stderr-")
        self._slots = [_Slot(i) for i in range(jobs)]
        self._queue: collections.deque[tuple[TestCase, int]] = collections.deque()
        self._done: collections.deque[tuple[TestCase, Execution]] = collections.deque()
        self._address_space_base = _address_space()

    @property
    def slots(self) -> int:
        return len(self._slots)

    def in_flight(self) -> int:
        return len(self._queue) + sum(slot.case is not None for slot in self._slots) + len(self._done)

    def submit(self, test_case: TestCase) -> None:
        self._queue.append((test_case, 0))

    def next_result(self) -> tuple[TestCase, Execution]:
        """Block until some test case is done; return it with its execution."""
        while not self._done:
            self._dispatch()
            self._wait()
        return self._done.popleft()

    def states(self) -> list[WorkerState]:
        return [WorkerState(s.index, s.pid, s.stage.name.lower() if s.case else "idle", s.cases, s.restarts,
                            s.case.generator if s.case else "") for s in self._slots]

    def close(self) -> None:
        for slot in self._slots:
            self._kill(slot)
            if slot.marker is not None:
                slot.marker.close()
                slot.marker = None
        self._stderr_dir.cleanup()

    # Parent side

    def _dispatch(self) -> None:
        for slot in self._slots:
            if slot.case is None and self._queue:
                test_case, attempt = self._queue.popleft()
                if slot.pid == 0 or slot.cases >= self.limits.cases_per_child:
                    self._respawn(slot)
                slot.case, slot.attempt, slot.stage = test_case, attempt, Stage.BUILD
                slot.stage_started = time.monotonic()
                slot.stderr_offset = os.path.getsize(slot.stderr_path)
                message = json.dumps({"case": test_case.to_json()}).encode() + b"\n"
                try:
                    os.write(slot.to_child, message)
                except BrokenPipeError:
                    pass  # the child died between cases; _wait sees its exit and reports it

    def _wait(self) -> None:
        busy = {s.from_child: s for s in self._slots if s.case is not None}
        if not busy:
            return
        now = time.monotonic()
        deadline = min(s.stage_started + self.limits.stage_seconds(s.stage, s.attempt) for s in busy.values())
        readable, _, _ = select.select(list(busy), [], [], max(0.0, deadline - now))
        for fd in readable:
            self._read(busy[fd])
        now = time.monotonic()
        for slot in busy.values():
            if slot.case is not None and now - slot.stage_started > self.limits.stage_seconds(slot.stage,
                                                                                              slot.attempt):
                self._timed_out(slot)

    def _read(self, slot: _Slot) -> None:
        chunk = os.read(slot.from_child, 65536)
        if not chunk:
            self._died(slot)
            return
        slot.buffer += chunk
        while b"\n" in slot.buffer and slot.case is not None:
            line, slot.buffer = slot.buffer.split(b"\n", 1)
            self._event(slot, json.loads(line))

    def _event(self, slot: _Slot, event: dict[str, Any]) -> None:
        kind = event["event"]
        if kind == "stage":
            slot.stage, slot.stage_started = Stage[event["stage"]], time.monotonic()
        elif kind == "result":
            self._finish(slot, Execution.from_json(event["execution"]))
        elif kind == "out_of_memory":
            self._finish(slot, self._failure(slot, Symptom.OUT_OF_MEMORY, "MemoryError", event["error"]))
        elif kind == "tzer_bug":
            case = slot.case
            self.close()
            raise TzerBug(f"in a worker, on {case.generator if case else '?'} test case: {event['traceback']}")

    def _finish(self, slot: _Slot, execution: Execution) -> None:
        self._done.append((slot.case, execution))
        slot.case = None
        slot.cases += 1

    def _timed_out(self, slot: _Slot) -> None:
        test_case, attempt = slot.case, slot.attempt
        seconds = self.limits.stage_seconds(slot.stage, attempt)
        _stop(slot.pid)  # first, so the shared page and the stderr log hold still while they are read
        slot.pid = 0
        execution = self._failure(slot, Symptom.TIMEOUT, "Timeout",
                                  f"{slot.stage.name.lower()} took over {seconds:g}s")
        self._kill(slot)
        slot.restarts += 1
        if attempt == 0:
            self._queue.appendleft((test_case, 1))  # once more, with longer limits, on a fresh child
        else:
            self._done.append((test_case, execution))

    def _died(self, slot: _Slot) -> None:
        _, status, usage = os.wait4(slot.pid, 0)
        slot.pid = 0
        if slot.case is None:
            return
        peak = usage.ru_maxrss * 1024
        if os.WIFSIGNALED(status):
            name = signal.Signals(os.WTERMSIG(status)).name
            near_limit = peak >= 0.9 * self.limits.memory_bytes
            symptom = Symptom.OUT_OF_MEMORY if near_limit and name in ("SIGKILL", "SIGABRT", "SIGSEGV") else \
                Symptom.CRASH
            execution = self._failure(slot, symptom, name, f"killed by {name}")
        else:
            execution = self._failure(slot, Symptom.CRASH, f"exit {os.WEXITSTATUS(status)}",
                                      f"exited with status {os.WEXITSTATUS(status)} in the middle of a test case")
        self._close_fds(slot)
        slot.restarts += 1
        self._finish(slot, execution)

    def _failure(self, slot: _Slot, symptom: Symptom, kind: str, message: str) -> Execution:
        """A finding for the case in flight on `slot`, with the child's stderr since the case began."""
        stderr = _read_from(slot.stderr_path, slot.stderr_offset)
        detail = kind if symptom in (Symptom.CRASH, Symptom.TIMEOUT) else f"{kind}: {normalize_message(message)}"
        running, seen = _read_marker(slot.marker)
        stage = slot.stage
        if stage is Stage.LOWER and not running and seen:
            stage = Stage.CODEGEN  # tvm.compile is past its passes: generating code
        signature = Signature(symptom, stage, running[-1] if running else "", detail)
        # Rebuilding the program here is safe once the child got past BUILD; a program whose very construction
        # kills a process must not be rebuilt in the campaign process.
        script, as_json = self.runner.program_texts(slot.case) if stage is not Stage.BUILD else ("", "")
        error = f"{message}\n--- stderr of the worker ---\n{stderr}" if stderr.strip() else message
        return Execution(Verdict.FINDING, signature, error, program_script=script, program_json=as_json,
                         tvm_version=self.runner.tvm_version)

    def _respawn(self, slot: _Slot) -> None:
        self._kill(slot)
        if not slot.stderr_path:
            slot.stderr_path = os.path.join(self._stderr_dir.name, f"worker-{slot.index}.log")
            open(slot.stderr_path, "wb").close()
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        if slot.marker is not None:
            slot.marker.close()
        slot.marker = mmap.mmap(-1, _MARKER_BYTES)  # anonymous and shared: the child writes, the parent reads
        coverage = getattr(self.runner, "coverage", None)
        if coverage is not None:
            coverage.sync()  # the new child need not trap on points its siblings already covered
        parent = os.getpid()
        pid = os.fork()
        if pid == 0:  # the child never returns from here
            os.close(to_child_w)
            os.close(from_child_r)
            for other in self._slots:
                if other is not slot:
                    self._close_fds(other)
            _child_main(self.runner, to_child_r, from_child_w, slot.marker, slot.stderr_path, self.limits,
                        self._address_space_base, parent)
        os.close(to_child_r)
        os.close(from_child_w)
        slot.pid, slot.to_child, slot.from_child, slot.buffer, slot.cases = pid, to_child_w, from_child_r, b"", 0

    def _kill(self, slot: _Slot) -> None:
        if slot.pid:
            _stop(slot.pid)
            slot.pid = 0
        self._close_fds(slot)
        slot.case = None

    @staticmethod
    def _close_fds(slot: _Slot) -> None:
        for fd in (slot.to_child, slot.from_child):
            if fd >= 0:
                try:
                    os.close(fd)
                except OSError:
                    pass
        slot.to_child = slot.from_child = -1


def _stop(pid: int) -> None:
    """Kill a child and reap it; a child already gone is fine."""
    try:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    except (ProcessLookupError, ChildProcessError):
        pass


def _address_space() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")


def _read_marker(marker: mmap.mmap | None) -> tuple[list[str], int]:
    """The passes the child was running (outermost first) and how many it had started, for the case in flight."""
    if marker is None:
        return [], 0
    lines = marker[:_MARKER_BYTES].split(b"\0", 1)[0].decode("utf-8", "replace").split("\n")
    if not lines[0].isdigit():  # empty: no case started yet
        return [], 0
    return lines[1:], int(lines[0])


def _read_from(path: str, offset: int) -> str:
    with open(path, "rb") as handle:
        handle.seek(offset)
        data = handle.read()
    return data[-_STDERR_TAIL:].decode("utf-8", "replace")


# Child side


class _ChildListener:
    """Tells the parent where the child is, so a crash or a hang names its stage and pass: stages over the pipe,
    line by line; the running passes in the shared page."""

    def __init__(self, fd: int, marker: mmap.mmap):
        self.fd = fd
        self.marker = marker
        self.running: list[str] = []
        self.seen = 0

    def send(self, event: dict[str, Any]) -> None:
        data = json.dumps(event).encode() + b"\n"
        while data:
            data = data[os.write(self.fd, data):]

    def stage(self, stage: Stage) -> None:
        if stage is Stage.BUILD:  # a new test case
            self.running, self.seen = [], 0
            self._mark()
        self.send({"event": "stage", "stage": stage.name})

    def pass_started(self, name: str) -> None:
        self.running.append(name)
        self.seen += 1
        self._mark()

    def pass_finished(self, name: str) -> None:
        if self.running:
            self.running.pop()
        self._mark()

    def _mark(self) -> None:
        # Plain lines rather than JSON: this runs twice for every pass of every case (pass names hold no newline).
        data = "\n".join([str(self.seen), *self.running[-16:]]).encode()[:_MARKER_BYTES - 1]
        self.marker[:len(data) + 1] = data + b"\0"


def _child_main(runner: Any, from_parent: int, to_parent: int, marker: mmap.mmap, stderr_path: str,
                limits: Limits, base_address_space: int, parent: int) -> None:
    status = 0
    try:
        die_with_parent(parent)
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        stderr = os.open(stderr_path, os.O_WRONLY | os.O_APPEND)
        os.dup2(stderr, 2)
        os.close(stderr)
        ceiling = base_address_space + limits.memory_bytes
        resource.setrlimit(resource.RLIMIT_AS, (ceiling, ceiling))
        listener = _ChildListener(to_parent, marker)
        lines = os.fdopen(from_parent, "rb")
        for _ in range(limits.cases_per_child):
            line = lines.readline()
            if not line:
                break
            test_case = runner.case_type.from_json(json.loads(line)["case"])
            try:
                execution = runner.execute(test_case, listener)
            except MemoryError as exc:
                listener.send({"event": "out_of_memory", "error": f"MemoryError: {exc}"})
                break  # a fresh child, rather than one whose heap hit its ceiling
            except Exception:
                listener.send({"event": "tzer_bug", "traceback": traceback.format_exc()})
                break
            listener.send({"event": "result", "execution": execution.to_json()})
    except BaseException:
        status = 70
    finally:
        os._exit(status)


def die_with_parent(parent: int) -> None:
    """The kernel kills this child when its parent dies, even by kill -9: no orphan is ever left behind."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(0)
