"""What a column means from its name and values: value, recency, frequency, tenure; shares."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from segmentation.understand.columns import column_kind, detect_value_column, is_share_column, role_columns
from segmentation.understand.explain import profile_segments


def test_column_kinds_from_names() -> None:
    assert column_kind("total_spend") == "value" and column_kind("MonetaryValue") == "value"
    assert column_kind("days_since_last_order") == "recency" and column_kind("Recency") == "recency"
    assert column_kind("total_orders") == "frequency" and column_kind("NumWebPurchases") == "frequency"
    assert column_kind("days_since_signup") == "tenure"
    assert column_kind("Spending Score (1-100)") is None
    table = pd.DataFrame({"avg_basket": [1.0, 2.0], "total_orders": [3, 4], "revenue": [10.0, 20.0]})
    roles = {c: "numeric" for c in table}
    assert detect_value_column(table, roles) == "revenue"
    assert detect_value_column(table[["avg_basket", "total_orders"]], roles) is None


def test_share_columns_need_a_share_word_and_values_between_0_and_1() -> None:
    table = pd.DataFrame({
        "returns_share": [0.0, 0.25, 1.0], "open rate": [0.1, 0.2, None], "ConversionRatio": [0.5, 0.4, 0.3],
        "churn_probability": [0.9, 0.1, 0.5], "refund_rates": ["0.1", "0.2", "n/a"],
        "newsletter": [0, 1, 1], "discount_pct": [0, 45, 100], "growth_rate": [-0.2, 0.1, 0.3],
        "empty_share": [None, None, None], "spend": [0.1, 0.2, 0.3],
    })
    shares = [c for c in table.columns if is_share_column(table, c)]
    assert shares == ["returns_share", "open rate", "ConversionRatio", "churn_probability", "refund_rates"]
    assert not is_share_column(table, "no_such_share")


def test_profiles_write_share_columns_as_percentages() -> None:
    rng = np.random.default_rng(0)
    labels = np.repeat([0, 1], 100)
    table = pd.DataFrame({"returns_share": np.where(labels == 1, rng.uniform(0.4, 0.6, 200),
                                                    rng.uniform(0.0, 0.2, 200)).round(3)})
    profile = profile_segments(table, {"returns_share": "numeric"}, labels)[1]
    assert "returns share" in profile.description and "%" in profile.description, profile.description
    assert re.fullmatch(r"returns share (above |)\d+% ?(or more|)", profile.rules[0].text), profile.rules[0].text


def test_role_columns_keep_the_roles_order_and_skip_absent_columns() -> None:
    table = pd.DataFrame({"a": [1], "b": [2], "c": ["x"]})
    roles = {"b": "numeric", "gone": "numeric", "c": "categorical", "a": "numeric"}
    assert role_columns(table, roles, "numeric") == ["b", "a"]
