"""The vote of a customer's nearest reference customers, and the confidence it gives: one definition.

Confidence, for every customer (the export's ``segment_confidence`` and the Assign
page's ``confidence``): the closeness-weighted share of a customer's
``DEFAULT_NEIGHBOURS`` nearest reference customers, in the blended feature space,
that belong to its segment. The reference customers are the run's customers (a
seeded sample per segment above ``REFERENCE_LIMIT``), as a saved model keeps them.
A training customer is among the references, so it counts as its own nearest
neighbour, at the floor distance that keeps one exact copy from outvoting all the
others; assigning the training table with the saved model therefore gives each
customer the segment and confidence its export shows (wherever the vote agrees
with the clustering, which it does for at least 95% of customers in a segment).
A confidence of 1 means every near neighbour shares the segment; values near
1 / (number of segments) mark a customer between segments.
"""

from __future__ import annotations

import hashlib
import math
from typing import TYPE_CHECKING

import numpy as np

from segmentation.errors import ModelFileError

if TYPE_CHECKING:
    from sklearn.neighbors import NearestNeighbors

    from segmentation.pipeline import SegmentationResult

REFERENCE_LIMIT = 50_000
"""Training customers kept as the labelled reference; above this a seeded sample stratified by segment."""
MIN_REFERENCE_PER_SEGMENT = 200
DEFAULT_NEIGHBOURS = 10
NEAREST_FLOOR_SHARE = 0.1
"""Neighbour distances below this share of the typical nearest-neighbour distance count as that floor,
so an exact copy of a training customer cannot outvote all its other neighbours (confidence stays a
vote share, not always 100%)."""
_ASSIGN_CHUNK = 5_000


# --------------------------------------------------------------------------- the vote
class RememberedQueries:
    """``index`` with its ``kneighbors`` answers remembered for the rows asked (up to ``max_rows`` rows), so the
    theme vote that follows the segment vote on the same customers does not search the references again (the
    search is nearly all of assigning's time). The answers are the index's own."""

    def __init__(self, index: NearestNeighbors, max_rows: int = 200_000) -> None:
        self.index = index
        self.max_rows = max_rows
        self._answers: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}
        self._rows = 0

    def kneighbors(self, X: np.ndarray, n_neighbors: int) -> tuple[np.ndarray, np.ndarray]:
        X = np.ascontiguousarray(X)
        key = (int(n_neighbors), X.shape, str(X.dtype), hashlib.blake2b(X.tobytes(), digest_size=16).digest())
        if key not in self._answers:
            answer = self.index.kneighbors(X, n_neighbors=n_neighbors)
            if self._rows + len(X) > self.max_rows:
                return answer
            self._answers[key] = answer
            self._rows += len(X)
        return self._answers[key]


