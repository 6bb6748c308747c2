"""Ingestion: every class of messy export loads exactly, loads with a report, or is refused with a clear message."""

from __future__ import annotations

import gzip
import io
import re
import tomllib
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from segmentation.config import APP_MAX_UPLOAD_BYTES, APP_MAX_UPLOAD_MB
from segmentation.errors import ConfigError, DataError
from segmentation.ingest.read import (
    Dataset,
    LoadOptions,
    check_upload_size,
    load_table,
    preview_text,
)
from segmentation.ingest.roles import infer_roles

DATA = Path(__file__).resolve().parents[4] / "shared" / "data"


def load(content: bytes, name: str = "upload.csv", **options: object) -> Dataset:
    dataset = load_table(content, name=name, options=LoadOptions(**options))  # type: ignore[arg-type]
    report = dataset.report
    assert report.rows_read == report.rows_kept + report.rows_rejected
    assert len(dataset.table) == report.rows_kept
    assert isinstance(dataset.table.index, pd.RangeIndex) and dataset.table.index.start == 0
    assert list(report.rejected.columns) == ["line", "reason", "raw"]
    assert all(isinstance(line, str) for line in report.summary_lines())
    return dataset


def warned(dataset: Dataset, pattern: str) -> bool:
    return any(re.search(pattern, w) for w in dataset.report.warnings)


def xlsx_bytes(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.to_excel(buffer, index=False, engine="openpyxl")
    return buffer.getvalue()


def fake_xlsx(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", b'<?xml version="1.0"?><Types/>')
        for name, body in members.items():
            archive.writestr(name, body)
    return buffer.getvalue()


# --------------------------------------------------------------------------------------------------------------------
# Encodings
# --------------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("content", "options", "encoding", "warning"),
    [
        pytest.param("name,city\nJosé,Paris\n".encode(), {}, "utf-8", None, id="utf-8"),
        pytest.param(b"\xef\xbb\xbf" + "name,city\nJosé,Paris\n".encode(), {}, "utf-8-sig", None, id="utf-8-bom"),
        pytest.param(
            "name,city\nJosé,Paris\n".encode("cp1252"), {}, "cp1252", r"not valid UTF-8.*Windows-1252", id="cp1252"
        ),
        pytest.param(
            "name,city\nJosé,Paris\n".encode("latin-1"), {"encoding": "latin-1"}, "latin-1", None, id="override"
        ),
        pytest.param("name,city\nJosé,Paris\n".encode("utf-16"), {}, "utf-16", None, id="utf-16-bom"),
    ],
)
def test_text_is_decoded_deterministically(content: bytes, options: dict, encoding: str, warning: str | None) -> None:
    dataset = load(content, **options)
    assert dataset.report.encoding == encoding
    assert list(dataset.table.columns) == ["name", "city"]
    assert dataset.table.loc[0, "name"] == "José"
    if warning:
        assert warned(dataset, warning)
    else:
        assert not warned(dataset, "UTF-8|mis-decoded")


def test_mojibake_is_flagged_with_advice() -> None:
    dataset = load("name,city\nJosÃ©,Paris\nRenÃ©e,Lyon\n".encode())
    assert warned(dataset, r"Column 'name' looks mis-decoded \('Ã©' in 2 cells\)")
    assert dataset.table.loc[0, "name"] == "JosÃ©"  # reported, never silently "repaired"


def test_forcing_the_wrong_encoding_suggests_utf8() -> None:
    dataset = load("name\nJosé\n".encode(), encoding="cp1252")
    assert warned(dataset, r"mis-decoded.*try encoding utf-8")


def test_undecodable_override_is_refused_with_advice() -> None:
    with pytest.raises(DataError, match=r"cannot be read as utf-8: byte 0xe9 .* Try another encoding"):
        load("name\nJosé\n".encode("cp1252"), encoding="utf-8")


def test_preview_text_shows_the_chosen_encoding() -> None:
    content = "name\nJosé\nZoë\n".encode("cp1252")
    assert preview_text(content, "cp1252", n_lines=2) == "name\nJosé"
    assert "\ufffd" in preview_text(content, "utf-8")
    assert preview_text(gzip.compress(content), "cp1252").splitlines()[-1] == "Zoë"
    with pytest.raises(ConfigError, match="encoding"):
        preview_text(content, "no-such-codec")


# --------------------------------------------------------------------------------------------------------------------
# Delimiters, decimals, quoting
# --------------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "delimiter", "columns"),
    [
        pytest.param("a,b,c\n1,2,3\n4,5,6\n", ",", ["a", "b", "c"], id="comma"),
        pytest.param("a;b;c\n1;2;3\n4;5;6\n", ";", ["a", "b", "c"], id="semicolon"),
        pytest.param("a\tb\tc\n1\t2\t3\n4\t5\t6\n", "\t", ["a", "b", "c"], id="tab"),
        pytest.param("a|b|c\n1|2|3\n4|5|6\n", "|", ["a", "b", "c"], id="pipe"),
        pytest.param("a\tnote\n1\tone, two, three\n2\tfour, five\n", "\t", ["a", "note"], id="tab-with-commas-in-text"),
        pytest.param("a;b\n1,5;2,5\n3,5;4,25\n", ";", ["a", "b"], id="semicolon-beats-decimal-commas"),
    ],
)
def test_delimiter_is_detected_by_consistency(text: str, delimiter: str, columns: list[str]) -> None:
    dataset = load(text.encode())
    assert dataset.report.delimiter == delimiter
    assert list(dataset.table.columns) == columns
    assert dataset.report.rows_kept == 2


