"""The holdout check, its chart, and the command line's contract: ``value`` and the value columns of ``run``."""

import json
import math
import re

import pandas as pd
import plotly.graph_objects as go
import pytest

from segmentation.cli.main import main
from segmentation.errors import ConfigError
from segmentation.plots.value import holdout_figure
from segmentation.value.holdout import holdout_check, holdout_verdict
from tests.unit.value.conftest import LAYOUT

HOLDOUT_KEYS = {"customers", "actual_purchases", "predicted_purchases", "mae_model", "mae_baseline", "parameters"}
FAST = ["--model", "tfidf", "--reduce", "pca", "--map", "pca"]


@pytest.fixture(scope="module")
def check(orders):
    return holdout_check(orders, LAYOUT, "2023-10-01")


def test_the_holdout_compares_model_and_baseline_with_what_happened(orders, check):
    s = check.summary
    assert HOLDOUT_KEYS <= set(s)
    assert (s["calibration_end"], s["holdout_from"], s["holdout_to"], s["holdout_days"]) == (
        "2023-09-30", "2023-10-01", "2023-12-31", 92)
    for key in ("mae_model", "mae_baseline", "predicted_purchases", "baseline_purchases"):
        assert math.isfinite(s[key]) and s[key] >= 0, key
    customers = check.customers
    assert s["customers"] == len(customers) and s["actual_purchases"] == customers["actual_purchases"].sum()
    # A-often buys every 14 days: 7 purchase days from 1 October to 31 December, and the model expects several
    assert customers.loc["A-often", "actual_purchases"] == 7
    assert customers.loc["A-often", "predicted_purchases"] > 3 > customers.loc["Z-gone", "predicted_purchases"]
    assert customers.loc["Z-gone", "actual_purchases"] == 0
    assert set(s["parameters"]) >= {"r", "alpha", "a", "b", "p", "q", "v"}
    table = check.by_past_purchases
    assert table["customers"].sum() == len(customers) and table["past_purchases"].iloc[-1] == "7+"
    json.dumps(s)  # JSON-ready as it is
    assert s["verdict"] == holdout_verdict(s)
    for key in ("rmse_model", "rmse_baseline"):
        assert s[key] >= s[key.replace("rmse", "mae")], key   # a root mean square is never below the mean


@pytest.mark.parametrize(("mae_model", "mae_baseline", "message"), [
    (0.8, 0.9, r"^The model predicts each customer's purchases better than the past-rate baseline \(mean absolute "
               r"error 0\.800 against 0\.900\)\. Over all 1,200 customers 3,000 purchase days happened; the model "
               r"predicted 2,500, the baseline 2,000\.$"),
    (0.997, 0.967, r"^The past-rate baseline predicts each customer's purchases as well as or better than the model "
                   r"\(mean absolute error 0\.967 against the model's 0\.997\): on this history the model does not "
                   r"beat the simple rule per customer"),
])
def test_the_verdict_says_plainly_which_predicted_better(mae_model, mae_baseline, message):
    summary = {"mae_model": mae_model, "mae_baseline": mae_baseline, "customers": 1200, "actual_purchases": 3000,
               "predicted_purchases": 2500.4, "baseline_purchases": 2000.0}
    assert re.search(message, holdout_verdict(summary))


def test_the_holdout_chart_draws_actual_model_and_baseline_by_past_purchases(check):
    fig = holdout_figure(check.by_past_purchases)
    assert isinstance(fig, go.Figure)
    assert [t.name for t in fig.data] == ["Actual", "Model (MBG/NBD)", "Baseline (past rate)"]
    assert list(fig.data[0].x) == list(check.by_past_purchases["past_purchases"])
    assert fig.data[1].customdata[0][1] == check.by_past_purchases["customers"].iloc[0]
    empty = holdout_figure(check.by_past_purchases.iloc[0:0])
    assert "No customer bought before the holdout" in empty.layout.annotations[0].text


@pytest.mark.parametrize(("start", "message"), [
    ("2024-03-01", r"holdout must start after the first order \(2023-01-01\) and no later than the last "
                   r"\(2023-12-31\); got 2024-03-01"),
    ("next week", r"holdout start must be a date as YYYY-MM-DD\. Got 'next week'"),
])
def test_a_holdout_start_outside_the_history_is_refused_in_one_sentence(orders, start, message):
    with pytest.raises(ConfigError, match=message):
        holdout_check(orders, LAYOUT, start)


def test_the_value_command_writes_the_holdout_files_and_the_predictions(orders, tmp_path, capsys):
    source = tmp_path / "orders.csv"
    orders.rename(columns={"customer_id": "who", "amount": "euros"}).to_csv(source, index=False)
    mapping = "customer=who,date=order_date,amount=euros,order=order_id"
    assert main(["value", str(source), "--orders", mapping, "--holdout-from", "2023-10-01",
                 "--out", str(tmp_path / "check")]) == 0
    printed = capsys.readouterr().out
    assert "mean absolute error" in printed
    summary = json.loads((tmp_path / "check" / "holdout.json").read_text())
    assert summary["verdict"] in printed and summary["verdict"].startswith(("The model", "The past-rate baseline"))
    summary = json.loads((tmp_path / "check" / "holdout.json").read_text())
    assert HOLDOUT_KEYS <= set(summary) and math.isfinite(summary["mae_model"])
    per_customer = pd.read_csv(tmp_path / "check" / "holdout.csv")
    assert per_customer.columns[0] == "who" and len(per_customer) == summary["customers"]
    assert per_customer["actual_purchases"].sum() == summary["actual_purchases"]
    html = (tmp_path / "check" / "holdout.html").read_text()
    assert "Predicted and actual purchases" in html and "<script src=\"http" not in html  # opens offline

    assert main(["value", str(source), "--orders", mapping, "--out", str(tmp_path / "value"), "--quiet"]) == 0
    predictions = pd.read_csv(tmp_path / "value" / "predictions.csv")
    assert {"who", "p_alive", "expected_purchases", "predicted_clv", "value_at_risk"} <= set(predictions.columns)
    assert len(predictions) == 82
    totals = json.loads((tmp_path / "value" / "value.json").read_text())
    assert totals["horizon_days"] == 365 and totals["customers"] == 82

    assert main(["value", str(source), "--orders", mapping, "--holdout-from", "2030-01-01",
                 "--out", str(tmp_path / "bad")]) == 2
    assert capsys.readouterr().err.startswith("error: The holdout must start after the first order")
    per_customer_file = tmp_path / "customers.csv"
    pd.DataFrame({"customer": ["a", "b", "c"], "age": [31, 45, 27]}).to_csv(per_customer_file, index=False)
    assert main(["value", str(per_customer_file), "--out", str(tmp_path / "bad")]) == 2
    assert "Name the columns with --orders" in capsys.readouterr().err


def test_run_on_order_lines_writes_rfm_groups_and_predicted_value_per_customer(orders, tmp_path, capsys):
    source = tmp_path / "orders.csv"
    orders.to_csv(source, index=False)
    assert main(["run", str(source), "--out", str(tmp_path / "out"), "-k", "3", *FAST]) == 0
    assert "note: Predicted value for 82 customers" in capsys.readouterr().out
    customers = pd.read_csv(tmp_path / "out" / "customers.csv")
    assert {"rfm_group", "p_alive", "expected_purchases", "predicted_clv", "value_at_risk"} <= set(customers.columns)
    assert len(customers) == 83 and customers["p_alive"].dropna().between(0, 1).all()
