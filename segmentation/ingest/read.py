"""Load customer tables from messy exports without losing data silently.

Every file either loads exactly, loads with a report of every change, or is
refused with a message that says what to do. The format is decided from the
content (never the file name), text is decoded deterministically (UTF-8, then
Windows-1252, both reported), and every row that cannot be used is kept in the
report with its line number. This module decides the format, guards against
decompression bombs and reads Parquet and Excel; delimited text is read in
``delimited`` and cells become numbers and dates in ``parse``.
"""

from __future__ import annotations

import codecs
import hashlib
import io
import json
import math
import os
import re
import unicodedata
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from segmentation.config import APP_MAX_UPLOAD_BYTES, APP_MAX_UPLOAD_MB
from segmentation.errors import ConfigError, DataError
from segmentation.ingest.delimited import SNIFF_CHARS, read_delimited
from segmentation.ingest.parse import LoadLog, clean_header, convert_excel_column, excel_header_text, is_blank_cell
from segmentation.ingest.unpack import check_parquet, check_xlsx, gunzip, gunzip_head

SUPPORTED_FORMATS = "Upload CSV, TSV, Excel (.xlsx) or Parquet."

MAX_NAME_CHARACTERS = 80
"""A name derived from a file name is cut to this many characters (the extension kept)."""

# Characters that move, hide or break text: C0/C1 controls, line and paragraph separators, bidirectional
# overrides and isolates (which can make "gpj.csv" look like "vsc.jpg"), zero-width spaces and the byte-order mark.
_UNSAFE_NAME_CHARACTERS = re.compile(
    r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff\s]+"
)

_EMPTY_REJECTED = ("line", "reason", "raw")

_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x7fELF", "an ELF executable"),
    (b"MZ", "a Windows executable"),
    (b"\xcf\xfa\xed\xfe", "a macOS executable"),
    (b"\xce\xfa\xed\xfe", "a macOS executable"),
    (b"\xfe\xed\xfa\xcf", "a macOS executable"),
    (b"\xca\xfe\xba\xbe", "a Java class or macOS executable"),
    (b"\x00asm", "a WebAssembly module"),
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"%PDF", "a PDF document"),
    (b"Rar!", "a RAR archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"BZh", "a bzip2 archive"),
    (b"\xfd7zXZ\x00", "an xz archive"),
    (b"SQLite format 3\x00", "an SQLite database"),
    (b"ID3", "an MP3 file"),
    (b"\x1a\x45\xdf\xa3", "a video file"),
    (b"RIFF", "a media file"),
)


# --------------------------------------------------------------------------------------------------------------------
# Public types
# --------------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LoadOptions:
    """The analyst's overrides for reading a file; ``None`` everywhere means "decide from the content".

    ``encoding`` is any Python codec name ("utf-8", "cp1252", "latin-1", ...). ``delimiter``
    is one character (use "\\t" or "tab" for tab). ``decimal`` is "." or ",". ``dayfirst``
    decides dates such as 04/05/2021 that could be read either way. ``sheet`` names
    the Excel sheet to read (the first one when ``None``).
    """

    encoding: str | None = None
    delimiter: str | None = None
    decimal: str | None = None
    dayfirst: bool | None = None
    sheet: str | None = None

    def __post_init__(self) -> None:
        if self.encoding is not None:
            try:
                codecs.lookup(self.encoding)
            except LookupError:
                raise ConfigError(
                    f"The 'encoding' option must name a text encoding such as 'utf-8', 'cp1252' or 'latin-1'. "
                    f"Got {self.encoding!r} instead."
                ) from None
        if self.delimiter is not None:
            delimiter = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "pipe": "|"}.get(
                self.delimiter.lower(), self.delimiter
            )
            if len(delimiter) != 1 or delimiter in '"\r\n' or delimiter.isalnum():
                raise ConfigError(
                    "The 'delimiter' option must be one separator character such as ',', ';', '|' or 'tab'. "
                    f"Got {self.delimiter!r} instead."
                )
            object.__setattr__(self, "delimiter", delimiter)
        if self.decimal is not None and self.decimal not in (".", ","):
            raise ConfigError(f"The 'decimal' option must be '.' or ','. Got {self.decimal!r} instead.")


