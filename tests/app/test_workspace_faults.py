"""The app when the workspace cannot be written: the analyst keeps working in memory, is told once, loses nothing.

The library's own tests (tests/unit/store/test_resilience.py) make the faults for real (a read-only folder, a
full disk) and check that each one becomes one WorkspaceError. Here the same failures are raised inside this
process, where the app runs: SQLite refuses every write as on a read-only file system ("attempt to write a
readonly database") and every file write fails with EROFS.
"""

from __future__ import annotations

import errno
import re
import sqlite3
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import segmentation.store.database as database
import segmentation.store.files as files
import segmentation.store.workspace as workspace_module
from segmentation.store.workspace import Workspace
from tests.app.test_concurrency import segment, upload
from tests.app.test_pages import PAGES, assert_clean, errors, fresh, open_page, state

SAVE_FAILED = (r"^Your latest changes could not be saved\. The (project 'shop 0'|run|dataset|workspace) .*"
               r"(readonly database|Read-only file system|cannot be created or used).*\.$")


def read_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """From now on the workspace reads but refuses every write, as on a file system remounted read-only."""
    connect = database.connect

    def refusing_writes(path: Path, create: bool = False) -> sqlite3.Connection:
        db = connect(path, create)
        db.execute("PRAGMA query_only = ON")
        return db

    def refused(path: Path, _write: object) -> None:
        raise OSError(errno.EROFS, "Read-only file system", str(path))

    monkeypatch.setattr(database, "connect", refusing_writes)
    monkeypatch.setattr(workspace_module, "connect", refusing_writes)
    monkeypatch.setattr(files, "write_atomic", refused)


@pytest.fixture()
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "workspace"
    monkeypatch.setenv("SEGMENT_STUDIO_HOME", str(folder))
    return folder


def test_a_workspace_that_turns_read_only_keeps_the_session_working_and_saves_once_it_can(
        root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = segment(upload(fresh(), 0), 0)
    project_id = state(at, "project")["id"]
    first_run = state(at, "current_run")

    read_only(monkeypatch)
    open_page(at, "profiles")
    at.text_input(key=f"name-{first_run}-0").set_value("Weekend shoppers").run()
    assert not at.exception
    segment_anyway(at, n_clusters=3)
    at.switch_page("pages/map.py").run()
    # the session goes on in memory: both runs, the name, the map of the new run; one clear message
    assert not at.exception and [run.result.n_segments for run in state(at, "runs")] == [2, 3]
    assert state(at, "current_run") == state(at, "runs")[1].run_id
    named = state(at, "annotations")[first_run]
    assert {int(segment): texts.get("name") for segment, texts in named.items()} == {0: "Weekend shoppers"}
    [said] = errors(at)
    assert re.match(SAVE_FAILED, said), said
    assert "Traceback" not in said and said.count("\n") == 0

    monkeypatch.undo()  # writable again (SEGMENT_STUDIO_HOME is restored too: keep it)
    monkeypatch.setenv("SEGMENT_STUDIO_HOME", str(root))
    stored = Workspace(root).open_project(project_id)  # what was saved before is all there, untouched
    assert [r.n_segments for r in stored.runs()] == [2] and stored.segment_names(1) == {}
    at.run()  # the next script run saves what the session kept: the second run and the name
    at.run()  # the message of the last failure is gone once a save has worked
    assert_clean(at)
    stored = Workspace(root).open_project(project_id)
    assert [r.n_segments for r in stored.runs()] == [2, 3]
    assert stored.segment_names(1) == {0: "Weekend shoppers"}


def segment_anyway(at: AppTest, n_clusters: int) -> AppTest:
    """The fast segmentation of tests/app/test_pages.py, with the save-failure message on screen."""
    at.switch_page(PAGES["segment"]).run()
    at.selectbox(key="seg_model").set_value("tfidf")
    at.selectbox(key="seg_reduce").set_value("pca")
    at.selectbox(key="seg_map").set_value("pca")
    at.number_input(key="seg_param_kmeans_n_clusters").set_value(n_clusters)
    at.button(key="seg_run").click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_a_workspace_folder_that_cannot_be_used_still_lets_the_analyst_work(tmp_path: Path,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "a file").write_text("not a folder")
    monkeypatch.setenv("SEGMENT_STUDIO_HOME", str(tmp_path / "a file" / "workspace"))
    at = AppTest.from_file(str(Path(__file__).resolve().parents[2] / "app.py"), default_timeout=120).run()
    assert not at.exception
    at.switch_page(PAGES["data"]).run()
    at.file_uploader(key="data_upload").set_value(("shop 0.csv", b"customer_id,spend\nA1,10\nA2,20\nA3,5\n",
                                                   "text/csv")).run()
    at.run()
    assert not at.exception and len(state(at, "dataset").table) == 3 and state(at, "project") is None
    said = errors(at)
    assert said and all(re.match(SAVE_FAILED, s) or "cannot be created or used" in s for s in said), said
    assert any("Choose another folder" in s for s in said)
