"""Stability: well-separated segments survive re-runs, arbitrary splits of structureless data do not."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import make_blobs

from segmentation.choose.stability import badge, scale_params, segment_jaccard, stability
from segmentation.config import ClusterConfig
from segmentation.errors import ConfigError
from segmentation.plots import quality as plots_quality


def test_well_separated_segments_are_stable() -> None:
    Z, _ = make_blobs(n_samples=300, n_features=5, centers=3, random_state=0)
    report = stability(Z, ClusterConfig.make("kmeans", n_clusters=3), random_state=0)
    assert report.agreement > 0.9
    assert report.resamples == 6 and len(report.agreements) == 6
    assert report.badges == {0: "stable", 1: "stable", 2: "stable"}
    assert report.unstable == []
    assert report.segments["customers"].sum() == 300
    assert "Every segment keeps most of its members together" in report.summary()


def test_arbitrary_split_of_structureless_data_is_flagged() -> None:
    Z = np.random.default_rng(1).uniform(size=(300, 5))
    report = stability(Z, ClusterConfig.make("kmeans", n_clusters=6), random_state=0)
    assert report.agreement < 0.6
    assert len(report.unstable) >= 1
    assert "Unstable: Segment" in report.summary()
    fig = plots_quality.stability_figure(report)
    colours = list(fig.data[0].marker.color)
    assert colours.count(plots_quality.BADGE_COLOURS["unstable"]) == len(report.unstable)
    assert "0.75+ stable" in fig.layout.title.subtitle.text


def test_jaccard_is_hand_checkable() -> None:
    reference = np.array([0, 0, 0, 1, 1, 1])
    other = np.array([5, 5, 7, 7, 7, 7])
    # segment 0 {0,1,2} best matches {0,1}: 2 shared of 3; segment 1 {3,4,5} matches {2,3,4,5}: 3 of 4
    assert segment_jaccard(reference, other) == {0: pytest.approx(2 / 3), 1: pytest.approx(3 / 4)}
    assert segment_jaccard(reference, np.full(6, -1)) == {0: 0.0, 1: 0.0}
    assert segment_jaccard(np.array([-1, 0, 0]), np.array([0, 0, 0])) == {0: pytest.approx(2 / 3)}


def test_badges_follow_the_thresholds() -> None:
    assert [badge(v) for v in (0.9, 0.75, 0.74, 0.5, 0.49, float("nan"))] == \
        ["stable", "stable", "fair", "fair", "unstable", "unstable"]


def test_density_counts_scale_with_the_sample() -> None:
    config = ClusterConfig.make("hdbscan", min_cluster_size=50, min_samples=0)
    assert dict(scale_params(config, 0.5).params) == {"min_cluster_size": 25, "min_samples": 0}
    assert dict(scale_params(ClusterConfig.make("hdbscan", min_cluster_size=3, min_samples=3), 0.1).params) == \
        {"min_cluster_size": 2, "min_samples": 2}
    kmeans = ClusterConfig.make("kmeans", n_clusters=4)
    assert scale_params(kmeans, 0.5) == kmeans


def test_seedless_methods_only_re_run_subsamples() -> None:
    Z, _ = make_blobs(n_samples=200, n_features=3, centers=2, random_state=2)
    report = stability(Z, ClusterConfig.make("agglomerative", n_clusters=2), random_state=0, n_seeds=2,
                       n_subsamples=3)
    assert report.resamples == 3
    assert "same answer for any seed" in report.notes[0]
    assert report.agreement > 0.9


def test_given_labels_on_a_sample() -> None:
    Z, truth = make_blobs(n_samples=600, n_features=3, centers=2, random_state=3)
    report = stability(Z, ClusterConfig.make("kmeans", n_clusters=2), labels=truth, sample_size=200,
                       n_seeds=1, n_subsamples=1)
    assert report.sample_size == 200 and "200 of 600" in report.notes[0]
    assert report.segments["customers"].sum() == 200


def test_bad_inputs_are_refused() -> None:
    Z = np.random.default_rng(0).normal(size=(50, 2))
    config = ClusterConfig.make("kmeans", n_clusters=2)
    with pytest.raises(ConfigError, match="cover 10 customers but the cluster space has 50"):
        stability(Z, config, labels=np.zeros(10, dtype=int))
    with pytest.raises(ConfigError, match="'fraction' setting"):
        stability(Z, config, fraction=1.0)
    with pytest.raises(ConfigError, match="at least one re-run"):
        stability(Z, config, n_seeds=0, n_subsamples=0)
    with pytest.raises(ConfigError, match="no parameter 'k'"):
        stability(Z, ClusterConfig.make("kmeans", k=2))
