"""Where customers went: each customer's earlier segment against the one a saved model gives them now.

Data only: ``plots.flow.movement_flow_figure`` draws a ``Movement`` as the app's one flow diagram.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from segmentation.common import NOISE_NAME, segment_label, segment_number
from segmentation.errors import DataError

if TYPE_CHECKING:
    from segmentation.act.assign import SegmentModel


@dataclass(frozen=True)
class Movement:
    """Where customers went between two segmentations.

    ``table``: one row per (from, to) pair with ``customers`` and ``share_of_from``, largest first;
    ``drift``: one row per segment (largest first, Unassigned last) with customers and shares then and now
    and the change in percentage points; ``segment_ids``: the label of each segment name whose label is
    known (for its colour); ``source``: what the earlier segments were taken from, in words.
    """

    table: pd.DataFrame
    drift: pd.DataFrame
    customers: int
    stayed_share: float
    source: str = ""
    segment_ids: Mapping[str, int] = field(default_factory=dict)

    @property
    def segments(self) -> list[str]:
        """Every segment name, then or now, largest first, Unassigned last."""
        return self.drift["segment"].tolist()

    def summary_lines(self) -> list[str]:
        lines = [f"{self.customers:,} customers compared with {self.source}." if self.source
                 else f"{self.customers:,} customers compared.",
                 f"{self.stayed_share:.0%} stayed in the same segment."]
        moved = self.table[self.table["from"] != self.table["to"]]
        if len(moved):
            top = moved.iloc[0]
            lines.append(f"The largest move: {int(top['customers']):,} customers from {top['from']} to {top['to']}.")
        if len(self.drift) and self.drift["change_points"].abs().max() >= 0.5:
            biggest = self.drift.iloc[self.drift["change_points"].abs().argmax()]
            lines.append(f"The largest shift in share: {biggest['segment']} "
                         f"({biggest['share_then']:.0%} then, {biggest['share_now']:.0%} now).")
        return lines


def _as_names(values: Sequence[Any], names: Mapping[int, str] | None, labels: dict[str, int]) -> list[str]:
    """Segment names of ``values`` (labels or names); ``labels`` learns the label of each name given as one."""
    out = []
    for value in values:
        whole = (isinstance(value, (int, np.integer)) and not isinstance(value, bool)) or \
            (isinstance(value, (float, np.floating)) and float(value).is_integer())
        if whole:
            name = (names or {}).get(int(value)) or segment_label(int(value))
            labels[name] = int(value)
        else:
            name = str(value)
        out.append(name)
    return out


def _ordered_segments(segments: set[str], then: pd.Series, now: pd.Series) -> list[str]:
    """Largest first (then + now), ties by name, Unassigned last."""
    return sorted(segments, key=lambda s: (s == NOISE_NAME, -(then.get(s, 0) + now.get(s, 0)), s))


def movement(previous: Sequence[Any], new: Sequence[Any], names: Mapping[int, str] | None = None,
             then: Sequence[Any] | None = None, now: Sequence[Any] | None = None, source: str = "") -> Movement:
    """Compare each customer's ``previous`` segment with their ``new`` one (same order, same length).

    Segments may be given as labels (0-based, named with ``names``, else "Segment N"; -1 is
    Unassigned) or as names. The drift table compares segment shares in ``then``
    and ``now`` (default: ``previous`` and ``new`` themselves), e.g. the whole
    training base against the whole new file.
    """
    labels = {name: int(label) for label, name in (names or {}).items()}
    labels[NOISE_NAME] = -1
    before, after = _as_names(previous, names, labels), _as_names(new, names, labels)
    if len(before) != len(after):
        raise DataError(f"Cannot compare {len(before):,} earlier segments with {len(after):,} new ones: "
                        "the two lists must hold the same customers in the same order.")
    pairs = pd.DataFrame({"from": before, "to": after})
    table = (pairs.groupby(["from", "to"], sort=False).size().rename("customers").reset_index()
             if len(pairs) else pd.DataFrame(columns=["from", "to", "customers"]))
    if len(table):
        table["customers"] = table["customers"].astype(np.int64)
        totals = table.groupby("from")["customers"].transform("sum")
        table["share_of_from"] = (table["customers"] / totals).round(4)
        table = table.sort_values(["customers", "from", "to"], ascending=[False, True, True]).reset_index(drop=True)
    else:
        table["share_of_from"] = []
    stayed = float((pairs["from"] == pairs["to"]).mean()) if len(pairs) else float("nan")

    then_names = _as_names(then, names, labels) if then is not None else before
    now_names = _as_names(now, names, labels) if now is not None else after
    then_counts, now_counts = pd.Series(then_names).value_counts(), pd.Series(now_names).value_counts()
    segments = _ordered_segments(set(then_counts.index) | set(now_counts.index), then_counts, now_counts)
    drift = pd.DataFrame({
        "segment": segments,
        "customers_then": [int(then_counts.get(s, 0)) for s in segments],
        "customers_now": [int(now_counts.get(s, 0)) for s in segments],
    })
    drift["share_then"] = (drift["customers_then"] / max(len(then_names), 1)).round(4)
    drift["share_now"] = (drift["customers_now"] / max(len(now_names), 1)).round(4)
    drift["change_points"] = ((drift["share_now"] - drift["share_then"]) * 100).round(2)
    return Movement(table=table, drift=drift, customers=int(len(pairs)), stayed_share=stayed, source=source,
                    segment_ids={name: labels[name] for name in segments if name in labels})


# --------------------------------------------------------------------------- against a saved model
def training_segments(model: SegmentModel) -> pd.DataFrame:
    """The customers ``model`` was built from: ``customer`` (their id) and ``segment_name``."""
    labels = model.arrays["training_labels"].astype(np.int64)
    names = model.segment_names
    return pd.DataFrame({"customer": model.arrays["training_ids"].astype(str),
                         "segment_name": [names.get(int(s), segment_label(int(s))) for s in labels]})


def earlier_segments(model: SegmentModel, table: pd.DataFrame) -> tuple[pd.Series | None, str]:
    """Each customer's earlier segment name, where one is known, and where it came from.

    A ``segment_id`` column (the segment numbers of an earlier export: 1, 2, …, -1) or a
    ``segment_name`` column in the file wins; otherwise customers are matched on the
    model's id column with the customers the model was built from. Unknown customers
    get None. Returns ``(None, reason)`` when there is nothing to compare with.
    """
    names = model.segment_names
    by_number = {segment_number(label): name for label, name in names.items()}
    for column in ("segment_id", "segment_name"):
        if column not in table.columns:
            continue
        if column == "segment_id":
            numbers = pd.to_numeric(table[column], errors="coerce")
            previous = numbers.map(lambda n: by_number.get(int(n), f"Segment {int(n)}"), na_action="ignore")
        else:
            previous = table[column].astype("string").str.strip().replace("", pd.NA)
        previous = previous.astype("object").reset_index(drop=True)
        if previous.notna().any():
            return previous.where(previous.notna(), None), f"the file's {column} column"
    id_column = model.id_column
    if id_column is None or id_column not in table.columns:
        return None, "the file has no earlier segment column and no customer id column to match on"
    training = training_segments(model).drop_duplicates("customer").set_index("customer")["segment_name"]
    keys = table[id_column].astype("string").fillna("").astype(str)
    previous = keys.map(training).astype("object").reset_index(drop=True)
    if previous.notna().sum() == 0:
        return None, f"no customer in the file matches a customer the model was built from (on {id_column!r})"
    return previous.where(previous.notna(), None), \
        f"the customers the model was built from (matched on {id_column!r})"


def model_movement(model: SegmentModel, table: pd.DataFrame, assigned: pd.DataFrame) -> Movement | None:
    """Movement between each customer's earlier segment (``earlier_segments``) and ``assigned`` (from
    ``model.assign(table)``); None when no earlier segment is known."""
    previous, source = earlier_segments(model, table)
    if previous is None:
        return None
    known = previous.notna().to_numpy()
    then = training_segments(model)["segment_name"].tolist() if source.startswith("the customers the model") \
        else None
    return movement(previous[known].tolist(), assigned["segment_name"][known].tolist(), then=then,
                    now=assigned["segment_name"].tolist(), source=source, names=model.segment_names)
