"""Clustering algorithms behind one registry: name -> spec with parameters and a fit function.

Adding an algorithm is one entry in ``CLUSTERERS``. Labels come back renumbered by
size (0 is the largest segment); -1 means noise, shown as "Unassigned".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from segmentation.config import ClusterConfig
from segmentation.errors import ConfigError


@dataclass(frozen=True)
class ParamSpec:
    """One tunable parameter, described for forms, the CLI and validation."""

    name: str
    label: str
    kind: str  # "int" or "float"
    default: float
    low: float
    high: float
    help: str

    def check(self, value: Any, algorithm: str) -> float | int:
        try:
            number = int(value) if self.kind == "int" else float(value)
        except (TypeError, ValueError):
            raise ConfigError(
                f"The '{self.name}' parameter of {algorithm} must be a number. Got {value!r} instead.") from None
        if self.kind == "int" and float(value) != number:
            raise ConfigError(f"The '{self.name}' parameter of {algorithm} must be a whole number. Got {value!r}.")
        if not (self.low <= number <= self.high):
            raise ConfigError(f"The '{self.name}' parameter of {algorithm} must be in the range "
                              f"[{self.low:g}, {self.high:g}]. Got {value!r} instead.")
        return number


@dataclass(frozen=True)
class Clustering:
    """What a clusterer returns: labels and a per-customer confidence in [0, 1]."""

    labels: np.ndarray
    confidence: np.ndarray
    notes: tuple[str, ...] = ()


FitFn = Callable[[np.ndarray, Mapping[str, Any], int], Clustering]


@dataclass(frozen=True)
class ClustererSpec:
    name: str
    label: str
    description: str
    params: tuple[ParamSpec, ...]
    fit: FitFn
    finds_noise: bool = False
    max_rows: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def defaults(self) -> dict[str, Any]:
        return {p.name: (int(p.default) if p.kind == "int" else p.default) for p in self.params}


def _distance_confidence(Z: np.ndarray, labels: np.ndarray, centers: np.ndarray) -> np.ndarray:
    """1 for a customer on its centre, falling towards 0 as it nears the next centre."""
    if centers.shape[0] < 2:
        return np.ones(len(Z))
    d = _center_distances(Z, centers)
    own = d[np.arange(len(Z)), labels]
    d_other = d.copy()
    d_other[np.arange(len(Z)), labels] = np.inf
    nearest_other = d_other.min(1)
    return np.clip(1.0 - own / np.maximum(nearest_other, 1e-12), 0.0, 1.0)


def _center_distances(Z: np.ndarray, centers: np.ndarray) -> np.ndarray:
    """(n, k) Euclidean distances, one centre at a time so memory stays O(n k)."""
    return np.column_stack([np.linalg.norm(Z - c, axis=1) for c in centers])


def _centers(Z: np.ndarray, labels: np.ndarray) -> np.ndarray:
    ids = sorted(set(labels.tolist()) - {-1})
    return np.vstack([Z[labels == i].mean(0) for i in ids]) if ids else np.zeros((0, Z.shape[1]))


def _fit_kmeans(Z: np.ndarray, params: Mapping[str, Any], seed: int) -> Clustering:
    from sklearn.cluster import KMeans, MiniBatchKMeans

    k = int(params["n_clusters"])
    if len(Z) > 200_000:  # a full k-means on a million rows is minutes; mini-batches agree closely
        model = MiniBatchKMeans(n_clusters=k, random_state=seed, batch_size=8192, n_init=3, max_iter=100)
    else:
        model = KMeans(n_clusters=k, random_state=seed, n_init=4)
    labels = model.fit_predict(Z)
    return Clustering(labels, _distance_confidence(Z, labels, model.cluster_centers_))


def _fit_gmm(Z: np.ndarray, params: Mapping[str, Any], seed: int) -> Clustering:
    from sklearn.mixture import GaussianMixture

    model = GaussianMixture(n_components=int(params["n_clusters"]), covariance_type="full", random_state=seed,
                            n_init=2, reg_covar=1e-4)
    model.fit(Z)
    proba = model.predict_proba(Z)
    return Clustering(proba.argmax(1), proba.max(1))


def _fit_agglomerative(Z: np.ndarray, params: Mapping[str, Any], seed: int) -> Clustering:
    from sklearn.cluster import AgglomerativeClustering

    k = int(params["n_clusters"])
    limit = CLUSTERERS["agglomerative"].max_rows or len(Z)
    notes: tuple[str, ...] = ()
    if len(Z) > limit:
        # Ward needs memory quadratic in rows: fit a seeded sample, give the rest the nearest centre
        rng = np.random.default_rng(seed)
        sample = np.sort(rng.choice(len(Z), size=limit, replace=False))
        sample_labels = AgglomerativeClustering(n_clusters=k, linkage="ward").fit_predict(Z[sample])
        centers = _centers(Z[sample], sample_labels)
        labels = _center_distances(Z, centers).argmin(1)
        labels[sample] = sample_labels
        notes = (f"Agglomerative clustering was fitted on a sample of {limit:,} customers (its memory grows with "
                 f"the square of the rows); the other {len(Z) - limit:,} joined the nearest segment centre.",)
    else:
        labels = AgglomerativeClustering(n_clusters=k, linkage="ward").fit_predict(Z)
    return Clustering(labels, _distance_confidence(Z, labels, _centers(Z, labels)), notes)


def _fit_hdbscan(Z: np.ndarray, params: Mapping[str, Any], seed: int) -> Clustering:
    import hdbscan

    min_size = int(params["min_cluster_size"])
    min_samples = int(params.get("min_samples") or 0) or None
    model = hdbscan.HDBSCAN(min_cluster_size=max(2, min_size), min_samples=min_samples or min(min_size, 10),
                            core_dist_n_jobs=1)
    labels = model.fit_predict(Z)
    return Clustering(labels, np.nan_to_num(model.probabilities_, nan=0.0))


def knee_eps(Z: np.ndarray, min_samples: int, seed: int) -> float:
    """DBSCAN radius at the knee of the sorted k-distance curve (on a sample for speed)."""
    from sklearn.neighbors import NearestNeighbors

    rng = np.random.default_rng(seed)
    sample = Z if len(Z) <= 5000 else Z[rng.choice(len(Z), 5000, replace=False)]
    k = max(2, min(min_samples, len(sample) - 1))
    distances = NearestNeighbors(n_neighbors=k).fit(sample).kneighbors(sample)[0][:, -1]
    curve = np.sort(distances)
    x = np.linspace(0, 1, len(curve))
    y = (curve - curve[0]) / max(curve[-1] - curve[0], 1e-12)
    # the knee is the point farthest below the chord from first to last
    return float(curve[int(np.argmax(x - y))]) or float(curve.mean()) or 1e-3


def _fit_dbscan(Z: np.ndarray, params: Mapping[str, Any], seed: int) -> Clustering:
    from sklearn.cluster import DBSCAN

    min_samples = int(params["min_samples"])
    eps = float(params.get("eps") or 0.0)
    notes: tuple[str, ...] = ()
    if eps <= 0:
        eps = knee_eps(Z, min_samples, seed)
        notes = (f"DBSCAN's radius was set to {eps:.3g}, the knee of the {min_samples}-nearest-neighbour "
                 "distance curve.",)
    labels = DBSCAN(eps=eps, min_samples=min_samples).fit_predict(Z)
    confidence = (labels >= 0).astype(float)
    return Clustering(labels, confidence, notes)


_K = ParamSpec("n_clusters", "Number of segments", "int", 5, 2, 50,
               "How many segments to make. 3 to 8 is usually what a marketing team can act on.")

CLUSTERERS: dict[str, ClustererSpec] = {
    "kmeans": ClustererSpec(
        "kmeans", "k-means", "Fast, round segments of similar spread; you choose how many.", (_K,), _fit_kmeans),
    "hdbscan": ClustererSpec(
        "hdbscan", "HDBSCAN", "Finds dense groups of any shape and leaves scattered customers unassigned.",
        (ParamSpec("min_cluster_size", "Smallest segment size", "int", 25, 2, 100_000,
                   "Groups smaller than this are not segments. About 1-2% of your customers works well."),
         ParamSpec("min_samples", "Noise sensitivity", "int", 0, 0, 1000,
                   "Higher leaves more customers unassigned. 0 picks a value from the smallest segment size.")),
        _fit_hdbscan, finds_noise=True),
    "dbscan": ClustererSpec(
        "dbscan", "DBSCAN", "Dense groups within a fixed radius; the rest unassigned.",
        (ParamSpec("eps", "Radius", "float", 0.0, 0.0, 1e6, "Neighbourhood radius. 0 picks it from the data."),
         ParamSpec("min_samples", "Neighbours needed", "int", 10, 2, 1000,
                   "How many neighbours within the radius make a customer part of a dense core.")),
        _fit_dbscan, finds_noise=True),
    "agglomerative": ClustererSpec(
        "agglomerative", "Agglomerative (Ward)", "Merges customers bottom-up into compact segments.", (_K,),
        _fit_agglomerative, max_rows=15_000),
    "gmm": ClustererSpec(
        "gmm", "Gaussian mixture", "Soft, elliptical segments with a membership probability for each customer.",
        (_K,), _fit_gmm),
}


def resolve_params(config: ClusterConfig) -> dict[str, Any]:
    """The algorithm's defaults overlaid with the config's parameters, validated."""
    if config.algorithm not in CLUSTERERS:
        raise ConfigError(f"The 'algorithm' setting must be one of {', '.join(map(repr, CLUSTERERS))}. "
                          f"Got {config.algorithm!r} instead.")
    spec = CLUSTERERS[config.algorithm]
    known = {p.name: p for p in spec.params}
    params = spec.defaults()
    for name, value in config.params:
        if name not in known:
            raise ConfigError(f"{spec.label} has no parameter {name!r}. "
                              f"Its parameters are: {', '.join(known) or 'none'}.")
        params[name] = known[name].check(value, spec.label)
    return params


def relabel_by_size(labels: np.ndarray) -> np.ndarray:
    """Segment 0 is the largest; ties broken by the first customer in file order. Noise stays -1."""
    labels = np.asarray(labels, dtype=int)
    ids = [i for i in np.unique(labels) if i >= 0]
    first = {i: int(np.argmax(labels == i)) for i in ids}
    order = sorted(ids, key=lambda i: (-int((labels == i).sum()), first[i]))
    mapping = {old: new for new, old in enumerate(order)}
    return np.array([mapping.get(int(v), -1) for v in labels], dtype=int)


JOINED_CONFIDENCE = 0.5
"""A customer joined to its nearest segment by ``cap_unassigned`` gets at most this confidence."""


def cap_unassigned(Z: np.ndarray, clustering: Clustering, max_share: float) -> Clustering:
    """At most ``max_share`` of the customers left unassigned (-1): above it, the unassigned customers nearest a
    segment centre join that segment, nearest first, until the share is ``max_share``; their confidence is at most
    ``JOINED_CONFIDENCE`` (lower the farther they are), and a note says how many joined. ``max_share`` 1.0 (or a
    clustering within the cap, or one with no segment at all) returns ``clustering`` unchanged."""
    labels = np.asarray(clustering.labels, dtype=int)
    noise = np.flatnonzero(labels < 0)
    allowed = int(np.floor(max_share * len(labels) + 1e-9))
    if len(noise) <= allowed or not (labels >= 0).any():
        return clustering
    Z = np.asarray(Z, dtype=np.float64)
    centers = _centers(Z, labels)
    distances = _center_distances(Z[noise], centers)
    nearest = distances.argmin(1)
    own = distances[np.arange(len(noise)), nearest]
    joining = np.argsort(own, kind="stable")[:len(noise) - allowed]
    rows = noise[joining]
    out, confidence = labels.copy(), np.asarray(clustering.confidence, dtype=float).copy()
    out[rows] = np.unique(labels[labels >= 0])[nearest[joining]]     # centres are in sorted id order
    closeness = _distance_confidence(Z[rows], nearest[joining], centers) if len(centers) > 1 else np.ones(len(rows))
    confidence[rows] = JOINED_CONFIDENCE * closeness
    note = (f"{len(rows):,} of {len(noise):,} unassigned customers joined their nearest segment with a lower "
            f"confidence, to keep the unassigned share at most {max_share:.0%}.")
    return Clustering(relabel_by_size(out), confidence, clustering.notes + (note,))


def cluster(Z: np.ndarray, config: ClusterConfig, random_state: int) -> Clustering:
    """Segment the customers in cluster space ``Z``."""
    params = resolve_params(config)
    spec = CLUSTERERS[config.algorithm]
    k = params.get("n_clusters")
    if k is not None and k >= len(Z):
        raise ConfigError(f"Cannot make {k} segments from {len(Z)} customers. Choose fewer segments.")
    if len(Z) < 3:
        raise ConfigError(f"Segmenting needs at least 3 customers. Got {len(Z)}.")
    result = spec.fit(np.ascontiguousarray(Z, dtype=np.float64), params, random_state)
    return Clustering(relabel_by_size(result.labels), np.asarray(result.confidence, dtype=float), result.notes)
