"""Load customer tables from messy exports without losing data silently.

Every file either loads exactly, loads with a report of every change, or is
refused with a message that says what to do. The format is decided from the
content (never the file name), text is decoded deterministically (UTF-8, then
Windows-1252, both reported), and every row that cannot be used is kept in the
report with its line number.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import hashlib
import io
import json
import os
import re
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from segmentation.common import name_tokens
from segmentation.config import APP_MAX_UPLOAD_MB
from segmentation.errors import ConfigError, DataError

DELIMITERS: tuple[str, ...] = (",", ";", "\t", "|")
SUPPORTED_FORMATS = "Upload CSV, TSV, Excel (.xlsx) or Parquet."

# Decompression guards. Real exports compress 5-20x (very repetitive CSVs up to a
# few hundred x); zip/XML bombs compress thousands of times, so a ratio bound
# catches them before anything is inflated.
MAX_DECOMPRESSED_BYTES = 8 * 1024**3
MAX_COMPRESSION_RATIO = 1000
MAX_XLSX_MEMBER_BYTES = 1024**3
MAX_XLSX_TOTAL_BYTES = 2 * 1024**3
MAX_XLSX_RATIO = 200
MAX_XLSX_MEMBERS = 10_000

_SNIFF_CHARS = 256 * 1024
_CSV_FIELD_LIMIT = 256 * 1024 * 1024
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

_NA_TOKENS = frozenset(
    {"na", "n/a", "nan", "null", "none", "-", "--", "?", "#n/a", "nil", "missing", "#value!", "#div/0!"}
)

# Identifiers stay text even when every value is a number: leading zeros, length
# and exactness matter more than arithmetic for them.
_IDENTIFIER_TOKENS = frozenset(
    {
        "id",
        "ids",
        "code",
        "zip",
        "zipcode",
        "postcode",
        "postal",
        "plz",
        "phone",
        "telephone",
        "tel",
        "mobile",
        "fax",
        "iban",
        "sku",
        "ean",
        "upc",
        "gtin",
        "isbn",
        "uid",
        "uuid",
        "guid",
        "custid",
        "userid",
        "clientid",
        "customerid",
        "memberid",
        "accountid",
        "msisdn",
    }
)

# A decoded string that shows UTF-8 bytes read as Windows-1252/Latin-1 ("é" -> "Ã©").
_MOJIBAKE = re.compile(
    "[\u00c2\u00c3][\u0080-\u00bf\u20ac\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160"
    "\u2039\u0152\u017d\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a"
    "\u0153\u017e\u0178]|\u00e2\u20ac[\u2122\u0153\u009d\u201d\u201c\u02dc\u00a6\u00a2\u201a]"
)

_CURRENCY = r"[$€£¥]"
_PLAIN_DOT = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
_PLAIN_COMMA = r"[+-]?(?:\d+(?:,\d*)?|,\d+)(?:[eE][+-]?\d+)?"
_NUMBER_DOT = r"[+-]?(?:\d{1,3}(?:[,\u00a0\u202f ']\d{3})+|\d+)?(?:\.\d+)?(?:[eE][+-]?\d+)?"
_NUMBER_COMMA = r"[+-]?(?:\d{1,3}(?:[.\u00a0\u202f ']\d{3})+|\d+)?(?:,\d+)?(?:[eE][+-]?\d+)?"
# Cells that can only be read one way: two decimals or more than three.
_UNAMBIGUOUS_DECIMAL_COMMA = re.compile(r"^[+-]?(?:\d+,\d{1,2}|\d+,\d{4,}|\d{1,3}(?:\.\d{3})+,\d+)$")
_UNAMBIGUOUS_DECIMAL_POINT = re.compile(r"^[+-]?(?:\d+\.\d{1,2}|\d+\.\d{4,}|\d{1,3}(?:,\d{3})+\.\d+)$")

_ISO_DATE = r"\d{4}-\d{1,2}-\d{1,2}(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?(?:Z|[+-]\d{2}:?\d{2})?"
_NUMERIC_DATE = (
    r"(?P<a>\d{1,4})[/.-](?P<b>\d{1,2})[/.-](?P<c>\d{1,4})"
    r"(?:[ T](?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2}))?)?"
)
_NAMED_MONTH_DATE = (
    r"(?:\d{1,2}[- ]?[A-Za-z]{3,9}\.?[- ,]+\d{2,4}|[A-Za-z]{3,9}\.? \d{1,2},? \d{4})(?: \d{1,2}:\d{2}(?::\d{2})?)?"
)
_NAMED_MONTH_FORMATS = (
    "%d-%b-%y",
    "%d-%b-%Y",
    "%d %b %Y",
    "%d %B %Y",
    "%d-%B-%Y",
    "%d %b %y",
    "%b %d, %Y",
    "%B %d, %Y",
    "%b %d %Y",
    "%B %d %Y",
    "%d%b%Y",
    "%d-%b-%Y %H:%M",
    "%d-%b-%Y %H:%M:%S",
    "%d %b %Y %H:%M",
    "%d %b %Y %H:%M:%S",
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
    """Refuse uploads above :data:`APP_MAX_UPLOAD_MB`; the command line handles larger files."""
    if n_bytes <= 0:
        raise DataError("The file is empty.")
    limit = APP_MAX_UPLOAD_MB * 1024 * 1024
    if n_bytes > limit:
        raise DataError(
            f"The file is {n_bytes / 1024 / 1024:,.0f} MB; the app accepts files up to {APP_MAX_UPLOAD_MB} MB. "
            "Upload a sample, or run the command line (python -m segmentation run FILE), which has no size limit."
        )


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
    head = bytes(source[: 4 * _SNIFF_CHARS])
    if head[:2] == b"\x1f\x8b":
        head = _gunzip(bytes(source), limit=_SNIFF_CHARS, strict=False)
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
    rejected rows, cells kept as text) is listed in ``Dataset.report``.
    """
    options = options or LoadOptions()
    raw, default_name = _read_source(source)
    name = name or default_name
    if not raw:
        raise DataError("The file is empty.")
    digest = hashlib.sha256(raw).hexdigest()
    if options != LoadOptions():
        digest = hashlib.sha256((digest + json.dumps(asdict(options), sort_keys=True)).encode()).hexdigest()

    data, suffix = raw, ""
    if raw[:2] == b"\x1f\x8b":
        data, suffix = _gunzip(raw, limit=MAX_DECOMPRESSED_BYTES, strict=True), " (gzip)"
        if not data:
            raise DataError(f"{name!r} is an empty gzip archive; there is no table inside.")
        if data[:2] == b"\x1f\x8b":
            raise DataError(f"{name!r} is gzipped twice. Decompress it once and upload the result.")

    kind = _sniff_format(data, name)
    if kind == "parquet":
        table, builder = _read_parquet(data, name)
    elif kind == "excel":
        table, builder = _read_excel(data, name, options)
    else:
        table, builder = _read_delimited(data, name, options)

    builder.format = kind + suffix
    report = builder.build()
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
class _ReportBuilder:
    """Collects what the loader did while it reads; frozen into a :class:`LoadReport` at the end."""

    def __init__(self) -> None:
        self.format = ""
        self.encoding: str | None = None
        self.delimiter: str | None = None
        self.rows_read = 0
        self.rejected: list[tuple[int, str, str]] = []
        self.renamed: list[tuple[str, str]] = []
        self.unconverted: dict[str, int] = {}
        self.warnings: list[str] = []

    def build(self) -> LoadReport:
        rejected = pd.DataFrame(self.rejected, columns=list(_EMPTY_REJECTED))
        rejected["line"] = rejected["line"].astype("int64")
        return LoadReport(
            format=self.format,
            encoding=self.encoding,
            delimiter=self.delimiter,
            rows_read=self.rows_read,
            rows_kept=self.rows_read - len(self.rejected),
            rows_rejected=len(self.rejected),
            rejected=rejected,
            renamed_columns=tuple(self.renamed),
            unconverted_cells={k: v for k, v in self.unconverted.items() if v},
            warnings=tuple(self.warnings),
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


def _gunzip(raw: bytes, limit: int, strict: bool) -> bytes:
    """Inflate gzip data in chunks so a bomb is stopped before it fills the memory."""
    out = io.BytesIO()
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(raw)) as stream:
            while chunk := stream.read(4 * 1024 * 1024):
                out.write(chunk)
                size = out.tell()
                if size >= limit:
                    if not strict:
                        return out.getvalue()[:limit]
                    raise DataError(
                        f"The gzip file expands to more than {limit / 1024**3:.0f} GB. "
                        "Split it, or load a sample of the rows."
                    )
                if size > 100 * 1024 * 1024 and size > MAX_COMPRESSION_RATIO * len(raw):
                    raise DataError(
                        "The gzip file expands more than a thousand times, which real tables never do; "
                        "it was refused as a possible decompression bomb."
                    )
    except (OSError, EOFError, zipfile.BadZipFile) as exc:
        if not strict:
            return out.getvalue()
        raise DataError(f"The gzip file is damaged ({exc}). Download or export it again.") from exc
    return out.getvalue()


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
def _read_parquet(data: bytes, name: str) -> tuple[pd.DataFrame, _ReportBuilder]:
    builder = _ReportBuilder()
    try:
        table = pd.read_parquet(io.BytesIO(data))
    except Exception as exc:  # pyarrow raises many types for damaged files
        raise DataError(f"{name!r} is a damaged Parquet file ({exc}). Export it again.") from exc
    if not isinstance(table.index, pd.RangeIndex):
        table = table.reset_index()
    if table.shape[1] == 0:
        raise DataError(f"{name!r} has no columns. Export a table with at least one column.")
    columns = _clean_header([str(c) for c in table.columns], builder)
    table.columns = columns
    for column in columns:
        table[column] = _plain_dtype(table[column])
    builder.rows_read = len(table)
    return table, builder


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


