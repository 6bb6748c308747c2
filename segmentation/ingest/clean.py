"""Data quality report and reproducible cleaning of structured columns.

The report only looks; :func:`clean_table` changes the data, driven entirely by
``CleanConfig`` so that a run can be repeated. Cleaning never drops a row except
duplicate customers (when asked), never fills free text, and keeps the original
index so every kept row can be traced back to the loaded table.

Cleaning a column is learnt once and then applied: :func:`fit_cleaning` turns the
training data into a :class:`CleaningRecipe` of plain numbers (fill values, clip
bounds, which columns are log-transformed) and :func:`apply_cleaning` applies it.
``clean_table`` is exactly these two steps, and a saved model applies the same
recipe to new customers, so cleaning at fit time and at assign time is one code path.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from segmentation.config import CleanConfig
from segmentation.errors import ConfigError
from segmentation.ingest.columnar import number_blocks
from segmentation.understand.wording import capitalise, column_label, pretty_column, setting_label

MISSING_CATEGORY = "(missing)"
SKEW_THRESHOLD = 2.0
HIGH_CARDINALITY = 50
OUTLIER_IQR = 3.0
"""Values beyond 3 x IQR outside the quartiles count as outliers (Tukey's "far out")."""


@dataclass(frozen=True)
class QualityIssue:
    """One finding about the data; ``column`` is None for table-wide findings such as duplicate rows."""

    column: str | None
    kind: str
    severity: str  # "info" or "warning"
    message: str


@dataclass(frozen=True, eq=False)  # holds DataFrames: compared and hashed by identity
class QualityReport:
    """Table-wide counts, a per-column table and the findings worth the analyst's attention."""

    n_rows: int
    n_duplicate_rows: int
    n_duplicate_ids: int
    columns: pd.DataFrame  # column, role, missing_share, distinct, skewness, outlier_share
    issues: tuple[QualityIssue, ...]

    def column_statistics(self) -> pd.DataFrame:
        """The per-column table for people: headers in plain words ("missing_share" -> "Empty cells", one mapping:
        ``understand.wording.SETTING_LABELS``)."""
        return self.columns.rename(columns=lambda name: capitalise(setting_label(name)))


@dataclass(frozen=True)
class CleaningLog:
    """What :func:`clean_table` changed, column by column."""

    rows_before: int
    rows_after: int
    duplicates_dropped: int
    imputed: dict[str, int] = field(default_factory=dict)
    clipped: dict[str, int] = field(default_factory=dict)
    log_transformed: tuple[str, ...] = ()
    dropped_columns: tuple[str, ...] = ()

    def summary_lines(self) -> list[str]:
        """Plain sentences for the CLI and the app."""
        lines = [f"{self.rows_after:,} of {self.rows_before:,} rows kept."]
        if self.duplicates_dropped:
            lines.append(
                f"{self.duplicates_dropped:,} duplicate customers were dropped (the first row of each was kept)."
            )
        if self.dropped_columns:
            lines.append(f"Columns dropped: {', '.join(map(column_label, self.dropped_columns))}.")
        for column, count in self.imputed.items():
            lines.append(f"{column_label(column)}: {count:,} empty "
                         f"{'value was' if count == 1 else 'values were'} filled.")
        for column, count in self.clipped.items():
            lines.append(f"{column_label(column)}: {count:,} extreme "
                         f"{'value was' if count == 1 else 'values were'} clipped.")
        if self.log_transformed:
            lines.append("Evened out by taking logarithms (very uneven amounts): "
                         f"{', '.join(map(pretty_column, self.log_transformed))}.")
        if len(lines) == 1:
            lines.append("Nothing else needed cleaning.")
        return lines


def _as_numbers(series: pd.Series) -> pd.Series:
    if pd.api.types.is_bool_dtype(series):
        return series.astype("float64")
    if pd.api.types.is_numeric_dtype(series):
        return series.astype("float64")
    return pd.to_numeric(series, errors="coerce").astype("float64")


def _skewness(values: pd.Series) -> float:
    values = values.dropna()
    if len(values) < 3 or values.nunique() < 2:
        return float("nan")
    return float(values.skew())


def _outlier_share(values: pd.Series) -> float:
    return _outlier_share_of(values.dropna().to_numpy(dtype="float64"))


def _outlier_share_of(values: np.ndarray) -> float:
    """The share of ``values`` (no NaN) more than ``OUTLIER_IQR`` times the interquartile range beyond the quartiles."""
    if len(values) < 4:
        return 0.0
    q1, q3 = np.percentile(values, [25, 75])
    spread = q3 - q1
    if spread == 0:
        return 0.0
    outside = (values < q1 - OUTLIER_IQR * spread) | (values > q3 + OUTLIER_IQR * spread)
    return float(np.count_nonzero(outside) / len(values))


def _column_statistics(series: pd.Series, role: str) -> tuple[float, int, float, float]:
    """Missing share, distinct values, and for a numeric role the skewness and outlier share of one column."""
    missing = float(series.isna().mean()) if len(series) else 0.0
    distinct = int(series.nunique(dropna=True))
    skewness = outlier = float("nan")
    if role == "numeric":
        numbers = _as_numbers(series)
        skewness = _skewness(numbers)
        outlier = _outlier_share(numbers)
    return missing, distinct, skewness, outlier


def _number_statistics(table: pd.DataFrame, roles: Mapping[str, str]) -> dict[int, tuple[float, int, float, float]]:
    """:func:`_column_statistics` of the plain number columns, by position, from blocks of many columns at once
    (files with thousands of columns spent seconds in per-column pandas calls); unusual columns are left out."""
    n_rows = len(table)
    out: dict[int, tuple[float, int, float, float]] = {}
    for block in number_blocks(table):
        outside = _outside_counts(block.values, block.ordered) if n_rows >= 4 else None
        for row, j in enumerate(block.positions):
            if block.unusual[row]:
                continue
            count, distinct = int(block.count[row]), int(block.distinct[row])
            skewness = outlier = float("nan")
            if roles.get(table.columns[j], "") == "numeric":
                values = block.values[row]
                present = values if count == n_rows else values[~np.isnan(values)]
                skewness = float("nan") if count < 3 or distinct < 2 else float(pd.Series(present).skew())
                outlier = int(outside[row]) / n_rows if count == n_rows and outside is not None else (
                    _outlier_share_of(present))
            out[int(j)] = ((n_rows - count) / n_rows, distinct, skewness, outlier)
    return out


def _outside_counts(values: np.ndarray, ordered: np.ndarray) -> np.ndarray:
    """Per row of ``values`` (rows sorted in ``ordered``), how many lie beyond the quartiles by more than
    ``OUTLIER_IQR`` interquartile ranges, as :func:`_outlier_share_of` counts them (0 where the range is 0).
    Read only for rows without NaN: quantiles of sorted rows need no partition (a tenth of the time)."""
    q1, q3 = np.percentile(ordered, [25, 75], axis=1)
    spread = q3 - q1
    with np.errstate(invalid="ignore"):
        beyond = (values < (q1 - OUTLIER_IQR * spread)[:, None]) | (values > (q3 + OUTLIER_IQR * spread)[:, None])
    return np.where(spread == 0, 0, beyond.sum(axis=1))


def _duplicate_rows(table: pd.DataFrame, first_columns: int = 32) -> int:
    """How many rows are exact copies of an earlier row.

    A wide table is first compared on its first columns: a row unlike every other row there copies none and
    none copies it, so only the rows alike there are compared in full (comparing 10,000 columns took seconds)."""
    if table.shape[1] > first_columns:
        alike = _hashable(table.iloc[:, :first_columns]).duplicated(keep=False).to_numpy()
        if not alike.any():
            return 0
        table = table.iloc[np.flatnonzero(alike)]
    return int(_hashable(table).duplicated().sum())


def _id_column(table: pd.DataFrame, roles: Mapping[str, str]) -> str | None:
    return next((c for c in table.columns if roles.get(c) == "id"), None)


def _hashable(table: pd.DataFrame) -> pd.DataFrame:
    """Cells such as lists make ``duplicated`` fail; compare them by their text."""
    frame = table.copy()
    for column in frame.columns:
        if frame[column].dtype == object:
            frame[column] = frame[column].map(
                lambda v: v if isinstance(v, (str, int, float, bool)) or v is None else repr(v)
            )
    return frame


def quality_report(table: pd.DataFrame, roles: Mapping[str, str]) -> QualityReport:
    """Missing values, constant and empty columns, very many categories, skewed amounts, outliers, duplicates.

    ``roles`` maps columns to roles (as from ``schema.resolve_roles``). The report
    changes nothing; the cleaning choices it suggests are made in ``CleanConfig``.
    """
    n_rows = len(table)
    issues: list[QualityIssue] = []
    records = []
    from_blocks = _number_statistics(table, roles) if table.columns.is_unique and n_rows else {}
    for j, column in enumerate(table.columns):
        role = roles.get(column, "")
        if j in from_blocks:
            missing, distinct, skewness, outlier = from_blocks[j]
        else:
            missing, distinct, skewness, outlier = _column_statistics(table[column], role)
        records.append((column, role, missing, distinct, skewness, outlier))

        if n_rows and missing == 1.0:
            issues.append(QualityIssue(column, "empty", "warning", f"Column {column!r} is empty; it is ignored."))
            continue
        if missing > 0:
            severity = "warning" if missing >= 0.2 else "info"
            what = (
                "text is left as it is"
                if role == "text"
                else "they are filled when cleaning (see the cleaning settings)"
            )
            issues.append(
                QualityIssue(column, "missing", severity, f"Column {column!r} is {missing:.1%} empty; {what}.")
            )
        if distinct == 1:
            issues.append(
                QualityIssue(
                    column,
                    "constant",
                    "warning",
                    f"Column {column!r} has the same value on every row; it tells customers apart not at all.",
                )
            )
        if role == "categorical" and distinct > HIGH_CARDINALITY:
            issues.append(
                QualityIssue(
                    column,
                    "high_cardinality",
                    "warning",
                    f"Column {column!r} has {distinct:,} different categories; only the most frequent become features. "
                    "Consider the role 'ignore' or 'text'.",
                )
            )
        if role == "numeric" and not np.isnan(skewness) and skewness > SKEW_THRESHOLD:
            issues.append(
                QualityIssue(
                    column,
                    "skewed",
                    "info",
                    f"Column {column!r} is strongly skewed (skewness {skewness:.1f}): a few customers have very large "
                    "values. Cleaning evens this out by taking logarithms (on by default).",
                )
            )
        if role == "numeric" and outlier > 0.01:
            issues.append(
                QualityIssue(
                    column,
                    "outliers",
                    "info",
                    f"Column {column!r}: {outlier:.1%} of values lie far from the rest (more than three times "
                    "the spread of the middle half beyond it); "
                    "trimming extreme values when cleaning would pull them in.",
                )
            )

    n_duplicate_rows = _duplicate_rows(table) if n_rows else 0
    id_column = _id_column(table, roles)
    n_duplicate_ids = 0
    if id_column is not None:
        ids = table[id_column]
        n_duplicate_ids = int((ids.duplicated(keep="first") & ids.notna()).sum())
    if n_duplicate_rows:
        issues.append(
            QualityIssue(
                None, "duplicate_rows", "warning", f"{n_duplicate_rows:,} rows are exact copies of an earlier row."
            )
        )
    if n_duplicate_ids:
        issues.append(
            QualityIssue(
                id_column,
                "duplicate_ids",
                "warning",
                f"{n_duplicate_ids:,} rows repeat a customer id already seen in {id_column!r}. "
                "If these are order lines, "
                "roll them up to one row per customer; otherwise drop_duplicates keeps the first row of each.",
            )
        )
    columns = pd.DataFrame(
        records, columns=["column", "role", "missing_share", "distinct", "skewness", "outlier_share"]
    )
    return QualityReport(n_rows, n_duplicate_rows, n_duplicate_ids, columns, tuple(issues))


@dataclass(frozen=True)
class CleaningRecipe:
    """How each structured column is cleaned, learnt from the training data as plain numbers and text.

    ``numeric`` maps a column to ``{"fill": value for empty cells, "clip": [low, high] or None, "log": bool}``;
    ``categorical`` maps a column to the text its empty cells get. Applying it to new customers reproduces the
    training cleaning exactly, whatever the new file's own distribution.
    """

    numeric: Mapping[str, Mapping[str, Any]]
    categorical: Mapping[str, str]

    def to_dict(self) -> dict[str, Any]:
        return {"numeric": {c: dict(v) for c, v in self.numeric.items()}, "categorical": dict(self.categorical)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CleaningRecipe:
        numeric = {}
        for column, step in dict(data.get("numeric", {})).items():
            clip = step.get("clip")
            numeric[str(column)] = {"fill": float(step["fill"]), "log": bool(step["log"]),
                                    "clip": None if clip is None else [float(clip[0]), float(clip[1])]}
        return cls(numeric, {str(c): str(v) for c, v in dict(data.get("categorical", {})).items()})


def category_text(value: Any) -> str:
    """A category as text, one spelling per value: ``True``, ``1`` for 1 and 1.0 alike, ``1.5``, ``basic``."""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value)


def _category_texts(series: pd.Series) -> pd.Series:
    """A categorical column as ``category_text`` strings, empty cells kept empty (None)."""
    return series.astype(object).map(category_text, na_action="ignore")


def fit_cleaning(table: pd.DataFrame, roles: Mapping[str, str], config: CleanConfig) -> CleaningRecipe:
    """Learn the cleaning of ``config`` for the numeric and categorical columns (by ``roles``) of ``table``.

    Numeric: the fill value of empty cells (``impute_numeric``), then clip bounds at the ``clip_quantile``
    quantiles of the filled values (none for columns of two values or fewer), then whether the clipped values
    are log1p-transformed (``log_skewed``: non-negative and skewness above ``SKEW_THRESHOLD``). Categorical: the
    text of empty cells, "(missing)" or the most frequent value (``impute_categorical``; ties go to the value
    seen first, so the choice never depends on hashing).
    """
    numeric: dict[str, dict[str, Any]] = {}
    categorical: dict[str, str] = {}
    for column in table.columns:
        role = roles.get(column)
        if role == "numeric":
            values = _as_numbers(table[column])
            fill = _numeric_fill(values, config.impute_numeric)
            values = values.fillna(fill)
            clip = None
            if config.clip_quantile > 0 and values.nunique() > 2:
                low, high = np.quantile(values.to_numpy(), [config.clip_quantile, 1 - config.clip_quantile])
                clip = [float(low), float(high)]
                values = values.clip(low, high)
            log = bool(config.log_skewed and len(values) and values.min() >= 0
                       and _skewness(values) > SKEW_THRESHOLD)
            numeric[column] = {"fill": float(fill), "clip": clip, "log": log}
        elif role == "categorical":
            categorical[column] = _category_fill(_category_texts(table[column]), config.impute_categorical)
    return CleaningRecipe(numeric, categorical)


def apply_cleaning(table: pd.DataFrame, cleaning: CleaningRecipe) -> pd.DataFrame:
    """``table`` with every column the recipe knows cleaned as the training data was; other columns untouched.

    Numeric columns become numbers (text that is not a number counts as empty), filled, clipped and
    log-transformed as learnt; a value below zero that the training data never had is taken as 0 before the log.
    Categorical columns become ``category_text`` strings with empty cells filled.
    """
    out = table.copy()
    for column in table.columns:
        if column in cleaning.numeric:
            out[column] = _clean_numbers(_as_numbers(table[column]), cleaning.numeric[column])
        elif column in cleaning.categorical:
            out[column] = _category_texts(table[column]).fillna(cleaning.categorical[column]).astype(object)
    return out


def clean_table(table: pd.DataFrame, roles: Mapping[str, str], config: CleanConfig) -> tuple[pd.DataFrame, CleaningLog]:
    """Apply the cleaning choices of ``config`` and report every change.

    - ``drop_duplicates`` drops rows whose id repeats an earlier row (or exact copies
      when there is no id column), keeping the first. No other row is ever dropped.
    - ``drop_columns`` removes columns (each must exist).
    - Numeric and categorical columns are cleaned by ``fit_cleaning`` then ``apply_cleaning`` on the rows
      kept: empty cells filled, extreme values clipped, skewed amounts log-transformed, categories as text.
      Text and other roles are left as they are.

    The result keeps the original index values, so rows map back to ``table``.
    """
    unknown = [c for c in config.drop_columns if c not in table.columns]
    if unknown:
        raise ConfigError(
            f"The 'drop_columns' setting of CleanConfig names {', '.join(map(repr, unknown))}, which the table does "
            f"not have. Its columns are: {', '.join(map(repr, map(str, table.columns)))}."
        )
    rows_before = len(table)
    out = table

    duplicates = 0
    if config.drop_duplicates and len(out):
        id_column = _id_column(out, roles)
        if id_column is not None:
            ids = out[id_column]
            repeat = ids.duplicated(keep="first") & ids.notna()
        else:
            repeat = _hashable(out).duplicated(keep="first")
        duplicates = int(repeat.sum())
        out = out.loc[~repeat.to_numpy()]

    dropped = tuple(config.drop_columns)
    out = out.drop(columns=list(dropped))
    cleaning = fit_cleaning(out, roles, config)

    imputed: dict[str, int] = {}
    clipped: dict[str, int] = {}
    for column in out.columns:
        if column in cleaning.numeric:
            step = cleaning.numeric[column]
            values = _as_numbers(out[column])
            missing = int(values.isna().sum())  # includes text that is not a number, so it is counted as filled
            if step["clip"] is not None:
                filled = values.fillna(step["fill"])
                outside = int(((filled < step["clip"][0]) | (filled > step["clip"][1])).sum())
                if outside:
                    clipped[column] = outside
        elif column in cleaning.categorical:
            missing = int(out[column].isna().sum())
        else:
            continue
        if missing:
            imputed[column] = missing

    log = CleaningLog(
        rows_before=rows_before,
        rows_after=len(out),
        duplicates_dropped=duplicates,
        imputed=imputed,
        clipped=clipped,
        log_transformed=tuple(c for c, step in cleaning.numeric.items() if step["log"]),
        dropped_columns=dropped,
    )
    return apply_cleaning(out, cleaning), log


def _clean_numbers(values: pd.Series, step: Mapping[str, Any]) -> pd.Series:
    values = values.fillna(step["fill"])
    if step["clip"] is not None:
        values = values.clip(*step["clip"])
    if step["log"]:
        values = np.log1p(values.clip(lower=0.0))
    return values


def _numeric_fill(values: pd.Series, how: str) -> float:
    present = values.dropna()
    if present.empty or how == "zero":
        return 0.0
    return float(present.median() if how == "median" else present.mean())


def _category_fill(texts: pd.Series, how: str) -> str:
    present = texts.dropna()
    if how == "most_frequent" and not present.empty:
        counts = present.value_counts(sort=False)
        first_seen = {v: i for i, v in enumerate(present.drop_duplicates())}
        return str(max(counts.index, key=lambda v: (counts[v], -first_seen[v])))
    return MISSING_CATEGORY
