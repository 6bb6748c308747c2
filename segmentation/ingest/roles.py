"""Infer each column's role (id, numeric, categorical, text, date, pii, describe, ignore) with a reason to read.

``label`` and ``outcome`` are never inferred: only the analyst knows which column
holds known groups or an outcome to explain. The columns a roll-up of order lines
adds to describe customers (the RFM group, predicted value) are "describe": shown
in profiles, on the map and in exports, never features, because they restate
recency, frequency and monetary value, which already are; the three RFM scores are
"ignore" for the same reason. Every inferred role can be overridden;
:func:`resolve_roles` applies the overrides and refuses ones that name a column
the table does not have.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from segmentation.common import ID_WORDS, name_tokens
from segmentation.config import ROLES
from segmentation.errors import ConfigError
from segmentation.ingest.columnar import NumberBlock, number_blocks
from segmentation.ingest.privacy import detect_pii, numbers_may_be_pii
from segmentation.understand.wording import readable_number

_ID_TOKENS = ID_WORDS | {"key", "number", "no", "nr", "num", "ref", "reference"}
_PERSON_TOKENS = frozenset(
    {
        "customer",
        "client",
        "user",
        "member",
        "account",
        "cust",
        "buyer",
        "shopper",
        "person",
        "contact",
        "subscriber",
        "patient",
        "household",
        "customerid",
        "custid",
        "clientid",
        "userid",
        "memberid",
        "accountid",
    }
)
# Words that name a quantity. A column so named holds measurements even when its values happen to be
# 0, 1, 2, … or all distinct: the name outweighs such a coincidence (a "spend" column is never an id).
_MEASURE_TOKENS = frozenset(
    (
        "spend spent spending amount total sum revenue sales turnover price cost costs fee fees income salary "
        "wage earnings profit margin balance value monetary payment payments paid discount age score rating "
        "count quantity qty units visits orders purchases transactions sessions clicks calls logins items "
        "points recency frequency tenure days weeks months years hours minutes duration weight height "
        "distance rate ratio share percent percentage pct average avg mean"
    ).split()
)
# Words that name a grouping: values that happen to be distinct single words (a tiny table) are still categories.
_CATEGORY_TOKENS = frozenset(
    {"group", "segment", "category", "class", "type", "kind", "tier", "status", "level", "plan", "band", "bucket",
     "favourite", "favorite"}
)
# Columns a roll-up of order lines adds (ingest.orders, value): they restate recency, frequency and monetary value.
_RFM_SCORES = frozenset({"rfm_r", "rfm_f", "rfm_m", "rfm_score"})
DESCRIBE_ONLY: dict[str, str] = {
    "rfm_group": "The customer's RFM group (Champions … Lost)",
    "p_alive": "The predicted chance that the customer is still active",
    "expected_purchases": "The predicted number of purchases over the horizon",
    "predicted_clv": "The predicted customer lifetime value",
    "value_at_risk": "Predicted value at risk (lifetime value × chance of having left)",
}
"""Roll-up columns inferred as "describe": they describe segments (profiles, map, exports) but never drive them."""
LIST_SEPARATOR = "; "
"""How a roll-up joins a customer's texts (``ingest.orders.TEXT_SEPARATOR``)."""
DATE_LIKE = re.compile(
    r"^\s*(?:\d{4}-\d{1,2}-\d{1,2}|\d{1,4}[/.-]\d{1,2}[/.-]\d{1,4}|\d{1,2}[- ][A-Za-z]{3,9}[- ,]+\d{2,4}|"
    r"[A-Za-z]{3,9}\.? \d{1,2},? \d{4})(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?(?:Z|[+-]\d{2}:?\d{2})?\s*$"
)
_SAMPLE_ROWS = 5_000
_PLAIN_NUMBER = r"[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:[eE][+-]?\d+)?"
_PII_LABELS = {
    "email": "e-mail addresses",
    "phone": "phone numbers",
    "name": "person names",
    "address": "street addresses",
    "card": "payment card numbers",
    "account": "bank account numbers",
}


