"""Slow: 500 programs and mutants compiled and run with native-bb patched and without give the same bytes out, and
tzer does not crash (issue 5's acceptance). Each side runs in its own process (patching lasts a process's life)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tzer.testing.native_identity import UNWRITTEN, differing

pytestmark = pytest.mark.quality
COUNT = 500


def digests(coverage: str) -> dict:
    child = subprocess.run([sys.executable, "-m", "tzer.testing.native_identity", str(COUNT), coverage],
                           capture_output=True, text=True, timeout=3600, start_new_session=True)
    assert child.returncode == 0, child.stderr[-3000:]
    return json.loads(child.stdout.strip().splitlines()[-1])


@pytest.mark.timeout(7200)
def test_500_patched_compiles_are_bit_identical_to_unpatched():
    patched, plain = digests("native-bb"), digests("none")
    assert patched["coverage"] == "native-bb" and plain["coverage"] == "none"
    assert len(patched["digests"]) == COUNT
    differ = differing(patched["digests"], plain["digests"])
    assert not differ, f"{len(differ)} of {COUNT} differ, first: {differ[:10]}"
    outputs = sum(len(d) == 64 for d in patched["digests"])
    unwritten = patched["digests"].count(UNWRITTEN)
    assert outputs >= 0.6 * COUNT and unwritten < 0.1 * COUNT
    print(f"{COUNT} compiles: {outputs} with output, all identical; {unwritten} read unwritten memory; "
          f"{patched['covered']} blocks covered")
