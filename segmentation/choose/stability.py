"""How much a segmentation survives being re-run: other seeds and random subsamples of the customers.

Two numbers answer "can I trust these segments?":

- the overall agreement, the adjusted Rand index (ARI) between the segmentation
  and each re-run on the customers they share, averaged (1 = identical, 0 = no
  better than chance);
- per segment, how often its members stay together: for each resample, the
  Jaccard overlap between the segment and its best-matching segment of the
  re-run, averaged over resamples (Hennig's ``clusterboot`` measure). Segments
  get a badge from ``understand.metrics.verdict("jaccard", …)``: "stable" (0.75 or
  more), "fair" (0.5 to 0.75), "unstable" (below 0.5).

Resamples draw 80% of the customers without replacement rather than a classic
bootstrap with replacement: duplicated customers look like tiny dense groups to
HDBSCAN and DBSCAN and would make density methods look less stable than they are.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from segmentation.common import segment_label
from segmentation.config import ClusterConfig
from segmentation.errors import ConfigError
from segmentation.segment.cluster import CLUSTERERS, cluster, resolve_params
from segmentation.understand.metrics import verdict

ProgressFn = Callable[[str, float], None]

SEEDLESS = frozenset({"agglomerative", "hdbscan", "dbscan"})
"""Algorithms that give the same answer whatever the seed: re-running them with other seeds tells nothing."""

COUNT_PARAMS = ("min_cluster_size", "min_samples")
"""Density parameters counted in customers: they scale with the number of customers clustered."""


def single_threaded() -> contextlib.AbstractContextManager:
    """Run BLAS and OpenMP code (k-means, mixtures) on one thread for the duration of a ``with`` block.

    The search and the stability check make many small fits; on a busy machine
    OpenMP threads spin-wait for each other and one fit on 500 customers took
    27 s with the default threads against 2.3 s on one (measured with a load of 10
    on 2 cores). On small fits one thread is never much slower.
    """
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1)


BADGES = {"good": "stable", "fair": "fair", "poor": "unstable", "unknown": "unstable"}
"""The badge of each level of the Jaccard verdict; a segment never found again (no value) is unstable."""


def badge(jaccard: float) -> str:
    """'stable' (>= 0.75), 'fair' (0.5 to 0.75) or 'unstable' (< 0.5) for a segment's mean Jaccard."""
    return BADGES[verdict("jaccard", jaccard).level]


def subsample(n: int, fraction: float, seed: int) -> np.ndarray:
    """Sorted row positions of a seeded random ``fraction`` of ``n`` customers (without replacement)."""
    size = max(3, min(n, int(round(n * fraction))))
    return np.sort(np.random.default_rng(seed).choice(n, size=size, replace=False))


def scale_params(config: ClusterConfig, factor: float) -> ClusterConfig:
    """The config with its customer-count parameters (minimum segment size, noise sensitivity) times ``factor``.

    A minimum segment size of 50 among 10,000 customers means 25 among a 5,000
    sample: scaling keeps the same density threshold. Other parameters (number of
    segments, DBSCAN's radius) do not depend on how many customers there are. A
    ``min_samples`` of 0 (pick automatically) stays 0. Values stay inside each
    parameter's allowed range.
    """
    if factor == 1.0 or config.algorithm not in CLUSTERERS:
        return config
    specs = {p.name: p for p in CLUSTERERS[config.algorithm].params}
    params = dict(config.params)
    for name in COUNT_PARAMS:
        value = params.get(name)
        if name in specs and value:
            spec = specs[name]
            params[name] = int(np.clip(round(float(value) * factor), max(spec.low, 2), spec.high))
    return ClusterConfig(config.algorithm, tuple(params.items()))


