"""The report store interface: campaigns, the corpus, findings with their history, and the throughput timeline.

A backend implements `Store` and registers under a URL scheme in `BACKENDS` (SQLite for plain paths; PostgreSQL
comes later for campaigns shared across machines). Stored data is data: JSON text and SQL values, never pickles.
Every write that matters commits on its own (one transaction per finding), so a killed campaign loses at most the
statistics since the last checkpoint.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any

from tzer.records import CampaignStats, Finding, Signature, TestCase
from tzer.registry import Registry
from tzer.triage.case import Reduction


@dataclasses.dataclass(frozen=True)
class Occurrence:
    campaign_id: int
    test_case_key: str
    seen_at: float


@dataclasses.dataclass(frozen=True)
class StoredFinding:
    id: int
    signature: Signature
    target: str
    tvm_version: str
    count: int
    first_seen: float
    last_seen: float
    test_case: TestCase  # the first test case that showed it
    error: str
    max_abs_error: float | None
    max_rel_error: float | None
    program_script: str
    program_json: str
    reproducer: str | None  # a standalone script, once one exists
    history: tuple[Occurrence, ...] = ()
    blame: tuple[str, ...] = ()  # a mismatch's guilty passes (bisection) or the schedule step that broke it
    reduction: Reduction | None = None  # the reduced case, once reduced

    def to_json(self, full: bool = False) -> dict[str, Any]:
        data = {
            "id": self.id,
            **self.signature.to_json(),
            "signature": self.signature.to_json(),
            "target": self.target,
            "tvm_version": self.tvm_version,
            "count": self.count,
            "first_seen": self.first_seen,
            "last_seen": self.last_seen,
            "generator": self.test_case.generator,
            "test_case": self.test_case.to_json(),
            "error": self.error,
            "max_abs_error": self.max_abs_error,
            "max_rel_error": self.max_rel_error,
            "has_reproducer": self.reproducer is not None,
            "blame": list(self.blame),
            "reduced_lines": self.reduction.lines if self.reduction else None,
        }
        if full:
            data["program_script"] = self.program_script
            data["program_json"] = self.program_json
            data["reproducer"] = self.reproducer
            data["history"] = [dataclasses.asdict(o) for o in self.history]
            data["reduction"] = self.reduction.to_json() if self.reduction else None
        return data


@dataclasses.dataclass(frozen=True)
class CampaignRecord:
    id: int
    started_at: float
    ended_at: float | None
    seed: int
    target: str
    mode: str
    tvm_version: str
    stop_reason: str | None
    stats: CampaignStats
    config: dict[str, Any] = dataclasses.field(default_factory=dict)
    engine_state: Any = None  # the engine's resumable state at the last checkpoint (JSON: rng and scheduler)


@dataclasses.dataclass(frozen=True)
class TimelinePoint:
    campaign_id: int
    stats: CampaignStats


class Store:
    """The narrow interface every backend implements. Methods raise `tzer.errors.StoreError` on backend failure."""

    def begin_campaign(self, seed: int, target: str, mode: str, tvm_version: str, config: dict[str, Any]) -> int:
        raise NotImplementedError

    def checkpoint(self, campaign_id: int, stats: CampaignStats, test_cases: Iterable[TestCase],
                   engine_state: Any = None) -> None:
        """Store, in one transaction, the campaign's totals, one timeline point, the test cases executed since the
        last call and the engine's state (rng, scheduler): a resumed campaign continues from exactly this point."""
        raise NotImplementedError

    def last_campaign(self) -> CampaignRecord | None:
        raise NotImplementedError

    def reopen_campaign(self, campaign_id: int) -> None:
        """Mark a stopped (or killed) campaign as running again, for --resume."""
        raise NotImplementedError

    def end_campaign(self, campaign_id: int, stats: CampaignStats, stop_reason: str) -> None:
        raise NotImplementedError

    def record_finding(self, campaign_id: int, finding: Finding) -> tuple[int, bool]:
        """Store one finding in its own transaction: (finding id, whether its signature is new to the store)."""
        raise NotImplementedError

    def set_reproducer(self, finding_id: int, script: str) -> None:
        raise NotImplementedError

    def set_reduction(self, finding_id: int, reduction: Reduction) -> None:
        """Keep the reduced case of a finding (tzer.triage.reduce), replacing an earlier one."""
        raise NotImplementedError

    def findings(self) -> list[StoredFinding]:
        raise NotImplementedError

    def finding(self, finding_id: int) -> StoredFinding | None:
        raise NotImplementedError

    def campaigns(self) -> list[CampaignRecord]:
        raise NotImplementedError

    def timeline(self, campaign_id: int | None = None) -> list[TimelinePoint]:
        raise NotImplementedError

    def test_cases(self) -> list[TestCase]:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


BACKENDS: Registry[Any] = Registry("store backend", {"sqlite": "tzer.store.sqlite:SQLiteStore"})


def open_store(location: str, create: bool = False) -> Store:
    """Open the store at `location`: a URL whose scheme names the backend, or a plain path for SQLite.

    With `create=False` a missing store is an error (reading commands never create one)."""
    scheme, sep, rest = location.partition("://")
    backend = BACKENDS.get(scheme if sep else "sqlite")
    return backend.open(rest if sep else location, create=create)
