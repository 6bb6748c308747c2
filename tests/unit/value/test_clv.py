"""Predicted value per customer: ranges, who looks alive, determinism, agreement with pymc-marketing, bad input."""

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from segmentation.errors import ConfigError, DataError
from segmentation.ingest.orders import rollup
from segmentation.value.clv import (
    VALUE_COLUMNS,
    ValueModel,
    expected_purchases,
    expected_spend,
    order_lines,
    p_alive,
    predict_value,
    purchase_history,
)
from tests.unit.value.conftest import LAYOUT, START, make_orders

ROOT = Path(__file__).resolve().parents[3]


def test_predictions_are_in_range_and_the_steady_buyer_outlives_the_one_who_stopped(prediction):
    customers = prediction.customers
    assert len(customers) == 82  # every customer with a purchase; the returns-only account has none
    assert "R-returns" not in customers.index
    assert customers["p_alive"].between(0, 1).all()
    for column in ("expected_purchases", "predicted_clv", "value_at_risk", "expected_spend"):
        assert (customers[column] >= 0).all() and np.isfinite(customers[column]).all(), column
    # value at risk from the unrounded p_alive: the rounded one (4 decimals) is off by up to clv × 0.00005
    assert (np.abs(customers["value_at_risk"] - customers["predicted_clv"] * (1 - customers["p_alive"]))
            <= 0.01 + 5e-5 * customers["predicted_clv"]).all()
    steady, gone = customers.loc["A-often"], customers.loc["Z-gone"]
    assert steady["p_alive"] > 0.9 > 0.1 > gone["p_alive"]
    assert steady["expected_purchases"] > 10 * gone["expected_purchases"]
    assert steady["predicted_clv"] > gone["predicted_clv"]
    assert prediction.as_of == pd.Timestamp("2023-12-31") and prediction.horizon_days == 365
    assert all(v > 0 for k, v in prediction.model.parameters().items())
    assert any("bought on one day only" in note for note in prediction.notes) or (customers["frequency"] > 0).all()
    # MBG/NBD: a customer who bought once can have left too, the more likely the longer ago that was
    once = customers[customers["frequency"] == 0].sort_values("T")
    assert len(once) >= 2 and once["p_alive"].iloc[0] > once["p_alive"].iloc[-1] and (once["p_alive"] < 1).all()


def test_the_roll_up_adds_the_same_predictions_and_keeps_every_customer(orders, prediction):
    plain, plain_notes = rollup(orders, LAYOUT)
    rolled, notes = rollup(orders, LAYOUT, predict=True)
    assert not set(VALUE_COLUMNS) & set(plain.columns)  # optional: off unless asked for
    assert len(rolled) == len(plain) == 83
    assert list(rolled.columns) == list(plain.columns[:-4]) + list(VALUE_COLUMNS) + list(plain.columns[-4:])
    by_id = rolled.set_index("customer_id")
    # a second fit on the same lines gives the same numbers (deterministic), and the roll-up's rules for
    # purchases and returns are predict_value's
    pd.testing.assert_frame_equal(by_id.loc[prediction.customers.index, list(VALUE_COLUMNS)],
                                  prediction.customers[list(VALUE_COLUMNS)], check_names=False)
    assert by_id.loc["R-returns", list(VALUE_COLUMNS)].isna().all()
    assert any(note.startswith("Predicted value for 82 customers") for note in notes)
    assert any("1 customers have no purchase" in note for note in notes)
    assert by_id["rfm_group"].notna().all()


def test_the_histories_are_counted_as_pymc_marketing_counts_them(orders, prediction):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pymc_marketing.clv import rfm_summary

    lines, _ = order_lines(orders, LAYOUT)
    history = purchase_history(lines, prediction.as_of)
    bought = lines[(lines["amount"] > 0) & ~lines["is_return"]]
    theirs = rfm_summary(bought.assign(day=bought["when"].dt.normalize()), "key", "day", "amount",
                         observation_period_end=prediction.as_of).set_index("customer_id").sort_index()
    for column in ("frequency", "recency", "T", "monetary_value"):
        assert np.allclose(history[column], theirs[column]), column


