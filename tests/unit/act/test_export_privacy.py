"""What leaves the machine in export files: personal data inside free text masked by default, Excel's cell
size reported, formulas neutralised in cells and headers."""

from __future__ import annotations

import io
import json
import re
import warnings
import zipfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from segmentation.act import tables as export
from segmentation.act.bundle import write_run
from segmentation.config import ClusterConfig, ReduceConfig, RunConfig
from segmentation.pipeline import run

EMAIL = "jane.doe@example.com"
PHONE = "+44 20 7946 0958"
LONG = "x" * 40_000


@pytest.fixture(scope="module")
def text_run():
    """24 customers in three segments; a free-text column with an e-mail, a phone number and one 40,000-character
    review; a PII column."""
    rng = np.random.default_rng(1)
    n = 24
    reviews = ["fine"] * n
    reviews[0] = f"Write to {EMAIL} please"
    reviews[1] = f"Call me on {PHONE} after six"
    reviews[2] = LONG
    table = pd.DataFrame({
        "customer_id": [f"C{i:02d}" for i in range(n)],
        "email": [f"person{i}@example.org" for i in range(n)],
        "spend": np.r_[rng.normal(20, 1, 8), rng.normal(60, 1, 8), rng.normal(120, 1, 8)].round(2),
        "visits": np.r_[[1] * 8, [5] * 8, [12] * 8],
        "review": reviews,
    })
    config = RunConfig(reduce=ReduceConfig(method="pca", map_method="pca"),
                       cluster=ClusterConfig.make("kmeans", n_clusters=3))
    config = replace(config, roles=config.roles.from_mapping({"email": "pii", "review": "text"}))
    return run(table, config)


def _cells(data: bytes, fmt: str) -> str:
    """Every cell and header of a customer file, as one text."""
    if fmt == "csv":
        frame = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False)
    elif fmt == "xlsx":
        frame = pd.read_excel(io.BytesIO(data), dtype=str)
    else:
        frame = pd.read_parquet(io.BytesIO(data))
    return " ".join(map(str, frame.columns)) + " " + " ".join(frame.astype(str).to_numpy().ravel())


@pytest.mark.parametrize("fmt", export.FORMATS)
def test_e_mails_and_phones_in_free_text_are_masked_in_every_format_unless_asked_for(text_run, fmt):
    assert export.personal_columns(text_run) == (["email"], ["review"])
    masked = export.labelled_customers(text_run)
    data = export.table_bytes(masked, fmt)
    cells = _cells(data, fmt)
    assert EMAIL not in cells and PHONE not in cells and "@example.org" not in cells
    assert "Write to <EMAIL> please" in cells and "Call me on <PHONE> after six" in cells
    if fmt == "csv":
        assert EMAIL.encode() not in data and b"7946" not in data  # the very bytes, not only a reading of them
    archive = zipfile.ZipFile(io.BytesIO(export.segments_zip_bytes(masked, fmt)))
    for name in archive.namelist():
        assert EMAIL not in _cells(archive.read(name), fmt), name

    unmasked = export.labelled_customers(text_run, include_pii=True)
    cells = _cells(export.table_bytes(unmasked, fmt), fmt)
    assert f"Write to {EMAIL} please" in cells and PHONE in cells and "person0@example.org" in cells
    archive = zipfile.ZipFile(io.BytesIO(export.segments_zip_bytes(unmasked, fmt)))
    assert any(EMAIL in _cells(archive.read(name), fmt) for name in archive.namelist())


def test_write_run_masks_by_default_and_keeps_personal_data_with_the_opt_in(text_run, tmp_path):
    default = write_run(text_run, tmp_path / "default", formats=("csv", "xlsx", "parquet"), segment_zip=True,
                        report=True)
    chosen = write_run(text_run, tmp_path / "chosen", include_pii=True, formats=("csv", "xlsx", "parquet"),
                       segment_zip=True)
    for key, fmt in (("customers", "csv"), ("customers_xlsx", "xlsx"), ("customers_parquet", "parquet")):
        assert EMAIL not in _cells(Path(default[key]).read_bytes(), fmt), key
        assert EMAIL in _cells(Path(chosen[key]).read_bytes(), fmt), key
    with zipfile.ZipFile(default["segments"]) as archive:
        assert not any(EMAIL.encode() in archive.read(name) for name in archive.namelist())
    with zipfile.ZipFile(chosen["segments"]) as archive:
        assert any(EMAIL.encode() in archive.read(name) for name in archive.namelist())
    assert EMAIL not in Path(default["report"]).read_text(encoding="utf-8")


