"""Comparing segments as grids: numeric columns as a heat map, category columns as shares per segment.

Rows are segments labelled in their colours (``theme.segment_tick``); cells say how far a segment sits from
everyone, so the Profiles page and the report read the same figures.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from segmentation.plots.theme import DIVERGING_SCALE, FONT, MUTED, plain_label, segment_tick, wrap
from segmentation.understand.wording import column_in_sentence, column_label

__all__ = ["heatmap_figure", "category_share_figure"]


def _pretty_column(column: Any) -> str:
    return column_label(column)


def _grid_layout(fig: go.Figure, title: str, subtitle: str, n_rows: int) -> go.Figure:
    # the column names sit on top like a table's header, between the subtitle and the first row
    fig.update_layout(
        title=dict(text=title, subtitle=dict(text=subtitle, font=dict(size=13, color=MUTED)), x=0,
                   xanchor="left", yref="container", y=1, yanchor="top", pad=dict(t=12), font=dict(size=17)),
        font=FONT, plot_bgcolor="white", paper_bgcolor="white", height=max(260, 46 * n_rows + 190),
        margin=dict(l=10, r=10, t=120, b=10), hoverlabel=dict(bgcolor="white", align="left"),
    )
    fig.update_yaxes(autorange="reversed", automargin=True, showgrid=False, ticks="", ticklabelstandoff=8,
                     type="category", tickfont=dict(size=13, color="#1F2937"))
    # categories always: values that look like numbers ("1078", "862") would otherwise make a numeric axis on
    # which the cells shrink to slivers and their labels run together ("8%4%5%")
    fig.update_xaxes(side="top", automargin=True, showgrid=False, ticks="", tickangle=0, type="category",
                     tickfont=dict(size=12, color="#1F2937"))
    return fig


def _header(label: Any, width: int = 12) -> str:
    """A column header broken into short lines (as plain text), so headers stay level instead of being tilted."""
    return wrap(str(label), width)


def heatmap_figure(frame: pd.DataFrame, names: Mapping[int, str] | None = None, limit: float = 1.5) -> go.Figure:
    """Segments (rows) by numeric columns: how far each segment's average sits from the other customers', in
    standard deviations of the column: the effect its profile card shows
    (``segmentation.understand.contrast.heatmap_frame``).

    Rows keep the frame's order (pass it largest segment first) and are labelled in the segment colours.
    Cells above average are blue, below orange; the colour saturates at ±``limit`` standard deviations
    (1 to 2 keeps ordinary differences visible) while the cell text shows the exact value.
    """
    if frame is None or frame.empty or not len(frame.columns):
        return _grid_layout(go.Figure(), "Segments compared", "There are no numeric columns to compare.", 1)
    z = frame.to_numpy(dtype=float)
    segments = [int(s) for s in frame.index]
    text = np.where(np.isfinite(z), np.char.mod("%+.1f", np.nan_to_num(z)), "")
    fig = go.Figure(go.Heatmap(
        z=z, x=[_header(_pretty_column(c)) for c in frame.columns], y=[segment_tick(s, names) for s in segments],
        text=text, texttemplate="%{text}", textfont=dict(size=12), colorscale=DIVERGING_SCALE, zmin=-limit,
        zmax=limit, zmid=0, xgap=2, ygap=2, hoverongaps=False,
        colorbar=dict(thickness=12, len=0.9, tickvals=[-limit, 0, limit], outlinewidth=0,
                      ticktext=[f"{limit:g} sd below", "like the others", f"{limit:g} sd above"]),
        hovertemplate="%{y}<br>%{x}: %{z:+.2f} standard deviations from the other customers<extra></extra>",
    ))
    return _grid_layout(fig, "How the segments differ", "Each cell: the segment's average against the other "
                        "customers', in standard deviations (as on its card). Blue is above, orange below; ±0.5 is "
                        "a clear difference.",
                        len(segments))


def category_share_figure(frame: pd.DataFrame, column: str, names: Mapping[int, str] | None = None,
                          overall: pd.Series | None = None, limit: float = 0.15) -> go.Figure:
    """Segments (rows) by the values of one category column: the share of each segment with each value
    (``segmentation.understand.contrast.category_crosstab``; rows add up to 100%).

    With ``overall`` (the same shares for all customers) an "Everyone" row is added at the bottom and each
    cell is coloured by how far the segment's share sits from everyone's: blue where the segment has more of
    the value, orange where it has less, saturating at ±``limit`` (0.15 = 15 percentage points). Without it
    cells are shaded by the share itself. Row labels are in the segment colours.
    """
    if frame is None or frame.empty:
        return _grid_layout(go.Figure(), f"Segments by {plain_label(column_in_sentence(column))}",
                            "Nothing to show.", 1)
    segments = [int(s) for s in frame.index]
    shares = frame.to_numpy(dtype=float)
    labels = [segment_tick(s, names) for s in segments]
    what = plain_label(column_in_sentence(column))  # it goes into the title and the hover template
    if overall is not None:
        everyone = overall.reindex(frame.columns).fillna(0.0).to_numpy(dtype=float)
        shares = np.vstack([shares, everyone])
        labels.append("<b>Everyone</b>")
        colour = shares - everyone
        heat: dict[str, Any] = dict(z=colour, colorscale=DIVERGING_SCALE, zmin=-limit, zmax=limit, zmid=0,
                                    customdata=np.dstack([shares, np.broadcast_to(everyone, shares.shape)]),
                                    hovertemplate=f"%{{y}}<br>{what} = %{{x}}: %{{customdata[0]:.1%}} "
                                                  "(everyone: %{customdata[1]:.1%})<extra></extra>")
        subtitle = ("Share of each segment with each value; each row adds up to 100%. Blue: more common than "
                    "among everyone, orange: less.")
    else:
        heat = dict(z=shares, colorscale="Blues", zmin=0, zmax=max(float(np.nanmax(shares)), 0.05),
                    hovertemplate=f"%{{y}}<br>{what} = %{{x}}: %{{z:.1%}}<extra></extra>")
        subtitle = "Share of each segment with each value; each row adds up to 100%."
    fig = go.Figure(go.Heatmap(x=[_header(c) for c in frame.columns], y=labels, texttemplate="%{text}",
                               text=np.char.mod("%.0f%%", 100 * shares), textfont=dict(size=12), xgap=2, ygap=2,
                               showscale=False, **heat))
    return _grid_layout(fig, f"Segments by {what}", subtitle, len(labels))