def _check_xlsx(data: bytes, name: str) -> None:
    """Refuse zip archives that are not workbooks, and zip/XML bombs, before openpyxl inflates anything."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise DataError(f"{name!r} is a damaged zip/Excel file ({exc}). Save it again from Excel.") from exc
    with archive:
        infos = archive.infolist()
        names = {info.filename for info in infos}
        if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
            raise DataError(
                f"{name!r} is a zip archive, not an Excel workbook. Unzip it and upload the CSV, TSV, "
                "Excel (.xlsx) or Parquet file inside."
            )
        if len(infos) > MAX_XLSX_MEMBERS:
            raise DataError(f"{name!r} holds {len(infos):,} parts, far more than a real workbook; it was refused.")
        # Python's zipfile never inflates past the declared size, so checking the
        # declared sizes bounds what openpyxl can be made to read.
        total = 0
        for info in infos:
            total += info.file_size
            ratio = info.file_size / max(info.compress_size, 1)
            if (
                info.file_size > MAX_XLSX_MEMBER_BYTES
                or total > MAX_XLSX_TOTAL_BYTES
                or (info.file_size > 1024 * 1024 and ratio > MAX_XLSX_RATIO)
            ):
                raise DataError(
                    f"{name!r} was refused: its part '{info.filename}' expands {ratio:,.0f} times to "
                    f"{info.file_size / 1024**2:,.0f} MB, which looks like a zip bomb. "
                    "Save the sheet as CSV and upload that."
                )
        for info in infos:
            if not info.filename.endswith((".xml", ".rels", ".vml")):
                continue
            with archive.open(info) as member:
                head = member.read(4096)
            # Entity declarations live in a DTD at the top; real workbooks never have one.
            if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
                raise DataError(
                    f"{name!r} was refused: its part '{info.filename}' declares XML entities, which Excel never "
                    "writes and XML bombs use. Save the sheet as CSV and upload that."
                )
        try:
            from defusedxml import ElementTree as SafeET

            SafeET.fromstring(archive.read("xl/workbook.xml"))
        except Exception as exc:  # defusedxml raises its own types for forbidden constructs
            raise DataError(
                f"{name!r} has an unreadable workbook description ({exc}). Save it again from Excel."
            ) from exc


def _read_excel(data: bytes, name: str, options: LoadOptions) -> tuple[pd.DataFrame, _ReportBuilder]:
    _check_xlsx(data, name)
    builder = _ReportBuilder()
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
                builder.warnings.append(
                    f"The workbook has {len(sheets)} sheets; the first ({sheet!r}) was loaded. "
                    "Choose another with the sheet option."
                )
        rows = [list(row) for row in workbook[sheet].iter_rows(values_only=True)]
    finally:
        workbook.close()
    blank = [all(_is_blank_cell(v) for v in row) for row in rows]
    while rows and blank[0]:
        rows.pop(0)
        blank.pop(0)
    if not rows:
        raise DataError(f"The sheet {sheet!r} of {name!r} is empty. Choose the sheet that holds the table.")
    width = max(len(r) for r in rows)
    # openpyxl reports formatted-but-empty cells at the right; trim columns with neither header nor data.
    while width > 1 and all(len(r) < width or _is_blank_cell(r[width - 1]) for r in rows):
        width -= 1
    header_row, body = rows[0][:width], rows[1:]
    body_blank = blank[1:]
    skipped = sum(body_blank)
    body = [r[:width] + [None] * (width - len(r)) for r, b in zip(body, body_blank) if not b]
    if skipped:
        builder.warnings.append(f"{skipped:,} empty rows were skipped.")
    header = [_excel_header_text(v) for v in header_row]
    columns = _clean_header(header, builder)
    builder.rows_read = len(body)
    decimal = options.decimal or "."
    converted: dict[str, pd.Series] = {}
    for j, column in enumerate(columns):
        values = [row[j] for row in body]
        converted[column] = _convert_excel_column(column, values, decimal, options, builder)
    table = pd.DataFrame(converted, index=pd.RangeIndex(len(body)))
    builder.encoding = None
    return table, builder


def _is_blank_cell(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _excel_header_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _convert_excel_column(
    column: str, values: list[Any], decimal: str, options: LoadOptions, builder: _ReportBuilder
) -> pd.Series:
    present = [v for v in values if not _is_blank_cell(v)]
    if present and all(isinstance(v, (pd.Timestamp, np.datetime64)) or hasattr(v, "year") for v in present):
        return pd.Series(pd.to_datetime([None if _is_blank_cell(v) else v for v in values], errors="coerce"))
    numbers = [v for v in present if isinstance(v, (int, float)) and not isinstance(v, bool)]
    if present and len(numbers) == len(present) and not _looks_like_identifier(column):
        array = np.array([np.nan if _is_blank_cell(v) else float(v) for v in values], dtype="float64")
        if all(float(v).is_integer() for v in numbers) and not np.isnan(array).any():
            return pd.Series(array.astype("int64"))
        return pd.Series(array)
    # Anything else goes through the text rules (leading zeros, mixed types, dates in text cells).
    strings = pd.Series([None if v is None else _excel_cell_text(v) for v in values], dtype=object)
    return _convert_strings(column, strings.fillna(""), decimal, options, builder)


def _excel_cell_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if hasattr(value, "isoformat"):
        return value.isoformat(sep=" ") if hasattr(value, "hour") else value.isoformat()
    return str(value)


# --------------------------------------------------------------------------------------------------------------------
# Delimited text
# --------------------------------------------------------------------------------------------------------------------
def _decode(data: bytes, name: str, options: LoadOptions, builder: _ReportBuilder) -> str:
    if options.encoding is not None:
        try:
            text = data.decode(options.encoding)
        except UnicodeDecodeError as exc:
            raise DataError(
                f"{name!r} cannot be read as {options.encoding}: byte 0x{data[exc.start]:02x} at position "
                f"{exc.start:,} is not valid there. Try another encoding (utf-8, cp1252 or latin-1)."
            ) from None
        builder.encoding = options.encoding
        return text[1:] if text.startswith("\ufeff") else text
    if data[:3] == b"\xef\xbb\xbf":
        encodings: tuple[str, ...] = ("utf-8-sig",)
    elif data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        encodings = ("utf-16",)
    else:
        encodings = ("utf-8", "cp1252")
    first_error: UnicodeDecodeError | None = None
    for encoding in encodings:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError as exc:
            first_error = first_error or exc
            continue
        builder.encoding = encoding
        if first_error is not None:
            builder.warnings.append(
                f"The file is not valid UTF-8 (byte 0x{data[first_error.start]:02x} "
                f"at position {first_error.start:,}); "
                f"it was read as Windows-1252 ({encoding}). If accented letters look wrong, choose the encoding."
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
    sample = text[:_SNIFF_CHARS]
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


def _read_delimited(data: bytes, name: str, options: LoadOptions) -> tuple[pd.DataFrame, _ReportBuilder]:
    builder = _ReportBuilder()
    text = _decode(data, name, options, builder)
    if not text.strip():
        raise DataError("The file is empty." if not text else f"{name!r} contains only blank lines; there is no table.")
    delimiter = options.delimiter or _sniff_delimiter(text)
    builder.delimiter = delimiter
    if delimiter is None:
        # One column: parse with a separator that does not occur, so quotes and quoted newlines still work.
        delimiter = next(c for c in "\x1f\x1e\x1d\x1c\x01" if c not in text)
        builder.warnings.append(
            "No column separator (comma, semicolon, tab or pipe) was found consistently; "
            "the file was read as a single column. Set the delimiter option if that is wrong."
        )
    try:
        header_fields = next(r for r in _records(text[: 4 * _SNIFF_CHARS], delimiter) if r)
    except (csv.Error, StopIteration) as exc:
        raise DataError(f"{name!r} has no header row with column names. Add one and upload again.") from exc
    width = len(header_fields)

    body = _parse_fast(text, data, builder.encoding, delimiter, width)
    if body is None:
        body = _parse_exact(text, name, delimiter, width, builder)
    else:
        builder.rows_read = len(body)
    columns = _clean_header(header_fields, builder)
    body.columns = columns
    _warn_if_header_is_data(header_fields, builder)

    # Rows that are all blank (",,,,") carry nothing; they are skipped, counted, and do not count as read.
    all_blank = np.ones(len(body), dtype=bool)
    for column in columns:
        all_blank &= (body[column].str.strip() == "").to_numpy(dtype=bool)
    n_blank = int(all_blank.sum())
    if n_blank:
        body = body.loc[~all_blank].reset_index(drop=True)
        builder.rows_read -= n_blank
        builder.warnings.append(f"{n_blank:,} rows with only empty fields were skipped.")

    decimal = options.decimal or _detect_decimal(body, delimiter)
    if decimal == "," and options.decimal is None:
        builder.warnings.append(
            "Numbers use a decimal comma (e.g. '12,50' was read as 12.50). "
            "Set the decimal option to '.' if that is wrong."
        )
    converted = {column: _convert_strings(column, body[column], decimal, options, builder) for column in columns}
    table = pd.DataFrame(converted, index=pd.RangeIndex(len(body)))
    _warn_mojibake(table, data, builder)
    return table, builder


def _parse_fast(text: str, data: bytes, encoding: str | None, delimiter: str, width: int) -> pd.DataFrame | None:
    """Parse with pyarrow's multi-threaded reader; None when any row is ragged (the exact parser then reports it)."""
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
    frame = pd.DataFrame({i: table.column(i).to_pandas().astype("str") for i in range(width)})
    return frame.iloc[1:].reset_index(drop=True)


