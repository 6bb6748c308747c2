"""Themes inside segments in the app (AppTest): each Profiles card lists its segment's themes, the "Theme detail"
control moves the theme level for every page (exports included), the map colours by theme, and the Segment form
offers "Largest unassigned share" for the algorithms that leave customers out.

Fast settings throughout (TF-IDF, PCA, k-means, through the Segment form's widgets). The demo data's segments
have little inner structure (one theme each); ``nested_blobs`` has three segments of two large and two small
groups each, so the detail control visibly moves the theme level (6 themes at 0, 12 at 1).
"""

from __future__ import annotations

import html
import json
import re

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from tests.app.test_pages import assert_clean, fresh, load_demo, open_page, run_fast_segmentation, state
from ui.state import Studio


def run_id(at: AppTest) -> str:
    return str(state(at, "current_run"))


def studio_of(at: AppTest) -> Studio:
    """The session's state as the pages read it (runs, curation, choices)."""
    return Studio({key: at.session_state[key] for key in ("studio.runs", "studio.current_run", "studio.annotations",
                                                          "studio.curation", "studio.choices")
                   if key in at.session_state})


def theme_count(at: AppTest) -> int:
    """The number of themes the caption beside "Theme detail" reports."""
    caption = next(c.value for c in at.caption if "themes inside" in c.value)
    return int(re.search(r"\*\*(\d+)\*\* themes inside", caption).group(1))


def shown_html(at: AppTest) -> str:
    return html.unescape("\n".join(e.proto.body for e in at.get("html")))


def nested_blobs() -> bytes:
    """810 customers in 3 far-apart segments, each of two groups of 120 and two of 15 (a CSV)."""
    rng = np.random.default_rng(0)
    rows = []
    for cx, cy in [(0, 0), (60, 0), (0, 60)]:
        for (dx, dy), size in [((-9, 0), 120), ((9, 0), 120), ((0, 14), 15), ((0, -14), 15)]:
            rows += [(cx + dx + rng.normal(0, 1.2), cy + dy + rng.normal(0, 1.2)) for _ in range(size)]
    frame = pd.DataFrame(rows, columns=["spend", "visits"]).round(2)
    frame.insert(0, "customer_id", [f"C{i:04d}" for i in range(len(frame))])
    return frame.to_csv(index=False).encode()


@pytest.fixture(scope="module")
def profiles() -> AppTest:
    """The demo data segmented with k-means into 4 segments, on the Profiles page."""
    return open_page(run_fast_segmentation(load_demo(fresh()), n_clusters=4), "profiles")


@pytest.fixture(scope="module")
def nested() -> AppTest:
    """``nested_blobs`` segmented with k-means into 3 segments, on the Profiles page."""
    at = open_page(fresh(), "data")
    at.file_uploader(key="data_upload").set_value(("nested.csv", nested_blobs(), "text/csv")).run()
    assert_clean(at)
    open_page(at, "segment")                      # no text column: no model to choose
    at.selectbox(key="seg_reduce").set_value("pca")
    at.selectbox(key="seg_map").set_value("pca")
    at.number_input(key="seg_param_kmeans_n_clusters").set_value(3)
    at.button(key="seg_run").click().run()
    assert_clean(at)
    return open_page(at, "profiles")


def test_each_card_lists_its_themes_largest_first(profiles: AppTest) -> None:
    at = profiles
    result = studio_of(at).curated_run().result
    assert result.n_themes >= 4
    expanders = [e.label for e in at.expander if e.label.startswith("Themes in this segment")]
    assert len(expanders) == result.n_segments
    counts = sorted(int(re.search(r"\((\d+)\)", label).group(1)) for label in expanders)
    assert sum(counts) == result.n_themes
    body = shown_html(at)
    for theme in result.theme_profiles:
        assert theme.name in body and f"{theme.share_of_segment:.0%}" in body
    largest = max(result.theme_profiles, key=lambda p: p.size)
    assert f"Customers to look at: {', '.join(largest.representative_ids)}" in body
    # within a segment, the largest theme comes first
    first_segment = [p for p in result.theme_profiles if p.segment == largest.segment]
    positions = [body.index(p.name) for p in sorted(first_segment, key=lambda p: -p.size)]
    assert positions == sorted(positions)


