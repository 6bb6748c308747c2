"""The one segment-size chart: shares largest first, Unassigned last, the usable range marked when asked."""

from __future__ import annotations

import numpy as np

from segmentation.plots.sizes import sizes_figure
from tests.unit.plots.test_map import make_result


def test_size_figure_lists_largest_first_and_unassigned_last() -> None:
    result = make_result([2] * 5 + [0] * 40 + [-1] * 30 + [1] * 25)
    bar = sizes_figure(result.labels).data[0]
    assert list(bar.y) == ["Segment 1", "Segment 2", "Segment 3", "Unassigned"]
    # one chart for the Quality and Assign pages: bars are shares (they were counts on one of three copies)
    assert np.allclose(bar.x, [0.40, 0.25, 0.05, 0.30])
    assert bar.text[0] == "40 · 40.0%"
    assert np.asarray(bar.customdata).tolist() == [[0, 40], [1, 25], [2, 5], [-1, 30]]


def test_sizes_figure_marks_segments_outside_the_usable_range() -> None:
    labels = np.array([0] * 70 + [1] * 28 + [2] * 1 + [-1] * 1)
    fig = sizes_figure(labels)
    bar = fig.data[0]
    assert list(bar.y) == ["Segment 1", "Segment 2", "Segment 3", "Unassigned"]
    assert np.allclose(bar.x, [0.70, 0.28, 0.01, 0.01])
    assert list(bar.marker.line.color) == ["#DC2626", "rgba(0,0,0,0)", "#DC2626", "rgba(0,0,0,0)"]
    # the usable range is the warnings' and the automatic search's (metrics.TINY_SHARE to GIANT_SHARE)
    subtitle = fig.layout.title.subtitle.text
    assert "3% to 60% of customers" in subtitle.replace("<br>", " ")
    # wrapped so it is not cut off when the chart has half the page (the Quality page at 1280 px cut it)
    assert all(len(line) <= 64 for line in subtitle.split("<br>")) and "<br>" in subtitle
    assert [shape.x0 for shape in fig.layout.shapes] == [0.03, 0.6]


def test_sizes_figure_without_a_range_draws_bars_alone_under_a_heading_of_its_own() -> None:
    fig = sizes_figure(np.array([0, 0, 1, -1]), {0: "Loyal"}, usable=None, title="")
    bar = fig.data[0]
    assert list(bar.y) == ["Loyal", "Segment 2", "Unassigned"]
    assert not fig.layout.shapes and set(bar.marker.line.color) == {"rgba(0,0,0,0)"}
    assert fig.layout.margin.t == 10 and not fig.layout.title.text


def test_sizes_figure_of_no_customers_says_so() -> None:
    assert "no customers" in sizes_figure(np.array([], dtype=int)).layout.annotations[0].text
