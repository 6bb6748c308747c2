"""What a column means, from its name and its values: value, recency, frequency or tenure, and shares.

Profiles use these to choose words ("lapsed" for a long time since the last order), to pick the column whose
share each segment holds (spend, revenue), and to write shares as percentages; the app shows the same
columns the same way because it asks the same functions.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from segmentation.common import name_tokens
from segmentation.represent.features import numeric_values

SHARE_WORDS = frozenset({"share", "shares", "rate", "rates", "ratio", "ratios", "pct", "percent", "percentage",
                         "percentages", "proportion", "proportions", "probability"})
"""Words of a column name that say it holds a share ("returns_share", "open rate", "ConversionRatio")."""

_VALUE_WORDS = ("monetary", "revenue", "spend", "spent", "spending", "sales", "charges", "paid", "value", "amount",
                "clv", "ltv", "total")
_NOT_VALUE_WORDS = {"orders", "order", "count", "number", "num", "qty", "quantity", "items", "visits", "transactions",
                    "purchases", "frequency", "share", "rate", "ratio", "pct", "percent", "score", "rank", "index",
                    "days", "age", "avg", "average", "mean", "per", "basket"}
_RECENCY_WORDS = {"recency", "inactive", "inactivity", "lapsed", "dormant"}
_LAST_WORDS = {"order", "purchase", "purchased", "visit", "seen", "active", "login", "transaction", "bought", "contact"}
_START_WORDS = {"signup", "signed", "joined", "join", "registration", "registered", "first", "created", "since"}
_FREQUENCY_WORDS = {"orders", "frequency", "purchases", "transactions", "visits", "invoices", "baskets"}
_TENURE_WORDS = {"tenure", "membership", "seniority"}


def role_columns(table: pd.DataFrame, roles: Mapping[str, str], role: str) -> list[str]:
    """The columns of ``table`` whose role is ``role`` ("numeric", "categorical", "id", ...), in ``roles`` order."""
    return [c for c, r in roles.items() if r == role and c in table.columns]


def column_kind(column: str) -> str | None:
    """What a numeric column means for actions, from its name: "value", "recency", "frequency", "tenure" or None.

    "total_spend", "Monetary", "revenue" -> value; "days_since_last_order", "Recency" -> recency;
    "orders", "NumWebPurchases" -> frequency; "tenure", "days_since_signup" -> tenure.
    """
    tokens = set(name_tokens(column))
    if tokens & _RECENCY_WORDS or ("last" in tokens and tokens & _LAST_WORDS):
        return "recency"
    if "since" in tokens and tokens & (_START_WORDS - {"since"}):
        return "tenure"
    if "days" in tokens and "since" in tokens:
        return "recency"
    if tokens & _TENURE_WORDS:
        return "tenure"
    if any(word in tokens for word in _VALUE_WORDS) and not tokens & _NOT_VALUE_WORDS:
        return "value"
    if tokens & _FREQUENCY_WORDS or tokens == {"orders"}:
        return "frequency"
    return None


def detect_value_column(table: pd.DataFrame, roles: Mapping[str, str]) -> str | None:
    """The column that measures what customers are worth (spend, revenue, monetary, ...), or None.

    Only numeric columns with no negative majority count; names with a money word
    ("spend", "revenue", "monetary", "sales", "charges", ...) win over a bare "total"
    or "value"; count-like names ("total_orders") never qualify.
    """
    best: tuple[int, int, str] | None = None
    for position, (column, role) in enumerate(roles.items()):
        if role != "numeric" or column not in table.columns or column_kind(column) != "value":
            continue
        tokens = name_tokens(column)
        rank = min(_VALUE_WORDS.index(t) for t in tokens if t in _VALUE_WORDS)
        bonus = -20 if ("total" in tokens or "lifetime" in tokens) and rank < _VALUE_WORDS.index("value") else 0
        values = numeric_values(table[column])
        finite = values[np.isfinite(values)]
        if finite.size == 0 or (finite < 0).mean() > 0.5 or finite.sum() <= 0:
            continue
        key = (rank + bonus, position, column)
        if best is None or key < best:
            best = key
    return best[2] if best else None


def is_share_column(table: pd.DataFrame, column: str) -> bool:
    """Does ``column`` hold shares between 0 and 1, to be written as percentages (0.35 -> "35%")?

    Both the name and the values must say so: a word of :data:`SHARE_WORDS` in the name ("returns_share",
    "open rate", "ConversionRatio") and every number within [0, 1]. A 0/1 flag without such a word is not a
    share; a "discount_pct" holding 0 to 100 is already written in percent and is left as a plain number (the
    percentage format would multiply it by 100). False when ``table`` has no such column or no number in it.
    """
    if column not in table.columns or not set(name_tokens(column)) & SHARE_WORDS:
        return False
    values = numeric_values(table[column])
    finite = values[np.isfinite(values)]
    return bool(finite.size and finite.min() >= 0 and finite.max() <= 1)
