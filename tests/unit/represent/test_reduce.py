import numpy as np
import pytest
from sklearn.cluster import KMeans
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score

from segmentation.config import ReduceConfig
from segmentation.errors import ConfigError
from segmentation.represent.reduce import map_coordinates, pca, reduce, umap

X, Y = make_blobs(n_samples=900, n_features=20, centers=4, cluster_std=1.0, random_state=2)


def test_pca_is_seeded_and_bounded_by_input_width():
    assert reduce(X, ReduceConfig(method="pca", n_components=5), 0).shape == (900, 5)
    assert pca(X[:, :3], 5, 0).shape == (900, 3)
    assert reduce(X, ReduceConfig(method="none"), 0).shape == X.shape


@pytest.mark.slow
def test_umap_is_deterministic_keeps_clusters_and_samples_large_inputs():
    a = umap(X, 5, 15, 0.0, 42, sample_threshold=10_000)
    b = umap(X, 5, 15, 0.0, 42, sample_threshold=10_000)
    np.testing.assert_array_equal(a, b)
    labels = KMeans(4, random_state=0, n_init=4).fit_predict(a)
    assert adjusted_rand_score(Y, labels) > 0.95
    # fitted on 500 of the 900 rows, the other 400 placed by their nearest sampled neighbours
    sampled = umap(X, 5, 15, 0.0, 42, sample_threshold=500)
    labels = KMeans(4, random_state=0, n_init=4).fit_predict(sampled)
    assert adjusted_rand_score(Y, labels) > 0.95
    coords = map_coordinates(X, a, ReduceConfig(), 42)
    assert coords.shape == (900, 2) and np.isfinite(coords).all()


def test_umap_refuses_tiny_inputs():
    with pytest.raises(ConfigError, match="at least 4 customers"):
        umap(X[:3], 2, 15, 0.1, 0, 1000)
