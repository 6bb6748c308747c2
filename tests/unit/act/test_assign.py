"""Saved segmentation models: building, encoding new customers as the training ones, assigning, the assign CLI."""

from __future__ import annotations

import re
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from segmentation.act.assign import agreement, build_model, load_model, save_model
from segmentation.cli.act import main_assign
from segmentation.errors import DataError


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
    # segment_id is the segment's number, as in every export: label 0 is segment 1
    assert after.loc[after["segment_id"] == 1, "segment_name"].unique().tolist() == ["Bargain hunters"]
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


def test_old_models_that_spell_number_categories_with_a_decimal_point_still_match():
    from segmentation.act.assign import _spelt_like

    texts = pd.Series(["1", "0", "basic", None, "2"], dtype=object)
    spelt = _spelt_like(texts, ("1.0", "0.0", "basic"))
    assert spelt.tolist()[:3] == ["1.0", "0.0", "basic"] and pd.isna(spelt[3]) and spelt[4] == "2"
    assert _spelt_like(texts, ("1", "0")).tolist()[:2] == ["1", "0"]


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


def test_the_models_summary_names_the_text_model_in_words_and_keeps_the_digest_out(demo, demo_model):
    # issue 15: the Assign page read "embedded with 'tfidf'" and "data digest 62f5b39ac8f4…"
    _, result = demo
    lines = demo_model.summary_lines()
    said = " ".join(lines)
    assert re.search(r"the text in “review” read with word counts \(TF-IDF\)", said), said
    assert "digest" not in said and "tfidf" not in said
    assert demo_model.manifest["training"]["data_digest"] == result.data_digest   # kept in the manifest