def segment_jaccard(reference: np.ndarray, other: np.ndarray) -> dict[int, float]:
    """For each segment of ``reference`` (noise left out), the best Jaccard overlap with a segment of ``other``.

    Both arrays label the same customers. A segment whose customers are all
    unassigned in ``other`` scores 0.
    """
    reference = np.asarray(reference, dtype=int)
    other = np.asarray(other, dtype=int)
    ref_ids = np.unique(reference[reference >= 0])
    other_ids = np.unique(other[other >= 0])
    if not len(ref_ids):
        return {}
    if not len(other_ids):
        return {int(s): 0.0 for s in ref_ids}
    ref_pos = np.searchsorted(ref_ids, reference)
    other_pos = np.searchsorted(other_ids, other)
    both = (reference >= 0) & (other >= 0)
    counts = np.zeros((len(ref_ids), len(other_ids)))
    np.add.at(counts, (ref_pos[both], other_pos[both]), 1)
    ref_sizes = np.array([(reference == s).sum() for s in ref_ids], dtype=float)
    other_sizes = np.array([(other == c).sum() for c in other_ids], dtype=float)
    jaccard = counts / (ref_sizes[:, None] + other_sizes[None, :] - counts)
    return {int(s): float(v) for s, v in zip(ref_ids, jaccard.max(1))}


def agreement(reference: np.ndarray, other: np.ndarray) -> float:
    """Adjusted Rand index between two labelings of the same customers (Unassigned counts as a group)."""
    from sklearn.metrics import adjusted_rand_score

    return float(adjusted_rand_score(np.asarray(reference), np.asarray(other)))


@dataclass(frozen=True)
class StabilityReport:
    """The outcome of ``stability``: overall agreement and a badge per segment."""

    agreement: float
    """Mean adjusted Rand index between the segmentation and its re-runs (1 = always the same)."""
    agreements: tuple[float, ...]
    segments: pd.DataFrame = field(repr=False)
    """One row per segment: segment, customers (in the sample checked), jaccard (mean best match), badge."""
    resamples: int = 0
    sample_size: int = 0
    notes: tuple[str, ...] = ()

    @property
    def badges(self) -> dict[int, str]:
        return dict(zip(self.segments["segment"].astype(int), self.segments["badge"]))

    @property
    def unstable(self) -> list[int]:
        """Segments whose members mostly do not stay together when the data is re-sampled."""
        return [int(s) for s, b in zip(self.segments["segment"], self.segments["badge"]) if b == "unstable"]

    def summary(self) -> str:
        """One sentence for people: how much the segments hold up, and which do not."""
        if not len(self.segments):
            return "No segments to check: every customer is unassigned."
        level = {"good": "high", "fair": "moderate"}.get(verdict("stability", self.agreement).level, "low")
        text = (f"Agreement across {self.resamples} re-runs is {level} (adjusted Rand index {self.agreement:.2f}; "
                "1 means identical segments).")
        if self.unstable:
            listed = ", ".join(segment_label(s) for s in self.unstable)
            text += (f" Unstable: {listed}: fewer than half of their members stay together when the data is "
                     "re-sampled, so do not build a campaign on them alone.")
        else:
            text += " Every segment keeps most of its members together."
        return text

    def to_dict(self) -> dict[str, Any]:
        """The report as plain JSON (to keep it in a session or a project); ``from_dict`` reads it back."""
        return {"agreement": float(self.agreement), "agreements": [float(a) for a in self.agreements],
                "segments": [{"segment": int(s), "customers": int(c), "jaccard": float(j), "badge": str(b)}
                             for s, c, j, b in zip(self.segments["segment"], self.segments["customers"],
                                                   self.segments["jaccard"], self.segments["badge"])],
                "resamples": int(self.resamples), "sample_size": int(self.sample_size), "notes": list(self.notes)}

    @classmethod
    def from_dict(cls, record: dict[str, Any]) -> StabilityReport:
        """A report from ``to_dict``'s JSON (extra keys are ignored)."""
        segments = pd.DataFrame(record["segments"], columns=["segment", "customers", "jaccard", "badge"])
        return cls(agreement=record["agreement"], agreements=tuple(record["agreements"]), segments=segments,
                   resamples=record["resamples"], sample_size=record["sample_size"], notes=tuple(record["notes"]))


