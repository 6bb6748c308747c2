"""The workspace in the app: projects on Home, autosave, a restart that brings everything back, Settings.

Every test gets its own workspace folder (SEGMENT_STUDIO_HOME). A "restart" is a
new AppTest session with empty Streamlit caches, opened with ?project=<id> in the
address, as a browser refresh or a bookmark would. What was saved is checked
through the library (segmentation.workspace), so the app and the CLI are seen to
share one workspace. Runs use the fast settings (TF-IDF, PCA, k-means).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from segmentation.cli.main import main as cli_main
from segmentation.represent.embed import EmbeddingCache
from segmentation.store.workspace import Workspace
from tests.app.test_pages import (
    APP,
    TIMEOUT,
    assert_clean,
    errors,
    fresh,
    load_demo,
    plain,
    run_fast_segmentation,
    state,
    texts,
)
from tests.app.test_pages import PAGES as APP_PAGES
from ui.format import md

DEMO = Path(__file__).resolve().parents[2] / "assets" / "demo_customers.csv"
PAGES = {**APP_PAGES, "settings": "pages/settings.py"}


def open_page(at: AppTest, page: str) -> AppTest:
    at.switch_page(PAGES[page]).run()
    assert_clean(at)
    return at


@pytest.fixture(autouse=True)
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A workspace of this test's own."""
    folder = tmp_path / "workspace"
    monkeypatch.setenv("SEGMENT_STUDIO_HOME", str(folder))
    return folder


def restart(project_id: str, run: int | None = None, clean: bool = True) -> AppTest:
    """A new session on a freshly started server (empty caches), opened at ?project=<id>[&run=<id>]."""
    st.cache_resource.clear()
    st.cache_data.clear()
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params["project"] = project_id
    if run is not None:
        at.query_params["run"] = str(run)
    at.run()
    if clean:
        assert_clean(at)
    return at


def create_project(at: AppTest, name: str) -> dict[str, str]:
    at.text_input(key="new_project_name").input(name)
    at.button(key="new_project").click().run()
    assert_clean(at)
    return state(at, "project")


def project_names(root: Path) -> list[str]:
    return sorted(info.name for info in Workspace(root).list_projects())


def sidebar_project(at: AppTest) -> str:
    project = state(at, "project")
    return at.sidebar.selectbox(key=f"sidebar_project_{project['id']}").value


# --------------------------------------------------------------------------- save and restore
def test_work_is_saved_as_it_happens_and_a_restart_brings_it_all_back(root: Path) -> None:
    at = fresh()
    project = create_project(at, "Spring campaign")
    assert project["name"] == "Spring campaign" and state(at, "dataset") is None
    load_demo(at)  # loaded on the Data page: joins the open project
    assert state(at, "project")["id"] == project["id"]
    run_fast_segmentation(at, n_clusters=4)
    open_page(at, "profiles")
    run_id = state(at, "current_run")
    labels = state(at, "runs")[0].result.labels
    at.text_input(key=f"name-{run_id}-0").set_value("Big spenders").run()
    at.text_area(key=f"notes-{run_id}-1").set_value("Call them in May").run()
    assert_clean(at)

    stored = Workspace(root).open_project("Spring campaign")
    [dataset] = stored.datasets()
    [run] = stored.runs()
    assert dataset.name == "Demo customers" and dataset.n_rows == 2000
    assert run.n_segments == 4 and run.dataset_id == dataset.id
    assert stored.segment_names(run.id) == {0: "Big spenders"}
    assert stored.segment_texts(run.id)[1]["notes"] == "Call them in May"
    assert stored.ui_state()["page"] == "profiles" and stored.ui_state()["run"] == run.id
    assert at.query_params["project"] == project["id"] and at.query_params["run"] == str(run.id)

    again = restart(project["id"], run.id)
    assert state(again, "project") == project and sidebar_project(again) == project["id"]
    assert state(again, "dataset").name == "Demo customers" and len(state(again, "dataset").table) == 2000
    [restored] = state(again, "runs")
    assert restored.run_id == run_id and restored.config.cluster.as_dict() == {"n_clusters": 4}
    assert np.array_equal(restored.result.labels, labels)
    assert state(again, "page") == "profiles"
    assert "Run 1 · k-means" in "\n".join(m.value for m in again.sidebar.markdown)
    open_page(again, "profiles")
    assert again.text_input(key=f"name-{run_id}-0").value == "Big spenders"
    assert again.text_area(key=f"notes-{run_id}-1").value == "Call them in May"
    open_page(again, "segment")  # the form shows the settings of the run
    assert again.selectbox(key="seg_model").value == "tfidf"
    assert again.number_input(key="seg_param_kmeans_n_clusters").value == 4


