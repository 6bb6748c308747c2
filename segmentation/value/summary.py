"""Predicted value per segment: what each segment is worth, how much of it is at risk, and its share of the total."""

from __future__ import annotations

import numpy as np
import pandas as pd

SEGMENT_VALUE_COLUMNS: tuple[str, ...] = ("customers", "predicted_customers", "predicted_clv", "mean_p_alive",
                                          "value_at_risk", "clv_share", "risk_share")
"""The columns of :func:`segment_value`."""


def _numbers(table: pd.DataFrame, column: str) -> np.ndarray:
    if column not in table.columns:
        return np.full(len(table), np.nan)
    return pd.to_numeric(table[column], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)


def segment_value(table: pd.DataFrame, labels: np.ndarray) -> pd.DataFrame:
    """Per segment (index ``segment``: the internal label, -1 for Unassigned, in label order) the totals of the
    predicted value that a roll-up with predictions adds (``value.clv.VALUE_COLUMNS``).

    Columns: ``customers`` (all in the segment), ``predicted_customers`` (those with a prediction: customers
    without a purchase of positive value have none), ``predicted_clv`` and ``value_at_risk`` (sums over the
    segment), ``mean_p_alive`` (over those with a prediction; NaN when none has one), ``clv_share`` and
    ``risk_share`` (the segment's part of everyone's predicted value and value at risk, 0-1; NaN when the total
    is 0). ``table`` and ``labels`` are row-aligned. Without a ``predicted_clv`` column the frame has these columns
    and no row, so callers can test ``.empty``.
    """
    labels = np.asarray(labels, dtype=int)
    if len(labels) != len(table):
        raise ValueError(f"labels has {len(labels)} entries for {len(table)} rows; they must be row-aligned.")
    if "predicted_clv" not in table.columns:
        return pd.DataFrame(columns=list(SEGMENT_VALUE_COLUMNS), index=pd.Index([], dtype=int, name="segment"))
    frame = pd.DataFrame({"segment": labels, "clv": _numbers(table, "predicted_clv"),
                          "risk": _numbers(table, "value_at_risk"), "alive": _numbers(table, "p_alive")})
    grouped = frame.groupby("segment", sort=True)
    out = pd.DataFrame({
        "customers": grouped.size(),
        "predicted_customers": grouped["clv"].count(),
        "predicted_clv": grouped["clv"].sum(min_count=1).fillna(0.0).round(2),
        "mean_p_alive": grouped["alive"].mean().round(4),
        "value_at_risk": grouped["risk"].sum(min_count=1).fillna(0.0).round(2),
    })
    for total, share in (("predicted_clv", "clv_share"), ("value_at_risk", "risk_share")):
        everyone = float(out[total].sum())
        out[share] = (out[total] / everyone).round(4) if everyone > 0 else np.nan
    out.index = out.index.astype(int).rename("segment")
    return out[list(SEGMENT_VALUE_COLUMNS)]


EXPORT_NAMES: dict[str, str] = {"predicted_clv": "predicted_clv_total", "value_at_risk": "value_at_risk_total",
                                "mean_p_alive": "mean_p_alive", "clv_share": "clv_share", "risk_share": "risk_share"}
"""The :func:`segment_value` columns a profiles table carries, under the names it gives them."""


def segment_value_columns(table: pd.DataFrame, labels: np.ndarray, segments: list[int]) -> pd.DataFrame:
    """:func:`segment_value` for a profiles table: one row per entry of ``segments`` (internal labels, in that
    order), the :data:`EXPORT_NAMES` columns; no column when ``table`` has no predicted value."""
    worth = segment_value(table, labels)
    if worth.empty:
        return pd.DataFrame(index=range(len(segments)))
    rows = worth.reindex(segments)[list(EXPORT_NAMES)].rename(columns=EXPORT_NAMES)
    return rows.reset_index(drop=True)


def segment_value_line(row: pd.Series) -> str:
    """One row of :func:`segment_value` in words, for a segment's card and the report: "Predicted value 12.3k
    (23% of all) · still active on average 87% · value at risk 1.2k (12% of all at risk)"; "no value at risk"
    when there is none (never "value at risk 0 (n/a of all at risk)")."""
    from segmentation.understand.wording import format_number, percent

    risk = float(row["value_at_risk"]) if pd.notna(row["value_at_risk"]) else 0.0
    share = row["risk_share"]
    at_risk = (f"value at risk {format_number(risk)}" + (f" ({percent(share)} of all at risk)" if pd.notna(share)
                                                         else "")) if round(risk, 2) > 0 else "no value at risk"
    return (f"Predicted value {format_number(row['predicted_clv'])} ({percent(row['clv_share'])} of all) · still "
            f"active on average {percent(row['mean_p_alive'])} · {at_risk}")
