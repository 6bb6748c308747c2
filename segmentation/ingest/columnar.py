"""Column statistics of many number columns at once, for files with thousands of columns.

Wide files (a thousand customers, ten thousand measurements) spend most of their time in per-column pandas calls
that each take a fraction of a millisecond. The number columns (int64 and float64) are read here in blocks, one
row of a 2-D float array per column, and their counts, distinct values, smallest and largest values come from one
sort of the block. Callers use these to decide the common cases and leave every unusual column to their own
per-column code, so a result never depends on which path computed it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd

BLOCK_CELLS = 4_000_000
"""Cells per block (32 MB of float64, twice that while sorting): bounds the memory a wide table adds."""

MIN_BLOCK_COLUMNS = 32
"""Fewer number columns than this are left to per-column code: on a long table of a few columns a sort of each
costs more than pandas' per-column calls (100,000 rows x 20 columns: about a tenth slower), and there is
nothing to win."""


@dataclass(frozen=True)
class NumberBlock:
    """Number columns of a table, one row of ``values`` per column, with what a sort of each row tells.

    ``positions`` are the columns' positions in the table; ``values`` (columns × rows, float64) keeps NaN for
    empty cells. Per column: ``count`` present cells, ``distinct`` different present values (as
    ``Series.nunique``), ``integral`` whether every present value is a whole number, ``low``/``high`` the
    smallest and largest present value (NaN when none), ``first`` the row of the first present value, and
    ``ordered`` holds each row sorted (NaN last), from which quantiles are read without another sort;
    ``unusual`` whether the smallest or largest value is a zero and a -0.0 occurs (its printed sign depends on
    which zero a reduction returns) or a value is 2**53 or more (where int64 and float64 disagree) or infinite:
    callers leave such columns to their per-column code.
    """

    positions: np.ndarray
    values: np.ndarray
    ordered: np.ndarray
    count: np.ndarray
    distinct: np.ndarray
    integral: np.ndarray
    low: np.ndarray
    high: np.ndarray
    first: np.ndarray
    unusual: np.ndarray


def number_positions(table: pd.DataFrame) -> np.ndarray:
    """Positions of the columns held as int64 or float64 (booleans, text, dates and other widths excluded)."""
    dtypes = table.dtypes.to_numpy()
    return np.flatnonzero([isinstance(d, np.dtype) and d in (np.dtype("float64"), np.dtype("int64"))
                           for d in dtypes])


def number_blocks(table: pd.DataFrame, positions: np.ndarray | None = None,
                  block_cells: int = BLOCK_CELLS) -> Iterator[NumberBlock]:
    """The number columns of ``table`` (``positions``, by default every int64/float64 column) in blocks of about
    ``block_cells`` cells, each with its statistics; none when there are fewer than :data:`MIN_BLOCK_COLUMNS`."""
    positions = number_positions(table) if positions is None else np.asarray(positions, dtype=int)
    if not len(positions) or len(positions) < MIN_BLOCK_COLUMNS:
        return
    per_block = max(1, block_cells // max(len(table), 1))
    for start in range(0, len(positions), per_block):
        chosen = positions[start:start + per_block]
        values = np.ascontiguousarray(table.iloc[:, chosen].to_numpy(dtype="float64", na_value=np.nan).T)
        yield _block(chosen, values)


def _block(positions: np.ndarray, values: np.ndarray) -> NumberBlock:
    k, n = values.shape
    present = ~np.isnan(values)
    count = present.sum(axis=1)
    ordered = np.sort(values, axis=1)    # NaN sorts last
    if n > 1:
        changes = (ordered[:, 1:] != ordered[:, :-1]) & ~np.isnan(ordered[:, 1:])
        distinct = changes.sum(axis=1) + (count > 0)
    else:
        distinct = (count > 0).astype(int)
    with np.errstate(invalid="ignore"):   # infinity is not a whole number
        integral = ((np.mod(values, 1) == 0) | ~present).all(axis=1)
    rows = np.arange(k)
    low = np.where(count > 0, ordered[:, 0] if n else np.nan, np.nan)
    high = np.where(count > 0, ordered[rows, np.maximum(count - 1, 0)] if n else np.nan, np.nan)
    first = np.argmax(present, axis=1) if n else np.zeros(k, dtype=int)
    with np.errstate(invalid="ignore"):
        signed_zero = ((values == 0) & np.signbit(values)).any(axis=1) & ((low == 0) | (high == 0))
        unusual = signed_zero | ~(np.fmax(np.abs(low), np.abs(high)) < 2**53)
    unusual &= count > 0
    return NumberBlock(positions, values, ordered, count, distinct, integral, low, high, first, unusual)
