"""Automatic mode: try algorithms and their key parameters, rank them, recommend one and say why.

``search(Z)`` works on the cluster space (``SegmentationResult.embedding``), so the
text is embedded and reduced once and only the clustering is repeated. Every
candidate gets a row in a leaderboard: silhouette, Davies-Bouldin,
Calinski-Harabasz, unassigned share, smallest and largest segment share,
agreement when only the clustering is re-run on subsamples of the fixed cluster
space (a cheap screen named "re-cluster agreement" for people: it is not the
stability check of ``choose.stability``, which re-runs the reduction too) and run
time. The recommendation is the candidate with the best silhouette (unassigned
customers counted as 0) less a penalty for low re-cluster agreement, among
candidates with no tiny segment and few unassigned customers.

Silhouette alone flatters structureless data (k-means on uniform points in a
square scores about 0.4), so the winner is also compared with the same number of
k-means segments on random data shaped like the customers (Tibshirani's gap
idea): a solution that does no better is reported as "no clear segments".
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from segmentation.choose.redundancy import prefer_informative
from segmentation.choose.stability import agreement, scale_params, single_threaded, subsample
from segmentation.config import ClusterConfig, RunConfig
from segmentation.errors import ConfigError, DataError, SegmentationError
from segmentation.segment.cluster import CLUSTERERS, cluster, knee_eps
from segmentation.understand.metrics import (
    AGREEMENT_HIGH,
    AGREEMENT_LOW,
    GIANT_SHARE,
    NOISE_COMFORTABLE,
    SILHOUETTE_WEAK,
    TINY_SHARE,
    verdict,
)
from segmentation.understand.wording import settings_text

if TYPE_CHECKING:  # the pipeline loads every stage; only auto_segment needs it
    from segmentation.pipeline import SegmentationResult, StageCache

ProgressFn = Callable[[str, float], None]

ALGORITHMS = ("kmeans", "gmm", "agglomerative", "hdbscan", "dbscan")
"""Searched by default, in order of preference when two candidates score the same."""

STABILITY_WEIGHT = 0.25
"""Score penalty per unit of lost stability: an agreement of 0.6 across re-runs costs 0.1 silhouette."""
GIANT_WEIGHT = 1.0
"""Score penalty per unit of the largest segment's share above ``max_share``: 76% against 60% costs 0.16.

Silhouette favours splitting off one distinct group from "everyone else" (on
news texts, 2 segments scored 0.69 while the 5 real topics scored 0.65); a
segment holding most customers is rarely what an analyst wants to act on."""
NULL_MARGIN = 0.10
"""The winner must beat k-means on random, structureless data of the same shape by this much silhouette."""
TIE = 0.005
"""Scores this close count as a tie, broken by the order of ``ALGORITHMS`` (simpler methods first)."""
HDBSCAN_SIZE_SHARES = (0.005, 0.01, 0.02, 0.04)
"""HDBSCAN's smallest segment size, as shares of the customers searched."""
HDBSCAN_MIN_SAMPLES = (3, 10)
DBSCAN_MIN_SAMPLES = (5, 10, 20)
SILHOUETTE_ROWS = 2000
"""Silhouette is computed on this many customers of the search sample (it costs O(n^2))."""

COLUMNS = ("algorithm", "params", "n_segments", "silhouette", "davies_bouldin", "calinski_harabasz", "noise_share",
           "smallest_share", "largest_share", "stability", "seconds", "score", "eligible", "why_not", "label",
           "config")


