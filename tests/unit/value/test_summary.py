"""Predicted value per segment: totals, mean P(alive), shares; and the profiles table of a rolled-up order log."""

import re

import numpy as np
import pandas as pd
import pytest

from segmentation.cli.main import main
from segmentation.value.summary import (
    SEGMENT_VALUE_COLUMNS,
    segment_value,
    segment_value_columns,
    segment_value_line,
)

FAST = ["--model", "tfidf", "--reduce", "pca", "--map", "pca"]


def _table() -> tuple[pd.DataFrame, np.ndarray]:
    """Five customers: segment 0 holds two with a prediction and one without (returns only), segment 1 one,
    Unassigned (-1) one."""
    table = pd.DataFrame({"predicted_clv": [100.0, 50.0, np.nan, 30.0, 20.0],
                          "value_at_risk": [10.0, 0.0, np.nan, 15.0, 5.0],
                          "p_alive": [0.9, 1.0, np.nan, 0.5, 0.75]})
    return table, np.array([0, 0, 0, 1, -1])


def test_each_segment_gets_its_totals_mean_p_alive_and_share_of_the_value():
    table, labels = _table()
    value = segment_value(table, labels)
    assert list(value.columns) == list(SEGMENT_VALUE_COLUMNS) and list(value.index) == [-1, 0, 1]
    row = value.loc[0]
    assert (row["customers"], row["predicted_customers"]) == (3, 2)
    assert (row["predicted_clv"], row["value_at_risk"]) == (150.0, 10.0)
    assert row["mean_p_alive"] == pytest.approx(0.95)           # (0.9 + 1.0) / 2: the one without is left out
    assert row["clv_share"] == pytest.approx(150 / 200)          # of 100 + 50 + 30 + 20
    assert row["risk_share"] == 0.3333                            # 10 of 10 + 0 + 15 + 5, 4 decimals
    assert value.loc[1, "mean_p_alive"] == 0.5 and value.loc[-1, "predicted_clv"] == 20.0
    assert value["clv_share"].sum() == pytest.approx(1.0)


def test_without_predicted_value_the_frame_is_empty_and_a_misaligned_call_is_refused():
    table, labels = _table()
    empty = segment_value(table.drop(columns="predicted_clv"), labels)
    assert empty.empty and list(empty.columns) == list(SEGMENT_VALUE_COLUMNS)
    assert segment_value_columns(table[["p_alive"]], labels, [0, 1]).shape == (2, 0)
    no_risk = segment_value(table.assign(value_at_risk=0.0), labels)
    assert no_risk["risk_share"].isna().all()                    # nothing at risk: no share to divide
    with pytest.raises(ValueError, match=r"labels has 2 entries for 5 rows"):
        segment_value(table, labels[:2])


def test_a_segments_value_reads_as_one_line():
    table, labels = _table()
    line = segment_value_line(segment_value(table, labels).loc[0])
    assert line == ("Predicted value 150 (75% of all) · still active on average 95% · value at risk 10 "
                    "(33% of all at risk)")


def test_the_profiles_table_columns_follow_the_order_of_the_segments_asked_for():
    table, labels = _table()
    columns = segment_value_columns(table, labels, [1, 0, -1])
    assert list(columns.columns) == ["predicted_clv_total", "value_at_risk_total", "mean_p_alive", "clv_share",
                                     "risk_share"]
    assert columns["predicted_clv_total"].tolist() == [30.0, 150.0, 20.0]


def test_profiles_csv_of_a_rolled_up_order_log_carries_each_segments_value(orders, tmp_path, capsys):
    source = tmp_path / "orders.csv"
    orders.to_csv(source, index=False)
    assert main(["run", str(source), "--out", str(tmp_path / "out"), "-k", "3", *FAST, "--quiet"]) == 0
    profiles = pd.read_csv(tmp_path / "out" / "profiles.csv")
    customers = pd.read_csv(tmp_path / "out" / "customers.csv")
    assert {"predicted_clv_total", "value_at_risk_total", "mean_p_alive", "clv_share", "risk_share"} <= set(
        profiles.columns)
    by_segment = customers.groupby("segment_id")
    for row in profiles.itertuples():
        assert row.predicted_clv_total == pytest.approx(by_segment["predicted_clv"].sum()[row.segment_id], abs=0.01)
        assert row.mean_p_alive == pytest.approx(by_segment["p_alive"].mean()[row.segment_id], abs=1e-4)
    assert profiles["clv_share"].sum() == pytest.approx(1.0, abs=1e-3)
    report = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert "<h2>Customer value by segment</h2>" in report
    assert len(re.findall(r"Predicted value [\d.,]+k? \(\d+% of all\) · still active on average \d+%", report)) == 3


def test_a_segment_without_value_at_risk_says_so_in_words():
    # issue 15: "value at risk 0 (n/a of all at risk)" when nobody's value is at risk
    table = pd.DataFrame({"predicted_clv": [100.0, 50.0], "value_at_risk": [0.0, 0.0], "p_alive": [1.0, 1.0]})
    line = segment_value_line(segment_value(table, np.array([0, 0])).loc[0])
    assert line.endswith("· no value at risk") and "n/a" not in line