@dataclass(frozen=True, eq=False)  # holds DataFrames: compared and hashed by identity
class LoadReport:
    """What the loader did to the file: every row rejected and every cell not converted is counted here."""

    format: str
    encoding: str | None
    delimiter: str | None
    rows_read: int
    rows_kept: int
    rows_rejected: int
    rejected: pd.DataFrame
    renamed_columns: tuple[tuple[str, str], ...]
    unconverted_cells: dict[str, int]
    warnings: tuple[str, ...]

    def summary_lines(self) -> list[str]:
        """Plain sentences for the CLI and the app, most important first."""
        separator = {None: None, "\t": "tab", ",": "comma", ";": "semicolon", "|": "pipe"}.get(
            self.delimiter, repr(self.delimiter)
        )
        how = f"Read as {self.format}"
        if self.encoding:
            how += f", encoding {self.encoding}"
        if separator:
            how += f", separated by {separator}"
        lines = [how + "."]
        lines.append(f"{self.rows_read:,} rows read, {self.rows_kept:,} kept, {self.rows_rejected:,} rejected.")
        if self.rows_rejected:
            first = self.rejected.iloc[0]
            lines.append(
                "Rejected rows are listed with their line numbers; "
                f"the first is line {int(first['line'])}: {first['reason']}."
            )
        for old, new in self.renamed_columns:
            lines.append(f"Column {old!r} was renamed to {new!r}.")
        lines.extend(self.warnings)  # every unconverted cell count has its own warning sentence
        return lines


@dataclass(frozen=True, eq=False)  # holds DataFrames: compared and hashed by identity
class Dataset:
    """A loaded table (row order kept, clean RangeIndex), its name, a stable digest and the load report."""

    table: pd.DataFrame
    name: str
    digest: str
    report: LoadReport


# --------------------------------------------------------------------------------------------------------------------
# Public functions
# --------------------------------------------------------------------------------------------------------------------
def check_upload_size(n_bytes: int) -> None:
    """Refuse uploads above :data:`APP_MAX_UPLOAD_BYTES` (megabytes of 1,000,000 bytes, as Streamlit's uploader
    counts them); the command line handles larger files."""
    if n_bytes <= 0:
        raise DataError("The file is empty.")
    if n_bytes > APP_MAX_UPLOAD_BYTES:
        size = f"{math.ceil(n_bytes / 100_000) / 10:,.1f}"  # rounded up: never shown as equal to the limit
        raise DataError(
            f"The file is {size} MB; the app accepts files up to {APP_MAX_UPLOAD_MB} MB. "
            "Upload a sample, or run the command line (python -m segmentation run FILE), which has no size limit."
        )


def display_name(file_name: str, fallback: str = "data") -> str:
    """A name to show and store for a file: ``file_name`` cleaned, never refused.

    File names come from the analyst's disk or browser and may hold anything: the folder part (before the last
    ``/`` or ``\\``, unless the name holds a web address) is dropped, line breaks, tabs, other control and
    invisible characters and runs of spaces become one space, and a name longer than :data:`MAX_NAME_CHARACTERS`
    is shortened with "…" before its extension, which stays. ``fallback`` is used when nothing is left. Names the
    analyst types (project names) are validated instead, with a message.
    """
    text = unicodedata.normalize("NFC", str(file_name))
    if "://" not in text:  # "[click](http://x).csv" is a name that holds a web address, not a folder
        text = re.split(r"[/\\]", text)[-1]
    text = _UNSAFE_NAME_CHARACTERS.sub(" ", text).strip()
    if not text:
        return fallback
    if len(text) > MAX_NAME_CHARACTERS:
        found = re.search(r"(?:\.[A-Za-z0-9]{1,8}){1,2}$", text)  # ".csv", ".csv.gz"
        extension = found.group(0) if found else ""
        keep = MAX_NAME_CHARACTERS - len(extension) - 1
        text = text[: len(text) - len(extension)][:keep].rstrip() + "…" + extension
    return text


def preview_text(source: bytes, encoding: str, n_lines: int = 20) -> str:
    """The first ``n_lines`` lines of ``source`` decoded with ``encoding``, for a live encoding preview.

    Undecodable bytes show as the replacement character, so the analyst sees which
    encoding makes accented letters right. Gzip input is decompressed first.
    """
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise ConfigError(
            f"The encoding must be a text encoding such as 'utf-8', 'cp1252' or 'latin-1'. Got {encoding!r} instead."
        ) from None
    head = bytes(source[: 4 * SNIFF_CHARS])
    if head[:2] == b"\x1f\x8b":
        head = gunzip_head(bytes(source), limit=SNIFF_CHARS)
    text = head.decode(encoding, errors="replace")
    if text.startswith("\ufeff"):
        text = text[1:]
    return "\n".join(text.splitlines()[: max(n_lines, 0)])


