"""Small histograms of a table's columns, for the column statistics on the Data page.

The library computes the bars; the app only draws them. A numeric column gets equal-width bins between its 1st and
99th percentiles (the extreme 1% fall into the two outer bins; very uneven amounts on a log scale), so one huge
spend does not squash every other customer into a single bar; a category column gets the counts of its most
frequent values, largest first.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

__all__ = ["HISTOGRAM_BINS", "column_histogram", "column_histograms"]

HISTOGRAM_BINS = 20
"""Bars per numeric histogram: enough to see a shape, few enough to read in a table cell."""

LOG_SKEW = 2.0
"""Skewness above which a column of non-negative numbers (spend, days since the last order) is binned on a log
scale, so its bulk spreads over the bars instead of filling the first one."""

_NUMERIC_ROLES = frozenset({"numeric", "outcome", "label"})


def _skewness(numbers: np.ndarray) -> float:
    spread = float(numbers.std())
    if numbers.size < 3 or spread <= 0:
        return 0.0
    return float(np.mean(((numbers - numbers.mean()) / spread) ** 3))


def column_histogram(values: pd.Series, bins: int = HISTOGRAM_BINS, numeric: bool | None = None) -> list[int]:
    """The bar heights (customer counts) of one column; empty when it has no value to count.

    ``numeric`` None reads numbers when the column's values are numbers (booleans and text as categories).
    Numbers: ``bins`` equal-width bins over the 1st–99th percentile range, values beyond it counted in the
    outer bins (on a log scale for non-negative numbers skewed beyond :data:`LOG_SKEW`); a column of whole
    numbers spanning fewer than ``bins`` (ratings, counts) gets one bar per value from its smallest to largest.
    Categories: the counts of the ``bins`` most frequent values, largest first.
    """
    if bins < 1:
        raise ValueError(f"bins must be at least 1. Got {bins}.")
    if numeric is None:
        numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
    if not numeric:
        text = values.dropna().astype(str)
        text = text[text.str.strip() != ""]
        return [int(c) for c in text.value_counts().head(bins).to_numpy()]
    numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    numbers = numbers[np.isfinite(numbers)]
    if not numbers.size:
        return []
    whole = np.all(np.mod(numbers, 1) == 0)
    low, high = float(numbers.min()), float(numbers.max())
    if whole and high - low < bins:     # one bar per whole number: a 1–5 rating keeps its five bars
        counts = np.bincount((numbers - low).astype(int), minlength=int(high - low) + 1)
        return [int(c) for c in counts]
    if numbers.min() >= 0 and _skewness(numbers) > LOG_SKEW:
        numbers = np.log1p(numbers)     # money: bars on a log scale, else everyone but a few shares one bar
    low, high = (float(q) for q in np.percentile(numbers, [1, 99]))
    if high <= low:
        low, high = float(numbers.min()), float(numbers.max())
    if high <= low:
        return [int(numbers.size)]
    edges = np.linspace(low, high, bins + 1)
    positions = np.clip(np.searchsorted(edges, numbers, side="right") - 1, 0, bins - 1)
    return [int(c) for c in np.bincount(positions, minlength=bins)]


def column_histograms(table: pd.DataFrame, roles: Mapping[str, str], bins: int = HISTOGRAM_BINS
                      ) -> dict[str, list[int]]:
    """:func:`column_histogram` of every column of ``table`` (by name, in table order).

    Columns whose role (``roles``) is numeric, outcome or label and whose values are numbers are binned as
    numbers; text, free-text, id and personal-data columns get no bars (an empty list): their values are not
    a distribution worth drawing, and personal data never leaves the table as a picture.
    """
    out: dict[str, list[int]] = {}
    for column in table.columns:
        role = roles.get(column, "")
        if role in ("text", "id", "pii", "ignore", "date"):
            out[str(column)] = []
            continue
        values = table[column]
        numeric = (role in _NUMERIC_ROLES and pd.api.types.is_numeric_dtype(values)
                   and not pd.api.types.is_bool_dtype(values))
        out[str(column)] = column_histogram(values, bins, numeric=numeric)
    return out