def test_curation_and_role_changes_are_saved_and_restored(root: Path) -> None:
    at = run_fast_segmentation(load_demo(fresh()), n_clusters=4)
    project = state(at, "project")
    open_page(at, "profiles")
    run_id = state(at, "current_run")
    at.text_input(key=f"name-{run_id}-0").set_value("Loyal").run()
    at.multiselect(key=f"curate_merge_{run_id}").set_value([0, 1]).run()
    at.button(key="curate_merge_go").click().run()
    assert_clean(at)
    assert len(state(at, "curation")[run_id]) == 1
    # what the Data page's roles table stores on an edit (AppTest cannot type into a data editor)
    at.session_state["studio.role_overrides"] = {"age": "ignore"}
    at.run()

    stored = Workspace(root).open_project(project["id"])
    assert stored.datasets()[0].role_overrides == {"age": "ignore"}
    [run] = stored.runs()
    [step] = stored.curation(run.id)
    assert step["kind"] == "merge" and step["params"] == {"segments": [0, 1]}  # a CurationStep dict
    assert stored.segment_names(run.id) == {0: "Loyal"}  # the name followed the merged segment

    again = restart(project["id"])
    assert state(again, "curation") == state(at, "curation")
    assert state(again, "role_overrides") == {"age": "ignore"}
    open_page(again, "profiles")
    assert len([t for t in again.text_input if t.key.startswith(f"name-{run_id}-")]) == 3  # 4 segments, 2 merged
    again.button(key="curate_undo").click().run()
    assert_clean(again)
    assert Workspace(root).open_project(project["id"]).curation(run.id) == []


def test_two_sessions_on_one_project_keep_each_others_edits(root: Path) -> None:
    first = run_fast_segmentation(load_demo(fresh()), n_clusters=4)
    project = state(first, "project")
    run_id = state(first, "current_run")
    second = restart(project["id"])
    open_page(first, "profiles")
    open_page(second, "profiles")
    first.text_input(key=f"name-{run_id}-0").set_value("From the first tab").run()
    second.text_input(key=f"name-{run_id}-1").set_value("From the second tab").run()  # it never saw segment 0's
    first.text_input(key=f"name-{run_id}-2").set_value("First again").run()
    stored = Workspace(root).open_project(project["id"])
    [run] = stored.runs()
    assert stored.segment_names(run.id) == {0: "From the first tab", 1: "From the second tab", 2: "First again"}


# --------------------------------------------------------------------------- projects on Home
def test_data_loaded_without_a_project_starts_one_named_after_it(root: Path) -> None:
    at = fresh()
    assert "No projects yet" in texts(at)
    at.button(key="home_demo").click().run()
    assert_clean(at)
    assert state(at, "project")["name"] == "Demo customers"
    at.switch_page("pages/home.py").run()
    at.file_uploader(key="home_upload").set_value(("visits.csv", b"visitor,minutes\nV1,3\nV2,8\n",
                                                   "text/csv")).run()
    assert_clean(at)
    assert state(at, "project")["name"] == "visits"  # from Home: a new project, never mixed into the open one
    at.switch_page("pages/home.py").run()
    at.button(key="home_demo").click().run()  # the demo project exists: opened again, not copied as "(2)"
    assert_clean(at)
    assert state(at, "project")["name"] == "Demo customers"
    open_page(at, "data")
    at.file_uploader(key="data_upload").set_value(("shop.csv", b"customer_id,spend\nA1,10\nA2,20\nA3,5\n",
                                                   "text/csv")).run()
    assert_clean(at)
    at.button(key="upload_place_go").click().run()  # asked first; it shares customer_id, so "add" is suggested
    assert_clean(at)
    assert state(at, "project")["name"] == "Demo customers"  # the Data page adds to the open project
    assert project_names(root) == ["Demo customers", "visits"]
    assert [d.name for d in Workspace(root).open_project("Demo customers").datasets()] == \
        ["Demo customers", "shop.csv"]
    open_page(at, "home")
    assert "Demo customers" in texts(at) and "2 datasets · 0 runs" in texts(at)


def test_rename_duplicate_and_delete_with_confirmation(root: Path) -> None:
    at = fresh()
    project = create_project(at, "Alpha")
    pid = project["id"]
    at.text_input(key=f"rename_name_{pid}").set_value("Beta")
    at.button(key=f"rename_{pid}").click().run()
    assert_clean(at)
    assert project_names(root) == ["Beta"] and state(at, "project")["name"] == "Beta"

    at.text_input(key=f"duplicate_name_{pid}").set_value("Beta copy")
    at.button(key=f"duplicate_{pid}").click().run()
    assert_clean(at)
    assert project_names(root) == ["Beta", "Beta copy"]
    copy = Workspace(root).project_info("Beta copy").id

    at.button(key=f"delete_{copy}").click().run()
    assert "Delete **Beta copy** for good?" in plain(at.warning[0].value)
    assert project_names(root) == ["Beta", "Beta copy"]  # nothing is deleted before the confirmation
    at.button(key=f"delete_cancel_{copy}").click().run()
    assert not at.warning and project_names(root) == ["Beta", "Beta copy"]
    at.button(key=f"delete_{copy}").click().run()
    at.button(key=f"delete_confirm_{copy}").click().run()
    assert_clean(at)
    assert project_names(root) == ["Beta"]

    at.button(key=f"delete_{pid}").click().run()  # the open project: the session is emptied with it
    at.button(key=f"delete_confirm_{pid}").click().run()
    assert_clean(at)
    assert project_names(root) == [] and state(at, "project") is None and "project" not in at.query_params


