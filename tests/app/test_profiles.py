"""The Profiles page through AppTest: names, descriptions and notes that follow the segments everywhere, and
curation (merge, split, the Unassigned policy, undo) that every page picks up.

Fast settings throughout (TF-IDF, PCA, k-means or HDBSCAN, chosen through the Segment form's widgets). The
map's lasso needs a browser: tests/e2e/test_map_lasso.py.
"""

from __future__ import annotations

import json
import re

import plotly.io
import pytest
from streamlit.testing.v1 import AppTest

from segmentation.act import tables as export
from segmentation.plots.theme import plain_label
from tests.app.test_pages import (
    assert_clean,
    fresh,
    load_demo,
    open_page,
    plain,
    run_fast_segmentation,
    shown_markdown,
    state,
    texts,
)
from tests.app.test_quality import values as numbers
from ui.format import md
from ui.state import Studio


def run_id(at: AppTest) -> str:
    return str(state(at, "current_run"))


def sidebar(at: AppTest) -> str:
    return plain("\n".join(c.value for c in at.sidebar.caption))


def segment_count(at: AppTest) -> int:
    """The number of segments the sidebar reports for the current run (after curation)."""
    return int(re.search(r"(\d+) segments", sidebar(at)).group(1))


def map_legend(at: AppTest) -> list[str]:
    open_page(at, "map")
    figure = json.loads(at.get("plotly_chart")[0].proto.spec)
    return [trace["name"].split(" · ")[0] for trace in figure["data"]]


def exported_names(at: AppTest) -> set[str]:
    """Segment names in the customers file the Export page offers (its preview, then the whole file)."""
    open_page(at, "export")
    preview = set(at.dataframe[0].value["segment_name"])
    # the download itself only runs in a browser: build it the way the page does, from the same session state
    studio = Studio({key: at.session_state[key] for key in ("studio.runs", "studio.current_run",
                                                              "studio.annotations", "studio.curation")
                     if key in at.session_state})
    customers = export.labelled_customers(studio.curated_run().result, studio.segment_names())
    assert preview <= set(customers["segment_name"])
    return set(customers["segment_name"])


def name_inputs(at: AppTest) -> dict[str, str]:
    return {t.key: t.value for t in at.text_input if t.key.startswith("name-")}


@pytest.fixture()
def kmeans() -> AppTest:
    """The demo data segmented with k-means into 4 segments, on the Profiles page."""
    at = run_fast_segmentation(load_demo(fresh()), n_clusters=4)
    return open_page(at, "profiles")


def test_name_description_and_notes_persist_and_reach_the_map_and_the_export(kmeans: AppTest) -> None:
    at, rid = kmeans, run_id(kmeans)
    at.text_input(key=f"name-{rid}-1").set_value("Bargain hunters").run()
    at.text_area(key=f"description-{rid}-1").set_value("Price-driven app users who wait for codes.").run()
    at.text_area(key=f"notes-{rid}-1").set_value("Test a loyalty offer in May.").run()
    assert_clean(at)

    assert "Bargain hunters" in map_legend(at)
    assert "Bargain hunters" in exported_names(at)
    open_page(at, "quality")
    open_page(at, "profiles")
    assert at.text_input(key=f"name-{rid}-1").value == "Bargain hunters"
    assert at.text_area(key=f"description-{rid}-1").value == "Price-driven app users who wait for codes."
    assert at.text_area(key=f"notes-{rid}-1").value == "Test a loyalty offer in May."
    said = texts(at)
    assert "Price-driven app users who wait for codes." in said and "Test a loyalty offer in May." in said
    # the other segments keep their generated descriptions, and nothing about them was stored
    assert state(at, "annotations")[rid].keys() == {1}


RAW_MARKUP = re.compile(r"(?<!\\)<a href|(?<!\\)\*(?<!\\)\*bold")
"""The test name's markup where it would render: a tag or bold marks without a backslash before them."""


