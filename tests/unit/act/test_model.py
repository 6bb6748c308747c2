"""Saved segmentation models: round trip, consistency, safety against crafted files, movement, the assign CLI."""

from __future__ import annotations

import io
import json
import pickle
import zipfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from segmentation.act.model import (
    FORMAT_VERSION,
    agreement,
    build_model,
    load_model,
    movement,
    reference_rows,
    save_model,
)
from segmentation.cli.act import main_assign
from segmentation.config import ClusterConfig, ReduceConfig, RunConfig, TextConfig
from segmentation.errors import DataError, ModelFileError
from segmentation.ingest.read import load_table
from segmentation.pipeline import run

REPO = Path(__file__).resolve().parents[3]
DATA = Path(__file__).resolve().parents[4] / "shared" / "data"
DEMO = REPO / "assets" / "demo_customers.csv"

TEXT_CONFIG = RunConfig(text=TextConfig(columns=("review",), model="tfidf"),
                        reduce=ReduceConfig(method="pca", map_method="pca"),
                        cluster=ClusterConfig.make("kmeans", n_clusters=5))
FAST = RunConfig(reduce=ReduceConfig(method="pca", map_method="pca"),
                 cluster=ClusterConfig.make("kmeans", n_clusters=5))


@pytest.fixture(scope="module")
def demo():
    dataset = load_table(DEMO)
    return dataset, run(dataset.table, TEXT_CONFIG, digest=dataset.digest)


@pytest.fixture(scope="module")
def demo_model(demo):
    return build_model(demo[1], names={0: "Bargain hunters"})


