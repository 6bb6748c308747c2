"""Themes inside segments: the finer level where insight lives, nested in the segments marketers act on.

Each segment's customers are clustered again in the cluster space ``Z`` with HDBSCAN; a customer HDBSCAN leaves
as noise joins the nearest theme centre of its own segment, with a lower confidence. So every theme lies inside
exactly one segment, every assigned customer has a theme, and only the customers of the Unassigned segment (-1)
have no theme.

Why this procedure (bench/quality.py --themes, banking77 test set, 3,080 texts, 77 intents, MiniLM + UMAP 5-d):
HDBSCAN within each segment with noise joined to the nearest theme reaches theme ARI 0.54 (about 80 themes),
level with k-means told the true k (0.55) and above BERTopic's defaults (0.40-0.43: HDBSCAN over everything, 10%
left as topic -1); k-means per segment with k picked by silhouette reaches 0.30, and Ward with a distance
threshold depends on the scale of ``Z``. HDBSCAN within a segment is also fast (segments are small and ``Z`` has
a few dimensions) and deterministic.

Themes only where the data has them: HDBSCAN cuts any cloud into clumps (and UMAP makes clumps of anything), so
each candidate theme must stand out more than the themes HDBSCAN finds in structureless references of the same
size, centre and covariance (``null_separation``; separation = the simplified silhouette, ``separation``), and
the themes that do must hold most of the segment (``MIN_COVERAGE``); the others join their nearest kept theme, and
a segment without such structure is one theme. On the synthetic demo (2,000 customers, 5 segments) this takes the
theme level from 51 themes, 35 of which did not come back when the whole pipeline was re-run on resamples, to one
theme per segment, all stable; banking77 keeps 75 themes and theme ARI 0.535 (bench/stability.py
--pipeline-themes, bench/quality.py --themes).

One control, ``ThemeConfig.detail`` (0 = coarse, 1 = fine), sets the smallest theme: ``theme_min_size``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from segmentation.common import NOISE
from segmentation.config import ThemeConfig
from segmentation.errors import DataError

MIN_THEME_SIZE = 5
"""No theme is smaller than this many customers, whatever the detail."""
MIN_SAMPLES = 5
"""HDBSCAN's neighbourhood for density; small values split less on local noise (measured on banking77)."""
JOINED_CONFIDENCE = 0.5
"""A customer HDBSCAN called noise and that joined its nearest theme gets at most this confidence."""
FIT_SAMPLE = 3000
"""Above this many customers a segment's themes are found on a seeded sample of this size (the smallest theme
scaled to it) and every other customer takes the theme of most of its 10 nearest sampled neighbours: HDBSCAN's
time grows faster than linearly, and a sample this size already resolves themes of 0.1% of the segment."""
NEIGHBOURS = 10
NULL_DRAWS = 3
"""Structureless references drawn at least per segment to set the separation a theme must clear
(``null_separation``); up to 4 times as many for segments under ``NULL_CUSTOMERS`` customers, whose chance clumps
vary more."""
NULL_CUSTOMERS = 1000
NULL_QUANTILE = 0.9
"""The share of the references' themes a real theme must stand out more than."""
MIN_COVERAGE = 0.7
"""A segment is split only if at least this share of its customers lie in themes that clear the separation bar:
a shapeless segment cut by HDBSCAN (UMAP makes clumps of anything) gives a few chance clumps among many weak ones.
Measured: 14-55% on the synthetic demo's segments (themes that did not come back on resamples), 75-100% on
banking77's, bbc_news's and mall_customers' split segments."""
SEPARATION_FLOOR = 0.5
"""A theme's separation (simplified silhouette) must reach at least this, even where the references do not split:
a theme whose members are on average as near another theme's centre as to their own is not a theme."""


@dataclass(frozen=True)
class Themes:
    """The theme level of one segmentation. Row ``i`` is customer ``i`` of the run.

    ``labels``: the global theme id (0-based, numbered segment by segment, largest theme first within its
    segment), -1 only for customers of the Unassigned segment. ``parent``: theme id -> its segment id (0-based as
    every internal id; ``common.segment_number`` gives people's numbers). ``confidence``: in [0, 1], HDBSCAN's
    membership strength, at most ``JOINED_CONFIDENCE`` for a customer joined to its nearest theme. ``min_size``:
    the smallest theme allowed by the detail. ``notes``: what a reader should know, in words.
    """

    labels: np.ndarray
    parent: dict[int, int]
    confidence: np.ndarray
    min_size: int
    notes: tuple[str, ...] = ()

    @property
    def n_themes(self) -> int:
        return len(self.parent)

    def of_segment(self, segment: int) -> list[int]:
        """The theme ids of ``segment``, largest first."""
        return [t for t, s in self.parent.items() if s == segment]

    def number_in_segment(self, theme: int) -> int:
        """The theme's 1-based position within its segment (its largest theme is 1)."""
        return self.of_segment(self.parent[theme]).index(theme) + 1


