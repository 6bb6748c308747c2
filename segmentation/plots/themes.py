"""Segments and the themes inside them: one shade of its segment's colour per theme, and the tree as a sunburst.

A theme is drawn in a shade of its segment's colour (``theme_colours``): the largest theme of a segment darkest,
the smallest lightest, so the map coloured by theme still reads as the segments at a glance. ``theme_tree_figure``
draws segments in the inner ring (or the first column of an icicle) and their themes outside them, each sized by
its customers; Unassigned customers form a grey segment with no themes, so the rings add up to everyone.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from segmentation.common import NOISE, segment_label, segment_number
from segmentation.plots.theme import empty_figure, plain_label, segment_colour, segment_order, titled

__all__ = ["DARKEST", "LIGHTEST", "shade", "theme_colours", "theme_label", "tree_frame", "theme_tree_figure"]

DARKEST = -0.3
"""The largest theme of a segment: its colour mixed 30% towards black."""
LIGHTEST = 0.55
"""The smallest theme of a segment: its colour mixed 55% towards white (still visible on white)."""
LABEL_CHARS = 26
"""Names longer than this are shortened inside the rings; the hover shows them whole."""


def shade(colour: str, amount: float) -> str:
    """``colour`` (``#RRGGBB``) mixed towards white (``amount`` > 0) or black (< 0) by ``|amount|`` (0 to 1)."""
    colour = colour.lstrip("#")
    rgb = np.array([int(colour[i:i + 2], 16) for i in (0, 2, 4)], dtype=float)
    target = 255.0 if amount > 0 else 0.0
    mixed = np.rint(rgb + (target - rgb) * min(abs(float(amount)), 1.0)).astype(int)
    return "#" + "".join(f"{v:02X}" for v in mixed)


def theme_colours(parent: Mapping[int, int]) -> dict[int, str]:
    """Theme id -> its colour: the themes of a segment (``parent``: theme id -> segment id), in id order (largest
    first), spread from ``DARKEST`` to ``LIGHTEST`` around the segment's colour; a segment's only theme takes the
    segment's own colour."""
    by_segment: dict[int, list[int]] = {}
    for theme, segment in sorted(parent.items()):
        by_segment.setdefault(int(segment), []).append(int(theme))
    colours: dict[int, str] = {}
    for segment, themes in by_segment.items():
        base = segment_colour(segment)
        steps = np.linspace(DARKEST, LIGHTEST, len(themes)) if len(themes) > 1 else [0.0]
        colours.update({t: shade(base, a) if a else base for t, a in zip(themes, steps)})
    return colours


def theme_label(theme: int, parent: Mapping[int, int], names: Mapping[int, str] | None = None) -> str:
    """What a theme is called: its name, else "Theme <segment>.<n>" (its place in its segment, largest first)."""
    if names and names.get(theme):
        return str(names[theme])
    segment = parent.get(theme, NOISE)
    siblings = sorted(t for t, s in parent.items() if s == segment)
    return f"Theme {segment_number(segment)}.{siblings.index(theme) + 1}" if theme in siblings else \
        f"Theme {theme + 1}"


def _short(text: str) -> str:
    return text if len(text) <= LABEL_CHARS else text[:LABEL_CHARS - 1].rstrip() + "…"


def tree_frame(labels: np.ndarray, theme_labels: np.ndarray, parent: Mapping[int, int],
               segment_names: Mapping[int, str] | None = None, theme_names: Mapping[int, str] | None = None
               ) -> pd.DataFrame:
    """One row per segment (largest first, Unassigned last) and per theme (after its segment, largest first):
    ``id`` ("s<segment>" / "t<theme>"), ``parent`` ("" for a segment), ``name``, ``segment`` (0-based, -1 for
    Unassigned), ``customers``, ``share`` (of everyone), ``share_of_segment`` and ``colour``. The customers of a
    segment's themes add up to the segment."""
    labels = np.asarray(labels, dtype=int)
    theme_labels = np.asarray(theme_labels, dtype=int)
    if len(labels) != len(theme_labels):
        raise ValueError(f"labels and theme_labels must have the same length. Got {len(labels)} and "
                         f"{len(theme_labels)} instead.")
    n = max(len(labels), 1)
    colours = theme_colours(parent)
    rows = []
    for segment in segment_order(labels):
        size = int((labels == segment).sum())
        rows.append(dict(id=f"s{segment}", parent="", name=segment_label(segment, segment_names), segment=segment,
                         customers=size, share=size / n, share_of_segment=1.0, colour=segment_colour(segment)))
        themes = [t for t, s in parent.items() if s == segment]
        counts = {t: int((theme_labels == t).sum()) for t in themes}
        for theme in sorted(themes, key=lambda t: (-counts[t], t)):
            if counts[theme]:
                rows.append(dict(id=f"t{theme}", parent=f"s{segment}", name=theme_label(theme, parent, theme_names),
                                 segment=segment, customers=counts[theme], share=counts[theme] / n,
                                 share_of_segment=counts[theme] / max(size, 1), colour=colours[theme]))
    return pd.DataFrame(rows, columns=["id", "parent", "name", "segment", "customers", "share", "share_of_segment",
                                       "colour"])


def theme_tree_figure(labels: np.ndarray, theme_labels: np.ndarray | None, parent: Mapping[int, int],
                      segment_names: Mapping[int, str] | None = None, theme_names: Mapping[int, str] | None = None,
                      kind: str = "sunburst", height: int = 560) -> go.Figure:
    """Segments (inner ring) and their themes (outer ring) as a ``kind`` "sunburst" or "icicle", each sized by its
    customers and coloured by the segment palette, themes in shades of their segment. Hover gives the name, the
    customers and the shares of everyone and of the segment; click a segment to zoom into its themes. Names are
    drawn as plain text; long ones are shortened in the rings and whole in the hover."""
    if kind not in ("sunburst", "icicle"):
        raise ValueError(f"kind must be 'sunburst' or 'icicle'. Got {kind!r} instead.")
    title = "Segments and the themes inside them"
    if theme_labels is None or not len(labels):
        return empty_figure(title, "This run has no themes: run the segmentation again to find them.")
    frame = tree_frame(labels, theme_labels, parent, segment_names, theme_names)
    names = [plain_label(v) for v in frame["name"]]
    in_segment = ["" if p == "" else f"{plain_label(segment_label(int(s), segment_names))} · "
                  for p, s in zip(frame["parent"], frame["segment"])]
    shares = [f"{a:.1%} of all customers" + ("" if p == "" else f" · {b:.0%} of the segment")
              for a, b, p in zip(frame["share"], frame["share_of_segment"], frame["parent"])]
    customdata = np.column_stack([names, in_segment, [f"{c:,}" for c in frame["customers"]], shares])
    trace = dict(ids=frame["id"].tolist(), parents=frame["parent"].tolist(), values=frame["customers"].tolist(),
                 branchvalues="total",
                 labels=[plain_label(_short(str(v))) for v in frame["name"]], customdata=customdata,
                 marker=dict(colors=frame["colour"].tolist(), line=dict(color="white", width=1)),
                 leaf=dict(opacity=1.0),   # plotly fades leaves by default: a theme would not match the map
                 hovertemplate="<b>%{customdata[0]}</b><br>%{customdata[1]}%{customdata[2]} customers<br>"
                               "%{customdata[3]}<extra></extra>", sort=False)
    fig = go.Figure(go.Sunburst(**trace, insidetextorientation="radial") if kind == "sunburst" else
                    go.Icicle(**trace, tiling=dict(orientation="h")))
    n_themes = int((frame["parent"] != "").sum())
    n_segments = int(((frame["parent"] == "") & (frame["segment"] >= 0)).sum())
    back = "the centre" if kind == "sunburst" else "the first column"
    subtitle = (f"{n_segments} segment{'s' if n_segments != 1 else ''}, {n_themes} theme{'s' if n_themes != 1 else ''}"
                f", sized by customers. Click a segment to see its themes, {back} to go back.")
    return titled(fig, title, subtitle, height=height, margin=dict(l=10, r=10, t=80, b=10))
