"""The map's colour by a numeric column (a scale that suits its spread) and the "points drawn" choices."""

from __future__ import annotations

import numpy as np
import pandas as pd

from segmentation.pipeline import SegmentationResult
from segmentation.plots import map as plots
from tests.unit.plots.test_map import make_result


def test_an_even_column_is_coloured_linearly_by_its_values() -> None:
    scale = plots.colour_scale(np.arange(10.0))
    assert scale.kind == "linear" and list(scale.values) == list(range(10)) and (scale.low, scale.high) == (0, 9)


def test_a_heavy_tailed_column_with_zeros_spreads_over_the_whole_colour_scale_by_rank() -> None:
    rng = np.random.default_rng(0)
    spend = np.r_[np.zeros(100), rng.pareto(1.2, 900) * 50]
    scale = plots.colour_scale(spend, "total_spend")
    assert scale.kind == "quantile" and (scale.low, scale.high) == (0.0, 1.0)
    colour = (scale.values - scale.low) / (scale.high - scale.low)
    # every tenth of the customers gets about a tenth of the colours (linearly, 90% would sit in the first 2%)
    assert np.allclose(np.quantile(colour, [0.25, 0.5, 0.75, 0.95]), [0.25, 0.5, 0.75, 0.95], atol=0.06)
    linear = (spend - spend.min()) / (spend.max() - spend.min())
    assert np.quantile(linear, 0.9) < 0.05
    # the bar is labelled in real values, from the smallest to the largest
    assert scale.tickvals[0] == 0.0 and scale.tickvals[-1] == 1.0 and min(scale.values) == 0.0
    assert scale.ticktext[0] == "0" and len(set(scale.ticktext)) == len(scale.ticktext)


def test_a_skewed_positive_amount_is_coloured_on_a_log_scale_labelled_in_real_values() -> None:
    spend = np.r_[np.full(50, 5.0), np.full(30, 50.0), np.full(15, 500.0), [5000.0] * 5]
    scale = plots.colour_scale(spend, "revenue")
    assert scale.kind == "log" and scale.note == "log scale"
    assert np.allclose(scale.values[[0, 50, 80, 95]], [np.log10(5), np.log10(50), np.log10(500), np.log10(5000)])
    assert [round(10 ** v) for v in scale.tickvals] == [10, 100, 1000]        # three decades: one tick each
    assert "1,000" in scale.ticktext[-1]
    narrow = plots.colour_scale(np.r_[np.full(50, 5.0), np.full(10, 20.0), [400.0] * 3], "revenue")
    assert [round(10 ** v) for v in narrow.tickvals] == [5, 10, 20, 50, 100, 200]


def test_the_map_colours_a_skewed_column_with_the_scale_fitted_on_everyone() -> None:
    result = make_result([0] * 20)
    spend = np.r_[np.zeros(5), np.arange(1, 15) ** 4.0, [np.nan]]
    table = result.table.assign(spend=spend)
    fig = plots.map_figure(SegmentationResult(**{**result.__dict__, "table": table}), color_by="spend")
    missing, drawn = fig.data
    assert missing.name == plots.MISSING_VALUE and len(drawn.x) == 19
    assert (drawn.marker.cmin, drawn.marker.cmax) == (0.0, 1.0)
    assert np.allclose(sorted(drawn.marker.color)[-1], 1.0) and min(drawn.marker.color) == 0.0
    assert drawn.marker.colorbar.ticktext and "by rank" in drawn.marker.colorbar.title.text


def test_points_drawn_offers_no_more_than_the_customers() -> None:
    assert plots.point_choices(2_000) == [1_000, 2_000]
    assert plots.point_choices(500) == [500]
    assert plots.point_choices(30_000) == [1_000, 2_000, 5_000, 10_000, 20_000, 30_000]
    assert plots.default_points(2_000) == 2_000
    assert plots.default_points(100_000) == plots.DEFAULT_MAX_POINTS
    assert plots.default_points(2_000, chosen=1_000) == 1_000
    assert plots.default_points(2_000, chosen=20_000) == 2_000     # an earlier choice for a bigger base


def test_a_column_of_text_numbers_is_not_affected() -> None:
    result = make_result([0] * 4)
    table = result.table.assign(spend=pd.Series([1.0, 2.0, 3.0, 4.0]))
    fig = plots.map_figure(SegmentationResult(**{**result.__dict__, "table": table}), color_by="spend")
    assert list(fig.data[0].marker.color) == [1.0, 2.0, 3.0, 4.0]
