"""Saved models carry the theme level: each reference customer's theme, the theme names and numbers, and new
customers get a segment and a theme (the vote of their nearest references inside their segment)."""

from __future__ import annotations

import copy
import io
import json
import re
import zipfile

import numpy as np
import pandas as pd
import pytest
from sklearn.neighbors import NearestNeighbors

from segmentation.act.assign import SegmentModel, build_model, load_model
from segmentation.act.model_file import FORMAT_VERSION, model_bytes
from segmentation.act.model_schema import check_manifest
from segmentation.act.neighbours import theme_votes
from segmentation.act.tables import labelled_customers
from segmentation.errors import ModelFileError


def _members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _without_themes(model: SegmentModel) -> bytes:
    """The model as a version-1 file, saved before themes existed: no ``themes``, no ``reference_themes``."""
    manifest = copy.deepcopy(dict(model.manifest))
    manifest.pop("themes")
    manifest["format_version"] = 1
    arrays = {k: v for k, v in model.arrays.items() if k != "reference_themes"}
    return model_bytes(manifest, arrays)


# --------------------------------------------------------------------------- the vote, by hand
def test_the_theme_vote_counts_only_neighbours_in_the_customer_s_own_segment():
    reference = np.array([[0.0], [1.0], [2.0], [10.0], [11.0]])
    segments = np.array([0, 0, 0, 1, 1])
    themes = np.array([0, 0, 1, 2, 3])
    index = NearestNeighbors().fit(reference)
    X = np.array([[0.4], [5.2], [3.0], [1.9]])
    got, confidence = theme_votes(index, segments, themes, X, np.array([0, 1, -1, 0]), k=3, floor=1e-6)
    # row 0: neighbours at 0.4, 0.6, 1.6 weigh 2.5, 1.667, 0.625; theme 0 holds the first two
    assert got.tolist() == [0, 2, -1, 1]
    assert confidence[0] == pytest.approx((2.5 + 1 / 0.6) / (2.5 + 1 / 0.6 + 1 / 1.6))
    assert confidence[1] == 1.0       # of its neighbours (at 2, 1 and 10) only the one at 10 is in segment 1
    assert confidence[2] == 0.0       # Unassigned has no theme
    # with the themes given: the share of the vote each given theme got
    _, share = theme_votes(index, segments, themes, X[3:], np.array([0]), k=3, floor=1e-6, given=np.array([0]))
    assert share[0] == pytest.approx((1 / 0.9 + 1 / 1.9) / (1 / 0.1 + 1 / 0.9 + 1 / 1.9))


# --------------------------------------------------------------------------- the saved model
def test_a_saved_model_holds_each_reference_customer_s_theme_and_the_theme_names(themed):
    _, result, demo_model = themed
    assert result.n_themes == 2 * result.n_segments   # two themes inside each segment
    manifest = demo_model.manifest
    assert manifest["format_version"] == FORMAT_VERSION == 2
    assert [t["theme_id"] for t in manifest["themes"]] == [t + 1 for t in sorted(result.theme_parent)]
    assert {t["id"]: t["name"] for t in manifest["themes"]} == result.theme_names() == demo_model.theme_names
    assert sum(t["customers"] for t in manifest["themes"]) == int((np.asarray(result.labels) >= 0).sum())
    assert np.array_equal(demo_model.arrays["reference_themes"], result.theme_labels)
    loaded = load_model(demo_model.to_bytes())
    assert loaded.manifest == demo_model.manifest
    assert np.array_equal(loaded.arrays["reference_themes"], demo_model.arrays["reference_themes"])


def test_assigning_the_training_table_gives_back_the_export_s_themes(themed):
    dataset, result, demo_model = themed
    assigned = load_model(demo_model.to_bytes()).assign(dataset.table, themes=True)
    exported = labelled_customers(result, names={0: "Bargain hunters"})
    assert list(assigned.columns[-3:]) == ["theme_id", "theme_name", "theme_confidence"]
    assert len(assigned) == len(dataset.table)
    same = (assigned["theme_id"].to_numpy() == exported["theme_id"].to_numpy()).mean()
    assert same >= 0.95, same
    assert (assigned["theme_name"] == exported["theme_name"]).mean() >= 0.95
    assert assigned["theme_confidence"].between(0, 1).all()
    # a theme always lies inside the segment it was assigned with
    parent = {t["theme_id"]: t["segment"] + 1 for t in demo_model.manifest["themes"]}
    inside = assigned["theme_id"] > 0
    assert (assigned.loc[inside, "theme_id"].map(parent) == assigned.loc[inside, "segment_id"]).all()
    assert ((assigned["segment_id"] < 0) == (assigned["theme_id"] < 0)).all()


