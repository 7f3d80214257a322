"""Unit-tier guard: no unit test may import TVM or PyTorch (the tier must stay fast and compile nothing)."""

import sys

import pytest

HEAVY = ("tvm", "torch")


def _heavy_loaded() -> set[str]:
    return {name for name in HEAVY if name in sys.modules}


@pytest.fixture(autouse=True)
def no_heavy_imports():
    # Compare before/after rather than assert absence, so the guard still works when another tier ran first in the
    # same session and already imported TVM.
    before = _heavy_loaded()
    yield
    imported = _heavy_loaded() - before
    assert not imported, f"a unit test imported {sorted(imported)}; the unit tier must not"
