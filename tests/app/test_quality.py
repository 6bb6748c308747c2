"""Choosing well through AppTest: the Quality page (numbers in words, warnings, silhouette, curves, stability,
known groups, runs compared) and automatic mode on the Segment page.

Fast settings throughout: TF-IDF text, PCA, k-means, chosen through the Segment form's widgets; the search runs
on a 500-customer sample with up to 5 segments and one stability re-run. The Quality page's tabs run only when
open, so a test opens a tab by setting its key, as a click in the browser does.
"""

from __future__ import annotations

import base64
import json

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from segmentation.understand.metrics import GOOD_VALUES
from segmentation.understand.naming import display_names
from tests.app.test_pages import (
    assert_clean,
    fresh,
    links,
    load_demo,
    open_page,
    plain,
    run_fast_segmentation,
    state,
    texts,
)
from ui.choose_view import badge_markdown
from ui.quality_view import stability_badges
from ui.state import Studio


def open_tab(at: AppTest, tab: str) -> AppTest:
    at.session_state["quality_tab"] = tab
    at.run()
    assert_clean(at)
    return at


def figures(at: AppTest) -> list[dict]:
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def titles(at: AppTest) -> list[str]:
    return [figure["layout"]["title"]["text"] for figure in figures(at) if "title" in figure["layout"]]


def trace_types(at: AppTest) -> set[str]:
    return {trace.get("type", "scatter") for figure in figures(at) for trace in figure["data"]}


def said(at: AppTest) -> str:
    """Everything ``texts`` reads, plus success and error boxes."""
    return "\n".join([texts(at), *(plain(box.value) for box in [*at.success, *at.error])])


def values(data: list | dict) -> np.ndarray:
    """A figure array as numbers: plotly sends numeric arrays as base64 ("bdata") with their dtype."""
    if isinstance(data, dict):
        return np.frombuffer(base64.b64decode(data["bdata"]), dtype=data["dtype"])
    return np.asarray(data)


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def session(at: AppTest) -> Studio:
    """The app's session state as a Studio, to call the same helpers the pages call."""
    return Studio({key: at.session_state[key] for key in ("studio.runs", "studio.current_run", "studio.curation",
                                                          "studio.stability") if key in at.session_state})


@pytest.fixture()
def two_segments() -> AppTest:
    """The demo data cut by k-means into 2 segments: one holds about 80% of customers, which deserves a warning."""
    return run_fast_segmentation(load_demo(fresh()), n_clusters=2)


# --------------------------------------------------------------------------- Quality page
def test_quality_before_a_run_says_to_segment_and_shows_no_checks() -> None:
    at = open_page(load_demo(fresh()), "quality")
    assert "No segmentation yet — go to Segment." in texts(at)
    assert links(at) == {"Go to Segment": "segment"}
    assert not at.metric and not at.get("plotly_chart") and not at.button


def test_quality_explains_each_number_warns_in_words_and_draws_the_silhouette(two_segments: AppTest) -> None:
    at = open_page(two_segments, "quality")
    assert list(metrics(at)) == ["Silhouette", "Davies–Bouldin", "Calinski–Harabasz", "Unassigned", "Smallest segment"]
    cards = texts(at)
    assert "**Good:** Above 0.25 is reasonable" in cards and "**Good:** Lower is better" in cards
    assert [m.proto.help for m in at.metric][:2] == [GOOD_VALUES["silhouette"], GOOD_VALUES["davies_bouldin"]]
    [warning] = [plain(w.value) for w in at.warning]
    assert warning.startswith("Segment 1 holds 8") and "'everyone else'" in warning
    assert titles(at) == ["Segment sizes"]  # the first tab; the others run only when opened

    open_tab(at, "Silhouette")
    [figure] = figures(at)
    assert figure["layout"]["title"]["text"] == "Silhouette per customer, by segment"
    assert sum(len(values(trace["x"])) for trace in figure["data"]) == 2000  # one bar per customer, the demo's 2,000
    assert "One thin bar per customer (2,000 shown)" in texts(at)

    open_tab(at, "Number of segments")
    assert not at.get("plotly_chart")
    at.button(key="quality_curves").click().run()
    assert_clean(at)
    assert titles(at) == ["Quality by number of segments"]
    assert "this run has 2" in texts(at)
    open_page(at, "profiles")
    open_page(at, "quality")
    open_tab(at, "Number of segments")  # asked once for this cluster space: shown again without a click
    assert titles(at) == ["Quality by number of segments"]


def test_check_stability_gives_badges_that_the_profiles_page_can_read(two_segments: AppTest) -> None:
    at = open_tab(open_page(two_segments, "quality"), "Stability")
    run_id = str(state(at, "current_run"))
    assert stability_badges(run_id, session(at)) is None
    at.button(key="quality_stability").click().run()
    assert_clean(at)
    badges = stability_badges(run_id, session(at))
    assert badges is not None and set(badges) == {0, 1} and set(badges.values()) <= {"stable", "fair", "unstable"}
    assert "Agreement across 6 re-runs" in said(at)
    assert all(badge_markdown(b) in said(at) for b in badges.values())
    assert 0.0 <= float(metrics(at)["Agreement across re-runs"]) <= 1.0
    assert titles(at) == ["How often each segment's members stay together"]
    assert not any(b.key == "quality_stability" for b in at.button)  # checked: the button gives way to the result