def test_a_new_customer_gets_a_segment_and_a_theme(themed):
    dataset, _, demo_model = themed
    new = dataset.table.iloc[:40].copy()
    new["review"] = new["review"].astype("string") + " thanks"      # not a copy of any training customer
    assigned = demo_model.assign(new, themes=True)
    assert assigned["theme_id"].gt(0).all() and assigned["theme_name"].str.len().gt(0).all()
    assert assigned["theme_name"].isin(set(demo_model.theme_names.values())).all()


def test_old_model_files_without_themes_still_load_and_assign_segments(themed):
    dataset, _, demo_model = themed
    old = load_model(_without_themes(demo_model))
    assert old.theme_names == {} and "reference_themes" not in old.arrays
    assigned = old.assign(dataset.table.iloc[:50], themes=True)
    assert list(assigned.columns) == ["customer_id", "segment_id", "segment_name", "confidence"]
    with_themes = demo_model.assign(dataset.table.iloc[:50], themes=True)
    assert assigned["segment_id"].tolist() == with_themes["segment_id"].tolist()


def test_a_run_without_themes_saves_a_model_without_them(themed):
    from dataclasses import replace

    _, result, _ = themed
    plain = replace(result, theme_labels=None, theme_confidence=None, theme_parent={}, theme_profiles=())
    model = build_model(plain)
    assert "themes" not in model.manifest and "reference_themes" not in model.arrays
    assert "theme_id" not in model.assign(result.table.iloc[:5], themes=True).columns


# --------------------------------------------------------------------------- the manifest and arrays, checked
@pytest.mark.parametrize(("edit", "message"), [
    (lambda t: t[0].update(theme_id=7), r"'themes\[0\]\.theme_id' must be 1 \(the number of id 0\); got 7"),
    (lambda t: t[1].update(segment=99), r"'themes\[1\]\.segment' must be the id of a segment in 'segments'"),
    (lambda t: t[1].update(id=0, theme_id=1), r"'themes' must list each theme once"),
    (lambda t: t[0].update(name=123), r"'themes\[0\]\.name' must be a text"),
    (lambda t: t[0].update(colour="red"), r"unknown field 'themes\[0\]\.colour'"),
    (lambda t: t[0].pop("segment"), r"lacks 'themes\[0\]\.segment'"),
    (lambda t: t[0].update(id=-1, theme_id=0), r"'themes\[0\]\.id' must be a whole number between 0"),
])
def test_the_manifest_s_themes_are_checked_field_by_field(themed, edit, message):
    demo_model = themed[2]
    manifest = copy.deepcopy(dict(demo_model.manifest))
    edit(manifest["themes"])
    with pytest.raises(ModelFileError, match=message):
        check_manifest(manifest)


def test_a_manifest_listing_too_many_themes_is_refused_before_reading_them(themed):
    demo_model = themed[2]
    manifest = copy.deepcopy(dict(demo_model.manifest))
    manifest["themes"] = [manifest["themes"][0]] * 100_001
    with pytest.raises(ModelFileError, match=r"'themes' must be a list of at most 100,000 item\(s\)"):
        check_manifest(manifest)


def test_reference_themes_must_fit_the_manifest_and_lie_inside_their_segment(themed):
    demo_model = themed[2]
    arrays = dict(demo_model.arrays)
    moved = arrays["reference_themes"].copy()
    other = next(t["id"] for t in demo_model.manifest["themes"] if t["segment"] != arrays["reference_labels"][0])
    moved[0] = other
    with pytest.raises(ModelFileError, match="theme outside their segment"):
        load_model(model_bytes(demo_model.manifest, {**arrays, "reference_themes": moved}))
    unknown = arrays["reference_themes"].copy()
    unknown[0] = 999
    with pytest.raises(ModelFileError, match="themes it does not describe"):
        load_model(model_bytes(demo_model.manifest, {**arrays, "reference_themes": unknown}))
    with pytest.raises(ModelFileError, match=r"array 'reference_themes' has shape \(3,\), but its manifest implies"):
        load_model(model_bytes(demo_model.manifest, {**arrays, "reference_themes": unknown[:3]}))
    without = {k: v for k, v in arrays.items() if k != "reference_themes"}
    with pytest.raises(ModelFileError, match="describes themes without the reference customers' themes"):
        load_model(model_bytes(demo_model.manifest, without))
    members = _members(_without_themes(demo_model))
    manifest = json.loads(members["manifest.json"])
    assert "themes" not in manifest and manifest["format_version"] == 1


