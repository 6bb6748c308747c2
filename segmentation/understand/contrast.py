"""A group of customers against everyone else: effect sizes, significance tests and the comparison tables.

One definition of the numeric effect size serves the profile cards, the comparison heatmap and the summary of a
selection on the map (:func:`mean_contrast`), so the same segment and column show the same "sd" everywhere.
Every trait carries a significance test (Mann-Whitney U for numbers, a two-proportion z test or Fisher's exact
test for category values), and the p-values of one run are corrected together with Benjamini-Hochberg, so that
with many columns and segments noise is not shown as insight. One sort per column serves every segment.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from segmentation.common import ID_WORDS, name_tokens
from segmentation.errors import DataError
from segmentation.represent.features import category_values, numeric_values
from segmentation.understand.columns import column_kind, role_columns
from segmentation.understand.wording import pretty_column

ALPHA = 0.05
"""False-discovery rate for the Benjamini-Hochberg correction across all tests of a profile run."""

MIN_EFFECT = 0.3
"""Smallest |effect| (:func:`mean_contrast`, in standard deviations of the column) for a numeric trait to be named
or described."""

MIN_CATEGORY_EFFECT = 0.2
"""Smallest Cohen's h (difference of two shares on an arcsine scale, read like an effect in sd) for a category
value to be named."""

MIN_LIFT = 1.2
"""Smallest lift for a category value to be named or described."""

MAX_CATEGORY_VALUES = 20
"""Values tested per categorical column (the most frequent); rarer values cannot carry a trait."""

# the columns of a profile's traits, in order (see SegmentProfile)
_NUMERIC_COLUMNS = ["feature", "segment_mean", "segment_median", "rest_mean", "rest_median", "overall_mean", "effect",
                   "p_value", "p_adjusted", "significant"]
_CATEGORY_COLUMNS = ["column", "value", "segment_share", "rest_share", "overall_share", "lift", "effect", "p_value",
                    "p_adjusted", "significant", "segment_count"]


def mean_contrast(values: np.ndarray, codes: np.ndarray, groups: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(group mean, mean of everyone else, effect) of one numeric column for each of ``groups`` groups at once.

    This is THE numeric effect size of Segment Studio: the profile cards, the comparison heatmap and the
    summary of a selection on the map all call it. The effect is the difference between the group's mean
    and the mean of everyone else, in standard deviations of the column over all customers:

        effect = (mean in the group - mean of the others) / standard deviation of the column (everyone)

    Why this one, for a marketer: it compares exactly the two numbers a card shows side by side (the segment
    against the other customers, as the significance test does), and its unit is one fixed ruler per column
    (its spread over everyone), so the cells of a heatmap column are comparable and "+1 sd of total spend"
    means the same amount of money for every segment. Cohen's d divides by the spread *within* the two
    groups instead, which changes from segment to segment and inflates tight segments (the lapsed segment
    of the demo read +3.0 sd); the gap to the overall mean shrinks as a segment grows (a segment of half the
    customers can never be more than half as far from the overall mean as from the others). 0.3 is a
    difference worth a sentence, 0.5 a clear one, 1 or more a defining one.

    ``values`` holds finite numbers only (one per customer); ``codes`` each customer's group, 0..groups-1.
    A group with no customers gets NaN means and a NaN effect; with nobody outside a group (one segment) the
    effect is 0, as it is for a column that does not vary.
    """
    total = values.size
    n_in = np.bincount(codes, minlength=groups).astype(float)
    n_out = total - n_in
    center = float(values.mean()) if total else 0.0
    w = values - center                                   # centred: sums of squares stay exact for large values
    s1 = np.bincount(codes, weights=w, minlength=groups)
    t1, t2 = float(w.sum()), float((w * w).sum())
    spread = math.sqrt(max(t2 / total - (t1 / total) ** 2, 0.0)) if total else 0.0
    scale = spread if spread > 1e-12 else np.inf           # a column that does not vary: every effect is 0
    with np.errstate(divide="ignore", invalid="ignore"):
        mean_in = s1 / n_in + center
        mean_out = (t1 - s1) / n_out + center
        effect = np.where(n_in == 0, np.nan, np.where(n_out > 0, (mean_in - mean_out) / scale, 0.0))
    return mean_in, mean_out, effect


