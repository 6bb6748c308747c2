"""Delimited text: encoding, separator and decimal mark decided from the content, ragged rows rejected by line."""

from __future__ import annotations

import pytest

from segmentation.errors import DataError
from segmentation.ingest.delimited import read_delimited


def test_separator_decimal_and_encoding_are_decided_from_the_content() -> None:
    table, log = read_delimited("name;spend\nJosé;12,50\nAnn;3,25\n".encode("cp1252"), "x.csv")
    assert (log.encoding, log.delimiter) == ("cp1252", ";")
    assert table["spend"].tolist() == [12.5, 3.25]
    assert table["name"].tolist() == ["José", "Ann"]
    assert any("decimal comma" in w for w in log.warnings) and any("Windows-1252" in w for w in log.warnings)


def test_choices_override_detection() -> None:
    table, log = read_delimited(b"a|b\n1,5|2\n", "x.csv", encoding="utf-8", delimiter="|", decimal=",")
    assert (log.encoding, log.delimiter) == ("utf-8", "|")
    assert table["a"].tolist() == [1.5] and not any("decimal comma" in w for w in log.warnings)
    dates, _ = read_delimited(b"day\n04/05/2021\n03/02/2021\n", "x.csv", dayfirst=True)
    assert dates["day"].dt.month.tolist() == [5, 2]


def test_rows_of_the_wrong_width_are_rejected_with_their_line() -> None:
    table, log = read_delimited(b"a,b\n1,2\n3,4,5\n6,7\n", "x.csv")
    assert table["a"].tolist() == [1, 6]
    assert log.rows_read == 3 and log.rejected == [(3, "expected 2 fields, found 3", "3,4,5")]


def test_blank_text_is_refused() -> None:
    with pytest.raises(DataError, match=r"'x\.csv' contains only blank lines"):
        read_delimited(b"\n\n  \n", "x.csv")


def test_an_unclosed_quote_is_named_not_taken_for_a_missing_separator() -> None:
    # The quote swallows every later line into one field, so no separator looks consistent any more.
    table, log = read_delimited(b'a;b;c\n1;2;3\n4;"x;5\n6;7;8\n9;10;11\n', "x.csv")
    assert log.delimiter == ";" and table["a"].tolist() == [1]
    assert [(line, reason) for line, reason, _ in log.rejected] == [
        (3, "a quote opened on line 3 is never closed (lines 3-5)")
    ]
    assert not any("No column separator" in w for w in log.warnings)


def test_an_unclosed_quote_on_the_only_row_is_named_in_the_refusal() -> None:
    from segmentation.ingest.read import load_table

    with pytest.raises(DataError, match=r"line 2: a quote opened on line 2 is never closed\. Check"):
        load_table(b'name,age\n"Ann,3\n', name="x.csv")
    with pytest.raises(DataError, match=r"line 2: a quote opened on line 2 is never closed \(lines 2-4\)"):
        load_table(b'a;b;c\n1;"x;2\n3;4;5\n6;7;8\n', name="x.csv")


def test_a_single_column_file_with_an_unclosed_quote_says_where_it_is() -> None:
    _, log = read_delimited(b'note\nfine\n"open\n\nmore\n', "x.csv")
    assert any(w.startswith("No column separator") and "A quote opened on line 3 is never closed" in w
               for w in log.warnings)
