"""The segment dashboard: what each segment is worth, side by side, and a size-against-value bubble chart.

:func:`segment_dashboard` gathers the figures a marketer compares segments on (size, share of revenue, average
order value, predicted value and value at risk, known outcomes such as churn, rating) from whatever the table
holds; :func:`dashboard_figure` draws them as small multiples of bars and :func:`size_value_figure` as bubbles,
all in the segment palette. A figure the data cannot give is left out, never shown as zero.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from segmentation.common import name_tokens, segment_label
from segmentation.errors import DataError
from segmentation.plots.theme import (
    FONT,
    GRID,
    MUTED,
    empty_figure,
    plain_label,
    segment_colour,
    segment_order,
    segment_tick,
    titled,
)
from segmentation.understand.columns import column_kind, detect_value_column
from segmentation.understand.outcomes import outcome_columns, outcome_rates, read_outcome
from segmentation.understand.wording import (
    MISSING,
    capitalise,
    column_texts,
    pretty_column,
    readable_number,
    share_text,
    value_text,
)
from segmentation.value.summary import segment_value

__all__ = ["Metric", "Dashboard", "segment_dashboard", "dashboard_figure", "size_value_figure"]

RATING_WORDS = frozenset({"rating", "ratings", "stars", "star", "satisfaction", "csat", "nps"})
"""Words of a column name that mark a rating, averaged per segment on the dashboard."""


@dataclass(frozen=True)
class Metric:
    """One column of the dashboard: ``column`` of :attr:`Dashboard.frame`, its ``title`` for people, how its
    numbers are written (``kind``: "count", "share", "money" or "number"; ``unit_column`` names the money column
    whose currency they carry) and the value for everyone (``overall``, drawn as a dotted line; NaN for totals)."""

    column: str
    title: str
    kind: str
    overall: float = float("nan")
    unit_column: str | None = None

    def text(self, value: float) -> str:
        if self.kind == "share":
            return share_text(value)
        if self.kind == "money":
            return value_text(value, self.unit_column)
        return readable_number(value)

    def texts(self, values: np.ndarray) -> list[str]:
        """The column's values with one rule for all (``wording.column_texts``): "402" beside "2,316", never
        "402.03"; "–" where a segment has no value."""
        shown = column_texts(values, self.unit_column if self.kind == "money" else None, share=self.kind == "share")
        return ["–" if text == MISSING else text for text in shown]


@dataclass(frozen=True)
class Dashboard:
    """Per segment (index: internal labels, largest first, Unassigned last) the :attr:`metrics` columns, plus
    ``customers``; ``value_column`` is the money column the value figures come from (None without one)."""

    frame: pd.DataFrame
    metrics: tuple[Metric, ...] = field(default=())
    value_column: str | None = None


def _numbers(table: pd.DataFrame, column: str) -> np.ndarray:
    return pd.to_numeric(table[column], errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _group_sum(values: np.ndarray, labels: np.ndarray, order: list[int]) -> np.ndarray:
    return np.array([np.nansum(values[labels == s]) for s in order])


def _group_mean(values: np.ndarray, labels: np.ndarray, order: list[int]) -> np.ndarray:
    out = []
    for segment in order:
        part = values[(labels == segment) & np.isfinite(values)]
        out.append(float(part.mean()) if part.size else np.nan)
    return np.array(out)


def _frequency_column(table: pd.DataFrame, roles: Mapping[str, str]) -> str | None:
    """The column that counts each customer's orders ("frequency", "orders", "NumPurchases"), or None."""
    return next((c for c, r in roles.items() if r == "numeric" and c in table.columns
                 and column_kind(str(c)) == "frequency"), None)


def _rating_column(table: pd.DataFrame, roles: Mapping[str, str]) -> str | None:
    return next((c for c, r in roles.items() if r == "numeric" and c in table.columns
                 and set(name_tokens(str(c))) & RATING_WORDS), None)


