import re

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

from segmentation.config import ClusterConfig, ThemeConfig
from segmentation.errors import ConfigError, DataError
from segmentation.segment import themes as themes_module
from segmentation.segment.cluster import Clustering, cap_unassigned, cluster
from segmentation.segment.themes import build_themes, theme_min_size


def nested_blobs(micro: int = 1, per_micro: int = 60, spread: float = 0.5):
    """3 segments far apart, 3 themes 20 apart inside each, and ``micro`` tight groups 3 apart inside each theme."""
    rng = np.random.default_rng(0)
    points, segments, themes = [], [], []
    for s in range(3):
        for t in range(3):
            for m in range(micro):
                centre = np.array([80.0 * s, 20.0 * t, 3.0 * m])
                points.append(centre + rng.normal(0, spread, (per_micro, 3)))
                segments += [s] * per_micro
                themes += [3 * s + t] * per_micro
    return np.vstack(points), np.array(segments), np.array(themes)


def test_themes_recover_the_nested_truth_and_stay_inside_their_segment():
    Z, segments, truth = nested_blobs()
    found = build_themes(Z, segments, ThemeConfig(), random_state=0)
    assert adjusted_rand_score(truth, found.labels) > 0.95
    assert found.n_themes == 9 and sorted(found.parent.values()) == [0] * 3 + [1] * 3 + [2] * 3
    for theme, segment in found.parent.items():           # nested: every member of a theme is in its segment
        assert set(segments[found.labels == theme].tolist()) == {segment}
    assert found.of_segment(1) == [3, 4, 5] and found.number_in_segment(4) == 2
    assert ((found.confidence >= 0) & (found.confidence <= 1)).all()
    assert found.notes[0] == "9 themes inside 3 segments (smallest theme 5 customers, detail 0.5)."


def test_themes_are_deterministic_and_numbered_largest_first_within_a_segment():
    Z, segments, _ = nested_blobs()
    keep = np.ones(len(Z), dtype=bool)
    keep[60:100] = False                                    # theme 0.0 loses 40 of its 60: it becomes the smallest
    a = build_themes(Z[keep], segments[keep], ThemeConfig(detail=0.3), random_state=1)
    b = build_themes(Z[keep], segments[keep], ThemeConfig(detail=0.3), random_state=1)
    np.testing.assert_array_equal(a.labels, b.labels)
    np.testing.assert_array_equal(a.confidence, b.confidence)
    sizes = np.bincount(a.labels[a.labels >= 0])
    for segment in range(3):
        ids = a.of_segment(segment)
        assert list(sizes[ids]) == sorted(sizes[ids], reverse=True)


def test_a_coarser_detail_gives_fewer_themes():
    Z, segments, truth = nested_blobs(micro=5, per_micro=6, spread=0.2)   # 270 customers, groups of 6 in themes
    coarse = build_themes(Z, segments, ThemeConfig(detail=0.0))
    fine = build_themes(Z, segments, ThemeConfig(detail=1.0))
    assert coarse.min_size == 9 and fine.min_size == 5
    assert coarse.n_themes == 9 < fine.n_themes                # the groups of 6 are themes only when finer
    assert adjusted_rand_score(truth, coarse.labels) > 0.95


def test_unassigned_customers_have_no_theme_and_everyone_else_has_one():
    Z, segments, _ = nested_blobs()
    segments = segments.copy()
    segments[::10] = -1
    found = build_themes(Z, segments)
    np.testing.assert_array_equal(found.labels < 0, segments < 0)
    assert set(found.parent.values()) == {0, 1, 2}


def test_a_segment_too_small_to_split_is_one_theme():
    Z, segments, _ = nested_blobs()
    segments = np.where(np.arange(len(Z)) < 8, 3, segments)    # 8 customers: fewer than twice the smallest theme
    found = build_themes(Z, segments)
    assert found.of_segment(3) == [found.n_themes - 1]
    assert (found.confidence[segments == 3] == 1.0).all()


def test_large_segments_are_fitted_on_a_sample_and_every_customer_gets_a_theme(monkeypatch):
    monkeypatch.setattr(themes_module, "FIT_SAMPLE", 200)
    Z, segments, truth = nested_blobs()
    big = np.concatenate([Z, Z + np.array([0.0, 0.0, 0.01])])    # segments of 360 customers, above the 200
    found = build_themes(big, np.concatenate([segments, segments]), ThemeConfig(), random_state=0)
    assert (found.labels >= 0).all() and found.n_themes == 9
    assert adjusted_rand_score(np.concatenate([truth, truth]), found.labels) > 0.95
    again = build_themes(big, np.concatenate([segments, segments]), ThemeConfig(), random_state=0)
    np.testing.assert_array_equal(found.labels, again.labels)


def test_the_smallest_theme_follows_the_detail():
    assert theme_min_size(3080, 0.5) == 17 and theme_min_size(3080, 0.0) == 97 and theme_min_size(3080, 1.0) == 5
    assert theme_min_size(100_000, 1.0) == 100 and theme_min_size(40, 0.5) == 5


