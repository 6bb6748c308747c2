"""One rule per dashboard column: money below 1,000 and above it read alike in one chart (never "402.03" beside
"2,316"), through the one number formatter (understand.wording.column_texts)."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from segmentation.plots.dashboard import Metric, dashboard_figure, segment_dashboard
from segmentation.understand.wording import MISSING, column_decimals, column_texts


def test_a_money_column_with_amounts_over_1000_has_no_decimals_anywhere() -> None:
    assert column_texts([402.03, 2316.4, 18.5], "total_spend") == ["402", "2,316", "18"]
    assert column_texts([402.03, 2316.4], "revenue_eur") == ["€402", "€2,316"]
    assert column_texts([402.03, 18.5, -3.0], "total_spend") == ["402.03", "18.50", "-3.00"]   # all below 1,000


@pytest.mark.parametrize(("values", "money", "decimals"), [
    ([402.03, 2316.4], True, 0), ([402.03, 18.5], True, 2), ([15.0, 75.0], True, 2),
    ([3.0, 4.0, 5.0], False, 0), ([3.25, 4.5], False, 2), ([0.012, 0.5], False, None), ([np.nan], False, 0),
])
def test_column_decimals(values: list[float], money: bool, decimals: int | None) -> None:
    assert column_decimals(values, money) == decimals


def test_missing_values_and_shares_keep_their_forms() -> None:
    assert column_texts([1.5, None, np.nan, 2000.0]) == ["2", MISSING, MISSING, "2,000"]
    assert column_texts([0.1088, 0.5], share=True) == ["10.9%", "50.0%"]


def test_dashboard_bars_of_one_column_read_alike() -> None:
    """Three segments whose spend per customer is about 402, 2,316 and 57: every label without decimals."""
    table = pd.DataFrame({"total_spend": [402.03, 402.03, 2316.4, 2316.4, 57.25, 57.25],
                          "orders": [1, 2, 3, 4, 1, 1]})
    roles = {"total_spend": "numeric", "orders": "numeric"}
    board = segment_dashboard(table, roles, np.array([0, 0, 1, 1, 2, 2]))
    fig = dashboard_figure(board)
    by_title = {trace.name: list(trace.text) for trace in fig.data}
    spend = by_title["Total spend per customer"]
    assert sorted(spend) == sorted(["402", "2,316", "57"]), spend
    for texts in by_title.values():   # within one chart: all with decimals or none
        assert len({bool(re.search(r"\.\d", t)) for t in texts}) == 1, texts


def test_a_segment_without_a_value_shows_a_dash() -> None:
    assert Metric("rating", "Average rating", "number").texts(np.array([4.25, np.nan])) == ["4.25", "–"]
