"""Turn the raw cells of a file (text, or typed spreadsheet cells) into numbers, dates or text, and its header
into usable column names.

Numbers may use a decimal comma, thousands separators and currency symbols; dates may be ISO, numeric
(day/month or month/day, decided from the values) or use month names. Identifiers stay text even when every value
is a number. Nothing is converted silently: every cell left unconverted is counted in the :class:`LoadLog`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from segmentation.common import ID_WORDS, name_tokens

_NA_TOKENS = frozenset(
    {"na", "n/a", "nan", "null", "none", "-", "--", "?", "#n/a", "nil", "missing", "#value!", "#div/0!"}
)

# Identifiers stay text even when every value is a number: leading zeros, length
# and exactness matter more than arithmetic for them.
_IDENTIFIER_TOKENS = ID_WORDS | {"zip", "zipcode", "postcode", "postal", "plz", "phone", "telephone", "tel",
                                 "mobile", "fax", "iban", "sku", "ean", "upc", "gtin", "isbn", "msisdn"}


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



class LoadLog:
    """What the loader did while it reads a file; ``read.load_table`` freezes it into a ``LoadReport``.

    ``rejected`` holds (line, reason, raw text) of every row left out; ``renamed`` (old, new) column names;
    ``unconverted`` the number of cells per column not converted; ``warnings`` plain sentences for the analyst.
    """

    def __init__(self) -> None:
        self.format = ""
        self.encoding: str | None = None
        self.delimiter: str | None = None
        self.rows_read = 0
        self.rejected: list[tuple[int, str, str]] = []
        self.renamed: list[tuple[str, str]] = []
        self.unconverted: dict[str, int] = {}
        self.warnings: list[str] = []


# --------------------------------------------------------------------------------------------------------------------
# Column names
# --------------------------------------------------------------------------------------------------------------------
def clean_header(names: list[str], log: LoadLog) -> list[str]:
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
            log.renamed.append((str(original), new))
        result.append(new)
    return result


def warn_if_header_is_data(header: list[str], log: LoadLog) -> None:
    """Warn when the header row holds mostly numbers or long sentences: the file probably has no header."""
    cells = [h.strip() for h in header if h.strip()]
    numeric = sum(bool(re.fullmatch(r"[+-]?\d+(?:[.,]\d+)?", c)) for c in cells)
    if cells and (numeric >= max(1, len(cells) // 2) or any(len(c) > 80 for c in cells)):
        log.warnings.append(
            "The first row looks like data rather than column names; it was used as the header. "
            "Add a header row to the file if that is wrong."
        )


# --------------------------------------------------------------------------------------------------------------------
# Converting text cells to numbers and dates
# --------------------------------------------------------------------------------------------------------------------
def looks_like_identifier(column: str) -> bool:
    """Whether the column's name says it holds identifiers (ids, codes, phone or postal numbers), kept as text."""
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


def detect_decimal(frame: pd.DataFrame, delimiter: str) -> str:
    """"," when more cells can only be read with a decimal comma than with a decimal point, else "."."""
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


_CURRENCY_MARK = re.compile(r"([$€£¥])|\b(USD|EUR|GBP|JPY|CHF|CAD|AUD|CNY|SEK|NOK|DKK|PLN|INR|BRL|MXN)\b")


_CODE_SYMBOL = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥"}


def currency_counts(values: pd.Series) -> dict[str, int]:
    """How many cells of ``values`` are written with each currency ($ € £ ¥ or a code such as EUR), in order of
    first appearance; empty for plain numbers. More than one key means amounts that cannot be added up."""
    if not (pd.api.types.is_string_dtype(values) or values.dtype == object):
        return {}
    found = values.dropna().astype("str").str.extract(_CURRENCY_MARK.pattern)
    marks = found[0].fillna(found[1].map(_CODE_SYMBOL).fillna(found[1])).dropna()
    return {str(k): int(v) for k, v in marks.value_counts(sort=False).items()} if len(marks) else {}


def mixed_currencies(column: str, counts: dict[str, int]) -> str:
    """One sentence saying that ``column`` mixes the currencies of ``counts`` (:func:`currency_counts`)."""
    listed = ", ".join(f"{mark} in {n:,} cell{'s' if n != 1 else ''}" for mark, n in counts.items())
    return f"Column {column!r} mixes currencies ({listed}): amounts in different currencies cannot be added up"


def parse_numbers(values: pd.Series, decimal: str) -> pd.Series:
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


def convert_table(body: pd.DataFrame, decimal: str, dayfirst: bool | None, log: LoadLog,
                  arrow: Sequence[Any] | None = None) -> dict[str, pd.Series]:
    """Every column of ``body`` (raw strings) converted as :func:`convert_strings` does, in column order.

    Wide files hold thousands of columns of plain numbers; those that need no warning are recognised and cast in
    one vectorised pass over the whole table, since per-column work dominates on such files (a 10,000-column
    file spent most of its load time in it). Every other column goes through :func:`convert_strings`.
    ``arrow``: the columns of ``body`` as pyarrow (large) strings, when the reader has them: taking them from
    pandas costs a conversion per column.
    """
    plain = _plain_number_columns(body, decimal, arrow)
    return {column: plain[column] if column in plain else convert_strings(column, body[column], decimal, dayfirst,
                                                                          log) for column in body.columns}


