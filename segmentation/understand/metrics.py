"""Quality metrics: internal (silhouette on a sample, Davies-Bouldin, Calinski-Harabasz), sizes, external."""

from __future__ import annotations

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
