"""The vote of the nearest reference customers and the one confidence definition (export = Assign)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from segmentation.act import tables
from segmentation.act.assign import build_model
from segmentation.act.neighbours import reference_rows, segment_confidence
from segmentation.config import ClusterConfig, ReduceConfig, RunConfig
from segmentation.pipeline import run


def test_reference_sample_is_stratified_and_seeded():
    labels = np.array([0] * 9000 + [1] * 900 + [2] * 100)
    rows = reference_rows(labels, 1000, random_state=3)
    counts = np.bincount(labels[rows])
    assert counts[2] == 100  # a small segment keeps all its customers (up to the minimum per segment)
    assert counts[1] == 200 and 850 <= counts[0] <= 950
    np.testing.assert_array_equal(rows, reference_rows(labels, 1000, random_state=3))
    np.testing.assert_array_equal(reference_rows(labels[:50], 1000, 0), np.arange(50))


def test_export_and_assign_give_a_training_customer_the_same_segment_and_confidence():
    rng = np.random.default_rng(4)
    centres = np.array([[0, 0], [10, 0], [0, 10]])
    points = np.vstack([rng.normal(c, 1.0, (40, 2)) for c in centres])
    table = pd.DataFrame({"customer_id": [f"C{i:03d}" for i in range(120)], "spend": points[:, 0].round(3),
                          "visits": points[:, 1].round(3)})
    config = RunConfig(reduce=ReduceConfig(method="pca", map_method="pca"),
                       cluster=ClusterConfig.make("kmeans", n_clusters=3))
    result = run(table, config)
    exported = tables.labelled_customers(result)
    assigned = build_model(result).assign(table)
    np.testing.assert_array_equal(assigned["segment_id"].to_numpy(), exported["segment_id"].to_numpy())
    np.testing.assert_allclose(assigned["confidence"], exported["segment_confidence"], atol=1e-3)
    assert exported["segment_confidence"].between(0, 1).all() and exported["segment_confidence"].median() > 0.9


def test_confidence_is_the_closeness_weighted_share_of_the_customers_own_segment():
    from types import SimpleNamespace

    # four customers on a line, the last in segment 1. Nearest-other distances 1, 1, 0.5, 0.5: the floor is
    # 0.1 x their median 0.75 = 0.075, so a customer's own vote weighs 1 / 0.075 = 13.3 and a neighbour 1 / d.
    features = np.array([[0.0], [1.0], [2.5], [3.0]], dtype=np.float32)
    result = SimpleNamespace(features=features, labels=np.array([0, 0, 0, 1]),
                             config=SimpleNamespace(random_state=0))
    own = 1 / 0.075
    expected = [(own + 1 + 1 / 2.5) / (own + 1 + 1 / 2.5 + 1 / 3),
                (own + 1 + 1 / 1.5) / (own + 1 + 1 / 1.5 + 1 / 2),
                (own + 1 / 1.5 + 1 / 2.5) / (own + 1 / 1.5 + 1 / 2.5 + 1 / 0.5),
                own / (own + 1 / 0.5 + 1 / 2 + 1 / 3)]
    assert segment_confidence(result) == pytest.approx(expected, rel=1e-4)
