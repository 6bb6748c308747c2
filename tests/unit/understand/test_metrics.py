import numpy as np
from sklearn.datasets import make_blobs

from segmentation.understand.metrics import external_metrics, internal_metrics, segment_sizes, silhouette_per_customer

X, Y = make_blobs(n_samples=400, centers=4, cluster_std=0.5, random_state=1)


def test_internal_metrics_on_clear_clusters():
    m = internal_metrics(X, Y, sample_size=300, random_state=0)
    assert m["n_segments"] == 4 and m["noise_share"] == 0
    assert m["silhouette"] > 0.6 and m["davies_bouldin"] < 0.6 and m["calinski_harabasz"] > 100
    assert m["smallest_share"] == m["largest_share"] == 0.25


def test_noise_is_left_out_and_counted():
    labels = Y.copy()
    labels[:40] = -1
    m = internal_metrics(X, labels)
    assert m["noise_share"] == 0.1
    assert segment_sizes(labels)[-1] == 40


def test_single_segment_gives_nan_not_an_error():
    m = internal_metrics(X, np.zeros(len(X), dtype=int))
    assert m["n_segments"] == 1 and np.isnan(m["silhouette"])


def test_per_customer_silhouette_is_sampled_and_external_metrics_are_perfect_on_truth():
    idx, values = silhouette_per_customer(X, Y, sample_size=100)
    assert len(idx) == len(values) == 100
    assert external_metrics(Y, Y) == {"ari": 1.0, "nmi": 1.0, "v_measure": 1.0}
