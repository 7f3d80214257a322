"""The hand-written reproducers of real TVM bugs that tzer found still reproduce on the pinned TVM.

Each script in reproducers/ is standalone (apache-tvm and numpy) and exits 1 while the bug is there. When a TVM
upgrade fixes one, this test fails: move the script to reproducers/fixed/ and say so in the changelog.
"""

from __future__ import annotations

import pathlib
import subprocess
import sys

import pytest

pytestmark = pytest.mark.integration

REPRODUCERS = sorted((pathlib.Path(__file__).parents[2] / "reproducers").glob("*.py"))


def test_there_are_reproducers():
    assert REPRODUCERS


@pytest.mark.parametrize("script", REPRODUCERS, ids=lambda p: p.stem)
def test_reproducer_still_fails_on_tvm(script, tmp_path):
    result = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True,
                            timeout=120, start_new_session=True)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "BUG REPRODUCES" in result.stdout