@dataclass(frozen=True)
class ColumnRole:
    """A column's role, why it was chosen, and which kind of identifier it holds when the role is "pii"."""

    column: str
    role: str
    reason: str
    pii_kind: str | None = None


def _is_measure_name(column: str) -> bool:
    """Named like a quantity ("spend", "Total_Amount", "numberOfVisits"): never an identifier, whatever the values."""
    return any(t in _MEASURE_TOKENS for t in name_tokens(column))


def _may_be_code(column: str) -> bool:
    """Whether values alone may make the column an identifier: its name says neither a measure nor a grouping."""
    return not _is_measure_name(column) and not any(t in _CATEGORY_TOKENS for t in name_tokens(column))


def _is_id_name(column: str) -> bool:
    return not _is_measure_name(column) and any(t in _ID_TOKENS for t in name_tokens(column))


def _is_person_id_name(column: str) -> bool:
    tokens = name_tokens(column)
    if _is_measure_name(column):
        return False
    return (any(t in _PERSON_TOKENS for t in tokens) and any(t in _ID_TOKENS for t in tokens)) or any(
        t in {"customerid", "custid", "clientid", "userid", "memberid", "accountid"} for t in tokens
    )


def _sample(values: pd.Series) -> pd.Series:
    if len(values) <= _SAMPLE_ROWS:
        return values
    return values.iloc[np.linspace(0, len(values) - 1, _SAMPLE_ROWS).astype(int)]


def _fmt(value: object) -> str:
    if isinstance(value, (float, np.floating)):
        return readable_number(value)   # the one formatter: 10,300, never 1.03e+04
    if isinstance(value, (int, np.integer)):
        return f"{int(value):,}" if abs(int(value)) >= 10_000 else str(int(value))
    return repr(value)


def _infer_one(series: pd.Series, column: str) -> ColumnRole:
    n = len(series)
    present = series.dropna()
    is_text = pd.api.types.is_string_dtype(series) or series.dtype == object
    if is_text and not present.empty:
        present = present[present.astype(str).str.strip() != ""]
    if present.empty:
        return ColumnRole(column, "ignore", "Every value is empty.")
    if column in _RFM_SCORES:
        return ColumnRole(column, "ignore", "An RFM score (1-5) made from recency, frequency or monetary value, "
                                            "which are already features: kept in exports, not counted twice.")
    if column in DESCRIBE_ONLY:
        return ColumnRole(column, "describe", f"{DESCRIBE_ONLY[column]}: describes segments in profiles, on the map "
                                              "and in exports, but does not drive them.")
    distinct = int(present.nunique())
    if distinct == 1:
        return _constant_role(column, present.iloc[0], n, len(present))
    kind = detect_pii(series, column)
    if kind is not None:
        return ColumnRole(
            column, "pii", f"Holds {_PII_LABELS[kind]}: a direct identifier, kept out of the features.", kind
        )
    if pd.api.types.is_datetime64_any_dtype(series):
        return ColumnRole(column, "date", f"Dates from {present.min():%Y-%m-%d} to {present.max():%Y-%m-%d}.")
    if pd.api.types.is_bool_dtype(series) or (series.dtype == object and present.map(type).eq(bool).all()):
        return ColumnRole(column, "categorical", "True/false values: a yes/no flag.")
    if pd.api.types.is_numeric_dtype(series):
        return _infer_numeric(present, column, n, distinct)
    return _infer_strings(present.astype(str), column, n, distinct)


_ROW_TOKENS = frozenset({"index", "idx", "row", "rownum", "rowid", "unnamed", "line", "nr", "no", "num", "number"})
"""Words of a name that says nothing but "row number" ("index", "Unnamed: 0", "#", "nr")."""


