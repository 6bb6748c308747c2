"""The screenshot pass of issue 15, through AppTest: each finding that a page script decides, one test.

The browser half (widths, what is cut off) is in tests/e2e/test_polish.py.
"""

from __future__ import annotations

import re

import numpy as np

from tests.app.test_orders import classic_log
from tests.app.test_pages import (
    assert_clean,
    fresh,
    load_demo,
    open_page,
    plain,
    run_fast_segmentation,
    run_kmeans,
    state,
    texts,
    upload,
)


def keys(items) -> set[str]:
    return {str(w.key) for w in items}


def test_segment_settings_show_only_when_they_apply() -> None:
    # issue 15: "UMAP neighbours" showed with PCA chosen; "Other model" showed with TF-IDF
    at = open_page(load_demo(fresh()), "segment")
    at.selectbox(key="seg_reduce").set_value("umap").run()
    at.selectbox(key="seg_map").set_value("umap").run()
    assert "seg_neighbors" in keys(at.number_input)
    at.selectbox(key="seg_reduce").set_value("pca").run()
    assert "seg_neighbors" in keys(at.number_input)   # the map still uses UMAP
    at.selectbox(key="seg_map").set_value("pca").run()
    assert_clean(at)
    assert "seg_neighbors" not in keys(at.number_input)
    at.selectbox(key="seg_reduce").set_value("none").run()
    assert "seg_components" not in keys(at.number_input)
    at.selectbox(key="seg_model").set_value("tfidf").run()
    assert "seg_model_other" not in keys(at.text_input)
    at.selectbox(key="seg_model").set_value("other").run()
    assert "seg_model_other" in keys(at.text_input)
    # nothing ran on the way: only "Run segmentation" runs
    assert not state(at, "runs")


def test_a_run_with_hidden_settings_still_works_and_the_auto_button_keeps_its_words() -> None:
    at = run_fast_segmentation(load_demo(fresh()), n_clusters=4)
    assert re.search(r"Current run: Run 1", texts(at))
    assert at.button(key="auto_find").label == "Find the best segmentation"


def test_order_lines_on_the_segment_page_are_flagged_with_the_roll_up_then_profiled_in_plain_words() -> None:
    # issue 15: someone who skipped "Roll up" on the Data page segmented order lines as customers
    at = open_page(upload(fresh(), "log.csv", classic_log()), "segment")
    said = texts(at)
    assert re.search(r"\*\*These 46 rows look like order lines, not customers\.\*\* Segmenting them as they are "
                     r"groups order lines, not customers: roll them up", said), said
    at.button(key="rollup_segment").click().run()
    assert_clean(at)
    assert state(at, "dataset").name == "log.csv (per customer)"
    assert "look like order lines" not in texts(at) and "rollup_segment" not in keys(at.button)

    at = run_kmeans(at, 3)
    # issue 15: 15 customers: no "points drawn" slider stuck at its left end, the map says all are drawn
    open_page(at, "map")
    assert not list(at.select_slider)
    assert "All 15 customers drawn" in texts(at)
    # issue 15: derived columns as labels, never "Avg order value" or "Rfm group"
    open_page(at, "profiles")
    shown = texts(at) + " ".join(str(e.label) for e in at.selectbox)
    assert "Avg order value" not in shown and "Rfm group" not in shown and "Predicted clv" not in shown
    assert "n/a of all at risk" not in shown and not re.search(r"-\d+% of ", shown)


def test_the_dataset_switch_labels_fit_the_sidebar_and_the_caption_gives_the_full_name() -> None:
    # issue 15: "online_retail_30k.csv (per custor" was cut off in the sidebar
    name = "online_retail_december_orders_30k.csv"
    at = open_page(upload(fresh(), name, classic_log().replace(b"a,b,c,d", b"k,b,c,d")), "data")  # new bytes
    at.button(key="rollup").click().run()
    assert_clean(at)
    switch = next(s for s in at.sidebar.selectbox if str(s.key).startswith("sidebar_dataset_"))
    assert len(switch.options) >= 2
    assert all(len(label) <= 30 and re.search(r"\S · \d+ rows$", label) for label in switch.options), switch.options
    # the start and the end of each name, then the rows
    assert {"online_ret…customer) · 15 rows", "online_ret…s_30k.csv · 46 rows"} <= set(switch.options)
    project = next(s for s in at.sidebar.selectbox if str(s.key).startswith("sidebar_project_"))
    assert all(len(label) <= 28 for label in project.options), project.options
    assert f"{name} (per customer)" in plain(" ".join(c.value for c in at.sidebar.caption))


def test_quality_notes_and_the_model_summary_read_without_raw_names() -> None:
    at = run_fast_segmentation(load_demo(fresh()), n_clusters=4)
    open_page(at, "quality")
    said = texts(at)
    assert "Annual income: 38 empty values were filled." in said
    notes = said[said.index("Notes from this run"):]
    assert "total_spend" not in notes and "days_since_last_order" not in notes and "'annual_income'" not in notes
    # the Assign page describes the current run's model in words: no "embedded with 'tfidf'", no data digest
    at.switch_page("pages/assign.py").run()
    assert_clean(at)
    said = texts(at)
    assert "read with word counts (TF-IDF)" in said and "digest" not in said and "'tfidf'" not in said


def test_an_unnamed_index_column_is_a_row_number_not_on_the_map() -> None:
    # issue 15: the clothing reviews' "Unnamed: 0" (a shuffled sample of row numbers) was a numeric feature
    rng = np.random.default_rng(3)
    rows = [",age,spend"] + [f"{i},{rng.integers(18, 80)},{rng.uniform(5, 500):.2f}"
                             for i in rng.permutation(np.arange(0, 3000, 25))]
    at = upload(fresh(), "reviews.csv", "\n".join(rows).encode())
    at = run_kmeans(at, 3)
    open_page(at, "map")
    assert "Unnamed: 0" not in at.selectbox(key="map_colour").options
    assert "All 120 customers drawn" in texts(at)
