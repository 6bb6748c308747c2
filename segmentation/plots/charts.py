"""Pure plotly figure builders, plus decoding a chart selection back to customers.

Every builder returns a ``plotly.graph_objects.Figure`` and draws nothing. Segments
get their colour from one palette (``segment_colour``), used by the map, the size
chart, the Profiles cards and the report, so "Segment 3" is the same red everywhere.

Each map point carries its row position in ``result.table`` as the first item of
``customdata``: a lasso or box selection sent back by the browser decodes to rows
with ``selected_rows``, whichever points were sampled or which trace they sit in.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from segmentation.common import segment_label

if TYPE_CHECKING:  # the figures only read a result; importing the pipeline here would load every stage
    from segmentation.pipeline import SegmentationResult

SEGMENT_PALETTE: tuple[str, ...] = ("#4C78A8", "#F58518", "#54A24B", "#E45756", "#72B7B2",
                                    "#EECA3B", "#B279A2", "#FF9DA6", "#9D755D", "#BAB0AC")
"""Segment colours in order: segment 0 (the largest) is the first; they cycle after ten."""

UNASSIGNED_COLOUR = "#C9CED6"
CATEGORY_PALETTE: tuple[str, ...] = ("#1B9E77", "#D95F02", "#7570B3", "#E7298A", "#66A61E",
                                     "#E6AB02", "#A6761D", "#1F78B4", "#B2DF8A", "#FB9A99")
"""Colours for other categorical columns: deliberately not the segment colours, to avoid confusion."""

OTHER_VALUES = "(other values)"
MISSING_VALUE = "(missing)"
DEFAULT_MAX_POINTS = 20_000
SNIPPET_CHARS = 120
HIGHLIGHT_COLOUR = "#111827"
"""Outline of highlighted customers (search matches) on the map: near-black, unlike any segment colour."""
SEGMENT = "segment"
"""The ``color_by`` value that colours the map by segment."""

_FONT = dict(family="Inter, 'Source Sans Pro', sans-serif", color="#1F2937")


def segment_colour(segment: int) -> str:
    """The colour of a segment everywhere in the app; Unassigned (-1) is grey."""
    return UNASSIGNED_COLOUR if segment < 0 else SEGMENT_PALETTE[int(segment) % len(SEGMENT_PALETTE)]


def segment_order(labels: np.ndarray) -> list[int]:
    """Segments largest first (ties by id), Unassigned last."""
    ids, counts = np.unique(np.asarray(labels, dtype=int), return_counts=True)
    size = dict(zip(ids.tolist(), counts.tolist()))
    return sorted(size, key=lambda s: (s < 0, -size[s], s))


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
    """customdata (row position first) and the matching hover template."""
    table = result.table
    labels = np.asarray(result.labels, dtype=int)[rows]
    columns: list[np.ndarray] = [rows.astype(object), np.asarray(result.row_ids, dtype=object)[rows],
                                 np.array([segment_label(int(s), names) for s in labels], dtype=object)]
    lines = ["<b>%{customdata[1]}</b>", "%{customdata[2]}"]
    for field in hover_fields:
        if field not in table.columns:
            continue
        values = table[field].iloc[rows]
        columns.append(_display_values(values))
        lines.append(f"{field}: %{{customdata[{len(columns) - 1}]}}")
    texts = np.asarray(result.texts, dtype=object)[rows] if len(result.texts) else np.array([""] * len(rows))
    snippets = np.array([text_snippet(t) for t in texts], dtype=object)
    if any(snippets):
        columns.append(np.array([_wrap(s) for s in snippets], dtype=object))
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


def _wrap(text: str, width: int = 60) -> str:
    """Break a snippet into hover-friendly lines."""
    words, lines, line = text.split(), [], ""
    for word in words:
        if line and len(line) + len(word) + 1 > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    if line:
        lines.append(line)
    return "<br>".join(lines)


def _base_layout(fig: go.Figure, title: str, subtitle: str) -> go.Figure:
    fig.update_layout(
        title=dict(text=title, subtitle=dict(text=subtitle, font=dict(size=13, color="#6B7280")),
                   x=0, xanchor="left", font=dict(size=17)),
        font=_FONT, plot_bgcolor="#FBFCFE", paper_bgcolor="white", height=620,
        margin=dict(l=10, r=10, t=70, b=10), dragmode="lasso", hovermode="closest",
        legend=dict(itemsizing="constant", title=None, bgcolor="rgba(255,255,255,0.8)"),
        hoverlabel=dict(bgcolor="white", font=dict(size=12, family=_FONT["family"]), align="left"),
        uirevision="map",  # keeps zoom and the legend's hidden segments when the page reruns
    )
    fig.update_xaxes(visible=False, showgrid=False, zeroline=False)
    fig.update_yaxes(visible=False, showgrid=False, zeroline=False)
    return fig


def map_figure(result: SegmentationResult, color_by: str = SEGMENT, names: Mapping[int, str] | None = None,
               hover_fields: Sequence[str] = (), max_points: int = DEFAULT_MAX_POINTS,
               random_state: int | None = None, highlight: Sequence[int] | np.ndarray | None = None,
               highlight_label: str = "Matches") -> go.Figure:
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
    ``max_points`` of them.
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
            add(sampled == segment, f"{segment_label(segment, names)} · {share:.0%}", segment_colour(segment))
            fig.data[-1].legendrank = 1000 + order.index(segment)
        title = "Customers by segment"
    elif color_by in result.table.columns:
        values = result.table[color_by].iloc[rows]
        title = f"Customers by {color_by}"
        if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
            numbers = values.to_numpy(dtype=float, na_value=np.nan)
            missing = np.isnan(numbers)
            if missing.any():
                add(missing, MISSING_VALUE, UNASSIGNED_COLOUR)
            add(~missing, color_by, numbers[~missing], colorscale="Viridis", showscale=True,
                colorbar=dict(title=dict(text=color_by), thickness=14, len=0.75))
            fig.update_layout(showlegend=bool(missing.any()))
        else:
            text = values.astype("string").fillna(MISSING_VALUE).to_numpy(dtype=object)
            top = pd.Series(text).value_counts().index[:9].tolist()
            grouped = np.where(np.isin(text, top), text, OTHER_VALUES)
            for i, value in enumerate(top + ([OTHER_VALUES] if (grouped == OTHER_VALUES).any() else [])):
                colour = UNASSIGNED_COLOUR if value in (OTHER_VALUES, MISSING_VALUE) else \
                    CATEGORY_PALETTE[i % len(CATEGORY_PALETTE)]
                add(grouped == value, str(value), colour)
    else:
        raise ValueError(f"Cannot colour the map by {color_by!r}: it is neither 'segment' nor a column.")
    if len(marked):
        ring = np.isin(rows, marked)
        fig.add_trace(go.Scattergl(x=xy[ring, 0], y=xy[ring, 1], mode="markers", name=f"{highlight_label} · "
                                   f"{len(marked):,}", customdata=customdata[ring], hovertemplate=template,
                                   marker=dict(size=13, color=HIGHLIGHT_COLOUR, symbol="circle-open",
                                               line=dict(width=2, color=HIGHLIGHT_COLOUR)),
                                   legendrank=0, showlegend=True))
    return _base_layout(fig, title, shown + ". Drag a lasso or box around customers to see who they are.")


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


def size_figure(result: SegmentationResult, names: Mapping[int, str] | None = None) -> go.Figure:
    """Horizontal bars of segment sizes, largest at the top, Unassigned last, in the segment colours."""
    labels = np.asarray(result.labels, dtype=int)
    n = max(len(labels), 1)
    order = segment_order(labels)
    sizes = [int((labels == s).sum()) for s in order]
    fig = go.Figure(go.Bar(
        x=sizes, y=[segment_label(s, names) for s in order], orientation="h",
        marker=dict(color=[segment_colour(s) for s in order], line=dict(width=0)),
        text=[f"{size:,} · {size / n:.1%}" for size in sizes], textposition="outside", cliponaxis=False,
        hovertemplate="%{y}: %{x:,} customers<extra></extra>",
    ))
    fig.update_layout(
        font=_FONT, plot_bgcolor="white", paper_bgcolor="white", showlegend=False, bargap=0.35,
        height=max(180, 46 * len(order) + 60), margin=dict(l=10, r=40, t=10, b=30),
    )
    fig.update_yaxes(autorange="reversed", title=None, automargin=True)
    fig.update_xaxes(title="Customers", showgrid=True, gridcolor="#EEF0F4", zeroline=False,
                     range=[0, max(sizes or [1]) * 1.22])
    return fig


# --------------------------------------------------------------------------- finding customers
def find_customers(row_ids: Sequence[Any] | np.ndarray, texts: Sequence[Any] | np.ndarray, query: str
                   ) -> tuple[np.ndarray, str]:
    """Row positions of the customers a search box ``query`` names, and how they matched ("id", "text" or "").

    Ids first: the query is split at commas, semicolons and spaces, and customers whose id equals one of the
    parts (ignoring case) are returned. When no id matches, the query is read as words, and customers whose
    text contains every word (at the start of a word, ignoring case; "deliver" finds "delivery") are
    returned; a query in double quotes is one phrase. Nothing found gives an empty array.
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
    text = pd.Series(np.asarray(texts, dtype=object)).astype("string").fillna("")
    hit = np.ones(len(text), dtype=bool)
    for word in words:
        hit &= text.str.contains(r"\b" + re.escape(word), case=False, regex=True).to_numpy(dtype=bool,
                                                                                          na_value=False)
    rows = np.flatnonzero(hit) if len(text) else np.array([], dtype=int)
    return rows, ("text" if len(rows) else "")


