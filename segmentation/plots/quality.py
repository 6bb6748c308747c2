"""Figures for choosing and checking a segmentation.

Silhouette per customer grouped by segment, quality curves over the number of segments, the search leaderboard,
per-segment stability, and segments against known groups. Every builder returns a ``go.Figure`` and draws
nothing; every figure says in its subtitle what a good value looks like, in the words of
``understand.metrics.GOOD_VALUES``. Segment colours come from ``theme.segment_colour``, as on the map. The
segment sizes are ``plots.sizes``, the flow between two runs ``plots.flow``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from segmentation.choose.diagnostics import best_k
from segmentation.common import segment_label
from segmentation.plots.theme import (
    CATEGORY_PALETTE,
    GRID,
    LEVEL_COLOURS,
    SEGMENT_PALETTE,
    empty_figure,
    plain_label,
    segment_colour,
    segment_tick,
    titled,
)
from segmentation.understand.metrics import GOOD_VALUES, JACCARD_FAIR, JACCARD_STABLE

if TYPE_CHECKING:
    from segmentation.choose.search import Leaderboard
    from segmentation.choose.stability import StabilityReport

__all__ = ["BADGE_COLOURS", "silhouette_figure", "curves_figure", "leaderboard_figure", "stability_figure",
           "crosstab_figure"]

BADGE_COLOURS: Mapping[str, str] = {"stable": LEVEL_COLOURS["good"], "fair": LEVEL_COLOURS["fair"],
                                    "unstable": LEVEL_COLOURS["poor"]}
"""Colours of the stability badges: those of the Jaccard verdict's levels."""


