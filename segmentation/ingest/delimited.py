"""Read delimited text (CSV, TSV, semicolon or pipe separated) into a table of raw strings, then convert it.

The text is decoded deterministically (UTF-8, then Windows-1252, both reported), the separator is chosen from
the content, and every row of the wrong width is rejected with its line number rather than silently dropped.
"""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import numpy as np
import pandas as pd

from segmentation.errors import DataError
from segmentation.ingest.parse import LoadLog, clean_header, convert_table, detect_decimal, warn_if_header_is_data

DELIMITERS: tuple[str, ...] = (",", ";", "\t", "|")
SNIFF_CHARS = 256 * 1024
"""How much of the text decides the separator (and how much the encoding preview shows)."""

_CSV_FIELD_LIMIT = 256 * 1024 * 1024

# A decoded string that shows UTF-8 bytes read as Windows-1252/Latin-1 ("é" -> "Ã©").
_MOJIBAKE = re.compile(
    "[\u00c2\u00c3][\u0080-\u00bf\u20ac\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160"
    "\u2039\u0152\u017d\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a"
    "\u0153\u017e\u0178]|\u00e2\u20ac[\u2122\u0153\u009d\u201d\u201c\u02dc\u00a6\u00a2\u201a]"
)


def read_delimited(
    data: bytes,
    name: str,
    encoding: str | None = None,
    delimiter: str | None = None,
    decimal: str | None = None,
    dayfirst: bool | None = None,
) -> tuple[pd.DataFrame, LoadLog]:
    """The table in ``data`` (text bytes, already decompressed) and a log of what was done to it.

    Each option left ``None`` is decided from the content: ``encoding`` (UTF-8, else Windows-1252),
    ``delimiter`` (one of :data:`DELIMITERS`, or one column), ``decimal`` ("." or ","); ``dayfirst`` decides
    ambiguous dates. ``name`` is used in messages. Raises :class:`DataError` when there is no table to read.
    """
    log = LoadLog()
    text = _decode(data, name, encoding, log)
    if not text.strip():
        raise DataError("The file is empty." if not text else f"{name!r} contains only blank lines; there is no table.")
    unclosed = None
    if delimiter is None:
        delimiter = _sniff_delimiter(text)
        unclosed = _unclosed_quote_line(text[:SNIFF_CHARS]) if delimiter is None else None
        if unclosed is not None and unclosed > 1:
            # The quote swallowed every later line into one field, hiding the separator: look before it.
            before = "".join(io.StringIO(text, newline="").readlines()[: unclosed - 1])
            delimiter = _sniff_delimiter(before)
    log.delimiter = delimiter
    if delimiter is None:
        # One column: parse with a separator that does not occur, so quotes and quoted newlines still work.
        delimiter = next(c for c in "\x1f\x1e\x1d\x1c\x01" if c not in text)
        log.warnings.append(
            "No column separator (comma, semicolon, tab or pipe) was found consistently; "
            "the file was read as a single column. Set the delimiter option if that is wrong."
            + (f" A quote opened on line {unclosed} is never closed; close it if it hides the separator."
               if unclosed else "")
        )
    try:
        header_fields = next(r for r in _records(text[: 4 * SNIFF_CHARS], delimiter) if r)
    except (csv.Error, StopIteration) as exc:
        raise DataError(f"{name!r} has no header row with column names. Add one and upload again.") from exc
    width = len(header_fields)

    parsed = _parse_fast(text, data, log.encoding, delimiter, width)
    arrow = None   # the columns as pyarrow strings, which the conversion reads without a copy per column
    if parsed is None:
        body = _parse_exact(text, name, delimiter, width, log)
    else:
        body, arrow = parsed
        log.rows_read = len(body)
    columns = clean_header(header_fields, log)
    body.columns = columns
    warn_if_header_is_data(header_fields, log)

    # Rows that are all blank (",,,,") carry nothing; they are skipped, counted, and do not count as read.
    # Only rows still blank are looked at in the next column, so a file without such rows costs one column.
    all_blank = np.ones(len(body), dtype=bool)
    for column in columns:
        candidates = np.flatnonzero(all_blank)
        if not len(candidates):
            break
        all_blank[candidates] = (body[column].iloc[candidates].str.strip() == "").to_numpy(dtype=bool)
    n_blank = int(all_blank.sum())
    if n_blank:
        body = body.loc[~all_blank].reset_index(drop=True)
        arrow = None
        log.rows_read -= n_blank
        log.warnings.append(f"{n_blank:,} rows with only empty fields were skipped.")

    point = decimal or detect_decimal(body, delimiter)
    if point == "," and decimal is None:
        log.warnings.append(
            "Numbers use a decimal comma (e.g. '12,50' was read as 12.50). "
            "Set the decimal option to '.' if that is wrong."
        )
    converted = convert_table(body, point, dayfirst, log, arrow=arrow)
    # Every column shares the body's index, so plain arrays need no alignment (10,000 Series cost a second).
    table = pd.DataFrame({column: series.to_numpy() if isinstance(series.dtype, np.dtype) and series.dtype.kind in
                          "biuf" else series for column, series in converted.items()}, index=pd.RangeIndex(len(body)))
    _warn_mojibake(table, data, log)
    return table, log


