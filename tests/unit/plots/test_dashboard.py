"""The segment dashboard: figures per segment from what the table holds, drawn in the segment palette."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from segmentation.errors import DataError
from segmentation.plots.dashboard import dashboard_figure, segment_dashboard, size_value_figure
from segmentation.plots.theme import SEGMENT_PALETTE, UNASSIGNED_COLOUR


def shop() -> tuple[pd.DataFrame, dict[str, str], np.ndarray]:
    """Six customers: segment 0 (three, small spenders), segment 1 (two, big spenders), one unassigned."""
    table = pd.DataFrame({
        "total_spend": [10.0, 20.0, 30.0, 200.0, 400.0, 40.0],
        "orders": [1, 2, 1, 4, 4, 2],
        "churned": ["no", "yes", "yes", "no", "no", "yes"],
        "rating": [2, 3, 4, 5, 5, 1],
        "region": ["a", "b", "a", "b", "a", "b"],
    })
    roles = {"total_spend": "numeric", "orders": "numeric", "churned": "outcome", "rating": "numeric",
             "region": "categorical"}
    return table, roles, np.array([0, 0, 0, 1, 1, -1])


def test_dashboard_gives_size_value_order_value_churn_and_rating_per_segment() -> None:
    table, roles, labels = shop()
    board = segment_dashboard(table, roles, labels)
    frame = board.frame
    assert list(frame.index) == [0, 1, -1]           # largest first, Unassigned last
    assert list(frame["customers"]) == [3, 2, 1]
    assert board.value_column == "total_spend"
    # money 60 / 600 / 40 of 700; orders 4 / 8 / 2
    assert frame["value_share"].round(4).tolist() == [round(60 / 700, 4), round(600 / 700, 4), round(40 / 700, 4)]
    assert frame["value_per_customer"].tolist() == [20.0, 300.0, 40.0]
    assert frame["average_order_value"].tolist() == [15.0, 75.0, 20.0]
    assert frame["outcome:churned"].round(4).tolist() == [round(2 / 3, 4), 0.0, 1.0]
    assert frame["rating"].tolist() == [3.0, 5.0, 1.0]
    titles = [m.title for m in board.metrics]
    assert titles == ["Share of customers", "Share of total spend", "Total spend per customer",
                      "Average order value", "Churned: yes", "Average rating"]
    by_column = {m.column: m for m in board.metrics}
    assert by_column["average_order_value"].overall == pytest.approx(700 / 14)
    assert by_column["outcome:churned"].overall == pytest.approx(0.5)


def test_dashboard_leaves_out_what_the_data_cannot_give() -> None:
    table = pd.DataFrame({"age": [20, 30, 40, 50]})
    board = segment_dashboard(table, {"age": "numeric"}, np.array([0, 0, 1, 1]))
    assert [m.column for m in board.metrics] == ["customer_share"] and board.value_column is None
    assert {"value_share", "average_order_value", "rating"}.isdisjoint(board.frame.columns)
    fig = size_value_figure(board)
    assert "No money column" in fig.layout.annotations[0].text


def test_dashboard_uses_predicted_value_when_the_roll_up_made_one() -> None:
    table = pd.DataFrame({"predicted_clv": [10.0, 30.0, 60.0], "value_at_risk": [1.0, 2.0, 7.0],
                          "p_alive": [0.9, 0.5, 0.4]})
    board = segment_dashboard(table, {}, np.array([0, 0, 1]))
    assert board.frame["predicted_share"].tolist() == [0.4, 0.6]
    assert board.frame["value_at_risk"].tolist() == [3.0, 7.0]
    assert board.frame["still_active"].round(2).tolist() == [0.7, 0.4]
    assert len(size_value_figure(board).data) == 2


def test_dashboard_refuses_labels_that_do_not_match_the_rows() -> None:
    table, roles, _ = shop()
    with pytest.raises(DataError, match=r"3 segment labels for 6 rows"):
        segment_dashboard(table, roles, np.array([0, 1, 0]))


def test_dashboard_figure_draws_one_bar_chart_per_figure_in_the_segment_palette() -> None:
    table, roles, labels = shop()
    board = segment_dashboard(table, roles, labels)
    fig = dashboard_figure(board, names={1: "Big <b>spenders</b>"})
    assert len(fig.data) == len(board.metrics) == 6
    assert all(isinstance(t, go.Bar) for t in fig.data)
    assert list(fig.data[0].marker.color) == [SEGMENT_PALETTE[0], SEGMENT_PALETTE[1], UNASSIGNED_COLOUR]
    assert "Big &lt;b&gt;spenders&lt;/b&gt;" in fig.data[0].y[1]      # names drawn as plain text
    aov = fig.data[3]
    assert list(aov.text) == ["15.00", "75.00", "20.00"] or list(aov.text) == ["£15.00", "£75.00", "£20.00"] \
        or all(t.replace("$", "").replace("€", "") in ("15.00", "75.00", "20.00") for t in aov.text)
    assert list(fig.data[4].text) == ["66.7%", "0.0%", "100.0%"]
    titles = [a.text for a in fig.layout.annotations]
    assert "Average order value" in titles and "Churned: yes" in titles


def test_size_value_bubbles_put_segments_at_their_shares_in_their_colours() -> None:
    table, roles, labels = shop()
    fig = size_value_figure(segment_dashboard(table, roles, labels))
    bubbles = fig.data[-1]
    assert np.allclose(bubbles.x, [0.5, 1 / 3, 1 / 6]) and np.allclose(bubbles.y, [60 / 700, 600 / 700, 40 / 700])
    assert list(bubbles.marker.color) == [SEGMENT_PALETTE[0], SEGMENT_PALETTE[1], UNASSIGNED_COLOUR]
    assert bubbles.marker.size[1] == max(bubbles.marker.size)        # the biggest share of money, the biggest bubble
    assert list(bubbles.customdata) == [0, 1, -1]
