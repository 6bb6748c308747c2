"""Diagnostics in words and numbers: the usual failures spelled out, per-customer silhouette, curves over k.

``label_warnings`` looks only at the labels (and optionally the silhouette), so it
works for any run, including one the analyst edited by hand. Its thresholds are
those of ``understand.metrics`` (the one verdict on every quality number), so a
warning and the badge next to the same number always agree.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from segmentation.choose.redundancy import result_repeats
from segmentation.choose.stability import single_threaded
from segmentation.common import segment_label
from segmentation.errors import ConfigError, DataError
from segmentation.understand.metrics import (
    GIANT_SHARE,
    NOISE_LIMIT,
    SILHOUETTE_REASONABLE,
    SILHOUETTE_WEAK,
    TINY_SHARE,
    silhouette_per_customer,
    verdict,
)

if TYPE_CHECKING:
    from segmentation.pipeline import SegmentationResult

BLURRED_SHARE = 0.25
"""A segment whose customers sit closer to another segment this often (or more) has a blurred border."""


@dataclass(frozen=True)
class Diagnostic:
    """One finding about a segmentation: a stable ``code``, a ``severity`` ('warning' or 'info') and a message."""

    code: str
    severity: str
    message: str


def label_warnings(labels: np.ndarray, *, requested: int | None = None, silhouette: float | None = None,
                   giant_share: float = GIANT_SHARE, tiny_share: float = TINY_SHARE, max_tiny: int = 3,
                   noise_limit: float = NOISE_LIMIT) -> list[Diagnostic]:
    """Warnings in words for the usual failures of a segmentation (``labels``, -1 = unassigned).

    Checks, with the code each finding carries: every customer unassigned
    (``all_unassigned``), more than ``noise_limit`` unassigned
    (``many_unassigned``), a single segment (``single_segment``), one segment
    holding more than ``giant_share`` (``giant_segment``), ``max_tiny`` or more
    segments, or most of them, under ``tiny_share`` each (``tiny_segments``),
    fewer segments than the ``requested`` number (``fewer_than_asked``), and,
    when ``silhouette`` is given, heavily overlapping segments
    (``weak_structure``: a warning where ``verdict`` says there are no clear segments, under
    ``SILHOUETTE_WEAK``, a note where it says weak, under ``SILHOUETTE_REASONABLE``). An empty list
    means nothing looks wrong.
    """
    labels = np.asarray(labels, dtype=int)
    n = len(labels)
    if n == 0:
        raise DataError("There are no customers to diagnose.")
    found: list[Diagnostic] = []
    assigned = labels >= 0
    ids, counts = np.unique(labels[assigned], return_counts=True)
    shares = counts / n
    noise = float((~assigned).mean())
    if not assigned.any():
        found.append(Diagnostic("all_unassigned", "warning",
                                "Every customer is unassigned: the method found no dense group. Data without clear "
                                "segments often looks like this. Try k-means, a smaller minimum segment size, or "
                                "other columns."))
        return found
    if noise > noise_limit:
        found.append(Diagnostic("many_unassigned", "warning",
                                f"{noise:.0%} of customers are unassigned (more than {noise_limit:.0%}): the segments "
                                "describe only part of your base. Lower the noise sensitivity or the smallest "
                                "segment size, or use k-means, which places every customer."))
    if len(ids) == 1:
        found.append(Diagnostic("single_segment", "warning",
                                "There is only one segment: nothing separates these customers with these settings. "
                                "Ask for more segments or try other columns."))
    elif shares.max() > giant_share:
        found.append(Diagnostic("giant_segment", "warning",
                                f"{segment_label(int(ids[shares.argmax()]))} holds {shares.max():.0%} of customers: it "
                                "is probably 'everyone else' rather than a segment. Try more segments, or a density "
                                "method that can leave scattered customers unassigned."))
    tiny = ids[shares < tiny_share]
    if len(tiny) >= max_tiny or (len(tiny) >= 2 and 2 * len(tiny) > len(ids)):
        found.append(Diagnostic("tiny_segments", "warning",
                                f"{len(tiny)} of {len(ids)} segments hold under {tiny_share:.0%} of customers each: "
                                "too small to act on, and often noise. Ask for fewer segments or raise the "
                                "smallest segment size."))
    if requested is not None and len(ids) < requested:
        found.append(Diagnostic("fewer_than_asked", "warning",
                                f"You asked for {requested} segments but only {len(ids)} distinct ones came out: the "
                                "data does not support that many with this method. Ask for fewer."))
    level = verdict("silhouette", silhouette).level
    if len(ids) >= 2 and level == "poor":
        found.append(Diagnostic("weak_structure", "warning",
                                f"The segments overlap heavily (silhouette {silhouette:.2f}, under "
                                f"{SILHOUETTE_WEAK}): there are no clear groups, so borders are arbitrary. "
                                "Treat the segments as a convenient split, or try other columns."))
    elif len(ids) >= 2 and level == "fair":
        found.append(Diagnostic("weak_structure", "info",
                                f"The segments are only moderately separated (silhouette {silhouette:.2f}; "
                                f"{SILHOUETTE_REASONABLE} or more is reasonable): many customers sit near a border."))
    return found


def result_warnings(result: SegmentationResult) -> list[Diagnostic]:
    """``label_warnings`` for a pipeline result: the requested number of segments comes from its config; plus
    ``repeats_column`` when the segments mostly repeat a categorical column (``redundancy.result_repeats``)."""
    requested = dict(result.config.cluster.params).get("n_clusters")
    silhouette = result.metrics.get("silhouette") if result.metrics else None
    found = label_warnings(result.labels, requested=int(requested) if requested else None,
                           silhouette=float(silhouette) if silhouette is not None else None)
    return found + [Diagnostic("repeats_column", "warning", o.message) for o in result_repeats(result)[:1]]


def silhouette_table(Z: np.ndarray, labels: np.ndarray, sample_size: int = 2000, random_state: int = 0
                     ) -> pd.DataFrame:
    """Per-customer silhouette on a seeded sample of assigned customers: columns row, segment, silhouette.

    ``row`` is the customer's position in ``labels``. Rows are ordered by segment
    (largest first) and, within a segment, from the best placed customer to the
    worst, which is the order a silhouette plot draws them in. Empty when there
    are fewer than two segments.
    """
    labels = np.asarray(labels, dtype=int)
    rows, values = silhouette_per_customer(np.asarray(Z, dtype=np.float64), labels, sample_size, random_state)
    frame = pd.DataFrame({"row": rows.astype(int), "segment": labels[rows].astype(int),
                          "silhouette": np.asarray(values, dtype=float)})
    size = pd.Series(labels[labels >= 0]).value_counts()
    frame["_order"] = frame["segment"].map({s: i for i, s in enumerate(sorted(size.index, key=lambda s: (-size[s],
                                                                                                       s)))})
    frame = frame.sort_values(["_order", "silhouette"], ascending=[True, False], kind="stable")
    return frame.drop(columns="_order").reset_index(drop=True)


def blurred_segments(table: pd.DataFrame, below_share: float = BLURRED_SHARE) -> pd.DataFrame:
    """Segments with a blurred border, from ``silhouette_table``: at least ``below_share`` of their customers sit
    closer to another segment (negative silhouette), or their average silhouette says there are no clear
    segments (``verdict``). Columns segment, below (share under 0), silhouette (average); largest first."""
    if table is None or not len(table):
        return pd.DataFrame(columns=["segment", "below", "silhouette"])
    per_segment = (table.assign(below=table["silhouette"] < 0)
                   .groupby("segment", sort=False)[["below", "silhouette"]].mean().reset_index())
    blurred = [row.below >= below_share or verdict("silhouette", row.silhouette).level == "poor"
               for row in per_segment.itertuples()]
    return per_segment[blurred].reset_index(drop=True)


def k_curves(Z: np.ndarray, k_range: tuple[int, int] = (2, 12), random_state: int = 42, sample_size: int = 3000,
             include_bic: bool = True) -> pd.DataFrame:
    """Quality against the number of segments: one row per k with inertia, silhouette, davies_bouldin and bic.

    Inertia, silhouette and Davies-Bouldin come from k-means, BIC from a
    Gaussian mixture (``include_bic=False`` skips the mixtures, which are the
    slow part). Above ``sample_size`` customers the curves use a seeded sample;
    inertia is then that of the sample. About one segment per 50 customers at
    most gives curves worth reading.
    """
    from sklearn.cluster import KMeans
    from sklearn.metrics import davies_bouldin_score, pairwise_distances, silhouette_score
    from sklearn.mixture import GaussianMixture

    Z = np.asarray(Z, dtype=np.float64)
    low, high = k_range
    if not 2 <= low <= high or high >= len(Z):
        raise ConfigError(f"The 'k_range' setting must be (low, high) with 2 <= low <= high < {len(Z)}. "
                          f"Got {k_range!r} instead.")
    rng = np.random.default_rng(random_state)
    if len(Z) > sample_size:
        Z = Z[np.sort(rng.choice(len(Z), size=sample_size, replace=False))]
    sil = np.arange(len(Z)) if len(Z) <= 2000 else np.sort(rng.choice(len(Z), size=2000, replace=False))
    distances = pairwise_distances(Z[sil])
    rows = []
    with single_threaded():
        for k in range(low, min(high, len(Z) - 1) + 1):
            model = KMeans(n_clusters=k, random_state=random_state, n_init=4).fit(Z)
            labels = model.labels_
            found = len(np.unique(labels[sil]))
            row = {"k": k, "inertia": float(model.inertia_),
                   "silhouette": float(silhouette_score(distances, labels[sil], metric="precomputed"))
                   if 2 <= found < len(sil) else float("nan"),
                   "davies_bouldin": float(davies_bouldin_score(Z, labels)) if len(np.unique(labels)) > 1
                   else float("nan"),
                   "bic": float("nan")}
            if include_bic:
                try:
                    mixture = GaussianMixture(n_components=k, covariance_type="full", random_state=random_state,
                                              n_init=2, reg_covar=1e-4).fit(Z)
                    row["bic"] = float(mixture.bic(Z))
                except (ValueError, np.linalg.LinAlgError):  # a degenerate mixture: leave a gap in the curve
                    pass
            rows.append(row)
    return pd.DataFrame(rows, columns=["k", "inertia", "silhouette", "davies_bouldin", "bic"])


BEST_K_RULES: Mapping[str, str] = {"silhouette": "max", "davies_bouldin": "min", "bic": "min"}
"""Which end of each curve over k is best; inertia has no best, only an elbow."""


def best_k(curves: pd.DataFrame) -> dict[str, int]:
    """The best number of segments by each curve of ``k_curves`` that has a finite value: silhouette (highest),
    davies_bouldin and bic (lowest). The first such k wins a tie."""
    best: dict[str, int] = {}
    for column, end in BEST_K_RULES.items():
        values = curves[column].to_numpy(dtype=float) if column in curves and len(curves) else np.zeros(0)
        if np.isfinite(values).any():
            best[column] = int(curves["k"].iloc[int(np.nanargmax(values) if end == "max" else np.nanargmin(values))])
    return best


def leaderboard_curves(frame: pd.DataFrame) -> pd.DataFrame:
    """From a search leaderboard's frame: silhouette, Davies-Bouldin and stability per algorithm and k.

    Only algorithms with a number-of-segments parameter give a curve; costs
    nothing, since the search already measured everything.
    """
    rows = frame[frame["params"].str.startswith("n_clusters=")]
    out = pd.DataFrame({"algorithm": rows["algorithm"].to_numpy(),
                        "k": rows["params"].str.removeprefix("n_clusters=").astype(int).to_numpy(),
                        "silhouette": rows["silhouette"].to_numpy(dtype=float),
                        "davies_bouldin": rows["davies_bouldin"].to_numpy(dtype=float),
                        "stability": rows["stability"].to_numpy(dtype=float)})
    return out.sort_values(["algorithm", "k"]).reset_index(drop=True)
