"""Per-customer propensity of a known outcome: ``<outcome>_propensity`` in customers.csv of ``run --outcome``."""

from pathlib import Path

import numpy as np
import pandas as pd

from segmentation.cli.main import main
from segmentation.understand.outcomes import fit_propensity, propensity_columns

FAST = ["--model", "tfidf", "--reduce", "pca", "--map", "pca"]


def _customers(n: int = 160) -> pd.DataFrame:
    """Big spenders churn one time in ten, small spenders six times in ten."""
    rng = np.random.default_rng(0)
    group = np.repeat([0, 1], n // 2)
    return pd.DataFrame({"customer_id": [f"C{i:03d}" for i in range(n)],
                         "spend": np.where(group == 1, rng.normal(900, 50, n), rng.normal(100, 20, n)).round(2),
                         "visits": np.where(group == 1, rng.integers(20, 30, n), rng.integers(1, 5, n)),
                         "churned": np.where(rng.random(n) < np.where(group == 1, 0.1, 0.6), "yes", "no")})


ROLES = {"customer_id": "id", "spend": "numeric", "visits": "numeric", "churned": "outcome"}


def test_propensity_columns_are_the_propensity_models_scores():
    table = _customers()
    columns = propensity_columns(table, ROLES, random_state=3)
    assert list(columns.columns) == ["churned_propensity"]
    expected = fit_propensity(table, ROLES, "churned", random_state=3).scores
    np.testing.assert_allclose(columns["churned_propensity"], np.round(expected, 4))
    small = table["spend"] < 500
    assert columns["churned_propensity"][small].mean() > columns["churned_propensity"][~small].mean() + 0.3


def test_an_outcome_too_rare_to_model_gets_no_column():
    table = _customers().assign(churned="no")
    table.loc[:4, "churned"] = "yes"                       # 5 of a value: fewer than the 10 a check needs
    assert propensity_columns(table, ROLES).shape == (len(table), 0)


def test_run_with_an_outcome_writes_each_customers_propensity(tmp_path: Path):
    source = tmp_path / "customers.csv"
    table = _customers()
    table.to_csv(source, index=False)
    assert main(["run", str(source), "--out", str(tmp_path / "out"), "-k", "2", "--outcome", "churned", "--quiet",
                 *FAST]) == 0
    customers = pd.read_csv(tmp_path / "out" / "customers.csv")
    scores = customers["churned_propensity"]
    assert len(scores) == len(table) and scores.between(0, 1).all()
    small = customers["spend"] < 500
    assert scores[small].mean() > scores[~small].mean() + 0.3
