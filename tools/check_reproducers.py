"""Run reproducer scripts the way a TVM developer would: each copied alone into an empty directory and run by a
fresh virtualenv that has only apache-tvm and numpy (no tzer, no PyTorch). Prints one line per script and exits 0
when every script exits 1 (the bug reproduces), else 1.

    python tools/check_reproducers.py DIR_OR_FILES... [--venv /tmp/tzer-repro-venv]

The virtualenv is made on first use (`pip install apache-tvm==0.27.0.post1 apache-tvm-ffi==0.1.14.post1 numpy`:
the same pins as tzer, see README "Versions") and reused after.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile

PACKAGES = ("apache-tvm==0.27.0.post1", "apache-tvm-ffi==0.1.14.post1", "numpy")


def venv_python(venv: str) -> str:
    python = os.path.join(venv, "bin", "python")
    if not os.path.exists(python):
        subprocess.run([sys.executable, "-m", "venv", venv], check=True)
        subprocess.run([python, "-m", "pip", "install", "-q", *PACKAGES], check=True)
    return python


def scripts(paths: list[str]) -> list[str]:
    found = []
    for path in paths:
        if os.path.isdir(path):
            found += sorted(os.path.join(path, n) for n in os.listdir(path) if n.endswith(".py"))
        else:
            found.append(path)
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+")
    parser.add_argument("--venv", default=os.path.join(tempfile.gettempdir(), "tzer-repro-venv"))
    parser.add_argument("--timeout", type=float, default=900)
    args = parser.parse_args()
    python = venv_python(args.venv)
    failures = 0
    for script in scripts(args.paths):
        with tempfile.TemporaryDirectory(prefix="repro-") as alone:
            copy = shutil.copy(script, alone)
            env = {"PATH": os.environ.get("PATH", ""), "HOME": alone}
            done = subprocess.run([python, copy], cwd=alone, env=env, capture_output=True, text=True,
                                  timeout=args.timeout)
        verdict = next((line for line in done.stdout.splitlines() if line.startswith("actual:")), "")
        print(f"{os.path.basename(script)}: exit {done.returncode}  {verdict[:150]}", flush=True)
        if done.returncode != 1:
            failures += 1
            print(done.stdout[-2000:] + done.stderr[-2000:])
    print(f"{failures} of {len(scripts(args.paths))} reproducers did not exit 1")
    return 0 if failures == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
