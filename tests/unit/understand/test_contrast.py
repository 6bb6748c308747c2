"""A group against everyone else: the one effect size, the tests, Benjamini-Hochberg and the comparison tables."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy.stats import chi2_contingency, mannwhitneyu

from segmentation.config import ClusterConfig, ReduceConfig, RunConfig, TextConfig
from segmentation.errors import DataError
from segmentation.ingest.read import load_table
from segmentation.pipeline import run
from segmentation.understand.contrast import (
    benjamini_hochberg,
    category_crosstab,
    heatmap_frame,
    is_code_like,
    mean_contrast,
    selection_profile,
)
from tests.unit.understand.test_explain import DEMO, planted


def test_mann_whitney_and_proportion_tests_match_scipy() -> None:
    table, roles, labels, _, _ = planted()
    mask = labels == 0
    frame = selection_profile(table, {"annual_income": "numeric", "region": "categorical"}, mask)
    numeric = frame[frame["kind"] == "numeric"].set_index("column")
    expected = mannwhitneyu(table["annual_income"][mask], table["annual_income"][~mask]).pvalue
    assert numeric.loc["annual_income", "p_value"] == pytest.approx(expected, rel=1e-6)
    cats = frame[frame["kind"] == "category"].set_index("value")
    north = (table["region"] == "North").to_numpy()
    counts = [[(north & mask).sum(), (~north & mask).sum()], [(north & ~mask).sum(), (~north & ~mask).sum()]]
    assert cats.loc["North", "p_value"] == pytest.approx(chi2_contingency(counts, correction=False).pvalue, rel=1e-6)


def test_benjamini_hochberg_by_hand() -> None:
    adjusted = benjamini_hochberg([0.01, 0.04, 0.03, 0.005, np.nan])
    assert np.allclose(adjusted[:4], [0.02, 0.04, 0.04, 0.02]) and np.isnan(adjusted[4])


# --------------------------------------------------------------------------- the one effect size
def test_effect_is_the_gap_to_the_others_in_the_columns_standard_deviation() -> None:
    # values 0, 0, 0, 4: mean 1, sd over everyone sqrt((1 + 1 + 1 + 9) / 4) = sqrt(3)
    values, codes = np.array([0.0, 0.0, 0.0, 4.0]), np.array([0, 0, 0, 1])
    inside, others, effect = mean_contrast(values, codes, 3)
    assert inside[:2].tolist() == [0.0, 4.0] and others[:2].tolist() == [4.0, 0.0]
    assert effect[1] == pytest.approx(4 / math.sqrt(3)) and effect[0] == pytest.approx(-4 / math.sqrt(3))
    assert np.isnan(effect[2])                                            # a group with nobody in it
    assert mean_contrast(np.full(4, 7.0), codes, 2)[2].tolist() == [0.0, 0.0]   # a column that does not vary
    assert mean_contrast(values, np.zeros(4, dtype=int), 1)[2].tolist() == [0.0]   # nobody outside the group
    heat = heatmap_frame(pd.DataFrame({"x": [0, 0, 0, 4, None]}), {"x": "numeric"}, np.array([0, 0, 0, 1, 1]))
    assert heat.loc[1, "x"] == pytest.approx(4 / math.sqrt(3))          # a missing value is left out, not zero


@pytest.fixture(scope="module")
def demo_run():
    config = RunConfig(text=TextConfig(columns=("review",), model="tfidf", tfidf_dims=64),
                       reduce=ReduceConfig(method="pca", map_method="pca", n_components=8),
                       cluster=ClusterConfig.make("kmeans", n_clusters=6), random_state=42)
    return run(load_table(DEMO).table, config, cache=None)


def test_cards_heatmap_and_selection_show_the_same_effect(demo_run) -> None:
    # the demo once showed "days since last order" +2.0 sd on a card and +1.0 on the heatmap
    result = demo_run
    heat = heatmap_frame(result.table, result.roles, result.labels)
    assert heat.index.tolist() == [p.segment for p in result.profiles]
    for profile in result.profiles:
        card = profile.numeric.set_index("feature")["effect"]
        assert sorted(card.index) == sorted(heat.columns)
        for feature, effect in card.items():
            assert heat.loc[profile.segment, feature] == pytest.approx(effect, abs=1e-12), (profile.segment, feature)
        lasso = selection_profile(result.table, result.roles, np.flatnonzero(result.labels == profile.segment))
        numeric = lasso[lasso["kind"] == "numeric"].set_index("column")["effect"]
        pd.testing.assert_series_equal(numeric.sort_index(), card.sort_index(), check_names=False, rtol=1e-12)
        card_values = profile.categories.set_index(["column", "value"])["effect"]
        lasso_values = lasso[lasso["kind"] == "category"].set_index(["column", "value"])["effect"]
        shared = card_values.index.intersection(lasso_values.index)
        assert len(shared) == len(card_values)
        assert np.allclose(lasso_values[shared], card_values[shared], rtol=0, atol=1e-12)
    lapsed = next(p for p in result.profiles if p.action == "Win back")
    days = heat.loc[lapsed.segment, "days_since_last_order"]
    assert 1.5 < days < 2.5                   # one number between the two the screens used to show (1.0 and 2.0)


# --------------------------------------------------------------------------- selection, heatmap, crosstab
def test_selection_profile_finds_what_was_planted() -> None:
    table, roles, labels, _, _ = planted()
    frame = selection_profile(table, roles, np.flatnonzero(labels == 0))
    top = frame.iloc[0]
    # any planted trait may lead: region North (Cohen's h 1.28) now edges out income (+1.26 sd of all incomes)
    assert top["significant"] and top["column"] in ("total_spend", "annual_income", "region")
    north = frame[(frame["kind"] == "category") & (frame["value"] == "North")].iloc[0]
    assert north["trait"] == "region is North" and north["selection"] == pytest.approx(0.6)
    assert not frame.set_index("column").loc["noise_col", "significant"]
    assert selection_profile(table, roles, []).empty
    with pytest.raises(DataError, match=r"outside 0\.\.629"):
        selection_profile(table, roles, [0, 630])


def test_heatmap_and_crosstab() -> None:
    table, roles, labels, _, _ = planted()
    heat = heatmap_frame(table, roles, labels)
    assert heat.index.tolist() == [0, 1, 2, 3, -1]
    assert heat.loc[0, "annual_income"] > 0.5 and heat.loc[1, "days_since_last_order"] > 1.5
    assert np.allclose(heat["noise_col"], 0.0)
    cross = category_crosstab(table, "region", labels)
    assert np.allclose(cross.sum(axis=1), 1.0) and cross.loc[0, "North"] == pytest.approx(0.6)
    with pytest.raises(DataError, match="not in the data"):
        category_crosstab(table, "colour", labels)
    with pytest.raises(DataError, match="629 segment labels for 630 customers"):
        heatmap_frame(table, roles, labels[:-1])


def test_heatmap_leaves_out_numeric_codes_whose_average_means_nothing() -> None:
    # an item code ("Clothing ID") and a nearly unique whole number are codes; spend and a 1-5 rating are not
    rng = np.random.default_rng(1)
    table = pd.DataFrame({"Clothing ID": rng.integers(800, 1200, 40), "ticket": rng.permutation(40) * 7 + 1000,
                          "total_spend": rng.permutation(40) * 3.0 + 1, "Rating": rng.integers(1, 6, 40),
                          "orders": rng.permutation(40)})
    roles = dict.fromkeys(table.columns, "numeric")
    heat = heatmap_frame(table, roles, np.repeat([0, 1], 20))
    assert list(heat.columns) == ["total_spend", "Rating", "orders"]
    assert is_code_like(np.array([1.5, 2.5, 3.5] * 10), "item_id") is False     # fractions are amounts
