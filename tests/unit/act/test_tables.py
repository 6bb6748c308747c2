"""Exports: spreadsheet safety, round trips in CSV, Excel and Parquet, per-segment zip, PII, manifest."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from segmentation.act import tables as export
from segmentation.config import ClusterConfig, ReduceConfig, RunConfig
from segmentation.errors import ConfigError, DataError
from segmentation.pipeline import run

FAST = RunConfig(reduce=ReduceConfig(method="pca", map_method="pca"),
                 cluster=ClusterConfig.make("kmeans", n_clusters=3))


def _table() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    n = 36
    notes = ["fine"] * n
    notes[0] = '=HYPERLINK("http://evil.example","click")'
    notes[1] = "-5 off next time"
    notes[2] = "@channel look"
    notes[3] = "\tstarts with a tab"
    notes[4] = "\rstarts with a return"
    notes[5] = "+44 20 7946 0000"
    return pd.DataFrame({
        "customer_id": [f"C{i:03d}" for i in range(n)],
        "email": [f"person{i}@example.com" for i in range(n)],
        "+x": rng.normal(0, 1, n).round(3),  # a numeric column whose header looks like a formula
        "spend": np.r_[rng.normal(20, 2, 12), rng.normal(60, 3, 12), rng.normal(120, 5, 12)].round(2),
        "visits": np.r_[rng.integers(1, 4, 12), rng.integers(5, 9, 12), rng.integers(10, 15, 12)],
        "plan": ["basic", "plus", "pro"] * 12,
        "note": pd.array(notes, dtype="string"),
    })


@pytest.fixture(scope="module")
def result():
    table = _table()
    config = replace(FAST, roles=FAST.roles.from_mapping({"email": "pii", "note": "ignore"}))
    out = run(table, config)
    labels = out.labels.copy()
    labels[:3] = -1  # a few customers fit no segment, as HDBSCAN would leave them
    return replace(out, labels=labels)


def test_neutralise_covers_every_formula_prefix_and_leaves_the_rest():
    for text in ("=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"):
        assert export.neutralise(text) == "'" + text
    assert export.neutralise("plain") == "plain" and export.neutralise(-5) == -5 and export.neutralise(None) is None


def test_csv_round_trip_is_safe_and_keeps_numbers_numeric(result):
    customers = export.labelled_customers(result)
    back = pd.read_csv(io.BytesIO(export.to_csv_bytes(customers)), keep_default_na=False, na_values=[""])
    assert "'+x" in back.columns and "+x" not in back.columns
    notes = back.set_index("customer_id")["note"]
    assert notes["C000"] == '\'=HYPERLINK("http://evil.example","click")'
    assert notes["C001"] == "'-5 off next time" and notes["C005"] == "'+44 20 7946 0000"
    assert notes["C003"] == "'\tstarts with a tab"
    for column in back.select_dtypes(exclude="number").columns:
        assert not back[column].dropna().astype(str).str.startswith(export.FORMULA_PREFIXES).any(), column
    for column in ("'+x", "spend", "visits", "segment_id", "segment_confidence"):
        assert pd.api.types.is_numeric_dtype(back[column]), column
    np.testing.assert_allclose(back["spend"], customers["spend"])
    assert back["segment_name"].tolist() == customers["segment_name"].tolist()
    assert "email" not in back.columns  # PII stays out unless asked for


def test_excel_round_trip_has_no_formula_cells(result):
    customers = export.labelled_customers(result)
    customers.loc[6, "note"] = "bell\x07 inside"  # a control character Excel files cannot hold
    data = export.to_excel_bytes({"customers": customers, "profiles": export.profile_table(result)})
    book = openpyxl.load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["customers", "profiles"]
    sheet = book["customers"]
    cells = [cell for row in sheet.iter_rows() for cell in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    header = [c.value for c in sheet[1]]
    assert "'+x" in header
    rows = {r[0]: r for r in sheet.iter_rows(min_row=2, values_only=True)}
    note, spend = header.index("note"), header.index("spend")
    assert rows["C000"][note].startswith("'=HYPERLINK")
    assert rows["C006"][note] == "bell inside"
    assert isinstance(rows["C000"][spend], float)
    back = pd.read_excel(io.BytesIO(data), sheet_name="customers")
    expected = export.spreadsheet_safe(customers)
    np.testing.assert_allclose(back["spend"], expected["spend"])
    assert back["segment_id"].tolist() == expected["segment_id"].tolist()


def test_parquet_round_trip_keeps_values_exactly(result):
    customers = export.labelled_customers(result, include_pii=True)
    back = pd.read_parquet(io.BytesIO(export.to_parquet_bytes(customers)))
    pd.testing.assert_frame_equal(back, customers, check_dtype=False)
    assert back.loc[0, "note"].startswith("=HYPERLINK")  # Parquet is for data tools: nothing rewritten
    assert "email" in back.columns


def test_segment_zip_has_one_file_per_segment_including_unassigned(result):
    customers = export.labelled_customers(result, names={0: "Big spenders / VIP"})
    archive = zipfile.ZipFile(io.BytesIO(export.segments_zip_bytes(customers, "csv")))
    names = sorted(archive.namelist())
    segments = sorted(set(result.labels.tolist()))
    assert len(names) == len(segments) and "unassigned.csv" in names
    assert any(n.startswith("segment-01-big-spenders-vip") for n in names)
    total = 0
    for name in names:
        part = pd.read_csv(archive.open(name))
        assert part["segment_id"].nunique() == 1
        total += len(part)
    assert total == len(customers)
    unassigned = pd.read_csv(archive.open("unassigned.csv"))
    assert unassigned["segment_name"].eq("Unassigned").all() and len(unassigned) == 3


def test_distance_to_centre_is_blank_for_unassigned_and_matches_hand_computation(result):
    distance = export.distance_to_centre(result)
    assert np.isnan(distance[:3]).all() and (distance[3:] >= 0).all()
    members = np.flatnonzero(result.labels == 0)
    Z = result.embedding[members].astype(float)
    np.testing.assert_allclose(distance[members], np.linalg.norm(Z - Z.mean(0), axis=1), rtol=1e-6)


def test_write_run_writes_every_file_and_an_auditable_manifest(result, tmp_path):
    files = export.write_run(result, tmp_path, names={1: "Regulars"}, formats=("csv", "xlsx", "parquet"),
                             segment_zip=True)
    for key in ("customers", "profiles", "customers_xlsx", "customers_parquet", "segments", "manifest"):
        assert Path(files[key]).exists(), key
    manifest = json.loads(Path(files["manifest"]).read_text())
    versions = manifest["library_versions"]
    assert versions["pandas"] == pd.__version__ and versions["numpy"] == np.__version__
    assert {"scikit-learn", "umap-learn", "hdbscan", "sentence-transformers"} <= set(versions)
    assert manifest["seeds"]["random_state"] == result.config.random_state
    counts = manifest["row_counts"]
    assert counts["customers"] == 36 and counts["unassigned"] == 3
    assert sum(counts["per_segment"].values()) == 36 and "Regulars" in counts["per_segment"]
    assert RunConfig.from_dict(manifest["config"]) == result.config  # the full config: the run can be repeated
    digest = hashlib.sha256(Path(files["customers"]).read_bytes()).hexdigest()
    assert manifest["files"]["customers.csv"] == digest
    again = export.write_run(result, tmp_path / "again", names={1: "Regulars"}, formats=("csv", "xlsx", "parquet"),
                             segment_zip=True)
    assert Path(again["manifest"]).read_bytes() == Path(files["manifest"]).read_bytes()  # no clock in it
    with pytest.raises(ConfigError, match="export format"):
        export.write_run(result, tmp_path / "x", formats=("docx",))


def test_excel_refuses_more_rows_than_a_sheet_holds(monkeypatch):
    monkeypatch.setattr(export, "EXCEL_MAX_ROWS", 5)
    with pytest.raises(DataError, match="Excel holds at most"):
        export.to_excel_bytes(pd.DataFrame({"a": range(6)}))