def load_table(
    source: bytes | str | os.PathLike[str], name: str | None = None, options: LoadOptions | None = None
) -> Dataset:
    """Read a customer table from bytes or a path, deciding the format from the content.

    Accepts Parquet, Excel (.xlsx), delimited text (comma, semicolon, tab, pipe) and
    gzip of any of these. Raises :class:`DataError` with a message that says what to
    do when the file cannot be used; otherwise every change (renamed columns,
    rejected rows, cells kept as text) is listed in ``Dataset.report``. ``name``
    (by default the file's name) is cleaned with :func:`display_name`.
    Compressed input is inflated under the budget of :mod:`segmentation.ingest.unpack`.
    """
    options = options or LoadOptions()
    raw, default_name = _read_source(source)
    name = display_name(name or default_name)
    if not raw:
        raise DataError("The file is empty.")
    digest = hashlib.sha256(raw).hexdigest()
    if options != LoadOptions():
        digest = hashlib.sha256((digest + json.dumps(asdict(options), sort_keys=True)).encode()).hexdigest()

    data, suffix = raw, ""
    if raw[:2] == b"\x1f\x8b":
        data, suffix = gunzip(raw, name), " (gzip)"
        if not data:
            raise DataError(f"{name!r} is an empty gzip archive; there is no table inside.")
        if data[:2] == b"\x1f\x8b":
            raise DataError(f"{name!r} is gzipped twice. Decompress it once and upload the result.")

    kind = _sniff_format(data, name)
    if kind == "parquet":
        table, log = _read_parquet(data, name)
    elif kind == "excel":
        table, log = _read_excel(data, name, options)
    else:
        table, log = read_delimited(
            data, name, options.encoding, options.delimiter, options.decimal, options.dayfirst
        )

    log.format = kind + suffix
    report = _report(log)
    if report.rows_kept == 0:
        if report.rows_rejected:
            first = report.rejected.iloc[0]
            raise DataError(
                f"None of the {report.rows_read:,} rows of {name!r} could be read; line {int(first['line'])}: "
                f"{first['reason']}. Check the separator (set the delimiter option) or fix the file."
            )
        raise DataError(f"{name!r} has column names but no rows of data. Export the data, not only the header.")
    table = table.reset_index(drop=True)
    return Dataset(table=table, name=name, digest=digest, report=report)


# --------------------------------------------------------------------------------------------------------------------
# Reading bytes and deciding the format
# --------------------------------------------------------------------------------------------------------------------
def _report(log: LoadLog) -> LoadReport:
    """Freeze what the reader logged into the report the analyst sees."""
    rejected = pd.DataFrame(log.rejected, columns=list(_EMPTY_REJECTED))
    rejected["line"] = rejected["line"].astype("int64")
    return LoadReport(
        format=log.format,
        encoding=log.encoding,
        delimiter=log.delimiter,
        rows_read=log.rows_read,
        rows_kept=log.rows_read - len(log.rejected),
        rows_rejected=len(log.rejected),
        rejected=rejected,
        renamed_columns=tuple(log.renamed),
        unconverted_cells={k: v for k, v in log.unconverted.items() if v},
        warnings=tuple(log.warnings),
    )


def _read_source(source: bytes | str | os.PathLike[str]) -> tuple[bytes, str]:
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source), "data"
    path = Path(source)
    if not path.exists():
        raise DataError(f"There is no file at '{path}'. Check the path and try again.")
    if path.is_dir():
        raise DataError(f"'{path}' is a folder. Give the path of a CSV, TSV, Excel (.xlsx) or Parquet file.")
    try:
        return path.read_bytes(), path.name
    except OSError as exc:
        raise DataError(f"'{path}' cannot be read ({exc.strerror}). Check that the file is readable.") from exc