# --------------------------------------------------------------------------- silhouette
def silhouette_figure(table: pd.DataFrame, names: Mapping[int, str] | None = None) -> go.Figure:
    """The classic silhouette plot: one thin bar per customer, grouped by segment, best placed on top.

    ``table`` is ``diagnostics.silhouette_table(Z, labels)`` (columns row,
    segment, silhouette, in drawing order). Each bar carries the customer's row
    position as ``customdata[0]``. A dashed line marks the average.
    """
    title = "Silhouette per customer, by segment"
    if table is None or not len(table):
        return empty_figure(title, "Fewer than two segments: there is no silhouette to show.")
    fig = go.Figure()
    gap = max(2, int(len(table) * 0.02))
    position = 0
    ticks, tick_text = [], []
    for segment, block in table.groupby("segment", sort=False):
        ys = np.arange(position, position + len(block))
        colour = segment_colour(int(segment))
        label = plain_label(segment_label(int(segment), names))
        fig.add_trace(go.Bar(
            x=block["silhouette"].to_numpy(), y=ys, orientation="h", name=label, width=1.0,
            marker=dict(color=colour, line=dict(width=0)), customdata=block[["row"]].to_numpy(),
            hovertemplate=f"{label}<br>silhouette %{{x:.2f}}<extra></extra>",
        ))
        ticks.append(position + len(block) / 2)
        tick_text.append(f"{label} · {block['silhouette'].mean():.2f}")
        position += len(block) + gap
    mean = float(table["silhouette"].mean())
    below = float((table["silhouette"] < 0).mean())
    fig.add_vline(x=mean, line=dict(color="#374151", dash="dash", width=1.5),
                  annotation_text=f"average {mean:.2f}", annotation_position="top")
    fig.add_vline(x=0, line=dict(color="#9CA3AF", width=1))
    fig.update_yaxes(tickvals=ticks, ticktext=tick_text, autorange="reversed", showgrid=False, zeroline=False)
    fig.update_xaxes(title="Silhouette (-1 to 1)", range=[min(-0.1, float(table["silhouette"].min()) - 0.02), 1],
                     gridcolor=GRID, zeroline=False)
    fig.update_layout(bargap=0, showlegend=False)
    subtitle = (f"Higher is better. {GOOD_VALUES['silhouette']}. Bars left of 0 ({below:.0%} of customers) sit "
                "closer to another segment.")
    return titled(fig, title, subtitle, height=max(360, min(900, 140 + len(table) // 4)))


# --------------------------------------------------------------------------- curves over k
def curves_figure(curves: pd.DataFrame) -> go.Figure:
    """Four small charts against the number of segments, from ``diagnostics.k_curves``.

    Inertia (look for the elbow), silhouette (higher is better), Davies-Bouldin
    (lower is better) and a Gaussian mixture's BIC (lower is better); the best k
    of each is marked.
    """
    from plotly.subplots import make_subplots

    title = "Quality by number of segments"
    if curves is None or not len(curves):
        return empty_figure(title, "No curves: there are too few customers to try several numbers of segments.")
    panels = [("inertia", "Inertia: look for the elbow"), ("silhouette", "Silhouette: higher is better"),
              ("davies_bouldin", "Davies-Bouldin: lower is better"), ("bic", "BIC (Gaussian mixture): lower is better")]
    fig = make_subplots(rows=2, cols=2, subplot_titles=[p[1] for p in panels], horizontal_spacing=0.1,
                        vertical_spacing=0.18)
    best = best_k(curves)
    for i, (column, _) in enumerate(panels):
        row, col = i // 2 + 1, i % 2 + 1
        values = curves[column].to_numpy(dtype=float)
        fig.add_trace(go.Scatter(x=curves["k"], y=values, mode="lines+markers", name=column, showlegend=False,
                                 line=dict(color=SEGMENT_PALETTE[0], width=2), marker=dict(size=7),
                                 hovertemplate=f"k=%{{x}}<br>{column} %{{y:.3g}}<extra></extra>"), row=row, col=col)
        if column in best:
            at = int(np.flatnonzero(curves["k"].to_numpy() == best[column])[0])
            fig.add_trace(go.Scatter(x=[best[column]], y=[values[at]], mode="markers", showlegend=False,
                                     marker=dict(size=13, color=SEGMENT_PALETTE[1], symbol="star"),
                                     hovertemplate="best: k=%{x}<extra></extra>"), row=row, col=col)
        fig.update_xaxes(title="segments" if row == 2 else None, dtick=1, gridcolor=GRID, row=row, col=col)
        fig.update_yaxes(gridcolor=GRID, row=row, col=col)
    subtitle = (f"Silhouette: {GOOD_VALUES['silhouette']}. Davies-Bouldin: {GOOD_VALUES['davies_bouldin']}. "
                "Stars mark each chart's best number of segments; where they agree, trust it more.")
    return titled(fig, title, subtitle, height=560)


# --------------------------------------------------------------------------- leaderboard
def leaderboard_figure(leaderboard: Leaderboard) -> go.Figure:
    """Every candidate of a search: silhouette against number of segments, one colour per algorithm.

    Filled markers met the rules, hollow ones did not (hover says why); the
    star is the recommendation. ``customdata[0]`` is the leaderboard row, so a
    clicked point can be opened as the current segmentation.
    """
    from segmentation.segment.cluster import CLUSTERERS

    frame = leaderboard.frame
    title = "Candidates: silhouette by number of segments"
    plotted = frame[np.isfinite(frame["silhouette"].to_numpy(dtype=float))]
    if not len(plotted):
        return empty_figure(title, "No candidate made two or more segments.")
    fig = go.Figure()
    algorithms = list(dict.fromkeys(plotted["algorithm"]))
    for i, algorithm in enumerate(algorithms):
        rows = plotted[plotted["algorithm"] == algorithm]
        offset = (i - (len(algorithms) - 1) / 2) * 0.08  # side by side at the same k, not on top of each other
        colour = CATEGORY_PALETTE[i % len(CATEGORY_PALETTE)]
        hover = [f"{plain_label(r.label)}<br>{plain_label(r.params)}<br>"
                 f"silhouette {r.silhouette:.2f} · re-cluster agreement {r.stability:.2f}<br>"
                 f"unassigned {r.noise_share:.0%} · smallest {r.smallest_share:.1%}"
                 + (f"<br><i>{plain_label(r.why_not)}</i>" if r.why_not else "") for r in rows.itertuples()]
        fig.add_trace(go.Scatter(
            x=rows["n_segments"] + offset, y=rows["silhouette"], mode="markers",
            name=plain_label(CLUSTERERS[algorithm].label if algorithm in CLUSTERERS else algorithm),
            customdata=np.column_stack([rows.index.to_numpy()]), text=hover, hovertemplate="%{text}<extra></extra>",
            marker=dict(size=11, color=colour, symbol=["circle" if e else "circle-open" for e in rows["eligible"]],
                        line=dict(width=2, color=colour)),
        ))
    if leaderboard.recommended is not None and leaderboard.recommended in plotted.index:
        best = frame.loc[leaderboard.recommended]
        fig.add_trace(go.Scatter(x=[best["n_segments"]], y=[best["silhouette"]], mode="markers", name="Recommended",
                                 customdata=[[leaderboard.recommended]], hovertemplate="Recommended<extra></extra>",
                                 marker=dict(size=22, symbol="star", color="rgba(0,0,0,0)",
                                             line=dict(width=2, color="#111827"))))
    if np.isfinite(leaderboard.null_silhouette):
        fig.add_hline(y=leaderboard.null_silhouette, line=dict(color="#9CA3AF", dash="dot"),
                      annotation_text="random data with no groups", annotation_position="bottom right")
    fig.update_xaxes(title="Segments", dtick=1, gridcolor=GRID, zeroline=False)
    fig.update_yaxes(title="Silhouette", gridcolor=GRID, zeroline=False)
    fig.update_layout(legend=dict(orientation="h", y=-0.2))
    subtitle = (f"Higher is better ({GOOD_VALUES['silhouette']}). Hollow: broke the rules ({leaderboard.rules}). "
                "Star: recommended.")
    return titled(fig, title, subtitle, height=500)


# --------------------------------------------------------------------------- stability
def stability_figure(report: StabilityReport, names: Mapping[int, str] | None = None) -> go.Figure:
    """Per segment, how often its members stay together across re-runs (mean best Jaccard), coloured by badge."""
    title = "How often each segment's members stay together"
    segments = report.segments
    if not len(segments):
        return empty_figure(title, "No segments to check: every customer is unassigned.")
    # the bars are coloured by badge, so the segment's own colour marks its name, as on the map
    labels = [segment_tick(int(s), names) for s in segments["segment"]]
    fig = go.Figure(go.Bar(
        x=segments["jaccard"], y=labels, orientation="h",
        marker=dict(color=[BADGE_COLOURS[b] for b in segments["badge"]], line=dict(width=0)),
        text=[f"{v:.2f} · {b}" for v, b in zip(segments["jaccard"], segments["badge"])], textposition="outside",
        cliponaxis=False, customdata=segments[["segment"]].to_numpy(),
        hovertemplate="%{y}: %{x:.2f}<extra></extra>",
    ))
    for x, text in ((JACCARD_FAIR, "unstable below"), (JACCARD_STABLE, "stable above")):
        fig.add_vline(x=x, line=dict(color="#9CA3AF", dash="dot"), annotation_text=text,
                      annotation_position="top")
    fig.update_xaxes(title="Mean best Jaccard across re-runs (0 to 1)", range=[0, 1.15], gridcolor=GRID)
    fig.update_yaxes(autorange="reversed", automargin=True)
    fig.update_layout(showlegend=False, bargap=0.35)
    subtitle = (f"{GOOD_VALUES['jaccard']}. Overall agreement across {report.resamples} re-runs: "
                f"{report.agreement:.2f} ({GOOD_VALUES['stability']}).")
    return titled(fig, title, subtitle, height=max(260, 46 * len(segments) + 140))


# --------------------------------------------------------------------------- known groups
def crosstab_figure(crosstab: pd.DataFrame, title: str = "Segments against known groups",
                    names: Mapping[int, str] | None = None) -> go.Figure:
    """A heat map of a cross-tab (segments as rows), each row as shares so segments of any size compare.

    Works for ``RunComparison.crosstab`` and ``KnownGroupsComparison.crosstab``:
    a segment that matches one group well shows a single dark cell in its row. ``title`` (it may quote a
    column's name), the segment names and the groups are drawn as plain text.
    """
    title = plain_label(title)
    if crosstab is None or not crosstab.size:
        return empty_figure(title, "Nothing to compare.")
    counts = crosstab.to_numpy(dtype=float)
    shares = counts / np.maximum(counts.sum(1, keepdims=True), 1)
    rows = [segment_tick(int(s), names) if isinstance(s, (int, np.integer)) else plain_label(s)
            for s in crosstab.index]
    columns = [plain_label(segment_label(int(c)) if isinstance(c, (int, np.integer)) else c)
               for c in crosstab.columns]
    fig = go.Figure(go.Heatmap(
        z=shares, x=columns, y=rows, colorscale="Blues", zmin=0, zmax=1, customdata=counts,
        colorbar=dict(title=dict(text="share of row"), thickness=12),
        hovertemplate="%{y} · %{x}: %{customdata:,.0f} customers (%{z:.0%} of the row)<extra></extra>",
    ))
    fig.update_yaxes(autorange="reversed", automargin=True)
    fig.update_xaxes(automargin=True)
    subtitle = "Each row adds up to 100%. One dark cell per row means the segment matches one group well."
    return titled(fig, title, subtitle, height=max(300, 30 * len(rows) + 160))
