"""Quality metrics and what their values mean.

Internal metrics (silhouette on a sample, Davies-Bouldin, Calinski-Harabasz), segment sizes, agreement with known
groups; and ``verdict``, the one reading of every quality number the app, the CLI and the report show.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np


def segment_sizes(labels: np.ndarray) -> dict[int, int]:
    ids, counts = np.unique(labels, return_counts=True)
    return {int(i): int(c) for i, c in zip(ids, counts)}


def internal_metrics(Z: np.ndarray, labels: np.ndarray, sample_size: int = 2000, random_state: int = 0
                     ) -> dict[str, Any]:
    """Metrics on assigned customers (noise left out); NaN where undefined (fewer than 2 segments).

    Silhouette is computed on a seeded sample: it costs O(n^2), and a 2,000-row
    sample stays within about +-0.01 of the full value.
    """
    from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score, silhouette_score

    labels = np.asarray(labels)
    n = len(labels)
    assigned = labels >= 0
    sizes = segment_sizes(labels[assigned])
    out: dict[str, Any] = {
        "n_customers": int(n),
        "n_segments": len(sizes),
        "noise_share": float((~assigned).mean()) if n else 0.0,
        "smallest_share": (min(sizes.values()) / n) if sizes else 0.0,
        "largest_share": (max(sizes.values()) / n) if sizes else 0.0,
        "silhouette": float("nan"),
        "davies_bouldin": float("nan"),
        "calinski_harabasz": float("nan"),
    }
    if len(sizes) < 2 or assigned.sum() <= len(sizes):
        return out
    Za, la = Z[assigned], labels[assigned]
    out["davies_bouldin"] = float(davies_bouldin_score(Za, la))
    out["calinski_harabasz"] = float(calinski_harabasz_score(Za, la))
    out["silhouette"] = float(silhouette_score(Za, la, sample_size=min(sample_size, len(la)),
                                               random_state=random_state))
    return out


def silhouette_per_customer(Z: np.ndarray, labels: np.ndarray, sample_size: int = 2000, random_state: int = 0
                            ) -> tuple[np.ndarray, np.ndarray]:
    """(row indices, silhouette values) for a seeded sample of assigned customers."""
    from sklearn.metrics import silhouette_samples

    idx = np.flatnonzero(labels >= 0)
    if len(np.unique(labels[idx])) < 2:
        return idx[:0], np.zeros(0)
    if len(idx) > sample_size:
        idx = np.sort(np.random.default_rng(random_state).choice(idx, sample_size, replace=False))
    return idx, silhouette_samples(Z[idx], labels[idx])


def external_metrics(labels: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    """Agreement with known groups: ARI, NMI and V-measure (noise counted as its own group)."""
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score, v_measure_score

    truth = np.asarray(truth).astype(str)
    return {
        "ari": float(adjusted_rand_score(truth, labels)),
        "nmi": float(normalized_mutual_info_score(truth, labels)),
        "v_measure": float(v_measure_score(truth, labels)),
    }


# --------------------------------------------------------------------------- what a value means
# The one place that says what a good value of each quality number is: the app's cards and badges, the figures'
# subtitles, the warnings, the automatic search and the report all read these thresholds and words.
SILHOUETTE_STRONG = 0.5
SILHOUETTE_REASONABLE = 0.25
SILHOUETTE_WEAK = 0.15
"""Silhouette bands: at or above 0.5 strong, 0.25 reasonable, 0.15 weak; below 0.15 there are no clear segments."""
DAVIES_BOULDIN_GOOD = 1.0
DAVIES_BOULDIN_FAIR = 2.0
NOISE_COMFORTABLE = 0.10
NOISE_LIMIT = 0.30
"""Unassigned share: up to 10% is comfortable; over 30% the segments describe only part of the base."""
TINY_SHARE = 0.03
GIANT_SHARE = 0.6
"""Segment shares: under 3% is too small to act on; over 60% is probably 'everyone else'."""
AGREEMENT_HIGH = 0.8
AGREEMENT_LOW = 0.5
"""Adjusted Rand index between two segmentations (re-runs, or two runs): 0.8+ the same in practice, under 0.5
substantially different."""
JACCARD_STABLE = 0.75
JACCARD_FAIR = 0.5
"""A segment's mean best Jaccard across re-runs: 0.75+ stable, 0.5 to 0.75 fair, under 0.5 unstable."""
KNOWN_GROUPS_CLOSE = 0.6
KNOWN_GROUPS_PARTLY = 0.3
"""Adjusted Rand index against known groups: 0.6+ the segments closely follow them, under 0.3 hardly."""

