import numpy as np
import pytest
from sklearn.datasets import make_blobs

from segmentation.understand.metrics import (
    GOOD_VALUES,
    QUALITY,
    external_metrics,
    internal_metrics,
    segment_sizes,
    silhouette_per_customer,
    verdict,
)

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


# --------------------------------------------------------------------------- one verdict
@pytest.mark.parametrize(("value", "level", "label"), [
    (0.5, "good", "Strong"), (0.49, "good", "Reasonable"), (0.25, "good", "Reasonable"),
    (0.2, "fair", "Weak"), (0.15, "fair", "Weak"), (0.14, "poor", "No clear segments"),
    (-0.3, "poor", "No clear segments"), (float("nan"), "unknown", "Not defined"), (None, "unknown", "Not defined"),
])
def test_silhouette_verdict_bands(value, level, label):
    assert (verdict("silhouette", value).level, verdict("silhouette", value).label) == (level, label)


def test_lower_is_better_bands_include_their_edge():
    assert verdict("davies_bouldin", 1.0).level == "good" and verdict("davies_bouldin", 2.5).level == "poor"
    assert verdict("noise_share", 0.3).level == "fair" and verdict("noise_share", 0.31).level == "poor"
    assert verdict("largest_share", 0.6).label == "Balanced" and verdict("largest_share", 0.61).level == "fair"


def test_a_number_without_a_scale_has_no_verdict_and_an_unknown_metric_is_refused():
    assert verdict("calinski_harabasz", 812.0).label == "Compare runs"
    with pytest.raises(KeyError):
        verdict("accuracy", 0.9)


def test_every_shown_number_says_what_it_measures_and_what_is_good():
    for metric, measure in QUALITY.items():
        assert measure.label and measure.what.endswith(".") and GOOD_VALUES[metric] == measure.good
    assert GOOD_VALUES["silhouette"].startswith("Above 0.25 is reasonable") and "above 0.5 strong" in \
        GOOD_VALUES["silhouette"]


def test_the_warnings_the_search_and_the_badges_read_silhouette_alike():
    from segmentation.choose.diagnostics import label_warnings

    labels = np.repeat([0, 1], 20)
    for value in (0.1, 0.14, 0.15, 0.2, 0.25, 0.6):
        severities = [d.severity for d in label_warnings(labels, silhouette=value) if d.code == "weak_structure"]
        expected = {"poor": ["warning"], "fair": ["info"], "good": []}[verdict("silhouette", value).level]
        assert severities == expected, value