def test_single_free_text_column_stays_one_column() -> None:
    text = 'review\n"Great, really great"\nok, fine I guess\nnot bad at all\nthe box was damaged, sadly\n'
    dataset = load(text.encode())
    assert list(dataset.table.columns) == ["review"]
    assert dataset.table["review"].tolist() == [
        "Great, really great",
        "ok, fine I guess",
        "not bad at all",
        "the box was damaged, sadly",
    ]
    assert dataset.report.delimiter is None
    assert warned(dataset, "single column")


def test_delimiter_override_wins() -> None:
    dataset = load(b"a;b,c\n1;2,3\n", delimiter=",")
    assert list(dataset.table.columns) == ["a;b", "c"]
    assert load(b"a\tb\n1\t2\n", delimiter="tab").report.delimiter == "\t"


def test_decimal_comma_and_thousands_separators() -> None:
    text = "id;amount;rate\nA;1.234,50;0,5\nB;12,5;1,25\nC;-3;2\n"
    dataset = load(text.encode())
    table = dataset.table
    assert table["amount"].tolist() == [1234.5, 12.5, -3.0]
    assert table["rate"].tolist() == [0.5, 1.25, 2.0]
    assert warned(dataset, "decimal comma")


def test_thousands_separators_and_currency_with_decimal_point() -> None:
    dataset = load(b'id,amount\nA,"1,234.50"\nB,$12.00\nC,"2,000"\n')
    assert dataset.table["amount"].tolist() == [1234.5, 12.0, 2000.0]


def test_decimal_override() -> None:
    dataset = load(b"x;y\n1,5;a\n2,5;b\n", decimal=".")
    assert dataset.table["x"].tolist() == ["1,5", "2,5"]  # not numbers when the decimal mark is '.'
    assert not warned(dataset, "decimal comma")


def test_quoted_newlines_stay_inside_their_field() -> None:
    dataset = load(b'id,text\n1,"line one\nline two"\n2,plain\n3,"a ""quoted"" word"\n')
    assert dataset.table["text"].tolist() == ["line one\nline two", "plain", 'a "quoted" word']
    assert dataset.report.rows_read == 3


