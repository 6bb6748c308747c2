"""Themes through the whole library: config, pipeline stage, curation, stored runs and customers.csv."""

import json
import re
import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from segmentation.act.tables import labelled_customers
from segmentation.config import ClusterConfig, ReduceConfig, RunConfig, TextConfig, ThemeConfig
from segmentation.pipeline import StageCache, run
from segmentation.store.workspace import Workspace

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "assets" / "demo_customers.csv"
FAST = RunConfig(text=TextConfig(columns=("review",), model="tfidf", tfidf_dims=16),
                 reduce=ReduceConfig(method="pca", map_method="pca"),
                 cluster=ClusterConfig.make("kmeans", n_clusters=4))


@pytest.fixture(scope="module")
def demo_run():
    from segmentation.ingest.read import load_table

    dataset = load_table(DEMO)
    table = dataset.table.iloc[:300]
    return dataset, table, run(table, FAST, cache=StageCache())


def test_theme_config_round_trips_and_old_configs_load_with_defaults():
    config = FAST.replace(themes=ThemeConfig(detail=0.8, max_unassigned=0.05))
    assert RunConfig.from_json(config.to_json()) == config
    assert config.to_dict()["themes"] == {"detail": 0.8, "max_unassigned": 0.05}
    old = config.to_dict()
    del old["themes"]                                      # a config saved before themes existed
    assert RunConfig.from_dict(old).themes == ThemeConfig()


def test_a_run_has_themes_nested_in_its_segments_with_names(demo_run):
    _, table, result = demo_run
    assert result.n_themes >= result.n_segments and len(result.theme_labels) == len(table)
    for theme, segment in result.theme_parent.items():
        assert set(result.labels[result.theme_labels == theme].tolist()) == {segment}
    np.testing.assert_array_equal(result.theme_labels < 0, result.labels < 0)
    assert [p.theme for p in result.theme_profiles] == sorted(result.theme_parent)
    assert not [p.name for p in result.theme_profiles if p.name.lower().startswith("theme")]   # the demo has text
    assert "themes" in result.timings and result.manifest()["themes"] == result.n_themes
    finer = result.with_themes(1.0)
    assert finer.config.themes.detail == 1.0 and finer.n_themes >= result.n_themes
    np.testing.assert_array_equal(finer.labels, result.labels)


def test_curated_labels_get_their_own_themes(demo_run):
    _, _, result = demo_run
    merged = np.where(result.labels == 1, 0, result.labels)
    curated = result.with_labels(merged)
    assert set(curated.theme_parent.values()) == set(merged.tolist()) - {-1}
    for theme, segment in curated.theme_parent.items():
        assert set(merged[curated.theme_labels == theme].tolist()) == {segment}


def test_max_unassigned_caps_a_density_result_and_gives_the_joined_a_theme(demo_run):
    _, table, _ = demo_run
    density = FAST.replace(cluster=ClusterConfig.make("hdbscan", min_cluster_size=15, min_samples=10))
    free = run(table, density, cache=StageCache())
    assert (free.labels < 0).mean() > 0.5                  # HDBSCAN leaves more than half out
    capped = run(table, density.replace(themes=ThemeConfig(max_unassigned=0.05)), cache=StageCache())
    assert (capped.labels < 0).sum() == int(0.05 * len(table))
    assert any("unassigned customers joined their nearest segment" in n for n in capped.notes)
    np.testing.assert_array_equal(capped.theme_labels < 0, capped.labels < 0)


def test_customers_csv_carries_the_theme_of_each_customer(demo_run):
    _, _, result = demo_run
    customers = labelled_customers(result)
    names = result.theme_names()
    assert customers["theme_id"].tolist() == [t + 1 if t >= 0 else -1 for t in result.theme_labels]
    assert customers["theme_name"].tolist() == [names[t] if t >= 0 else "Unassigned" for t in result.theme_labels]
    position = list(customers.columns).index("segment_confidence")
    assert list(customers.columns)[position + 1:position + 3] == ["theme_id", "theme_name"]


def test_a_stored_run_keeps_its_themes_and_an_old_one_without_themes_still_loads(tmp_path, demo_run):
    dataset, _, result = demo_run
    project = Workspace(tmp_path).create_project("Themes")
    dataset_id = project.add_dataset(dataset)
    run_id = project.save_run(dataset_id, result)
    back = project.load_run(run_id)
    np.testing.assert_array_equal(back.theme_labels, result.theme_labels)
    np.testing.assert_array_equal(back.theme_confidence, result.theme_confidence)
    assert back.theme_parent == result.theme_parent and back.theme_profiles == result.theme_profiles

    # as a run saved before themes: no theme arrays, no theme fields in its details
    [folder] = (project.folder / "runs").iterdir()
    with np.load(folder / "arrays.npz") as archive:
        arrays = {k: archive[k] for k in archive.files if not k.startswith("extra.theme_")}
    np.savez(folder / "arrays.npz", **arrays)
    with sqlite3.connect(project.folder / "project.sqlite") as db:
        details = json.loads(db.execute("SELECT details_json FROM runs WHERE id = ?", (run_id,)).fetchone()[0])
        details["extra"] = {k: v for k, v in details["extra"].items() if not k.startswith("theme_")}
        db.execute("UPDATE runs SET details_json = ? WHERE id = ?", (json.dumps(details), run_id))
    old = Workspace(tmp_path).open_project("Themes").load_run(run_id)
    assert old.theme_labels is None and old.theme_parent == {} and old.theme_profiles == ()
    np.testing.assert_array_equal(old.labels, result.labels)
    customers = labelled_customers(old)
    assert "theme_id" not in customers.columns and isinstance(customers, pd.DataFrame)
    assert old.with_themes(0.5).n_themes == result.n_themes       # themes can be computed for it again


def test_the_command_line_sets_the_theme_detail_and_the_unassigned_cap(tmp_path, capsys):
    from segmentation.cli.main import main

    small = tmp_path / "small.csv"
    pd.read_csv(DEMO, dtype=str).iloc[:300].to_csv(small, index=False)
    code = main(["run", str(small), "--text", "review", "--model", "tfidf", "--reduce", "pca", "--map", "pca",
                 "--algorithm", "hdbscan", "--param", "min_cluster_size=15", "--param", "min_samples=10",
                 "--theme-detail", "0.9", "--max-unassigned", "0.05", "--out", str(tmp_path / "out"), "--quiet"])
    assert code == 0
    config = json.loads((tmp_path / "out" / "config.json").read_text())
    assert config["themes"] == {"detail": 0.9, "max_unassigned": 0.05}
    customers = pd.read_csv(tmp_path / "out" / "customers.csv")
    assert (customers["segment_id"] == -1).sum() == 15 and (customers["theme_id"] == -1).sum() == 15
    assert customers["theme_name"].notna().all()
    assert main(["run", str(small), "--theme-detail", "3", "--out", str(tmp_path / "bad"), "--quiet"]) == 2
    assert re.search(r"The 'detail' setting of ThemeConfig must be between 0 and 1. Got 3", capsys.readouterr().err)
