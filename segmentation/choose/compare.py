"""Comparing segmentations: two runs over the same customers, or a run against known groups.

``compare_runs`` answers "what changed?" between two runs (other settings, other
seed, last month against this month): the agreement (adjusted Rand index), a
cross-tab of segment against segment, which segment of one run matches which of
the other, and how many customers stayed. ``plots.flow.comparison_flow_figure``
draws it as a flow (Sankey) diagram. ``aligned_labels`` lines up two finished
runs whose cleaning kept different customers.

``compare_to_known_groups`` checks segments against a column marked with the
role "label" (known groups, never used as a feature): ARI, NMI and V-measure.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from segmentation.common import segment_label
from segmentation.errors import DataError
from segmentation.understand.metrics import external_metrics, verdict

if TYPE_CHECKING:
    from segmentation.pipeline import SegmentationResult


def _ordered_ids(labels: np.ndarray) -> list[int]:
    """Segment ids ascending, Unassigned (-1) last."""
    return sorted({int(v) for v in np.unique(labels)}, key=lambda s: (s < 0, s))


@dataclass(frozen=True)
class RunComparison:
    """How customers moved between two segmentations of the same customers."""

    ari: float
    """Adjusted Rand index: 1 = the same segments, about 0 = no more alike than chance."""
    nmi: float
    crosstab: pd.DataFrame = field(repr=False)
    """Customers per (segment in run A = row, segment in run B = column); ids, -1 = Unassigned; sums to n."""
    matches: Mapping[int, int] = field(default_factory=dict)
    """Each segment of run A and its counterpart in run B (most shared customers, one-to-one); -1 -> -1."""
    stayed_share: float = 0.0
    """Share of customers whose run-B segment is the counterpart of their run-A segment."""
    names_a: Mapping[int, str] | None = None
    names_b: Mapping[int, str] | None = None
    label_a: str = "Run A"
    label_b: str = "Run B"

    @property
    def n_customers(self) -> int:
        return int(self.crosstab.to_numpy().sum())

    def named_crosstab(self) -> pd.DataFrame:
        """The cross-tab with segment names instead of ids, for display and export."""
        out = self.crosstab.copy()
        out.index = [segment_label(int(s), self.names_a) for s in out.index]
        out.columns = [segment_label(int(s), self.names_b) for s in out.columns]
        out.index.name, out.columns.name = self.label_a, self.label_b
        return out

    def moves(self) -> pd.DataFrame:
        """Every (from, to, customers) pair with customers, biggest first; ``matched`` marks counterparts."""
        stacked = self.crosstab.stack()
        stacked = stacked[stacked > 0].sort_values(ascending=False, kind="stable")
        rows = [{"from": int(a), "to": int(b), "customers": int(c), "matched": self.matches.get(int(a)) == int(b)}
                for (a, b), c in stacked.items()]
        return pd.DataFrame(rows, columns=["from", "to", "customers", "matched"])

    def summary(self) -> str:
        """Two sentences for people: how much the runs agree and the biggest move."""
        text = (f"{self.stayed_share:.0%} of customers stay in the matching segment; agreement between the runs is "
                f"{self.ari:.2f} (adjusted Rand index; 1 means the same segments).")
        moves = self.moves()
        moved = moves[~moves["matched"]] if len(moves) else moves
        if len(moved):
            top = moved.iloc[0]
            text += (f" The biggest move: {top['customers']:,} customers from "
                     f"{segment_label(int(top['from']), self.names_a)} ({self.label_a}) to "
                     f"{segment_label(int(top['to']), self.names_b)} ({self.label_b}).")
        return text


def _match(counts: pd.DataFrame) -> dict[int, int]:
    """One-to-one counterparts maximising shared customers (Hungarian algorithm); Unassigned maps to Unassigned."""
    from scipy.optimize import linear_sum_assignment

    rows = [s for s in counts.index if s >= 0]
    cols = [s for s in counts.columns if s >= 0]
    matches: dict[int, int] = {}
    if rows and cols:
        shared = counts.loc[rows, cols].to_numpy(dtype=float)
        for i, j in zip(*linear_sum_assignment(-shared)):
            if shared[i, j] > 0:
                matches[int(rows[i])] = int(cols[j])
    if -1 in counts.index:
        matches[-1] = -1
    return matches


def compare_runs(labels_a: np.ndarray, labels_b: np.ndarray, *, names_a: Mapping[int, str] | None = None,
                 names_b: Mapping[int, str] | None = None, label_a: str = "Run A", label_b: str = "Run B"
                 ) -> RunComparison:
    """Compare two segmentations of the same customers (row ``i`` of both is the same customer).

    ``names_a`` and ``names_b`` are the analyst's segment names, used in
    summaries and figures; ``label_a`` and ``label_b`` name the runs.
    Unassigned customers (-1) count as a group of their own.
    """
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    a = np.asarray(labels_a, dtype=int)
    b = np.asarray(labels_b, dtype=int)
    if a.shape != b.shape or a.ndim != 1:
        raise DataError(f"The two runs must label the same customers: one has {a.size:,} labels, the other "
                        f"{b.size:,}. Compare runs made on the same file.")
    if not len(a):
        raise DataError("There are no customers to compare.")
    counts = pd.crosstab(pd.Series(a, name=label_a), pd.Series(b, name=label_b))
    counts = counts.reindex(index=_ordered_ids(a), columns=_ordered_ids(b), fill_value=0).astype(int)
    matches = _match(counts)
    stayed = sum(int(counts.at[s, t]) for s, t in matches.items())
    return RunComparison(ari=float(adjusted_rand_score(a, b)), nmi=float(normalized_mutual_info_score(a, b)),
                         crosstab=counts, matches=matches, stayed_share=stayed / len(a), names_a=names_a,
                         names_b=names_b, label_a=label_a, label_b=label_b)


def aligned_labels(a: SegmentationResult, b: SegmentationResult) -> tuple[np.ndarray, np.ndarray, int]:
    """Both runs' labels on the customers both kept, in ``a``'s order (other cleaning settings may drop other
    rows), and how many customers only one of them kept: the input ``compare_runs`` needs."""
    common = a.table.index.intersection(b.table.index, sort=False)
    left = pd.Series(a.labels, index=a.table.index).loc[common].to_numpy()
    right = pd.Series(b.labels, index=b.table.index).loc[common].to_numpy()
    return left, right, len(a.labels) + len(b.labels) - 2 * len(common)


@dataclass(frozen=True)
class KnownGroupsComparison:
    """Segments against known groups (a column with the role "label")."""

    column: str
    ari: float
    nmi: float
    v_measure: float
    crosstab: pd.DataFrame = field(repr=False)
    """Customers per (segment id = row, known group = column)."""

    def summary(self) -> str:
        level = verdict("known_groups", self.ari).meaning
        return (f"The segments {level} follow the known groups in {self.column!r}: adjusted Rand index "
                f"{self.ari:.2f}, normalised mutual information {self.nmi:.2f}, V-measure {self.v_measure:.2f} "
                "(1 = the same grouping, 0 = unrelated).")


def compare_to_known_groups(labels: np.ndarray, truth: np.ndarray | pd.Series, column: str = "known groups"
                            ) -> KnownGroupsComparison:
    """ARI, NMI and V-measure of ``labels`` against known groups ``truth``, plus their cross-tab.

    Missing known values count as a group "(missing)"; Unassigned customers as
    a segment of their own.
    """
    labels = np.asarray(labels, dtype=int)
    known = pd.Series(truth).astype("string").fillna("(missing)").to_numpy(dtype=object).astype(str)
    if len(known) != len(labels):
        raise DataError(f"The known groups cover {len(known):,} customers but the segments {len(labels):,}.")
    scores = external_metrics(labels, known)
    counts = pd.crosstab(pd.Series(labels, name="segment"), pd.Series(known, name=column))
    counts = counts.reindex(index=_ordered_ids(labels)).fillna(0).astype(int)
    return KnownGroupsComparison(column=column, ari=scores["ari"], nmi=scores["nmi"], v_measure=scores["v_measure"],
                                 crosstab=counts)


def known_groups(result: SegmentationResult) -> KnownGroupsComparison | None:
    """The comparison against the first column whose role is "label", or None when no column has that role."""
    columns = [c for c, r in result.roles.items() if r == "label" and c in result.table.columns]
    if not columns:
        return None
    return compare_to_known_groups(result.labels, result.table[columns[0]], column=str(columns[0]))