# --------------------------------------------------------------------------------------------------------------------
# Headers and rows
# --------------------------------------------------------------------------------------------------------------------
def test_duplicate_and_blank_headers_are_renamed_visibly() -> None:
    dataset = load(b",x,x, age \n1,2,3,4\n")
    assert list(dataset.table.columns) == ["column_1", "x", "x_2", "age"]
    assert dataset.report.renamed_columns == (("", "column_1"), ("x", "x_2"), (" age ", "age"))
    assert any("renamed to 'x_2'" in line for line in dataset.report.summary_lines())


def test_ragged_rows_are_rejected_with_line_numbers() -> None:
    dataset = load(b"a,b\n1,2\n3,4,5\n\n6\n7,8\n")
    report = dataset.report
    assert (report.rows_read, report.rows_kept, report.rows_rejected) == (4, 2, 2)
    assert report.rejected["line"].tolist() == [3, 5]
    assert report.rejected["raw"].tolist() == ["3,4,5", "6"]
    assert report.rejected["reason"].str.match(r"expected 2 fields, found (3|1)").all()
    assert dataset.table["a"].tolist() == [1, 7]
    assert warned(dataset, r"2 rows do not have 2 fields")


def test_line_numbers_count_quoted_newlines() -> None:
    dataset = load(b'id,text\n1,"two\nlines"\n2,x,extra\n')
    assert dataset.report.rejected["line"].tolist() == [4]


def test_unclosed_quote_is_rejected_not_swallowed_silently() -> None:
    dataset = load(b'a,b\n0,ok\n1,"unclosed\n2,3\n4,5\n')
    assert dataset.table["a"].tolist() == [0]
    assert dataset.report.rejected["line"].tolist() == [3]
    assert dataset.report.rejected["reason"].iloc[0] == "a quote opened on line 3 is never closed (lines 3-5)"
    assert load(b"h,w\nann,5'8\"\nbob,6'\n").table["w"].tolist() == ["5'8\"", "6'"]  # a stray inch mark is fine


def test_lines_of_spaces_are_skipped_and_said() -> None:
    dataset = load(b"a,b\n1,2\n   \n3,4\n")
    assert dataset.report.rows_read == 2 and dataset.report.rows_rejected == 0
    assert warned(dataset, "1 lines containing only spaces were skipped")


def test_trailing_empty_fields_are_not_rejected() -> None:
    dataset = load(b"a,b\n1,2,\n3,4\n")
    assert dataset.report.rows_rejected == 0
    assert dataset.table["b"].tolist() == [2, 4]
    assert warned(dataset, "extra empty fields")


def test_rows_with_only_empty_fields_are_skipped_and_said() -> None:
    dataset = load(b"a,b\n1,2\n,\n3,4\n")
    assert dataset.report.rows_read == 2
    assert warned(dataset, "1 rows with only empty fields were skipped")


def test_no_data_rows_is_refused() -> None:
    with pytest.raises(DataError, match="no rows of data"):
        load(b"a,b,c\n")


def test_every_row_rejected_is_refused_with_the_first_reason() -> None:
    with pytest.raises(DataError, match=r"None of the 2 rows .* line 2: expected 3 fields"):
        load(b"a,b,c\n1,2\n3,4\n", delimiter=",")


# --------------------------------------------------------------------------------------------------------------------
# Types
# --------------------------------------------------------------------------------------------------------------------
def test_leading_zeros_in_ids_postcodes_and_phones_are_kept() -> None:
    text = "customer_id,postcode,phone,amount\n0001,01234,07700900123,5\n0002,02345,07700900124,6\n"
    table = load(text.encode()).table
    assert table["customer_id"].tolist() == ["0001", "0002"]
    assert table["postcode"].tolist() == ["01234", "02345"]
    assert table["phone"].tolist() == ["07700900123", "07700900124"]
    assert table["amount"].dtype == np.int64


