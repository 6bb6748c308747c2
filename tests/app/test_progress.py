"""The progress panel's arithmetic (steps, share done, count, rate, time left) and a run cut short by a refresh:
recorded as started in the project, said on the next visit, offered again with the same settings."""

from __future__ import annotations

import re

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from segmentation.config import BlendConfig, ClusterConfig, ReduceConfig, RunConfig, TextConfig
from segmentation.represent.embed import Progress
from tests.app.test_pages import APP, TIMEOUT, assert_clean, fresh, load_demo, open_page, plain, state
from ui.cache import project
from ui.progress import RunProgress, interrupted_run, run_marker
from ui.state import Studio
from ui.workspace_sync import workspace_root

FAST = RunConfig(text=TextConfig(columns=("review",), model="tfidf"), blend=BlendConfig(0.5),
                 reduce=ReduceConfig(method="pca", map_method="pca"),
                 cluster=ClusterConfig.make("kmeans", n_clusters=4))


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


# --------------------------------------------------------------------------- the arithmetic
def test_steps_move_from_waiting_to_going_to_done_with_their_times() -> None:
    clock = Clock()
    progress = RunProgress(["prepare", "embed", "cluster"], clock)
    assert [s for _, s, _ in progress.rows()] == ["waiting", "waiting", "waiting"] and progress.current is None
    assert progress.report("prepare", 0.0) is True  # a step started: draw at once
    clock.now = 2.0
    assert progress.report("prepare", 1.0) is True  # ... and finished
    assert progress.report("embed", Progress(0, 100)) is True
    assert progress.rows() == [("prepare", "done", 2.0), ("embed", "going", 0.0), ("cluster", "waiting", None)]
    assert progress.current == "embed"
    clock.now = 3.0
    assert progress.report("embed", Progress(40, 100)) is False  # nothing started or finished
    assert progress.overall() == pytest.approx((1.0 + 0.4 + 0.0) / 3)


def test_a_counted_step_shows_count_rate_and_time_left() -> None:
    clock = Clock()
    progress = RunProgress(["embed"], clock)
    progress.report("embed", 0.0)  # the pipeline says the step started before the embedder counts
    clock.now = 1.0
    progress.report("embed", Progress(20, 100))  # 20 texts were in the cache: they do not count for the rate
    assert progress.detail("embed") == "20 of 100 texts · working out the time left"
    clock.now = 2.0
    progress.report("embed", Progress(30, 100))  # 1 s and 10 texts: too early to tell
    assert progress.detail("embed") == "30 of 100 texts · working out the time left"
    clock.now = 5.0
    progress.report("embed", Progress(60, 100))  # 40 texts in 4 s: 10 a second, 40 left: about 4 s
    assert progress.detail("embed") == "60 of 100 texts · 10 texts a second · about 4 s left"
    clock.now = 9.0
    progress.report("embed", Progress(100, 100))
    assert progress.detail("embed") == "100 of 100 texts" and progress.current is None


def test_a_step_without_counts_has_no_detail_and_plain_fractions_still_work() -> None:
    progress = RunProgress(["reduce"], Clock())
    progress.report("reduce", 0.5)
    assert progress.detail("reduce") is None and progress.overall() == 0.5
    progress.report("extra", 1.0)  # a stage the list did not know is added, not lost
    assert [r[0] for r in progress.rows()] == ["reduce", "extra"]


def test_a_run_marker_on_other_data_or_unreadable_is_not_offered() -> None:
    studio = Studio({})
    assert interrupted_run(studio) is None

    class Data:
        digest = "abc"

    studio.set_dataset(Data())  # type: ignore[arg-type]
    studio.set_run_marker({**run_marker(FAST, "other digest")})
    assert interrupted_run(studio) is None
    studio.set_run_marker({**run_marker(FAST, "abc"), "config": {"cluster": "nonsense"}})
    assert interrupted_run(studio) is None
    studio.set_run_marker(run_marker(FAST, "abc"))
    assert interrupted_run(studio) == (FAST, False)


# --------------------------------------------------------------------------- a run cut short
def warnings(at: AppTest) -> str:
    return "\n".join(plain(w.value) for w in at.warning)


def cut_short_and_reopened() -> AppTest:
    """Demo data, a run recorded as started and never finished (what a refresh in the middle leaves behind), then
    a new session opened at the project's address, as the reloaded browser tab would be."""
    at = open_page(load_demo(fresh()), "segment")
    at.session_state["studio.run_marker"] = run_marker(FAST, state(at, "dataset").digest)
    at.run()  # the frame saves the marker into the project, as run_with_progress does before a run
    project_id = state(at, "project")["id"]
    assert RunConfig.from_dict(project(workspace_root(), project_id).ui_state()["run_started"]["config"]) == FAST
    st.cache_resource.clear()
    again = AppTest.from_file(APP, default_timeout=TIMEOUT)
    again.query_params["project"] = project_id
    again.run()
    return open_page(again, "segment")


def test_a_run_cut_short_is_said_and_run_again_with_the_same_settings() -> None:
    at = cut_short_and_reopened()
    assert re.search(r"The last run did not finish: the page was reloaded or closed while it was going\. "
                     r"Its settings: k-means · text: review, TF-IDF · reduced with PCA\. Run it again", warnings(at))
    at.button(key="seg_run_again").click().run()
    assert_clean(at)
    runs = state(at, "runs")
    assert len(runs) == 1 and runs[0].config == FAST and state(at, "run_config") == FAST
    assert state(at, "run_marker") is None and "did not finish" not in warnings(at)
    assert project(workspace_root(), state(at, "project")["id"]).ui_state()["run_started"] is None


def test_a_run_cut_short_can_be_dismissed() -> None:
    at = cut_short_and_reopened()
    at.button(key="seg_run_dismiss").click().run()
    assert_clean(at)
    assert state(at, "run_marker") is None and not state(at, "runs") and "did not finish" not in warnings(at)


def test_a_finished_run_leaves_no_marker_in_the_session_or_the_project() -> None:
    at = open_page(load_demo(fresh()), "segment")
    at.selectbox(key="seg_model").set_value("tfidf")
    at.selectbox(key="seg_reduce").set_value("pca")
    at.selectbox(key="seg_map").set_value("pca")
    at.button(key="seg_run").click().run()
    assert_clean(at)
    assert len(state(at, "runs")) == 1 and state(at, "run_marker") is None
    assert project(workspace_root(), state(at, "project")["id"]).ui_state()["run_started"] is None
