"""Segments that only repeat a column: measured, said in words, and avoided by the automatic mode.

Segments that coincide with a column the analyst already has (the product's department, the sales channel)
teach nothing new: the column itself is the segmentation. Each categorical column is compared with the segments
(Unassigned customers left out) by two numbers:

- Cramér's V, bias-corrected (Bergsma, 2013): 0 = unrelated, 1 = each value of the column sits in one segment
  (segments that merge several values of the column also reach 1);
- the adjusted Rand index (ARI): 1 = the same partition, 0 = chance agreement;
- how much of the segments the column already tells (Theil's uncertainty coefficient U(segments | column),
  0 to 1), which tells a copy or a merge of the column's values (U = 1) from segments that split its values
  further (two segments inside each of two departments: V = 1 but U = 0.5, new information).

The segments *repeat* a column when V >= :data:`REDUNDANT_V` and U >= :data:`REDUNDANT_U`, or ARI >=
:data:`REDUNDANT_ARI`. Columns with more than :data:`MAX_LEVELS` values (identifiers, free codes) are not compared:
V is unreliable there.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, TypeVar

import numpy as np
import pandas as pd

from segmentation.represent.features import category_values
from segmentation.segment.cluster import cluster
from segmentation.understand.wording import pretty_column

if TYPE_CHECKING:
    from segmentation.pipeline import SegmentationResult

Board = TypeVar("Board")
"""A ``search.Leaderboard`` (not imported: search imports this module)."""

REDUNDANT_V = 0.8
"""Cramér's V (bias-corrected) from which segments are said to repeat a column: at 0.8 knowing the column
predicts the segment for the great majority of customers."""
REDUNDANT_U = 0.8
"""Share of the segments' uncertainty the column removes from which a high V counts as repeating it."""
REDUNDANT_ARI = 0.6
"""Adjusted Rand index from which segments are said to repeat a column, even if V is lower."""
MAX_LEVELS = 30
"""Columns with more distinct values than this are not compared."""
INFORMATIVE_MARGIN = 0.05
"""The automatic mode gives up at most this much score to avoid segments that repeat a column."""
MAX_ALTERNATIVES = 6
"""Candidates of a search that are re-fitted on everyone to check whether they repeat a column."""


@dataclass(frozen=True)
class ColumnOverlap:
    """How closely the segments follow one categorical ``column``: ``cramers_v``, ``ari`` and ``explained`` (the
    uncertainty coefficient of the segments given the column); see the module."""

    column: str
    cramers_v: float
    ari: float
    explained: float

    @property
    def repeats(self) -> bool:
        return (self.cramers_v >= REDUNDANT_V and self.explained >= REDUNDANT_U) or self.ari >= REDUNDANT_ARI

    @property
    def message(self) -> str:
        """The finding in words, naming the column and what to do about it."""
        return (f"These segments mostly repeat {pretty_column(self.column)} (Cramér's V {self.cramers_v:.2f}, "
                f"adjusted Rand index {self.ari:.2f}): they add little to what that column already says. To find "
                f"segments that add information, re-run without it (set the role of {self.column!r} to 'ignore' "
                "on the Data page) or give the text more weight.")


def cramers_v(a: np.ndarray, b: np.ndarray) -> float:
    """Bias-corrected Cramér's V between two label arrays (Bergsma, 2013); 0 when either has one value."""
    table = pd.crosstab(pd.Series(a), pd.Series(b)).to_numpy(dtype=float)
    n = table.sum()
    r, k = table.shape
    if n < 2 or r < 2 or k < 2:
        return 0.0
    expected = table.sum(1, keepdims=True) * table.sum(0, keepdims=True) / n
    chi2 = float(((table - expected) ** 2 / expected).sum())
    phi2 = max(0.0, chi2 / n - (k - 1) * (r - 1) / (n - 1))
    r_corr, k_corr = r - (r - 1) ** 2 / (n - 1), k - (k - 1) ** 2 / (n - 1)
    denominator = min(r_corr - 1, k_corr - 1)
    return float(np.sqrt(phi2 / denominator)) if denominator > 0 else 0.0


