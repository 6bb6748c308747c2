"""Cells become numbers, dates or text, and headers usable names; every cell not converted is logged."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from segmentation.ingest.parse import (
    LoadLog,
    clean_header,
    convert_excel_column,
    convert_strings,
    convert_table,
    detect_decimal,
    looks_like_identifier,
    parse_numbers,
)


@pytest.mark.parametrize(
    ("decimal", "cells", "expected"),
    [
        (".", ["12.5", "-3", "1e3", "$1,200.50", "€ 7", "abc"], [12.5, -3.0, 1000.0, 1200.5, 7.0, np.nan]),
        (",", ["12,5", "1.234,50 €", "1 234,5", "-0,25", "12.5.1"], [12.5, 1234.5, 1234.5, -0.25, np.nan]),
    ],
)
def test_parse_numbers(decimal: str, cells: list[str], expected: list[float]) -> None:
    parsed = parse_numbers(pd.Series(cells), decimal)
    np.testing.assert_allclose(parsed.to_numpy(), expected)


def test_detect_decimal_counts_cells_that_can_only_be_read_one_way() -> None:
    frame = pd.DataFrame({"a": ["12,50", "3,25", "1.000"], "b": ["x", "y", "z"]})
    assert detect_decimal(frame, ";") == ","
    assert detect_decimal(frame, ",") == "."  # a comma-separated file cannot hold an unquoted decimal comma


def test_convert_strings_to_numbers_dates_or_text() -> None:
    log = LoadLog()
    numbers = convert_strings("spend", pd.Series(["1", " 2 ", "NA", ""]), ".", None, log)
    assert numbers.tolist()[:2] == [1.0, 2.0] and numbers.isna().tolist()[2:] == [True, True]
    assert log.unconverted == {"spend": 1}  # the 'NA' cell; blank cells are simply missing
    dates = convert_strings("day", pd.Series(["04/05/2021", "13/05/2021"]), ".", None, log)
    assert dates.dt.month.tolist() == [5, 5]  # 13/05 can only be day/month, so both are
    ambiguous = convert_strings("day", pd.Series(["04/05/2021", "03/02/2021"]), ".", True, LoadLog())
    assert ambiguous.dt.day.tolist() == [4, 3]
    zip_codes = convert_strings("zip", pd.Series(["01234", "10115"]), ".", None, log)
    assert zip_codes.tolist() == ["01234", "10115"]
    assert any("leading zeros" in w for w in log.warnings)


def test_identifiers_stay_text() -> None:
    assert looks_like_identifier("CustomerID") and looks_like_identifier("postal_code")
    assert looks_like_identifier("account number") and not looks_like_identifier("number of orders")
    assert convert_strings("member_id", pd.Series(["17", "18"]), ".", None, LoadLog()).tolist() == ["17", "18"]


def test_clean_header_renames_blank_and_duplicate_names_visibly() -> None:
    log = LoadLog()
    assert clean_header(["id", "", "id", " name "], log) == ["id", "column_2", "id_2", "name"]
    assert log.renamed == [("", "column_2"), ("id", "id_2"), (" name ", "name")]


def test_convert_excel_column_keeps_typed_cells() -> None:
    log = LoadLog()
    assert convert_excel_column("n", [1, 2.0, None], ".", None, log).tolist()[:2] == [1.0, 2.0]
    assert convert_excel_column("n", [1, 2], ".", None, log).dtype == "int64"
    assert convert_excel_column("phone", [4420123, 4420124], ".", None, log).tolist() == ["4420123", "4420124"]


@pytest.mark.parametrize("decimal", [".", ","])
def test_convert_table_matches_converting_column_by_column(decimal: str) -> None:
    point = "," if decimal == "," else "."
    body = pd.DataFrame({
        "spend": [f"1{point}5", "2", f"-3{point}25"],
        "visits": ["1", "2", "3"],
        "zip": ["01234", "02345", "03456"],  # leading zeros: text, with a warning
        "customer_id": ["7", "8", "9"],  # an identifier: text
        "huge": ["9007199254740993", "1", "2"],  # too long to store exactly: text, with a warning
        "maybe": ["1", "NA", "3"],  # not plain: the column-by-column rules
        "padded": [" 1", "2", "3"],
        "infinite": ["1e400", "1", "2"],
        "name": ["Ann", "Bob", "Cy"],
    }, dtype="str")
    fast_log, slow_log = LoadLog(), LoadLog()
    fast = convert_table(body, decimal, None, fast_log)
    slow = {c: convert_strings(c, body[c], decimal, None, slow_log) for c in body.columns}
    assert list(fast) == list(slow)
    for column in body.columns:
        pd.testing.assert_series_equal(fast[column], slow[column], check_names=False)
    assert fast_log.warnings == slow_log.warnings and fast_log.unconverted == slow_log.unconverted
    assert fast["visits"].dtype == "int64" and fast["spend"].tolist() == [1.5, 2.0, -3.25]


def test_a_file_with_thousands_of_columns_keeps_every_column() -> None:
    from segmentation.ingest.read import load_table

    n_columns = 3_000
    header = ",".join(f"m{j}" for j in range(n_columns))
    rows = [",".join(str((i * n_columns + j) % 97 / 4) for j in range(n_columns)) for i in range(4)]
    dataset = load_table(("\n".join([header, *rows]) + "\n").encode(), name="wide.csv")
    assert dataset.table.shape == (4, n_columns)
    assert list(dataset.table.columns) == [f"m{j}" for j in range(n_columns)]
    assert (dataset.table.dtypes == "float64").all()
    assert dataset.table.loc[2, "m5"] == (2 * n_columns + 5) % 97 / 4