def test_masking_keeps_missing_cells_numbers_and_dtype():
    from segmentation.ingest.privacy import mask_text_column

    column = pd.Series([f"to {EMAIL}", None, "plain", 12345678], name="review")
    assert mask_text_column(column).tolist() == ["to <EMAIL>", None, "plain", 12345678]
    typed = pd.Series([f"{PHONE}", pd.NA], dtype="string")
    out = mask_text_column(typed)
    assert out.dtype == typed.dtype and out.iloc[0] == "<PHONE>" and out.isna().iloc[1]


def test_excel_cells_over_its_limit_are_cut_and_reported(text_run, tmp_path):
    frame = pd.DataFrame({"review": [LONG, "short", "y" * 32_767], "notes": ["z" * 50_000] * 3,
                          "spend": [1.0, 2.0, 3.0]})
    assert export.excel_cut_cells(frame) == {"review": 1, "notes": 3}  # 32,767 characters exactly still fit
    note = export.excel_note(frame)
    assert re.fullmatch(r"Excel holds at most 32,767 characters in a cell, so 4 cell\(s\) were cut to fit \(1 in "
                        r"'review', 3 in 'notes'\); the CSV and Parquet files keep them whole\.", note)
    assert export.excel_note(frame[["spend"]]) is None
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # cut by us, not by openpyxl's warning
        data = export.to_excel_bytes(frame)
    back = pd.read_excel(io.BytesIO(data))
    assert back["review"].str.len().tolist() == [32_767, 5, 32_767]
    assert back["notes"].str.len().eq(32_767).all()

    files = write_run(text_run, tmp_path, formats=("csv", "xlsx"))
    manifest = json.loads(Path(files["manifest"]).read_text())
    assert manifest["excel_cut_cells"] == {"customers.xlsx": {"review": 1}}
    assert any(n.startswith("customers.xlsx: Excel holds at most 32,767 characters in a cell, so 1 cell(s)")
               for n in manifest["notes"])
    assert len(pd.read_csv(files["customers"])["review"].iloc[2]) == 40_000  # CSV keeps it whole
    plain = write_run(text_run, tmp_path / "csv-only")
    assert "excel_cut_cells" not in json.loads(Path(plain["manifest"]).read_text())


def test_formula_like_headers_and_cells_are_neutralised_in_csv_and_excel():
    frame = pd.DataFrame({"=HYPERLINK(\"http://evil.example\")": ["=1+1", "ok"], "@risk": ["-2", "+3"],
                          "-minus": [1.5, 2.5], "\tTabbed": ["\rcr", "fine"]})
    back = pd.read_csv(io.BytesIO(export.to_csv_bytes(frame)), dtype=str, keep_default_na=False)
    assert list(back.columns) == ["'=HYPERLINK(\"http://evil.example\")", "'@risk", "'-minus", "'\tTabbed"]
    assert back.iloc[:, 0].tolist() == ["'=1+1", "ok"] and back["'@risk"].tolist() == ["'-2", "'+3"]
    assert back["'-minus"].tolist() == ["1.5", "2.5"]  # numbers stay numbers
    sheet = openpyxl.load_workbook(io.BytesIO(export.to_excel_bytes(frame)))["customers"]
    cells = [cell for row in sheet.iter_rows() for cell in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    assert [c.value for c in sheet[1]] == ["'=HYPERLINK(\"http://evil.example\")", "'@risk", "'-minus", "'\tTabbed"]
    assert [c.value for c in sheet[2]][:3] == ["'=1+1", "'-2", 1.5]
    assert sheet[2][3].value in ("'\rcr", "'\ncr")  # XML reads a carriage return back as a line feed


def test_the_export_page_gets_the_excel_note_for_excel_only(text_run):
    from types import SimpleNamespace

    from ui import act_view

    customers = export.labelled_customers(text_run)
    run = SimpleNamespace(key="test-export-privacy-note")
    assert act_view.customers_note(run, False, customers, "csv") is None
    assert act_view.customers_note(run, False, customers, "parquet") is None
    note = act_view.customers_note(run, False, customers, "xlsx")
    assert note and re.search(r"1 cell\(s\) were cut to fit \(1 in 'review'\)", note)