# --------------------------------------------------------------------------- comparing segments
DIVERGING_SCALE = [[0.0, "#C2571A"], [0.25, "#F0B48A"], [0.5, "#F7F7F7"], [0.75, "#9CB9DA"], [1.0, "#2F5F98"]]
"""Below average (orange) to above average (blue): the arrows of the profile cards use the same two hues."""


def segment_tick(segment: int, names: Mapping[int, str] | None = None) -> str:
    """An axis label for a segment: a dot in its colour, then its name (plotly understands the span)."""
    return f'<span style="color:{segment_colour(segment)};font-size:17px">●</span> {segment_label(segment, names)}'


def _pretty_column(column: Any) -> str:
    text = str(column).replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def _grid_layout(fig: go.Figure, title: str, subtitle: str, n_rows: int) -> go.Figure:
    # the column names sit on top like a table's header, between the subtitle and the first row
    fig.update_layout(
        title=dict(text=title, subtitle=dict(text=subtitle, font=dict(size=13, color="#6B7280")), x=0,
                   xanchor="left", yref="container", y=1, yanchor="top", pad=dict(t=12), font=dict(size=17)),
        font=_FONT, plot_bgcolor="white", paper_bgcolor="white", height=max(260, 46 * n_rows + 190),
        margin=dict(l=10, r=10, t=120, b=10), hoverlabel=dict(bgcolor="white", align="left"),
    )
    fig.update_yaxes(autorange="reversed", automargin=True, showgrid=False, ticks="", ticklabelstandoff=8,
                     tickfont=dict(size=13, color="#1F2937"))
    fig.update_xaxes(side="top", automargin=True, showgrid=False, ticks="", tickangle=0,
                     tickfont=dict(size=12, color="#1F2937"))
    return fig


