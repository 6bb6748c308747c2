"""The table of themes every file shares (themes.csv beside the per-segment zip, the Excel "Themes" sheet, the
app's download), and where an assignment's customers went theme by theme."""

from __future__ import annotations

import io
import zipfile
from dataclasses import replace

import numpy as np
import openpyxl
import pandas as pd

from segmentation.act.bundle import write_run
from segmentation.act.tables import labelled_customers, run_workbook, to_csv_bytes
from segmentation.act.themes_export import THEME_COLUMNS, assigned_themes, theme_table


def _plain(result):
    """``result`` as a run stored before themes existed."""
    return replace(result, theme_labels=None, theme_confidence=None, theme_parent={}, theme_profiles=())


def test_the_theme_table_has_one_row_per_theme_numbered_as_customers_csv(themed):
    _, result, _ = themed
    names = {0: "Bargain hunters"}
    table = theme_table(result, names)
    assert list(table.columns) == list(THEME_COLUMNS)
    assert table["theme_id"].tolist() == list(range(1, result.n_themes + 1))
    customers = labelled_customers(result, names, with_distance=False)
    inside = customers[customers["theme_id"] > 0]
    counted = inside.groupby(["segment_id", "segment_name", "theme_id", "theme_name"]).size()
    assert {k: int(v) for k, v in counted.items()} == {
        (r.segment_id, r.segment_name, r.theme_id, r.theme_name): r.customers for r in table.itertuples()}
    assert (table.loc[table["segment_id"] == 1, "segment_name"] == "Bargain hunters").all()
    assert np.allclose(table.groupby("segment_id")["share_of_segment"].sum(), 1.0, atol=1e-3)
    assert table["key_phrases"].str.len().gt(0).all() and table["quote"].str.len().gt(0).all()
    assert not table["quote"].str.contains("@").any()   # quotes are masked (no e-mail addresses)


def test_a_run_without_themes_has_an_empty_theme_table_and_no_themes_file(themed, tmp_path):
    _, result, _ = themed
    plain = _plain(result)
    assert theme_table(plain).empty and list(theme_table(plain).columns) == list(THEME_COLUMNS)
    files = write_run(plain, tmp_path, report=False, formats=("csv", "xlsx"), segment_zip=True)
    assert "themes" not in files and not (tmp_path / "themes.csv").exists()
    assert "Themes" not in openpyxl.load_workbook(tmp_path / "customers.xlsx").sheetnames


def test_one_theme_per_segment_writes_themes_csv_but_no_sheet_that_repeats_the_segments(themed, tmp_path):
    _, result, _ = themed
    labels = np.asarray(result.labels)
    one = {int(s): int(s) for s in set(labels.tolist()) - {-1}}
    from segmentation.understand.themes import describe_themes

    flat = replace(result, theme_labels=labels.copy(), theme_parent=one, theme_profiles=describe_themes(
        result.table, result.roles, labels, one, list(result.texts), result.embedding, result.row_ids))
    files = write_run(flat, tmp_path, report=False, formats=("csv", "xlsx"))
    assert len(pd.read_csv(files["themes"])) == result.n_segments
    assert openpyxl.load_workbook(tmp_path / "customers.xlsx").sheetnames == ["Customers", "Segments", "About"]


def test_write_run_writes_themes_csv_beside_the_segment_files_and_a_themes_sheet(themed, tmp_path):
    _, result, _ = themed
    files = write_run(result, tmp_path, report=False, formats=("csv", "xlsx"), segment_zip=True)
    on_disk = pd.read_csv(files["themes"])
    assert list(on_disk.columns) == list(THEME_COLUMNS) and len(on_disk) == result.n_themes
    assert (tmp_path / "themes.csv").read_bytes() == to_csv_bytes(theme_table(result))
    with zipfile.ZipFile(tmp_path / "segments.zip") as archive:   # one file per segment, as before
        assert all(n.startswith(("segment-", "unassigned")) for n in archive.namelist())
    book = openpyxl.load_workbook(tmp_path / "customers.xlsx")
    assert book.sheetnames == ["Customers", "Segments", "Themes", "About"]
    sheet = pd.read_excel(tmp_path / "customers.xlsx", sheet_name="Themes")
    assert sheet["theme_name"].tolist() == on_disk["theme_name"].tolist()
    import json

    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert "themes.csv" in manifest["files"]


def test_theme_files_are_spreadsheet_safe(themed):
    _, result, _ = themed
    profiles = list(result.theme_profiles)
    profiles[0] = replace(profiles[0], name='=HYPERLINK("http://evil.example","x")', quotes=("+1 call now",))
    crafted = replace(result, theme_profiles=tuple(profiles))
    customers = labelled_customers(crafted, with_distance=False)
    text = to_csv_bytes(theme_table(crafted)).decode()
    assert "'=HYPERLINK" in text and "'+1 call now" in text
    sheet = pd.read_excel(io.BytesIO(run_workbook(crafted, customers)), sheet_name="Themes")
    assert sheet.loc[0, "theme_name"].startswith("'=")


def test_assigned_themes_counts_customers_by_segment_and_theme_by_hand():
    assigned = pd.DataFrame({
        "segment_id": [1, 1, 1, 2, -1], "segment_name": ["A", "A", "A", "B", "Unassigned"],
        "confidence": [0.9] * 5, "theme_id": [2, 1, 1, 3, -1],
        "theme_name": ["a two", "a one", "a one", "b one", "Unassigned"],
        "theme_confidence": [0.5, 1.0, 0.8, 0.6, 0.0]})
    table = assigned_themes(assigned)
    assert table[["segment_id", "theme_id", "customers"]].values.tolist() == [[1, 1, 2], [1, 2, 1], [2, 3, 1],
                                                                             [-1, -1, 1]]
    assert table["share"].tolist() == [0.4, 0.2, 0.2, 0.2]
    assert table["median_confidence"].tolist() == [0.9, 0.5, 0.6, 0.0]
    assert assigned_themes(assigned.drop(columns=["theme_id", "theme_name", "theme_confidence"])) is None