def default_k_max(n: int) -> int:
    """The largest number of segments searched for ``n`` customers: about one per 50 customers, at most 12."""
    return int(max(2, min(12, n // 50)))


# --------------------------------------------------------------------------- leaderboard
@dataclass(frozen=True)
class Leaderboard:
    """Every candidate of a search with its scores, and the recommended one.

    ``frame`` has one row per candidate, the recommended first, then eligible
    candidates by score, then the rest: algorithm, params (text), n_segments,
    silhouette, davies_bouldin, calinski_harabasz, noise_share, smallest_share,
    largest_share, stability, seconds, score, eligible, why_not (why a candidate
    broke the rules), label (for people) and config (the ``ClusterConfig`` to
    re-run it on all customers:
    ``pipeline.run(table, run_config.replace(cluster=board.config(row)))``).
    """

    frame: pd.DataFrame = field(repr=False)
    recommended: int | None
    reason: str
    structure: str = "clear"
    """'clear', 'moderate' or 'weak' (no clear segments)."""
    n_rows: int = 0
    sample_rows: int = 0
    null_silhouette: float = float("nan")
    """Silhouette of k-means with the winner's number of segments on random data shaped like the customers."""
    min_share: float = TINY_SHARE
    max_noise: float = NOISE_COMFORTABLE
    max_share: float = GIANT_SHARE
    """Above this share the largest segment costs score (see ``GIANT_WEIGHT``)."""
    notes: tuple[str, ...] = ()

    @property
    def rules(self) -> str:
        """The eligibility rules in words, e.g. 'no segment under 3% and at most 10% unassigned'."""
        return _rules(self.min_share, self.max_noise)

    def config(self, row: int) -> ClusterConfig:
        """The clustering config of a leaderboard row, for ``RunConfig.replace(cluster=...)``."""
        return self.frame.at[row, "config"]

    @property
    def recommended_config(self) -> ClusterConfig | None:
        return None if self.recommended is None else self.config(self.recommended)

    @property
    def recommended_row(self) -> pd.Series | None:
        return None if self.recommended is None else self.frame.loc[self.recommended]

    def table(self) -> pd.DataFrame:
        """The leaderboard for people and CSV files: no config objects, the recommended row marked."""
        out = self.frame.drop(columns=["config"]).copy()
        out.insert(0, "recommended", out.index == self.recommended)
        out["algorithm"] = [CLUSTERERS[a].label if a in CLUSTERERS else a for a in out["algorithm"]]
        out["params"] = [settings_text(p) for p in out["params"]]   # "4 segments", not "n_clusters=4"
        return out


# --------------------------------------------------------------------------- candidates
@dataclass(frozen=True)
class _Candidate:
    algorithm: str
    params: dict[str, Any]      # as fitted on the search sample
    config: ClusterConfig       # for all customers (count parameters scaled up)


def _params_text(config: ClusterConfig) -> str:
    return ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in config.params)


def _candidates(algorithms: Sequence[str], Zs: np.ndarray, n_full: int, k_low: int, k_high: int,
                seed: int) -> list[_Candidate]:
    n = len(Zs)
    ratio = n_full / n
    out: list[_Candidate] = []
    for algorithm in algorithms:
        spec = CLUSTERERS[algorithm]
        names = {p.name for p in spec.params}
        grid: list[dict[str, Any]]
        if "n_clusters" in names:
            grid = [{"n_clusters": k} for k in range(k_low, k_high + 1)]
        elif algorithm == "hdbscan":
            sizes = sorted({max(5, int(round(share * n))) for share in HDBSCAN_SIZE_SHARES})
            grid = [{"min_cluster_size": size, "min_samples": min(samples, size)}
                    for size in sizes for samples in HDBSCAN_MIN_SAMPLES]
            grid = [dict(t) for t in dict.fromkeys(tuple(g.items()) for g in grid)]
        elif algorithm == "dbscan":
            grid = [{"eps": float(f"{knee_eps(Zs, samples, seed):.6g}"), "min_samples": samples}
                    for samples in DBSCAN_MIN_SAMPLES if samples * 10 <= n]
        else:  # an algorithm added to the registry later: its defaults
            grid = [spec.defaults()]
        for params in grid:
            config = scale_params(ClusterConfig(algorithm, tuple(params.items())), ratio)
            out.append(_Candidate(algorithm, params, config))
    return out


_FIT_ERRORS = (ValueError, FloatingPointError, np.linalg.LinAlgError, SegmentationError)


def _fit_all(candidates: Sequence[_Candidate], Z: np.ndarray, seed: int, factor: float
             ) -> list[tuple[np.ndarray | None, float, str]]:
    """(labels, seconds, error) per candidate on ``Z``; count parameters times ``factor``.

    Ward trees are built once and cut at every number of segments: the same
    partitions as fitting each k separately, for the price of one fit.
    """
    from scipy.cluster.hierarchy import fcluster, linkage

    results: list[tuple[np.ndarray | None, float, str]] = [(None, 0.0, "")] * len(candidates)
    ward = [i for i, c in enumerate(candidates) if c.algorithm == "agglomerative"]
    limit = CLUSTERERS["agglomerative"].max_rows if "agglomerative" in CLUSTERERS else None
    if ward and (limit is None or len(Z) <= limit):
        start = time.perf_counter()
        tree = linkage(Z, method="ward")
        share = (time.perf_counter() - start) / len(ward)
        for i in ward:
            start = time.perf_counter()
            labels = fcluster(tree, t=candidates[i].params["n_clusters"], criterion="maxclust") - 1
            results[i] = (labels.astype(int), share + time.perf_counter() - start, "")
        done = set(ward)
    else:
        done = set()
    for i, candidate in enumerate(candidates):
        if i in done:
            continue
        config = scale_params(ClusterConfig(candidate.algorithm, tuple(candidate.params.items())), factor)
        start = time.perf_counter()
        try:
            labels = cluster(Z, config, seed).labels
        except _FIT_ERRORS as error:  # one failing candidate (e.g. a degenerate mixture) must not stop the search
            results[i] = (None, time.perf_counter() - start, str(error).split("\n")[0][:160])
            continue
        results[i] = (labels, time.perf_counter() - start, "")
    return results


def _measure(Zs: np.ndarray, labels: np.ndarray, distances: np.ndarray, sil_rows: np.ndarray) -> dict[str, float]:
    from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score, silhouette_score

    n = len(labels)
    assigned = labels >= 0
    _, counts = np.unique(labels[assigned], return_counts=True)
    out = {"n_segments": int(len(counts)), "noise_share": float((~assigned).mean()),
           "smallest_share": float(counts.min() / n) if len(counts) else 0.0,
           "largest_share": float(counts.max() / n) if len(counts) else 0.0,
           "silhouette": float("nan"), "davies_bouldin": float("nan"), "calinski_harabasz": float("nan")}
    if len(counts) < 2 or assigned.sum() <= len(counts):
        return out
    out["davies_bouldin"] = float(davies_bouldin_score(Zs[assigned], labels[assigned]))
    out["calinski_harabasz"] = float(calinski_harabasz_score(Zs[assigned], labels[assigned]))
    sample = labels[sil_rows]
    keep = sample >= 0
    found = len(np.unique(sample[keep]))
    if found >= 2 and keep.sum() > found:
        out["silhouette"] = float(silhouette_score(distances[np.ix_(keep, keep)], sample[keep], metric="precomputed"))
    return out


def null_silhouette(Z: np.ndarray, k: int, random_state: int = 0) -> float:
    """Silhouette of k-means with ``k`` segments on uniform random points in the customers' bounding box.

    The box is aligned with the data's principal axes (as in the gap statistic),
    so the random data has the customers' spread but no groups. A real
    segmentation should score clearly above it.
    """
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score

    Z = np.asarray(Z, dtype=np.float64)
    if k < 2 or len(Z) <= k:
        return float("nan")
    centred = Z - Z.mean(0)
    _, _, axes = np.linalg.svd(centred, full_matrices=False)
    rotated = centred @ axes.T
    rng = np.random.default_rng(random_state)
    fake = rng.uniform(rotated.min(0), rotated.max(0), size=rotated.shape)
    labels = KMeans(n_clusters=k, random_state=random_state, n_init=4).fit_predict(fake)
    return float(silhouette_score(fake, labels)) if len(np.unique(labels)) > 1 else float("nan")


# --------------------------------------------------------------------------- search
def search(Z: np.ndarray, *, algorithms: Sequence[str] = ALGORITHMS, k_range: tuple[int, int] | None = None,
           sample_size: int = 5000, random_state: int = 42, stability_resamples: int = 3,
           on_progress: ProgressFn | None = None, min_share: float = TINY_SHARE,
           max_noise: float = NOISE_COMFORTABLE, max_share: float = GIANT_SHARE) -> Leaderboard:
    """Search clusterings of cluster space ``Z`` and recommend one.

    ``algorithms`` are names from ``clustering.CLUSTERERS``: k-means, Gaussian
    mixture and Ward try every number of segments in ``k_range`` (default 2 to
    ``default_k_max(n)``); HDBSCAN tries smallest segment sizes of 0.5-4% of the
    customers with two noise sensitivities; DBSCAN takes its radius from the knee
    of the k-distance curve for three neighbour counts. Above ``sample_size``
    customers the search runs on a seeded sample of that many (count parameters
    in each row's config are scaled back up to all customers), which keeps it to
    about 20 s (measured with 5,000 customers on 2 cores). ``stability_resamples``
    re-runs every candidate on 80% subsamples with other seeds (0 skips
    stability: faster but blind to segments that change when re-run).
    A candidate is eligible when no segment holds under ``min_share`` of the
    customers (too small to act on) and at most ``max_noise`` are unassigned.
    The recommendation is the eligible candidate with the best score: silhouette
    (unassigned customers count as 0) less ``STABILITY_WEIGHT`` x (1 - agreement
    across re-runs) less ``GIANT_WEIGHT`` x the largest segment's share above
    ``max_share``. ``on_progress("search", fraction)`` reports progress. Never raises on structureless data: the
    leaderboard's reason says that no clear segments were found.
    """
    Z = np.asarray(Z, dtype=np.float64)
    if Z.ndim != 2:
        raise DataError(f"The cluster space must be a table of numbers (customers x dimensions). Got shape {Z.shape}.")
    if not np.isfinite(Z).all():
        raise DataError("The cluster space holds missing or infinite values; re-run the reduction step.")
    n = len(Z)
    if n < 20:
        raise ConfigError(f"The automatic search needs at least 20 customers. Got {n}; choose the settings by hand.")
    unknown = [a for a in algorithms if a not in CLUSTERERS]
    if unknown or not algorithms:
        raise ConfigError(f"The 'algorithms' setting must list names from {', '.join(map(repr, CLUSTERERS))}. "
                          f"Got {list(algorithms)!r} instead.")
    if not 0 <= min_share < 0.5 or not 0.5 <= max_share <= 1 or not 0 <= max_noise <= 1:
        raise ConfigError(f"The 'min_share' setting must be in [0, 0.5), 'max_share' in [0.5, 1] and 'max_noise' in "
                          f"[0, 1]. Got {min_share!r}, {max_share!r} and {max_noise!r} instead.")
    if sample_size < 100:
        raise ConfigError(f"The 'sample_size' setting must be at least 100. Got {sample_size!r} instead.")
    k_low, k_high = k_range or (2, default_k_max(n))
    if not 2 <= k_low <= k_high or k_high >= min(n, sample_size):
        raise ConfigError(f"The 'k_range' setting must be (low, high) with 2 <= low <= high < {min(n, sample_size)}. "
                          f"Got {k_range!r} instead.")
    progress = on_progress or (lambda stage, value: None)
    progress("search", 0.0)
    notes: list[str] = []
    rng = np.random.default_rng(random_state)
    rows = np.arange(n) if n <= sample_size else np.sort(rng.choice(n, size=sample_size, replace=False))
    Zs = Z[rows]
    if len(rows) < n:
        notes.append(f"Searched on a random sample of {len(rows):,} of {n:,} customers; opening a row re-runs it "
                     "on everyone.")
    sil_rows = np.arange(len(Zs)) if len(Zs) <= SILHOUETTE_ROWS else \
        np.sort(rng.choice(len(Zs), size=SILHOUETTE_ROWS, replace=False))
    from sklearn.metrics import pairwise_distances

    distances = pairwise_distances(Zs[sil_rows])

    from sklearn.exceptions import ConvergenceWarning

    with single_threaded(), warnings.catch_warnings():
        # k-means on data with fewer distinct points than segments warns; the leaderboard already says so
        warnings.simplefilter("ignore", category=ConvergenceWarning)
        return _search(Zs, sil_rows, distances, list(dict.fromkeys(algorithms)), n, k_low, k_high, random_state,
                       stability_resamples, progress, (min_share, max_share, max_noise), tuple(notes))


def _search(Zs: np.ndarray, sil_rows: np.ndarray, distances: np.ndarray, algorithms: list[str], n: int, k_low: int,
            k_high: int, random_state: int, stability_resamples: int, progress: ProgressFn,
            rules: tuple[float, float, float], notes: tuple[str, ...]) -> Leaderboard:
    min_share, max_share, max_noise = rules
    candidates = _candidates(algorithms, Zs, n, k_low, k_high, random_state)
    total = len(candidates) * (1 + max(stability_resamples, 0)) + 1
    fits = _fit_all(candidates, Zs, random_state, 1.0)
    progress("search", len(candidates) / total)
    records = []
    for candidate, (labels, seconds, error) in zip(candidates, fits):
        record: dict[str, Any] = {"algorithm": candidate.algorithm, "params": _params_text(candidate.config),
                                  "seconds": seconds, "config": candidate.config, "error": error}
        record.update(_measure(Zs, labels, distances, sil_rows) if labels is not None else
                      {"n_segments": 0, "noise_share": float("nan"), "smallest_share": float("nan"),
                       "largest_share": float("nan"), "silhouette": float("nan"), "davies_bouldin": float("nan"),
                       "calinski_harabasz": float("nan")})
        records.append(record)

    agreements: list[list[float]] = [[] for _ in candidates]
    for r in range(max(stability_resamples, 0)):
        subset = subsample(len(Zs), 0.8, random_state + 1 + r)
        refits = _fit_all(candidates, Zs[subset], random_state + 1 + r, len(subset) / len(Zs))
        for i, (labels, _, _) in enumerate(refits):
            if labels is not None and fits[i][0] is not None:
                agreements[i].append(agreement(fits[i][0][subset], labels))
        progress("search", (len(candidates) * (r + 2)) / total)

    frame = pd.DataFrame.from_records(records)
    frame["stability"] = [float(np.mean(a)) if a else float("nan") for a in agreements]
    frame = _judge(frame, candidates, rules)
    recommended, pool_eligible = _pick(frame)
    null = float("nan")
    if recommended is not None:
        null = null_silhouette(Zs[sil_rows], int(frame.at[recommended, "n_segments"]), random_state)
    structure = _structure(frame, recommended, null)
    reason = _reason(frame, recommended, pool_eligible, structure, null, _rules(min_share, max_noise), max_share)

    # recommended first, then eligible by score, then the rest by score
    order = sorted(frame.index, key=lambda i: (i != recommended, not frame.at[i, "eligible"],
                                               -np.nan_to_num(frame.at[i, "score"], nan=-9.0), i))
    frame = frame.loc[order].reset_index(drop=True)
    frame = frame[list(COLUMNS)]
    progress("search", 1.0)
    return Leaderboard(frame=frame, recommended=0 if recommended is not None else None, reason=reason,
                       structure=structure, n_rows=n, sample_rows=len(Zs), null_silhouette=null,
                       min_share=min_share, max_noise=max_noise, max_share=max_share, notes=notes)


def _percent(share: float) -> str:
    """3% or 0.5%: whole percents unless that would round a small share to 0."""
    return f"{share:.0%}" if share == 0 or share >= 0.01 else f"{share:.1%}"


def _rules(min_share: float, max_noise: float) -> str:
    return (f"no segment under {_percent(min_share)} and "
            + ("no customer unassigned" if max_noise == 0 else f"at most {_percent(max_noise)} unassigned"))


def _judge(frame: pd.DataFrame, candidates: Sequence[_Candidate], rules: tuple[float, float, float]
           ) -> pd.DataFrame:
    min_share, max_share, max_noise = rules
    frame = frame.copy()
    stability = frame["stability"].fillna(1.0).clip(lower=0.0)  # unmeasured: no penalty
    giant = (frame["largest_share"] - max_share).clip(lower=0.0).fillna(0.0)
    frame["score"] = (frame["silhouette"] * (1 - frame["noise_share"]) - STABILITY_WEIGHT * (1 - stability)
                      - GIANT_WEIGHT * giant)
    why: list[str] = []
    for record, candidate in zip(frame.to_dict("records"), candidates):
        problems = []
        asked = candidate.params.get("n_clusters")
        if record["error"]:
            problems.append(f"failed: {record['error']}")
        elif record["n_segments"] < 2:
            problems.append("fewer than 2 segments" if record["n_segments"] else "every customer unassigned")
        else:
            if asked and record["n_segments"] < asked:
                problems.append(f"made {record['n_segments']} segments, not the {asked} asked for")
            if record["smallest_share"] < min_share:
                problems.append(f"a segment under {_percent(min_share)}")
            if record["noise_share"] > max_noise:
                problems.append(f"{record['noise_share']:.0%} unassigned (limit {_percent(max_noise)})")
            if not np.isfinite(record["silhouette"]):
                problems.append("quality could not be measured")
        why.append("; ".join(problems))
    frame["why_not"] = why
    frame["eligible"] = frame["why_not"] == ""
    frame["label"] = [f"{CLUSTERERS[a].label}, {s} segments" for a, s in zip(frame["algorithm"], frame["n_segments"])]
    return frame.drop(columns=["error"])


def _pick(frame: pd.DataFrame) -> tuple[int | None, bool]:
    """(row of the recommendation, whether it came from the eligible candidates)."""
    scored = frame[np.isfinite(frame["score"]) & (frame["n_segments"] >= 2)]
    pool = scored[scored["eligible"]]
    eligible = bool(len(pool))
    if not eligible:
        pool = scored
    if not len(pool):
        return None, False
    best = pool["score"].max()
    near = pool[pool["score"] >= best - TIE]
    rank = {a: i for i, a in enumerate(ALGORITHMS)}
    chosen = min(near.index, key=lambda i: (rank.get(near.at[i, "algorithm"], len(rank)), -near.at[i, "score"], i))
    return int(chosen), eligible


def _structure(frame: pd.DataFrame, recommended: int | None, null: float) -> str:
    if recommended is None:
        return "weak"
    row = frame.loc[recommended]
    silhouette = row["silhouette"] * (1 - row["noise_share"])
    stable = not np.isfinite(row["stability"]) or row["stability"] >= AGREEMENT_LOW
    beats_null = not np.isfinite(null) or silhouette >= null + NULL_MARGIN
    level = verdict("silhouette", silhouette).level  # the same reading as the Quality page's badge
    if level == "poor" or not beats_null or not stable:
        return "weak"
    if level == "fair" or silhouette < null + 2 * NULL_MARGIN:
        return "moderate"
    return "clear"


def _reason(frame: pd.DataFrame, recommended: int | None, eligible: bool, structure: str, null: float,
            rules: str, max_share: float) -> str:
    if recommended is None:
        return ("No clear segments found: no candidate made two or more segments (every customer was left "
                "unassigned or the fits failed). Try other columns, or k-means with a number of segments you choose.")
    row = frame.loc[recommended]
    settings = settings_text(row["params"])   # in words, never "n_clusters=4"
    if settings.endswith(" segments") and "," not in settings:
        settings = "asked for " + settings.removesuffix(" segments")
    name = f"{row['n_segments']} segments ({CLUSTERERS[row['algorithm']].label}, {settings})"
    silhouette = row["silhouette"]
    stability = row["stability"]
    held = (f"; they hold up when re-clustered (agreement {stability:.2f})"
            if np.isfinite(stability) and stability >= AGREEMENT_HIGH
            else f"; agreement when re-clustered is {stability:.2f}" if np.isfinite(stability) else "")
    unassigned = f", {row['noise_share']:.0%} left unassigned" if row["noise_share"] > 0 else ""
    if row["largest_share"] > max_share:
        held += f"; its largest segment holds {row['largest_share']:.0%} of customers"
    if eligible:
        pool = frame[frame["eligible"]]
        best_silhouette = pool["silhouette"].idxmax()
        text = f"{name}: the best silhouette ({silhouette:.2f}{unassigned}) among solutions with {rules}{held}."
        if best_silhouette != recommended and pool.at[best_silhouette, "silhouette"] > silhouette + 0.02:
            other = pool.loc[best_silhouette]
            costs = []
            if np.nan_to_num(other["stability"], nan=1.0) < np.nan_to_num(stability, nan=1.0) - 0.01:
                costs.append(f"holds up less when re-clustered (agreement {other['stability']:.2f})")
            if other["largest_share"] > max_share:
                costs.append(f"puts {other['largest_share']:.0%} of customers in one segment")
            if other["noise_share"] > row["noise_share"]:
                costs.append(f"leaves {other['noise_share']:.0%} unassigned")
            text = (f"{name}: the best silhouette once re-cluster agreement and segment balance are counted "
                    f"({silhouette:.2f}"
                    f"{unassigned}) among solutions with {rules}{held}. {other['label']} separates better "
                    f"({other['silhouette']:.2f}) but {' and '.join(costs) or 'scores lower overall'}.")
    else:
        text = (f"No solution met the rules ({rules}). The least bad is {name}, silhouette {silhouette:.2f}: "
                f"{row['why_not']}.")
    if structure == "weak":
        adjusted = silhouette * (1 - row["noise_share"])
        why = []
        if adjusted < SILHOUETTE_WEAK:
            why.append(f"its silhouette {adjusted:.2f} is below {SILHOUETTE_WEAK}")
        if np.isfinite(null) and adjusted < null + NULL_MARGIN:
            why.append(f"k-means scores {null:.2f} on random data with no groups at all")
        if np.isfinite(stability) and stability < AGREEMENT_LOW:
            why.append(f"the segments change when re-clustered (agreement {stability:.2f})")
        return (f"No clear segments found: the structure is weak ({'; '.join(why)}). Any split of these customers "
                f"is largely arbitrary; try other columns or another text weight. Least bad: {text}")
    if structure == "moderate":
        text += " Segments are only moderately separated: treat the borders between them as soft."
    return text


# --------------------------------------------------------------------------- one call
def auto_segment(table: pd.DataFrame, base_config: RunConfig | None = None, *,
                 algorithms: Sequence[str] = ALGORITHMS, max_k: int | None = None, sample_size: int = 5000,
                 stability_resamples: int = 3, min_share: float = TINY_SHARE,
                 max_noise: float = NOISE_COMFORTABLE, max_share: float = GIANT_SHARE,
                 on_progress: ProgressFn | None = None, digest: str | None = None, cache: StageCache | None = None,
                 ) -> tuple[SegmentationResult, Leaderboard]:
    """Segment ``table`` with the best clustering found by ``search``.

    Runs the pipeline once with ``base_config`` (its features, text, reduction
    and seed are kept) to get the cluster space, searches clusterings on it, then
    re-runs the pipeline with the recommended clustering; the reduction comes
    from the pipeline's stage cache, so the second run costs only the clustering
    and the profiles. ``max_k`` caps the number of segments tried. The result's
    notes start with the recommendation's reason. Progress goes to
    ``on_progress`` with the pipeline's stage names plus "search". A recommendation whose segments only repeat a
    categorical column gives way to a close runner-up that does not (``redundancy.prefer_informative``).
    """
    from segmentation.pipeline import DEFAULT_CACHE, run

    config = base_config or RunConfig()
    cache = cache or DEFAULT_CACHE
    first = run(table, config, on_progress, digest=digest, cache=cache)
    n = len(first.embedding)
    k_high = min(max_k or default_k_max(n), n - 1, sample_size - 1)
    leaderboard = search(first.embedding, algorithms=algorithms, k_range=(2, max(2, k_high)), sample_size=sample_size,
                         random_state=config.random_state, stability_resamples=stability_resamples,
                         on_progress=on_progress, min_share=min_share, max_noise=max_noise, max_share=max_share)
    leaderboard = prefer_informative(leaderboard, first)   # segments that only repeat a column teach nothing
    chosen = leaderboard.recommended_config
    result = first
    if chosen is not None and chosen != config.cluster:
        result = run(table, config.replace(cluster=chosen), on_progress, digest=first.data_digest, cache=cache)
    return replace(result, notes=(f"Chosen automatically: {leaderboard.reason}", *result.notes)), leaderboard
