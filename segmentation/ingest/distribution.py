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

from segmentation.ingest.columnar import NumberBlock, number_blocks, number_positions

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
    return _number_bars(numbers[np.isfinite(numbers)], bins)


def _number_bars(numbers: np.ndarray, bins: int) -> list[int]:
    """The bars of :func:`column_histogram` for ``numbers`` (finite floats)."""
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


def _block_bars(block: NumberBlock, bins: int) -> dict[int, list[int]]:
    """:func:`_number_bars` of every column of ``block`` (by position): the columns without empty or infinite
    cells that are not a few whole numbers are binned together, the others one by one."""
    n = block.values.shape[1]
    together = (block.count == n) & np.isfinite(block.low) & np.isfinite(block.high) & (n > 0)
    together &= ~(block.integral & (block.high - block.low < bins))
    out: dict[int, list[int]] = {}
    rows = np.flatnonzero(together)
    if len(rows):
        bars = _bars_together(block.values[rows], block.ordered[rows], bins)
        out.update({int(block.positions[r]): b for r, b in zip(rows, bars) if b is not None})
    for row, j in enumerate(block.positions):
        if int(j) not in out:
            values = block.values[row]
            out[int(j)] = _number_bars(values[np.isfinite(values)], bins)
    return out


def _bars_together(values: np.ndarray, ordered: np.ndarray, bins: int) -> list[list[int] | None]:
    """:func:`_number_bars` of each row of ``values`` (finite, not a few whole numbers; ``ordered``: the rows
    sorted) with array operations over all rows; None for a row whose bin edges are not rising (left to
    :func:`_number_bars`)."""
    n = values.shape[1]
    logged = ordered[:, 0] >= 0                      # only non-negative rows may be skewed enough for a log scale
    if logged.any():
        chosen = values[logged]
        spread = chosen.std(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            skew = np.mean(((chosen - chosen.mean(axis=1)[:, None]) / spread[:, None]) ** 3, axis=1)
        logged[logged] = (n >= 3) & (spread > 0) & (skew > LOG_SKEW)
    if logged.any():     # money: bars on a log scale, as _number_bars does
        values, ordered = values.copy(), ordered.copy()
        values[logged] = np.log1p(values[logged])
        ordered[logged] = np.sort(values[logged], axis=1)
    low, high = np.percentile(ordered, [1, 99], axis=1)
    flat = high <= low
    low, high = np.where(flat, ordered[:, 0], low), np.where(flat, ordered[:, -1], high)
    # Flat rows get one bar; they get dummy edges here, since one zero range changes how linspace computes all.
    edges = np.linspace(low, np.where(high <= low, low + 1, high), bins + 1, axis=1)
    rising = np.all(np.diff(edges, axis=1) >= 0, axis=1)
    out: list[list[int] | None] = []
    for row in range(len(values)):
        if not rising[row] or high[row] <= low[row]:
            out.append(None if not rising[row] else [n])
            continue
        # With rising edges, searchsorted(edges, v, "right") - 1 clipped to the bars puts v in bar i exactly when
        # edges[i] <= v < edges[i + 1], the outer bars also taking what lies beyond: counted from the sorted row.
        at_or_above = n - np.searchsorted(ordered[row], edges[row], side="left")
        bars = at_or_above[:-1] - at_or_above[1:]
        bars[0] += n - at_or_above[0]
        bars[-1] += at_or_above[-1]
        out.append([int(c) for c in bars])
    return out


def column_histograms(table: pd.DataFrame, roles: Mapping[str, str], bins: int = HISTOGRAM_BINS
                      ) -> dict[str, list[int]]:
    """:func:`column_histogram` of every column of ``table`` (by name, in table order).

    Columns whose role (``roles``) is numeric, outcome or label and whose values are numbers are binned as
    numbers; text, free-text, id and personal-data columns get no bars (an empty list): their values are not
    a distribution worth drawing, and personal data never leaves the table as a picture.
    """
    out: dict[str, list[int]] = {}
    from_blocks: dict[int, list[int]] = {}
    if table.columns.is_unique and bins >= 1:    # per-column pandas calls cost seconds on wide files
        positions = number_positions(table)
        positions = positions[[roles.get(table.columns[j], "") in _NUMERIC_ROLES for j in positions]]
        for block in number_blocks(table, positions):
            from_blocks.update(_block_bars(block, bins))
    for j, column in enumerate(table.columns):
        role = roles.get(column, "")
        if role in ("text", "id", "pii", "ignore", "date"):
            out[str(column)] = []
            continue
        if j in from_blocks:
            out[str(column)] = from_blocks[j]
            continue
        values = table[column]
        numeric = (role in _NUMERIC_ROLES and pd.api.types.is_numeric_dtype(values)
                   and not pd.api.types.is_bool_dtype(values))
        out[str(column)] = column_histogram(values, bins, numeric=numeric)
    return out
