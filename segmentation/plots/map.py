"""The customer map, and decoding a chart selection or a search back to customers.

``map_figure`` draws every customer (or a sample per segment) as WebGL points in the segment colours. Each point
carries its row position in ``result.table`` as the first item of ``customdata``: a lasso or box selection sent
back by the browser decodes to rows with ``selected_rows``, whichever points were sampled or which trace they
sit in. ``find_customers`` turns a search box query into rows the map can highlight. The segments' names are
written on the map by ``map_labels``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from segmentation.common import segment_label
from segmentation.plots.map_labels import MAX_LABELS, PLOT_WIDTH_PX, SegmentLabel, _add_labels, segment_labels
from segmentation.plots.theme import (
    CATEGORY_PALETTE,
    FONT,
    HIGHLIGHT_COLOUR,
    MUTED,
    UNASSIGNED_COLOUR,
    plain_label,
    segment_colour,
    segment_order,
    wrap,
)
from segmentation.plots.themes import theme_colours, theme_label
from segmentation.understand.wording import value_text

if TYPE_CHECKING:  # the figures only read a result; importing the pipeline here would load every stage
    from segmentation.pipeline import SegmentationResult

__all__ = ["SEGMENT", "THEME", "DEFAULT_MAX_POINTS", "MISSING_VALUE", "OTHER_VALUES", "SNIPPET_CHARS", "POINT_STEPS",
           "MAX_LABELS", "ColourScale", "SegmentLabel", "colour_scale", "point_choices", "default_points",
           "segment_labels", "map_figure", "sample_rows",
           "text_snippet", "selected_rows", "selected_customers", "find_customers"]

OTHER_VALUES = "(other values)"
MISSING_VALUE = "(missing)"
DEFAULT_MAX_POINTS = 20_000
SNIPPET_CHARS = 120
SEGMENT = "segment"
"""The ``color_by`` value that colours the map by segment."""
THEME = "theme"
"""The ``color_by`` value that colours the map by theme (shades of each segment's colour)."""
POINT_STEPS: tuple[int, ...] = (1_000, 2_000, 5_000, 10_000, 20_000, 50_000)
"""The "points drawn" choices offered, those below the number of customers (see :func:`point_choices`)."""
SKEWED = 1.0
"""|skewness| above which a numeric colour is not spread linearly: one big spender would make everyone else
look alike."""


def point_choices(n_customers: int) -> list[int]:
    """The "points drawn" choices for a base of ``n_customers``: the :data:`POINT_STEPS` below it, then the
    number of customers itself (all of them), so 2,000 customers offer 1,000 and 2,000, never 20,000."""
    n = max(int(n_customers), 1)
    return [step for step in POINT_STEPS if step < n] + [n]


def default_points(n_customers: int, chosen: int | None = None) -> int:
    """The "points drawn" to start from: ``chosen`` (an earlier choice) when it is one of :func:`point_choices`,
    else :data:`DEFAULT_MAX_POINTS` or everyone when there are fewer customers."""
    choices = point_choices(n_customers)
    if chosen in choices:
        return int(chosen)
    return min(DEFAULT_MAX_POINTS, choices[-1])


@dataclass(frozen=True)
class ColourScale:
    """How a numeric column is spread over the map's colours.

    ``kind`` is "linear" (``values`` are the numbers themselves), "log" (``values`` are log10 of the numbers:
    every factor of ten gets the same stretch of colour) or "quantile" (``values`` are each customer's rank
    among everyone, 0 to 1: every tenth of the customers gets a tenth of the colours). ``tickvals`` sit on the
    colour bar at the real values written in ``ticktext``; ``note`` says which scale it is, for the bar's title.
    """

    kind: str
    values: np.ndarray
    low: float
    high: float
    tickvals: tuple[float, ...] = ()
    ticktext: tuple[str, ...] = ()
    note: str = ""


def _skewness(numbers: np.ndarray) -> float:
    if numbers.size < 3:
        return 0.0
    spread = float(numbers.std())
    if spread <= 0 or not np.isfinite(spread):
        return 0.0
    return float(np.mean(((numbers - numbers.mean()) / spread) ** 3))


def _tick_text(value: float, column: Any) -> str:
    """A colour bar label: the value as the app writes it, without the cents of a round amount ("500", not
    "500.00")."""
    text = value_text(float(value), column)
    return text.removesuffix(".00") if float(value).is_integer() else text


def colour_scale(numbers: np.ndarray, column: Any = None) -> ColourScale:
    """The colour scale of a numeric column's finite ``numbers`` (every customer's, not only those drawn).

    A column that is not very skewed (|skewness| up to :data:`SKEWED`) is coloured linearly. A skewed column of
    positive numbers spanning at least a factor of ten (spend, revenue) is coloured on a log scale; any other
    skewed column (with zeros or negatives) by rank (quantiles). Either way the colour bar is labelled in the
    column's own values, written as ``understand.wording.value_text`` writes them (money as money).
    """
    numbers = np.asarray(numbers, dtype=float)
    if numbers.size == 0:
        return ColourScale("linear", numbers, 0.0, 1.0)
    low, high = float(numbers.min()), float(numbers.max())
    if abs(_skewness(numbers)) <= SKEWED or high <= low:
        return ColourScale("linear", numbers, low, high)
    if low > 0 and high / low >= 10:
        logs = np.log10(numbers)
        steps = (1, 2, 5) if logs.max() - logs.min() < 3 else (1,)   # few decades: 1, 2, 5, 10, 20, ...
        ticks = [step * 10.0 ** power for power in range(int(np.floor(logs.min())), int(np.ceil(logs.max())) + 1)
                 for step in steps if low <= step * 10.0 ** power <= high]
        return ColourScale("log", logs, float(logs.min()), float(logs.max()),
                           tuple(float(np.log10(t)) for t in ticks), tuple(_tick_text(t, column) for t in ticks),
                           "log scale")
    # equal values share the colour of the first of them, so the smallest value is the bottom of the scale
    ordered = np.sort(numbers)
    last = max(len(numbers) - 1, 1)
    position = np.searchsorted(ordered, numbers, side="left") / last
    tickvals, ticktext = [], []
    for value in np.quantile(numbers, (0.0, 0.25, 0.5, 0.75, 1.0), method="lower"):
        text = _tick_text(float(value), column)
        if text not in ticktext:        # many equal values (zeros) share one label
            tickvals.append(float(np.searchsorted(ordered, value, side="left") / last))
            ticktext.append(text)
    return ColourScale("quantile", position, 0.0, 1.0, tuple(tickvals), tuple(ticktext), "by rank")


def text_snippet(text: Any, n_chars: int = SNIPPET_CHARS) -> str:
    """The first ``n_chars`` characters of a text, cut at a word and marked with an ellipsis."""
    if text is None or (isinstance(text, float) and np.isnan(text)):
        return ""
    text = " ".join(str(text).split())
    if len(text) <= n_chars:
        return text
    cut = text[:n_chars].rsplit(" ", 1)[0] or text[:n_chars]
    return cut.rstrip(" ,.;:") + "…"


def sample_rows(labels: np.ndarray, max_points: int, random_state: int = 0, min_per_segment: int = 50
                ) -> np.ndarray:
    """Row positions to draw: all of them up to ``max_points``, else a seeded sample per segment.

    Every segment is sampled at the same rate, so the map keeps each segment's
    share of the picture, but a segment keeps at least ``min_per_segment`` points
    (or all of its customers if it has fewer) so that small segments stay visible.
    The result is sorted and never longer than ``max_points``.
    """
    labels = np.asarray(labels, dtype=int)
    n = len(labels)
    if max_points <= 0:
        raise ValueError(f"max_points must be positive. Got {max_points}.")
    if n <= max_points:
        return np.arange(n)
    segments = segment_order(labels)
    sizes = np.array([(labels == s).sum() for s in segments])
    floor = np.minimum(sizes, min(min_per_segment, max_points // max(len(segments), 1)))
    # segments whose proportional share would fall under the floor get the floor; the others share the rest
    fixed = np.zeros(len(sizes), dtype=bool)
    while True:
        room = max_points - int(floor[fixed].sum())
        free = int(sizes[~fixed].sum())
        below = ~fixed & (sizes * room < floor * free)
        if not below.any():
            break
        fixed |= below
    quotas = np.where(fixed, floor, 0)
    exact = np.where(fixed, 0.0, sizes * room / max(free, 1))
    quotas += np.floor(exact).astype(int)
    for i in np.argsort(-(exact - np.floor(exact)), kind="stable")[: max_points - int(quotas.sum())]:
        quotas[i] += 1
    quotas = np.minimum(quotas, sizes)
    for i in np.argsort(-(sizes - quotas), kind="stable"):  # top up from segments with customers to spare
        quotas[i] += min(int(sizes[i] - quotas[i]), max_points - int(quotas.sum()))
    rng = np.random.default_rng(random_state)
    chosen = [rng.choice(np.flatnonzero(labels == s), size=int(q), replace=False) for s, q in zip(segments, quotas)]
    return np.sort(np.concatenate(chosen)) if chosen else np.arange(0)


def _hover_frame(result: SegmentationResult, rows: np.ndarray, names: Mapping[int, str] | None,
                 hover_fields: Sequence[str]) -> tuple[np.ndarray, str]:
    """customdata (row position first) and the matching hover template.

    plotly inserts customdata into the template as markup: every text in it (ids, names, values, snippets) is
    made plain with ``plain_label`` here, and so are the column names written into the template."""
    table = result.table
    labels = np.asarray(result.labels, dtype=int)[rows]
    columns: list[np.ndarray] = [rows.astype(object),
                                 np.array([plain_label(i) for i in np.asarray(result.row_ids, dtype=object)[rows]],
                                          dtype=object),
                                 np.array([plain_label(segment_label(int(s), names)) for s in labels], dtype=object)]
    lines = ["<b>%{customdata[1]}</b>", "%{customdata[2]}"]
    for field in hover_fields:
        if field not in table.columns:
            continue
        values = table[field].iloc[rows]
        columns.append(np.array([plain_label(v) for v in _display_values(values)], dtype=object))
        lines.append(f"{plain_label(field)}: %{{customdata[{len(columns) - 1}]}}")
    texts = np.asarray(result.texts, dtype=object)[rows] if len(result.texts) else np.array([""] * len(rows))
    snippets = np.array([text_snippet(t) for t in texts], dtype=object)
    if any(snippets):
        columns.append(np.array([wrap(s) for s in snippets], dtype=object))
        lines.append(f"<i>%{{customdata[{len(columns) - 1}]}}</i>")
    return np.column_stack(columns), "<br>".join(lines) + "<extra></extra>"


def _display_values(values: pd.Series) -> np.ndarray:
    """Hover text for a column: thousands separated, at most four significant digits below 1,000."""
    if pd.api.types.is_float_dtype(values):
        return np.array(["–" if pd.isna(v) else f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.4g}" for v in values],
                        dtype=object)
    if pd.api.types.is_datetime64_any_dtype(values):
        return np.array(["–" if pd.isna(v) else f"{v:%Y-%m-%d}" for v in values], dtype=object)
    return np.array(["–" if pd.isna(v) else str(v) for v in values], dtype=object)



def _legend_rows(fig: go.Figure) -> int:
    """About how many lines the legend under the map takes: entries side by side across the plot's width."""
    widths = [44 + 6.5 * len(str(t.name)) for t in fig.data if t.showlegend is not False]
    rows, line = (1 if widths else 0), 0.0
    for width in widths:
        if line and line + width > PLOT_WIDTH_PX:
            rows, line = rows + 1, 0.0
        line += width
    return rows


def _share(share: float) -> str:
    """A segment's share for the legend: "34%", and "<1%" for a handful of customers rather than "0%"."""
    return "<1%" if 0 < share < 0.005 else f"{share:.0%}"


def _base_layout(fig: go.Figure, title: str, subtitle: str) -> go.Figure:
    # the legend sits under the map, not beside it: long segment names would otherwise take half its width
    rows = _legend_rows(fig) if fig.layout.showlegend is not False else 0
    fig.update_layout(
        title=dict(text=title, subtitle=dict(text=subtitle, font=dict(size=13, color=MUTED)),
                   x=0, xanchor="left", font=dict(size=17)),
        font=FONT, plot_bgcolor="#FBFCFE", paper_bgcolor="white", height=620 + 22 * rows,
        margin=dict(l=10, r=10, t=70, b=10 + 22 * rows), dragmode="lasso", hovermode="closest",
        legend=dict(itemsizing="constant", title=None, bgcolor="rgba(255,255,255,0.8)", orientation="h",
                    x=0, xanchor="left", y=-0.01, yanchor="top"),
        hoverlabel=dict(bgcolor="white", font=dict(size=12, family=FONT["family"]), align="left"),
        uirevision="map",  # keeps zoom and the legend's hidden segments when the page reruns
    )
    fig.update_xaxes(visible=False, showgrid=False, zeroline=False)
    fig.update_yaxes(visible=False, showgrid=False, zeroline=False)
    return fig


def map_figure(result: SegmentationResult, color_by: str = SEGMENT, names: Mapping[int, str] | None = None,
               hover_fields: Sequence[str] = (), max_points: int = DEFAULT_MAX_POINTS,
               random_state: int | None = None, highlight: Sequence[int] | np.ndarray | None = None,
               highlight_label: str = "Matches", show_labels: bool = True) -> go.Figure:
    """The 2-D customer map as WebGL scatter traces.

    ``color_by`` is ``"segment"`` (one trace per segment in the segment palette,
    Unassigned grey and drawn first so it sits underneath) or a column of
    ``result.table``: a numeric column gets one trace on a continuous colour
    scale, any other column one trace per value (its 9 most frequent values,
    the rest grouped). At most ``max_points`` customers are drawn, sampled per
    segment with ``random_state`` (the run's seed by default); the subtitle says
    how many are shown. Hover shows the customer id, segment, ``hover_fields``
    and the start of the customer's (already masked) text.

    ``highlight`` (row positions, e.g. the customers a search found) are drawn
    on top as dark rings in a trace of their own, named ``highlight_label`` and
    the count; highlighted customers are always drawn, sampled or not, up to
    ``max_points`` of them. Values, column names, segment names and ids are
    drawn as plain text (``theme.plain_label``), never as markup.

    ``show_labels`` writes the segments' names at their centres (see :func:`segment_labels`: at most
    :data:`MAX_LABELS`, never overlapping, never Unassigned), whatever the colouring.
    """
    labels = np.asarray(result.labels, dtype=int)
    n = len(labels)
    seed = result.config.random_state if random_state is None else random_state
    rows = sample_rows(labels, max_points, seed)
    marked = np.zeros(0, dtype=int)
    if highlight is not None:
        marked = np.unique(np.asarray(highlight, dtype=int))
        marked = marked[(marked >= 0) & (marked < n)][:max_points]
        rows = np.union1d(rows, marked)
    customdata, template = _hover_frame(result, rows, names, hover_fields)
    xy = np.asarray(result.coords, dtype=float)[rows]
    shown = f"Showing all {n:,} customers" if len(rows) == n else f"Showing {len(rows):,} of {n:,} customers"
    fig = go.Figure()
    marker = dict(size=5 if len(rows) > 5000 else 7, opacity=0.8, line=dict(width=0))

    def add(mask: np.ndarray, name: str, colour: Any, **extra: Any) -> None:
        fig.add_trace(go.Scattergl(x=xy[mask, 0], y=xy[mask, 1], mode="markers", name=name,
                                   customdata=customdata[mask], hovertemplate=template,
                                   marker={**marker, "color": colour, **extra}))

    if color_by == SEGMENT:
        sampled = labels[rows]
        order = segment_order(labels)
        # Unassigned is drawn first, underneath the segments, but listed last in the legend
        for segment in ([-1] if -1 in order else []) + [s for s in order if s >= 0]:
            share = (labels == segment).mean()
            add(sampled == segment, f"{plain_label(segment_label(segment, names))} · {_share(share)}",
                segment_colour(segment))
            fig.data[-1].legendrank = 1000 + order.index(segment)
        title = "Customers by segment"
    elif color_by == THEME and getattr(result, "theme_labels", None) is not None:
        # the theme goes under the segment in the hover; add() reads customdata and template when it draws
        themes, parent, theme_names = np.asarray(result.theme_labels, dtype=int)[rows], result.theme_parent, \
            result.theme_names()
        customdata = np.column_stack([customdata, [plain_label(theme_label(int(t), parent, theme_names))
                                                   if t >= 0 else "No theme" for t in themes]])
        template = template.replace("%{customdata[2]}", "%{customdata[2]}<br>Theme: "
                                    f"%{{customdata[{customdata.shape[1] - 1}]}}", 1)
        _add_themes(fig, result, rows, names, add)
        title = "Customers by theme"
    elif color_by in result.table.columns:
        values = result.table[color_by].iloc[rows]
        title = f"Customers by {plain_label(color_by)}"
        if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
            # the scale is fitted on every customer, so a colour means the same whichever points are drawn
            everyone = result.table[color_by].to_numpy(dtype=float, na_value=np.nan)
            known = np.isfinite(everyone)
            scale = colour_scale(everyone[known], color_by)
            colours = np.full(n, np.nan)
            colours[known] = scale.values
            colours = colours[rows]
            missing = np.isnan(colours)
            if missing.any():
                add(missing, MISSING_VALUE, UNASSIGNED_COLOUR)
            bar: dict[str, Any] = dict(title=dict(text=plain_label(color_by) + (
                f"<br><span style='font-size:11px;color:{MUTED}'>{scale.note}</span>" if scale.note else "")),
                thickness=14, len=0.75)
            if scale.tickvals:
                bar.update(tickvals=list(scale.tickvals), ticktext=[plain_label(t) for t in scale.ticktext])
            add(~missing, plain_label(color_by), colours[~missing], colorscale="Viridis", showscale=True,
                cmin=scale.low, cmax=scale.high, colorbar=bar)
            fig.update_layout(showlegend=bool(missing.any()))
        else:
            text = values.astype("string").fillna(MISSING_VALUE).to_numpy(dtype=object)
            top = pd.Series(text).value_counts().index[:9].tolist()
            grouped = np.where(np.isin(text, top), text, OTHER_VALUES)
            for i, value in enumerate(top + ([OTHER_VALUES] if (grouped == OTHER_VALUES).any() else [])):
                colour = UNASSIGNED_COLOUR if value in (OTHER_VALUES, MISSING_VALUE) else \
                    CATEGORY_PALETTE[i % len(CATEGORY_PALETTE)]
                add(grouped == value, plain_label(value), colour)
    else:
        raise ValueError(f"Cannot colour the map by {color_by!r}: it is neither 'segment', 'theme' (in a run "
                         "with themes) nor a column.")
    if len(marked):
        ring = np.isin(rows, marked)
        fig.add_trace(go.Scattergl(x=xy[ring, 0], y=xy[ring, 1], mode="markers",
                                   name=f"{plain_label(highlight_label)} · {len(marked):,}",
                                   customdata=customdata[ring], hovertemplate=template,
                                   marker=dict(size=13, color=HIGHLIGHT_COLOUR, symbol="circle-open",
                                               line=dict(width=2, color=HIGHLIGHT_COLOUR)),
                                   legendrank=0, showlegend=True))
    if show_labels:
        _add_labels(fig, segment_labels(result.coords, labels, names, random_state=seed))
    return _base_layout(fig, title, shown + ". Drag a lasso or box around customers to see who they are.")


def _add_themes(fig: go.Figure, result: SegmentationResult, rows: np.ndarray, names: Mapping[int, str] | None,
                add: Any) -> None:
    """One trace per theme (``add``: draws the customers of a mask) in a shade of its segment's colour, the legend
    grouped under each segment's name (largest segment first, its themes largest first, each with its share of
    everyone); Unassigned grey, drawn underneath."""
    labels = np.asarray(result.labels, dtype=int)
    themes = np.asarray(result.theme_labels, dtype=int)
    sampled_segments, sampled_themes = labels[rows], themes[rows]
    parent, theme_names = result.theme_parent, result.theme_names()
    colours = theme_colours(parent)
    order = segment_order(labels)
    for rank, segment in enumerate(([-1] if -1 in order else []) + [s for s in order if s >= 0]):
        title = plain_label(segment_label(segment, names))
        group = dict(legendgroup=f"segment-{segment}", legendgrouptitle=dict(text=f"<b>{title}</b>"))
        if segment < 0:
            add(sampled_segments == segment, f"{title} · {_share((labels == segment).mean())}", UNASSIGNED_COLOUR)
            continue
        for theme in sorted(t for t, s in parent.items() if s == segment):
            add(sampled_themes == theme, f"{plain_label(theme_label(theme, parent, theme_names))} · "
                f"{_share((themes == theme).mean())}", colours[theme])
            fig.data[-1].update(**group, legendrank=1000 + rank)


def selected_rows(selection: Any) -> np.ndarray:
    """Row positions of the customers in a plotly selection event, sorted and unique.

    Accepts Streamlit's ``event.selection`` (or the whole event, or a plain dict):
    each selected point's ``customdata[0]`` is its row position. Points without
    customdata are ignored.
    """
    if selection is None:
        return np.array([], dtype=int)
    if hasattr(selection, "get") and "selection" in selection:
        selection = selection["selection"]
    points = selection.get("points", []) if hasattr(selection, "get") else []
    rows = []
    for point in points or []:
        data = point.get("customdata") if hasattr(point, "get") else None
        if data is None:
            continue
        first = data[0] if isinstance(data, (list, tuple, np.ndarray)) else data
        try:
            rows.append(int(first))
        except (TypeError, ValueError):
            continue
    return np.unique(np.asarray(rows, dtype=int))


def selected_customers(result: SegmentationResult, rows: np.ndarray, names: Mapping[int, str] | None = None,
                       fields: Sequence[str] = ()) -> pd.DataFrame:
    """A table of the given customers: id, segment, ``fields`` and a text snippet (when there is text)."""
    rows = np.asarray(rows, dtype=int)
    out = pd.DataFrame({
        "customer": np.asarray(result.row_ids, dtype=object)[rows],
        "segment": [segment_label(int(s), names) for s in np.asarray(result.labels)[rows]],
    })
    for field in fields:
        if field in result.table.columns and field not in out.columns:
            out[field] = result.table[field].iloc[rows].to_numpy()
    texts = np.asarray(result.texts, dtype=object)
    if len(texts) and any(str(t).strip() for t in texts[rows]):
        out["text"] = [text_snippet(t) for t in texts[rows]]
    return out


# --------------------------------------------------------------------------- finding customers
def find_customers(row_ids: Sequence[Any] | np.ndarray, texts: Sequence[Any] | np.ndarray, query: str,
                   tags: Sequence[Any] | np.ndarray | None = None) -> tuple[np.ndarray, str]:
    """Row positions of the customers a search box ``query`` names, and how they matched ("id", "text", "tags"
    or "").

    Ids first: the query is split at commas, semicolons and spaces, and customers whose id equals one of the
    parts (ignoring case) are returned. When no id matches, the query is read as words, and customers whose
    text contains every word (at the start of a word, ignoring case; "deliver" finds "delivery") are
    returned; a query in double quotes is one phrase. ``tags`` (each customer's tags, "lost baggage; refund",
    as in the export) are searched the same way, so "lost baggage" also finds a customer who wrote "they lost my
    baggage"; the match is "tags" when only tags matched. Nothing found gives an empty array.
    """
    query = (query or "").strip()
    if not query:
        return np.array([], dtype=int), ""
    parts = [p for p in re.split(r"[,;\s]+", query.strip('"')) if p]
    ids = pd.Series(np.asarray(row_ids, dtype=object)).astype("string").str.strip().str.lower()
    by_id = np.flatnonzero(ids.isin([p.lower() for p in parts]).to_numpy(dtype=bool, na_value=False))
    if len(by_id):
        return by_id, "id"
    words = [query.strip('"')] if len(query) > 1 and query.startswith('"') and query.endswith('"') else parts

    def every_word(values: Sequence[Any] | np.ndarray) -> np.ndarray:
        column = pd.Series(np.asarray(values, dtype=object)).astype("string").fillna("")
        hit = np.ones(len(column), dtype=bool)
        for word in words:
            hit &= column.str.contains(r"\b" + re.escape(word), case=False, regex=True).to_numpy(
                dtype=bool, na_value=False)
        return hit

    in_text = every_word(texts)
    found = in_text | every_word(tags) if tags is not None and len(tags) == len(in_text) else in_text
    rows = np.flatnonzero(found)
    return rows, ("" if not len(rows) else "text" if in_text.any() else "tags")