@pytest.fixture(scope="module")
def mall():
    dataset = load_table(DATA / "mall_customers" / "Mall_Customers.csv")
    return dataset, run(dataset.table, FAST, digest=dataset.digest)


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _members(model_bytes: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(model_bytes)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


# --------------------------------------------------------------------------- round trip and consistency
def test_text_model_reproduces_training_features_and_reloads_identically(demo, demo_model, tmp_path):
    _, result = demo
    # new customers are encoded exactly like the training ones (cleaning, recipe, TF-IDF, blend scales)
    np.testing.assert_allclose(demo_model.transform(result.table), result.features, atol=1e-5)

    path = save_model(result, tmp_path / "demo.segmodel", names={0: "Bargain hunters"})
    loaded = load_model(path)
    before, after = demo_model.assign(result.table), loaded.assign(result.table)
    pd.testing.assert_frame_equal(before, after)
    assert list(after.columns) == ["customer_id", "segment_id", "segment_name", "confidence"]
    assert after.loc[after["segment_id"] == 0, "segment_name"].unique().tolist() == ["Bargain hunters"]
    assert after["confidence"].between(0, 1).all()
    # same model, same bytes: nothing in the file depends on the clock
    assert path.read_bytes() == loaded.to_bytes()


def test_training_customers_get_their_own_segment_back(demo, demo_model, mall):
    scores = agreement(demo_model, demo[1])
    assert scores["assigned"] >= 0.95, scores
    # left out of its own vote, as if new: k-means borders drawn in PCA space do not all survive in the full space
    assert scores["as_new"] >= 0.8, scores
    mall_result = mall[1]
    assert agreement(build_model(mall_result), mall_result)["assigned"] >= 0.95


def test_numeric_only_model_handles_reordered_columns_and_numbers_as_text(mall):
    dataset, result = mall
    model = build_model(result)
    assert model.text_columns == () and model.id_column == "CustomerID"
    expected = model.assign(dataset.table)
    shuffled = dataset.table[list(reversed(dataset.table.columns))].astype(str)  # every cell as text
    shuffled["extra"] = "ignored"
    pd.testing.assert_frame_equal(model.assign(shuffled), expected)
    np.testing.assert_allclose(model.transform(dataset.table), result.features, atol=1e-5)


def test_missing_columns_are_named_with_near_matches(demo_model, demo):
    table = demo[1].table.rename(columns={"total_spend": "Total Spend", "region": "area"}).drop(columns=["review"])
    with pytest.raises(DataError) as error:
        demo_model.assign(table)
    message = str(error.value)
    assert "'total_spend' (did you mean 'Total Spend'?)" in message
    assert "'region'" in message and "'review'" in message


def test_unassigned_neighbourhoods_stay_unassigned(demo):
    _, result = demo
    labels = result.labels.copy()
    labels[labels == 4] = -1  # pretend the smallest segment was noise
    model = build_model(replace(result, labels=labels))
    assigned = model.assign(result.table)
    noise = labels == -1
    assert (assigned["segment_id"].to_numpy()[noise] == -1).mean() >= 0.95
    assert set(assigned.loc[noise, "segment_name"]) <= {"Unassigned", *model.segment_names.values()}
    assert model.segment_name(-1) == "Unassigned"


def test_reference_sample_is_stratified_and_seeded():
    labels = np.array([0] * 9000 + [1] * 900 + [2] * 100)
    rows = reference_rows(labels, 1000, random_state=3)
    counts = np.bincount(labels[rows])
    assert counts[2] == 100  # a small segment keeps all its customers (up to the minimum per segment)
    assert counts[1] == 200 and 850 <= counts[0] <= 950
    np.testing.assert_array_equal(rows, reference_rows(labels, 1000, random_state=3))
    np.testing.assert_array_equal(reference_rows(labels[:50], 1000, 0), np.arange(50))


# --------------------------------------------------------------------------- crafted and damaged files
def test_random_bytes_and_foreign_zips_are_refused(demo_model, tmp_path):
    random_file = tmp_path / "random.segmodel"
    random_file.write_bytes(np.random.default_rng(0).bytes(4096))
    with pytest.raises(ModelFileError, match="not a Segment Studio model"):
        load_model(random_file)
    with pytest.raises(ModelFileError, match="not a Segment Studio model"):
        load_model(_zip({"hello.txt": b"hi"}))
    members = _members(demo_model.to_bytes())
    with pytest.raises(ModelFileError, match="unexpected"):
        load_model(_zip({**members, "payload.pkl": pickle.dumps({"x": 1})}))
    with pytest.raises(ModelFileError, match="does not exist"):
        load_model(tmp_path / "missing.segmodel")
    with pytest.raises(ModelFileError):
        load_model(demo_model.to_bytes()[:5000])  # truncated download


def test_pickled_array_is_refused_without_being_loaded(demo_model):
    members = _members(demo_model.to_bytes())
    arrays = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(members["arrays.npz"])) as archive:
        genuine = {name[:-4]: np.load(io.BytesIO(archive.read(name))) for name in archive.namelist()}
    # an object array is stored with pickle: loading it could run code
    genuine["reference_labels"] = np.array([object()] * len(genuine["reference_labels"]), dtype=object)
    np.savez(arrays, **genuine)
    with pytest.raises(ModelFileError, match="Python objects"):
        load_model(_zip({"manifest.json": members["manifest.json"], "arrays.npz": arrays.getvalue()}))


def test_zip_bombs_and_oversized_members_are_refused(demo_model):
    members = _members(demo_model.to_bytes())
    bomb = _zip({"manifest.json": members["manifest.json"], "arrays.npz": b"\0" * 20_000_000})
    assert len(bomb) < 100_000  # 20 MB of zeros packs into a few kB
    with pytest.raises(ModelFileError, match="allowed"):
        load_model(bomb, max_bytes=5_000_000)
    huge_manifest = _zip({"manifest.json": b" " * 70_000_000, "arrays.npz": members["arrays.npz"]})
    with pytest.raises(ModelFileError, match="allowed"):
        load_model(huge_manifest)