def _sniff_format(data: bytes, name: str) -> str:
    if data[:4] == b"PAR1":
        if data[-4:] != b"PAR1":
            raise DataError(f"{name!r} starts like a Parquet file but is cut short. Download or export it again.")
        return "parquet"
    if data[:4] == b"PK\x03\x04" or data[:4] == b"PK\x05\x06":
        return "excel"
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise DataError(
            f"{name!r} is an old Excel 97-2003 (.xls) file. Open it in Excel, save it as .xlsx or CSV, and upload that."
        )
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return "csv"  # UTF-16 text with a byte-order mark (Excel "Unicode text")
    for magic, what in _MAGIC:
        if data.startswith(magic):
            raise DataError(
                f"{name!r} looks like a binary/executable file, not a table (it starts like {what}). "
                + SUPPORTED_FORMATS
            )
    head = data[:8192]
    controls = sum(head.count(bytes([b])) for b in range(32) if b not in (9, 10, 12, 13))
    if b"\x00" in head or controls > max(2, len(head) // 100):
        raise DataError(f"{name!r} looks like a binary/executable file, not a table. " + SUPPORTED_FORMATS)
    return "csv"


# --------------------------------------------------------------------------------------------------------------------
# Parquet and Excel
# --------------------------------------------------------------------------------------------------------------------
def _read_parquet(data: bytes, name: str) -> tuple[pd.DataFrame, LoadLog]:
    check_parquet(data, name)
    log = LoadLog()
    try:
        table = pd.read_parquet(io.BytesIO(data))
    except Exception as exc:  # pyarrow raises many types for damaged files
        raise DataError(f"{name!r} is a damaged Parquet file ({exc}). Export it again.") from exc
    if not isinstance(table.index, pd.RangeIndex):
        table = table.reset_index()
    if table.shape[1] == 0:
        raise DataError(f"{name!r} has no columns. Export a table with at least one column.")
    columns = clean_header([str(c) for c in table.columns], log)
    table.columns = columns
    for column in columns:
        table[column] = _plain_dtype(table[column])
    log.rows_read = len(table)
    return table, log


def _plain_dtype(series: pd.Series) -> pd.Series:
    """Convert nullable/categorical dtypes to the numpy ones the rest of the library expects."""
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return series.astype(object).where(series.notna(), np.nan)
    if pd.api.types.is_extension_array_dtype(dtype) and not pd.api.types.is_string_dtype(dtype):
        if pd.api.types.is_bool_dtype(dtype):
            return series.astype(object).where(series.notna(), np.nan)
        if pd.api.types.is_integer_dtype(dtype):
            return series.astype("int64") if not series.isna().any() else series.astype("float64")
        if pd.api.types.is_float_dtype(dtype):
            return series.astype("float64")
    return series


def _read_excel(data: bytes, name: str, options: LoadOptions) -> tuple[pd.DataFrame, LoadLog]:
    check_xlsx(data, name)
    log = LoadLog()
    try:
        import openpyxl

        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True, keep_links=False)
    except Exception as exc:  # openpyxl raises many types for damaged workbooks
        raise DataError(f"{name!r} could not be read as an Excel workbook ({exc}). Save it again from Excel.") from exc
    try:
        sheets = workbook.sheetnames
        if not sheets:
            raise DataError(f"{name!r} has no sheets.")
        if options.sheet is not None:
            if options.sheet not in sheets:
                raise DataError(
                    f"{name!r} has no sheet named {options.sheet!r}. Its sheets are: {', '.join(map(repr, sheets))}."
                )
            sheet = options.sheet
        else:
            sheet = sheets[0]
            if len(sheets) > 1:
                log.warnings.append(
                    f"The workbook has {len(sheets)} sheets; the first ({sheet!r}) was loaded. "
                    "Choose another with the sheet option."
                )
        rows = [list(row) for row in workbook[sheet].iter_rows(values_only=True)]
    finally:
        workbook.close()
    blank = [all(is_blank_cell(v) for v in row) for row in rows]
    while rows and blank[0]:
        rows.pop(0)
        blank.pop(0)
    if not rows:
        raise DataError(f"The sheet {sheet!r} of {name!r} is empty. Choose the sheet that holds the table.")
    width = max(len(r) for r in rows)
    # openpyxl reports formatted-but-empty cells at the right; trim columns with neither header nor data.
    while width > 1 and all(len(r) < width or is_blank_cell(r[width - 1]) for r in rows):
        width -= 1
    header_row, body = rows[0][:width], rows[1:]
    body_blank = blank[1:]
    skipped = sum(body_blank)
    body = [r[:width] + [None] * (width - len(r)) for r, b in zip(body, body_blank) if not b]
    if skipped:
        log.warnings.append(f"{skipped:,} empty rows were skipped.")
    header = [excel_header_text(v) for v in header_row]
    columns = clean_header(header, log)
    log.rows_read = len(body)
    decimal = options.decimal or "."
    converted: dict[str, pd.Series] = {}
    for j, column in enumerate(columns):
        values = [row[j] for row in body]
        converted[column] = convert_excel_column(column, values, decimal, options.dayfirst, log)
    table = pd.DataFrame(converted, index=pd.RangeIndex(len(body)))
    log.encoding = None
    return table, log