def _parse_exact(text: str, name: str, delimiter: str, width: int, builder: _ReportBuilder) -> pd.DataFrame:
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
            builder.rejected.append((start, reason, raw))
            last = (start, end, False)
    except csv.Error as exc:
        raise DataError(
            f"{name!r} cannot be parsed as delimited text near line {reader.line_num} ({exc}). "
            "Check the file or set the delimiter."
        ) from exc
    if last is not None and last[2] and last[1] > last[0]:
        raw = "".join(lines[last[0] - 1 : last[1]])
        if raw.count('"') % 2:
            # A quote opened in the last row is never closed: everything after it was swallowed into one field.
            kept.pop()
            builder.rejected.append(
                (
                    last[0],
                    f"a quote opened on line {last[0]} is never closed (lines {last[0]}-{last[1]})",
                    raw.rstrip("\r\n"),
                )
            )
    builder.rows_read = read
    if trimmed:
        builder.warnings.append(f"{trimmed:,} rows ended with extra empty fields; the empty fields were ignored.")
    if blank:
        builder.warnings.append(f"{blank:,} lines containing only spaces were skipped.")
    if builder.rejected:
        builder.warnings.append(
            f"{len(builder.rejected):,} rows do not have {width} fields and were rejected; "
            "see the rejected rows with their line numbers."
        )
    frame = pd.DataFrame(kept, columns=range(width), dtype=object) if kept else pd.DataFrame(columns=range(width))
    return frame.astype("str")


