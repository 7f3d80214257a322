"""The GPU worker: the one process that runs CUDA builds on the GPU, beside the fork server.

A CUDA context does not survive fork, so the fork server's children (forked from a warm parent that never touches
the GPU) do not run kernels themselves: each sends its CUDA run to this worker over a Unix socket, one JSON line
each way (the module as TVM JSON and the inputs as an .npz of plain arrays, in files beside the socket; no
pickles). The worker is a fresh interpreter that imports TVM and initializes CUDA itself, then compiles each module
for CUDA, runs it and answers with the output (an .npy) or the failure. One request at a time: there is one GPU.

Crash isolation of its own: a supervisor process starts the serving process and restarts it whenever it dies,
writing down how it died. The request that killed it sees the connection close and reads that record (a crash,
with its signal); the next request finds a fresh server. A request that outlasts its time limit kills the server
(a hung kernel holds the GPU) and reports a timeout.

`gpu_available` asks whether this machine has a GPU without creating a CUDA context (nvidia-smi), so the warm
parent stays fork-safe.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
from typing import Any

import numpy as np

SOCKET = "socket"
DEATHS = "deaths.jsonl"  # the supervisor's record of each server death: {"returncode": n}
SERVER_PID = "server.pid"
STDERR = "stderr.log"
START_SECONDS = 120.0  # a fresh server imports TVM and initializes CUDA before it listens
REQUEST_SECONDS = 50.0  # compile, load and run one module (under the fork server's 60 s per-stage limit)


def gpu_available() -> bool:
    """Whether an NVIDIA GPU and its driver answer here, asked in a subprocess (no CUDA context in this one).
    TZER_NO_GPU=1 says no, for campaigns that must stay on the nvcc oracles."""
    if os.environ.get("TZER_NO_GPU") == "1":
        return False
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return False
    try:
        listed = subprocess.run([smi, "-L"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return listed.returncode == 0 and "GPU" in listed.stdout


@dataclasses.dataclass(frozen=True)
class GpuRun:
    """What a run on the GPU gave: the output, or the failure TVM raised (stage, type, message, internal), or the
    server's death (`crashed`: its signal or exit status) or hang (`timed_out`)."""

    output: np.ndarray | None = None
    failure: dict[str, Any] | None = None
    crashed: str = ""
    timed_out: bool = False


