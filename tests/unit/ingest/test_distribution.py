"""Small histograms of the columns, for the column statistics on the Data page."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from segmentation.ingest.distribution import column_histogram, column_histograms


def test_a_rating_gets_one_bar_per_whole_number() -> None:
    assert column_histogram(pd.Series([1, 2, 2, 5, 5, 5])) == [1, 2, 0, 0, 3]


def test_a_skewed_amount_is_binned_between_its_percentiles_so_one_giant_does_not_flatten_the_rest() -> None:
    values = pd.Series(np.r_[np.linspace(-50, 50, 200), [1e7]])     # a negative: no log scale
    counts = column_histogram(values, bins=10)
    assert len(counts) == 10 and sum(counts) == 201
    assert max(counts) < 40          # the 200 ordinary values spread over the bars; the giant joins the last one


def test_categories_are_counted_largest_first_and_empty_values_left_out() -> None:
    assert column_histogram(pd.Series(["b", "a", "b", None, " ", "b", "a", "c"])) == [3, 2, 1]


def test_empty_and_constant_columns() -> None:
    assert column_histogram(pd.Series([np.nan, np.nan])) == []
    assert column_histogram(pd.Series([3.5, 3.5, 3.5])) == [3]


def test_bins_must_be_positive() -> None:
    with pytest.raises(ValueError, match=r"bins must be at least 1\. Got 0"):
        column_histogram(pd.Series([1.0]), bins=0)


def test_text_ids_and_personal_data_get_no_bars() -> None:
    table = pd.DataFrame({"id": [1, 2, 3], "email": ["a@x.io", "b@x.io", "c@x.io"], "spend": [1.0, 2.0, 2.0],
                          "region": ["n", "s", "n"], "note": ["hi", "yo", "hey"]})
    roles = {"id": "id", "email": "pii", "spend": "numeric", "region": "categorical", "note": "text"}
    bars = column_histograms(table, roles)
    assert list(bars) == ["id", "email", "spend", "region", "note"]
    assert bars["id"] == bars["email"] == bars["note"] == []
    assert bars["spend"] == [1, 2] and bars["region"] == [2, 1]


def test_a_very_skewed_amount_is_binned_on_a_log_scale() -> None:
    # 1, 10, 100, 1,000 and 10,000: on a log scale each gets a bar of its own
    spend = pd.Series(np.repeat([1.0, 10.0, 100.0, 1_000.0, 10_000.0], [400, 200, 100, 50, 10]))
    counts = column_histogram(spend, bins=5)
    assert counts == [400, 200, 100, 50, 10]