def _log(days: list[int], amounts: list[float] | None = None, customers: int = 30) -> pd.DataFrame:
    rows = [{"order_id": f"O{c}-{k}", "customer_id": f"C{c:02d}",
             "order_date": (START + pd.Timedelta(days=d)).strftime("%Y-%m-%d"),
             "amount": (amounts or [20.0] * len(days))[k]}
            for c in range(customers) for k, d in enumerate(days)]
    return pd.DataFrame(rows)


@pytest.mark.parametrize(("orders_of", "message"), [
    (lambda: _log([0, 30], customers=12), r"Only 12 of 12 customers bought on more than one day; .* at least 20"),
    (lambda: _log([5, 5]), r"All purchases fall on one day; predicting purchases needs orders on several days"),
    (lambda: _log([0, 30], [0.0, -5.0]), r"No order line is a purchase with a positive amount"),
    (lambda: _log([0, 30]).assign(order_date=lambda t: t["order_date"].str.replace("2023", "2099")),
     r"60 order lines are dated after today \(the latest 2099-01-31\)"),
    (lambda: _log([0, 30, 60]).assign(order_date=lambda t: t["order_date"].where(t.index % 3 > 0, "soon")),
     r"30 of 90 order lines \(33%\) have dates that could not be read"),
])
def test_each_bad_history_gets_its_sentence_and_the_roll_up_goes_on_without_predictions(orders_of, message):
    table = orders_of()
    with pytest.raises(DataError, match=message):
        predict_value(table, LAYOUT)
    customers, notes = rollup(table, LAYOUT, predict=True)
    plain, _ = rollup(table, LAYOUT)
    pd.testing.assert_frame_equal(customers, plain)  # nothing lost, nothing added
    said = [n for n in notes if n.startswith("No predicted value was added: ")]
    assert len(said) == 1 and re.search(message, said[0])


def test_a_horizon_outside_its_range_is_refused_by_name():
    with pytest.raises(ConfigError, match=r"horizon must be a whole number of days from 1 to 3650.*Got 0"):
        predict_value(make_orders(customers=5), LAYOUT, horizon_days=0)


def test_a_one_time_buyer_can_have_left_and_longer_horizons_expect_more():
    model = ValueModel(r=0.8, alpha=70.0, a=0.5, b=5.0, p=2.0, q=3.0, v=100.0, customers=1, repeat_customers=1)
    x, t_x, big_t = np.array([0.0, 3.0, 3.0]), np.array([0.0, 300.0, 20.0]), np.array([100.0, 310.0, 310.0])
    alive = p_alive(model, x, t_x, big_t)
    # bought once 100 days ago: 1 / (1 + a / b * ((alpha + T) / alpha) ** r) = 1 / (1 + 0.1 * (170 / 70) ** 0.8)
    assert alive[0] == pytest.approx(1 / (1 + 0.1 * (170 / 70) ** 0.8)) == pytest.approx(0.8310, abs=1e-4)
    assert alive[1] > alive[2]
    assert (expected_purchases(model, x, t_x, big_t, 730) > expected_purchases(model, x, t_x, big_t, 365)).all()
    # no repeat purchase: the population's mean spend, v p / (q - 1) = 100
    assert expected_spend(model, np.array([0.0]), np.array([0.0]))[0] == pytest.approx(100.0)


def test_importing_the_roll_up_and_the_value_module_does_not_import_pymc():
    code = ("import sys\nimport segmentation.ingest.orders, segmentation.value.clv, segmentation.value.holdout\n"
            "print(sorted(m for m in ('pymc', 'pytensor', 'arviz', 'pymc_marketing', 'scipy') if m in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr
