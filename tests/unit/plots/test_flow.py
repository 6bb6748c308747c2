"""The one flow (Sankey) diagram: any table of moves, drawn with the segment colours."""

from __future__ import annotations

import pandas as pd

from segmentation.plots.flow import KEPT_ALPHA, MOVED_ALPHA, flow_figure
from segmentation.plots.theme import SEGMENT_PALETTE, UNASSIGNED_COLOUR


def test_every_node_and_link_is_drawn_and_kept_links_are_stronger():
    flows = pd.DataFrame({"from": ["Loyal", "Loyal", "New", "Unassigned"], "to": ["Loyal", "New", "New", "New"],
                          "customers": [5, 2, 0, 1]})
    fig = flow_figure(flows, ["Loyal", "New", "Unassigned"], ["Loyal", "New", "Gone"], {"Loyal": "#4C78A8"},
                      title="Moves", subtitle="Pale bands moved.", left_title="Before", right_title="Now")
    sankey = fig.data[0]
    assert list(sankey.node.label) == ["Loyal", "New", "Unassigned", "Loyal", "New", "Gone"]  # empty nodes kept
    assert list(sankey.link.value) == [5, 2, 1]  # a pair without customers draws no link
    assert list(sankey.link.source) == [0, 0, 2] and list(sankey.link.target) == [3, 4, 4]
    assert sankey.link.color[0].endswith(f",{KEPT_ALPHA})") and sankey.link.color[1].endswith(f",{MOVED_ALPHA})")
    colours = list(sankey.node.color)
    assert colours[0] == "#4C78A8" and colours[2] == UNASSIGNED_COLOUR and colours[5] in SEGMENT_PALETTE
    assert fig.layout.title.text == "Moves" and fig.layout.title.subtitle.text == "Pale bands moved."
    assert [a.text for a in fig.layout.annotations] == ["Before", "Now"]


def test_a_kept_column_overrides_the_same_name_rule():
    flows = pd.DataFrame({"from": ["A"], "to": ["B"], "customers": [3], "kept": [True]})
    sankey = flow_figure(flows, ["A"], ["B"]).data[0]
    assert sankey.link.color[0].endswith(f",{KEPT_ALPHA})")