def test_a_segment_name_with_markup_is_shown_as_written_on_every_page(kmeans: AppTest) -> None:
    at, rid = kmeans, run_id(kmeans)
    name = "**bold** <a href='x'>link</a>"
    at.text_input(key=f"name-{rid}-0").set_value(name).run()
    assert_clean(at)
    escaped = md(name)
    assert escaped == r"\*\*bold\*\* \<a href\='x'\>link\</a\>"
    # the coloured chips above the cards (HTML is allowed there, for the dots): escaped for markdown and HTML
    assert any(escaped in text and "<span" in text for text in shown_markdown(at))
    assert not [text for text in shown_markdown(at) if RAW_MARKUP.search(text)]

    assert plain_label(name) in map_legend(at)  # plotly draws "&lt;a ..." as the characters, never a link
    spec = at.get("plotly_chart")[0].proto.spec
    assert "<a href" not in json.dumps(json.loads(spec)) and "bold</b>" not in spec
    at.text_input(key="map_find").set_value("<a href='x'>North</a>").run()
    assert_clean(at)
    assert not [text for text in shown_markdown(at) if RAW_MARKUP.search(text)]
    assert any(md("<a href='x'>North</a>") in text for text in shown_markdown(at))

    open_page(at, "quality")
    [sizes] = [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]
    assert plain_label(name) in sizes["data"][0]["y"]
    assert not [text for text in shown_markdown(at) if RAW_MARKUP.search(text)]


def test_merge_split_and_undo_recompute_the_segments_and_keep_the_names(kmeans: AppTest) -> None:
    at, rid = kmeans, run_id(kmeans)
    for segment, name in [(0, "Loyal"), (1, "Browsers"), (3, "Unhappy")]:
        at.text_input(key=f"name-{rid}-{segment}").set_value(name).run()
    assert segment_count(at) == 4

    at.multiselect(key=f"curate_merge_{rid}").set_value([0, 1]).run()
    at.button(key="curate_merge_go").click().run()
    assert_clean(at)
    assert segment_count(at) == 3
    assert name_inputs(at) == {f"name-{rid}-0": "Loyal", f"name-{rid}-2": "", f"name-{rid}-3": "Unhappy"}
    assert "1. Merged segments 1, 2" in texts(at)
    legend = map_legend(at)
    assert "Loyal" in legend and "Browsers" not in legend and "Unhappy" in legend
    exported = exported_names(at)   # the unnamed segment 3 carries its suggested name (issue 18), never "Segment 3"
    assert {"Loyal", "Unhappy"} < exported and len(exported) == 3 and "Segment 3" not in exported

    open_page(at, "profiles")
    at.selectbox(key=f"curate_split_{rid}").set_value(0).run()
    at.selectbox(key=f"curate_parts_{rid}").set_value(3).run()
    at.button(key="curate_split_go").click().run()
    assert_clean(at)
    assert segment_count(at) == 5
    assert name_inputs(at)[f"name-{rid}-0"] == "Loyal"  # the largest part keeps the name
    assert {f"name-{rid}-4", f"name-{rid}-5"} <= set(name_inputs(at))
    open_page(at, "quality")
    assert [m.value for m in at.metric][3] == "0.0%"  # quality is measured on the curated segments

    open_page(at, "profiles")
    at.button(key="curate_undo").click().run()
    assert segment_count(at) == 3
    at.button(key="curate_undo").click().run()
    assert_clean(at)
    assert segment_count(at) == 4
    assert name_inputs(at) == {f"name-{rid}-0": "Loyal", f"name-{rid}-1": "Browsers", f"name-{rid}-2": "",
                               f"name-{rid}-3": "Unhappy"}
    assert not any(b.key == "curate_undo" for b in at.button)  # nothing left to undo