LEVELS = ("good", "fair", "poor", "unknown")
"""A verdict's level, best first; 'unknown' when the value is missing or has no fixed scale."""


@dataclass(frozen=True)
class Verdict:
    """What a quality value means: a ``level`` (one of ``LEVELS``), a ``label`` of a word or two for a badge, and
    a ``meaning`` that completes "The segments are …" (or the metric's own phrase) in a sentence."""

    level: str
    label: str
    meaning: str


@dataclass(frozen=True)
class _Band:
    edge: float
    """For higher-is-better metrics the band starts at ``edge``; for lower-is-better ones it ends at it (included)."""
    verdict: Verdict


@dataclass(frozen=True)
class QualityMeasure:
    """One quality number the app shows: its ``label``, ``what`` it measures and what a ``good`` value looks like."""

    label: str
    what: str
    good: str
    higher_is_better: bool | None = None
    bands: tuple[_Band, ...] = ()


def _bands(*bands: tuple[float, str, str, str]) -> tuple[_Band, ...]:
    return tuple(_Band(edge, Verdict(level, label, meaning)) for edge, level, label, meaning in bands)


_INF = float("inf")
QUALITY: Mapping[str, QualityMeasure] = {
    "silhouette": QualityMeasure(
        "Silhouette", "How much closer customers are to their own segment than to the next one.",
        f"Above {SILHOUETTE_REASONABLE} is reasonable for customer data, above {SILHOUETTE_STRONG} strong; under "
        f"{SILHOUETTE_REASONABLE} weak, under {SILHOUETTE_WEAK} no clear segments (scale -1 to 1)",
        True, _bands((SILHOUETTE_STRONG, "good", "Strong", "clearly separated"),
                     (SILHOUETTE_REASONABLE, "good", "Reasonable",
                      "reasonably distinct, with some overlap at their edges"),
                     (SILHOUETTE_WEAK, "fair", "Weak", "overlapping: the borders between segments are soft, so treat "
                                                       "customers near them with care"),
                     (-_INF, "poor", "No clear segments", "barely separated: the segments describe ranges of a "
                                                          "continuum more than distinct groups"))),
    "davies_bouldin": QualityMeasure(
        "Davies–Bouldin", "How spread out segments are compared with the distance between them.",
        f"Lower is better (0 and up): {DAVIES_BOULDIN_GOOD:g} or less means compact segments set well apart, over "
        f"{DAVIES_BOULDIN_FAIR:g} overlapping ones",
        False, _bands((DAVIES_BOULDIN_GOOD, "good", "Well separated", "compact and set well apart"),
                      (DAVIES_BOULDIN_FAIR, "fair", "Moderate", "moderately separated"),
                      (_INF, "poor", "Overlapping", "spread out and overlapping"))),
    "calinski_harabasz": QualityMeasure(
        "Calinski–Harabasz", "Separation between segments against spread within them.",
        "Higher is better; it has no fixed scale, so compare it only between runs on the same data"),
    "noise_share": QualityMeasure(
        "Unassigned", "Customers that fit no segment (only HDBSCAN and DBSCAN leave customers out).",
        f"{NOISE_COMFORTABLE:.0%} or less is comfortable; over {NOISE_LIMIT:.0%} means many customers belong to no "
        "segment",
        False, _bands((NOISE_COMFORTABLE, "good", "Few left out", "few customers left out"),
                      (NOISE_LIMIT, "fair", "Many left out", "many customers left out"),
                      (_INF, "poor", "Most left out", "most of the base left out"))),
    "smallest_share": QualityMeasure(
        "Smallest segment", "Share of customers in the smallest segment.",
        f"{TINY_SHARE:.0%} or more: smaller segments are often too small to act on",
        True, _bands((TINY_SHARE, "good", "Usable sizes", "large enough to act on"),
                     (-_INF, "fair", "Very small segment", "too small to act on"))),
    "largest_share": QualityMeasure(
        "Largest segment", "Share of customers in the largest segment.",
        f"Up to {GIANT_SHARE:.0%}: a bigger segment is probably 'everyone else'",
        False, _bands((GIANT_SHARE, "good", "Balanced", "balanced"),
                      (_INF, "fair", "One giant segment", "dominated by one segment holding most customers"))),
    "stability": QualityMeasure(
        "Agreement across re-runs", "How alike the segments are when the segmentation is re-run (adjusted Rand "
                                    "index).",
        f"1 means re-runs give the same segments: above {AGREEMENT_HIGH} good, under {AGREEMENT_LOW} unreliable",
        True, _bands((AGREEMENT_HIGH, "good", "Stable",
                      "stable: re-running on resampled data gives nearly the same segments"),
                     (AGREEMENT_LOW, "fair", "Fairly stable",
                      "fairly stable: the core of each segment holds, customers near the borders may move"),
                     (-_INF, "poor", "Unstable", "unstable: resampling the data changes the segments noticeably, "
                                                 "so treat them as tentative"))),
    "jaccard": QualityMeasure(
        "Stays together", "Share of a segment's members that stay together when the segmentation is re-run.",
        f"{JACCARD_STABLE}+ stable, {JACCARD_FAIR} to {JACCARD_STABLE} fair, under {JACCARD_FAIR} unstable",
        True, _bands((JACCARD_STABLE, "good", "Stable", "stable"), (JACCARD_FAIR, "fair", "Fair", "fair"),
                     (-_INF, "poor", "Unstable", "unstable"))),
    "run_agreement": QualityMeasure(
        "Agreement (adjusted Rand index)", "How alike two runs' segments are over the same customers.",
        f"1 = the same segments, above {AGREEMENT_HIGH} very similar, under {AGREEMENT_LOW} substantially different",
        True, _bands((AGREEMENT_HIGH, "good", "Very similar", "very similar"),
                     (AGREEMENT_LOW, "fair", "Partly similar", "partly similar"),
                     (-_INF, "poor", "Substantially different", "substantially different"))),
    "known_groups": QualityMeasure(
        "Adjusted Rand index", "How closely the segments follow known groups.",
        f"1 = the same grouping as the known groups, 0 = unrelated; {KNOWN_GROUPS_CLOSE}+ close, under "
        f"{KNOWN_GROUPS_PARTLY} hardly related",
        True, _bands((KNOWN_GROUPS_CLOSE, "good", "Close", "closely"),
                     (KNOWN_GROUPS_PARTLY, "fair", "Partly", "partly"),
                     (-_INF, "poor", "Hardly", "hardly"))),
}
"""Every quality number the app, the CLI and the report show, with what it measures and what a good value is."""

GOOD_VALUES: Mapping[str, str] = {metric: measure.good for metric, measure in QUALITY.items()}
"""What a good value of each quality number looks like, in words for the analyst (help texts, subtitles)."""

_UNDEFINED = Verdict("unknown", "Not defined", "could not be measured (fewer than two segments)")


def verdict(metric: str, value: float | None) -> Verdict:
    """What ``value`` of quality number ``metric`` (a key of ``QUALITY``) means.

    A missing or non-finite value is 'unknown' ("Not defined"); so is any value of a number without a fixed
    scale (Calinski-Harabasz: "Compare runs"). An unknown ``metric`` raises ``KeyError``.
    """
    measure = QUALITY[metric]
    if value is None or not math.isfinite(float(value)):
        return _UNDEFINED
    if not measure.bands:
        return Verdict("unknown", "Compare runs", "only comparable between runs on the same data")
    value = float(value)
    for band in measure.bands:
        if (value >= band.edge) if measure.higher_is_better else (value <= band.edge):
            return band.verdict
    return measure.bands[-1].verdict