def theme_min_size(n_customers: int, detail: float) -> int:
    """The smallest theme for ``n_customers`` at ``detail``: 3.2% of the customers at 0, 0.56% at 0.5 (17 of
    3,080), 0.1% at 1, and never under ``MIN_THEME_SIZE``. Log-spaced so that each step of the control changes
    the number of themes by a similar factor."""
    share = 10 ** (-1.5 - 1.5 * float(detail))
    return max(MIN_THEME_SIZE, int(round(n_customers * share)))


def _nearest_centre(Z: np.ndarray, labels: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For customers ``rows``: the nearest theme centre among ``labels`` >= 0, and a confidence in [0, 1] (1 on
    the centre, 0 halfway to the next centre)."""
    ids = np.unique(labels[labels >= 0])
    centres = np.vstack([Z[labels == i].mean(0) for i in ids])
    distances = np.column_stack([np.linalg.norm(Z[rows] - c, axis=1) for c in centres])
    order = np.argsort(distances, axis=1)
    own = distances[np.arange(len(rows)), order[:, 0]]
    other = distances[np.arange(len(rows)), order[:, 1]] if len(ids) > 1 else np.full(len(rows), np.inf)
    return ids[order[:, 0]], np.clip(1.0 - own / np.maximum(other, 1e-12), 0.0, 1.0)


def separation(Z: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Each theme's separation (ids ``0..k-1`` of ``labels``): the mean over its members of the simplified
    silhouette ``(b - a) / max(a, b)``, ``a`` the distance to the own theme's centre and ``b`` to the nearest other
    centre. 1 = tight and far from the others, 0 = on the border. O(customers x themes), unlike the silhouette."""
    k = int(labels.max()) + 1
    if k < 2:
        return np.ones(k)
    centres = np.vstack([Z[labels == i].mean(0) for i in range(k)])
    distances = np.sqrt(((Z[:, None, :] - centres[None]) ** 2).sum(2))
    rows = np.arange(len(Z))
    own = distances[rows, labels].copy()
    distances[rows, labels] = np.inf
    other = distances.min(1)
    score = (other - own) / np.maximum(np.maximum(own, other), 1e-12)
    return np.bincount(labels, weights=score, minlength=k) / np.maximum(np.bincount(labels, minlength=k), 1)


def _density_split(Z: np.ndarray, min_size: int) -> tuple[np.ndarray, np.ndarray, int]:
    """HDBSCAN's themes of ``Z`` (local ids, noise joined to the nearest theme centre), their confidence and the
    customers joined; all zeros (one theme) where HDBSCAN finds fewer than two themes."""
    n = len(Z)
    if n < 2 * min_size:
        return np.zeros(n, dtype=int), np.ones(n), 0
    import hdbscan

    model = hdbscan.HDBSCAN(min_cluster_size=min_size, min_samples=min(min_size, MIN_SAMPLES), core_dist_n_jobs=1)
    local = model.fit_predict(Z)
    if local.max() < 1:
        return np.zeros(n, dtype=int), np.ones(n), 0
    confidence = np.nan_to_num(model.probabilities_, nan=0.0).astype(float)
    noise = np.flatnonzero(local < 0)
    if len(noise):
        joined, closeness = _nearest_centre(Z, local, noise)
        local[noise] = joined
        confidence[noise] = JOINED_CONFIDENCE * closeness
    return local, confidence, len(noise)


def null_separation(Z: np.ndarray, min_size: int, seed: int) -> float:
    """The bar a theme must clear: the ``NULL_QUANTILE`` of the separations HDBSCAN reaches on structureless
    references of the same size, centre and covariance as ``Z`` (seeded Gaussian draws: at least ``NULL_DRAWS``,
    more for a small segment, whose chance clumps vary more), and at least ``SEPARATION_FLOOR``. Splitting a
    shapeless cloud still gives themes; a real theme stands out more than those."""
    rng = np.random.default_rng(seed)
    centre = Z.mean(0)
    covariance = np.atleast_2d(np.cov(Z.T)) if len(Z) > 1 else np.eye(Z.shape[1])
    draws = int(np.clip(np.ceil(NULL_CUSTOMERS / max(len(Z), 1)), NULL_DRAWS, 4 * NULL_DRAWS))
    scores = [SEPARATION_FLOOR]
    for _ in range(draws):
        reference = rng.multivariate_normal(centre, covariance, size=len(Z), method="eigh")
        local, _, _ = _density_split(reference, min_size)
        if local.max() > 0:
            scores += separation(reference, local).tolist()
    return max(SEPARATION_FLOOR, float(np.quantile(scores, NULL_QUANTILE)))


def _keep_separated(Z: np.ndarray, local: np.ndarray, confidence: np.ndarray, bar: float) -> tuple[np.ndarray, int]:
    """Keep the themes whose separation clears ``bar`` if they hold at least ``MIN_COVERAGE`` of the customers;
    the members of the others join the nearest kept theme
    centre with a joined confidence, in one step (merging one at a time would blur each receiving theme and cascade
    into merging real ones). Fewer than two kept: one theme. Returns the labels and the themes merged away."""
    score = separation(Z, local)
    kept = np.flatnonzero(score >= bar)
    if len(kept) == len(score):
        return local, 0
    if len(kept) < 2 or np.isin(local, kept).mean() < MIN_COVERAGE:
        confidence[:] = 1.0
        return np.zeros(len(local), dtype=int), len(score) - 1
    renumber = np.full(len(score), -1)
    renumber[kept] = np.arange(len(kept))
    local = renumber[local]
    members = np.flatnonzero(local < 0)
    joined, closeness = _nearest_centre(Z, local, members)
    local[members] = joined
    confidence[members] = np.minimum(confidence[members], JOINED_CONFIDENCE * closeness)
    return local, len(score) - len(kept)


def _largest_first(local: np.ndarray) -> np.ndarray:
    ids, counts = np.unique(local, return_counts=True)
    order = ids[np.lexsort((ids, -counts))]          # largest first; ties by the earlier id
    renumber = np.empty(int(ids.max()) + 1, dtype=int)
    renumber[order] = np.arange(len(order))
    return renumber[local]


def _themes_of_segment(Z: np.ndarray, min_size: int, seed: int) -> tuple[np.ndarray, np.ndarray, int, int]:
    """(local labels 0..k-1 ordered by size, confidence, customers joined from noise, themes merged for weak
    separation) for one segment's rows; above ``FIT_SAMPLE`` rows fitted on a seeded sample, the others voted in by
    their nearest sampled neighbours."""
    n = len(Z)
    if n > FIT_SAMPLE:
        from sklearn.neighbors import KNeighborsClassifier

        sample = np.sort(np.random.default_rng(seed).choice(n, size=FIT_SAMPLE, replace=False))
        scaled = max(MIN_THEME_SIZE, int(round(min_size * FIT_SAMPLE / n)))
        sample_labels, sample_confidence, joined, merged = _themes_of_segment(Z[sample], scaled, seed)
        labels, confidence = np.empty(n, dtype=int), np.empty(n)
        rest = np.setdiff1d(np.arange(n), sample)
        if sample_labels.max() == 0:
            labels[rest], confidence[rest] = 0, 1.0
        else:
            vote = KNeighborsClassifier(n_neighbors=NEIGHBOURS).fit(Z[sample], sample_labels)
            proba = vote.predict_proba(Z[rest])
            labels[rest] = vote.classes_[proba.argmax(1)]
            confidence[rest] = proba.max(1)
        labels[sample], confidence[sample] = sample_labels, sample_confidence
        return _largest_first(labels), confidence, joined, merged   # sizes may order differently than in the sample
    local, confidence, joined = _density_split(Z, min_size)
    if local.max() == 0:
        return local, confidence, 0, 0
    local, merged = _keep_separated(Z, local, confidence, null_separation(Z, min_size, seed))
    return _largest_first(local), confidence, joined, merged


def build_themes(Z: np.ndarray, segment_labels: np.ndarray, config: ThemeConfig | None = None,
                 random_state: int = 0) -> Themes:
    """The themes inside each segment of ``segment_labels`` (-1 = Unassigned), from the cluster space ``Z``.

    ``config.detail`` moves the level: 0 gives a few broad themes per segment, 1 many narrow ones; 0.5 (the
    default) suits a few thousand customers. Deterministic: HDBSCAN has no randomness, and ``random_state`` seeds
    the sample a segment of more than ``FIT_SAMPLE`` customers is fitted on. Time grows about linearly with the
    customers (a few seconds for 20,000 in a 5-d space; bench/quality.py --themes prints the figures at 100,000).
    """
    config = config or ThemeConfig()
    Z = np.ascontiguousarray(Z, dtype=np.float64)
    segment_labels = np.asarray(segment_labels, dtype=int)
    if Z.ndim != 2 or len(Z) != len(segment_labels):
        raise DataError(f"There are {len(segment_labels)} segment labels for {len(Z)} customers in the cluster "
                        "space; give one label per customer.")
    min_size = theme_min_size(len(Z), config.detail)
    labels = np.full(len(Z), NOISE, dtype=int)
    confidence = np.zeros(len(Z))
    parent: dict[int, int] = {}
    joined = merged = whole = 0
    for segment in sorted(set(segment_labels.tolist()) - {NOISE}):
        rows = np.flatnonzero(segment_labels == segment)
        local, strength, from_noise, weak = _themes_of_segment(Z[rows], min_size, random_state + int(segment))
        first = len(parent)
        labels[rows] = local + first
        confidence[rows] = strength
        joined += from_noise
        merged += weak
        whole += int(weak > 0 and local.max() == 0)
        parent.update({first + t: segment for t in range(int(local.max()) + 1)})
    notes = (f"{len(parent)} themes inside {len(set(parent.values()))} segments (smallest theme {min_size} "
             f"customers, detail {config.detail:g}).",)
    if merged:
        notes += (f"{merged:,} candidate themes were merged into their neighbours: they stood out no more than the "
                  "themes found in shapeless data of the same size" + (f"; {whole} segments have no inner "
                  "structure and are one theme each." if whole else "."),)
    if joined:
        notes += (f"{joined:,} customers between themes joined the nearest theme of their segment with a lower "
                  "confidence.",)
    return Themes(labels=labels, parent=parent, confidence=confidence, min_size=min_size, notes=notes)