def _decode(data: bytes, name: str, encoding: str | None, log: LoadLog) -> str:
    """The text of ``data`` in ``encoding``, or in the first of UTF-8 and Windows-1252 that fits (reported)."""
    if encoding is not None:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError as exc:
            raise DataError(
                f"{name!r} cannot be read as {encoding}: byte 0x{data[exc.start]:02x} at position "
                f"{exc.start:,} is not valid there. Try another encoding (utf-8, cp1252 or latin-1)."
            ) from None
        log.encoding = encoding
        return text[1:] if text.startswith("\ufeff") else text
    if data[:3] == b"\xef\xbb\xbf":
        encodings: tuple[str, ...] = ("utf-8-sig",)
    elif data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        encodings = ("utf-16",)
    else:
        encodings = ("utf-8", "cp1252")
    first_error: UnicodeDecodeError | None = None
    for candidate in encodings:
        try:
            text = data.decode(candidate)
        except UnicodeDecodeError as exc:
            first_error = first_error or exc
            continue
        log.encoding = candidate
        if first_error is not None:
            log.warnings.append(
                f"The file is not valid UTF-8 (byte 0x{data[first_error.start]:02x} "
                f"at position {first_error.start:,}); "
                f"it was read as Windows-1252 ({candidate}). If accented letters look wrong, choose the encoding."
            )
        return text
    assert first_error is not None
    raise DataError(
        f"{name!r} is neither UTF-8 nor Windows-1252 text (byte 0x{data[first_error.start]:02x} at position "
        f"{first_error.start:,}). Choose its encoding (for example latin-1) with the encoding option."
    )


def _records(text: str, delimiter: str) -> Any:
    csv.field_size_limit(max(csv.field_size_limit(), _CSV_FIELD_LIMIT))
    return csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quotechar='"', doublequote=True, strict=False)


def _sniff_delimiter(text: str) -> str | None:
    """Pick the separator whose field count agrees with the header on most rows; ``None`` means one column.

    Only comma, semicolon, tab and pipe are candidates, and the header must split
    into at least two fields, so a single free-text column is never split on
    commas inside sentences (nor on letters or spaces, as csv.Sniffer may).
    """
    sample = text[:SNIFF_CHARS]
    truncated = len(text) > len(sample)
    best: tuple[tuple[float, int, int], str] | None = None
    for rank, delimiter in enumerate(DELIMITERS):
        if delimiter not in sample:
            continue
        try:
            counts = [len(r) for r in _records(sample, delimiter) if r]
        except csv.Error:
            continue
        if truncated and len(counts) > 2:
            counts = counts[:-1]  # the last record may be cut in the middle of a quoted field
        if not counts or counts[0] < 2:
            continue
        header, data = counts[0], counts[1:]
        agreement = sum(c == header for c in data) / len(data) if data else 1.0
        if agreement < 0.5:
            continue
        key = (agreement, header, -rank)
        if best is None or key > best[0]:
            best = (key, delimiter)
    return None if best is None else best[1]



def _unclosed_quote_line(text: str) -> int | None:
    """The line of the quote that is never closed, when the text has an odd number of quotes; else ``None``.

    Quotes pair up line after line (a doubled quote inside a field adds two), so the unclosed one is on the last
    line where the running count of quotes turned odd and stayed so to the end.
    """
    odd = False
    opened: int | None = None
    for number, line in enumerate(io.StringIO(text, newline="").readlines(), start=1):
        if line.count('"') % 2:
            odd = not odd
            opened = number if odd else None
    return opened if odd else None