def _row_number_reason(values: np.ndarray, column: str, n: int) -> str | None:
    """Why the column is a row number written into the file (pandas' index, a spreadsheet's "#"), or None.

    Read from the values whatever the name, unless the name says it is a measure or a grouping: whole numbers,
    one per row, all different, that run 0..n-1 or 1..n (in any order) or rise on every row. A column without a
    name of its own ("", "Unnamed: 0", "#", "index") needs only different whole numbers on every row: a sample
    of a larger file keeps its row numbers with gaps and shuffled."""
    if n <= 20 or len(values) != n or not _may_be_code(column) or not np.all(np.mod(values, 1) == 0):
        return None
    if len(np.unique(values)) != n:
        return None
    low, high = values.min(), values.max()
    if low in (0, 1) and high - low == n - 1:
        return f"Whole numbers {_fmt(low)} to {_fmt(high)}, one per row: a row number, not a feature."
    if np.all(np.diff(values) > 0):
        return f"Whole numbers rising on every row ({_fmt(values[0])}, {_fmt(values[1])}, …): a row number."
    if all(t in _ROW_TOKENS or t.isdigit() for t in name_tokens(column)):
        return "A different whole number on every row in a column without a name of its own: a row number."
    return None


def _constant_role(column: str, value: object, n: int, count: int) -> ColumnRole:
    """A column with one value in its ``count`` filled cells of ``n``: nothing to tell customers apart by."""
    if count == n:
        return ColumnRole(column, "ignore",
                          f"Every row has the same value ({_fmt(value)}), so it tells customers apart not at all.")
    return ColumnRole(column, "ignore", f"Only one value ({_fmt(value)}) apart from {n - count:,} empty cells.")


def _measure_role(column: str, integral: bool, distinct: int, count: int, low: float, high: float) -> ColumnRole:
    """A number column that is no row number and no yes/no flag: an identifier by its name, a score or count,
    or a measure. One wording for the per-column rules and the block of a wide file."""
    if integral and _is_person_id_name(column):
        return ColumnRole(column, "id",
                          f"Named like a customer identifier; {distinct:,} distinct values in {count:,} rows.")
    if integral and distinct <= 10:
        return ColumnRole(column, "numeric", f"Whole numbers with only {distinct} distinct values "
                                             f"({_fmt(low)}–{_fmt(high)}): read as a score or count.")
    return ColumnRole(column, "numeric", f"Numbers with {distinct:,} distinct values from {_fmt(low)} to {_fmt(high)}.")


def _infer_numeric(present: pd.Series, column: str, n: int, distinct: int) -> ColumnRole:
    values = present.to_numpy(dtype="float64")
    integral = bool(np.all(np.mod(values, 1) == 0))
    unique = distinct == len(present)
    if integral and unique and _is_id_name(column):
        return ColumnRole(column, "id", "A different whole number on every row, named like an identifier.")
    row_number = _row_number_reason(values, column, n)
    if row_number is not None:
        return ColumnRole(column, "id", row_number)
    consecutive = integral and unique and len(present) == n and values.max() - values.min() == n - 1 and n > 20
    if consecutive and _may_be_code(column):
        return ColumnRole(
            column,
            "id",
            f"Consecutive whole numbers ({_fmt(values.min())}, {_fmt(values.min() + 1)}, …): a row number.",
        )
    low, high = values.min(), values.max()
    if integral and _is_person_id_name(column):
        return _measure_role(column, integral, distinct, len(present), low, high)
    if consecutive:
        return ColumnRole(
            column,
            "numeric",
            f"Whole numbers from {_fmt(low)} to {_fmt(high)}, one per row like a row number, "
            "but the name says it is a measure, not an identifier.",
        )
    if distinct == 2:
        a, b = np.unique(values)[:2]
        return ColumnRole(column, "categorical", f"Only two values ({_fmt(a)} and {_fmt(b)}): a yes/no flag.")
    return _measure_role(column, integral, distinct, len(present), low, high)


