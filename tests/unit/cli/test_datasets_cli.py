"""``python -m segmentation projects datasets|runs|switch|remove-dataset``: the app's datasets and runs per dataset
from the command line."""

import json

import pytest

from segmentation.cli.main import main
from segmentation.ingest.read import load_table
from segmentation.pipeline import StageCache, run
from segmentation.store.workspace import Workspace
from tests.unit.store.test_datasets import FAST, shop_file, survey_file


@pytest.fixture
def workspace(tmp_path):
    workspace = Workspace(tmp_path)
    project = workspace.create_project("Shop")
    shop = load_table(shop_file(), name="shop.csv")
    shop_id = project.add_dataset(shop)
    project.save_run(shop_id, run(shop.table, FAST, digest=shop.digest, cache=StageCache()))
    project.add_dataset(load_table(survey_file(), name="survey.csv"))
    return workspace


def cli(workspace, *args):
    return main(["projects", *args, "--workspace", str(workspace.root)])


def test_datasets_are_listed_with_rows_columns_runs_and_the_active_one(workspace, capsys):
    assert cli(workspace, "datasets", "--project", "shop") == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["ID", "NAME", "ROWS", "COLUMNS", "RUNS", "ADDED", "DIGEST"]
    assert lines[1].split()[:6] == ["*", "1", "shop.csv", "24", "3", "1"]  # the latest run's dataset is active
    assert lines[2].split()[:5] == ["2", "survey.csv", "4", "3", "0"]
    assert cli(workspace, "datasets", "--project", "Shop", "--json") == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(d["name"], d["rows"], d["runs"], d["active"]) for d in listed] == [
        ("shop.csv", 24, 1, True), ("survey.csv", 4, 0, False)]


def test_runs_are_listed_per_dataset_and_switch_changes_what_the_app_opens(workspace, capsys):
    assert cli(workspace, "runs", "--project", "Shop") == 0
    out = capsys.readouterr().out
    assert "Dataset 1: shop.csv (24 rows)" in out and "Dataset 2: survey.csv (4 rows)\n  no runs yet" in out
    assert cli(workspace, "switch", "--project", "Shop", "--dataset", "SURVEY.csv") == 0
    assert capsys.readouterr().out.strip() == "The project 'Shop' now opens on 'survey.csv' (no run yet)."
    assert workspace.open_project("Shop").active() == (2, None)
    assert cli(workspace, "runs", "--project", "Shop", "--dataset", "1", "--json") == 0
    [entry] = json.loads(capsys.readouterr().out)
    assert entry["dataset"]["name"] == "shop.csv" and [r["id"] for r in entry["runs"]] == [1]


def test_unknown_datasets_and_removals_say_what_to_do(workspace, capsys):
    assert cli(workspace, "runs", "--project", "Shop", "--dataset", "orders.csv") == 2
    assert "has no dataset 'orders.csv'. Its datasets: 1: 'shop.csv'; 2: 'survey.csv'." in capsys.readouterr().err
    assert cli(workspace, "remove-dataset", "--project", "Shop", "--dataset", "shop.csv") == 2
    assert "removes it and its 1 run for good. Add --yes to confirm." in capsys.readouterr().err
    assert cli(workspace, "remove-dataset", "--project", "Shop", "--dataset", "shop.csv", "--yes") == 0
    assert "Removed the dataset 'shop.csv' and its runs from 'Shop'" in capsys.readouterr().out
    assert cli(workspace, "remove-dataset", "--project", "Shop", "--dataset", "survey.csv", "--yes") == 2
    assert "is the only one in the project 'Shop' and cannot be removed" in capsys.readouterr().err
    assert [d.name for d in workspace.open_project("Shop").datasets()] == ["survey.csv"]
