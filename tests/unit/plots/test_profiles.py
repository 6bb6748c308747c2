"""Comparing segments as grids: heat map of numeric columns, shares of a category column."""

from __future__ import annotations

import numpy as np
import pandas as pd

from segmentation.plots import profiles as plots
from segmentation.plots.theme import UNASSIGNED_COLOUR, segment_colour


# --------------------------------------------------------------------------- comparing segments
def test_heatmap_rows_keep_the_given_order_with_coloured_labels_and_exact_values() -> None:
    frame = pd.DataFrame({"total_spend": [1.234, -0.5, 0.0], "age": [-2.5, 0.2, np.nan]},
                         index=pd.Index([1, 0, -1], name="segment"))
    fig = plots.heatmap_figure(frame, names={1: "Big spenders"})
    heat = fig.data[0]
    assert list(heat.x) == ["Total spend", "Age"]
    assert heat.y[0] == f'<span style="color:{segment_colour(1)};font-size:17px">●</span> Big spenders'
    assert heat.y[2].endswith("Unassigned") and UNASSIGNED_COLOUR in heat.y[2]
    assert heat.text[0].tolist() == ["+1.2", "-2.5"] and heat.text[2][1] == ""  # missing: an empty cell
    assert (heat.zmin, heat.zmid, heat.zmax) == (-1.5, 0, 1.5)  # colour saturates, the text stays exact


def test_heatmap_without_numeric_columns_says_so() -> None:
    fig = plots.heatmap_figure(pd.DataFrame(index=[0, 1]))
    assert not fig.data and "no numeric columns" in fig.layout.title.subtitle.text


def test_category_share_figure_adds_everyone_for_reference() -> None:
    shares = pd.DataFrame({"app": [0.75, 0.25], "web": [0.25, 0.75]}, index=pd.Index([0, 1], name="segment"))
    fig = plots.category_share_figure(shares, "channel", overall=pd.Series({"web": 0.5, "app": 0.5}))
    heat = fig.data[0]
    assert list(heat.x) == ["app", "web"] and heat.y[-1] == "<b>Everyone</b>"
    assert heat.text.tolist() == [["75%", "25%"], ["25%", "75%"], ["50%", "50%"]]
    # coloured by the difference from everyone: blue where a segment has more of a value, orange less
    assert np.allclose(heat.z, [[0.25, -0.25], [-0.25, 0.25], [0.0, 0.0]]) and heat.zmid == 0
    assert fig.layout.title.text == "Segments by channel"


def test_category_share_figure_without_everyone_shades_the_shares() -> None:
    shares = pd.DataFrame({"app": [0.6], "web": [0.4]}, index=pd.Index([0], name="segment"))
    heat = plots.category_share_figure(shares, "channel").data[0]
    assert len(heat.y) == 1 and np.allclose(heat.z, [[0.6, 0.4]]) and heat.zmin == 0


def test_category_values_that_look_like_numbers_stay_readable_categories() -> None:
    # item codes as category values once made a numeric axis: slivers of cells with labels run together ("8%4%5%")
    frame = pd.DataFrame([[0.5, 0.3, 0.2], [0.1, 0.1, 0.8]], index=[0, 1], columns=["1078", "862", "1094"])
    fig = plots.category_share_figure(frame, "Clothing ID")
    assert fig.layout.xaxis.type == "category" and fig.layout.yaxis.type == "category"
    assert [x for x in fig.data[0].x] == ["1078", "862", "1094"]
    assert list(fig.data[0].text[0]) == ["50%", "30%", "20%"]
