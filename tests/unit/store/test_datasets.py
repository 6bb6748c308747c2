"""Several datasets in one project: listing them with their runs, switching the active one, removing one, and
finding the project that already holds a file."""

import re

import numpy as np
import pandas as pd
import pytest

from segmentation.config import BlendConfig, ClusterConfig, ReduceConfig, RunConfig, TextConfig
from segmentation.errors import ConfigError, WorkspaceError
from segmentation.ingest.read import load_table
from segmentation.pipeline import StageCache, run
from segmentation.store.datasets import check_overrides, find_dataset, shares_columns
from segmentation.store.workspace import Workspace

FAST = RunConfig(text=TextConfig(columns=()), blend=BlendConfig(0.0), reduce=ReduceConfig(method="none",
                                                                                           map_method="pca"),
                 cluster=ClusterConfig.make("kmeans", n_clusters=2))


def shop_file(offset: float = 0.0) -> bytes:
    """24 customers in two obvious groups (spend around 10 and around 100)."""
    rng = np.random.default_rng(0)
    spend = np.r_[rng.normal(10, 1, 12), rng.normal(100, 1, 12)] + offset
    frame = pd.DataFrame({"customer_id": [f"C{i:02d}" for i in range(24)], "spend": spend.round(2),
                          "orders": [1, 2] * 6 + [9, 8] * 6})
    return frame.to_csv(index=False).encode()


def survey_file() -> bytes:
    return b"respondent,score,answer\nR1,3,good\nR2,5,great\nR3,1,bad\nR4,4,fine\n"


@pytest.fixture
def project(tmp_path):
    """A project with two shop files (the second holding two runs) and a survey with no run."""
    workspace = Workspace(tmp_path)
    project = workspace.create_project("Shop")
    first = load_table(shop_file(), name="shop-march.csv")
    second = load_table(shop_file(5.0), name="shop-april.csv")
    a = project.add_dataset(first)
    b = project.add_dataset(second)
    c = project.add_dataset(load_table(survey_file(), name="survey.csv"))
    cache = StageCache()
    run_a = project.save_run(a, run(first.table, FAST, digest=first.digest, cache=cache))
    runs_b = [project.save_run(b, run(second.table, config, digest=second.digest, cache=cache))
              for config in (FAST, RunConfig(text=FAST.text, blend=FAST.blend, reduce=FAST.reduce,
                                             cluster=ClusterConfig.make("kmeans", n_clusters=3)))]
    return workspace, project, (a, b, c), (run_a, *runs_b)


def test_a_project_lists_its_datasets_with_their_columns_and_runs(project):
    _, stored, (a, b, c), (run_a, run_b1, run_b2) = project
    infos = stored.datasets()
    assert [(d.id, d.name, d.n_rows, d.n_columns, d.n_runs) for d in infos] == [
        (a, "shop-march.csv", 24, 3, 1), (b, "shop-april.csv", 24, 3, 2), (c, "survey.csv", 4, 3, 0)]
    assert infos[2].columns == ("respondent", "score", "answer")
    assert len(infos[0].digest) == 64 and infos[0].created <= infos[1].created
    assert [r.id for r in stored.runs(b)] == [run_b1, run_b2]
    assert [r.id for r in stored.runs(a)] == [run_a] and stored.runs(c) == []
    assert [r.id for r in stored.runs()] == [run_a, run_b1, run_b2]
    with pytest.raises(WorkspaceError, match=r"has no dataset 99\. It may have been deleted"):
        stored.runs(99)


def test_without_a_choice_the_latest_run_and_its_dataset_are_active(project):
    _, stored, (_, b, _), (_, _, run_b2) = project
    assert stored.active() == (b, run_b2)


def test_switching_the_dataset_shows_its_latest_run_or_the_one_asked_for(project):
    workspace, stored, (a, b, c), (run_a, run_b1, _) = project
    assert stored.switch_dataset(a) == run_a
    assert stored.active() == (a, run_a)
    assert stored.switch_dataset(b, run_b1) == run_b1
    assert Workspace(workspace.root).open_project("shop").active() == (b, run_b1)  # kept on disk
    assert stored.switch_dataset(c) is None and stored.active() == (c, None)
    with pytest.raises(WorkspaceError, match=rf"Run {run_a} was not made on dataset {b} .*its runs are \d+, \d+\."):
        stored.switch_dataset(b, run_a)
    with pytest.raises(WorkspaceError, match="has no dataset 42"):
        stored.switch_dataset(42)
    assert stored.active() == (c, None)  # a refused switch changes nothing