def stability(Z: np.ndarray, config: ClusterConfig, random_state: int = 42, labels: np.ndarray | None = None,
              n_seeds: int = 2, n_subsamples: int = 4, fraction: float = 0.8, sample_size: int = 5000,
              on_progress: ProgressFn | None = None) -> StabilityReport:
    """Re-run the clustering ``config`` on cluster space ``Z`` and measure how much its segments hold up.

    ``labels`` is the segmentation to check (a run's labels); when omitted it is
    computed with ``random_state``. ``n_seeds`` re-runs use other seeds on the
    same customers (skipped for algorithms that ignore the seed); ``n_subsamples``
    re-runs each cluster a random ``fraction`` of the customers (0.7 to 0.9 is
    typical: lower is a harsher test). Above ``sample_size`` customers the check
    runs on a seeded sample of that many, with count parameters scaled to match.
    ``on_progress("stability", fraction)`` reports progress. More re-runs give a
    steadier estimate; 5 to 10 in total is usually enough.
    """
    Z = np.asarray(Z, dtype=np.float64)
    n = len(Z)
    if n < 10:
        raise ConfigError(f"Checking stability needs at least 10 customers. Got {n}.")
    if not 0.3 <= fraction < 1.0:
        raise ConfigError(f"The 'fraction' setting of stability must be between 0.3 and 1 (exclusive). "
                          f"Got {fraction!r} instead.")
    if labels is not None and len(labels) != n:
        raise ConfigError(f"The labels to check cover {len(labels)} customers but the cluster space has {n}.")
    resolve_params(config)  # fail early on an unknown algorithm or parameter
    progress = on_progress or (lambda stage, value: None)
    notes: list[str] = []
    rows = np.arange(n)
    if n > sample_size:
        rows = np.sort(np.random.default_rng(random_state).choice(n, size=sample_size, replace=False))
        notes.append(f"Checked on a random sample of {sample_size:,} of {n:,} customers.")
    Zs = Z[rows]
    base = scale_params(config, len(rows) / n)
    plans: list[tuple[np.ndarray, int, ClusterConfig]] = []
    if config.algorithm in SEEDLESS:
        if n_seeds:
            notes.append(f"{CLUSTERERS[config.algorithm].label} gives the same answer for any seed, so only "
                         "subsamples were re-run.")
    else:
        plans += [(np.arange(len(rows)), random_state + 1 + i, base) for i in range(n_seeds)]
    sub_config = scale_params(base, fraction)
    plans += [(subsample(len(rows), fraction, random_state + 101 + i), random_state + 101 + i, sub_config)
              for i in range(n_subsamples)]
    if not plans:
        raise ConfigError("Stability needs at least one re-run: set n_seeds or n_subsamples above 0.")

    with single_threaded():
        reference = (np.asarray(labels, dtype=int)[rows] if labels is not None
                     else cluster(Zs, base, random_state).labels)
        return _stability(Zs, reference, plans, progress, len(rows), tuple(notes))


def _stability(Zs: np.ndarray, reference: np.ndarray, plans: list[tuple[np.ndarray, int, ClusterConfig]],
               progress: ProgressFn, sample_size: int, notes: tuple[str, ...]) -> StabilityReport:
    agreements: list[float] = []
    per_segment: dict[int, list[float]] = {int(s): [] for s in np.unique(reference[reference >= 0])}
    for step, (subset, seed, run_config) in enumerate(plans):
        progress("stability", step / len(plans))
        other = cluster(Zs[subset], run_config, seed).labels
        agreements.append(agreement(reference[subset], other))
        for segment, value in segment_jaccard(reference[subset], other).items():
            per_segment.setdefault(segment, []).append(value)
    progress("stability", 1.0)

    segments = pd.DataFrame({
        "segment": list(per_segment),
        "customers": [int((reference == s).sum()) for s in per_segment],
        "jaccard": [float(np.mean(v)) if v else float("nan") for v in per_segment.values()],
    })
    segments["badge"] = [badge(v) for v in segments["jaccard"]]
    return StabilityReport(agreement=float(np.mean(agreements)), agreements=tuple(agreements), segments=segments,
                           resamples=len(plans), sample_size=sample_size, notes=notes)
