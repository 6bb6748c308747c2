"""Analyst curation of segments: merge, split, move customers, place the unassigned; with undo.

Every operation is a pure function on a labels array (row ``i`` is customer ``i``;
-1 = Unassigned) that returns new labels and never touches its input. Operations
that change segment ids also say where each old id went (``mapping``), so names the
analyst gave follow their segments. A :class:`CurationStep` records one operation
as plain JSON (``to_dict``/``from_dict``); a :class:`CurationHistory` is an
immutable list of steps that replays onto the labels of a run and can undo.

``apply_curation(result, steps)`` is the run as the analyst left it: the steps
replayed and metrics and profiles recomputed. The app and the command line both
call it, so a curated run exports the same bytes from either.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from segmentation.common import json_safe
from segmentation.errors import ConfigError

if TYPE_CHECKING:
    from segmentation.pipeline import SegmentationResult

KINDS: tuple[str, ...] = ("merge", "split", "move", "assign_noise")
"""The curation operations a step can hold."""

NOISE = -1


@dataclass(frozen=True)
class Curated:
    """What one operation produced.

    ``labels``: the new labels. ``mapping``: every segment id present before -> its id after (None when no
    customer of it is left). ``created``: ids that did not exist before (new parts of a split, a new segment
    made by a move).
    """

    labels: np.ndarray = field(repr=False)
    mapping: dict[int, int | None]
    created: tuple[int, ...] = ()

    def __iter__(self) -> Iterator[Any]:
        """Lets callers write ``labels, mapping = merge(...)``."""
        return iter((self.labels, self.mapping))


# --------------------------------------------------------------------------------------------------------------------
# Operations
# --------------------------------------------------------------------------------------------------------------------
def _labels(labels: np.ndarray | Sequence[int]) -> np.ndarray:
    out = np.array(labels, dtype=np.int64, copy=True)
    if out.ndim != 1:
        raise ConfigError(f"Segment labels must be one value per customer (a flat list). Got shape {out.shape}.")
    if out.size and out.min() < NOISE:
        raise ConfigError(f"Segment labels must be -1 (Unassigned) or a segment id of 0 or more. Got {out.min()}.")
    return out


def _ids(labels: np.ndarray) -> list[int]:
    return sorted(set(labels.tolist()))


def _identity(labels: np.ndarray, after: np.ndarray) -> dict[int, int | None]:
    left = set(after.tolist())
    return {s: (s if s in left else None) for s in _ids(labels)}


def _embedding(embedding: np.ndarray | None, n: int, operation: str) -> np.ndarray:
    if embedding is None:
        raise ConfigError(f"{operation} needs the cluster-space embedding of the run (result.embedding).")
    embedding = np.asarray(embedding, dtype=float)
    if embedding.ndim != 2 or len(embedding) != n:
        raise ConfigError(f"The embedding has shape {embedding.shape} but there are {n} customers; pass the "
                          "embedding of the same run (one row per customer).")
    return embedding


def _check_segment(labels: np.ndarray, segment: int, what: str = "segment") -> int:
    segment = int(segment)
    if segment < 0 or segment not in set(labels.tolist()):
        existing = ", ".join(str(s) for s in _ids(labels) if s >= 0) or "none"
        raise ConfigError(f"The {what} {segment} does not exist. Existing segment ids: {existing}.")
    return segment


def merge(labels: np.ndarray | Sequence[int], segments: Sequence[int]) -> Curated:
    """Merge ``segments`` (two or more ids) into one, which keeps the smallest id (and with it, its name)."""
    labels = _labels(labels)
    chosen = sorted({_check_segment(labels, s) for s in segments})
    if len(chosen) < 2:
        raise ConfigError(f"Merging needs at least two different segments. Got {list(segments)!r}.")
    target = chosen[0]
    out = labels.copy()
    out[np.isin(labels, chosen)] = target
    mapping = _identity(labels, out)
    mapping.update({s: target for s in chosen})
    return Curated(out, mapping)


def split(labels: np.ndarray | Sequence[int], embedding: np.ndarray | None, segment: int, k: int = 2,
          random_state: int = 0) -> Curated:
    """Split ``segment`` into ``k`` parts with k-means in the cluster space (``embedding``).

    The largest part keeps the segment's id (and name); the others get new ids after the largest existing
    one, larger parts first. ``random_state`` seeds k-means: the same call gives the same split.
    """
    from sklearn.cluster import KMeans

    labels = _labels(labels)
    segment = _check_segment(labels, segment)
    embedding = _embedding(embedding, len(labels), "Splitting a segment")
    rows = np.flatnonzero(labels == segment)
    k = int(k)
    if not 2 <= k <= min(20, rows.size):
        raise ConfigError(f"The 'k' setting of split must be between 2 and {min(20, rows.size)} for a segment of "
                          f"{rows.size} customers. Got {k!r} instead.")
    points = embedding[rows]
    if np.unique(points, axis=0).shape[0] < k:
        raise ConfigError(f"Segment {segment} has fewer than {k} distinct customers in the cluster space; it cannot "
                          f"be split into {k} parts.")
    parts = KMeans(n_clusters=k, n_init=10, random_state=random_state).fit_predict(points)
    sizes = np.bincount(parts, minlength=k)
    order = sorted(range(k), key=lambda p: (-sizes[p], p))    # largest first; ties by k-means index
    next_id = max(int(labels.max()), 0) + 1
    new_ids = {order[0]: segment, **{p: next_id + i for i, p in enumerate(order[1:])}}
    out = labels.copy()
    out[rows] = np.array([new_ids[p] for p in parts], dtype=np.int64)
    return Curated(out, _identity(labels, out), tuple(new_ids[p] for p in order[1:]))


def move(labels: np.ndarray | Sequence[int], rows: Sequence[int] | np.ndarray, target: int) -> Curated:
    """Move the customers at row positions ``rows`` (e.g. a lasso selection) to segment ``target``.

    ``target`` may be an existing id, -1 (make them Unassigned) or a new id (a new segment from the selection).
    A segment left without customers maps to None.
    """
    labels = _labels(labels)
    rows = np.asarray(rows)
    if rows.dtype == bool:
        if rows.size != labels.size:
            raise ConfigError(f"The selection has {rows.size} entries for {labels.size} customers.")
        rows = np.flatnonzero(rows)
    rows = rows.astype(np.int64)
    if rows.size == 0:
        raise ConfigError("No customers are selected; select customers on the map before moving them.")
    if rows.min() < 0 or rows.max() >= labels.size:
        raise ConfigError(f"Row positions must be between 0 and {labels.size - 1}. Got {int(rows.min())}.."
                          f"{int(rows.max())}.")
    target = int(target)
    if target < NOISE:
        raise ConfigError(f"The target must be a segment id (0 or more) or -1 for Unassigned. Got {target}.")
    out = labels.copy()
    out[rows] = target
    created = (target,) if target >= 0 and target not in set(labels.tolist()) else ()
    return Curated(out, _identity(labels, out), created)


def assign_noise_to_nearest(labels: np.ndarray | Sequence[int], embedding: np.ndarray | None,
                            method: str = "centroid", n_neighbors: int = 5) -> Curated:
    """Give every Unassigned customer (-1) the nearest segment in the cluster space.

    ``method="centroid"``: the segment whose centre is nearest (fast, suits round segments);
    ``method="neighbours"``: the majority among the ``n_neighbors`` nearest assigned customers (follows
    segments of any shape, as density-based clustering finds them).
    """
    labels = _labels(labels)
    embedding = _embedding(embedding, len(labels), "Assigning the unassigned customers")
    noise = labels == NOISE
    assigned = ~noise
    if not assigned.any():
        raise ConfigError("Every customer is unassigned: there is no segment to assign them to. Re-run the "
                          "segmentation with other settings first.")
    out = labels.copy()
    if noise.any():
        if method == "centroid":
            segments = np.array(sorted(set(labels[assigned].tolist())))
            centres = np.vstack([embedding[labels == s].mean(axis=0) for s in segments])
            points = embedding[noise]
            # squared distances without a (customers x segments x dimensions) temporary
            distance = (points ** 2).sum(axis=1)[:, None] - 2 * points @ centres.T + (centres ** 2).sum(axis=1)
            out[noise] = segments[np.argmin(distance, axis=1)]
        elif method == "neighbours":
            from sklearn.neighbors import KNeighborsClassifier

            k = max(1, min(int(n_neighbors), int(assigned.sum())))
            model = KNeighborsClassifier(n_neighbors=k).fit(embedding[assigned], labels[assigned])
            out[noise] = model.predict(embedding[noise])
        else:
            raise ConfigError(f"The 'method' setting of assign_noise_to_nearest must be 'centroid' or 'neighbours'. "
                              f"Got {method!r} instead.")
    mapping = _identity(labels, out)
    return Curated(out, mapping)


# --------------------------------------------------------------------------------------------------------------------
# Steps and history
# --------------------------------------------------------------------------------------------------------------------
_PARAMS: dict[str, tuple[set[str], set[str]]] = {
    # kind: (required, optional)
    "merge": ({"segments"}, set()),
    "split": ({"segment"}, {"k", "random_state"}),
    "move": ({"rows", "target"}, set()),
    "assign_noise": (set(), {"method", "n_neighbors"}),
}


@dataclass(frozen=True)
class CurationStep:
    """One curation operation as data: ``kind`` (merge, split, move, assign_noise) and its ``params``.

    ``CurationStep("merge", {"segments": [1, 3]})``, ``CurationStep("split", {"segment": 0, "k": 2})``,
    ``CurationStep("move", {"rows": [4, 9], "target": 2})``, ``CurationStep("assign_noise", {})``.
    """

    kind: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ConfigError(f"The 'kind' of a curation step must be one of {', '.join(map(repr, KINDS))}. "
                              f"Got {self.kind!r} instead.")
        # plain JSON, so a workspace stores exactly what replays (a lasso selection arrives as a numpy array)
        params = json_safe({str(k): v.tolist() if isinstance(v, np.ndarray) else v
                            for k, v in dict(self.params).items()})
        required, optional = _PARAMS[self.kind]
        missing, unknown = required - set(params), set(params) - required - optional
        if missing or unknown:
            raise ConfigError(f"A {self.kind!r} step needs the parameter(s) {sorted(required) or 'none'} (optional: "
                              f"{sorted(optional) or 'none'}). Missing: {sorted(missing) or 'none'}; unknown: "
                              f"{sorted(unknown) or 'none'}.")
        object.__setattr__(self, "params", params)

    def apply(self, labels: np.ndarray | Sequence[int], embedding: np.ndarray | None = None) -> Curated:
        """Run the step on ``labels`` (``embedding`` is needed by split and assign_noise)."""
        p = self.params
        if self.kind == "merge":
            return merge(labels, p["segments"])
        if self.kind == "split":
            return split(labels, embedding, p["segment"], p.get("k", 2), p.get("random_state", 0))
        if self.kind == "move":
            return move(labels, p["rows"], p["target"])
        return assign_noise_to_nearest(labels, embedding, p.get("method", "centroid"), p.get("n_neighbors", 5))

    def describe(self) -> str:
        """The step in words, for the history list on the page."""
        p = self.params
        if self.kind == "merge":
            return "Merged segments " + ", ".join(str(s + 1) for s in p["segments"])
        if self.kind == "split":
            return f"Split segment {p['segment'] + 1} into {p.get('k', 2)}"
        if self.kind == "move":
            where = "Unassigned" if p["target"] < 0 else f"segment {p['target'] + 1}"
            return f"Moved {len(p['rows']):,} customers to {where}"
        return "Assigned the unassigned customers to their nearest segment"

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "params": dict(self.params)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CurationStep:
        if not isinstance(data, Mapping) or "kind" not in data:
            raise ConfigError(f"A saved curation step must be an object with a 'kind'. Got {data!r}.")
        return cls(str(data["kind"]), dict(data.get("params") or {}))


def compose(first: Mapping[int, int | None], second: Mapping[int, int | None]) -> dict[int, int | None]:
    """Where each id went through two steps: ``first`` then ``second``."""
    return {old: (None if mid is None else second.get(mid, mid)) for old, mid in first.items()}


def carry_names(names: Mapping[int, str], mapping: Mapping[int, int | None]) -> dict[int, str]:
    """Names after a step: each name follows its segment's id; where several segments become one, the name of the
    segment that kept its id wins, else the first (smallest id) named one."""
    out: dict[int, str] = {}
    for old in sorted(mapping, key=lambda s: (mapping[s] != s, s)):
        new = mapping[old]
        if new is not None and new not in out and names.get(old):
            out[new] = names[old]
    return out


@dataclass(frozen=True)
class CurationHistory:
    """An immutable list of curation steps. ``push`` and ``undo`` return new histories.

    ``replay(labels, embedding)`` applies every step to a run's original labels; steps are plain JSON
    (``to_list``/``from_list``) so a workspace can store them beside the run.
    """

    steps: tuple[CurationStep, ...] = ()

    def push(self, step: CurationStep) -> CurationHistory:
        return CurationHistory(self.steps + (step,))

    def undo(self) -> CurationHistory:
        """The history without its last step."""
        if not self.steps:
            raise ConfigError("There is nothing to undo: no curation step has been made.")
        return CurationHistory(self.steps[:-1])

    @property
    def can_undo(self) -> bool:
        return bool(self.steps)

    def __len__(self) -> int:
        return len(self.steps)

    def replay(self, labels: np.ndarray | Sequence[int], embedding: np.ndarray | None = None) -> Curated:
        """Apply every step in order to ``labels``; the mapping goes from the original ids to the final ones."""
        current = _labels(labels)
        mapping: dict[int, int | None] = {s: s for s in _ids(current)}
        created: list[int] = []
        for step in self.steps:
            outcome = step.apply(current, embedding)
            mapping = compose(mapping, outcome.mapping)
            created = [outcome.mapping.get(c, c) for c in created if outcome.mapping.get(c, c) is not None]
            created += list(outcome.created)
            current = outcome.labels
        return Curated(current, mapping, tuple(dict.fromkeys(c for c in created if c is not None)))

    def to_list(self) -> list[dict[str, Any]]:
        return [step.to_dict() for step in self.steps]

    @classmethod
    def from_list(cls, data: Sequence[Mapping[str, Any]] | None) -> CurationHistory:
        return cls(tuple(CurationStep.from_dict(item) for item in (data or [])))


# --------------------------------------------------------------------------------------------------------------------
# A run as the analyst left it
# --------------------------------------------------------------------------------------------------------------------
def apply_curation(result: SegmentationResult,
                   steps: CurationHistory | Sequence[Mapping[str, Any]] | None) -> SegmentationResult:
    """``result`` with the analyst's curation ``steps`` replayed, metrics and profiles recomputed.

    ``steps`` are CurationStep dicts, oldest first, as a workspace stores them (other keys of a stored step,
    such as the app's undo information, are ignored), or a CurationHistory. The result gets one note listing the
    changes. Without steps, ``result`` itself is returned. Raises ConfigError when a step does not fit the run
    (e.g. it names a segment the run does not have).
    """
    history = steps if isinstance(steps, CurationHistory) else CurationHistory.from_list(steps)
    if not history.steps:
        return result
    curated = history.replay(result.labels, result.embedding)
    note = "Changed by hand after the run: " + "; ".join(step.describe() for step in history.steps) + "."
    return result.with_labels(curated.labels, notes=(note,))


def apply_descriptions(result: SegmentationResult, descriptions: Mapping[int, str] | None) -> SegmentationResult:
    """``result`` with the analyst's own segment ``descriptions`` (segment id -> text) in place of the generated
    ones in its profiles; blank descriptions and segments the run does not have are ignored."""
    from dataclasses import replace

    chosen = {int(s): str(text) for s, text in (descriptions or {}).items() if str(text).strip()}
    if not chosen:
        return result
    profiles = tuple(replace(p, description=chosen[p.segment]) if p.segment in chosen else p
                     for p in result.profiles)
    return replace(result, profiles=profiles)
