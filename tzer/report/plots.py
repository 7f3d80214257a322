"""The report's plots: coverage over time and findings over time, one line per campaign, as PNG bytes.

matplotlib draws off screen (Agg); the HTML report embeds the PNGs, the Markdown one links them.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from tzer.store.base import CampaignRecord, TimelinePoint


def _figure():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(7.5, 3.6), dpi=110)
    axes.grid(True, alpha=0.3)
    return plt, figure, axes


def _png(plt, figure) -> bytes:
    buffer = io.BytesIO()
    figure.tight_layout()
    figure.savefig(buffer, format="png")
    plt.close(figure)
    return buffer.getvalue()


def _label(campaign: CampaignRecord) -> str:
    return f"campaign {campaign.id} ({campaign.mode}, seed {campaign.seed})"


def _by_campaign(timeline: Sequence[TimelinePoint], campaigns: Sequence[CampaignRecord]):
    for campaign in campaigns:
        points = [p.stats for p in timeline if p.campaign_id == campaign.id]
        if points:
            yield campaign, points


def coverage_plot(timeline: Sequence[TimelinePoint], campaigns: Sequence[CampaignRecord]) -> bytes:
    """Native blocks covered over time where measured (TVM's own code solid, all blocks dashed), else the
    pass-effect features seen."""
    native = any(p.stats.native_coverage is not None for p in timeline)
    plt, figure, axes = _figure()
    for campaign, points in _by_campaign(timeline, campaigns):
        values = [(s.coverage_tvm if native else s.coverage) for s in points]
        kept = [(s.elapsed / 60, v) for s, v in zip(points, values) if v is not None]
        if kept:
            line, = axes.plot(*zip(*kept), label=_label(campaign))
            every = [(s.elapsed / 60, s.native_coverage) for s in points if s.native_coverage is not None]
            if native and every:
                axes.plot(*zip(*every), linestyle="--", color=line.get_color(), alpha=0.6)
    axes.set_xlabel("minutes")
    axes.set_ylabel("basic blocks of libtvm_compiler.so covered" if native else "pass-effect features seen")
    axes.set_title("Coverage over time (solid: TVM's own code; dashed: all, with LLVM and Z3)" if native else
                   "Coverage over time")
    if axes.get_legend_handles_labels()[0]:
        axes.legend(fontsize=8)
    return _png(plt, figure)


def findings_plot(timeline: Sequence[TimelinePoint], campaigns: Sequence[CampaignRecord]) -> bytes:
    """Distinct findings new to the store (solid) and all finding occurrences (dashed) over time."""
    plt, figure, axes = _figure()
    for campaign, points in _by_campaign(timeline, campaigns):
        minutes = [s.elapsed / 60 for s in points]
        line, = axes.step(minutes, [s.new_findings for s in points], where="post", label=_label(campaign))
        axes.step(minutes, [s.findings for s in points], where="post", linestyle="--", color=line.get_color(),
                  alpha=0.6)
    axes.set_xlabel("minutes")
    axes.set_ylabel("findings")
    axes.set_title("Findings over time (solid: new signatures; dashed: occurrences)")
    if axes.get_legend_handles_labels()[0]:
        axes.legend(fontsize=8)
    return _png(plt, figure)