def test_integer_identifiers_stay_text_but_measures_become_numbers() -> None:
    table = load(b"CustomerID,Year_Birth,Income\n17850,1957,58138\n13047,1954,\n").table
    assert table["CustomerID"].tolist() == ["17850", "13047"]
    assert table["Year_Birth"].dtype == np.int64  # a year is a number, never a date
    assert table["Income"].dtype == np.float64 and np.isnan(table.loc[1, "Income"])


@pytest.mark.parametrize(
    ("dayfirst", "expected", "ambiguity_warned"),
    [
        (None, ["2020-01-02", "2020-03-04"], True),
        (False, ["2020-01-02", "2020-03-04"], False),
        (True, ["2020-02-01", "2020-04-03"], False),
    ],
)
def test_ambiguous_dates_follow_dayfirst(dayfirst: bool | None, expected: list[str], ambiguity_warned: bool) -> None:
    dataset = load(b"d,x\n01/02/2020,1\n03/04/2020,2\n", dayfirst=dayfirst)
    assert dataset.table["d"].dt.strftime("%Y-%m-%d").tolist() == expected
    assert warned(dataset, "could be day/month or month/day") == ambiguity_warned


def test_unambiguous_dates_decide_the_order_themselves() -> None:
    dataset = load(b"d\n13/02/2020\n01/03/2020\n", dayfirst=False)
    assert dataset.table["d"].dt.strftime("%Y-%m-%d").tolist() == ["2020-02-13", "2020-03-01"]
    assert warned(dataset, "can only be day/month")


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["2021-03-04", "2021-12-31 10:30:00"], ["2021-03-04", "2021-12-31"]),
        (["31-Jul-18", "01-Aug-18"], ["2018-07-31", "2018-08-01"]),
        (["04-09-2012", "21-08-2013"], ["2012-09-04", "2013-08-21"]),
        (["5.1.99", "31.12.99"], ["1999-01-05", "1999-12-31"]),
    ],
)
def test_date_formats(values: list[str], expected: list[str]) -> None:
    table = load(("d\n" + "\n".join(values) + "\n").encode()).table
    assert pd.api.types.is_datetime64_any_dtype(table["d"])
    assert table["d"].dt.strftime("%Y-%m-%d").tolist() == expected


def test_mixed_type_column_is_kept_as_text_with_a_count() -> None:
    dataset = load(b"x,y\n1,a\n2,b\nabc,c\n4,d\n")
    assert dataset.table["x"].tolist() == ["1", "2", "abc", "4"]
    assert dataset.report.unconverted_cells == {"x": 1}
    assert warned(dataset, r"Column 'x' mixes numbers and text: 1 of 4 cells are not numbers \(e\.g\. 'abc'\)")


def test_blank_and_na_cells_in_numbers_are_counted() -> None:
    dataset = load(b"id,total\nA, \nB,3.5\nC,NA\nD,\n")
    assert dataset.table["total"].isna().tolist() == [True, False, True, True]
    assert dataset.report.unconverted_cells == {"total": 2}  # ' ' and 'NA'; the truly empty cell is just missing


def test_text_is_kept_exactly() -> None:
    table = load(b"variation,n\nCharcoal Fabric ,1\n  Walnut,2\n").table
    assert table["variation"].tolist() == ["Charcoal Fabric ", "  Walnut"]


# --------------------------------------------------------------------------------------------------------------------
# Formats decided by content
# --------------------------------------------------------------------------------------------------------------------
def test_gzip_of_csv() -> None:
    dataset = load(gzip.compress(b"a,b\n1,x\n2,y\n"), name="export.csv.gz")
    assert dataset.report.format == "csv (gzip)"
    assert dataset.table["a"].tolist() == [1, 2]