def test_a_damaged_project_shows_its_error_and_the_others_still_open(root: Path) -> None:
    workspace = Workspace(root)
    good = workspace.create_project("Good")
    bad = workspace.create_project("Bad")
    (bad.folder / "project.sqlite").write_bytes(b"this is not a database " * 200)

    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    assert not at.exception
    [error] = errors(at)
    assert "The project 'Bad' is damaged" in error and "Other projects are not affected" in error
    at.button(key=f"open_{good.id}").click().run()
    assert not at.exception
    assert state(at, "project") == {"id": good.id, "name": "Good"}

    again = restart(bad.id, clean=False)  # a bookmark to the damaged project
    assert not again.exception and state(again, "project") is None
    assert any("could not be opened" in e and "damaged" in e for e in errors(again))
    again.button(key=f"delete_{bad.id}").click().run()
    again.button(key=f"delete_confirm_{bad.id}").click().run()
    assert not again.exception and project_names(root) == ["Good"]


def test_a_damaged_project_with_markup_in_its_name_is_named_as_written(root: Path) -> None:
    workspace = Workspace(root)
    name = "**Bad** [site](http://x) <b>old</b>"
    bad = workspace.create_project(name)
    (bad.folder / "project.sqlite").write_bytes(b"this is not a database " * 200)

    home = AppTest.from_file(APP, default_timeout=TIMEOUT).run()  # the project list on Home
    again = restart(bad.id, clean=False)  # a bookmark to it: "The project in this address could not be opened"
    for at in (home, again):
        assert not at.exception
        boxes = [e.value for e in at.error]
        assert boxes and all(md(name) in box and name not in box for box in boxes)
        assert any(f"The project '{name}' is damaged" in plain(box) for box in boxes)
    assert any("could not be opened" in box for box in errors(again))


def test_the_cli_and_the_app_share_one_workspace(root: Path, tmp_path: Path, capsys: pytest.CaptureFixture
                                                 ) -> None:
    at = fresh()
    at.button(key="home_demo").click().run()
    assert_clean(at)
    assert cli_main(["projects", "--workspace", str(root)]) == 0
    assert "Demo customers" in capsys.readouterr().out

    assert cli_main(["run", str(DEMO), "--out", str(tmp_path / "out"), "--project", "Nightly", "--workspace",
                     str(root), "--model", "tfidf", "--reduce", "pca", "--map", "pca", "-k", "3", "--quiet"]) == 0
    open_page(at, "home")
    assert "Nightly" in texts(at)
    nightly = Workspace(root).project_info("Nightly").id
    at.button(key=f"open_{nightly}").click().run()
    assert_clean(at)
    assert state(at, "project")["name"] == "Nightly" and state(at, "dataset").name == "demo_customers.csv"
    [run] = state(at, "runs")
    assert run.result.metrics["n_segments"] == 3
    open_page(at, "profiles")
    assert "#3" in texts(at)   # the card of segment 3 (its name is the suggested one, issue 18)


# --------------------------------------------------------------------------- Settings
def test_settings_show_sizes_clear_the_cache_and_switch_the_folder(root: Path, tmp_path: Path) -> None:
    Workspace(root).create_project("Here")
    embeddings = EmbeddingCache(root / "cache" / "embeddings.sqlite")
    embeddings.put_many("some-model", {f"text {i}": np.ones(384, dtype=np.float32) for i in range(500)})
    at = open_page(fresh(), "settings")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Projects"] == "1" and metrics["Projects on disk"].endswith(" kB")
    assert metrics["Cached embeddings"].endswith((" kB", " MB")) and str(root) in texts(at)

    at.button(key="clear_cache").click().run()
    assert "Clear the cached embeddings?" in at.warning[0].value
    assert embeddings.get_many("some-model", ["text 1"])  # nothing is cleared before the confirmation
    at.button(key="clear_cache_confirm").click().run()
    assert_clean(at)
    assert embeddings.get_many("some-model", ["text 1"]) == {}

    not_a_folder = tmp_path / "file.txt"
    not_a_folder.write_text("x")
    at.text_input(key="workspace_folder").set_value(str(not_a_folder))
    at.button(key="workspace_use").click().run()
    assert not at.exception and "This folder cannot be used." in errors(at)[0]

    other = tmp_path / "elsewhere"
    at.text_input(key="workspace_folder").set_value(str(other))
    at.button(key="workspace_use").click().run()
    assert_clean(at)
    assert {m.label: m.value for m in at.metric}["Projects"] == "0" and str(other) in texts(at)
    open_page(at, "home")
    assert "No projects yet" in texts(at)