def _infer_strings(present: pd.Series, column: str, n: int, distinct: int) -> ColumnRole:
    sample = _sample(present).astype("str")
    unique_share = distinct / len(present)
    words = sample.str.count(r"\S+")
    mean_words = float(words.mean())
    lengths = sample.str.len()
    single_token = float((words <= 1).mean()) >= 0.99

    may_be_code = _may_be_code(column)
    if unique_share >= 0.95 and (_is_id_name(column) or (may_be_code and single_token and lengths.nunique() <= 3)):
        return ColumnRole(
            column, "id", f"{unique_share:.0%} unique codes without spaces, named or shaped like an identifier."
        )
    if _is_person_id_name(column) and single_token:
        return ColumnRole(
            column,
            "id",
            f"Named like a customer identifier; values repeat ({distinct:,} distinct in {len(present):,} rows), "
            "so one customer has several rows.",
        )
    if float(sample.str.match(DATE_LIKE.pattern).mean()) >= 0.9:
        parsed = pd.to_datetime(sample, errors="coerce", format="mixed")
        if parsed.notna().mean() >= 0.9:
            return ColumnRole(column, "date", f"Text dates such as {sample.iloc[0]!r}.")
    if _is_name_list(sample):
        return ColumnRole(
            column, "ignore", "Lists of short names joined with '; ' (e.g. the products a customer bought): not "
                              "the customers' own words, so not embedded as free text.")
    grouping = any(t in _CATEGORY_TOKENS for t in name_tokens(column))  # "favourite_category": short names
    if mean_words >= 5 or (unique_share >= 0.5 and mean_words >= 2 and not grouping):
        return ColumnRole(
            column, "text", f"{unique_share:.0%} unique strings averaging {mean_words:.0f} words → free text."
        )
    if not grouping and unique_share >= 0.2 and free_text_words(sample) is not None:   # short reviews that repeat
        return ColumnRole(
            column, "text", f"{distinct:,} different sentences ({unique_share:.0%} unique) of {mean_words:.1f} words "
                            "on average, mostly letters → free text."
        )
    if unique_share >= 0.95 and single_token and may_be_code:
        return ColumnRole(
            column, "id", f"{unique_share:.0%} unique single-word values: looks like a code or identifier."
        )
    is_number = sample.str.strip().str.fullmatch(_PLAIN_NUMBER).to_numpy(dtype=bool)
    if is_number.all():
        return ColumnRole(column, "categorical", f"Numeric codes with {distinct:,} distinct values → categories.")
    if is_number.mean() >= 0.5:
        example = sample[~is_number].iloc[0]
        return ColumnRole(
            column,
            "categorical",
            f"Mostly numbers but some text (e.g. {example!r}): treated as {distinct:,} categories.",
        )
    if distinct > 50:
        return ColumnRole(
            column,
            "categorical",
            f"{distinct:,} distinct short values: many categories; only the most frequent become features.",
        )
    return ColumnRole(column, "categorical", f"{distinct} distinct short values → categories.")


def free_text_words(values: pd.Series) -> float | None:
    """The average words per value when ``values`` read as people's own words, in any language, else None.

    Read from the data alone, so that "comentario", "avis" or "Kommentar" need no name list: at least two words
    per value on average, mostly letters (any script), many different values (a fifth of them, or 50, or 8
    of three words and more), and lengths that vary as sentences do. Codes (one word, fixed length), short
    categories ("Produits laitiers": few distinct values), amounts and dates fail.
    """
    present = values.dropna().astype(str).str.strip()
    sample = _sample(present[present != ""])
    if len(sample) < 3:
        return None
    words = float(sample.str.count(r"\S+").mean())
    distinct = int(sample.nunique())
    characters = "".join(sample.tolist()).replace(" ", "")
    letters = sum(ch.isalpha() for ch in characters) / max(len(characters), 1)
    dated = float(sample.str.match(DATE_LIKE.pattern).mean())
    if words < 2 or letters < 0.6 or dated >= 0.5 or float(sample.str.len().std()) < 2:
        return None
    # comments copied onto every line of an order repeat: a dozen different sentences of three words is enough
    if distinct < 3 or (distinct < 0.2 * len(sample) and distinct < 50 and (distinct < 8 or words < 3)):
        return None
    return words


def _is_name_list(sample: pd.Series) -> bool:
    """Most values are lists of short names joined by a roll-up ("MUG; PLATE"), names that recur across customers.

    Customers' own texts joined the same way are long and rarely repeat word for word, so they stay free text.
    """
    joined = sample.str.contains(LIST_SEPARATOR, regex=False)
    if float(joined.mean()) < 0.3:
        return False
    pieces = sample.str.split(LIST_SEPARATOR, regex=False).explode().str.strip()
    pieces = pieces[pieces != ""]
    if pieces.empty:
        return False
    short = float(pieces.str.count(r"\S+").mean()) <= 6
    return bool(short and pieces.nunique() <= 0.5 * len(pieces))