def test_parquet_bytes_round_trip() -> None:
    frame = pd.DataFrame({"id": ["0001", "0002"], "amount": [1.5, 2.5], "n": [1, 2]})
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    dataset = load(buffer.getvalue(), name="data.bin")
    assert dataset.report.format == "parquet"
    pd.testing.assert_frame_equal(dataset.table, frame, check_dtype=False)


def test_gzip_of_parquet() -> None:
    buffer = io.BytesIO()
    pd.DataFrame({"a": [1, 2]}).to_parquet(buffer)
    assert load(gzip.compress(buffer.getvalue())).report.format == "parquet (gzip)"


def test_xlsx_bytes() -> None:
    frame = pd.DataFrame(
        {
            "customer_id": ["0001", "0002", "0003"],
            "amount": [1.5, 2.0, None],
            "visits": [1, 2, 3],
            "joined": pd.to_datetime(["2021-01-05", "2021-02-06", "2021-03-07"]),
            "mixed": [1, "two", 3],
        }
    )
    dataset = load(xlsx_bytes(frame), name="crm.csv")  # the name lies; the content decides
    table = dataset.table
    assert dataset.report.format == "excel"
    assert table["customer_id"].tolist() == ["0001", "0002", "0003"]
    assert table["amount"].iloc[:2].tolist() == [1.5, 2.0] and np.isnan(table["amount"].iloc[2])
    assert table["visits"].dtype == np.int64
    assert pd.api.types.is_datetime64_any_dtype(table["joined"])
    assert table["mixed"].tolist() == ["1", "two", "3"]
    assert dataset.report.unconverted_cells == {"mixed": 1}


def test_xlsx_sheet_choice() -> None:
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        pd.DataFrame({"a": [1]}).to_excel(writer, sheet_name="First", index=False)
        pd.DataFrame({"b": [2, 3]}).to_excel(writer, sheet_name="Second", index=False)
    content = buffer.getvalue()
    assert warned(load(content), "2 sheets; the first \\('First'\\)")
    assert load(content, sheet="Second").table["b"].tolist() == [2, 3]
    with pytest.raises(DataError, match=r"no sheet named 'Third'.*'First', 'Second'"):
        load(content, sheet="Third")


def test_xlsx_name_with_text_content_loads_as_text() -> None:
    dataset = load(b"a,b\n1,2\n", name="report.xlsx")
    assert dataset.report.format == "csv"
    assert dataset.table.shape == (1, 2)


@pytest.mark.parametrize(
    ("content", "pattern"),
    [
        pytest.param(b"", r"^The file is empty\.$", id="empty"),
        pytest.param(b"\n\n  \n", r"only blank lines", id="blank-lines"),
        pytest.param(
            b"\x89PNG\r\n\x1a\n" + bytes(200), r"binary/executable file, not a table .*PNG.*Upload CSV, TSV", id="png"
        ),
        pytest.param(b"\x7fELF\x02\x01\x01" + bytes(300), r"binary/executable file, not a table .*ELF", id="elf"),
        pytest.param(b"MZ\x90\x00\x03" + bytes(300), r"binary/executable file.*Windows executable", id="exe"),
        pytest.param(bytes(range(256)) * 4, r"binary/executable file, not a table\. Upload CSV", id="random-binary"),
        pytest.param(
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500),
            r"old Excel 97-2003 \(\.xls\).*save it as \.xlsx",
            id="xls",
        ),
        pytest.param(b"PAR1garbage", r"cut short", id="truncated-parquet"),
        pytest.param(gzip.compress(gzip.compress(b"a\n1\n")), r"gzipped twice", id="double-gzip"),
        pytest.param(b"\x1f\x8b\x08\x00garbage", r"gzip file is damaged", id="bad-gzip"),
    ],
)
def test_unusable_files_are_refused_with_a_clear_message(content: bytes, pattern: str) -> None:
    with pytest.raises(DataError, match=pattern):
        load_table(content, name="data.csv")