def _plain_number_columns(body: pd.DataFrame, decimal: str, arrow: Sequence[Any] | None = None
                          ) -> dict[str, pd.Series]:
    """The columns whose every cell is a plain number (as in :func:`parse_numbers`) and that
    :func:`convert_strings` would turn into numbers without a warning, already converted."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if body.empty or len(body.columns) < 2:
        return {}
    strings = list(arrow) if arrow is not None else [_arrow_strings(body.iloc[:, j]) for j in range(body.shape[1])]
    cells = pa.chunked_array([chunk for column in strings for chunk in column.chunks], type=pa.large_string())
    shape = (len(body.columns), len(body))
    pattern = _PLAIN_DOT if decimal == "." else _PLAIN_COMMA
    plain = np.asarray(pc.match_substring_regex(cells, f"^(?:{pattern})$").to_numpy(zero_copy_only=False))
    numeric = plain.reshape(shape).all(axis=1)
    if not numeric.any():
        return {}
    chosen = pa.chunked_array([chunk for j in np.flatnonzero(numeric) for chunk in strings[j].chunks],
                              type=pa.large_string())
    if decimal == ",":
        chosen = pc.replace_substring(chosen, ",", ".")
    values = np.asarray(pc.cast(chosen, pa.float64()).to_numpy(zero_copy_only=False)).reshape(-1, shape[1])
    with np.errstate(invalid="ignore"):  # infinity ("1e400") is not a whole number
        integral = np.all(np.mod(values, 1) == 0, axis=1)
    result: dict[str, pd.Series] = {}
    for row, j in enumerate(np.flatnonzero(numeric)):
        column, column_values = body.columns[j], values[row]
        if integral[row]:
            if looks_like_identifier(column) or float(np.abs(column_values).max()) >= 2**53 or bool(
                    pc.any(pc.match_substring_regex(strings[j], r"^[+-]?0\d")).as_py()):
                continue  # text, perhaps with a warning: convert_strings decides and words it
            column_values = column_values.astype("int64")
        result[column] = pd.Series(column_values, index=body.index)
    return result


def _arrow_strings(series: pd.Series) -> Any:
    """The pyarrow strings behind a column of text, without copying when pandas already holds them in pyarrow."""
    import pyarrow as pa

    if hasattr(series.array, "__arrow_array__"):
        array = series.array.__arrow_array__()
    else:
        array = pa.array(series.astype("str").to_numpy(dtype=object), type=pa.large_string())
    return pa.chunked_array(array).cast(pa.large_string())


def convert_strings(
    column: str, series: pd.Series, decimal: str, dayfirst: bool | None, log: LoadLog
) -> pd.Series:
    """Turn a column of raw strings into numbers, dates or text, reporting every cell not converted in ``log``.

    ``decimal`` ("." or ",") decides how numbers are read; ``dayfirst`` decides dates such as 04/05/2021 that
    could be read either way (``None``: month first, with a warning). A column becomes numbers when at least half
    its cells are numbers and the rest are blank or say things like 'NA'; otherwise it stays text.
    """
    raw = series.astype("str")
    stripped = raw.str.strip()
    blank = (stripped == "").to_numpy(dtype=bool)
    spaces_only = int((blank & (raw != "").to_numpy(dtype=bool)).sum())
    text = raw.where(~blank)
    nonblank = stripped[~blank]
    if nonblank.empty:
        return pd.Series(np.full(len(raw), np.nan, dtype=object), index=raw.index)

    sample = _sample(nonblank)
    if parse_numbers(sample, decimal).notna().mean() >= 0.5:
        result = _convert_numeric(column, text, nonblank, decimal, log, spaces_only)
        return text if result is None else result

    date_result = _convert_dates(column, nonblank, sample, dayfirst, log)
    if date_result is not None:
        out = pd.Series(pd.NaT, index=raw.index, dtype=date_result.dtype)
        out.iloc[np.flatnonzero(~blank)] = date_result.to_numpy()
        if spaces_only:
            log.unconverted[column] = log.unconverted.get(column, 0) + spaces_only
            log.warnings.append(
                f"Column {column!r}: {spaces_only:,} cells containing only spaces were read as missing dates."
            )
        return out

    if spaces_only:
        log.warnings.append(f"Column {column!r}: {spaces_only:,} cells containing only spaces were read as empty.")
    return text


def _convert_numeric(
    column: str, text: pd.Series, nonblank: pd.Series, decimal: str, log: LoadLog, spaces_only: int
) -> pd.Series | None:
    numbers = parse_numbers(nonblank, decimal)
    failed = nonblank[numbers.isna().to_numpy()]
    na_like = failed.str.lower().isin(_NA_TOKENS).to_numpy(dtype=bool)
    words = failed[~na_like]
    if len(words):
        examples = ", ".join(repr(v) for v in words.drop_duplicates().head(3))
        log.unconverted[column] = len(words)
        log.warnings.append(
            f"Column {column!r} mixes numbers and text: {len(words):,} of {len(nonblank):,} cells are not numbers "
            f"(e.g. {examples}); the column was kept as text."
        )
        return None
    currencies = currency_counts(nonblank[~nonblank.str.fullmatch(r"[\d.,+\-eE ]*").to_numpy(dtype=bool)])
    if len(currencies) > 1:
        log.warnings.append(mixed_currencies(column, currencies) + ", so the column was kept as text. Convert "
                            "the amounts to one currency (or split the file by currency) and load it again.")
        return None
    parsed = numbers.dropna().to_numpy()
    integral = bool(np.all(np.mod(parsed, 1) == 0))
    leading_zero = nonblank.str.match(r"[+-]?0\d").to_numpy(dtype=bool)
    if integral and leading_zero.any():
        example = nonblank[leading_zero].iloc[0]
        log.warnings.append(f"Column {column!r} keeps its leading zeros (e.g. {example!r}); it was read as text.")
        return text
    if integral and looks_like_identifier(column):
        return text  # identifiers: exact text, no arithmetic
    if integral and len(parsed) and float(np.abs(parsed).max()) >= 2**53:
        log.warnings.append(
            f"Column {column!r} holds whole numbers too long to store exactly; it was read as text."
        )
        return text
    converted = int(na_like.sum()) + spaces_only
    if converted:
        log.unconverted[column] = log.unconverted.get(column, 0) + converted
        log.warnings.append(
            f"Column {column!r}: {converted:,} cells that are blank or say things like 'NA' "
            "were read as missing numbers."
        )
    values = np.full(len(text), np.nan)
    values[text.index.get_indexer(numbers.index)] = numbers.to_numpy()
    if integral and not np.isnan(values).any():
        return pd.Series(values.astype("int64"), index=text.index)
    return pd.Series(values, index=text.index)


def _convert_dates(
    column: str, nonblank: pd.Series, sample: pd.Series, dayfirst: bool | None, log: LoadLog
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
            parsed = _parse_numeric_dates(column, nonblank, dayfirst, log)
            if parsed is None:
                return None
        else:
            parsed = _parse_named_month_dates(nonblank)
        failed = int(parsed.isna().sum())
        if failed:
            examples = ", ".join(repr(v) for v in nonblank[parsed.isna().to_numpy()].head(3))
            log.unconverted[column] = log.unconverted.get(column, 0) + failed
            log.warnings.append(
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
    column: str, values: pd.Series, preference: bool | None, log: LoadLog
) -> pd.Series | None:
    """Dates like 04/05/2021; ``preference`` is the analyst's dayfirst option, followed where values allow it."""
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
            if preference is not None and preference != dayfirst:
                example = values.iloc[int(np.argmax((a > 12) if dayfirst else (b > 12)))]
                log.warnings.append(
                    f"Column {column!r} has dates such as {example!r} that can only be "
                    f"{'day/month' if dayfirst else 'month/day'}; they were read that way although the dayfirst "
                    "option says otherwise."
                )
        else:
            dayfirst = bool(preference) if preference is not None else False
            if preference is None:
                log.warnings.append(
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


# --------------------------------------------------------------------------------------------------------------------
# Spreadsheet cells
# --------------------------------------------------------------------------------------------------------------------
def is_blank_cell(value: Any) -> bool:
    """Whether a spreadsheet cell holds nothing (None, or only spaces)."""
    return value is None or (isinstance(value, str) and not value.strip())


def excel_header_text(value: Any) -> str:
    """A header cell as a column name: 2021.0 -> "2021", empty -> ""."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def convert_excel_column(
    column: str, values: list[Any], decimal: str, dayfirst: bool | None, log: LoadLog
) -> pd.Series:
    """A column of spreadsheet cells as dates, numbers or text; cells typed as text follow :func:`convert_strings`."""
    present = [v for v in values if not is_blank_cell(v)]
    if present and all(isinstance(v, (pd.Timestamp, np.datetime64)) or hasattr(v, "year") for v in present):
        return pd.Series(pd.to_datetime([None if is_blank_cell(v) else v for v in values], errors="coerce"))
    numbers = [v for v in present if isinstance(v, (int, float)) and not isinstance(v, bool)]
    if present and len(numbers) == len(present) and not looks_like_identifier(column):
        array = np.array([np.nan if is_blank_cell(v) else float(v) for v in values], dtype="float64")
        if all(float(v).is_integer() for v in numbers) and not np.isnan(array).any():
            return pd.Series(array.astype("int64"))
        return pd.Series(array)
    # Anything else goes through the text rules (leading zeros, mixed types, dates in text cells).
    strings = pd.Series([None if v is None else _excel_cell_text(v) for v in values], dtype=object)
    return convert_strings(column, strings.fillna(""), decimal, dayfirst, log)


def _excel_cell_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if hasattr(value, "isoformat"):
        return value.isoformat(sep=" ") if hasattr(value, "hour") else value.isoformat()
    return str(value)

