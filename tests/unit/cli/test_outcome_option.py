"""``run --outcome COLUMN``: the outcome is never a feature, and profiles.csv carries its rate per segment."""

from pathlib import Path

import numpy as np
import pandas as pd

from segmentation.cli.main import main

FAST = ["--model", "tfidf", "--reduce", "pca", "--map", "pca"]


def test_run_with_an_outcome_writes_rates_with_intervals_and_lift(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    n = 120
    group = np.repeat([0, 1], n // 2)
    table = pd.DataFrame({"customer_id": [f"C{i:03d}" for i in range(n)],
                          "spend": np.where(group == 1, rng.normal(900, 50, n), rng.normal(100, 20, n)).round(2),
                          "visits": np.where(group == 1, rng.integers(20, 30, n), rng.integers(1, 5, n)),
                          "churned": np.where(rng.random(n) < np.where(group == 1, 0.1, 0.6), "yes", "no")})
    source = tmp_path / "customers.csv"
    table.to_csv(source, index=False)
    assert main(["run", str(source), "--out", str(tmp_path / "out"), "-k", "2", "--outcome", "churned", "--quiet",
                 *FAST]) == 0
    profiles = pd.read_csv(tmp_path / "out" / "profiles.csv")
    assert {"churned_rate", "churned_low", "churned_high", "churned_lift"} <= set(profiles.columns)
    assert (profiles["churned_low"] <= profiles["churned_rate"]).all()
    assert (profiles["churned_rate"] <= profiles["churned_high"]).all()
    config = (tmp_path / "out" / "config.json").read_text()
    assert '"churned"' in config and '"outcome"' in config      # kept out of the features by its role
    assert "churned" not in " ".join(profiles["top_categories"].fillna(""))
