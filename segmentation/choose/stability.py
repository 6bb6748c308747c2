"""How much a segmentation survives re-running the whole pipeline after the features: other seeds and samples.

The check re-runs the run's own reduction (UMAP or PCA, as configured) and then
its clustering on resamples of the blended representation ``X``, and compares
each re-run with the run's labels on the customers they share. Re-clustering
the already reduced space instead (as an earlier version did) keeps the map fixed,
so every segment scored about 1.00 even on pure noise: the reduction is where
most of the arbitrariness lives.

Two numbers answer "can I trust these segments?":

- the overall agreement, the adjusted Rand index (ARI) between the segmentation
  and each re-run on the customers they share, averaged (1 = identical, 0 = no
  better than chance);
- per segment, how often its members stay together: for each resample, the
  Jaccard overlap between the segment and its best-matching segment of the
  re-run, averaged over resamples (Hennig's ``clusterboot`` measure). Segments
  get a badge from ``understand.metrics.verdict("jaccard", …)``: "stable" (0.75 or
  more), "fair" (0.5 to 0.75), "unstable" (below 0.5).

Themes inside segments (``theme_labels``) are scored the same way: in each
re-run every segment is split again into as many themes as its best match had,
and each theme gets its best Jaccard overlap.

Resamples draw 80% of the customers without replacement rather than a classic
bootstrap with replacement: duplicated customers look like tiny dense groups to
HDBSCAN and DBSCAN and would make density methods look less stable than they are.
Above ``SAMPLE_SIZE`` customers the check runs on a seeded sample, so its cost does
not grow with the data (bench/stability.py gives the figures).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from segmentation.common import segment_label
from segmentation.config import ClusterConfig, ReduceConfig
from segmentation.errors import ConfigError
from segmentation.represent.reduce import reduce
from segmentation.segment.cluster import CLUSTERERS, cluster, resolve_params
from segmentation.understand.metrics import verdict

ProgressFn = Callable[[str, float], None]
ThemeFinder = Callable[[np.ndarray, np.ndarray, Mapping[int, int], int], np.ndarray]
"""``(Z, segment labels, themes wanted per segment, seed) -> theme labels`` for one re-run (-1 = unassigned)."""

SAMPLE_SIZE = 2000
"""Customers re-run at most (a seeded sample above it): 6 UMAP re-runs of 2,000 customers take about 10 s on one
core, whatever the size of the file (bench/stability.py)."""

SEEDLESS = frozenset({"agglomerative", "hdbscan", "dbscan"})
"""Algorithms that give the same answer whatever the seed: with a seedless reduction (PCA or none) re-running
them with other seeds tells nothing."""

COUNT_PARAMS = ("min_cluster_size", "min_samples")
"""Density parameters counted in customers: they scale with the number of customers clustered."""

REDUCTION_NAMES = {"umap": "UMAP", "pca": "PCA"}

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



def _badges(values: list[float]) -> list[str]:
    return [badge(v) for v in values]


@dataclass(frozen=True)
class StabilityReport:
    """The outcome of ``stability``: overall agreement, a badge per segment (and per theme), and what was re-run."""

    agreement: float
    """Mean adjusted Rand index between the segmentation and its re-runs (1 = always the same)."""
    agreements: tuple[float, ...]
    segments: pd.DataFrame = field(repr=False)
    """One row per segment: segment, customers (in the sample checked), jaccard (mean best match), badge."""
    resamples: int = 0
    sample_size: int = 0
    notes: tuple[str, ...] = ()
    themes: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=THEME_COLUMNS), repr=False)
    """One row per theme when theme labels were given: theme, segment (its parent), customers, jaccard, badge."""
    reduction: str = ""
    """The reduction re-run ('umap', 'pca' or 'none'); '' for a stored check that re-clustered the reduced space."""
    n_seeds: int = 0
    n_subsamples: int = 0
    fraction: float = 0.8
    customers: int = 0
    """Customers in the run (``sample_size`` of them were checked)."""
    seconds: float = 0.0

    @property
    def outdated(self) -> bool:
        """True for a check stored by an earlier version, which re-clustered the reduced space only and so scored
        nearly every segment as stable: it should be run again, not shown."""
        return not self.reduction

    @property
    def badges(self) -> dict[int, str]:
        return dict(zip(self.segments["segment"].astype(int), self.segments["badge"]))

    @property
    def unstable(self) -> list[int]:
        """Segments whose members mostly do not stay together when the pipeline is re-run."""
        return [int(s) for s, b in zip(self.segments["segment"], self.segments["badge"]) if b == "unstable"]

    @property
    def fair(self) -> list[int]:
        """Segments that only partly hold together (mean Jaccard 0.5 to 0.75)."""
        return [int(s) for s, b in zip(self.segments["segment"], self.segments["badge"]) if b == "fair"]

    def method(self) -> str:
        """What was re-run, in one sentence, e.g. 'Re-ran the UMAP reduction and the clustering 6 times …'."""
        if self.outdated:
            return ("An older check that re-clustered the already reduced space only, which scores nearly every "
                    "segment as stable: check stability again.")
        what = (f"the {REDUCTION_NAMES[self.reduction]} reduction and the clustering"
                if self.reduction in REDUCTION_NAMES else "the clustering (this run has no reduction step)")
        checked = (f"a random sample of {self.sample_size:,} of {self.customers:,} customers"
                   if self.customers > self.sample_size else f"all {self.sample_size:,} customers")
        kinds = []
        if self.n_seeds:
            kinds.append(f"{self.n_seeds} with other seeds")
        if self.n_subsamples:
            kinds.append(f"{self.n_subsamples} on random {self.fraction:.0%} samples")
        return f"Re-ran {what} {self.resamples} times on {checked}: {' and '.join(kinds)}."

    def summary(self, names: Mapping[int, str] | None = None) -> str:
        """One sentence for people: how much the segments hold up when re-run, and which do not (``names``: the
        segments' names, where they have them)."""
        if not len(self.segments):
            return "No segments to check: every customer is unassigned."
        if self.outdated:
            return self.method()
        level = {"good": "high", "fair": "moderate"}.get(verdict("stability", self.agreement).level, "low")
        text = (f"Agreement across {self.resamples} re-runs is {level} (adjusted Rand index {self.agreement:.2f}; "
                "1 means identical segments).")
        if self.unstable:
            listed = ", ".join(segment_label(s, names) for s in self.unstable)
            text += (f" Unstable: {listed}: fewer than half of their members stay together when the reduction and "
                     "clustering are re-run, so do not build a campaign on them alone.")
        if self.fair:
            listed = ", ".join(segment_label(s, names) for s in self.fair)
            text += f" Only fairly stable: {listed}: their core holds, customers near their borders move."
        if not self.unstable and not self.fair:
            text += " Every segment keeps most of its members together."
        return text

    def to_dict(self) -> dict[str, Any]:
        """The report as plain JSON (to keep it in a session or a project); ``from_dict`` reads it back."""
        return {"agreement": float(self.agreement), "agreements": [float(a) for a in self.agreements],
                "segments": _records(self.segments, SEGMENT_COLUMNS), "themes": _records(self.themes, THEME_COLUMNS),
                "resamples": int(self.resamples), "sample_size": int(self.sample_size), "notes": list(self.notes),
                "reduction": self.reduction, "n_seeds": int(self.n_seeds), "n_subsamples": int(self.n_subsamples),
                "fraction": float(self.fraction), "customers": int(self.customers), "seconds": float(self.seconds),
                "method": self.method()}

    @classmethod
    def from_dict(cls, record: dict[str, Any]) -> StabilityReport:
        """A report from ``to_dict``'s JSON (extra keys are ignored; a check stored before themes and re-run
        reductions existed loads as ``outdated``)."""
        segments = pd.DataFrame(record["segments"], columns=SEGMENT_COLUMNS)
        themes = pd.DataFrame(record.get("themes") or [], columns=THEME_COLUMNS)
        return cls(agreement=record["agreement"], agreements=tuple(record["agreements"]), segments=segments,
                   resamples=record["resamples"], sample_size=record["sample_size"], notes=tuple(record["notes"]),
                   themes=themes, reduction=str(record.get("reduction", "")),
                   n_seeds=int(record.get("n_seeds", 0)), n_subsamples=int(record.get("n_subsamples", 0)),
                   fraction=float(record.get("fraction", 0.8)),
                   customers=int(record.get("customers", record["sample_size"])),
                   seconds=float(record.get("seconds", 0.0)))


SEGMENT_COLUMNS = ["segment", "customers", "jaccard", "badge"]
THEME_COLUMNS = ["theme", "segment", "customers", "jaccard", "badge"]


def _records(frame: pd.DataFrame, columns: list[str]) -> list[dict[str, Any]]:
    cast = {"jaccard": float, "badge": str}
    return [{c: cast.get(c, int)(row[c]) for c in columns} for _, row in frame.iterrows()]


def stability(X: np.ndarray, reduce_config: ReduceConfig, cluster_config: ClusterConfig, random_state: int = 42,
              labels: np.ndarray | None = None, theme_labels: np.ndarray | None = None,
              theme_parents: Mapping[int, int] | None = None, n_seeds: int = 2, n_subsamples: int = 4,
              fraction: float = 0.8, sample_size: int = SAMPLE_SIZE, find_themes: ThemeFinder | None = None,
              on_progress: ProgressFn | None = None) -> StabilityReport:
    """Re-run the reduction ``reduce_config`` and clustering ``cluster_config`` on resamples of the blended
    representation ``X`` (``SegmentationResult.features``) and measure how much the segments hold up.

    ``labels`` is the segmentation to check (a run's labels); when omitted it is
    computed from ``X`` with ``random_state``. ``n_seeds`` re-runs use other seeds
    on the same customers (skipped when both the reduction and the algorithm ignore
    the seed); ``n_subsamples`` re-runs each take a random ``fraction`` of the
    customers (0.7 to 0.9 is typical: lower is a harsher test). Above
    ``sample_size`` customers the check runs on a seeded sample of that many,
    with count parameters scaled to match: the cost stays bounded (2,000 keeps
    6 UMAP re-runs near 10 s), though UMAP's neighbourhoods are then a little wider
    than in the full run. ``theme_labels`` (a theme per customer, -1 unassigned)
    adds a per-theme score; ``theme_parents`` maps each theme to its segment (by
    default the segment most of its customers are in); ``find_themes`` finds the
    themes of a re-run (by default k-means inside each re-run segment, as many
    themes as its best-matching segment has). ``on_progress("stability", f)``
    reports progress.
    """
    start = time.perf_counter()
    X = np.asarray(X, dtype=np.float32)
    if X.ndim != 2:
        raise ConfigError(f"Checking stability needs a table of features (2 dimensions). Got {X.ndim}.")
    n = len(X)
    if n < 10:
        raise ConfigError(f"Checking stability needs at least 10 customers. Got {n}.")
    if not 0.3 <= fraction < 1.0:
        raise ConfigError(f"The 'fraction' setting of stability must be between 0.3 and 1 (exclusive). "
                          f"Got {fraction!r} instead.")
    if sample_size < 50:
        raise ConfigError(f"The 'sample_size' setting of stability must be at least 50. Got {sample_size!r}.")
    for name, given in (("labels", labels), ("theme labels", theme_labels)):
        if given is not None and len(given) != n:
            raise ConfigError(f"The {name} to check cover {len(given)} customers but the features have {n}.")
    resolve_params(cluster_config)  # fail early on an unknown algorithm or parameter
    progress = on_progress or (lambda stage, value: None)
    notes: list[str] = []
    rows = np.arange(n)
    if n > sample_size:
        rows = np.sort(np.random.default_rng(random_state).choice(n, size=sample_size, replace=False))
    base = scale_params(cluster_config, len(rows) / n)
    plans: list[tuple[np.ndarray, int, ClusterConfig]] = []
    seeds = n_seeds
    if cluster_config.algorithm in SEEDLESS and reduce_config.method != "umap":
        seeds = 0
        if n_seeds:
            notes.append(f"{CLUSTERERS[cluster_config.algorithm].label} gives the same answer for any seed, so only "
                         "subsamples were re-run.")
    plans += [(np.arange(len(rows)), random_state + 1 + i, base) for i in range(seeds)]
    sub_config = scale_params(base, fraction)
    plans += [(subsample(len(rows), fraction, random_state + 101 + i), random_state + 101 + i, sub_config)
              for i in range(n_subsamples)]
    if not plans:
        raise ConfigError("Stability needs at least one re-run: set n_seeds or n_subsamples above 0.")

    Xs = X[rows]
    with single_threaded():
        reference = (np.asarray(labels, dtype=int)[rows] if labels is not None
                     else cluster(reduce(Xs, reduce_config, random_state), base, random_state).labels)
        themes = None
        if theme_labels is not None:
            theme_ref = np.asarray(theme_labels, dtype=int)[rows]
            parents = dict(theme_parents) if theme_parents is not None else _parents(theme_ref, reference)
            themes = (theme_ref, {int(t): int(s) for t, s in parents.items()}, find_themes or split_segments)
        segment_scores, theme_scores, agreements = _rerun(Xs, reference, plans, reduce_config, themes, progress)

    segments = pd.DataFrame({
        "segment": list(segment_scores),
        "customers": [int((reference == s).sum()) for s in segment_scores],
        "jaccard": [float(np.mean(v)) if v else float("nan") for v in segment_scores.values()],
    })
    segments["badge"] = _badges(list(segments["jaccard"]))
    theme_frame = pd.DataFrame(columns=THEME_COLUMNS)
    if themes is not None:
        theme_ref, parents, _ = themes
        theme_frame = pd.DataFrame({
            "theme": list(theme_scores),
            "segment": [parents.get(t, -1) for t in theme_scores],
            "customers": [int((theme_ref == t).sum()) for t in theme_scores],
            "jaccard": [float(np.mean(v)) if v else float("nan") for v in theme_scores.values()],
        })
        theme_frame["badge"] = _badges(list(theme_frame["jaccard"]))
    return StabilityReport(agreement=float(np.mean(agreements)), agreements=tuple(agreements), segments=segments,
                           resamples=len(plans), sample_size=len(rows), notes=tuple(notes), themes=theme_frame,
                           reduction=reduce_config.method, n_seeds=seeds, n_subsamples=n_subsamples,
                           fraction=fraction, customers=n, seconds=time.perf_counter() - start)


def _rerun(Xs: np.ndarray, reference: np.ndarray, plans: list[tuple[np.ndarray, int, ClusterConfig]],
           reduce_config: ReduceConfig, themes: tuple[np.ndarray, dict[int, int], ThemeFinder] | None,
           progress: ProgressFn) -> tuple[dict[int, list[float]], dict[int, list[float]], list[float]]:
    agreements: list[float] = []
    per_segment: dict[int, list[float]] = {int(s): [] for s in np.unique(reference[reference >= 0])}
    per_theme: dict[int, list[float]] = {}
    if themes is not None:
        per_theme = {int(t): [] for t in np.unique(themes[0][themes[0] >= 0])}
    for step, (subset, seed, run_config) in enumerate(plans):
        progress("stability", step / len(plans))
        Z = reduce(Xs[subset], reduce_config, seed)
        other = cluster(Z, run_config, seed).labels
        agreements.append(agreement(reference[subset], other))
        matches = segment_jaccard(reference[subset], other)
        for segment, value in matches.items():
            per_segment.setdefault(segment, []).append(value)
        if themes is not None:
            theme_ref, parents, finder = themes
            wanted = themes_wanted(reference[subset], other, parents)
            other_themes = np.asarray(finder(Z, other, wanted, seed), dtype=int)
            for theme, value in segment_jaccard(theme_ref[subset], other_themes).items():
                per_theme.setdefault(theme, []).append(value)
    progress("stability", 1.0)
    return per_segment, per_theme, agreements


def _parents(theme_labels: np.ndarray, labels: np.ndarray) -> dict[int, int]:
    """Each theme's segment: the one most of its customers are in."""
    out = {}
    for theme in np.unique(theme_labels[theme_labels >= 0]):
        segments, counts = np.unique(labels[theme_labels == theme], return_counts=True)
        out[int(theme)] = int(segments[np.argmax(counts)])
    return out


def themes_wanted(reference: np.ndarray, other: np.ndarray, parents: Mapping[int, int]) -> dict[int, int]:
    """For each segment of re-run ``other``, how many themes its best-matching reference segment has (at least 1)."""
    per_segment: dict[int, int] = {}
    for segment in parents.values():
        per_segment[segment] = per_segment.get(segment, 0) + 1
    wanted = {}
    for segment in np.unique(other[other >= 0]):
        members = reference[(other == segment) & (reference >= 0)]
        best = int(np.bincount(members).argmax()) if len(members) else -1
        wanted[int(segment)] = max(1, per_segment.get(best, 1))
    return wanted


def split_segments(Z: np.ndarray, labels: np.ndarray, wanted: Mapping[int, int], seed: int) -> np.ndarray:
    """Themes of a re-run: k-means inside each segment into ``wanted[segment]`` themes (-1 stays unassigned)."""
    from sklearn.cluster import KMeans

    themes = np.full(len(labels), -1, dtype=int)
    next_id = 0
    for segment, k in sorted(wanted.items()):
        members = np.flatnonzero(labels == segment)
        k = max(1, min(int(k), len(members) - 1))
        if k == 1:
            themes[members] = next_id
        else:
            themes[members] = next_id + KMeans(k, n_init=3, random_state=seed).fit_predict(Z[members])
        next_id += k
    return themes
