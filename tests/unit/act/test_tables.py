"""Export tables: spreadsheet safety, round trips in CSV, Excel and Parquet, per-segment zip, PII, numbering."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import openpyxl
import pandas as pd
import pytest

from segmentation.act import tables as export
from segmentation.errors import DataError
from segmentation.understand.naming import display_names


def test_neutralise_covers_every_formula_prefix_and_leaves_the_rest():
    for text in ("=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"):
        assert export.neutralise(text) == "'" + text
    assert export.neutralise("plain") == "plain" and export.neutralise(-5) == -5 and export.neutralise(None) is None


def test_csv_round_trip_is_safe_and_keeps_numbers_numeric(small_run):
    customers = export.labelled_customers(small_run)
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


def test_excel_round_trip_has_no_formula_cells(small_run):
    customers = export.labelled_customers(small_run)
    customers.loc[6, "note"] = "bell\x07 inside"  # a control character Excel files cannot hold
    data = export.to_excel_bytes({"customers": customers, "profiles": export.profile_table(small_run)})
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


def test_parquet_round_trip_keeps_values_exactly(small_run):
    customers = export.labelled_customers(small_run, include_pii=True)
    back = pd.read_parquet(io.BytesIO(export.to_parquet_bytes(customers)))
    pd.testing.assert_frame_equal(back, customers, check_dtype=False)
    assert back.loc[0, "note"].startswith("=HYPERLINK")  # Parquet is for data tools: nothing rewritten
    assert "email" in back.columns


def test_segment_ids_are_the_numbers_people_see_and_unassigned_is_minus_one(small_run):
    customers = export.labelled_customers(small_run, names={0: "Big spenders"})
    labels = np.asarray(small_run.labels)
    np.testing.assert_array_equal(customers["segment_id"], np.where(labels < 0, -1, labels + 1))
    assert (customers.loc[customers["segment_id"] == 1, "segment_name"] == "Big spenders").all()
    shown = display_names(small_run.profiles, {0: "Big spenders"})   # unnamed: the suggested name (issue 18)
    assert (customers.loc[customers["segment_id"] == 2, "segment_name"] == shown[1]).all()
    assert (customers.loc[customers["segment_id"] == -1, "segment_name"] == "Unassigned").all()
    profiles = export.profile_table(small_run, names={0: "Big spenders"}).set_index("segment_name")
    assert profiles.loc["Big spenders", "segment_id"] == 1 and profiles.loc[shown[2], "segment_id"] == 3


def test_segment_zip_has_one_file_per_segment_including_unassigned(small_run):
    customers = export.labelled_customers(small_run, names={0: "Big spenders / VIP"})
    archive = zipfile.ZipFile(io.BytesIO(export.segments_zip_bytes(customers, "csv")))
    names = sorted(archive.namelist())
    segments = sorted(set(small_run.labels.tolist()))
    assert len(names) == len(segments) and "unassigned.csv" in names
    assert any(n.startswith("segment-01-big-spenders-vip") for n in names)
    total = 0
    for name in names:
        part = pd.read_csv(archive.open(name))
        assert part["segment_id"].nunique() == 1
        number = int(part["segment_id"].iloc[0])
        assert name == "unassigned.csv" if number == -1 else name.startswith(f"segment-{number:02d}")
        total += len(part)
    assert total == len(customers)
    unassigned = pd.read_csv(archive.open("unassigned.csv"))
    assert unassigned["segment_name"].eq("Unassigned").all() and len(unassigned) == 3


def test_distance_to_centre_is_blank_for_unassigned_and_matches_hand_computation(small_run):
    distance = export.distance_to_centre(small_run)
    assert np.isnan(distance[:3]).all() and (distance[3:] >= 0).all()
    members = np.flatnonzero(small_run.labels == 0)
    Z = small_run.embedding[members].astype(float)
    np.testing.assert_allclose(distance[members], np.linalg.norm(Z - Z.mean(0), axis=1), rtol=1e-6)


def test_excel_refuses_more_rows_than_a_sheet_holds(monkeypatch):
    monkeypatch.setattr(export, "EXCEL_MAX_ROWS", 5)
    with pytest.raises(DataError, match="Excel holds at most"):
        export.to_excel_bytes(pd.DataFrame({"a": range(6)}))


def test_the_run_workbook_has_customers_segments_and_about_sheets_ready_to_read(small_run):
    data = export.run_workbook(small_run, names={0: "Big spenders"})
    book = openpyxl.load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["Customers", "Segments", "About"]
    for sheet in book.worksheets:
        assert sheet.freeze_panes == "A2", sheet.title
        assert all(cell.font.bold for cell in sheet[1]), sheet.title
        widths = {letter: dim.width for letter, dim in sheet.column_dimensions.items()}
        assert len(widths) == sheet.max_column and all(8 <= w <= 60 for w in widths.values()), sheet.title
    customers = book["Customers"]
    header = [c.value for c in customers[1]]
    assert not [c.coordinate for row in customers.iter_rows() for c in row if c.data_type == "f"]
    rows = {r[0].value: r for r in customers.iter_rows(min_row=2)}
    assert rows["C000"][header.index("note")].value.startswith("'=HYPERLINK")   # still neutralised
    assert rows["C001"][header.index("note")].value == "'-5 off next time"
    spend = rows["C004"][header.index("spend")]
    assert isinstance(spend.value, float) and spend.number_format == "#,##0.00"   # money, two decimals
    assert rows["C004"][header.index("segment_confidence")].number_format == "0.0%"
    # a column as wide as its longest cell (within bounds): "segment_name" holds "Big spenders" and the suggested
    # names of the other segments (issue 18)
    letter = openpyxl.utils.get_column_letter(header.index("segment_name") + 1)
    longest = max(len(n) for n in display_names(small_run.profiles, {0: "Big spenders"}).values())
    assert customers.column_dimensions[letter].width == min(max(len("segment_name"), longest), 58) + 2
    segments = pd.read_excel(io.BytesIO(data), sheet_name="Segments")
    assert "Big spenders" in set(segments["segment_name"]) and len(segments) == len(small_run.profiles)
    about = pd.read_excel(io.BytesIO(data), sheet_name="About")
    assert list(about.columns) == ["Topic", "How this run was made"]
    assert "Customers segmented" in set(about["Topic"]) and about["How this run was made"].notna().all()
    assert export.run_workbook(small_run, names={0: "Big spenders"}) == data   # the same run, the same bytes


def test_excel_number_formats_follow_what_a_column_holds():
    frame = pd.DataFrame({"total_spend": [12.5, 1300.0], "orders": [3, 12000], "returns_share": [0.1, 0.25],
                          "age": [31.5, 40.0], "income": [39400.5, 10500.0], "visits_total": [1000.0, 2.0],
                          "region": ["north", "=1+1"],
                          "joined": pd.to_datetime(["2024-01-02", "2024-03-04"])})
    book = openpyxl.load_workbook(io.BytesIO(export.to_excel_bytes(frame)))
    sheet = book["customers"]
    formats = {cell.value: sheet.cell(row=2, column=cell.column).number_format for cell in sheet[1]}
    assert formats == {"total_spend": "#,##0.00", "orders": "#,##0", "returns_share": "0.0%", "age": "General",
                       "income": "#,##0.00", "visits_total": "#,##0", "region": "General",
                       "joined": "yyyy-mm-dd"}
    assert sheet["G3"].value == "'=1+1" and sheet.freeze_panes == "A2"
