"""Where customers went: movement between earlier and new segments, against a saved model, and its flow figure."""

from __future__ import annotations

import pytest

from segmentation.act.movement import model_movement, movement
from segmentation.errors import DataError
from segmentation.plots.flow import movement_flow_figure
from segmentation.plots.theme import SEGMENT_PALETTE, UNASSIGNED_COLOUR


def test_movement_on_a_known_shift():
    previous = [0] * 6 + [1] * 4
    new = [0] * 4 + [1] * 6
    result = movement(previous, new, names={0: "Loyal", 1: "Lapsed"})
    table = result.table.set_index(["from", "to"])["customers"].to_dict()
    assert table == {("Loyal", "Loyal"): 4, ("Loyal", "Lapsed"): 2, ("Lapsed", "Lapsed"): 4}
    assert result.stayed_share == pytest.approx(0.8)
    drift = result.drift.set_index("segment")
    assert drift.loc["Loyal", "share_then"] == 0.6 and drift.loc["Loyal", "share_now"] == 0.4
    assert drift.loc["Lapsed", "change_points"] == pytest.approx(20.0)
    sankey = movement_flow_figure(result).data[0]
    assert sankey.type == "sankey" and sorted(sankey.link.value) == [2, 4, 4]
    assert any("from Loyal to Lapsed" in line for line in result.summary_lines())
    with pytest.raises(DataError, match="same customers"):
        movement([0, 1], [0])


def test_compare_matches_training_ids_or_an_earlier_segment_column(demo, demo_model):
    _, result = demo
    table = result.table
    assigned = demo_model.assign(table)
    by_id = model_movement(demo_model, table, assigned)
    assert by_id is not None and "customer_id" in by_id.source
    assert by_id.customers == len(table) and by_id.stayed_share >= 0.95

    earlier = table.assign(segment_id=assigned["segment_id"].to_numpy())  # an earlier export: segment numbers
    earlier.loc[earlier.index[:100], "segment_id"] = 5  # 100 customers were in segment 5 before
    shifted = model_movement(demo_model, earlier, assigned)
    assert "segment_id column" in shifted.source
    five = demo_model.segment_name(4)   # segment 5's name: its suggested one (issue 18)
    moved_in = shifted.table[(shifted.table["from"] == five) & (shifted.table["to"] != five)]
    assert moved_in["customers"].sum() == int((assigned["segment_id"].to_numpy()[:100] != 5).sum())
    assert model_movement(demo_model, table.drop(columns=["customer_id"]), assigned) is None




def test_the_flow_figure_colours_segments_as_the_map_does():
    result = movement([0, 0, 1, -1], [0, 1, 1, 1], names={0: "Loyal"})
    assert result.segment_ids == {"Loyal": 0, "Segment 2": 1, "Unassigned": -1}
    sankey = movement_flow_figure(result).data[0]
    colours = dict(zip(sankey.node.label, sankey.node.color))
    assert colours["Loyal"] == SEGMENT_PALETTE[0] and colours["Segment 2"] == SEGMENT_PALETTE[1]
    assert colours["Unassigned"] == UNASSIGNED_COLOUR
    assert sum(sankey.link.value) == 4
