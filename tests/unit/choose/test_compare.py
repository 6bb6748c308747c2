"""Comparing runs and checking segments against known groups, on hand-checkable label arrays."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from segmentation.choose.compare import compare_runs, compare_to_known_groups, known_groups
from segmentation.config import RunConfig
from segmentation.errors import DataError
from segmentation.pipeline import SegmentationResult
from segmentation.plots import quality as plots_quality
from segmentation.plots.flow import comparison_flow_figure
from segmentation.plots.theme import UNASSIGNED_COLOUR

A = np.array([0, 0, 0, 1, 1, -1])
B = np.array([1, 1, 0, 0, 0, -1])


def test_cross_tab_matches_and_agreement() -> None:
    comparison = compare_runs(A, B)
    assert comparison.crosstab.index.tolist() == [0, 1, -1]
    assert comparison.crosstab.columns.tolist() == [0, 1, -1]
    assert comparison.crosstab.to_numpy().tolist() == [[1, 2, 0], [2, 0, 0], [0, 0, 1]]
    assert comparison.n_customers == 6
    assert comparison.matches == {0: 1, 1: 0, -1: -1}
    assert comparison.stayed_share == pytest.approx(5 / 6)  # 2 (0->1) + 2 (1->0) + 1 unassigned
    assert comparison.ari == pytest.approx(adjusted_rand_score(A, B))
    assert "The biggest move: 1 customers from Segment 1 (Run A) to Segment 1 (Run B)" in comparison.summary()


def test_renamed_segments_agree_fully() -> None:
    a = np.repeat([0, 1, 2], 4)
    comparison = compare_runs(a, np.repeat([2, 0, 1], 4), names_a={0: "Loyal"}, label_b="March")
    assert comparison.ari == pytest.approx(1.0) and comparison.stayed_share == 1.0
    assert comparison.matches == {0: 2, 1: 0, 2: 1}
    named = comparison.named_crosstab()
    assert named.index.tolist() == ["Loyal", "Segment 2", "Segment 3"] and named.columns.name == "March"
    assert comparison.moves()["matched"].all()


def test_flow_figure_carries_every_customer() -> None:
    rng = np.random.default_rng(0)
    a, b = rng.integers(-1, 4, 200), rng.integers(-1, 3, 200)
    comparison = compare_runs(a, b)
    fig = comparison_flow_figure(comparison)  # the one Sankey (plots.flow)
    sankey = fig.data[0]
    assert len(sankey.node.label) == 5 + 4
    assert sum(sankey.link.value) == 200
    assert all(s < 5 <= t for s, t in zip(sankey.link.source, sankey.link.target))
    assert sankey.node.color[4] == UNASSIGNED_COLOUR  # run A's Unassigned
    assert "adjusted Rand index: 1 = the same segments" in fig.layout.title.subtitle.text


def test_runs_over_different_customers_are_refused() -> None:
    with pytest.raises(DataError, match="one has 6 labels, the other 5"):
        compare_runs(A, B[:5])


def test_known_groups_scores_and_cross_tab() -> None:
    truth = pd.Series(["x", "x", "y", "y", None, "z"])
    labels = np.array([0, 0, 1, 1, 2, -1])
    check = compare_to_known_groups(labels, truth, column="plan")
    assert check.ari == pytest.approx(1.0) and check.v_measure == pytest.approx(1.0)
    assert check.crosstab.loc[2, "(missing)"] == 1 and check.crosstab.to_numpy().sum() == 6
    assert "closely follow the known groups in 'plan'" in check.summary()
    fig = plots_quality.crosstab_figure(check.crosstab)
    assert np.allclose(np.asarray(fig.data[0].z).sum(1), 1.0)


def _result(roles: dict[str, str]) -> SegmentationResult:
    n = 8
    table = pd.DataFrame({"spend": np.arange(n, dtype=float), "plan": ["a"] * 4 + ["b"] * 4})
    return SegmentationResult(
        config=RunConfig(), data_digest="t", table=table, roles=roles, row_ids=np.arange(n).astype(str),
        texts=np.array([""] * n, dtype=object), features=np.zeros((n, 1)), embedding=np.zeros((n, 1)),
        coords=np.zeros((n, 2)), labels=np.array([0, 0, 0, 1, 1, 1, 1, 1]), confidence=np.ones(n), metrics={},
        profiles=())


def test_known_groups_from_a_result_role() -> None:
    assert known_groups(_result({"spend": "numeric", "plan": "categorical"})) is None
    check = known_groups(_result({"spend": "numeric", "plan": "label"}))
    assert check is not None and check.column == "plan"
    assert check.crosstab.to_numpy().tolist() == [[3, 0], [1, 4]]
