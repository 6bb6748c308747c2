"""Several datasets in one project, in the app: the sidebar's Dataset switch (each dataset with its own runs), the
question a new file asks while a project with data is open (added here, or a new project; nothing lost either
way), and "Use demo data" opening the project that already holds the demo instead of copying it.

Every test has a workspace of its own; what was saved is checked through the library.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from segmentation.store.workspace import Workspace
from tests.app.test_pages import assert_clean, fresh, load_demo, open_page, run_fast_segmentation, state, texts

SHOP = ("shop.csv", b"customer_id,spend,orders\nA1,10,1\nA2,20,2\nA3,5,1\nA4,90,7\nA5,70,6\nA6,12,1\n", "text/csv")
SURVEY = ("survey.csv", b"respondent,score\nR1,3\nR2,5\nR3,1\n", "text/csv")


@pytest.fixture(autouse=True)
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "workspace"
    monkeypatch.setenv("SEGMENT_STUDIO_HOME", str(folder))
    return folder


def upload(at: AppTest, file: tuple[str, bytes, str]) -> AppTest:
    open_page(at, "data")
    at.file_uploader(key="data_upload").set_value(file).run()
    assert_clean(at)
    return at


def place_radio(at: AppTest):
    held = state(at, "held_upload")
    assert held is not None, "the upload should be waiting for an answer"
    return at.radio(key=f"upload_place_{held[0].digest[:12]}")


def dataset_switch(at: AppTest):
    project, dataset_id = state(at, "project")["id"], state(at, "links")["dataset_id"]
    return at.sidebar.selectbox(key=f"sidebar_dataset_{project}_{dataset_id}")


def test_an_added_file_keeps_the_earlier_dataset_and_its_runs_a_switch_away(root: Path) -> None:
    at = fresh()
    load_demo(at)
    run_fast_segmentation(at, n_clusters=3)
    project = state(at, "project")
    upload(at, SHOP)
    assert state(at, "dataset").name == "Demo customers"  # nothing changes until the analyst answers
    assert "Where should “shop.csv” go?" in texts(at)
    assert place_radio(at).value == "add"  # it shares customer_id with the demo
    at.button(key="upload_place_go").click().run()
    assert_clean(at)
    assert state(at, "project") == project and state(at, "dataset").name == "shop.csv"
    assert not state(at, "runs") and state(at, "held_upload") is None

    stored = Workspace(root).open_project(project["id"])
    demo_info, shop_info = stored.datasets()
    assert (demo_info.name, demo_info.n_runs, shop_info.name, shop_info.n_runs) == ("Demo customers", 1, "shop.csv",
                                                                                    0)
    assert stored.active() == (shop_info.id, None)
    switch = dataset_switch(at)
    assert switch.label == "Dataset" and switch.options == ["Demo customers · 2,000 rows", "shop.csv · 6 rows"]

    switch.set_value(demo_info.id).run()  # back to the demo: its run is there again
    assert_clean(at)
    assert state(at, "dataset").name == "Demo customers"
    [run] = state(at, "runs")
    assert run.result.n_segments == 3 and state(at, "current_run") == run.run_id
    assert stored.active() == (demo_info.id, stored.runs(demo_info.id)[0].id)
    open_page(at, "segment")
    assert "Current run: Run 1" in texts(at)
    open_page(at, "quality")
    assert_clean(at)


def test_a_file_with_other_columns_suggests_a_new_project_and_leaves_this_one_alone(root: Path) -> None:
    at = fresh()
    load_demo(at)
    demo_project = state(at, "project")
    upload(at, SURVEY)
    assert place_radio(at).value == "new"  # no column in common with the demo
    assert "shares no column with this project's data" in texts(at)
    at.button(key="upload_place_go").click().run()
    assert_clean(at)
    assert state(at, "project")["name"] == "survey" and state(at, "dataset").name == "survey.csv"
    assert sorted(p.name for p in Workspace(root).list_projects()) == ["Demo customers", "survey"]
    assert [d.name for d in Workspace(root).open_project(demo_project["id"]).datasets()] == ["Demo customers"]


def test_the_suggestion_can_be_overruled_or_the_upload_set_aside(root: Path) -> None:
    at = fresh()
    load_demo(at)
    project = state(at, "project")
    upload(at, SURVEY)
    at.button(key="upload_place_cancel").click().run()  # "Keep the current data"
    assert_clean(at)
    assert state(at, "held_upload") is None and state(at, "dataset").name == "Demo customers"
    assert len(Workspace(root).open_project(project["id"]).datasets()) == 1

    at.file_uploader(key="data_upload").set_value(("survey-2.csv", SURVEY[1] + b"R4,2\n", "text/csv")).run()
    place_radio(at).set_value("add").run()  # suggested: new project; chosen: this one
    at.button(key="upload_place_go").click().run()
    assert_clean(at)
    assert state(at, "project") == project
    assert [d.name for d in Workspace(root).open_project(project["id"]).datasets()] == ["Demo customers",
                                                                                       "survey-2.csv"]


def test_a_file_the_project_already_holds_is_shown_again_without_asking(root: Path) -> None:
    at = fresh()
    upload(at, SHOP)  # no project open: starts one named after the file
    project = state(at, "project")
    assert project["name"] == "shop"
    upload(at, SURVEY)
    place_radio(at).set_value("add").run()
    at.button(key="upload_place_go").click().run()
    at.file_uploader(key="data_upload").set_value(SHOP).run()  # the same bytes again
    assert_clean(at)
    assert state(at, "held_upload") is None and state(at, "dataset").name == "shop.csv"
    assert state(at, "project") == project
    assert len(Workspace(root).open_project(project["id"]).datasets()) == 2


def test_use_demo_data_opens_the_project_that_already_holds_it(root: Path) -> None:
    at = fresh()
    at.button(key="home_demo").click().run()
    assert_clean(at)
    demo_project = state(at, "project")
    upload(at, SHOP)
    at.button(key="upload_place_go").click().run()  # added to the demo project
    assert state(at, "dataset").name == "shop.csv"

    at.button(key="data_demo").click().run()  # the demo is in this project: switched back to it, not loaded again
    assert_clean(at)
    assert state(at, "dataset").name == "Demo customers" and state(at, "held_upload") is None
    assert state(at, "project") == demo_project

    at.switch_page("pages/home.py").run()
    at.file_uploader(key="home_upload").set_value(SURVEY).run()  # another project is open now
    assert state(at, "project")["name"] == "survey"
    at.switch_page("pages/home.py").run()
    at.button(key="home_demo").click().run()
    assert_clean(at)
    assert state(at, "project") == demo_project and state(at, "dataset").name == "Demo customers"
    assert sorted(p.name for p in Workspace(root).list_projects()) == ["Demo customers", "survey"]  # no "(2)"
