"""Diagnostics: warnings fire on crafted label arrays; silhouette table and curves over k on planted blobs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_blobs

from segmentation.choose.diagnostics import k_curves, label_warnings, result_warnings, silhouette_table
from segmentation.config import ClusterConfig, RunConfig
from segmentation.errors import ConfigError, DataError
from segmentation.pipeline import SegmentationResult
from segmentation.plots import quality as plots_quality


def codes(labels: list[int] | np.ndarray, **kwargs) -> list[str]:
    return [d.code for d in label_warnings(np.asarray(labels), **kwargs)]


def test_healthy_segments_raise_nothing() -> None:
    assert codes([0] * 40 + [1] * 35 + [2] * 25, requested=3, silhouette=0.6) == []


def test_one_giant_segment() -> None:
    found = label_warnings(np.array([0] * 80 + [1] * 10 + [2] * 10))
    assert [d.code for d in found] == ["giant_segment"]
    assert found[0].message.startswith("Segment 1 holds 80% of customers")


def test_many_tiny_segments() -> None:
    labels = [0] * 50 + [1] * 45 + [2, 3, 4, 5, 6]  # five segments of one customer each
    found = label_warnings(np.array(labels))
    assert [d.code for d in found] == ["tiny_segments"]
    assert "5 of 7 segments hold under 3%" in found[0].message


def test_over_thirty_percent_unassigned() -> None:
    assert codes([-1] * 40 + [0] * 30 + [1] * 30) == ["many_unassigned"]
    assert codes([-1] * 30 + [0] * 35 + [1] * 35) == []  # exactly 30% is still acceptable


def test_every_customer_unassigned() -> None:
    found = label_warnings(np.full(50, -1), requested=3)
    assert [d.code for d in found] == ["all_unassigned"]
    assert "no dense group" in found[0].message


def test_fewer_segments_than_asked_for() -> None:
    found = label_warnings(np.repeat([0, 1, 2], 20), requested=5)
    assert [d.code for d in found] == ["fewer_than_asked"]
    assert "asked for 5 segments but only 3" in found[0].message


def test_single_segment_and_weak_structure() -> None:
    assert codes([0] * 20) == ["single_segment"]
    weak = label_warnings(np.repeat([0, 1], 20), silhouette=0.1)
    assert [(d.code, d.severity) for d in weak] == [("weak_structure", "warning")]
    assert [(d.code, d.severity) for d in label_warnings(np.repeat([0, 1], 20), silhouette=0.2)] == \
        [("weak_structure", "info")]
    with pytest.raises(DataError):
        label_warnings(np.array([], dtype=int))


def test_result_warnings_read_the_requested_number_from_the_config() -> None:
    n = 30
    result = SegmentationResult(
        config=RunConfig(cluster=ClusterConfig.make("gmm", n_clusters=4)), data_digest="t",
        table=pd.DataFrame({"x": range(n)}), roles={"x": "numeric"}, row_ids=np.arange(n).astype(str),
        texts=np.array([""] * n, dtype=object), features=np.zeros((n, 1)), embedding=np.zeros((n, 1)),
        coords=np.zeros((n, 2)), labels=np.repeat([0, 1], 15), confidence=np.ones(n),
        metrics={"silhouette": 0.7}, profiles=())
    assert [d.code for d in result_warnings(result)] == ["fewer_than_asked"]


def test_silhouette_table_and_figure() -> None:
    Z, truth = make_blobs(n_samples=120, n_features=2, centers=[[0, 0], [8, 0]], random_state=0)
    labels = np.where(np.arange(120) < 10, 1 - truth, truth)  # ten customers put in the wrong segment
    table = silhouette_table(Z, labels)
    assert len(table) == 120 and table["silhouette"].between(-1, 1).all()
    assert (table["silhouette"] < 0).sum() >= 8  # the misplaced ones sit closer to the other segment
    for _, block in table.groupby("segment", sort=False):
        assert block["silhouette"].is_monotonic_decreasing
    fig = plots_quality.silhouette_figure(table)
    assert len(fig.data) == 2
    assert sorted(np.concatenate([np.asarray(t.customdata)[:, 0] for t in fig.data]).tolist()) == list(range(120))
    assert "above 0.5 strong" in fig.layout.title.subtitle.text
    assert silhouette_table(Z, np.zeros(120, dtype=int)).empty
    assert "Fewer than two segments" in plots_quality.silhouette_figure(pd.DataFrame()).layout.annotations[0].text


def test_curves_over_k_point_at_the_planted_number() -> None:
    Z, _ = make_blobs(n_samples=240, n_features=3, centers=3, random_state=7)
    curves = k_curves(Z, (2, 5), random_state=0)
    assert curves["k"].tolist() == [2, 3, 4, 5]
    assert curves["inertia"].is_monotonic_decreasing
    best = curves.set_index("k")
    assert best["silhouette"].idxmax() == 3 and best["davies_bouldin"].idxmin() == 3 and best["bic"].idxmin() == 3
    fig = plots_quality.curves_figure(curves)
    stars = [t for t in fig.data if t.marker.symbol == "star"]
    assert [int(t.x[0]) for t in stars] == [3, 3, 3]
    titles = [a.text for a in fig.layout.annotations]
    assert "Silhouette: higher is better" in titles and "Inertia: look for the elbow" in titles
    with pytest.raises(ConfigError, match="'k_range' setting"):
        k_curves(Z[:4], (2, 5))