def test_zip_that_is_not_a_workbook_is_refused() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("data.csv", "a,b\n1,2\n")
    with pytest.raises(DataError, match=r"zip archive, not an Excel workbook\. Unzip it"):
        load_table(buffer.getvalue(), name="data.xlsx")


def test_zip_bomb_xlsx_is_refused_before_parsing() -> None:
    bomb = fake_xlsx({"xl/workbook.xml": b"<workbook/>", "xl/worksheets/sheet1.xml": b" " * (30 * 1024 * 1024)})
    assert len(bomb) < 200_000
    with pytest.raises(DataError, match=r"expands .* times.*zip bomb"):
        load_table(bomb, name="bomb.xlsx")


def test_xml_entity_bomb_xlsx_is_refused() -> None:
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
        b"<workbook>&lol2;</workbook>"
    )
    with pytest.raises(DataError, match=r"declares XML entities"):
        load_table(fake_xlsx({"xl/workbook.xml": laughs}), name="lol.xlsx")


# --------------------------------------------------------------------------------------------------------------------
# Sources, options, size limit, digest
# --------------------------------------------------------------------------------------------------------------------
def test_path_source_and_name(tmp_path: Path) -> None:
    path = tmp_path / "customers.csv"
    path.write_bytes(b"a,b\n1,2\n")
    dataset = load_table(path)
    assert dataset.name == "customers.csv"
    assert load_table(str(path)).digest == dataset.digest
    with pytest.raises(DataError, match="There is no file at"):
        load_table(tmp_path / "missing.csv")
    with pytest.raises(DataError, match="is a folder"):
        load_table(tmp_path)


def test_digest_is_stable_and_depends_on_options() -> None:
    content = b"a;b\n1;2\n"
    assert load(content).digest == load(content).digest
    assert load(content).digest != load(content, delimiter=",").digest
    assert re.fullmatch(r"[0-9a-f]{64}", load(content).digest)


@pytest.mark.parametrize(
    ("options", "pattern"),
    [
        ({"encoding": "klingon"}, r"'encoding' option .* Got 'klingon'"),
        ({"delimiter": ";;"}, r"'delimiter' option .* Got ';;'"),
        ({"delimiter": "a"}, r"'delimiter' option"),
        ({"decimal": ";"}, r"'decimal' option must be '\.' or ','"),
    ],
)
def test_invalid_options_are_refused(options: dict, pattern: str) -> None:
    with pytest.raises(ConfigError, match=pattern):
        LoadOptions(**options)


def test_upload_size_limit() -> None:
    check_upload_size(5 * 1024 * 1024)
    with pytest.raises(DataError, match=rf"up to {APP_MAX_UPLOAD_MB} MB.*command line"):
        check_upload_size((APP_MAX_UPLOAD_MB + 1) * 1024 * 1024)
    with pytest.raises(DataError, match="empty"):
        check_upload_size(0)


def test_upload_limit_counts_megabytes_as_streamlits_uploader_does() -> None:
    # Streamlit's uploader turns server.maxUploadSize megabytes into MB × 1000² bytes (outside Windows) and
    # shows "Limit 200MB per file": the app checks and words sizes in the same unit, from the same setting.
    config = tomllib.loads((Path(__file__).resolve().parents[3] / ".streamlit" / "config.toml").read_text())
    assert config["server"]["maxUploadSize"] == APP_MAX_UPLOAD_MB
    assert APP_MAX_UPLOAD_BYTES == APP_MAX_UPLOAD_MB * 1000 * 1000
    check_upload_size(APP_MAX_UPLOAD_BYTES)
    with pytest.raises(DataError, match=rf"^The file is {APP_MAX_UPLOAD_MB}\.1 MB; the app accepts files up to "
                                        rf"{APP_MAX_UPLOAD_MB} MB\."):
        check_upload_size(APP_MAX_UPLOAD_BYTES + 1)
    with pytest.raises(DataError, match=r"^The file is 250\.0 MB"):
        check_upload_size(250 * 1000 * 1000)


