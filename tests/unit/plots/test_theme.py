"""The one segment palette: cycles after ten colours, Unassigned grey, the same colour in every figure."""

from __future__ import annotations

import numpy as np

from segmentation.plots import map as plots_map
from segmentation.plots import theme
from segmentation.plots.sizes import sizes_figure
from tests.unit.plots.test_map import make_result


# --------------------------------------------------------------------------- palette
def test_palette_cycles_and_noise_is_grey() -> None:
    assert theme.segment_colour(0) == "#4C78A8"
    assert theme.segment_colour(3) == "#E45756"
    assert theme.segment_colour(10) == theme.segment_colour(0)
    assert theme.segment_colour(-1) == "#C9CED6"


def test_map_and_size_chart_use_the_same_colour_per_segment() -> None:
    result = make_result([0] * 50 + [1] * 30 + [2] * 15 + [-1] * 5)
    names = {1: "Bargain hunters"}
    map_colours = {t.name.split(" · ")[0]: t.marker.color for t in plots_map.map_figure(result, names=names).data}
    bar = sizes_figure(result.labels, names).data[0]
    bar_colours = dict(zip(bar.y, bar.marker.color))
    assert map_colours == bar_colours
    assert bar_colours == {"Segment 1": "#4C78A8", "Bargain hunters": "#F58518", "Segment 3": "#54A24B",
                           "Unassigned": "#C9CED6"}


def test_segments_are_ordered_largest_first_with_unassigned_last() -> None:
    assert theme.segment_order(np.array([2, 2, -1, -1, -1, 0, 1, 1])) == [1, 2, 0, -1]  # ties by id


def test_rgba_keeps_the_colour_and_sets_the_transparency() -> None:
    assert theme.rgba("#4C78A8", 0.45) == "rgba(76,120,168,0.45)"
