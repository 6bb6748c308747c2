"""Known outcomes: per-segment rates with intervals and lift, a held-out propensity model (issue 17, item 5)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from segmentation.errors import DataError
from segmentation.ingest.read import load_table
from segmentation.ingest.roles import resolve_roles
from segmentation.understand.explain import profile_segments
from segmentation.understand.outcomes import (
    fit_propensity,
    mean_interval,
    outcome_rates,
    read_outcome,
    wilson_interval,
)

DATA = Path(__file__).resolve().parents[4] / "shared" / "data"


def planted(n: int = 600, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """Segment 1 churns three times as often, driven by a short tenure; 'noise' has no effect."""
    rng = np.random.default_rng(seed)
    labels = np.repeat([0, 1], n // 2)
    tenure = np.where(labels == 1, rng.uniform(0, 12, n), rng.uniform(6, 60, n))
    churn = rng.random(n) < np.where(tenure < 12, 0.8, 0.05)
    table = pd.DataFrame({"customer": [f"C{i}" for i in range(n)], "tenure": tenure.round(1),
                          "noise": rng.normal(size=n), "plan": rng.choice(["a", "b"], n),
                          "churned": np.where(churn, "Yes", "No"), "rating": rng.integers(1, 6, n)})
    return table, labels


def test_wilson_and_t_intervals_by_hand() -> None:
    low, high = wilson_interval(5, 10)
    assert (round(low, 4), round(high, 4)) == (0.2366, 0.7634)        # the textbook Wilson interval of 5/10
    assert wilson_interval(0, 20)[0] == 0.0 and 0 < wilson_interval(0, 20)[1] < 0.2
    low, high = mean_interval(np.array([1.0, 2.0, 3.0, 4.0, 5.0]))
    assert (round(low, 3), round(high, 3)) == (1.037, 4.963)           # 3 ± 2.776 × 1.581 / √5
    assert np.isnan(mean_interval(np.array([1.0]))[0])


def test_rates_intervals_and_lift_per_segment() -> None:
    table, labels = planted()
    outcome = read_outcome(table["churned"], "churned")
    assert (outcome.kind, outcome.positive) == ("binary", "Yes")
    rates = outcome_rates(table["churned"], labels, outcome)
    assert rates["segment"].tolist() == [0, 1] and rates["customers"].tolist() == [300, 300]
    churned = (table["churned"] == "Yes").to_numpy()
    assert rates["rate"].tolist() == pytest.approx([churned[:300].mean(), churned[300:].mean()])
    assert (rates["low"] <= rates["rate"]).all() and (rates["rate"] <= rates["high"]).all()
    assert rates.loc[1, "lift"] > 1.5 > 1 > rates.loc[0, "lift"]
    assert rates.loc[1, "low"] > rates.loc[0, "high"]                   # the planted gap is clear
    numeric = outcome_rates(table["rating"], labels)
    assert numeric["rate"].tolist() == pytest.approx([table["rating"][:300].mean(), table["rating"][300:].mean()])


def test_unreadable_outcomes_say_what_to_do() -> None:
    with pytest.raises(DataError, match=r"'x' has one value; mark a column whose values differ"):
        read_outcome(pd.Series(["a", "a"]), "x")
    with pytest.raises(DataError, match=r"not numbers; mark a yes/no column"):
        read_outcome(pd.Series(["red", "green", "blue"]), "x")


def test_propensity_finds_the_planted_driver_on_held_out_customers() -> None:
    table, _ = planted()
    roles = resolve_roles(table, {"churned": "outcome", "rating": "ignore"})
    model = fit_propensity(table, roles, "churned", random_state=0)
    assert model.metric_name == "AUC" and model.metric > 0.75   # the best possible is about 0.87
    assert model.importance["column"].iloc[0] == "tenure"
    assert model.n_test == 150 and len(model.scores) == len(table)
    assert model.scores[table["tenure"] < 12].mean() > model.scores[table["tenure"] >= 12].mean()
    assert "churned" not in model.importance["column"].tolist()    # the outcome is never its own feature
    again = fit_propensity(table, roles, "churned", random_state=0)
    assert np.array_equal(again.scores, model.scores)                # seeded


def test_outcomes_reach_the_profiles_and_never_the_features() -> None:
    table, labels = planted()
    roles = resolve_roles(table, {"churned": "outcome", "rating": "outcome"})
    profiles = {p.segment: p for p in profile_segments(table, roles, labels)}
    frame = profiles[1].outcomes
    assert frame is not None and frame["column"].tolist() == ["churned", "rating"]
    assert frame.loc[0, "kind"] == "binary" and frame.loc[0, "positive"] == "Yes" and frame.loc[0, "lift"] > 1.5
    assert "churned" not in profiles[1].numeric["feature"].tolist()
    assert "churned" not in profiles[1].categories["column"].tolist()


def test_telco_churn_propensity_and_segment_rates() -> None:
    table = load_table(DATA / "telco_churn" / "WA_Fn-UseC_-Telco-Customer-Churn.csv").table
    roles = resolve_roles(table, {"Churn": "outcome"})
    model = fit_propensity(table, roles, "Churn", random_state=0)
    assert model.metric > 0.7, model.summary()
    assert set(model.importance["column"].head(3)) & {"Contract", "tenure"}
    labels = pd.cut(table["tenure"], [-1, 12, 36, 100], labels=False).to_numpy()
    rates = outcome_rates(table["Churn"], labels)
    assert ((rates["low"] <= rates["rate"]) & (rates["rate"] <= rates["high"])).all()
    assert rates["rate"].is_monotonic_decreasing                      # longer tenure, less churn
    overall = (table["Churn"] == "Yes").mean()
    assert rates["overall"].iloc[0] == pytest.approx(overall)