def _parse_fast(text: str, data: bytes, encoding: str | None, delimiter: str, width: int
                ) -> tuple[pd.DataFrame, list[Any]] | None:
    """Parse with pyarrow's multi-threaded reader: the table of strings and its columns as pyarrow large strings.
    None when any row is ragged (the exact parser then reports it)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    if encoding == "utf-8":
        utf8 = data
    elif encoding == "utf-8-sig":
        utf8 = data[3:]
    else:
        utf8 = text.encode("utf-8")
    ragged: list[int | None] = []

    def on_invalid(row: Any) -> str:
        ragged.append(row.number)
        return "skip"

    try:
        table = pacsv.read_csv(
            io.BytesIO(utf8),
            read_options=pacsv.ReadOptions(autogenerate_column_names=True, block_size=16 * 1024 * 1024),
            parse_options=pacsv.ParseOptions(
                delimiter=delimiter,
                quote_char='"',
                double_quote=True,
                newlines_in_values=True,
                ignore_empty_lines=True,
                invalid_row_handler=on_invalid,
            ),
            convert_options=pacsv.ConvertOptions(
                column_types={f"f{i}": pa.string() for i in range(width)},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
                null_values=[],
            ),
        )
    except (pa.ArrowException, ValueError):
        return None  # anything unusual: the exact parser decides and reports
    if ragged or table.num_columns != width or table.num_rows == 0 or utf8.count(b'"') % 2:
        # An odd number of quotes may mean one is never closed: let the exact parser look.
        return None
    # One conversion for the whole table: column by column cost seconds on files with thousands of columns.
    body = table.slice(1).cast(pa.schema([(f"f{i}", pa.large_string()) for i in range(width)]))
    text = pd.StringDtype("pyarrow", na_value=np.nan)  # what .astype("str") gives
    frame = body.to_pandas(types_mapper={pa.large_string(): text}.get)
    frame.columns = range(width)
    return frame, body.columns


def _parse_exact(text: str, name: str, delimiter: str, width: int, log: LoadLog) -> pd.DataFrame:
    """Slower pass with Python's csv module that tracks line numbers: keep rows of the right width, reject others."""
    lines = io.StringIO(text, newline="").readlines()
    kept: list[list[str]] = []
    reader = _records(text, delimiter)
    previous_end = 0
    trimmed = blank = read = 0
    header_seen = False
    last: tuple[int, int, bool] | None = None  # start line, end line, kept? of the last record
    try:
        for record in reader:
            start, end = previous_end + 1, reader.line_num
            previous_end = end
            if not record or (len(record) == 1 and not record[0].strip() and header_seen and width > 1):
                blank += bool(record)
                continue  # a blank line (or one of spaces only) is not a row
            if not header_seen:
                header_seen = True
                continue
            read += 1
            if len(record) == width:
                kept.append(record)
                last = (start, end, True)
                continue
            if len(record) > width and all(not f.strip() for f in record[width:]):
                kept.append(record[:width])  # trailing separators add nothing; no data is lost
                trimmed += 1
                last = (start, end, True)
                continue
            raw = "".join(lines[start - 1 : end]).rstrip("\r\n")
            reason = f"expected {width} fields, found {len(record)}"
            if end > start:
                reason += f" (the row spans lines {start}-{end}; a quote may be unbalanced)"
            log.rejected.append((start, reason, raw))
            last = (start, end, False)
    except csv.Error as exc:
        raise DataError(
            f"{name!r} cannot be parsed as delimited text near line {reader.line_num} ({exc}). "
            "Check the file or set the delimiter."
        ) from exc
    if last is not None and (last[1] > last[0] or not last[2]):
        raw = "".join(lines[last[0] - 1 : last[1]])
        opens_field = re.search(f'(?:^|{re.escape(delimiter)})"', raw) is not None  # not an inch mark: 5'11"
        if raw.count('"') % 2 and opens_field:
            # A quote opened in the last row is never closed: everything after it was swallowed into one field.
            reason = f"a quote opened on line {last[0]} is never closed"
            if last[1] > last[0]:
                reason += f" (lines {last[0]}-{last[1]})"
            if last[2]:
                kept.pop()
            else:
                log.rejected.pop()
            log.rejected.append((last[0], reason, raw.rstrip("\r\n")))
    log.rows_read = read
    if trimmed:
        log.warnings.append(f"{trimmed:,} rows ended with extra empty fields; the empty fields were ignored.")
    if blank:
        log.warnings.append(f"{blank:,} lines containing only spaces were skipped.")
    if log.rejected:
        log.warnings.append(
            f"{len(log.rejected):,} rows do not have {width} fields and were rejected; "
            "see the rejected rows with their line numbers."
        )
    frame = pd.DataFrame(kept, columns=range(width), dtype=object) if kept else pd.DataFrame(columns=range(width))
    return frame.astype("str")



def _warn_mojibake(table: pd.DataFrame, data: bytes, log: LoadLog) -> None:
    """Warn about text columns that show UTF-8 read as another encoding, with advice on how to fix it."""
    for column, dtype in zip(table.columns, table.dtypes):
        if isinstance(dtype, np.dtype) and dtype.kind in "biufcmM":
            continue   # numbers and dates hold no text (a wide file has thousands of such columns)
        series = table[column]
        if not pd.api.types.is_string_dtype(series):
            continue
        hits = series[series.str.contains(_MOJIBAKE.pattern, regex=True, na=False)]
        if hits.empty:
            continue
        example = _MOJIBAKE.search(hits.iloc[0]).group(0)  # type: ignore[union-attr]
        if log.encoding in ("utf-8", "utf-8-sig"):
            advice = "the text was probably converted twice before export; export it again as UTF-8"
        else:
            try:
                data.decode("utf-8")
                advice = "try encoding utf-8"
            except UnicodeDecodeError:
                advice = "the file mixes UTF-8 and another encoding; export it again as UTF-8"
        log.warnings.append(f"Column {column!r} looks mis-decoded ({example!r} in {len(hits):,} cells): {advice}.")