def test_header_that_looks_like_data_is_flagged() -> None:
    assert warned(load(b"1,2\n3,4\n"), "looks like data rather than column names")


# --------------------------------------------------------------------------------------------------------------------
# Real exports nobody here wrote
# --------------------------------------------------------------------------------------------------------------------
real = pytest.mark.skipif(not DATA.exists(), reason="shared data folder not available")


@real
def test_mall_customers() -> None:
    dataset = load_table(DATA / "mall_customers" / "Mall_Customers.csv")
    roles = {c: r.role for c, r in infer_roles(dataset.table).items()}
    assert dataset.report.rows_kept == 200
    assert dataset.table["CustomerID"].iloc[0] == "0001"
    assert roles == {
        "CustomerID": "id",
        "Genre": "categorical",
        "Age": "numeric",
        "Annual Income (k$)": "numeric",
        "Spending Score (1-100)": "numeric",
    }


@real
def test_customer_personality_tab_separated() -> None:
    dataset = load_table(DATA / "customer_personality" / "marketing_campaign.csv")
    table = dataset.table
    roles = infer_roles(table)
    assert dataset.report.delimiter == "\t"
    assert table.shape == (2240, 29)
    assert table["Dt_Customer"].iloc[0] == pd.Timestamp("2012-09-04")  # dd-mm-yyyy
    assert roles["Dt_Customer"].role == "date"
    assert roles["Z_CostContact"].role == "ignore" and "same value" in roles["Z_CostContact"].reason
    assert roles["ID"].role == "id"
    assert roles["Year_Birth"].role == "numeric"
    assert int(table["Income"].isna().sum()) == 24


@real
def test_telco_churn_blank_total_charges() -> None:
    dataset = load_table(DATA / "telco_churn" / "WA_Fn-UseC_-Telco-Customer-Churn.csv")
    roles = infer_roles(dataset.table)
    assert dataset.report.rows_kept == 7043
    assert dataset.table["TotalCharges"].dtype == np.float64
    assert int(dataset.table["TotalCharges"].isna().sum()) == 11
    assert dataset.report.unconverted_cells["TotalCharges"] == 11
    assert roles["customerID"].role == "id"
    assert roles["TotalCharges"].role == "numeric"
    assert roles["PhoneService"].role == "categorical"  # 'phone' in the name, Yes/No in the cells
    assert "label" not in {r.role for r in roles.values()}


@real
def test_bank_marketing_semicolons() -> None:
    dataset = load_table(DATA / "bank_marketing" / "bank-full.csv")
    assert dataset.report.delimiter == ";"
    assert dataset.table.shape == (45211, 17)
    assert dataset.table["balance"].dtype == np.int64


@real
def test_womens_clothing_reviews_quoted_newlines() -> None:
    dataset = load_table(DATA / "womens_clothing_reviews" / "Womens Clothing E-Commerce Reviews.csv")
    roles = infer_roles(dataset.table)
    assert dataset.report.rows_read == dataset.report.rows_kept == 23486
    assert dataset.report.renamed_columns == (("", "column_1"),)
    assert roles["Review Text"].role == "text"
    assert roles["Title"].role in ("text", "categorical")
    assert roles["column_1"].role in ("id", "ignore")
    assert int(dataset.table["Review Text"].isna().sum()) == 845


@real
def test_amazon_alexa_tsv_with_bom() -> None:
    dataset = load_table(DATA / "amazon_alexa_reviews" / "amazon_alexa.tsv")
    roles = infer_roles(dataset.table)
    assert dataset.report.encoding == "utf-8-sig"
    assert dataset.report.delimiter == "\t"
    assert dataset.report.rows_kept == 3150
    assert list(dataset.table.columns)[0] == "rating"
    assert roles["verified_reviews"].role == "text"
    assert roles["date"].role == "date"