def _header(label: Any, width: int = 12) -> str:
    """A column header broken into short lines, so headers stay level instead of being tilted."""
    return _wrap(str(label), width)


def heatmap_figure(frame: pd.DataFrame, names: Mapping[int, str] | None = None, limit: float = 1.5) -> go.Figure:
    """Segments (rows) by numeric columns: how far each segment's average sits from everyone's, in standard
    deviations (``profiling.heatmap_frame``).

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
                      ticktext=[f"{limit:g} sd below", "average", f"{limit:g} sd above"]),
        hovertemplate="%{y}<br>%{x}: %{z:+.2f} standard deviations from the average<extra></extra>",
    ))
    return _grid_layout(fig, "How the segments differ", "Each cell: the segment's average against everyone's, in "
                        "standard deviations. Blue is above average, orange below; ±0.5 is a clear difference.",
                        len(segments))


def category_share_figure(frame: pd.DataFrame, column: str, names: Mapping[int, str] | None = None,
                          overall: pd.Series | None = None, limit: float = 0.15) -> go.Figure:
    """Segments (rows) by the values of one category column: the share of each segment with each value
    (``profiling.category_crosstab``; rows add up to 100%).

    With ``overall`` (the same shares for all customers) an "Everyone" row is added at the bottom and each
    cell is coloured by how far the segment's share sits from everyone's: blue where the segment has more of
    the value, orange where it has less, saturating at ±``limit`` (0.15 = 15 percentage points). Without it
    cells are shaded by the share itself. Row labels are in the segment colours.
    """
    if frame is None or frame.empty:
        return _grid_layout(go.Figure(), f"Segments by {_pretty_column(column).lower()}", "Nothing to show.", 1)
    segments = [int(s) for s in frame.index]
    shares = frame.to_numpy(dtype=float)
    labels = [segment_tick(s, names) for s in segments]
    what = _pretty_column(column).lower()
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
