import numpy as np
import pytest
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score

from segmentation.config import ClusterConfig
from segmentation.errors import ConfigError
from segmentation.segment.cluster import CLUSTERERS, cluster, knee_eps, relabel_by_size, resolve_params

X, TRUTH = make_blobs(n_samples=600, centers=[[0, 0], [8, 8], [0, 8]], cluster_std=0.8, random_state=3)


@pytest.mark.parametrize("algorithm", sorted(CLUSTERERS))
def test_every_algorithm_recovers_three_blobs(algorithm):
    params = {"n_clusters": 3} if any(p.name == "n_clusters" for p in CLUSTERERS[algorithm].params) else {}
    result = cluster(X, ClusterConfig(algorithm, tuple(params.items())), random_state=0)
    assigned = result.labels >= 0
    assert assigned.mean() > 0.85
    assert adjusted_rand_score(TRUTH[assigned], result.labels[assigned]) > 0.95
    assert result.confidence.shape == (len(X),)
    assert ((0 <= result.confidence) & (result.confidence <= 1)).all()


def test_labels_are_deterministic_and_ordered_by_size():
    a = cluster(X, ClusterConfig.make("kmeans", n_clusters=4), 7).labels
    b = cluster(X, ClusterConfig.make("kmeans", n_clusters=4), 7).labels
    assert np.array_equal(a, b)
    sizes = np.bincount(a)
    assert list(sizes) == sorted(sizes, reverse=True)


def test_relabel_keeps_noise():
    assert relabel_by_size(np.array([5, 5, -1, 2])).tolist() == [0, 0, -1, 1]


def test_agglomerative_samples_above_its_bound(monkeypatch):
    big, _ = make_blobs(n_samples=900, centers=3, random_state=0)
    spec = CLUSTERERS["agglomerative"]
    monkeypatch.setitem(CLUSTERERS, "agglomerative", spec.__class__(**{**spec.__dict__, "max_rows": 300}))
    result = cluster(big, ClusterConfig.make("agglomerative", n_clusters=3), 0)
    assert len(result.labels) == 900 and result.notes and "sample of 300" in result.notes[0]


def test_dbscan_picks_its_radius_from_the_knee():
    assert 0 < knee_eps(X, 10, 0) < 5
    result = cluster(X, ClusterConfig.make("dbscan", min_samples=10), 0)
    assert "knee" in result.notes[0]


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (ClusterConfig("spectral"), r"'algorithm' setting must be one of"),
        (ClusterConfig.make("kmeans", n_clusters=0),
         r"'n_clusters' parameter of k-means must be in the range \[2, 50\]"),
        (ClusterConfig.make("kmeans", n_clusters=2.5), r"whole number"),
        (ClusterConfig.make("kmeans", eps=1), r"k-means has no parameter 'eps'"),
    ],
)
def test_bad_parameters_are_explained(config, message):
    with pytest.raises(ConfigError, match=message):
        resolve_params(config)


def test_more_segments_than_customers_is_refused():
    with pytest.raises(ConfigError, match="Cannot make 10 segments from 5 customers"):
        cluster(X[:5], ClusterConfig.make("kmeans", n_clusters=10), 0)