def test_unassigned_customers_can_be_assigned_to_their_nearest_segment_and_back() -> None:
    at = load_demo(fresh())
    open_page(at, "segment")
    at.selectbox(key="seg_algorithm").set_value("hdbscan").run()
    at = run_fast_segmentation(at)
    rid = run_id(at)
    open_page(at, "profiles")
    said = texts(at)
    assert "Unassigned" in said and "customers unassigned now." in said
    unassigned = int(re.search(r"([\d,]+) customers unassigned now", said).group(1).replace(",", ""))
    assert unassigned > 0 and "unassigned" in sidebar(at)
    assert at.radio(key=f"curate_noise_{rid}").value == "keep"

    at.radio(key=f"curate_noise_{rid}").set_value("assign").run()
    assert_clean(at)
    said = texts(at)
    assert "Every customer is in a segment." in said and "unassigned" not in sidebar(at)
    assert "Unassigned" not in map_legend(at)
    assert "Unassigned" not in exported_names(at)

    open_page(at, "profiles")
    assert at.radio(key=f"curate_noise_{rid}").value == "assign"
    at.radio(key=f"curate_noise_{rid}").set_value("keep").run()
    assert_clean(at)
    assert f"{unassigned:,} customers unassigned now." in texts(at)
    assert state(at, "curation")[rid] == []


def test_the_curation_state_moves_annotations_with_segments_and_undo_restores_them() -> None:
    """Studio's curation block on a plain dict: names follow a merge; undo brings the merged-away one back
    and keeps an edit made after the merge to a segment the merge did not touch."""
    from segmentation.choose.curate import merge

    studio = Studio({})
    for segment, name in [(0, "Loyal"), (1, "Browsers"), (2, "New")]:
        studio.annotate(segment, "name", name, "run-1")
    studio.annotate(1, "notes", "call them", "run-1")
    outcome = merge([0, 1, 1, 2], [0, 1])
    studio.push_curation({"kind": "merge", "params": {"segments": [0, 1]}}, outcome.mapping, "run-1")
    assert studio.segment_names("run-1") == {0: "Loyal", 2: "New"}
    assert studio.segment_notes("run-1") == {0: "call them"}  # Loyal had none, so Browsers' notes came along
    studio.annotate(2, "name", "Newcomers", "run-1")
    assert studio.curation_steps("run-1") == [{"kind": "merge", "params": {"segments": [0, 1]}}]
    saved = json.loads(json.dumps(studio.curation_snapshot()))  # plain JSON for the workspace

    restored = Studio({})
    restored.restore_curation(saved)
    assert restored.curation_steps("run-1") == studio.curation_steps("run-1")
    assert studio.undo_curation("run-1") == {"kind": "merge", "params": {"segments": [0, 1]}}
    assert studio.segment_names("run-1") == {0: "Loyal", 1: "Browsers", 2: "Newcomers"}
    assert studio.segment_notes("run-1") == {1: "call them"}
    assert studio.undo_curation("run-1") is None and studio.curation_steps("run-1") == []


def test_the_dashboard_tab_compares_the_segments_on_value_and_draws_size_against_value(kmeans: AppTest) -> None:
    at = kmeans
    assert [t.label for t in at.tabs][-1].endswith("Dashboard")
    figures = [plotly.io.from_json(chart.proto.spec) for chart in at.get("plotly_chart")]
    titles = {f.layout.title.text: f for f in figures}
    bars, bubbles = titles["Segments side by side"], titles["Size against value"]
    # the demo's money column and order count give shares, spend per customer and the average order value
    panels = [a.text for a in bars.layout.annotations]
    assert panels[:4] == ["Share of customers", "Share of total spend", "Total spend per customer",
                          "Average order value"]
    shares = numbers(bubbles.data[-1].x)
    assert len(shares) == 4 and abs(sum(shares) - 1) < 1e-9
    assert list(bars.data[0].marker.color) == list(bubbles.data[-1].marker.color)   # one palette


def test_the_map_offers_no_more_points_than_customers(kmeans: AppTest) -> None:
    # the demo has 2,000 customers: "points drawn" once offered and showed 20,000
    at = open_page(kmeans, "map")
    slider = at.select_slider(key="map_points")
    assert slider.options == ["1,000", "2,000"] and slider.value == 2_000