def explained_share(segments: np.ndarray, column: np.ndarray) -> float:
    """Theil's U(segments | column): the share of the segments' entropy that knowing the column removes."""
    table = pd.crosstab(pd.Series(segments), pd.Series(column)).to_numpy(dtype=float)
    n = table.sum()
    if n == 0:
        return 0.0

    def entropy(counts: np.ndarray) -> float:
        p = counts[counts > 0] / counts.sum()
        return float(-(p * np.log(p)).sum())

    h_segments = entropy(table.sum(1))
    if h_segments <= 0:
        return 0.0
    conditional = sum(col.sum() / n * entropy(col) for col in table.T if col.sum() > 0)
    return float(max(0.0, 1 - conditional / h_segments))


def column_overlaps(labels: np.ndarray, table: pd.DataFrame, roles: Mapping[str, str]) -> list[ColumnOverlap]:
    """Every categorical column (2 to :data:`MAX_LEVELS` values) against the segments, most repeated first."""
    from sklearn.metrics import adjusted_rand_score

    labels = np.asarray(labels).astype(int)
    assigned = labels >= 0
    if len(set(labels[assigned].tolist())) < 2:
        return []
    out = []
    for column, role in roles.items():
        if role != "categorical" or column not in table.columns:
            continue
        values = category_values(table[column]).to_numpy(dtype=str)[assigned]
        if not 2 <= len(set(values.tolist())) <= MAX_LEVELS:
            continue
        segments = labels[assigned]
        out.append(ColumnOverlap(str(column), cramers_v(segments, values),
                                 float(adjusted_rand_score(values, segments)), explained_share(segments, values)))
    return sorted(out, key=lambda o: (-o.cramers_v, -o.ari, o.column))


def repeated_columns(labels: np.ndarray, table: pd.DataFrame, roles: Mapping[str, str]) -> list[ColumnOverlap]:
    """The categorical columns the segments repeat (:attr:`ColumnOverlap.repeats`), most repeated first."""
    return [o for o in column_overlaps(labels, table, roles) if o.repeats]


def result_repeats(result: SegmentationResult) -> list[ColumnOverlap]:
    """:func:`repeated_columns` for a finished run."""
    return repeated_columns(result.labels, result.table, result.roles)


def prefer_informative(leaderboard: Board, result: SegmentationResult) -> Board:
    """The leaderboard with a recommendation that adds information, when one costs little.

    When the recommended candidate's segments repeat a categorical column, the best eligible candidate within
    :data:`INFORMATIVE_MARGIN` of its score whose segments do not is recommended instead (each is re-fitted on
    every customer of ``result``'s cluster space), and the reason says why. Otherwise nothing changes.
    """
    if leaderboard.recommended is None or not any(r == "categorical" for r in result.roles.values()):
        return leaderboard
    frame = leaderboard.frame
    best = frame.loc[leaderboard.recommended]
    pool = frame[frame["eligible"] & (frame["score"] >= best["score"] - INFORMATIVE_MARGIN)]
    first_repeat: ColumnOverlap | None = None
    for row in pool.index[:MAX_ALTERNATIVES]:
        labels = cluster(result.embedding, frame.at[row, "config"], result.config.random_state).labels
        repeats = repeated_columns(labels, result.table, result.roles)
        if row == leaderboard.recommended:
            if not repeats:
                return leaderboard
            first_repeat = repeats[0]
            continue
        if repeats or first_repeat is None:
            continue
        chosen = frame.loc[row]
        reason = (f"{chosen['n_segments']} segments ({chosen['label']}, {chosen['params']}): the best solution whose "
                  f"segments do not just repeat a column (score {chosen['score']:.2f}, silhouette "
                  f"{chosen['silhouette']:.2f}). {best['label']} scores {best['score']:.2f}, but its segments "
                  f"mostly repeat {pretty_column(first_repeat.column)} (Cramér's V {first_repeat.cramers_v:.2f}).")
        order = [row] + [i for i in frame.index if i != row]
        return replace(leaderboard, frame=frame.loc[order].reset_index(drop=True), recommended=0, reason=reason)
    return leaderboard
