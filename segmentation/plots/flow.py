"""The one flow (Sankey) diagram: customers from the segments on the left to the segments on the right.

``flow_figure`` draws any table of moves; ``comparison_flow_figure`` (two runs over the same customers) and
``movement_flow_figure`` (a saved model's segments against new assignments) only turn their data into that
table, so both diagrams look and read the same: segment colours as on the map, a link coloured by the
segment it leaves, strong where customers kept their segment and pale where they moved.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import pandas as pd
import plotly.graph_objects as go

from segmentation.common import NOISE_NAME, segment_label
from segmentation.plots.theme import (
    MUTED,
    SEGMENT_PALETTE,
    UNASSIGNED_COLOUR,
    plain_label,
    rgba,
    segment_colour,
    titled,
)
from segmentation.understand.metrics import GOOD_VALUES

if TYPE_CHECKING:  # the figures only read finished results
    from segmentation.act.movement import Movement
    from segmentation.choose.compare import RunComparison

__all__ = ["flow_figure", "comparison_flow_figure", "movement_flow_figure"]

KEPT_ALPHA = 0.45
"""Opacity of a link whose customers kept their segment."""
MOVED_ALPHA = 0.2
"""Opacity of a link whose customers moved: pale, so the moves read as the exception."""


def flow_figure(flows: pd.DataFrame, left: Sequence[str], right: Sequence[str],
                colours: Mapping[str, str] | None = None, title: str = "Where customers moved",
                subtitle: str = "", left_title: str = "", right_title: str = "") -> go.Figure:
    """A Sankey diagram of ``flows``: one row per (``from``, ``to``) pair with ``customers``.

    ``left`` and ``right`` are the segment labels drawn on each side, in order (every label a flow uses must be
    there; a label without flows still gets its node). ``colours`` maps a label to its colour (missing labels
    take the segment palette in order, Unassigned grey). An optional boolean ``kept`` column marks the links
    of customers who kept their segment (default: the same label on both sides); they are drawn stronger.
    Link widths are customer counts, so they add up to the number of customers compared. Labels, ``title`` and
    the side titles are drawn as plain text; ``subtitle`` is plotly markup.
    """
    colours = dict(colours or {})
    for position, label in enumerate(dict.fromkeys([*left, *right])):
        if label not in colours:
            colours[label] = UNASSIGNED_COLOUR if label == NOISE_NAME else \
                SEGMENT_PALETTE[position % len(SEGMENT_PALETTE)]
    left_index = {label: i for i, label in enumerate(left)}
    right_index = {label: len(left) + i for i, label in enumerate(right)}
    flows = flows[flows["customers"] > 0]
    kept = flows["kept"] if "kept" in flows.columns else flows["from"] == flows["to"]
    figure = go.Figure(go.Sankey(
        arrangement="snap",
        node=dict(label=[plain_label(s) for s in [*left, *right]], color=[colours[s] for s in [*left, *right]],
                  pad=14, thickness=16,
                  line=dict(width=0), hovertemplate="%{label}: %{value:,} customers<extra></extra>"),
        link=dict(source=[left_index[s] for s in flows["from"]], target=[right_index[s] for s in flows["to"]],
                  value=[int(v) for v in flows["customers"]],
                  color=[rgba(colours[s], KEPT_ALPHA if k else MOVED_ALPHA) for s, k in zip(flows["from"], kept)],
                  hovertemplate="%{source.label} → %{target.label}: %{value:,} customers<extra></extra>"),
    ))
    for text, x, anchor in ((left_title, 0, "left"), (right_title, 1, "right")):
        if text:
            figure.add_annotation(text=plain_label(text), x=x, y=1.06, xref="paper", yref="paper", showarrow=False,
                                  xanchor=anchor, font=dict(size=12, color=MUTED))
    return titled(figure, plain_label(title), subtitle, height=max(380, 34 * max(len(left), len(right)) + 160))


def comparison_flow_figure(comparison: RunComparison) -> go.Figure:
    """Customers from the segments of run A (left) to those of run B (right); matched segments drawn strong."""
    counts = comparison.crosstab
    left = [segment_label(int(s), comparison.names_a) for s in counts.index]
    right = [segment_label(int(s), comparison.names_b) for s in counts.columns]
    colours = {label: segment_colour(int(s)) for label, s in zip(left, counts.index)}
    colours.update({label: segment_colour(int(s)) for label, s in zip(right, counts.columns)})
    moves = comparison.moves()
    flows = pd.DataFrame({
        "from": [segment_label(int(s), comparison.names_a) for s in moves["from"]],
        "to": [segment_label(int(s), comparison.names_b) for s in moves["to"]],
        "customers": moves["customers"].astype(int), "kept": moves["matched"].astype(bool),
    })
    subtitle = (f"Agreement {comparison.ari:.2f} (adjusted Rand index: {GOOD_VALUES['run_agreement']}). "
                f"{comparison.stayed_share:.0%} of customers stay in the matching segment; pale bands are customers "
                "who moved.")
    return flow_figure(flows, left, right, colours, title="How customers moved between runs", subtitle=subtitle,
                       left_title=comparison.label_a, right_title=comparison.label_b)


def movement_flow_figure(movement: Movement) -> go.Figure:
    """Customers from their earlier segment (left) to the one a saved model gives them now (right)."""
    left = [s for s in movement.segments if s in set(movement.table["from"])]
    right = [s for s in movement.segments if s in set(movement.table["to"])]
    colours = {name: segment_colour(segment) for name, segment in movement.segment_ids.items()}
    subtitle = (f"{movement.stayed_share:.0%} of {movement.customers:,} customers stayed in the same segment; "
                "pale bands are customers who moved.")
    return flow_figure(movement.table, left, right, colours, title="Where customers moved", subtitle=subtitle,
                       left_title="Before", right_title="Now")
