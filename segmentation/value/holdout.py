"""Can I trust the predictions? Fit on the orders before a date, predict the purchases after it, compare.

The baseline is what an analyst would do without a model: each customer keeps their past purchase rate (repeat
purchase days per day since their first purchase). The model earns its place when its mean absolute error over
customers is below the baseline's.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from segmentation.errors import ConfigError, DataError
from segmentation.ingest.lines import OrderColumns
from segmentation.value.clv import (
    ValueModel,
    check_history,
    check_lines,
    expected_purchases,
    fit_value_model,
    order_lines,
    p_alive,
    purchase_history,
)

PAST_PURCHASE_BUCKETS = 7
"""Customers with this many repeat purchase days or more share the last group of the calibration table."""


@dataclass(frozen=True)
class HoldoutCheck:
    """Per customer who bought before the holdout (index: the customer key) their history, ``p_alive`` at the
    holdout's start, and ``actual_purchases``, ``predicted_purchases`` and ``baseline_purchases`` (purchase days
    in the holdout); ``by_past_purchases`` the means of the three by number of repeat purchase days before it;
    ``summary`` the totals and errors as JSON-ready values."""

    customers: pd.DataFrame
    by_past_purchases: pd.DataFrame
    model: ValueModel
    summary: dict[str, Any]


def _holdout_start(lines: pd.DataFrame, holdout_from: str | pd.Timestamp) -> tuple[pd.Timestamp, pd.Timestamp]:
    try:
        start = pd.Timestamp(holdout_from).normalize()
    except (TypeError, ValueError):
        raise ConfigError(f"The holdout start must be a date as YYYY-MM-DD. Got {holdout_from!r}.") from None
    days = lines["when"].dt.normalize()
    first, last = days.min(), days.max()
    if not first < start <= last:
        raise ConfigError(
            f"The holdout must start after the first order ({first:%Y-%m-%d}) and no later than the last "
            f"({last:%Y-%m-%d}); got {start:%Y-%m-%d}. A start that leaves a quarter to a third of the history "
            "after it works well.")
    return start, last


def _by_past_purchases(customers: pd.DataFrame) -> pd.DataFrame:
    past = customers["frequency"].clip(upper=PAST_PURCHASE_BUCKETS)
    grouped = customers.assign(past=past).groupby("past", sort=True)
    table = grouped[["actual_purchases", "predicted_purchases", "baseline_purchases"]].mean().round(3)
    table.insert(0, "customers", grouped.size())
    labels = [f"{int(p)}+" if p == PAST_PURCHASE_BUCKETS else str(int(p)) for p in table.index]
    table.index = pd.Index(labels, name="past_purchases")
    return table.reset_index()


def holdout_verdict(summary: dict[str, Any]) -> str:
    """One honest sentence on the check: whether the model beat the past-rate baseline per customer, and the
    totals against what happened."""
    model, baseline = summary["mae_model"], summary["mae_baseline"]
    totals = (f" Over all {summary['customers']:,} customers {summary['actual_purchases']:,} purchase days happened; "
              f"the model predicted {summary['predicted_purchases']:,.0f}, the baseline "
              f"{summary['baseline_purchases']:,.0f}.")
    if model < baseline:
        return (f"The model predicts each customer's purchases better than the past-rate baseline (mean absolute "
                f"error {model:.3f} against {baseline:.3f}).{totals}")
    return (f"The past-rate baseline predicts each customer's purchases as well as or better than the model (mean "
            f"absolute error {baseline:.3f} against the model's {model:.3f}): on this history the model does not "
            f"beat the simple rule per customer, so weigh its predictions with that in mind.{totals}")


def holdout_from_lines(lines: pd.DataFrame, holdout_from: str | pd.Timestamp,
                       unreadable_dates: int = 0) -> HoldoutCheck:
    """The holdout check on order lines (:data:`value.clv.LINE_COLUMNS`): fit on the purchases before
    ``holdout_from``, predict each of those customers' purchase days from that day to the last date in the
    file, and compare with what they did. Raises :class:`ConfigError` for a start outside the history and
    :class:`DataError` when the history before it is too thin to fit."""
    check_lines(lines, unreadable_dates)
    start, end = _holdout_start(lines, holdout_from)
    calibration_end = start - pd.Timedelta(days=1)
    history = purchase_history(lines, calibration_end)
    check_history(history)
    started = time.perf_counter()
    model = fit_value_model(history)
    seconds = time.perf_counter() - started
    holdout_days = int((end - start).days) + 1

    days = lines["when"].dt.normalize()
    bought = (~lines["is_return"]) & (lines["amount"] > 0) & (days >= start)
    after = pd.DataFrame({"key": lines["key"][bought], "day": days[bought]}).drop_duplicates()
    actual = after.groupby("key").size()
    x, t_x, big_t = (history[c].to_numpy("float64") for c in ("frequency", "recency", "T"))
    customers = history.copy()
    customers["p_alive"] = np.round(p_alive(model, x, t_x, big_t), 4)
    customers["actual_purchases"] = actual.reindex(history.index, fill_value=0).astype("int64")
    customers["predicted_purchases"] = np.round(expected_purchases(model, x, t_x, big_t, holdout_days), 4)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(big_t > 0, x / big_t, 0.0)
    customers["baseline_purchases"] = np.round(rate * holdout_days, 4)
    error_model = (customers["predicted_purchases"] - customers["actual_purchases"]).abs()
    error_baseline = (customers["baseline_purchases"] - customers["actual_purchases"]).abs()
    new_customers = int(len(set(after["key"]) - set(history.index)))
    by_past = _by_past_purchases(customers)
    summary: dict[str, Any] = {
        "customers": int(len(customers)),
        "calibration_end": f"{calibration_end:%Y-%m-%d}",
        "holdout_from": f"{start:%Y-%m-%d}",
        "holdout_to": f"{end:%Y-%m-%d}",
        "holdout_days": holdout_days,
        "actual_purchases": int(customers["actual_purchases"].sum()),
        "predicted_purchases": round(float(customers["predicted_purchases"].sum()), 2),
        "baseline_purchases": round(float(customers["baseline_purchases"].sum()), 2),
        "mae_model": round(float(error_model.mean()), 4),
        "mae_baseline": round(float(error_baseline.mean()), 4),
        "rmse_model": round(float(np.sqrt((error_model ** 2).mean())), 4),
        "rmse_baseline": round(float(np.sqrt((error_baseline ** 2).mean())), 4),
        "model": "MBG/NBD (purchases) and Gamma-Gamma (spend), maximum likelihood",
        "parameters": model.parameters(),
        "fit_seconds": round(seconds, 2),
        "new_customers_in_holdout": new_customers,
        "by_past_purchases": by_past.to_dict(orient="records"),
        "definitions": (
            "Purchases are purchase days (a customer's days with a purchase of positive value). The model is "
            "MBG/NBD fitted by maximum likelihood on the days up to calibration_end; the baseline keeps each "
            "customer's past rate of repeat purchase days per day since the first purchase. mae_* and rmse_* are "
            "the mean absolute and root mean squared errors per customer; customers whose first purchase falls in "
            "the holdout are not predicted (new_customers_in_holdout)."),
    }
    summary["verdict"] = holdout_verdict(summary)
    return HoldoutCheck(customers, by_past, model, summary)


def holdout_check(table: pd.DataFrame, layout: OrderColumns, holdout_from: str | pd.Timestamp) -> HoldoutCheck:
    """The holdout check on the order lines of ``table`` laid out as ``layout`` (see :func:`holdout_from_lines`)."""
    lines, unreadable = order_lines(table, layout)
    if lines.empty:
        raise DataError("No order line has a customer id, a readable date and an amount; nothing to check.")
    return holdout_from_lines(lines, holdout_from, unreadable)