def segment_dashboard(table: pd.DataFrame, roles: Mapping[str, str], labels: np.ndarray) -> Dashboard:
    """The dashboard's figures per segment, from what ``table`` holds (``roles`` say which column is what).

    Always: customers and their share. With a money column (``understand.columns.detect_value_column``):
    the segment's share of the total, its value per customer and, with an order count ("frequency",
    "orders"), its average order value (the segment's money divided by its orders). With predicted value (a
    roll-up with predictions, ``value.summary.segment_value``): the share of predicted value, the value at
    risk and the share still active. Each outcome column (role "outcome"): the rate (share with the counted
    value, or the mean). A rating column ("rating", "stars", "satisfaction"): its mean.
    """
    labels = np.asarray(labels, dtype=int)
    if len(labels) != len(table):
        raise DataError(f"There are {len(labels):,} segment labels for {len(table):,} rows; give one each.")
    order = segment_order(labels)
    counts = np.array([int((labels == s).sum()) for s in order])
    frame = pd.DataFrame({"customers": counts, "customer_share": counts / max(len(labels), 1)},
                         index=pd.Index(order, name="segment"))
    metrics = [Metric("customer_share", "Share of customers", "share")]
    value_column = detect_value_column(table, roles)
    if value_column is not None:
        money = _numbers(table, value_column)
        totals = _group_sum(money, labels, order)
        everyone = float(np.nansum(money))
        what = pretty_column(value_column).lower()
        frame["value_total"] = totals
        frame["value_share"] = totals / everyone if everyone else np.nan
        frame["value_per_customer"] = totals / np.maximum(counts, 1)
        metrics += [Metric("value_share", f"Share of {what}", "share"),
                    Metric("value_per_customer", f"{capitalise(pretty_column(value_column))} per customer", "money",
                           everyone / max(len(labels), 1), value_column)]
        frequency = _frequency_column(table, roles)
        if frequency is not None:
            orders = _group_sum(_numbers(table, frequency), labels, order)
            all_orders = float(np.nansum(_numbers(table, frequency)))
            frame["average_order_value"] = np.where(orders > 0, totals / np.where(orders > 0, orders, 1), np.nan)
            metrics.append(Metric("average_order_value", "Average order value", "money",
                                  everyone / all_orders if all_orders > 0 else np.nan, value_column))
    worth = segment_value(table, labels)
    if not worth.empty:
        worth = worth.reindex(order)
        frame["predicted_share"] = worth["clv_share"].to_numpy(dtype=float)
        frame["value_at_risk"] = worth["value_at_risk"].to_numpy(dtype=float)
        frame["still_active"] = worth["mean_p_alive"].to_numpy(dtype=float)
        alive = _numbers(table, "p_alive") if "p_alive" in table.columns else np.array([np.nan])
        metrics += [Metric("predicted_share", "Share of predicted value", "share"),
                    Metric("value_at_risk", "Value at risk", "money", unit_column=value_column),
                    Metric("still_active", "Still active (predicted)", "share",
                           float(np.nanmean(alive)) if np.isfinite(alive).any() else np.nan)]
    for column in outcome_columns(roles, table):
        try:
            outcome = read_outcome(table[column], str(column))
            rates = outcome_rates(table[column], labels, outcome).set_index("segment").reindex(order)
        except DataError:
            continue   # an outcome the data cannot read is explained on the profile cards, not here
        key = f"outcome:{column}"
        frame[key] = rates["rate"].to_numpy(dtype=float)
        binary = outcome.kind == "binary"
        title = (f"{capitalise(pretty_column(column))}: {outcome.positive}" if binary
                 else f"Average {pretty_column(column)}")
        metrics.append(Metric(key, title, "share" if binary else "number", float(rates["overall"].iloc[0])))
    rating = _rating_column(table, roles)
    if rating is not None:
        values = _numbers(table, rating)
        frame["rating"] = _group_mean(values, labels, order)
        metrics.append(Metric("rating", f"Average {pretty_column(rating).lower()}", "number",
                              float(np.nanmean(values)) if np.isfinite(values).any() else np.nan))
    return Dashboard(frame, tuple(metrics), value_column)


