"""The quality tier: 1,000 unmutated programs across all families give no mismatch and no finding at all.

Run by hand (`tox -e quality`, 5-10 minutes on 2 cores); its output goes in the closing note. A failure here is
either a real TVM bug (file it with a standalone reproducer) or a defect in tzer's generators or tolerance policy.
"""

from __future__ import annotations

import collections

import pytest

from tzer.config import FuzzConfig
from tzer.engine import Engine, StopReason
from tzer.execute.backends import make_backend
from tzer.store.sqlite import SQLiteStore

pytestmark = pytest.mark.quality

SWEEP_PROGRAMS = 1000
SWEEP_SEED = 2026


@pytest.mark.timeout(3600)
def test_unmutated_programs_give_no_mismatch(tmp_path):
    from tzer.runner import Runner

    config = FuzzConfig(seed=SWEEP_SEED, store=str(tmp_path / "sweep.db"), iterations=SWEEP_PROGRAMS,
                        mode="generate")
    with SQLiteStore.open(config.store, create=True) as store:
        result = Engine(config, store, make_backend(config, Runner("llvm"))).run()
        findings = store.findings()
        test_cases = store.test_cases()
    per_generator = collections.Counter(tc.generator for tc in test_cases)
    per_dtype = collections.Counter(tc.params["dtype"] for tc in test_cases)
    print(f"\n{result.stats.executions} programs in {result.stats.elapsed:.0f}s; by generator {dict(per_generator)};"
          f" by dtype {dict(per_dtype)}")
    assert result.stop_reason is StopReason.ITERATION_BUDGET
    assert result.stats.executions == SWEEP_PROGRAMS
    assert len(per_generator) == 11, "every family takes part"
    assert not findings, "\n".join(f"{f.signature.to_json()} {f.error[:300]}" for f in findings)
