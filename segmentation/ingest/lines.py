"""The fields of order lines, read once for the roll-up and the value models: who, when, how many, how much.

Both :func:`segmentation.ingest.orders.rollup` and :func:`segmentation.value.clv.order_lines` read a table's order
lines through :func:`read_order_fields`, so a line without a customer, a readable date or an amount is the same line
for both.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
import pandas as pd

from segmentation.errors import ConfigError


class OrderColumns(Protocol):
    """Which columns hold the customer, the date, the amount (or quantity and unit price) and, when there is one,
    the order id (``ingest.orders.TransactionSchema`` is one)."""

    customer: str
    date: str
    amount: str | None
    quantity: str | None
    price: str | None
    order: str | None


@dataclass(frozen=True)
class OrderFields:
    """One entry per order line: the customer column as read, ``no_customer`` (missing or blank id), the dates
    (NaT where unreadable, time-zone free), the quantity (None without a quantity column) and the line's value
    (the amount, else quantity × unit price; NaN where unreadable)."""

    customer: pd.Series
    no_customer: np.ndarray
    dates: pd.Series
    quantity: pd.Series | None
    value: pd.Series


def read_order_fields(table: pd.DataFrame, layout: OrderColumns) -> OrderFields:
    """The :class:`OrderFields` of ``table``'s order lines under ``layout``.

    Raises :class:`ConfigError` when the layout names neither an amount nor both a quantity and a unit price.
    """
    if layout.amount is None and not (layout.quantity and layout.price):
        raise ConfigError("Order lines need an amount column, or both a quantity and a unit price column.")
    customer = table[layout.customer]
    no_customer = customer.isna().to_numpy(dtype=bool, copy=True)
    if pd.api.types.is_string_dtype(customer) or customer.dtype == object:
        no_customer |= (customer.astype("str").str.strip() == "").to_numpy(dtype=bool, na_value=False)
    dates = table[layout.date]
    if not pd.api.types.is_datetime64_any_dtype(dates):
        dates = pd.to_datetime(dates, errors="coerce", format="mixed")
    if getattr(dates.dt, "tz", None) is not None:
        dates = dates.dt.tz_localize(None)
    quantity = pd.to_numeric(table[layout.quantity], errors="coerce") if layout.quantity else None
    if layout.amount:
        value = pd.to_numeric(table[layout.amount], errors="coerce").astype("float64")
    else:
        value = (quantity * pd.to_numeric(table[layout.price], errors="coerce")).astype("float64")
    return OrderFields(customer, no_customer, dates, quantity, value)