def dashboard_figure(dashboard: Dashboard, names: Mapping[int, str] | None = None,
                     title: str = "Segments side by side") -> go.Figure:
    """One small bar chart per figure of the dashboard, segments as rows in their colours (the same order in
    every chart), each bar labelled with its value; a dotted line marks everyone's value where an average
    makes sense. Up to five charts sit in one row; more wrap onto further rows."""
    frame, metrics = dashboard.frame, [m for m in dashboard.metrics if m.column in dashboard.frame.columns]
    if frame.empty or not metrics:
        return empty_figure(plain_label(title), "There are no segments to compare.")
    segments = [int(s) for s in frame.index]
    ticks = [segment_tick(s, names) for s in segments]
    columns = min(len(metrics), 5 if len(metrics) != 6 else 3)
    rows = -(-len(metrics) // columns)
    fig = make_subplots(rows=rows, cols=columns, shared_yaxes=True, horizontal_spacing=0.03,
                        vertical_spacing=0.5 / max(rows, 1) if rows > 1 else 0.0,
                        subplot_titles=[plain_label(m.title) for m in metrics])
    colours = [segment_colour(s) for s in segments]
    for i, metric in enumerate(metrics):
        row, col = i // columns + 1, i % columns + 1
        values = frame[metric.column].to_numpy(dtype=float)
        fig.add_trace(go.Bar(
            x=np.nan_to_num(values), y=ticks, orientation="h", marker=dict(color=colours),
            text=metric.texts(values), textposition="outside",
            cliponaxis=False, customdata=segments, name=plain_label(metric.title), showlegend=False,
            hovertemplate=f"%{{y}}<br>{plain_label(metric.title)}: %{{text}}<extra></extra>"), row=row, col=col)
        top = float(np.nanmax(np.abs(values))) if np.isfinite(values).any() else 1.0
        if np.isfinite(metric.overall):
            fig.add_vline(x=metric.overall, row=row, col=col, layer="below",
                          line=dict(color=MUTED, dash="dot", width=1))
            top = max(top, metric.overall)
        # room on the right for the labels, which sit outside the bars
        fig.update_xaxes(range=[0, (top or 1.0) * 1.45], row=row, col=col)
    fig.update_xaxes(showticklabels=False, showgrid=False, zeroline=True, zerolinecolor=GRID)
    fig.update_yaxes(autorange="reversed", automargin=True, tickfont=dict(size=13))
    fig.update_annotations(font=dict(size=13, color="#1F2937"))
    fig.update_layout(showlegend=False, bargap=0.3, font=FONT)
    return titled(fig, plain_label(title), "Each chart compares the segments on one figure; a dotted line marks "
                  "everyone's value.", height=rows * max(190, 34 * len(segments) + 70) + 110,
                  margin=dict(l=10, r=20, t=110, b=20))


def size_value_figure(dashboard: Dashboard, names: Mapping[int, str] | None = None,
                      title: str = "Size against value") -> go.Figure:
    """Each segment as a bubble: its share of customers across, its share of the money column up, the bubble
    as big as the money it holds, in the segment's colour. Segments above the dotted diagonal bring more than
    their share of customers (worth more per head); those below, less."""
    frame = dashboard.frame
    share = "value_share" if "value_share" in frame.columns else (
        "predicted_share" if "predicted_share" in frame.columns else None)
    if share is None or frame.empty:
        return empty_figure(plain_label(title), "No money column (spend, revenue, monetary) to weigh the segments "
                                                "by: mark one as numeric on the Data page.")
    segments = [int(s) for s in frame.index]
    x = frame["customer_share"].to_numpy(dtype=float)
    y = np.nan_to_num(frame[share].to_numpy(dtype=float))
    size = np.sqrt(np.clip(y, 0, None) / max(float(np.max(y)), 1e-12)) * 60 + 12
    what = pretty_column(dashboard.value_column).lower() if share == "value_share" and dashboard.value_column \
        else "predicted value"
    labels = [plain_label(segment_label(s, names)) for s in segments]
    fig = go.Figure()
    top = max(float(x.max()), float(y.max()), 0.05) * 1.15
    fig.add_trace(go.Scatter(x=[0, top], y=[0, top], mode="lines", hoverinfo="skip", showlegend=False,
                             line=dict(color=MUTED, dash="dot", width=1)))
    fig.add_trace(go.Scatter(
        x=x, y=y, mode="markers+text", text=labels, textposition="top center", customdata=segments,
        marker=dict(size=size, color=[segment_colour(s) for s in segments], opacity=0.85,
                    line=dict(color="white", width=1)),
        hovertemplate=f"%{{text}}<br>%{{x:.1%}} of customers, %{{y:.1%}} of {plain_label(what)}<extra></extra>",
        showlegend=False, cliponaxis=False))
    fig.update_xaxes(title="Share of customers", tickformat=".0%", range=[0, top], gridcolor=GRID, zeroline=False)
    fig.update_yaxes(title=f"Share of {plain_label(what)}", tickformat=".0%", range=[0, top], gridcolor=GRID,
                     zeroline=False)
    return titled(fig, plain_label(title), f"Above the dotted line a segment brings more {plain_label(what)} than "
                  "its share of customers; the bubble grows with the money it holds.", height=460)
