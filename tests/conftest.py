"""Shared test helpers: running the tzer CLI in its own process group, killed whole on teardown."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys

import pytest


class CliRunner:
    """Starts `python -m tzer ...` children in new sessions and kills each whole process group when done.

    Output goes to files, not pipes, so a chatty child (TVM warns on stderr) can never block on a full pipe."""

    def __init__(self, cwd: str):
        self.cwd = cwd
        self.children: list[subprocess.Popen] = []
        self._numbers = itertools.count()

    def start(self, *args: str) -> subprocess.Popen:
        number = next(self._numbers)
        stdout = open(os.path.join(self.cwd, f".cli-{number}.out"), "w+")
        stderr = open(os.path.join(self.cwd, f".cli-{number}.err"), "w+")
        child = subprocess.Popen([sys.executable, "-m", "tzer", *args], cwd=self.cwd, stdout=stdout, stderr=stderr,
                                 text=True, start_new_session=True)
        child.output_files = (stdout, stderr)  # type: ignore[attr-defined]
        self.children.append(child)
        return child

    @staticmethod
    def read(child: subprocess.Popen) -> tuple[str, str]:
        texts = []
        for handle in child.output_files:  # type: ignore[attr-defined]
            handle.seek(0)
            texts.append(handle.read())
        return texts[0], texts[1]

    def run(self, *args: str, timeout: float = 240) -> subprocess.CompletedProcess:
        child = self.start(*args)
        child.wait(timeout=timeout)
        stdout, stderr = self.read(child)
        return subprocess.CompletedProcess(child.args, child.returncode, stdout, stderr)

    def kill_all(self) -> None:
        for child in self.children:
            if child.poll() is None:
                try:
                    os.killpg(child.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                child.wait()
            for handle in child.output_files:  # type: ignore[attr-defined]
                handle.close()


@pytest.fixture
def cli(tmp_path):
    runner = CliRunner(str(tmp_path))
    yield runner
    runner.kill_all()