def benjamini_hochberg(p_values: Sequence[float] | np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (false-discovery rate); NaN stays NaN and is not counted as a test."""
    p = np.asarray(p_values, dtype=float)
    out = np.full(p.shape, np.nan)
    tested = np.flatnonzero(np.isfinite(p))
    m = tested.size
    if m == 0:
        return out
    order = tested[np.argsort(p[tested], kind="stable")]
    scaled = p[order] * m / np.arange(1, m + 1)
    adjusted = np.minimum.accumulate(scaled[::-1])[::-1]
    out[order] = np.clip(adjusted, 0.0, 1.0)
    return out


def two_sided(z: float) -> float:
    """Two-sided p-value of a standard normal statistic."""
    return float(min(1.0, math.erfc(abs(z) / math.sqrt(2.0))))


def _numeric_rows(column: str, values: np.ndarray, codes: np.ndarray, segments: list[int]) -> list[dict[str, Any]]:
    """Segment against the rest for one numeric column, every segment at once.

    One sort serves every segment: the ranks of the Mann-Whitney U test (normal approximation with tie and
    continuity corrections; the exact test below 10 customers on a side) and the medians.
    """
    finite = np.isfinite(values)
    v, c = values[finite], codes[finite]
    total = v.size
    if total < 2:
        return []
    groups = len(segments)
    mean_in, mean_out, effect = mean_contrast(v, c, groups)
    n_in = np.bincount(c, minlength=groups).astype(float)
    n_out = total - n_in
    order = np.argsort(v, kind="stable")
    sorted_values, sorted_codes = v[order], c[order]
    starts = np.concatenate([[0], np.flatnonzero(np.diff(sorted_values)) + 1])
    lengths = np.diff(np.concatenate([starts, [total]]))
    ranks = np.repeat(starts + (lengths + 1) / 2.0, lengths)      # average rank of each run of ties
    rank_sums = np.bincount(sorted_codes, weights=ranks, minlength=groups)
    tie_term = float((lengths.astype(float) ** 3 - lengths).sum()) / (total * (total - 1))
    rows = []
    for g, segment in enumerate(segments):
        if n_in[g] == 0:
            continue
        member = sorted_codes == g
        inside, outside = sorted_values[member], sorted_values[~member]   # both still sorted
        p_value = np.nan
        if n_out[g] > 0:
            if min(n_in[g], n_out[g]) < 10:
                from scipy.stats import mannwhitneyu

                p_value = float(mannwhitneyu(inside, outside, alternative="two-sided").pvalue) \
                    if sorted_values[-1] > sorted_values[0] else 1.0
            else:
                u = rank_sums[g] - n_in[g] * (n_in[g] + 1) / 2
                mu = n_in[g] * n_out[g] / 2
                sigma = math.sqrt(max(n_in[g] * n_out[g] / 12 * ((total + 1) - tie_term), 0.0))
                p_value = two_sided(max(abs(u - mu) - 0.5, 0.0) / sigma) if sigma > 0 else 1.0
        rows.append({"segment": segment, "feature": column, "segment_mean": float(mean_in[g]),
                     "segment_median": _sorted_median(inside),
                     "rest_mean": float(mean_out[g]) if n_out[g] > 0 else np.nan,
                     "rest_median": _sorted_median(outside),
                     "overall_mean": float(v.mean()), "effect": float(effect[g]), "p_value": p_value})
    return rows


def _sorted_median(values: np.ndarray) -> float:
    n = values.size
    if n == 0:
        return float("nan")
    return float(values[n // 2]) if n % 2 else float((values[n // 2 - 1] + values[n // 2]) / 2)


def _category_rows(column: str, values: np.ndarray, codes: np.ndarray, segments: list[int]) -> list[dict[str, Any]]:
    """Share of each frequent value in each segment against the rest (z test, Fisher's exact for small counts).

    The effect is Cohen's h: the difference of the two shares on an arcsine scale, which puts 5% against 1%
    and 55% against 51% on a comparable footing.
    """
    total = len(values)
    groups = len(segments)
    kept, value_codes = _frequent_codes(values)
    known = value_codes >= 0
    k = len(kept)
    if k == 0:
        return []
    table = np.bincount(codes[known] * k + value_codes[known], minlength=groups * k).reshape(groups, k).astype(float)
    n_in = np.bincount(codes, minlength=groups).astype(float)
    n_out = total - n_in
    value_total = table.sum(axis=0)
    rows = []
    for g, segment in enumerate(segments):
        for j, value in enumerate(kept):
            a = table[g, j]
            b = value_total[j] - a
            share_in = a / n_in[g] if n_in[g] else 0.0
            share_out = b / n_out[g] if n_out[g] else np.nan
            overall = value_total[j] / total
            p_value = np.nan
            if n_out[g] > 0 and n_in[g] > 0:
                expected = min(n_in[g] * overall, n_in[g] * (1 - overall), n_out[g] * overall,
                               n_out[g] * (1 - overall))
                if expected < 5:
                    from scipy.stats import fisher_exact

                    p_value = float(fisher_exact([[a, n_in[g] - a], [b, n_out[g] - b]]).pvalue)
                else:
                    se = math.sqrt(overall * (1 - overall) * (1 / n_in[g] + 1 / n_out[g]))
                    p_value = two_sided((share_in - share_out) / se) if se > 0 else 1.0
            h = 2 * math.asin(math.sqrt(share_in)) - 2 * math.asin(math.sqrt(share_out)) \
                if np.isfinite(share_out) else 0.0
            rows.append({"segment": segment, "column": column, "value": value, "segment_count": int(a),
                         "segment_share": float(share_in), "rest_share": float(share_out),
                         "overall_share": float(overall), "lift": float(share_in / overall) if overall else np.nan,
                         "effect": float(h), "p_value": p_value})
    return rows


def _frequent_codes(values: np.ndarray, top: int = MAX_CATEGORY_VALUES) -> tuple[list[str], np.ndarray]:
    """The ``top`` most frequent values (ties by value) and each row's index among them (-1 for the rest)."""
    inverse, uniques = pd.factorize(values, sort=False)
    uniques = np.asarray(uniques, dtype=object).astype(str)
    counts = np.bincount(inverse[inverse >= 0], minlength=len(uniques))
    order = np.lexsort((uniques, -counts))[:top]    # most frequent first, ties by value: deterministic
    position = np.full(len(uniques) + 1, -1, dtype=np.int64)
    position[order] = np.arange(len(order))
    return [str(u) for u in uniques[order]], position[inverse]


def segment_codes(labels: np.ndarray) -> tuple[list[int], np.ndarray]:
    """Segments in display order (ids ascending, Unassigned last) and each row's index into that list."""
    uniques, inverse = np.unique(labels, return_inverse=True)
    segments = sorted(uniques.tolist(), key=lambda s: (s < 0, s))
    rank = {s: i for i, s in enumerate(segments)}
    return segments, np.array([rank[s] for s in uniques.tolist()], dtype=np.int64)[inverse.ravel()]


def column_arrays(table: pd.DataFrame, numeric: Sequence[str], categorical: Sequence[str]
                  ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """The numeric columns as floats (NaN where missing) and the categorical ones as strings, by name."""
    return ({c: numeric_values(table[c]) for c in numeric},
            {c: category_values(table[c]).to_numpy(dtype=object) for c in categorical})


def contrasts(numeric: Mapping[str, np.ndarray], categorical: Mapping[str, np.ndarray], labels: np.ndarray,
              alpha: float = ALPHA) -> tuple[list[int], pd.DataFrame, pd.DataFrame]:
    """Every segment against the rest on every column, p-values corrected together: (segments, numeric, category).

    ``labels`` gives each customer's group (any integers; a 0/1 mask compares a selection with everyone else).
    Rows are tagged with their ``segment``; ``significant`` is a Benjamini-Hochberg adjusted p-value below ``alpha``.
    """
    segments, codes = segment_codes(labels)
    numeric_rows: list[dict[str, Any]] = []
    for column, values in numeric.items():
        numeric_rows += _numeric_rows(column, values, codes, segments)
    category_rows: list[dict[str, Any]] = []
    for column, values in categorical.items():
        category_rows += _category_rows(column, values, codes, segments)
    num = pd.DataFrame(numeric_rows, columns=["segment", *[c for c in _NUMERIC_COLUMNS
                                                           if c not in ("p_adjusted", "significant")]])
    cat = pd.DataFrame(category_rows, columns=["segment", *[c for c in _CATEGORY_COLUMNS
                                                            if c not in ("p_adjusted", "significant")]])
    adjusted = benjamini_hochberg(np.concatenate([num["p_value"].to_numpy(float), cat["p_value"].to_numpy(float)]))
    num["p_adjusted"] = adjusted[:len(num)]
    cat["p_adjusted"] = adjusted[len(num):]
    num["significant"] = (num["p_adjusted"] < alpha).fillna(False).astype(bool)
    cat["significant"] = (cat["p_adjusted"] < alpha).fillna(False).astype(bool)
    return segments, num, cat


def rank_numeric(frame: pd.DataFrame) -> pd.DataFrame:
    """A profile's numeric traits: its columns in order, significant ones first, then by |effect|."""
    key = pd.DataFrame({"s": ~frame["significant"].astype(bool), "e": -frame["effect"].abs()})
    order = key.sort_values(["s", "e"], kind="stable").index
    return frame.loc[order, _NUMERIC_COLUMNS].reset_index(drop=True)


def rank_categories(frame: pd.DataFrame) -> pd.DataFrame:
    """A profile's category traits: over-represented values (lift > 1), significant first, then by effect, lift."""
    frame = frame[frame["lift"] > 1.0]
    key = pd.DataFrame({"s": ~frame["significant"].astype(bool), "e": -frame["effect"], "l": -frame["lift"]},
                       index=frame.index)
    order = key.sort_values(["s", "e", "l"], kind="stable").index
    return frame.loc[order, _CATEGORY_COLUMNS].reset_index(drop=True)


def notable_numeric(frame: pd.DataFrame) -> pd.DataFrame:
    """Numeric traits that passed the corrected test (when tested) and reach :data:`MIN_EFFECT`."""
    if frame is None or frame.empty:
        return frame
    significant = frame["significant"] if "significant" in frame else True
    return frame[significant & (frame["effect"].abs() >= MIN_EFFECT)]


def notable_categories(frame: pd.DataFrame) -> pd.DataFrame:
    """Category values that passed the corrected test (when tested), reach :data:`MIN_CATEGORY_EFFECT` and
    :data:`MIN_LIFT`."""
    if frame is None or frame.empty:
        return frame
    significant = frame["significant"] if "significant" in frame else True
    effect = frame["effect"] >= MIN_CATEGORY_EFFECT if "effect" in frame else True
    return frame[significant & effect & (frame["lift"] >= MIN_LIFT)]


# --------------------------------------------------------------------------- tables for the comparison tab and the map
def check_labels(table: pd.DataFrame, labels: np.ndarray) -> None:
    """Refuse labels that are not one per customer of ``table``."""
    if len(labels) != len(table):
        raise DataError(f"There are {len(labels)} segment labels for {len(table)} customers; give one label per "
                        "customer (row i of the labels is row i of the table).")


def selection_profile(table: pd.DataFrame, roles: Mapping[str, str], rows: Sequence[int] | np.ndarray
                      ) -> pd.DataFrame:
    """What sets an arbitrary selection (e.g. a lasso on the map) apart from everyone else.

    ``rows`` are row positions (or a boolean mask). One row per trait, significant and strongest first:
    kind ("numeric" | "category"), column, value (category value, else ""), trait (readable), selection and
    others (mean, or share for a category value), effect (:func:`mean_contrast` for numbers, Cohen's h for
    category values: selecting exactly a segment gives its profile's effects), lift (categories), p_value,
    p_adjusted, significant (Benjamini-Hochberg across this selection's tests).
    """
    columns = ["kind", "column", "value", "trait", "selection", "others", "effect", "lift", "p_value", "p_adjusted",
               "significant"]
    mask = np.zeros(len(table), dtype=bool)
    rows = np.asarray(rows)
    if rows.dtype == bool:
        if rows.size != len(table):
            raise DataError(f"The selection mask has {rows.size} entries for {len(table)} customers.")
        mask = rows.copy()
    elif rows.size:
        if rows.min() < 0 or rows.max() >= len(table):
            raise DataError(f"The selection names rows outside 0..{len(table) - 1}; select customers on the map again.")
        mask[rows.astype(int)] = True
    if not mask.any() or mask.all():
        return pd.DataFrame(columns=columns)
    arrays = column_arrays(table, role_columns(table, roles, "numeric"), role_columns(table, roles, "categorical"))
    _, num, cat = contrasts(*arrays, mask.astype(int))
    num, cat = num[num["segment"] == 1], cat[(cat["segment"] == 1) & (cat["lift"] > 1)]
    if num.empty and cat.empty:
        return pd.DataFrame(columns=columns)
    out = pd.concat([
        pd.DataFrame({"kind": "numeric", "column": num["feature"], "value": "",
                      "trait": num["feature"].map(pretty_column), "selection": num["segment_mean"],
                      "others": num["rest_mean"], "effect": num["effect"], "lift": np.nan, "p_value": num["p_value"],
                      "p_adjusted": num["p_adjusted"], "significant": num["significant"]}),
        pd.DataFrame({"kind": "category", "column": cat["column"], "value": cat["value"].astype(str),
                      "trait": [f"{pretty_column(c)} is {v}" for c, v in zip(cat["column"], cat["value"])],
                      "selection": cat["segment_share"], "others": cat["rest_share"], "effect": cat["effect"],
                      "lift": cat["lift"], "p_value": cat["p_value"], "p_adjusted": cat["p_adjusted"],
                      "significant": cat["significant"]}),
    ], ignore_index=True)
    key = pd.DataFrame({"s": ~out["significant"].astype(bool), "e": -out["effect"].abs()})
    return out.loc[key.sort_values(["s", "e"], kind="stable").index, columns].reset_index(drop=True)


def is_code_like(values: np.ndarray, column: object) -> bool:
    """Whether a numeric column holds codes rather than amounts, so that its average means nothing: whole
    numbers named like an identifier ("Clothing ID", "store_code"), or whole numbers nearly all different
    (95% or more of at least 20) whose name says no amount, count, recency or tenure."""
    finite = values[np.isfinite(values)]
    if not finite.size or not np.all(np.mod(finite, 1) == 0):
        return False
    if set(name_tokens(str(column))) & ID_WORDS:
        return True
    return finite.size >= 20 and np.unique(finite).size >= 0.95 * finite.size and column_kind(str(column)) is None


def heatmap_frame(table: pd.DataFrame, roles: Mapping[str, str], labels: np.ndarray) -> pd.DataFrame:
    """Segment x numeric column: each segment's effect (:func:`mean_contrast`), the number its profile card shows.

    A cell is how far the segment's mean sits from the mean of the other customers, in standard deviations of
    the column over everyone; 0 means "like the others". Rows are segment ids (Unassigned -1 last), columns
    the numeric columns but codes (:func:`is_code_like`: an id's average is no trait); NaN where a segment has
    no value in a column.
    """
    labels = np.asarray(labels).astype(int)
    check_labels(table, labels)
    segments, codes = segment_codes(labels)
    frame = pd.DataFrame(index=pd.Index(segments, name="segment"))
    for column in role_columns(table, roles, "numeric"):
        values = numeric_values(table[column])
        if is_code_like(values, column):
            continue
        finite = np.isfinite(values)
        frame[column] = mean_contrast(values[finite], codes[finite], len(segments))[2]
    return frame


def category_crosstab(table: pd.DataFrame, column: str, labels: np.ndarray, top: int = 12) -> pd.DataFrame:
    """Segment x category value: the share of each segment's customers with each value (rows sum to 1).

    The ``top`` most frequent values get their own column; the rest are pooled as "(other)".
    """
    labels = np.asarray(labels).astype(int)
    check_labels(table, labels)
    if column not in table.columns:
        raise DataError(f"Column {column!r} is not in the data.")
    values = category_values(table[column])
    counts = values.value_counts(sort=False)
    kept = [v for v, _ in sorted(counts.items(), key=lambda kv: (-kv[1], str(kv[0])))[:top]]
    values = values.where(values.isin(kept), "(other)").to_numpy(dtype=object)
    order = kept + (["(other)"] if len(counts) > top else [])
    segments = sorted(set(labels.tolist()), key=lambda s: (s < 0, s))
    frame = pd.crosstab(pd.Series(labels, name="segment"), pd.Series(values, name=column), normalize="index")
    return frame.reindex(index=segments, columns=order, fill_value=0.0)
