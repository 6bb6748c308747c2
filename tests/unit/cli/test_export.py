"""``python -m segmentation export --project P`` gives the files of the app's Export page for a curated run."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from segmentation.cli.main import main
from segmentation.config import ClusterConfig, ReduceConfig, RunConfig
from segmentation.ingest.read import load_table
from segmentation.pipeline import StageCache, run
from segmentation.store.workspace import Workspace

STAMP = re.compile(r"\d{1,2} \w+ \d{4}, \d{2}:\d{2}")
"""The report's "made on" line, the one thing that differs between two exports of the same run."""


def customer_file() -> bytes:
    """60 customers in three clear groups of spend and visits, with an e-mail column (PII)."""
    rng = np.random.default_rng(3)
    centres = [(20, 1), (200, 8), (600, 3)]
    rows = [{"customer_id": f"C{i:03d}", "email": f"c{i}@example.com",
             "spend": round(centres[i % 3][0] + rng.normal(0, 5), 2), "visits": centres[i % 3][1] + i % 2}
            for i in range(60)]
    return pd.DataFrame(rows).to_csv(index=False).encode()


def shop_project(tmp_path: Path) -> tuple[str, Any, str]:
    """(workspace root, project, run id): a project "Shop" with one k-means run of three segments on
    ``customer_file()``, of which the analyst named only the first ("Occasional")."""
    root = str(tmp_path / "workspace")
    dataset = load_table(customer_file(), name="shop.csv")
    config = RunConfig(reduce=ReduceConfig(method="pca", n_components=2, map_method="pca"),
                       cluster=ClusterConfig.make("kmeans", n_clusters=3))
    result = run(dataset.table, config, cache=StageCache())
    project = Workspace(root).create_project("Shop")
    return root, project, project.save_run(project.add_dataset(dataset), result, {0: "Occasional"})


@pytest.fixture
def curated_project(tmp_path: Path) -> tuple[str, str, int]:
    """A project holding one run whose segments 2 and 3 the analyst merged, then named and described."""
    root, project, run_id = shop_project(tmp_path)
    # stored as ui.workspace_sync stores it: the step, plus the app's undo information
    project.set_curation(run_id, [{"kind": "merge", "params": {"segments": [1, 2]},
                                   "mapping": {"-1": None, "0": 0, "1": 1, "2": 1}, "annotations": {}}])
    project.set_segment_text(run_id, 1, name="Big spenders", description="Spend the most, come often.")
    return root, project.id, run_id


def app_export(root: str, project_id: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, bytes]:
    """The Export page's files, made by the functions it calls, after the app opened the project."""
    import ui.workspace_sync as sync
    from ui import act_view
    from ui.state import Studio

    state = Studio({})
    state.set_workspace_root(root)
    monkeypatch.setattr(sync, "studio", lambda: state)
    sync.open_project(project_id)
    shown = state.curated_run()                               # what require_result gives the page
    chosen = act_view.run_export(state, shown)
    customers = act_view.customers_table(chosen, include_pii=False)
    stability = act_view.stability_for_report(state, shown.run_id)
    return {"customers.csv": act_view.customers_file(customers, "csv"),
            "segments.zip": act_view.segments_zip(customers, "csv"),
            "themes.csv": act_view.themes_file(chosen),
            "profiles.csv": act_view.profiles_file(chosen),
            "report.html": act_view.report_file(chosen, stability, state.dataset.name)(),
            "manifest.json": act_view.manifest_file(chosen)}


def test_export_of_a_curated_run_gives_the_app_s_files(curated_project, tmp_path, monkeypatch, capsys) -> None:
    root, project_id, run_id = curated_project
    out = tmp_path / "cli"
    assert main(["export", "--project", "shop", "--out", str(out), "--workspace", root, "--segment-files",
                 "--no-model"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["run"] == run_id and not (out / "model.segmodel").exists()
    app = app_export(root, project_id, monkeypatch)

    customers = pd.read_csv(out / "customers.csv")
    assert sorted(customers["segment_id"].unique()) == [1, 2]            # the merge is applied
    assert set(customers["segment_name"]) == {"Occasional", "Big spenders"}
    assert "email" not in customers.columns
    for name in ("customers.csv", "segments.zip", "profiles.csv"):
        assert (out / name).read_bytes() == app[name], name
    assert "Spend the most, come often." in (out / "profiles.csv").read_text()
    report = (out / "report.html").read_text()
    assert "Big spenders" in report and "shop.csv" in report
    assert STAMP.sub("", report) == STAMP.sub("", app["report.html"].decode())
    cli_manifest = json.loads((out / "manifest.json").read_text())
    app_manifest = json.loads(app["manifest.json"])
    assert set(cli_manifest.pop("files")) >= {"customers.csv", "segments.zip", "report.html"}
    app_manifest.pop("exported_at")
    assert cli_manifest == app_manifest
    assert cli_manifest["notes"][-1] == "Changed by hand after the run: Merged segments 2, 3."


def test_app_and_cli_give_the_same_themes_for_the_same_stored_run(curated_project, tmp_path, monkeypatch,
                                                                    capsys) -> None:
    root, project_id, _ = curated_project
    out = tmp_path / "cli"
    assert main(["export", "--project", "Shop", "--out", str(out), "--workspace", root, "--segment-files",
                 "--no-model", "--no-report"]) == 0
    capsys.readouterr()
    app = app_export(root, project_id, monkeypatch)
    themes = pd.read_csv(out / "themes.csv")
    assert list(themes.columns) == ["segment_id", "segment_name", "theme_id", "theme_name", "customers",
                                    "share_of_segment", "key_phrases", "quote"]
    cli_customers = pd.read_csv(out / "customers.csv")
    app_customers = pd.read_csv(io.BytesIO(app["customers.csv"]))
    for column in ("theme_id", "theme_name"):
        assert cli_customers[column].tolist() == app_customers[column].tolist(), column
    assert sorted(set(cli_customers["theme_id"]) - {-1}) == themes["theme_id"].tolist()
    assert set(themes["segment_name"]) == {"Occasional", "Big spenders"}    # the merge and the names applied
    assert app["themes.csv"] == (out / "themes.csv").read_bytes()


def test_export_refuses_a_curation_that_does_not_fit_the_run(curated_project, tmp_path, capsys) -> None:
    root, project_id, run_id = curated_project
    Workspace(root).open_project(project_id).set_curation(run_id, [{"kind": "merge", "params": {"segments": [0, 7]}}])
    assert main(["export", "--project", "Shop", "--out", str(tmp_path / "out"), "--workspace", root]) == 2
    assert re.search(r"^error: The segment 7 does not exist", capsys.readouterr().err)