def test_bad_inputs_are_refused_with_a_clear_message():
    with pytest.raises(DataError, match="There are 2 segment labels for 3 customers"):
        build_themes(np.zeros((3, 2)), np.array([0, 0]))
    with pytest.raises(ConfigError, match=r"The 'detail' setting of ThemeConfig must be between 0 and 1. Got 2"):
        ThemeConfig(detail=2)
    with pytest.raises(ConfigError, match=r"'max_unassigned' setting of ThemeConfig must be between 0 and 1"):
        ThemeConfig(max_unassigned=-0.1)


# --------------------------------------------------------------------------- the cap on unassigned customers
def test_the_cap_assigns_the_nearest_unassigned_customers_and_says_how_many():
    Z = np.array([[0.0], [0.1], [0.2], [10.0], [10.1], [10.2], [1.0], [9.0], [5.0], [4.9]])
    labels = np.array([0, 0, 0, 1, 1, 1, -1, -1, -1, -1])
    before = Clustering(labels, np.array([0.9] * 6 + [0.0] * 4))
    capped = cap_unassigned(Z, before, max_share=0.2)           # at most 2 of 10 unassigned
    # the two nearest a centre (1.0 -> segment at 0.1, 9.0 -> segment at 10.1) join; 5.0 and 4.9 stay out
    np.testing.assert_array_equal(capped.labels, [0, 0, 0, 1, 1, 1, 0, 1, -1, -1])
    assert (capped.confidence[6:8] <= 0.5).all() and (capped.confidence[6:8] > 0).all()
    assert capped.notes == ("2 of 4 unassigned customers joined their nearest segment with a lower confidence, to "
                            "keep the unassigned share at most 20%.",)
    everyone = cap_unassigned(Z, before, max_share=0.0)
    assert (everyone.labels >= 0).all() and "4 of 4 unassigned" in everyone.notes[0]


def test_the_cap_changes_nothing_within_it_or_without_segments():
    labels = np.array([0, 0, 1, 1, -1])
    within = Clustering(labels, np.ones(5))
    assert cap_unassigned(np.arange(5.0).reshape(-1, 1), within, 0.2) is within
    nobody = Clustering(np.full(5, -1), np.zeros(5))
    assert cap_unassigned(np.arange(5.0).reshape(-1, 1), nobody, 0.0) is nobody


def test_a_capped_density_result_keeps_at_most_the_share_unassigned():
    Z, _, _ = nested_blobs()
    Z = np.vstack([Z, np.random.default_rng(1).uniform(-40, 200, (200, 3))])   # 200 scattered: 27% noise
    found = cluster(Z, ClusterConfig.make("hdbscan", min_cluster_size=30), random_state=0)
    assert (found.labels < 0).mean() > 0.1
    capped = cap_unassigned(Z, found, 0.1)
    assert (capped.labels < 0).sum() == int(0.1 * len(Z))
    assert np.bincount(capped.labels[capped.labels >= 0]).tolist() == \
        sorted(np.bincount(capped.labels[capped.labels >= 0]).tolist(), reverse=True)


# --------------------------------------------------------------------------- themes only where there is structure
def test_a_structureless_segment_is_one_theme_and_says_why():
    rng = np.random.default_rng(3)
    noise = rng.uniform(0, 10, (600, 5))                        # one segment of uniform noise: no inner structure
    found = build_themes(noise, np.zeros(600, dtype=int), ThemeConfig(), random_state=0)
    assert found.n_themes == 1 and (found.labels == 0).all() and (found.confidence == 1.0).all()
    assert any(re.search(r"candidate themes were merged .* 1 segments have no inner structure", note)
               for note in found.notes)


def test_nested_blobs_beside_a_noise_segment_are_still_found():
    Z, segments, truth = nested_blobs()
    noise = np.random.default_rng(4).uniform(500, 520, (300, 3))
    found = build_themes(np.vstack([Z, noise]), np.concatenate([segments, np.full(300, 3)]), ThemeConfig())
    assert found.n_themes == 10 and found.of_segment(3) == [9]
    assert adjusted_rand_score(truth, found.labels[:len(Z)]) > 0.95


def test_the_structure_check_is_deterministic():
    Z, segments, _ = nested_blobs()
    Z = np.vstack([Z, np.random.default_rng(5).normal(300, 5, (400, 3))])
    segments = np.concatenate([segments, np.full(400, 3)])
    runs = [build_themes(Z, segments, ThemeConfig(detail=0.7), random_state=2) for _ in range(2)]
    np.testing.assert_array_equal(runs[0].labels, runs[1].labels)
    np.testing.assert_array_equal(runs[0].confidence, runs[1].confidence)
    assert runs[0].notes == runs[1].notes


def test_separation_is_high_for_far_apart_themes_and_the_null_bar_has_a_floor():
    Z = np.array([[0.0], [0.2], [10.0], [10.2]])            # (10.1 - 0.1) / 10.1 and 9.8 / 9.9: 0.99 on average
    np.testing.assert_allclose(themes_module.separation(Z, np.array([0, 0, 1, 1])), [0.99, 0.99], rtol=1e-3)
    assert themes_module.null_separation(np.random.default_rng(0).normal(size=(40, 2)), 5, 0) >= 0.5
