"""The segments-and-themes tree and the theme shades (segmentation.plots.themes), on hand-checkable labels."""

import numpy as np
import plotly.graph_objects as go
import pytest

from segmentation.plots.theme import SEGMENT_PALETTE, UNASSIGNED_COLOUR
from segmentation.plots.themes import shade, theme_colours, theme_label, theme_tree_figure, tree_frame

# 10 customers: segment 0 has 6 (themes 0: 4, 1: 2), segment 1 has 3 (theme 2), 1 Unassigned
LABELS = np.array([0, 0, 0, 0, 0, 0, 1, 1, 1, -1])
THEMES = np.array([0, 0, 0, 0, 1, 1, 2, 2, 2, -1])
PARENT = {0: 0, 1: 0, 2: 1}


def test_shade_mixes_towards_white_or_black():
    assert shade("#000000", 0.5) == "#808080"
    assert shade("#FFFFFF", -0.5) == "#808080"
    assert shade("#4C78A8", 0.0) == "#4C78A8"


def test_themes_are_shades_of_their_segment_largest_darkest():
    colours = theme_colours(PARENT)
    assert colours[0] == shade(SEGMENT_PALETTE[0], -0.3)
    assert colours[1] == shade(SEGMENT_PALETTE[0], 0.55)
    assert colours[2] == SEGMENT_PALETTE[1]          # a segment's only theme keeps the segment's colour


def test_tree_frame_sizes_add_up_per_segment():
    frame = tree_frame(LABELS, THEMES, PARENT, {0: "Card users"}, {0: "Lost card", 1: "PIN blocked"})
    assert frame["id"].tolist() == ["s0", "t0", "t1", "s1", "t2", "s-1"]
    assert frame["parent"].tolist() == ["", "s0", "s0", "", "s1", ""]
    assert frame["name"].tolist() == ["Card users", "Lost card", "PIN blocked", "Segment 2", "Theme 2.1",
                                      "Unassigned"]
    segments = frame[frame["parent"] == ""]
    assert segments["customers"].sum() == len(LABELS)
    for _, row in segments.iterrows():
        assert frame.loc[frame["parent"] == row["id"], "customers"].sum() in (0, row["customers"])
    assert frame.set_index("id").loc["t1", "share_of_segment"] == pytest.approx(2 / 6)
    assert frame.set_index("id").loc["s-1", "colour"] == UNASSIGNED_COLOUR


def test_theme_label_without_a_name_says_its_place():
    assert theme_label(1, PARENT) == "Theme 1.2"
    assert theme_label(1, PARENT, {1: "PIN blocked"}) == "PIN blocked"


@pytest.mark.parametrize("kind, trace", [("sunburst", go.Sunburst), ("icicle", go.Icicle)])
def test_tree_figure_structure_palette_and_hover(kind, trace):
    fig = theme_tree_figure(LABELS, THEMES, PARENT, {0: "<b>Card</b> users"}, {0: "Lost card"}, kind=kind)
    (data,) = fig.data
    assert isinstance(data, trace)
    assert data.branchvalues == "total"
    assert list(data.values) == [6, 4, 2, 3, 3, 1]
    assert list(data.marker.colors)[0] == SEGMENT_PALETTE[0]
    assert data.labels[0] == "&lt;b&gt;Card&lt;/b&gt; users"          # names from people drawn as text
    assert data.customdata[1][1].startswith("&lt;b&gt;Card")              # the theme's hover names its segment
    assert "33% of the segment" in data.customdata[2][3]
    assert "2 segments, 3 themes" in fig.layout.title.subtitle.text


def test_tree_figure_without_themes_says_why():
    fig = theme_tree_figure(LABELS, None, {})
    assert "no themes" in fig.layout.annotations[0].text


def test_tree_figure_refuses_an_unknown_kind_and_mismatched_labels():
    with pytest.raises(ValueError, match=r"kind must be 'sunburst' or 'icicle'\. Got 'pie'"):
        theme_tree_figure(LABELS, THEMES, PARENT, kind="pie")
    with pytest.raises(ValueError, match=r"same length\. Got 10 and 3"):
        tree_frame(LABELS, THEMES[:3], PARENT)