def test_switching_keeps_the_rest_of_the_ui_state_and_is_not_a_change(project):
    workspace, stored, (a, _, _), _ = project
    stored.set_ui_state({"page": "map", "choices": {"colour": "spend"}})
    before = workspace.project_info(stored.id).updated
    stored.switch_dataset(a)
    assert stored.ui_state()["page"] == "map" and stored.ui_state()["choices"] == {"colour": "spend"}
    assert workspace.project_info(stored.id).updated == before


def test_removing_a_dataset_takes_its_runs_and_files_and_keeps_the_others(project):
    workspace, stored, (a, b, c), (run_a, run_b1, run_b2) = project
    stored.switch_dataset(a)
    model = stored.save_model_bytes(run_a, "march model", b"model bytes")
    folders_before = {p.name for p in (stored.folder / "runs").iterdir()}
    freed = stored.remove_dataset(a)
    assert freed > 0
    assert [d.id for d in stored.datasets()] == [b, c]
    assert [r.id for r in stored.runs()] == [run_b1, run_b2]
    assert len({p.name for p in (stored.folder / "runs").iterdir()}) == len(folders_before) - 1
    assert len(list((stored.folder / "datasets").iterdir())) == 2
    assert [(m.id, m.run_id) for m in stored.models()] == [(model, None)]  # the model file is kept
    assert stored.active() == (b, run_b2)  # the removed dataset was active: back to the latest run
    assert stored.load_run(run_b1).n_segments == 2  # the other runs still load
    assert workspace.project_info(stored.id).n_datasets == 2


def test_the_only_dataset_cannot_be_removed(project):
    _, stored, (a, b, c), _ = project
    stored.remove_dataset(a)
    stored.remove_dataset(c)
    with pytest.raises(WorkspaceError, match=r"'shop-april\.csv' is the only one in the project 'Shop' and cannot "
                                             r"be removed\. Delete the project instead"):
        stored.remove_dataset(b)
    assert [d.id for d in stored.datasets()] == [b] and len(stored.runs()) == 2
    with pytest.raises(WorkspaceError, match="has no dataset 1"):
        stored.remove_dataset(a)


def test_a_new_file_fits_a_project_when_it_shares_a_column_name(project):
    _, stored, _, _ = project
    assert stored.shares_columns(["Customer_ID ", "country"])  # any case, spaces trimmed
    assert stored.shares_columns(["answer"])
    assert not stored.shares_columns(["sku", "price"])
    assert not shares_columns([], ["spend"])


def test_column_names_of_datasets_kept_before_they_were_recorded_are_read_from_the_table(project):
    _, stored, (a, _, _), _ = project
    with stored._write() as db:  # as an older version stored it: no column names in the load report
        db.execute("UPDATE datasets SET report_json = json_remove(report_json, '$.columns') WHERE id = ?", (a,))
    assert stored.datasets()[0].columns == ("customer_id", "spend", "orders")


def test_the_project_holding_a_file_is_found_by_its_digest(project, tmp_path):
    workspace, stored, (a, _, _), _ = project
    march = load_table(shop_file(), name="shop-march.csv")
    other = workspace.create_project("Other")
    assert find_dataset(workspace, march.digest) == (stored.id, a)
    copy_id = other.add_dataset(march)
    assert find_dataset(workspace, march.digest, prefer=other.id) == (other.id, copy_id)
    assert find_dataset(workspace, march.digest, prefer=stored.id) == (stored.id, a)
    assert find_dataset(workspace, "0" * 64) is None
    assert stored.dataset_by_digest(march.digest) == a and stored.dataset_by_digest("x") is None


def test_role_overrides_are_checked_by_name():
    assert check_overrides({"age": "ignore"}) == {"age": "ignore"}
    with pytest.raises(ConfigError, match=re.escape("The role of column 'age' must be one of")):
        check_overrides({"age": "colour"})
