"""Stability: re-running the reduction and clustering keeps well-separated segments and breaks arbitrary splits."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import make_blobs

from segmentation.choose.stability import (
    StabilityReport,
    badge,
    scale_params,
    segment_jaccard,
    split_segments,
    stability,
    themes_wanted,
)
from segmentation.config import ClusterConfig, ReduceConfig
from segmentation.errors import ConfigError
from segmentation.plots import quality as plots_quality
from segmentation.represent.reduce import reduce
from segmentation.segment.cluster import cluster

PCA = ReduceConfig(method="pca", n_components=5)
UMAP = ReduceConfig(method="umap", n_components=5)
NONE = ReduceConfig(method="none")
KMEANS5 = ClusterConfig.make("kmeans", n_clusters=5)


def _run(X: np.ndarray, reduce_config: ReduceConfig, config: ClusterConfig) -> tuple[np.ndarray, np.ndarray]:
    """What a run does after the features: (cluster space, labels) with seed 0."""
    Z = reduce(X, reduce_config, 0)
    return Z, cluster(Z, config, 0).labels


def test_well_separated_segments_are_stable() -> None:
    X, _ = make_blobs(n_samples=300, n_features=5, centers=3, random_state=0)
    report = stability(X, PCA, ClusterConfig.make("kmeans", n_clusters=3), random_state=0)
    assert report.agreement > 0.9
    assert report.resamples == 6 and len(report.agreements) == 6
    assert report.badges == {0: "stable", 1: "stable", 2: "stable"}
    assert report.unstable == [] and report.fair == []
    assert report.segments["customers"].sum() == 300
    assert "Every segment keeps most of its members together" in report.summary()
    assert report.method() == ("Re-ran the PCA reduction and the clustering 6 times on all 300 customers: "
                               "2 with other seeds and 4 on random 80% samples.")


def test_umap_blobs_score_high_and_uniform_noise_fails() -> None:
    """The regression: re-clustering the fixed UMAP output of pure noise scored it as fairly stable; re-running
    UMAP on resamples shows the segments are arbitrary."""
    blobs, _ = make_blobs(n_samples=400, n_features=10, centers=5, random_state=0)
    noise = np.random.default_rng(1).uniform(size=(400, 30))
    _, blob_labels = _run(blobs, UMAP, KMEANS5)
    good = stability(blobs, UMAP, KMEANS5, random_state=0, labels=blob_labels)
    assert good.agreement > 0.9 and set(good.badges.values()) == {"stable"}

    Z, labels = _run(noise, UMAP, KMEANS5)
    report = stability(noise, UMAP, KMEANS5, random_state=0, labels=labels)
    old_style = stability(Z, NONE, KMEANS5, random_state=0, labels=labels)  # what the check used to do
    assert report.agreement < 0.5 < old_style.agreement
    assert report.segments["jaccard"].mean() < 0.55 < old_style.segments["jaccard"].mean()
    assert "stable" not in report.badges.values() and len(report.unstable) >= 2
    assert report.reduction == "umap" and report.method().startswith("Re-ran the UMAP reduction and the clustering")
    summary = report.summary()
    assert "is low" in summary and "Unstable: Segment" in summary
    assert "Every segment keeps" not in summary
    first = report.unstable[0]
    assert f"Unstable: Loyal shoppers {first}" in report.summary({first: f"Loyal shoppers {first}"})
    fig = plots_quality.stability_figure(report)
    colours = list(fig.data[0].marker.color)
    assert colours.count(plots_quality.BADGE_COLOURS["unstable"]) == len(report.unstable)
    assert "0.75+ stable" in fig.layout.title.subtitle.text


def test_arbitrary_split_of_structureless_data_is_flagged() -> None:
    X = np.random.default_rng(1).uniform(size=(300, 5))
    report = stability(X, NONE, ClusterConfig.make("kmeans", n_clusters=6), random_state=0)
    assert report.agreement < 0.6
    assert len(report.unstable) >= 1
    assert "Unstable: Segment" in report.summary()
    assert "Re-ran the clustering (this run has no reduction step)" in report.method()


def test_themes_are_scored_like_segments() -> None:
    # 3 far-apart segments, each made of 2 well-separated themes: every theme is found again
    centers = np.array([[0, 0], [0, 4], [40, 0], [40, 4], [0, 40], [4, 40]], dtype=float)
    X, truth = make_blobs(n_samples=360, centers=centers, cluster_std=0.4, random_state=0)
    X = np.hstack([X, np.zeros((len(X), 1))])
    labels = truth // 2
    themes = truth.copy()
    themes[:5] = -1  # unassigned customers are left out
    report = stability(X, NONE, ClusterConfig.make("kmeans", n_clusters=3), random_state=0, labels=labels,
                       theme_labels=themes)
    assert set(report.badges.values()) == {"stable"}
    assert list(report.themes.columns) == ["theme", "segment", "customers", "jaccard", "badge"]
    assert report.themes["theme"].tolist() == [0, 1, 2, 3, 4, 5]
    assert report.themes["segment"].tolist() == [0, 0, 1, 1, 2, 2]
    assert (report.themes["jaccard"] > 0.9).all() and set(report.themes["badge"]) == {"stable"}

    # themes that cut a round segment in half at random are not found again
    random_themes = labels * 2 + np.random.default_rng(0).integers(0, 2, len(labels))
    shaky = stability(X, NONE, ClusterConfig.make("kmeans", n_clusters=3), random_state=0, labels=labels,
                      theme_labels=random_themes, theme_parents={t: t // 2 for t in range(6)})
    assert set(shaky.badges.values()) == {"stable"}
    assert (shaky.themes["jaccard"] < 0.5).all() and set(shaky.themes["badge"]) == {"unstable"}


def test_rerun_themes_split_each_segment_as_often_as_its_match() -> None:
    reference = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    other = np.array([1, 1, 1, 1, 0, 0, 0, -1])  # the same segments, numbered the other way round
    assert themes_wanted(reference, other, {10: 0, 11: 0, 12: 0, 20: 1}) == {0: 1, 1: 3}
    Z = np.array([[0.0], [0.1], [5.0], [5.1], [9.0], [9.1], [9.2], [3.0]])
    themes = split_segments(Z, other, {0: 1, 1: 2}, seed=0)
    assert themes[7] == -1 and len(set(themes[4:7])) == 1
    assert themes[0] == themes[1] != themes[2] == themes[3]


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
    X, _ = make_blobs(n_samples=200, n_features=3, centers=2, random_state=2)
    report = stability(X, PCA, ClusterConfig.make("agglomerative", n_clusters=2), random_state=0, n_seeds=2,
                       n_subsamples=3)
    assert report.resamples == 3 and report.n_seeds == 0
    assert "same answer for any seed" in report.notes[0]
    assert report.agreement > 0.9


def test_given_labels_on_a_sample() -> None:
    X, truth = make_blobs(n_samples=600, n_features=3, centers=2, random_state=3)
    report = stability(X, PCA, ClusterConfig.make("kmeans", n_clusters=2), labels=truth, sample_size=200,
                       n_seeds=1, n_subsamples=1)
    assert report.sample_size == 200 and report.customers == 600
    assert "on a random sample of 200 of 600 customers" in report.method()
    assert report.segments["customers"].sum() == 200


def test_the_report_round_trips_and_old_checks_load_as_outdated() -> None:
    X, _ = make_blobs(n_samples=120, n_features=3, centers=2, random_state=3)
    report = stability(X, PCA, ClusterConfig.make("kmeans", n_clusters=2), labels=None, n_seeds=1, n_subsamples=1,
                       theme_labels=np.arange(120) % 3)
    again = StabilityReport.from_dict(report.to_dict())
    assert again.to_dict() == report.to_dict() and not again.outdated
    assert again.themes["theme"].tolist() == [0, 1, 2]
    old = {"agreement": 0.99, "agreements": [0.99], "segments": [{"segment": 0, "customers": 60, "jaccard": 1.0,
                                                                 "badge": "stable"}],
           "resamples": 1, "sample_size": 120, "notes": []}  # stored before the reduction was re-run
    loaded = StabilityReport.from_dict(old)
    assert loaded.outdated and loaded.themes.empty and loaded.customers == 120
    assert loaded.badges == {0: "stable"}
    assert "re-clustered the already reduced space only" in loaded.summary()
    assert "Every segment keeps" not in loaded.summary()


def test_bad_inputs_are_refused() -> None:
    X = np.random.default_rng(0).normal(size=(50, 2))
    config = ClusterConfig.make("kmeans", n_clusters=2)
    with pytest.raises(ConfigError, match="cover 10 customers but the features have 50"):
        stability(X, PCA, config, labels=np.zeros(10, dtype=int))
    with pytest.raises(ConfigError, match="theme labels to check cover 3 customers"):
        stability(X, PCA, config, theme_labels=np.zeros(3, dtype=int))
    with pytest.raises(ConfigError, match="'fraction' setting"):
        stability(X, PCA, config, fraction=1.0)
    with pytest.raises(ConfigError, match="'sample_size' setting of stability must be at least 50"):
        stability(X, PCA, config, sample_size=10)
    with pytest.raises(ConfigError, match="at least one re-run"):
        stability(X, PCA, config, n_seeds=0, n_subsamples=0)
    with pytest.raises(ConfigError, match="no parameter 'k'"):
        stability(X, PCA, ClusterConfig.make("kmeans", k=2))