def infer_roles(table: pd.DataFrame) -> dict[str, ColumnRole]:
    """Each column's role with a plain-language reason, in the table's column order.

    Constant and empty columns are "ignore"; identifiers, dates and direct
    identifiers (pii) are recognised from names and values; "label" and
    "outcome" are never inferred; the RFM group and predicted value columns of a
    roll-up are "describe" and its RFM scores and lists of product names "ignore".
    A column's name outweighs a coincidence of values: one named like a measure
    ("spend", "Total_Amount", "visits", "age", "score") stays numeric even when
    its values run 0, 1, 2, …, and one named like a grouping ("group",
    "segment", "type") stays categorical even when every value differs. Without
    a telling name the values decide, so unseen files work.
    Large tables are judged on an evenly spaced sample of 5,000 rows for word
    counts; uniqueness is always measured on the full column.
    """
    decided: dict[int, ColumnRole] = {}
    if table.columns.is_unique:
        for block in number_blocks(table):
            decided.update(_infer_number_block(table, block))
    return {str(column): decided[j] if j in decided else _infer_one(table[column], str(column))
            for j, column in enumerate(table.columns)}


def _infer_number_block(table: pd.DataFrame, block: NumberBlock) -> dict[int, ColumnRole]:
    """The roles :func:`_infer_one` gives the common number columns of ``block``, read from the block's
    statistics (wide files hold thousands of them); columns that may be identifiers, flags, special names or
    otherwise unusual are left out, for :func:`_infer_one` to decide one by one."""
    n = len(table)
    decided: dict[int, ColumnRole] = {}
    for row, j in enumerate(block.positions):
        column = str(table.columns[j])
        count, distinct = int(block.count[row]), int(block.distinct[row])
        integral, low, high = bool(block.integral[row]), block.low[row], block.high[row]
        if (block.unusual[row] or column in _RFM_SCORES or column in DESCRIBE_ONLY or numbers_may_be_pii(column)
                or distinct == 2 or (integral and distinct == count)):
            continue   # identifiers, row numbers, flags, roll-up columns: the per-column rules word them
        if count == 0:
            decided[j] = ColumnRole(column, "ignore", "Every value is empty.")
        elif distinct == 1:
            decided[j] = _constant_role(column, table.iat[int(block.first[row]), j], n, count)
        else:
            decided[j] = _measure_role(column, integral, distinct, count, low, high)
    return decided


def resolve_roles(table: pd.DataFrame, overrides: Mapping[str, str] | None = None,
                  inferred: Mapping[str, ColumnRole] | None = None) -> dict[str, str]:
    """Column -> role: the inferred role, replaced by the analyst's override where there is one.

    ``inferred``: the table's roles from :func:`infer_roles`, when the caller already has them (they are
    inferred here otherwise, which takes seconds on a file with thousands of columns).
    Raises :class:`ConfigError` when an override names a column the table does not
    have or a role outside ``config.ROLES``.
    """
    overrides = dict(overrides or {})
    columns = [str(c) for c in table.columns]
    for column, role in overrides.items():
        if column not in columns:
            shown = ", ".join(map(repr, columns[:20])) + (", …" if len(columns) > 20 else "")
            raise ConfigError(
                f"The role override names column {column!r}, which is not in the table. Its columns are: {shown}."
            )
        if role not in ROLES:
            raise ConfigError(
                f"The role of column {column!r} must be one of {', '.join(map(repr, ROLES))}. Got {role!r} instead."
            )
    inferred = infer_roles(table) if inferred is None else inferred
    return {column: overrides.get(column, inferred[column].role) for column in columns}


def roles_table(roles: Mapping[str, ColumnRole]) -> pd.DataFrame:
    """The roles as an editable table with columns column, role, reason."""
    return pd.DataFrame([(r.column, r.role, r.reason) for r in roles.values()], columns=["column", "role", "reason"])