def neighbour_votes(index: NearestNeighbors, reference_labels: np.ndarray, X: np.ndarray, k: int, floor: float,
                    skip_exact: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(segments, votes): ``votes[i, j]`` is the closeness weight of ``X[i]``'s ``k`` nearest references
    (``index``, fitted on the references) that are in ``segments[j]``; rows add up to each row's total weight.

    A neighbour weighs 1 / distance, with distances below ``floor`` counted as ``floor``. ``skip_exact`` leaves
    out a reference at distance zero (the customer itself, when ``X`` holds training customers): the vote a
    customer would get if it were new.
    """
    if not (math.isfinite(floor) and floor > 0):  # an infinite floor would give every neighbour weight 0
        raise ModelFileError(f"The distance floor must be a finite number above 0; got {floor!r}. Save the model "
                             "again from its run.")
    reference_labels = np.asarray(reference_labels, dtype=np.int64)
    segments = np.unique(reference_labels)  # sorted: ties go to the lower label, Unassigned (-1) first
    n_reference = len(reference_labels)
    k = max(1, min(int(k), n_reference))
    votes = np.zeros((len(X), len(segments)))
    for start in range(0, len(X), _ASSIGN_CHUNK):
        part = X[start:start + _ASSIGN_CHUNK]
        if skip_exact and n_reference > k:
            distances, neighbours = index.kneighbors(part, n_neighbors=k + 1)
            # drop the first neighbour where it is the customer itself, else the farthest one
            drop = np.where(distances[:, 0] <= 1e-6, 0, k)
            keep = np.ones_like(distances, dtype=bool)
            keep[np.arange(len(part)), drop] = False
            distances, neighbours = distances[keep].reshape(len(part), k), neighbours[keep].reshape(len(part), k)
        else:
            distances, neighbours = index.kneighbors(part, n_neighbors=k)
        weights = 1.0 / np.maximum(distances, floor)
        columns = np.searchsorted(segments, reference_labels[neighbours])
        rows = np.repeat(np.arange(start, start + len(part)), k)
        np.add.at(votes, (rows, columns.ravel()), weights.ravel())
    return segments, votes


def theme_votes(index: NearestNeighbors, reference_labels: np.ndarray, reference_themes: np.ndarray, X: np.ndarray,
                segments: np.ndarray, k: int, floor: float, skip_exact: bool = False, given: np.ndarray | None = None
                ) -> tuple[np.ndarray, np.ndarray]:
    """(themes, confidence) of rows ``X`` already given ``segments``: the theme that wins the closeness-weighted
    vote of the row's ``k`` nearest references *in its own segment* (as in ``neighbour_votes``: weight 1 /
    distance, floored), and the share of that vote it won. So a theme always lies in the row's segment; rows in
    Unassigned (-1), or with no neighbour in their segment, get theme -1 and confidence 0. With ``given`` (one
    theme per row, e.g. the clustering's), ``given`` is returned with the share of the vote each got."""
    reference_labels = np.asarray(reference_labels, dtype=np.int64)
    reference_themes = np.asarray(reference_themes, dtype=np.int64)
    segments = np.asarray(segments, dtype=np.int64)
    n_reference = len(reference_labels)
    k = max(1, min(int(k), n_reference))
    themes, confidence = np.full(len(X), -1, dtype=np.int64), np.zeros(len(X))
    for start in range(0, len(X), _ASSIGN_CHUNK):
        part = X[start:start + _ASSIGN_CHUNK]
        extra = int(skip_exact and n_reference > k)
        distances, neighbours = index.kneighbors(part, n_neighbors=k + extra)
        weights = 1.0 / np.maximum(distances, floor)
        if extra:  # as in neighbour_votes: leave out the customer itself, else the farthest neighbour
            weights[np.arange(len(part)), np.where(distances[:, 0] <= 1e-6, 0, k)] = 0.0
        own = segments[start:start + len(part), None]
        weights = np.where((reference_labels[neighbours] == own) & (own >= 0), weights, 0.0)
        voted = reference_themes[neighbours]
        # each neighbour's theme total: the weight of the row's neighbours that share its theme (k x k per row)
        totals = ((voted[:, :, None] == voted[:, None, :]) * weights[:, None, :]).sum(axis=2)
        totals = np.where(weights > 0, totals, -1.0)
        best = totals.max(axis=1)
        # ties go to the lower theme id, as ties between segments go to the lower label
        chosen = np.where(totals >= best[:, None] * (1 - 1e-12), voted, np.iinfo(np.int64).max).min(axis=1)
        voting = (best > 0) & (chosen >= 0)
        rows = np.arange(start, start + len(part))[voting]
        if given is not None:
            chosen = np.asarray(given, dtype=np.int64)[start:start + len(part)]
            best = np.where(voted == chosen[:, None], weights, 0.0).sum(axis=1)
            voting = (weights.sum(axis=1) > 0) & (chosen >= 0)
            rows = np.arange(start, start + len(part))[voting]
            themes[start:start + len(part)] = chosen
        themes[rows] = chosen[voting]
        confidence[rows] = best[voting] / weights[voting].sum(axis=1)
    return themes, confidence


def vote_shares(segments: np.ndarray, votes: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Each row's share of its votes (from ``neighbour_votes``) that went to ``labels``; 0 for a label no
    reference has."""
    labels = np.asarray(labels, dtype=np.int64)
    column = np.searchsorted(segments, labels).clip(0, max(len(segments) - 1, 0))
    known = (segments[column] == labels) if len(segments) else np.zeros(len(labels), dtype=bool)
    share = votes[np.arange(len(labels)), column] / np.maximum(votes.sum(axis=1), 1e-300)
    return np.where(known, share, 0.0)


def nearest_index(reference: np.ndarray) -> NearestNeighbors:
    from sklearn.neighbors import NearestNeighbors

    return NearestNeighbors().fit(reference)


def reference_rows(labels: np.ndarray, limit: int, random_state: int) -> np.ndarray:
    """Row positions of the reference customers: all up to ``limit``, else a seeded sample per segment.

    Each segment keeps its share of the sample, but at least ``MIN_REFERENCE_PER_SEGMENT``
    customers (or all it has), so small segments can still win votes.
    """
    labels = np.asarray(labels)
    n = len(labels)
    if n <= limit:
        return np.arange(n)
    rng = np.random.default_rng(random_state)
    chosen = []
    for segment in np.unique(labels):
        rows = np.flatnonzero(labels == segment)
        quota = min(len(rows), max(MIN_REFERENCE_PER_SEGMENT, int(round(limit * len(rows) / n))))
        chosen.append(rng.choice(rows, size=quota, replace=False))
    return np.sort(np.concatenate(chosen))


def distance_floor(reference: np.ndarray, random_state: int) -> float:
    """``NEAREST_FLOOR_SHARE`` of the median distance from a reference customer to its nearest other one."""
    from sklearn.neighbors import NearestNeighbors

    if len(reference) < 3:
        return 1e-6
    rng = np.random.default_rng(random_state)
    probe = reference[rng.choice(len(reference), size=min(1000, len(reference)), replace=False)]
    distances, _ = NearestNeighbors(n_neighbors=2).fit(reference).kneighbors(probe)
    positive = distances[:, 1][distances[:, 1] > 0]
    typical = float(np.median(positive)) if positive.size else 0.0
    return max(typical * NEAREST_FLOOR_SHARE, 1e-6)


def run_reference(result: SegmentationResult, limit: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """(features, labels, reference rows, distance floor) of a run, as its model keeps them: up to ``limit``
    reference customers (``reference_rows``) and the floor of their neighbour distances."""
    X = np.asarray(result.features, dtype=np.float32)
    labels = np.asarray(result.labels, dtype=np.int64)
    rows = reference_rows(labels, limit, result.config.random_state)
    return X, labels, rows, distance_floor(X[rows], result.config.random_state)


def segment_confidence(result: SegmentationResult) -> np.ndarray:
    """Each training customer's confidence in its segment (see the module docstring), as its model gives it.

    The same references, floor and number of neighbours as ``assign.build_model(result)``, so the export and
    ``build_model(result).assign(result.table)`` agree customer by customer.
    """
    X, labels, rows, floor = run_reference(result, REFERENCE_LIMIT)
    if not len(labels):
        return np.zeros(0)
    segments, votes = neighbour_votes(nearest_index(X[rows]), labels[rows], X, DEFAULT_NEIGHBOURS, floor)
    return vote_shares(segments, votes, labels)
