"""The holdout chart: predicted against actual purchases after the holdout start, by purchases before it."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from segmentation.plots.theme import GRID, MUTED, SEGMENT_PALETTE, empty_figure, titled

__all__ = ["holdout_figure"]

ACTUAL_COLOUR = "#1F2937"


def holdout_figure(by_past_purchases: pd.DataFrame, title: str = "Predicted and actual purchases in the holdout"
                   ) -> go.Figure:
    """Mean purchase days per customer in the holdout, actual against the model's prediction and the baseline
    (each customer's past rate), for customers grouped by their repeat purchase days before it.

    ``by_past_purchases`` is ``value.holdout.HoldoutCheck.by_past_purchases``: columns ``past_purchases`` (the
    group's label), ``customers``, ``actual_purchases``, ``predicted_purchases`` and ``baseline_purchases``.
    The closer a line runs to the actual one, the better; ``customdata`` holds (past purchases, customers).
    """
    if by_past_purchases.empty:
        return empty_figure(title, "No customer bought before the holdout.")
    groups = by_past_purchases["past_purchases"].astype(str).tolist()
    custom = list(zip(groups, by_past_purchases["customers"].astype(int).tolist(), strict=True))
    fig = go.Figure()
    for column, name, colour, dash in (
        ("actual_purchases", "Actual", ACTUAL_COLOUR, "solid"),
        ("predicted_purchases", "Model (MBG/NBD)", SEGMENT_PALETTE[0], "solid"),
        ("baseline_purchases", "Baseline (past rate)", MUTED, "dash"),
    ):
        fig.add_trace(go.Scatter(
            x=groups, y=by_past_purchases[column], name=name, mode="lines+markers", customdata=custom,
            line=dict(color=colour, dash=dash, width=2),
            hovertemplate=(f"{name}: %{{y:.2f}} purchases per customer<br>"
                           "%{customdata[1]:,} customers with %{customdata[0]} past repeat purchases<extra></extra>")))
    fig.update_xaxes(title="Repeat purchase days before the holdout", type="category", gridcolor=GRID)
    fig.update_yaxes(title="Mean purchase days in the holdout", gridcolor=GRID, rangemode="tozero")
    return titled(fig, title, "The closer a line to the actual one, the better the prediction.",
                  legend=dict(orientation="h", y=-0.2))