def test_manifest_version_and_consistency_are_checked(demo_model):
    members = _members(demo_model.to_bytes())
    manifest = json.loads(members["manifest.json"])
    newer = dict(manifest, format_version=FORMAT_VERSION + 1)
    with pytest.raises(ModelFileError, match="newer Segment Studio"):
        load_model(_zip({"manifest.json": json.dumps(newer).encode(), "arrays.npz": members["arrays.npz"]}))
    tampered = json.loads(members["manifest.json"])
    tampered["blocks"]["structured"]["dims"] += 3
    with pytest.raises(ModelFileError, match="features"):
        load_model(_zip({"manifest.json": json.dumps(tampered).encode(), "arrays.npz": members["arrays.npz"]}))
    with pytest.raises(ModelFileError, match="manifest"):
        load_model(_zip({"manifest.json": b"{not json", "arrays.npz": members["arrays.npz"]}))


# --------------------------------------------------------------------------- movement
def test_movement_on_a_known_shift():
    previous = [0] * 6 + [1] * 4
    new = [0] * 4 + [1] * 6
    result = movement(previous, new, names={0: "Loyal", 1: "Lapsed"})
    table = result.table.set_index(["from", "to"])["customers"].to_dict()
    assert table == {("Loyal", "Loyal"): 4, ("Loyal", "Lapsed"): 2, ("Lapsed", "Lapsed"): 4}
    assert result.stayed_share == pytest.approx(0.8)
    drift = result.drift.set_index("segment")
    assert drift.loc["Loyal", "share_then"] == 0.6 and drift.loc["Loyal", "share_now"] == 0.4
    assert drift.loc["Lapsed", "change_points"] == pytest.approx(20.0)
    sankey = result.figure.data[0]
    assert sankey.type == "sankey" and sorted(sankey.link.value) == [2, 4, 4]
    assert any("from Loyal to Lapsed" in line for line in result.summary_lines())
    with pytest.raises(DataError, match="same customers"):
        movement([0, 1], [0])


def test_compare_matches_training_ids_or_an_earlier_segment_column(demo, demo_model):
    _, result = demo
    table = result.table
    assigned = demo_model.assign(table)
    by_id = demo_model.compare(table, assigned)
    assert by_id is not None and "customer_id" in by_id.source
    assert by_id.customers == len(table) and by_id.stayed_share >= 0.95

    earlier = table.assign(segment_id=assigned["segment_id"].to_numpy())
    earlier.loc[earlier.index[:100], "segment_id"] = 4  # 100 customers were in segment 5 before
    shifted = demo_model.compare(earlier, assigned)
    assert "segment_id column" in shifted.source
    moved_in = shifted.table[(shifted.table["from"] == "Segment 5") & (shifted.table["to"] != "Segment 5")]
    assert moved_in["customers"].sum() == int((assigned["segment_id"].to_numpy()[:100] != 4).sum())
    assert demo_model.compare(table.drop(columns=["customer_id"]), assigned) is None


# --------------------------------------------------------------------------- CLI
def test_assign_command_writes_assignments_and_movement(demo, tmp_path, capsys):
    _, result = demo
    model_path = save_model(result, tmp_path / "m.segmodel")
    new = tmp_path / "new.csv"
    result.table.head(200).to_csv(new, index=False)
    assert main_assign(["assign", str(model_path), str(new), "--out", str(tmp_path / "out")]) == 0
    assignments = pd.read_csv(tmp_path / "out" / "assignments.csv")
    assert len(assignments) == 200 and {"segment_id", "segment_name", "confidence"} <= set(assignments.columns)
    assert (tmp_path / "out" / "movement.csv").exists() and (tmp_path / "out" / "drift.csv").exists()
    assert "stayed in the same segment" in capsys.readouterr().out

    bad = tmp_path / "bad.csv"
    result.table.head(20).drop(columns=["age"]).to_csv(bad, index=False)
    assert main_assign(["assign", str(model_path), str(bad), "--out", str(tmp_path / "bad")]) == 2
    assert "error:" in capsys.readouterr().err