class GpuWorker:
    """The client side. Created in the warm parent (it starts the supervisor, a subprocess: no fork of a CUDA
    context), used by the parent and its forked children alike (each request opens its own connection)."""

    def __init__(self, arch: str, request_seconds: float = REQUEST_SECONDS):
        self.arch = arch
        self.request_seconds = request_seconds
        self.directory = tempfile.mkdtemp(prefix="tzer-gpu-")
        self._requests = itertools.count()
        with open(os.path.join(self.directory, STDERR), "ab") as stderr:
            self._supervisor = subprocess.Popen(
                [sys.executable, "-m", "tzer.execute.gpu_worker", "supervise", self.directory, arch,
                 str(os.getpid())], stdin=subprocess.DEVNULL, stdout=stderr, stderr=stderr, start_new_session=True)

    def run(self, module_json: str, passes: dict[str, Any], inputs: list[np.ndarray], out_shape: tuple[int, ...],
            out_dtype: str) -> GpuRun:
        """Compile `module_json` (TVM JSON) with `passes` (PassConfig JSON) for CUDA in the worker, run it on
        `inputs` and an output of `out_shape`/`out_dtype`."""
        stem = os.path.join(self.directory, f"{os.getpid()}-{next(self._requests)}")
        with open(stem + ".json", "w") as handle:
            handle.write(module_json)
        np.savez(stem + ".npz", *inputs)
        request = {"stem": stem, "passes": passes, "out_shape": list(out_shape), "out_dtype": out_dtype}
        try:
            return self._exchange(request)
        finally:
            for suffix in (".json", ".npz", ".npy"):
                _remove(stem + suffix)

    def close(self) -> None:
        """Stop the supervisor and its server (their own process group) and remove the directory."""
        try:
            os.killpg(self._supervisor.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self._supervisor.wait()
        shutil.rmtree(self.directory, ignore_errors=True)

    def stderr_tail(self, size: int = 4000) -> str:
        with open(os.path.join(self.directory, STDERR), "rb") as handle:
            return handle.read()[-size:].decode("utf-8", "replace")

    def _exchange(self, request: dict[str, Any]) -> GpuRun:
        deaths = self._deaths()
        connection = self._connect()
        try:
            connection.settimeout(self.request_seconds)
            connection.sendall(json.dumps(request).encode() + b"\n")
            answer = _read_line(connection)
        except TimeoutError:
            self._kill_server()
            return GpuRun(timed_out=True)
        finally:
            connection.close()
        if not answer:  # the server died on this request
            return GpuRun(crashed=self._death_after(deaths))
        reply = json.loads(answer)
        if "tzer_bug" in reply:
            from tzer.errors import TzerBug

            raise TzerBug(f"the GPU worker failed on a request:\n{reply['tzer_bug']}")
        if "failure" in reply:
            return GpuRun(failure=reply["failure"])
        return GpuRun(output=np.load(request["stem"] + ".npy", allow_pickle=False))

    def _connect(self) -> socket.socket:
        """A connection to the server, waiting while a (re)started server imports TVM; TzerBug if none comes."""
        from tzer.errors import TzerBug

        path = os.path.join(self.directory, SOCKET)
        deadline = time.monotonic() + START_SECONDS
        while True:
            connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                connection.connect(path)
                return connection
            except (FileNotFoundError, ConnectionRefusedError):
                connection.close()
            if self._supervisor.poll() is not None or time.monotonic() > deadline:
                raise TzerBug(f"the GPU worker did not start; its stderr ends:\n{self.stderr_tail()}")
            time.sleep(0.1)

    def _deaths(self) -> list[dict[str, Any]]:
        try:
            with open(os.path.join(self.directory, DEATHS)) as handle:
                return [json.loads(line) for line in handle if line.strip()]
        except FileNotFoundError:
            return []

    def _death_after(self, before: list[dict[str, Any]], wait_seconds: float = 10.0) -> str:
        """How the server died ("SIGSEGV", "exit status 3"), once the supervisor has written it down."""
        deadline = time.monotonic() + wait_seconds
        while time.monotonic() < deadline:
            deaths = self._deaths()
            if len(deaths) > len(before):
                return _describe_exit(deaths[-1]["returncode"])
            time.sleep(0.05)
        return "connection closed"

    def _kill_server(self) -> None:
        try:
            with open(os.path.join(self.directory, SERVER_PID)) as handle:
                os.kill(int(handle.read()), signal.SIGKILL)
        except (FileNotFoundError, ValueError, ProcessLookupError):
            pass


def _describe_exit(returncode: int) -> str:
    if returncode < 0:
        try:
            return signal.Signals(-returncode).name
        except ValueError:
            return f"signal {-returncode}"
    return f"exit status {returncode}"


def _read_line(connection: socket.socket) -> bytes:
    data = b""
    while not data.endswith(b"\n"):
        chunk = connection.recv(65536)
        if not chunk:
            return b""
        data += chunk
    return data


def _remove(path: str) -> None:
    try:
        os.remove(path)
    except FileNotFoundError:
        pass


# The worker's side: `python -m tzer.execute.gpu_worker supervise DIR ARCH PARENT_PID`


def _supervise(directory: str, arch: str, parent: int) -> None:
    """Start the server and restart it whenever it dies, recording each death; stop when the parent is gone."""
    while os.getppid() == parent:
        server = subprocess.Popen([sys.executable, "-m", "tzer.execute.gpu_worker", "serve", directory, arch])
        with open(os.path.join(directory, SERVER_PID), "w") as handle:
            handle.write(str(server.pid))
        while server.poll() is None:
            if os.getppid() != parent:
                server.kill()
                return
            time.sleep(0.2)
        with open(os.path.join(directory, DEATHS), "a") as handle:
            handle.write(json.dumps({"returncode": server.returncode}) + "\n")


def _serve(directory: str, arch: str) -> None:
    """Listen on the socket and answer one request at a time."""
    from tzer.execute.sandbox import die_with_parent

    die_with_parent(os.getppid())  # the supervisor killed by SIGKILL takes its server along
    import tvm  # noqa: F401  (before the socket exists: clients wait for it, not for the import)
    import tvm.support.nvcc  # noqa: F401  (registers tvm_callback_cuda_compile, which loading a CUDA module calls)

    from tzer.execute.executor import Executor
    from tzer.execute.targets import CUDA

    executor = Executor(CUDA(arch))
    path = os.path.join(directory, SOCKET)
    _remove(path)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(64)
    while True:
        connection, _ = listener.accept()
        with connection:
            try:
                reply = _answer(executor, json.loads(_read_line(connection)))
            except Exception:  # TVM's own errors are failures in the reply: anything else is tzer's
                reply = {"tzer_bug": traceback.format_exc()}
            connection.sendall(json.dumps(reply).encode() + b"\n")


def _answer(executor: Any, request: dict[str, Any]) -> dict[str, Any]:
    """Compile, load and run one request's module on the GPU: the output's file, or the failure."""
    import tvm

    from tzer.records import PassConfig

    stem = request["stem"]
    with open(stem + ".json") as handle:
        mod = tvm.ir.load_json(handle.read())
    with np.load(stem + ".npz", allow_pickle=False) as archive:
        inputs = [archive[f"arr_{i}"] for i in range(len(archive.files))]
    result = executor.run(mod, PassConfig.from_json(request["passes"]), inputs, tuple(request["out_shape"]),
                          request["out_dtype"])
    if result.failure is not None:
        failure = result.failure
        return {"failure": {"stage": failure.stage.name, "error_type": failure.error_type,
                            "message": failure.message, "internal": failure.internal}}
    np.save(stem + ".npy", result.output, allow_pickle=False)
    return {"output": stem + ".npy"}


if __name__ == "__main__":
    role, worker_directory, worker_arch = sys.argv[1:4]
    if role == "supervise":
        _supervise(worker_directory, worker_arch, int(sys.argv[4]))
    else:
        _serve(worker_directory, worker_arch)