def _clean_header(names: list[str], builder: _ReportBuilder) -> list[str]:
    """Blank names become column_<position>, duplicates get _2, _3...; every change is reported."""
    result: list[str] = []
    seen: set[str] = set()
    stripped = [str(n).strip() for n in names]
    taken = set(stripped)
    for position, (original, name) in enumerate(zip(names, stripped), start=1):
        new = name or f"column_{position}"
        if new in seen or (not name and new in taken):
            base, k = new, 2
            while f"{base}_{k}" in seen or f"{base}_{k}" in taken:
                k += 1
            new = f"{base}_{k}"
        seen.add(new)
        if new != original:
            builder.renamed.append((str(original), new))
        result.append(new)
    return result


def _warn_if_header_is_data(header: list[str], builder: _ReportBuilder) -> None:
    cells = [h.strip() for h in header if h.strip()]
    numeric = sum(bool(re.fullmatch(r"[+-]?\d+(?:[.,]\d+)?", c)) for c in cells)
    if cells and (numeric >= max(1, len(cells) // 2) or any(len(c) > 80 for c in cells)):
        builder.warnings.append(
            "The first row looks like data rather than column names; it was used as the header. "
            "Add a header row to the file if that is wrong."
        )


def _warn_mojibake(table: pd.DataFrame, data: bytes, builder: _ReportBuilder) -> None:
    for column in table.columns:
        series = table[column]
        if not pd.api.types.is_string_dtype(series):
            continue
        hits = series[series.str.contains(_MOJIBAKE.pattern, regex=True, na=False)]
        if hits.empty:
            continue
        example = _MOJIBAKE.search(hits.iloc[0]).group(0)  # type: ignore[union-attr]
        if builder.encoding in ("utf-8", "utf-8-sig"):
            advice = "the text was probably converted twice before export; export it again as UTF-8"
        else:
            try:
                data.decode("utf-8")
                advice = "try encoding utf-8"
            except UnicodeDecodeError:
                advice = "the file mixes UTF-8 and another encoding; export it again as UTF-8"
        builder.warnings.append(f"Column {column!r} looks mis-decoded ({example!r} in {len(hits):,} cells): {advice}.")


# --------------------------------------------------------------------------------------------------------------------
# Converting text cells to numbers and dates
# --------------------------------------------------------------------------------------------------------------------
def _looks_like_identifier(column: str) -> bool:
    tokens = name_tokens(column)
    if any(t in _IDENTIFIER_TOKENS for t in tokens):
        return True
    return (
        bool(tokens)
        and tokens[-1] in {"number", "no", "nr", "num"}
        and any(
            t in {"account", "customer", "client", "member", "card", "phone", "postal", "zip", "contract", "policy"}
            for t in tokens
        )
    )


def _sample(values: pd.Series, n: int = 1000) -> pd.Series:
    if len(values) <= n:
        return values
    positions = np.unique(np.concatenate([np.arange(n // 2), np.linspace(0, len(values) - 1, n // 2).astype(int)]))
    return values.iloc[positions]


def _detect_decimal(frame: pd.DataFrame, delimiter: str) -> str:
    if delimiter == "," or frame.empty:
        return "."  # an unquoted decimal comma cannot occur in a comma-separated file
    comma = point = 0
    for column in frame.columns:
        values = _sample(frame[column]).str.strip()
        comma += int(values.str.match(_UNAMBIGUOUS_DECIMAL_COMMA.pattern).sum())
        point += int(values.str.match(_UNAMBIGUOUS_DECIMAL_POINT.pattern).sum())
    return "," if comma > point else "."


def _to_float(values: pd.Series) -> np.ndarray:
    """Cast strings already validated as plain numbers ("-12.5", "1e3") to floats in one vectorised call."""
    import pyarrow as pa
    import pyarrow.compute as pc

    array = pa.array(values.astype("str"), type=pa.string())
    return np.asarray(pc.cast(array, pa.float64()).to_numpy(zero_copy_only=False), dtype="float64")


def _parse_numbers(values: pd.Series, decimal: str) -> pd.Series:
    """Float value of every stripped cell that is a number under ``decimal``; NaN elsewhere.

    Plain numbers take a fast vectorised path; only the rest is checked for
    thousands separators and currency symbols ("1.234,50 €", "$1,200").
    """
    values = values.astype("str")
    result = np.full(len(values), np.nan)
    plain = values.str.fullmatch(_PLAIN_DOT if decimal == "." else _PLAIN_COMMA).to_numpy(dtype=bool)
    if plain.any():
        chosen = values[plain]
        if decimal == ",":
            chosen = chosen.str.replace(",", ".", regex=False)
        result[plain] = _to_float(chosen)
    rest = np.flatnonzero(~plain)
    if len(rest):
        cleaned = values.iloc[rest].str.replace(_CURRENCY, "", regex=True).str.strip()
        pattern = _NUMBER_DOT if decimal == "." else _NUMBER_COMMA
        ok = (cleaned.str.fullmatch(pattern) & cleaned.str.contains(r"\d", regex=True)).to_numpy(dtype=bool)
        if ok.any():
            good = cleaned[ok]
            if decimal == ".":
                good = good.str.replace(r"[,\u00a0\u202f ']", "", regex=True)
            else:
                good = good.str.replace(r"[.\u00a0\u202f ']", "", regex=True).str.replace(",", ".", regex=False)
            result[rest[ok]] = _to_float(good)
    return pd.Series(result, index=values.index)


def _convert_strings(
    column: str, series: pd.Series, decimal: str, options: LoadOptions, builder: _ReportBuilder
) -> pd.Series:
    """Turn a column of raw strings into numbers, dates or text, reporting every cell not converted."""
    raw = series.astype("str")
    stripped = raw.str.strip()
    blank = (stripped == "").to_numpy(dtype=bool)
    spaces_only = int((blank & (raw != "").to_numpy(dtype=bool)).sum())
    text = raw.where(~blank)
    nonblank = stripped[~blank]
    if nonblank.empty:
        return pd.Series(np.full(len(raw), np.nan, dtype=object), index=raw.index)

    sample = _sample(nonblank)
    if _parse_numbers(sample, decimal).notna().mean() >= 0.5:
        result = _convert_numeric(column, text, nonblank, decimal, builder, spaces_only)
        return text if result is None else result

    date_result = _convert_dates(column, nonblank, sample, options, builder)
    if date_result is not None:
        out = pd.Series(pd.NaT, index=raw.index, dtype=date_result.dtype)
        out.iloc[np.flatnonzero(~blank)] = date_result.to_numpy()
        if spaces_only:
            builder.unconverted[column] = builder.unconverted.get(column, 0) + spaces_only
            builder.warnings.append(
                f"Column {column!r}: {spaces_only:,} cells containing only spaces were read as missing dates."
            )
        return out

    if spaces_only:
        builder.warnings.append(f"Column {column!r}: {spaces_only:,} cells containing only spaces were read as empty.")
    return text


def _convert_numeric(
    column: str, text: pd.Series, nonblank: pd.Series, decimal: str, builder: _ReportBuilder, spaces_only: int
) -> pd.Series | None:
    numbers = _parse_numbers(nonblank, decimal)
    failed = nonblank[numbers.isna().to_numpy()]
    na_like = failed.str.lower().isin(_NA_TOKENS).to_numpy(dtype=bool)
    words = failed[~na_like]
    if len(words):
        examples = ", ".join(repr(v) for v in words.drop_duplicates().head(3))
        builder.unconverted[column] = len(words)
        builder.warnings.append(
            f"Column {column!r} mixes numbers and text: {len(words):,} of {len(nonblank):,} cells are not numbers "
            f"(e.g. {examples}); the column was kept as text."
        )
        return None
    parsed = numbers.dropna().to_numpy()
    integral = bool(np.all(np.mod(parsed, 1) == 0))
    leading_zero = nonblank.str.match(r"[+-]?0\d").to_numpy(dtype=bool)
    if integral and leading_zero.any():
        example = nonblank[leading_zero].iloc[0]
        builder.warnings.append(f"Column {column!r} keeps its leading zeros (e.g. {example!r}); it was read as text.")
        return text
    if integral and _looks_like_identifier(column):
        return text  # identifiers: exact text, no arithmetic
    if integral and len(parsed) and float(np.abs(parsed).max()) >= 2**53:
        builder.warnings.append(
            f"Column {column!r} holds whole numbers too long to store exactly; it was read as text."
        )
        return text
    converted = int(na_like.sum()) + spaces_only
    if converted:
        builder.unconverted[column] = builder.unconverted.get(column, 0) + converted
        builder.warnings.append(
            f"Column {column!r}: {converted:,} cells that are blank or say things like 'NA' "
            "were read as missing numbers."
        )
    values = np.full(len(text), np.nan)
    values[text.index.get_indexer(numbers.index)] = numbers.to_numpy()
    if integral and not np.isnan(values).any():
        return pd.Series(values.astype("int64"), index=text.index)
    return pd.Series(values, index=text.index)


def _convert_dates(
    column: str, nonblank: pd.Series, sample: pd.Series, options: LoadOptions, builder: _ReportBuilder
) -> pd.Series | None:
    """Parse a column of date strings, or return None when it is not (entirely) dates."""
    for family, pattern in (("iso", _ISO_DATE), ("numeric", _NUMERIC_DATE), ("named", _NAMED_MONTH_DATE)):
        if sample.str.fullmatch(pattern).mean() < 0.9:
            continue
        if family == "iso":
            try:
                parsed = pd.to_datetime(nonblank, format="ISO8601", errors="coerce")
            except (ValueError, TypeError):
                return None  # e.g. mixed time zones: keep the text as it is
        elif family == "numeric":
            parsed = _parse_numeric_dates(column, nonblank, options, builder)
            if parsed is None:
                return None
        else:
            parsed = _parse_named_month_dates(nonblank)
        failed = int(parsed.isna().sum())
        if failed:
            examples = ", ".join(repr(v) for v in nonblank[parsed.isna().to_numpy()].head(3))
            builder.unconverted[column] = builder.unconverted.get(column, 0) + failed
            builder.warnings.append(
                f"Column {column!r} looks like dates but {failed:,} cells are not (e.g. {examples}); "
                "the column was kept as text."
            )
            return None
        return parsed
    return None


def _date_parts(values: pd.Series) -> dict[str, np.ndarray]:
    """The numeric groups of ``_NUMERIC_DATE`` for every value (NaN where absent), extracted by pyarrow."""
    import pyarrow as pa
    import pyarrow.compute as pc

    array = pa.array(values.astype("str"), type=pa.string())
    struct = pc.extract_regex(array, pattern=f"^(?:{_NUMERIC_DATE})$")
    parts: dict[str, np.ndarray] = {}
    for name in ("a", "b", "c", "hour", "minute", "second"):
        field = pc.struct_field(struct, name)
        field = pc.if_else(pc.equal(field, ""), pa.scalar(None, pa.string()), field)
        parts[name] = np.asarray(pc.cast(field, pa.float64()).to_numpy(zero_copy_only=False), dtype="float64")
        if name in ("a", "c"):
            parts[f"{name}_len"] = np.asarray(
                pc.utf8_length(pc.struct_field(struct, name)).to_numpy(zero_copy_only=False)
            )
    return parts


def _parse_numeric_dates(
    column: str, values: pd.Series, options: LoadOptions, builder: _ReportBuilder
) -> pd.Series | None:
    parts = _date_parts(values)
    a, b, c = parts["a"], parts["b"], parts["c"]
    year_first = parts["a_len"] == 4
    if year_first.any() and not year_first.all():
        return None
    if year_first.all():
        year, month, day = a, b, c
    else:
        if (parts["c_len"] == 3).any():
            return None
        day_first_needed = bool((a > 12).any())
        month_first_needed = bool((b > 12).any())
        if day_first_needed and month_first_needed:
            return None  # both orders occur: not one date format
        if day_first_needed or month_first_needed:
            dayfirst = day_first_needed
            if options.dayfirst is not None and options.dayfirst != dayfirst:
                example = values.iloc[int(np.argmax((a > 12) if dayfirst else (b > 12)))]
                builder.warnings.append(
                    f"Column {column!r} has dates such as {example!r} that can only be "
                    f"{'day/month' if dayfirst else 'month/day'}; they were read that way although the dayfirst "
                    "option says otherwise."
                )
        else:
            dayfirst = bool(options.dayfirst) if options.dayfirst is not None else False
            if options.dayfirst is None:
                builder.warnings.append(
                    f"Column {column!r} has dates such as {values.iloc[0]!r} that could be day/month or month/day; "
                    f"they were read as {'day/month' if dayfirst else 'month/day'}. Set the dayfirst option to choose."
                )
        day, month = (a, b) if dayfirst else (b, a)
        # Two-digit years follow strptime's %y pivot: 00-68 -> 2000s, 69-99 -> 1900s.
        year = np.where(parts["c_len"] == 2, np.where(c < 69, 2000 + c, 1900 + c), c)
    frame = pd.DataFrame(
        {
            "year": year,
            "month": month,
            "day": day,
            "hour": np.nan_to_num(parts["hour"]),
            "minute": np.nan_to_num(parts["minute"]),
            "second": np.nan_to_num(parts["second"]),
        }
    )
    parsed = pd.to_datetime(frame, errors="coerce")
    parsed.index = values.index
    return parsed


def _parse_named_month_dates(values: pd.Series) -> pd.Series:
    best: pd.Series | None = None
    for fmt in _NAMED_MONTH_FORMATS:
        parsed = pd.to_datetime(values, format=fmt, errors="coerce")
        if best is None or parsed.notna().sum() > best.notna().sum():
            best = parsed
        if parsed.notna().all():
            break
    assert best is not None
    return best