def test_unstable_segments_are_flagged_in_words() -> None:
    """Twelve k-means segments of 2,000 loosely grouped customers do not all come back when re-run."""
    at = open_tab(open_page(run_fast_segmentation(load_demo(fresh()), n_clusters=12), "quality"), "Stability")
    at.button(key="quality_stability").click().run()
    assert_clean(at)
    badges = stability_badges(str(state(at, "current_run")), session(at))
    unstable = sorted(s for s, b in badges.items() if b == "unstable")
    assert unstable, badges
    flagged = [plain(w.value) for w in at.warning if " is unstable: " in plain(w.value)]
    run = next(r for r in state(at, "runs") if r.run_id == state(at, "current_run"))
    shown = display_names(run.result.profiles)   # segments go by their suggested names (issue 18)
    assert [f.split(" is unstable")[0] for f in flagged] == [shown[s] for s in unstable]
    assert all("Do not build a campaign on it" in f for f in flagged)


def test_known_groups_are_compared_when_a_column_has_the_role_label() -> None:
    at = load_demo(fresh())
    at.session_state["studio.role_overrides"] = {"region": "label"}
    run_fast_segmentation(at, n_clusters=4)
    open_tab(open_page(at, "quality"), "Known groups")
    shown = metrics(at)
    assert list(shown)[-3:] == ["Adjusted Rand index", "Normalised mutual information", "V-measure"]
    result = state(at, "runs")[0].result
    assert "region" not in " ".join(result.feature_names)  # known groups check the segments, never make them
    assert shown["Adjusted Rand index"] == f"{result.metrics['external_ari']:.2f}"
    assert shown["V-measure"] == f"{result.metrics['external_v_measure']:.2f}"
    assert titles(at) == ["Segments against region"] and "follow the known groups in 'region'" in texts(at)


def test_without_a_label_column_the_known_groups_tab_says_how_to_get_one(two_segments: AppTest) -> None:
    at = open_tab(open_page(two_segments, "quality"), "Known groups")
    assert "set its role to 'label' on the Data page" in texts(at)
    assert not at.get("plotly_chart")


def test_two_runs_are_compared_with_agreement_and_a_flow_and_an_old_run_can_be_restored(two_segments: AppTest
                                                                                          ) -> None:
    at = run_fast_segmentation(two_segments, n_clusters=3)
    first, second = state(at, "runs")
    open_tab(open_page(at, "quality"), "Runs and comparison")
    assert at.selectbox(key="compare_a").value == first.run_id and at.selectbox(key="compare_b").value == second.run_id
    ari = float(metrics(at)["Agreement (adjusted Rand index)"])
    assert 0.0 < ari < 1.0  # 2 and 3 segments of the same customers: related, not the same
    assert "sankey" in trace_types(at)
    assert "of customers stay in the matching segment" in texts(at)
    at.selectbox(key="runs_pick").set_value(first.run_id).run()
    at.button(key="runs_restore").click().run()
    assert_clean(at)
    assert state(at, "current_run") == first.run_id


# --------------------------------------------------------------------------- automatic mode (Segment page)
def test_automatic_mode_recommends_a_segmentation_and_opens_a_row_as_a_new_run() -> None:
    at = run_fast_segmentation(load_demo(fresh()), n_clusters=4)
    at.number_input(key="auto_sample").set_value(500)
    at.number_input(key="auto_max_k").set_value(5)
    at.number_input(key="auto_resamples").set_value(1)
    at.button(key="auto_find").click().run()
    assert_clean(at)
    search = state(at, "auto_search")
    # the same settings before clustering as Run 1: its cluster space is reused, nothing is embedded again
    assert search["source"] == "cluster space reused from Run 1 · k-means"
    board = at.dataframe[0].value
    algorithm, segments = board["Solution"].iloc[0].removeprefix("★ ").split(", ")
    assert f"{segments} ({algorithm}, " in said(at)  # the recommendation, with its reason
    assert {"Silhouette", "Davies–Bouldin", "Calinski–Harabasz", "Unassigned", "Smallest", "Largest", "Stability",
            "Run time"} <= set(board.columns)
    assert board["Solution"].iloc[0].startswith("★ ") and board["Solution"].str.startswith("★").sum() == 1
    assert len(board) >= 10 and "Candidates: silhouette by number of segments" in titles(at)

    # select the best-scoring Gaussian mixture row and open it: a second run with that clustering
    row = int(board.index[board["Solution"].str.contains("Gaussian mixture")][0])
    at.session_state[at.dataframe[0].key] = {"selection": {"rows": [row], "columns": []}}
    at.run()
    assert at.button(key="auto_open").label.startswith("Open Gaussian mixture, ")
    at.button(key="auto_open").click().run()
    assert_clean(at)
    runs = state(at, "runs")
    assert len(runs) == 2 and state(at, "current_run") == runs[1].run_id
    assert runs[1].config.cluster.algorithm == "gmm"
    assert runs[1].config.replace(cluster=runs[0].config.cluster) == runs[0].config  # only the clustering changed
    assert at.selectbox(key="seg_algorithm").value == "gmm"  # the form shows what was opened
    for name, value in runs[1].config.cluster.params:
        assert at.number_input(key=f"seg_param_gmm_{name}").value == value
    assert "Current run: Run 2 · Gaussian mixture" in texts(at)