# --------------------------------------------------------------------------- scoring files (the Ray engine's path)
def test_scoring_a_folder_writes_themes_and_keeps_rows_in_equal_to_rows_out(themed, tmp_path):
    from segmentation.act.scale import AssignBatch, assign_local, read_assigned

    dataset, _, demo_model = themed
    folder = tmp_path / "in"
    folder.mkdir()
    dataset.table.iloc[:120].to_csv(folder / "a.csv", index=False)
    dataset.table.iloc[120:300].to_csv(folder / "b.csv", index=False)
    summary = assign_local(demo_model, folder, tmp_path / "out", batch_size=50)
    scored = read_assigned(tmp_path / "out")
    assert summary.rows_in == summary.rows_out == len(scored) == 300
    assert list(scored.columns[-3:]) == ["theme_id", "theme_name", "theme_confidence"]
    expected = demo_model.assign(dataset.table.iloc[:300], themes=True)
    assert scored["theme_id"].tolist() == expected["theme_id"].tolist()
    # the Ray worker assigns each batch the same way
    worker = AssignBatch(demo_model.to_bytes())
    batch = worker(dataset.table.iloc[:40])
    assert batch["theme_name"].tolist() == expected["theme_name"].iloc[:40].tolist()


def test_themes_are_added_only_when_asked_for(themed):
    dataset, _, demo_model = themed
    assert list(demo_model.assign(dataset.table.iloc[:5]).columns) == ["customer_id", "segment_id", "segment_name",
                                                                       "confidence"]


def test_a_result_whose_labels_were_changed_without_its_themes_is_saved_without_them(themed):
    from dataclasses import replace

    _, result, _ = themed
    labels = np.asarray(result.labels).copy()
    labels[labels == 4] = 3                       # segment 5 folded into 4 by hand, themes left as they were
    model = build_model(replace(result, labels=labels))
    assert "themes" not in model.manifest and "reference_themes" not in model.arrays


def test_the_assign_command_writes_each_customer_s_theme(themed, tmp_path, capsys):
    from segmentation.cli.act import main_assign

    dataset, _, demo_model = themed
    demo_model.save(tmp_path / "model.segmodel")
    dataset.table.iloc[:60].to_csv(tmp_path / "new.csv", index=False)
    assert main_assign(["assign", str(tmp_path / "model.segmodel"), str(tmp_path / "new.csv"),
                        "--out", str(tmp_path / "out")]) == 0
    written = pd.read_csv(tmp_path / "out" / "assignments.csv")
    assert list(written.columns[-3:]) == ["theme_id", "theme_name", "theme_confidence"] and len(written) == 60
    expected = demo_model.assign(dataset.table.iloc[:60], themes=True)
    assert written["theme_id"].tolist() == expected["theme_id"].tolist()
    assert re.search(r"\d+ of the model's 10 themes received customers", capsys.readouterr().out)


def test_assigning_segments_and_themes_searches_the_references_once(themed, monkeypatch):
    """The theme vote reuses the segment vote's neighbours (the search is nearly all of assigning's time, e.g.
    on each Ray worker); the answer is the same as with two searches."""
    dataset, _, built = themed
    model = load_model(built.to_bytes())
    rows = dataset.table.head(700)
    searched = []
    index = model.neighbour_index()
    real = index.kneighbors
    monkeypatch.setattr(index, "kneighbors", lambda X, n_neighbors: searched.append(len(X)) or real(X, n_neighbors))
    once = model.assign(rows, themes=True)
    assert sum(searched) == len(rows)
    searched.clear()
    segments = model.assign(rows)
    labels = segments["segment_id"].to_numpy() - 1
    themes, confidence = model.vote_themes(model.transform(rows), np.where(labels < 0, -1, labels))
    assert sum(searched) == 2 * len(rows)   # without the shared answers: a search for each vote
    pd.testing.assert_frame_equal(once[segments.columns], segments)
    assert (once["theme_id"].to_numpy() == np.where(themes < 0, -1, themes + 1)).all()
    np.testing.assert_allclose(once["theme_confidence"], np.round(confidence, 4))
