"""Segment names written on the customer map: where each goes, and the annotations that draw them.

``segment_labels`` names each segment at a point in the middle of its densest part (never in the empty space
between two islands of one segment) and keeps the boxes apart, largest segments first; ``_add_labels`` draws
them on a map figure as white boxes outlined in the segment's colour.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go

from segmentation.common import segment_label
from segmentation.plots.theme import plain_label, segment_colour, segment_order

__all__ = ["MAX_LABELS", "LABEL_CHARS", "PLOT_WIDTH_PX", "SegmentLabel", "segment_labels"]

MAX_LABELS = 20
"""At most this many segment labels on the map, largest segments first (the legend still lists every one)."""
LABEL_CHARS = 36
"""A segment label longer than this is cut at a word; the legend and the hover show the whole name."""

# The map's plot area as the app shows it (a wide column, 620 px high): a label's box in pixels becomes data
# units through these, so boxes that do not overlap here do not overlap on screen at that size or wider.
PLOT_WIDTH_PX = 760
PLOT_HEIGHT_PX = 540
LABEL_CHAR_PX = 7.2
LABEL_PAD_PX = 14
LABEL_HEIGHT_PX = 26
AXIS_PADDING = 1.12
"""plotly pads the points' range by a few per cent on each side, so a pixel spans a little more data."""


@dataclass(frozen=True)
class SegmentLabel:
    """Where a segment's name goes on the map: ``x``, ``y`` the middle of its box (``width`` by ``height``, in
    data units), ``anchor_x``, ``anchor_y`` the segment's centre it names (the same point unless the box had to
    move aside, when an arrow points back to it)."""

    segment: int
    text: str
    x: float
    y: float
    anchor_x: float
    anchor_y: float
    width: float
    height: float

    @property
    def moved(self) -> bool:
        return (self.x, self.y) != (self.anchor_x, self.anchor_y)


def _segment_centre(points: np.ndarray) -> np.ndarray:
    """A point of the segment in the middle of its densest part: the medoid of the points whose nearest
    neighbours are closest. Unlike the mean, it is always one of the segment's own points, so a segment in two
    islands is labelled on one of them, never in the empty space between."""
    if len(points) <= 2:
        return points[0]
    distances = np.sqrt(((points[:, None, :] - points[None, :, :]) ** 2).sum(axis=2))
    k = int(np.clip(len(points) // 8, 1, min(50, len(points) - 1)))   # a wide neighbourhood: a smooth density
    crowding = np.partition(distances, k, axis=1)[:, k]      # distance to the k-th neighbour: small is dense
    dense = np.flatnonzero(crowding <= np.quantile(crowding, 0.3))
    return points[dense[np.argmin(distances[np.ix_(dense, dense)].sum(axis=1))]]


def segment_labels(coords: np.ndarray, labels: np.ndarray, names: Mapping[int, str] | None = None,
                   max_labels: int = MAX_LABELS, random_state: int = 0) -> list[SegmentLabel]:
    """The segment names to write on the map, placed so that no two boxes overlap.

    Each segment (not Unassigned) is named at its centre (``_segment_centre`` of up to 400 of its points drawn
    with ``random_state``). Labels are placed largest segment first; a box that would overlap one already placed
    moves to the nearest free spot around its centre (rings of growing distance), and a label with no free spot
    nearby is left out, as are the segments beyond the ``max_labels`` largest. Names longer than
    :data:`LABEL_CHARS` are cut at a word. Sizes are in data units, for a plot area of about
    ``PLOT_WIDTH_PX`` by ``PLOT_HEIGHT_PX`` pixels spanning the points.
    """
    coords = np.asarray(coords, dtype=float)[:, :2]
    labels = np.asarray(labels, dtype=int)
    finite = np.isfinite(coords).all(axis=1)
    coords, labels = coords[finite], labels[finite]
    if not len(labels) or max_labels <= 0:
        return []
    low, high = coords.min(axis=0), coords.max(axis=0)
    span = np.where(high > low, high - low, 1.0)
    per_px = span * AXIS_PADDING / np.array([PLOT_WIDTH_PX, PLOT_HEIGHT_PX])
    rng = np.random.default_rng(random_state)
    placed: list[SegmentLabel] = []
    for segment in [s for s in segment_order(labels) if s >= 0][:max_labels]:
        members = np.flatnonzero(labels == segment)
        if len(members) > 400:
            members = rng.choice(members, size=400, replace=False)
        # density is measured on the screen's proportions, not the raw axes
        centre = _segment_centre(coords[members] / span) * span
        text = _cut(segment_label(segment, names), LABEL_CHARS)
        size = np.array([LABEL_CHAR_PX * len(text) + LABEL_PAD_PX, LABEL_HEIGHT_PX]) * per_px
        spot = _free_spot(centre, size, placed, low, high)
        if spot is not None:
            placed.append(SegmentLabel(segment, text, float(spot[0]), float(spot[1]), float(centre[0]),
                                       float(centre[1]), float(size[0]), float(size[1])))
    return placed


def _free_spot(centre: np.ndarray, size: np.ndarray, placed: Sequence[SegmentLabel], low: np.ndarray,
               high: np.ndarray) -> np.ndarray | None:
    """The first place for a box of ``size`` at or around ``centre`` that overlaps no placed box and keeps its
    middle inside the points' range: the centre itself, then 16 directions on rings half a box high apart."""
    def free(at: np.ndarray) -> bool:
        return all(abs(at[0] - other.x) >= (size[0] + other.width) / 2 or
                   abs(at[1] - other.y) >= (size[1] + other.height) / 2 for other in placed)

    if free(centre):
        return centre
    angles = np.linspace(0, 2 * np.pi, 16, endpoint=False)
    for ring in range(1, 13):
        for angle in angles:
            at = centre + ring * 0.5 * size[1] * np.array([np.cos(angle) * size[0] / size[1], np.sin(angle)]) / 2
            if np.all(at >= low) and np.all(at <= high) and free(at):
                return at
    return None


def _add_labels(fig: go.Figure, placed: Sequence[SegmentLabel]) -> None:
    """The labels as annotations: the name on a white box outlined in the segment's colour; a box moved aside
    points back at its segment's centre with a thin arrow."""
    for label in placed:
        colour = segment_colour(label.segment)
        box = dict(text=f"<b>{plain_label(label.text)}</b>", font=dict(size=12, color="#1F2937"),
                   bgcolor="rgba(255,255,255,0.88)", bordercolor=colour, borderwidth=1.5, borderpad=3,
                   name=f"segment label {label.segment}", captureevents=False)
        if label.moved:
            fig.add_annotation(x=label.anchor_x, y=label.anchor_y, ax=label.x, ay=label.y, axref="x", ayref="y",
                               showarrow=True, arrowhead=0, arrowwidth=1.2, arrowcolor=colour, **box)
        else:
            fig.add_annotation(x=label.x, y=label.y, showarrow=False, **box)


def _cut(text: str, n_chars: int) -> str:
    """The first ``n_chars`` characters of a name, cut at a word and marked with an ellipsis."""
    text = " ".join(str(text).split())
    if len(text) <= n_chars:
        return text
    cut = text[:n_chars].rsplit(" ", 1)[0] or text[:n_chars]
    return cut.rstrip(" ,.;:") + "…"