def test_the_tree_tab_draws_segments_and_themes(profiles: AppTest) -> None:
    at = profiles
    result = studio_of(at).curated_run().result
    figure = next(json.loads(c.proto.spec) for c in at.get("plotly_chart") if '"sunburst"' in c.proto.spec)
    (trace,) = figure["data"]
    assert trace["type"] == "sunburst" and trace["branchvalues"] == "total"
    assert len(trace["ids"]) == result.n_segments + (result.labels < 0).any() + result.n_themes
    assert sum(v for v, p in zip(trace["values"], trace["parents"]) if p == "") == len(result.labels)


def test_theme_detail_moves_the_theme_level_for_every_page_and_the_export(nested: AppTest) -> None:
    at, rid = nested, run_id(nested)
    at.select_slider(key=f"theme_detail_{rid}").set_value(0.0).run()
    assert_clean(at)
    coarse = theme_count(at)
    at.select_slider(key=f"theme_detail_{rid}").set_value(1.0).run()
    assert_clean(at)
    fine = theme_count(at)
    assert (coarse, fine) == (6, 12)
    assert state(at, "choices")["theme_detail"] == {rid: 1.0}
    exported = studio_of(at).curated_run().result          # what the Export page and the report read
    assert exported.config.themes.detail == 1.0 and exported.n_themes == fine
    # the run's notes describe the themes shown, not those found first
    assert [n for n in exported.notes if "themes inside" in n] == \
        ["12 themes inside 3 segments (smallest theme 5 customers, detail 1)."]
    expanders = [e.label for e in at.expander if e.label.startswith("Themes in this segment")]
    assert sum(int(re.search(r"\((\d+)\)", label).group(1)) for label in expanders) == fine
    at.select_slider(key=f"theme_detail_{rid}").set_value(0.5).run()


def test_the_map_colours_by_theme_in_shades_grouped_by_segment(nested: AppTest) -> None:
    at = open_page(nested, "map")
    at.selectbox(key="map_colour").set_value("theme").run()
    assert_clean(at)
    result = studio_of(at).curated_run().result
    figure = json.loads(at.get("plotly_chart")[0].proto.spec)
    themed = [t for t in figure["data"] if t.get("legendgroup", "").startswith("segment-")]
    assert len(themed) == result.n_themes
    assert {t["name"].split(" · ")[0] for t in themed} == set(result.theme_names().values())
    first = [t for t in themed if t["legendgroup"] == "segment-0"]
    assert len(first) == 4 and len({t["marker"]["color"] for t in first}) == 4     # four shades of one colour
    assert all(t["legendgrouptitle"]["text"].startswith("<b>") for t in themed)
    assert all("Theme: %{customdata[" in t["hovertemplate"] for t in themed)
    assert figure["layout"]["title"]["text"] == "Customers by theme"
    at.selectbox(key="map_colour").set_value("segment").run()


def test_largest_unassigned_share_is_offered_for_hdbscan_only_and_reaches_the_run() -> None:
    at = open_page(load_demo(fresh()), "segment")
    assert not [s for s in at.slider if s.key == "seg_max_unassigned"]
    at.selectbox(key="seg_algorithm").set_value("hdbscan").run()
    share = at.slider(key="seg_max_unassigned")
    assert share.label == "Largest unassigned share" and share.value == 100
    assert re.search(r"join it \(with a lower confidence\)", share.help)
    at.selectbox(key="seg_model").set_value("tfidf")
    at.selectbox(key="seg_reduce").set_value("pca")
    at.selectbox(key="seg_map").set_value("pca")
    share.set_value(10)
    at.button(key="seg_run").click().run()
    assert_clean(at)
    result = studio_of(at).curated_run().result
    assert result.config.themes.max_unassigned == pytest.approx(0.10)
    assert (result.labels < 0).mean() <= 0.10 + 1e-9
