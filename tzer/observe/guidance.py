"""How a campaign's feedback steered it: the measures of guided, joint fuzzing that `tzer stats` and the report show.

- `pass_share`: pass mutations over all mutant tries (Tzer's joint schedule gives one in `n_max + 1` at most), for
  the whole campaign and for its second half;
- `new_share`: valid mutants that counted as new (joined the seed pool) over all valid mutants, for the whole
  campaign and for its second half (the steady state; from the timeline's cumulative mutator counts): a signal that
  calls half of all mutants new does not discriminate, and no entry ever reaches `n_max` fails;
- pass firings (WhiteFox's measure of optimizations exercised): for each pass of the pass mutator's vocabulary, in
  how many test cases it changed the IR; the passes that never did.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tzer.mutate.passes import is_pass_mutator
from tzer.records import CampaignStats, MutatorStats


def _sums(mutators: Sequence[tuple[str, MutatorStats]]) -> dict[str, int]:
    tries = sum(m.tries for _, m in mutators)
    return {"tries": tries, "pass_tries": sum(m.tries for name, m in mutators if is_pass_mutator(name)),
            "valid": sum(m.valid for _, m in mutators), "new": sum(m.new for _, m in mutators)}


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def guidance(stats: CampaignStats, timeline: Sequence[CampaignStats] = ()) -> dict[str, Any]:
    """The campaign's guidance measures; `timeline`: its timeline points (cumulative stats, in time order)."""
    whole = _sums(stats.mutators)
    half = next((point for point in timeline if point.elapsed >= stats.elapsed / 2), None)
    second = whole
    if half is not None:
        first = _sums(half.mutators)
        second = {key: whole[key] - first[key] for key in whole}
    return {
        "mutant_tries": whole["tries"],
        "pass_share": _share(whole["pass_tries"], whole["tries"]),
        "pass_share_second_half": _share(second["pass_tries"], second["tries"]),
        "new_share": _share(whole["new"], whole["valid"]),
        "new_share_second_half": _share(second["new"], second["valid"]),
        "passes_never_fired": never_fired(stats.pass_firings),
    }


def vocabulary() -> list[str]:
    """The PassInfo names of the passes the pass mutator draws from (tzer.execute.pipeline)."""
    from tzer.execute.pipeline import info_name, known_passes

    return sorted({info_name(name) for name in known_passes()})


def never_fired(firings: Sequence[tuple[str, int, int]]) -> list[str]:
    """The passes of the vocabulary that changed the IR in no test case."""
    fired = {name for name, count, _ in firings if count}
    return [name for name in vocabulary() if name not in fired]
