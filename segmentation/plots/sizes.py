"""The one segment-size chart: the Quality page, the Assign page and anything else that shows sizes draw this."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import plotly.graph_objects as go

from segmentation.common import segment_label
from segmentation.plots.theme import (
    ALERT,
    GRID,
    MUTED,
    empty_figure,
    plain_label,
    segment_colour,
    segment_order,
    titled,
    wrap,
)
from segmentation.understand.metrics import GIANT_SHARE, NOISE_COMFORTABLE, TINY_SHARE

__all__ = ["sizes_figure"]

USABLE = (TINY_SHARE, GIANT_SHARE)
"""The usable range of segment shares the chart marks by default: the warnings and verdicts use the same one."""


def sizes_figure(labels: np.ndarray, names: Mapping[int, str] | None = None,
                 usable: tuple[float, float] | None = USABLE, title: str = "Segment sizes") -> go.Figure:
    """Segment shares as horizontal bars, largest first, Unassigned last, in the segment colours.

    ``labels`` are internal segment labels (-1 = Unassigned), ``names`` the analyst's names keyed by them. Each
    bar is the segment's share of customers, labelled with its customer count and share; ``customdata`` holds
    (segment, customers). ``usable`` = (smallest, largest) share marks the usable range with dotted lines and
    outlines in red the segments outside it (a smaller segment is too small to act on, a bigger one is
    probably "everyone else"); ``None`` draws the bars alone, e.g. for customers assigned by a saved model. An
    empty ``title`` (with ``usable=None``) leaves no room for a title, for a chart under a heading of its own.
    Names and ``title`` are drawn as plain text.
    """
    title = plain_label(title)
    labels = np.asarray(labels, dtype=int)
    if not len(labels):
        return empty_figure(title, "There are no customers.")
    order = segment_order(labels)
    counts = np.array([int((labels == s).sum()) for s in order])
    shares = counts / len(labels)
    outside = [usable is not None and s >= 0 and not (usable[0] <= v <= usable[1]) for s, v in zip(order, shares)]
    fig = go.Figure(go.Bar(
        x=shares, y=[plain_label(segment_label(s, names)) for s in order], orientation="h",
        marker=dict(color=[segment_colour(s) for s in order],
                    line=dict(color=[ALERT if o else "rgba(0,0,0,0)" for o in outside], width=2)),
        text=[f"{c:,} · {v:.1%}" for c, v in zip(counts, shares)], textposition="outside", cliponaxis=False,
        customdata=np.column_stack([order, counts]),
        hovertemplate="%{y}: %{customdata[1]:,} customers, %{x:.1%}<extra></extra>",
    ))
    subtitle = ""
    if usable is not None:
        low, high = usable
        for x in usable:
            fig.add_vline(x=x, line=dict(color="#9CA3AF", dash="dot"), annotation_text=f"{x:.0%}",
                          annotation_position="top", annotation_font_color=MUTED)
        # wrapped: plotly does not wrap subtitles, and this chart often sits in half the page
        subtitle = wrap(f"Usable segments hold {low:.0%} to {high:.0%} of customers; a red outline marks one "
                        f"outside. Unassigned (grey) is best at {NOISE_COMFORTABLE:.0%} or less.", width=64)
    fig.update_xaxes(title="Share of customers", tickformat=".0%", gridcolor=GRID, zeroline=False,
                     range=[0, max(0.7 if usable is not None else 0.0, float(shares.max()) * 1.25)])
    fig.update_yaxes(autorange="reversed", automargin=True, title=None)
    fig.update_layout(showlegend=False, bargap=0.35)
    if not title and not subtitle:  # drawn under a heading of its own: no room kept for a title
        return titled(fig, "", "", height=max(180, 40 * len(order) + 60), margin=dict(l=10, r=40, t=10, b=30))
    return titled(fig, title, subtitle, height=max(260, 40 * len(order) + 140))
