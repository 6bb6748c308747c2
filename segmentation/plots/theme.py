"""The look every figure shares: the one segment palette, the other palettes, fonts, titles and empty figures.

A segment gets its colour from ``segment_colour`` in every figure (map, sizes, profiles, quality, flows, the
report), so "Segment 3" is the same colour everywhere; Unassigned is grey.

Plotly reads every label, legend entry, hover text and title as its own small HTML (``<b>``, ``<a href>``,
``<br>``, ``<span style>`` and entities), and a hover template reads ``%{...}`` as a placeholder. Every string
that comes from the data or the analyst (values, column names, segment names, customer ids, file and run
names) goes into a figure through ``plain_label`` (or ``wrap``/``segment_tick``, which call it), so it is drawn
as the text it is.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import plotly.graph_objects as go

from segmentation.common import segment_label

SEGMENT_PALETTE: tuple[str, ...] = ("#4C78A8", "#F58518", "#54A24B", "#E45756", "#72B7B2",
                                    "#EECA3B", "#B279A2", "#FF9DA6", "#9D755D", "#BAB0AC")
"""Segment colours in order: segment 0 (the largest) is the first; they cycle after ten."""
UNASSIGNED_COLOUR = "#C9CED6"
CATEGORY_PALETTE: tuple[str, ...] = ("#1B9E77", "#D95F02", "#7570B3", "#E7298A", "#66A61E",
                                     "#E6AB02", "#A6761D", "#1F78B4", "#B2DF8A", "#FB9A99")
"""Colours for other categorical columns: deliberately not the segment colours, to avoid confusion."""
HIGHLIGHT_COLOUR = "#111827"
"""Outline of highlighted customers (search matches) on the map: near-black, unlike any segment colour."""
LEVEL_COLOURS: Mapping[str, str] = {"good": "#54A24B", "fair": "#EECA3B", "poor": "#E45756", "unknown": "#9CA3AF"}
"""Colours of a verdict's level (``understand.metrics.verdict``): the stability bars use them."""
DIVERGING_SCALE = [[0.0, "#C2571A"], [0.25, "#F0B48A"], [0.5, "#F7F7F7"], [0.75, "#9CB9DA"], [1.0, "#2F5F98"]]
"""Below average (orange) to above average (blue): the arrows of the profile cards use the same two hues."""

FONT = dict(family="Inter, 'Source Sans Pro', sans-serif", color="#1F2937")
GRID = "#EEF0F4"
MUTED = "#6B7280"
"""Grey of subtitles, annotations and empty-figure messages."""
ALERT = "#DC2626"
"""Outline of bars outside a usable range."""


def plain_label(text: Any) -> str:
    """``text`` (any value from the data or the analyst) made inert for plotly: shown as written, never as markup.

    ``&``, ``<`` and ``>`` become HTML entities, which plotly draws back as the characters (it decodes
    ``&amp;``, ``&lt;``, ``&gt;`` and numeric entities after reading its tags), so "<a href='x'>North</a>" is
    drawn literally instead of as a link; ``%{`` becomes ``%&#123;`` so that a name placed in a hover template
    is not read as a placeholder. Apply it once, where the value enters the figure (escaping twice shows
    "&amp;lt;").
    """
    return (str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace("%{", "%&#123;"))


def segment_colour(segment: int) -> str:
    """The colour of a segment everywhere in the app; Unassigned (-1) is grey."""
    return UNASSIGNED_COLOUR if segment < 0 else SEGMENT_PALETTE[int(segment) % len(SEGMENT_PALETTE)]


def segment_order(labels: np.ndarray) -> list[int]:
    """Segments largest first (ties by id), Unassigned last."""
    ids, counts = np.unique(np.asarray(labels, dtype=int), return_counts=True)
    size = dict(zip(ids.tolist(), counts.tolist()))
    return sorted(size, key=lambda s: (s < 0, -size[s], s))


def segment_tick(segment: int, names: Mapping[int, str] | None = None) -> str:
    """An axis label for a segment: a dot in its colour, then its name as plain text (plotly draws the span)."""
    return (f'<span style="color:{segment_colour(segment)};font-size:17px">●</span> '
            f"{plain_label(segment_label(segment, names))}")


def rgba(colour: str, alpha: float) -> str:
    """A ``#RRGGBB`` colour with transparency ``alpha`` (0 clear to 1 solid), for bands drawn over others."""
    colour = colour.lstrip("#")
    r, g, b = (int(colour[i:i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


def wrap(text: str, width: int = 60) -> str:
    """Break a plain text into lines of at most ``width`` characters joined by ``<br>`` (plotly does not wrap);
    each line goes through ``plain_label``, so markup in the text is shown as written."""
    words, lines, line = text.split(), [], ""
    for word in words:
        if line and len(line) + len(word) + 1 > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    if line:
        lines.append(line)
    return "<br>".join(plain_label(line) for line in lines)


def titled(fig: go.Figure, title: str, subtitle: str, height: int = 460, **layout: Any) -> go.Figure:
    """The house layout: a left-aligned title with a grey subtitle saying what a good value looks like, white
    background, the house font. ``layout`` overrides any of it (e.g. ``margin``). ``title`` and ``subtitle``
    are plotly markup: a name from the data in them goes through ``plain_label`` first."""
    fig.update_layout(
        title=dict(text=title, subtitle=dict(text=subtitle, font=dict(size=12, color=MUTED)), x=0,
                   xanchor="left", font=dict(size=16)),
        font=FONT, plot_bgcolor="white", paper_bgcolor="white", height=height,
        margin=dict(l=10, r=20, t=90, b=40), hoverlabel=dict(bgcolor="white", align="left"),
    )
    if layout:
        fig.update_layout(**layout)
    return fig


def empty_figure(title: str, message: str) -> go.Figure:
    """A figure with nothing to draw: the title and, in its place, ``message`` saying why."""
    fig = go.Figure()
    fig.add_annotation(text=message, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper",
                       font=dict(size=14, color=MUTED))
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return titled(fig, title, "", height=240)
