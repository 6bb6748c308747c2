"""Per-segment profiles: size, share, what sets each segment apart, and what its customers say.

A profile is meant to let a marketer explain a segment in one sentence and prove
it with numbers. Every trait carries a significance test (Mann-Whitney U for
numbers, a two-proportion z test or Fisher's exact test for category values),
and the p-values of one profile run are corrected together with
Benjamini-Hochberg, so that with many columns and segments noise is not shown
as insight. Only traits that are both significant and large enough to matter
feed the suggested names, descriptions, rules and actions.

Everything is seeded: the same table, labels and ``random_state`` give the same
profiles. Above :data:`SAMPLE_ROWS` customers the decision trees behind the
rules are fitted on a seeded sample (their coverage is still measured on
everyone), and keywords read a seeded sample of each segment's texts; the
statistics use every customer (one sort per column serves every segment).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from segmentation.common import NOISE_NAME, name_tokens, segment_label
from segmentation.errors import DataError
from segmentation.ingest.privacy import mask_text
from segmentation.represent.features import category_values, numeric_values

ACTIONS: tuple[str, ...] = ("Retain and reward", "Win back", "Onboard", "Fix the complaint first", "Upsell",
                            "Nurture")
"""The marketing actions a profile can suggest."""

ALPHA = 0.05
"""False-discovery rate for the Benjamini-Hochberg correction across all tests of a profile run."""

MIN_EFFECT = 0.3
"""Smallest |Cohen's d| for a numeric trait to be named or described (0.2 small, 0.5 medium, 0.8 large)."""

MIN_CATEGORY_EFFECT = 0.2
"""Smallest Cohen's h (difference of two shares on the same scale as d) for a category value to be named."""

MIN_LIFT = 1.2
"""Smallest lift for a category value to be named or described."""

SAMPLE_ROWS = 10_000
"""Above this many customers the rule trees are fitted on a seeded sample of this size (a depth-3 tree needs no
more); their coverage and precision are still measured on every customer."""

MAX_RULE_COLUMNS = 10
"""The rule trees see at most this many numeric columns and this many category values: the strongest traits."""

MAX_CATEGORY_VALUES = 20
"""Values tested per categorical column (the most frequent); rarer values cannot carry a trait."""

MAX_KEYWORD_TEXTS = 8_000
"""Texts read for keywords and complaints; above it each segment keeps a seeded share (at least 500 texts)."""

N_REPRESENTATIVES = 5
N_QUOTES = 5

_MASK_TOKEN = re.compile(r"<[A-Z]+>")
_COMPLAINT = re.compile(
    r"\b(?:refund(?:s|ed)?|broken|late|delayed|delay|damaged|complain(?:t|ts|ed|ing)?|never (?:arrived|came|turned up)"
    r"|worst|disappoint(?:ed|ing)|terrible|awful|rude|faulty|defective|missing|wrong (?:item|size|order)|poor"
    r"|useless|scam|horrible|not working|stopped working|waste of|cancell?ed|unacceptable|ignored)\b",
    re.IGNORECASE,
)
"""Words and phrases that mark a complaint (used on keywords; texts use the faster word sets below)."""
_COMPLAINT_WORDS = frozenset(
    "refund refunds refunded broken late delayed delay damaged complain complaint complaints complained complaining "
    "worst disappointed disappointing terrible awful rude faulty defective missing poor useless scam horrible "
    "cancelled canceled unacceptable ignored".split())
_COMPLAINT_PHRASES = ("never arrived", "never came", "never turned up", "wrong item", "wrong size", "wrong order",
                      "not working", "stopped working", "waste of")
_WORD = re.compile(r"[a-z]+")


def complaint_terms(text: str) -> list[str]:
    """The complaint words and phrases in one text ("arrived damaged, want a refund" -> ["damaged", "refund"])."""
    if not text:
        return []
    lowered = text.lower()
    return [w for w in _WORD.findall(lowered) if w in _COMPLAINT_WORDS] + \
        [p for p in _COMPLAINT_PHRASES if p in lowered]

_VALUE_WORDS = ("monetary", "revenue", "spend", "spent", "spending", "sales", "charges", "paid", "value", "amount",
                "clv", "ltv", "total")
_NOT_VALUE_WORDS = {"orders", "order", "count", "number", "num", "qty", "quantity", "items", "visits", "transactions",
                    "purchases", "frequency", "share", "rate", "ratio", "pct", "percent", "score", "rank", "index",
                    "days", "age", "avg", "average", "mean", "per", "basket"}
_RECENCY_WORDS = {"recency", "inactive", "inactivity", "lapsed", "dormant"}
_LAST_WORDS = {"order", "purchase", "purchased", "visit", "seen", "active", "login", "transaction", "bought", "contact"}
_START_WORDS = {"signup", "signed", "joined", "join", "registration", "registered", "first", "created", "since"}
_FREQUENCY_WORDS = {"orders", "frequency", "purchases", "transactions", "visits", "invoices", "baskets"}
_TENURE_WORDS = {"tenure", "membership", "seniority"}
_SHARE_WORDS = {"share", "rate", "ratio", "pct", "percent", "percentage", "proportion", "probability"}
_YES = {"yes", "y", "true", "1"}
_NO = {"no", "n", "false", "0"}


# --------------------------------------------------------------------------------------------------------------------
# Public records
# --------------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Condition:
    """One test on one column: ``column op value`` (op: <, <=, >, >=, is, is not)."""

    column: str
    op: str
    value: float | str

    def mask(self, table: pd.DataFrame) -> np.ndarray:
        """Which customers of ``table`` pass the test (missing values never pass)."""
        if self.op in ("is", "is not"):
            values = category_values(table[self.column]).to_numpy()
            hit = values == self.value
            return hit if self.op == "is" else ~hit
        return _compare(numeric_values(table[self.column]), self.op, float(self.value))

    def to_dict(self) -> dict[str, Any]:
        return {"column": self.column, "op": self.op, "value": self.value}


@dataclass(frozen=True)
class Rule:
    """A plain-language rule that picks out a segment, with how well it does.

    ``coverage``: share of the segment's customers the rule matches (recall).
    ``precision``: share of the customers it matches who are in the segment.
    ``outsider_share``: share of the customers it matches who are not (1 - precision).
    """

    text: str
    coverage: float
    outsider_share: float
    precision: float
    conditions: tuple[Condition, ...] = ()
    matched: int = 0

    @property
    def summary(self) -> str:
        return (f"{self.text} (covers {_pct(self.coverage)} of the segment; {_pct(self.outsider_share)} of the "
                "customers it matches are outsiders)")

    def __str__(self) -> str:
        return self.summary

    def mask(self, table: pd.DataFrame) -> np.ndarray:
        """Which customers of ``table`` the rule matches."""
        out = np.ones(len(table), dtype=bool)
        for condition in self.conditions:
            out &= condition.mask(table)
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "coverage": self.coverage, "outsider_share": self.outsider_share,
                "precision": self.precision, "matched": self.matched,
                "conditions": [c.to_dict() for c in self.conditions]}


@dataclass(frozen=True, eq=False)
class SegmentProfile:
    """Everything the Profiles page and the report show for one segment (-1 = Unassigned).

    ``numeric``: feature, segment_mean, segment_median, rest_mean, rest_median, overall_mean, effect (Cohen's d
    against everyone else), p_value, p_adjusted, significant; significant traits first, then by |effect|.
    ``categories``: over-represented values only: column, value, segment_share, rest_share, overall_share, lift
    (segment share / overall share), effect (Cohen's h), p_value, p_adjusted, significant; same order.
    ``representatives`` / ``outliers``: row positions of the customers nearest to / farthest from the segment's
    centre (ids in ``representative_ids`` / ``outlier_ids``). ``quotes``: PII-masked texts of customers near
    the centre. ``value_share``: the segment's share of the value column (``value_column``), None without one.
    """

    segment: int
    size: int
    share: float
    numeric: pd.DataFrame = field(repr=False)
    categories: pd.DataFrame = field(repr=False)
    keywords: tuple[str, ...] = ()
    name: str = ""
    value_share: float | None = None
    value_column: str | None = None
    quotes: tuple[str, ...] = ()
    representatives: tuple[int, ...] = ()
    representative_ids: tuple[str, ...] = ()
    outliers: tuple[int, ...] = ()
    outlier_ids: tuple[str, ...] = ()
    rules: tuple[Rule, ...] = ()
    description: str = ""
    action: str = ""
    action_reason: str = ""

    @property
    def is_noise(self) -> bool:
        return self.segment < 0

    @property
    def notable_numeric(self) -> pd.DataFrame:
        """Numeric traits that passed the corrected test and are large enough to matter."""
        return _notable_numeric(self.numeric)

    @property
    def notable_categories(self) -> pd.DataFrame:
        """Over-represented values that passed the corrected test and are large enough to matter."""
        return _notable_categories(self.categories)


# --------------------------------------------------------------------------------------------------------------------
# Numbers for people
# --------------------------------------------------------------------------------------------------------------------
def format_number(value: float, percent: bool = False, digits: int = 3) -> str:
    """A number as a person would write it: 72,000 -> "72k", 1,500,000 -> "1.5M", 0.35 -> "35%" (``percent``).

    ``digits`` is the number of significant digits kept (4 for rule thresholds, which are already round).
    """
    if value is None or not np.isfinite(value):
        return "n/a"
    value = float(value)
    if percent:
        text = f"{value * 100:.1f}".rstrip("0").rstrip(".")
        return ("0" if text in ("", "-0") else text) + "%"
    size = abs(value)
    if size >= 1e9:
        return f"{value / 1e9:.3g}bn"
    if size >= 1e6:
        return f"{value / 1e6:.3g}M"
    if size >= 1e4:
        return f"{value / 1e3:.{max(digits, 2)}g}k"
    if size >= 1000:
        return f"{value:,.0f}"
    if value == round(value):
        return str(int(round(value)))
    return f"{value:.{digits}g}"


def _pct(share: float) -> str:
    if share is None or not np.isfinite(share):
        return "n/a"
    if 0 < share < 0.01:
        return f"{share:.1%}"
    return f"{share:.0%}"


def _pretty(column: Any) -> str:
    return str(column).replace("_", " ").strip()


def _join(parts: Sequence[str]) -> str:
    parts = [p for p in parts if p]
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def _capitalise(text: str) -> str:
    return text[:1].upper() + text[1:]


# --------------------------------------------------------------------------------------------------------------------
# Column kinds from their names
# --------------------------------------------------------------------------------------------------------------------
def column_kind(column: str) -> str | None:
    """What a numeric column means for actions, from its name: "value", "recency", "frequency", "tenure" or None.

    "total_spend", "Monetary", "revenue" -> value; "days_since_last_order", "Recency" -> recency;
    "orders", "NumWebPurchases" -> frequency; "tenure", "days_since_signup" -> tenure.
    """
    tokens = set(name_tokens(column))
    if tokens & _RECENCY_WORDS or ("last" in tokens and tokens & _LAST_WORDS):
        return "recency"
    if "since" in tokens and tokens & (_START_WORDS - {"since"}):
        return "tenure"
    if "days" in tokens and "since" in tokens:
        return "recency"
    if tokens & _TENURE_WORDS:
        return "tenure"
    if any(word in tokens for word in _VALUE_WORDS) and not tokens & _NOT_VALUE_WORDS:
        return "value"
    if tokens & _FREQUENCY_WORDS or tokens == {"orders"}:
        return "frequency"
    return None


def detect_value_column(table: pd.DataFrame, roles: Mapping[str, str]) -> str | None:
    """The column that measures what customers are worth (spend, revenue, monetary, ...), or None.

    Only numeric columns with no negative majority count; names with a money word
    ("spend", "revenue", "monetary", "sales", "charges", ...) win over a bare "total"
    or "value"; count-like names ("total_orders") never qualify.
    """
    best: tuple[int, int, str] | None = None
    for position, (column, role) in enumerate(roles.items()):
        if role != "numeric" or column not in table.columns or column_kind(column) != "value":
            continue
        tokens = name_tokens(column)
        rank = min(_VALUE_WORDS.index(t) for t in tokens if t in _VALUE_WORDS)
        bonus = -20 if ("total" in tokens or "lifetime" in tokens) and rank < _VALUE_WORDS.index("value") else 0
        values = numeric_values(table[column])
        finite = values[np.isfinite(values)]
        if finite.size == 0 or (finite < 0).mean() > 0.5 or finite.sum() <= 0:
            continue
        key = (rank + bonus, position, column)
        if best is None or key < best:
            best = key
    return best[2] if best else None


def _is_share_column(column: str, values: np.ndarray) -> bool:
    finite = values[np.isfinite(values)]
    return bool(set(name_tokens(column)) & _SHARE_WORDS) and finite.size > 0 and finite.min() >= 0 \
        and finite.max() <= 1


# --------------------------------------------------------------------------------------------------------------------
# Statistics
# --------------------------------------------------------------------------------------------------------------------
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


def _two_sided(z: float) -> float:
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
    n_in = np.bincount(c, minlength=groups).astype(float)
    n_out = total - n_in
    center = float(v.mean())
    w = v - center
    s1 = np.bincount(c, weights=w, minlength=groups)
    s2 = np.bincount(c, weights=w * w, minlength=groups)
    t1, t2 = float(w.sum()), float((w * w).sum())
    with np.errstate(divide="ignore", invalid="ignore"):
        mean_in = s1 / n_in + center
        mean_out = (t1 - s1) / n_out + center
        ss_in = np.maximum(s2 - s1 ** 2 / n_in, 0.0)
        ss_out = np.maximum((t2 - s2) - (t1 - s1) ** 2 / n_out, 0.0)
        pooled = np.sqrt((ss_in + ss_out) / max(total - 2, 1))
        effect = np.where(pooled > 1e-12, (mean_in - mean_out) / pooled, 0.0)
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
                p_value = _two_sided(max(abs(u - mu) - 0.5, 0.0) / sigma) if sigma > 0 else 1.0
        rows.append({"segment": segment, "feature": column, "segment_mean": float(mean_in[g]),
                     "segment_median": _sorted_median(inside),
                     "rest_mean": float(mean_out[g]) if n_out[g] > 0 else np.nan,
                     "rest_median": _sorted_median(outside),
                     "overall_mean": center, "effect": float(effect[g]) if n_out[g] > 0 else 0.0,
                     "p_value": p_value})
    return rows


def _sorted_median(values: np.ndarray) -> float:
    n = values.size
    if n == 0:
        return float("nan")
    return float(values[n // 2]) if n % 2 else float((values[n // 2 - 1] + values[n // 2]) / 2)


def _category_rows(column: str, values: np.ndarray, codes: np.ndarray, segments: list[int]) -> list[dict[str, Any]]:
    """Share of each frequent value in each segment against the rest (z test, Fisher's exact for small counts)."""
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
                    p_value = _two_sided((share_in - share_out) / se) if se > 0 else 1.0
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


_NUMERIC_COLUMNS = ["feature", "segment_mean", "segment_median", "rest_mean", "rest_median", "overall_mean", "effect",
                    "p_value", "p_adjusted", "significant"]
_CATEGORY_COLUMNS = ["column", "value", "segment_share", "rest_share", "overall_share", "lift", "effect", "p_value",
                     "p_adjusted", "significant", "segment_count"]


def _segment_codes(labels: np.ndarray) -> tuple[list[int], np.ndarray]:
    """Segments in display order (ids ascending, Unassigned last) and each row's index into that list."""
    uniques, inverse = np.unique(labels, return_inverse=True)
    segments = sorted(uniques.tolist(), key=lambda s: (s < 0, s))
    rank = {s: i for i, s in enumerate(segments)}
    return segments, np.array([rank[s] for s in uniques.tolist()], dtype=np.int64)[inverse.ravel()]


def _arrays(table: pd.DataFrame, numeric: Sequence[str], categorical: Sequence[str]
            ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    return ({c: numeric_values(table[c]) for c in numeric},
            {c: category_values(table[c]).to_numpy(dtype=object) for c in categorical})


def _contrasts(numeric: Mapping[str, np.ndarray], categorical: Mapping[str, np.ndarray], labels: np.ndarray,
               alpha: float = ALPHA) -> tuple[list[int], pd.DataFrame, pd.DataFrame]:
    """All tests of one profile run, p-values corrected together: (segments, numeric rows, category rows)."""
    segments, codes = _segment_codes(labels)
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


def _rank_numeric(frame: pd.DataFrame) -> pd.DataFrame:
    key = pd.DataFrame({"s": ~frame["significant"].astype(bool), "e": -frame["effect"].abs()})
    order = key.sort_values(["s", "e"], kind="stable").index
    return frame.loc[order, _NUMERIC_COLUMNS].reset_index(drop=True)


def _rank_categories(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame[frame["lift"] > 1.0]
    key = pd.DataFrame({"s": ~frame["significant"].astype(bool), "e": -frame["effect"], "l": -frame["lift"]},
                       index=frame.index)
    order = key.sort_values(["s", "e", "l"], kind="stable").index
    return frame.loc[order, _CATEGORY_COLUMNS].reset_index(drop=True)


def numeric_contrast(table: pd.DataFrame, columns: Sequence[str], mask: np.ndarray) -> pd.DataFrame:
    """The customers in ``mask`` against everyone else: means, medians, Cohen's d and a corrected test per column."""
    _, num, _ = _contrasts(_arrays(table, columns, ())[0], {}, np.where(np.asarray(mask, dtype=bool), 1, 0))
    return _rank_numeric(num[num["segment"] == 1])


def category_contrast(table: pd.DataFrame, columns: Sequence[str], mask: np.ndarray, top: int = 3) -> pd.DataFrame:
    """Over-represented values of the customers in ``mask`` (at most ``top`` per column), with lift and a test."""
    _, _, cat = _contrasts({}, _arrays(table, (), columns)[1], np.where(np.asarray(mask, dtype=bool), 1, 0))
    frame = _rank_categories(cat[cat["segment"] == 1])
    return frame.groupby("column", sort=False).head(top).reset_index(drop=True)


def _notable_numeric(frame: pd.DataFrame) -> pd.DataFrame:
    if frame is None or frame.empty:
        return frame
    significant = frame["significant"] if "significant" in frame else True
    return frame[significant & (frame["effect"].abs() >= MIN_EFFECT)]


def _notable_categories(frame: pd.DataFrame) -> pd.DataFrame:
    if frame is None or frame.empty:
        return frame
    significant = frame["significant"] if "significant" in frame else True
    effect = frame["effect"] >= MIN_CATEGORY_EFFECT if "effect" in frame else True
    return frame[significant & effect & (frame["lift"] >= MIN_LIFT)]


# --------------------------------------------------------------------------------------------------------------------
# Keywords, quotes, representatives
# --------------------------------------------------------------------------------------------------------------------
def _clean_text(text: Any) -> str:
    if not isinstance(text, str):
        return ""
    return _MASK_TOKEN.sub(" ", text)


def _keyword_sample(labels: np.ndarray, random_state: int, limit: int = MAX_KEYWORD_TEXTS) -> np.ndarray:
    """Row positions used for keywords: everyone up to ``limit``, else a seeded share of every segment."""
    n = len(labels)
    if n <= limit:
        return np.arange(n)
    rng = np.random.default_rng(random_state)
    chosen = []
    for segment in sorted(set(labels.tolist())):
        rows = np.flatnonzero(labels == segment)
        take = min(rows.size, max(500, int(round(limit * rows.size / n))))
        chosen.append(np.sort(rng.choice(rows, take, replace=False)))
    return np.sort(np.concatenate(chosen))


def segment_keywords(texts: Sequence[str], labels: np.ndarray, top: int = 8, random_state: int = 0
                     ) -> dict[int, tuple[str, ...]]:
    """Distinctive words and two-word phrases per segment with class-based TF-IDF (one document per segment).

    A term must occur in at least two customers' texts and be used clearly more in the segment than in
    the others (1.2 times as often, and in a significantly larger share of its texts after a
    Benjamini-Hochberg correction). Masked identifiers (<EMAIL>, ...) are ignored. Above 8,000 texts each
    segment keeps a seeded sample (``random_state``).
    """
    labels = np.asarray(labels)
    if len(texts) != len(labels):
        raise DataError(f"There are {len(texts)} texts for {len(labels)} customers; give one text per customer.")
    return _keywords(texts, labels, _keyword_sample(labels, random_state), top)


def _keywords(texts: Sequence[str], labels: np.ndarray, rows: np.ndarray, top: int = 8
              ) -> dict[int, tuple[str, ...]]:
    from scipy import sparse
    from sklearn.feature_extraction.text import CountVectorizer

    segments = sorted(set(labels.tolist()))
    docs = [_clean_text(texts[i]) for i in rows]
    if not any(doc.strip() for doc in docs):
        return {s: () for s in segments}
    try:
        vectorizer = CountVectorizer(ngram_range=(1, 2), stop_words="english", min_df=2 if len(docs) > 20 else 1,
                                     max_features=30_000, token_pattern=r"(?u)\b[a-zA-Z][a-zA-Z]+\b")
        counts = vectorizer.fit_transform(docs)
    except ValueError:
        return {s: () for s in segments}
    position = {s: i for i, s in enumerate(segments)}
    codes = np.array([position[s] for s in labels[rows].tolist()])
    indicator = sparse.csr_matrix((np.ones(len(rows)), (codes, np.arange(len(rows)))), shape=(len(segments), len(rows)))
    class_counts = np.asarray((indicator @ counts).todense(), dtype=float)
    terms = np.asarray(vectorizer.get_feature_names_out())
    tf = class_counts / np.maximum(class_counts.sum(1, keepdims=True), 1.0)
    avg_words = class_counts.sum() / max(len(segments), 1)
    idf = np.log(1 + avg_words / np.maximum(class_counts.sum(0), 1.0))
    scores = tf * idf
    if len(segments) > 1:
        scores = np.where(_distinctive(counts, indicator, tf, class_counts), scores, 0.0)
    out: dict[int, tuple[str, ...]] = {}
    for row, segment in enumerate(segments):
        order = np.argsort(-scores[row], kind="stable")
        chosen: list[str] = []
        for j in order:
            if scores[row, j] <= 0 or len(chosen) >= top:
                break
            term = str(terms[j])
            # skip a word already covered by a chosen phrase, and the other way round
            if any(term in c.split() or c in term.split() for c in chosen):
                continue
            chosen.append(term)
        out[segment] = tuple(chosen)
    return out


def _distinctive(counts: Any, indicator: Any, tf: np.ndarray, class_counts: np.ndarray, alpha: float = ALPHA
                 ) -> np.ndarray:
    """Segment x term: is the term used clearly more in the segment than by everyone else?

    It must be 1.2 times as frequent as in the other segments and found in a larger share of the segment's
    texts (one-sided two-proportion z test, Benjamini-Hochberg across every segment and term), so that
    chance co-occurrences of common words are not shown as what a segment talks about.
    """
    from scipy.special import erfc

    rest_counts = class_counts.sum(0, keepdims=True) - class_counts
    rest_tf = rest_counts / np.maximum(rest_counts.sum(1, keepdims=True), 1.0)
    candidate = (tf >= 1.2 * rest_tf) & (class_counts > 0)
    texts_with = np.asarray((indicator @ (counts > 0).astype(float)).todense(), dtype=float)
    n_in = np.asarray(indicator.sum(axis=1), dtype=float)             # texts per segment (column vector)
    n_all = float(n_in.sum())
    n_out = n_all - n_in
    with np.errstate(divide="ignore", invalid="ignore"):
        pooled = texts_with.sum(0, keepdims=True) / n_all
        se = np.sqrt(pooled * (1 - pooled) * (1 / n_in + 1 / n_out))
        z = (texts_with / n_in - (texts_with.sum(0, keepdims=True) - texts_with) / n_out) / se
    p_values = np.where(candidate & np.isfinite(z), 0.5 * erfc(np.nan_to_num(z) / np.sqrt(2.0)), np.nan)
    return (benjamini_hochberg(p_values.ravel()).reshape(p_values.shape) < alpha) & candidate


def _space(table: pd.DataFrame, numeric: Sequence[str], embedding: np.ndarray | None) -> np.ndarray | None:
    """The space in which 'centre' is measured: the cluster space, else standardised numeric columns."""
    if embedding is not None:
        return np.asarray(embedding, dtype=float)
    if not numeric:
        return None
    block = np.column_stack([numeric_values(table[c]) for c in numeric])
    mean = np.nanmean(block, axis=0)
    std = np.nanstd(block, axis=0)
    std = np.where(std > 1e-12, std, 1.0)
    return np.nan_to_num((block - mean) / std)


def _by_distance(space: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``rows`` ordered from nearest to farthest from their own centre (ties by row order)."""
    points = space[rows]
    centre = points.mean(axis=0)
    distance = np.sqrt(((points - centre) ** 2).sum(axis=1))
    return rows[np.argsort(distance, kind="stable")]


def _shorten(text: str, limit: int = 240) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0]
    return cut.rstrip(",;:. ") + "…"


def _quotes(texts: Sequence[str], ordered_rows: Sequence[int], keywords: Sequence[str], count: int = N_QUOTES
            ) -> tuple[str, ...]:
    """Texts of customers near the centre; among the nearest, those that use the segment's keywords first."""
    candidates = []
    seen: set[str] = set()
    for row in ordered_rows:
        text = texts[row]
        if not isinstance(text, str) or len(text.split()) < 3:
            continue
        key = " ".join(text.lower().split())
        if key in seen:
            continue
        seen.add(key)
        candidates.append(text)
        if len(candidates) >= max(30, 6 * count):
            break
    lowered = [c.lower() for c in candidates]
    hits = [sum(1 for k in keywords if re.search(rf"\b{re.escape(k)}\b", low)) for low in lowered]
    # nearest first, but a quote that uses the segment's own words explains it better
    order = sorted(range(len(candidates)), key=lambda i: (hits[i] == 0, i))
    return tuple(_shorten(mask_text(candidates[i])) for i in order[:count])


# --------------------------------------------------------------------------------------------------------------------
# Rules
# --------------------------------------------------------------------------------------------------------------------
def _compare(values: np.ndarray, op: str, threshold: float) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        if op == "<":
            return values < threshold
        if op == "<=":
            return values <= threshold
        if op == ">":
            return values > threshold
        if op == ">=":
            return values >= threshold
    raise ValueError(f"unknown comparison {op!r}")


def _round_significant(value: float, digits: int) -> float:
    if value == 0 or not np.isfinite(value):
        return 0.0
    exponent = math.floor(math.log10(abs(value)))
    return round(value, digits - 1 - exponent)


@dataclass
class _RuleData:
    """Columns for the rule trees, computed once per profile run."""

    numeric: dict[str, np.ndarray]
    sorted_numeric: dict[str, np.ndarray]
    share_columns: set[str]
    categories: dict[str, np.ndarray]
    sample: np.ndarray
    labels: np.ndarray


def _snap(data: _RuleData, column: str, op: str, threshold: float) -> tuple[str, float]:
    """A round threshold that changes the split for (almost) nobody: 71,950.5 -> 72,000, 29.5 -> 30 (ints)."""
    values = data.sorted_numeric[column]
    tolerance = 0.002 * max(values.size, 1)
    for digits in (1, 2, 3, 4):
        nice = _round_significant(threshold, digits)
        low, high = sorted((threshold, nice))
        between = np.searchsorted(values, high, side="left") - np.searchsorted(values, low, side="right")
        if between <= tolerance:
            break
    else:
        nice = _round_significant(threshold, 4)
    if nice > threshold:   # nothing (or almost nothing) lies in (threshold, nice): x <= t means x < nice
        return ("<" if op == "<=" else ">="), nice
    return op, nice


def _condition_text(condition: Condition, data: _RuleData) -> str:
    column = _pretty(condition.column)
    if condition.op in ("is", "is not"):
        return f"{column} {condition.op} {condition.value}"
    number = format_number(float(condition.value), percent=condition.column in data.share_columns, digits=4)
    return {"<": f"{column} under {number}", "<=": f"{column} {number} or less",
            ">": f"{column} above {number}", ">=": f"{column} {number} or more"}[condition.op]


def _simplify_conditions(conditions: list[Condition]) -> list[Condition]:
    """One lower and one upper bound per column; 'is X' makes 'is not Y' on the same column redundant."""
    out: list[Condition] = []
    for condition in conditions:
        if condition.op in ("is", "is not"):
            if condition.op == "is not" and any(c.column == condition.column and c.op == "is" for c in conditions):
                continue
            if condition not in out:
                out.append(condition)
            continue
        lower = condition.op in (">", ">=")
        same = [c for c in out if c.column == condition.column and (c.op in (">", ">=")) == lower]
        if not same:
            out.append(condition)
            continue
        previous = same[0]
        tighter = (float(condition.value) > float(previous.value)) if lower else \
            (float(condition.value) < float(previous.value))
        if tighter:
            out[out.index(previous)] = condition
    return out


def _rule_text(conditions: Sequence[Condition], data: _RuleData) -> str:
    parts: list[str] = []
    done: set[int] = set()
    for i, condition in enumerate(conditions):
        if i in done:
            continue
        if condition.op == "is not":
            others = [j for j, c in enumerate(conditions) if c.column == condition.column and c.op == "is not"]
            done.update(others)
            values = [str(conditions[j].value) for j in others]
            parts.append(f"{_pretty(condition.column)} is not {values[0]}" if len(values) == 1 else
                         f"{_pretty(condition.column)} is neither {', '.join(values[:-1])} nor {values[-1]}")
            continue
        if condition.op in ("is",):
            parts.append(_condition_text(condition, data))
            continue
        partner = [j for j, c in enumerate(conditions) if j != i and c.column == condition.column
                   and c.op not in ("is", "is not")]
        if partner:
            j = partner[0]
            done.add(j)
            low, high = sorted((condition, conditions[j]), key=lambda c: c.op in ("<", "<="))
            share = condition.column in data.share_columns
            bounds = [format_number(float(c.value), share, 4) for c in (low, high)]
            parts.append(f"{_pretty(condition.column)} between {bounds[0]} and {bounds[1]}")
            continue
        parts.append(_condition_text(condition, data))
    return " and ".join(parts)


def _conditions_mask(conditions: Sequence[Condition], data: _RuleData) -> np.ndarray:
    out = np.ones(len(data.labels), dtype=bool)
    for c in conditions:
        if c.op in ("is", "is not"):
            hit = data.categories[c.column] == c.value
            out &= hit if c.op == "is" else ~hit
        else:
            out &= _compare(data.numeric[c.column], c.op, float(c.value))
    return out


def _score(conditions: Sequence[Condition], data: _RuleData, inside: np.ndarray) -> tuple[float, float, int]:
    """(coverage, precision, matched) of a conjunction on every customer."""
    mask = _conditions_mask(conditions, data)
    matched = int(mask.sum())
    hits = int((mask & inside).sum())
    coverage = hits / max(int(inside.sum()), 1)
    precision = hits / matched if matched else 0.0
    return coverage, precision, matched


def _f1(coverage: float, precision: float) -> float:
    return 2 * coverage * precision / (coverage + precision) if coverage + precision > 0 else 0.0


def _segment_rules(segment: int, data: _RuleData, numeric: pd.DataFrame, categories: pd.DataFrame,
                   random_state: int, max_depth: int = 3, max_rules: int = 3) -> tuple[Rule, ...]:
    """Shallow one-against-the-rest tree on the segment's significant traits, read back as rules."""
    from sklearn.tree import DecisionTreeClassifier

    # the strongest significant traits only: rules must rest on real differences, and fewer columns fit faster
    numeric = numeric[numeric["significant"] & numeric["feature"].isin(list(data.numeric))]
    numeric = numeric.loc[numeric["effect"].abs().sort_values(ascending=False, kind="stable").index[:MAX_RULE_COLUMNS]]
    categories = categories[categories["significant"] & categories["column"].isin(list(data.categories))]
    categories = categories.loc[categories["effect"].abs().sort_values(ascending=False, kind="stable")
                                .index[:MAX_RULE_COLUMNS]]
    columns = numeric["feature"].tolist()
    values = list(zip(categories["column"], categories["value"]))
    if not columns and not values:
        return ()
    sample = data.sample
    blocks, names = [], []
    for column in columns:
        x = data.numeric[column][sample]
        fill = np.nanmedian(x) if np.isfinite(x).any() else 0.0
        blocks.append(np.where(np.isfinite(x), x, fill))
        names.append(("numeric", column, None))
    for column, value in values:
        blocks.append((data.categories[column][sample] == value).astype(float))
        names.append(("category", column, value))
    X = np.column_stack(blocks)
    y = data.labels[sample] == segment
    if y.all() or not y.any():
        return ()
    tree = DecisionTreeClassifier(max_depth=max_depth, class_weight="balanced", random_state=random_state,
                                  min_samples_leaf=max(5, int(0.02 * y.sum())))
    tree.fit(X, y)
    t = tree.tree_
    inside = data.labels == segment
    candidates: dict[str, Rule] = {}

    def walk(node: int, path: list[Condition]) -> None:
        if t.children_left[node] == -1:
            weights = t.value[node][0]
            classes = list(tree.classes_)
            if True not in classes or weights[classes.index(True)] <= weights.sum() / 2:
                return
            add_rule(path)
            return
        kind, column, value = names[t.feature[node]]
        threshold = float(t.threshold[node])
        if kind == "category":
            walk(t.children_left[node], path + [Condition(column, "is not", value)])
            walk(t.children_right[node], path + [Condition(column, "is", value)])
        else:
            for op, child in (("<=", t.children_left[node]), (">", t.children_right[node])):
                snapped_op, snapped = _snap(data, column, op, threshold)
                walk(child, path + [Condition(column, snapped_op, float(snapped))])

    def add_rule(path: list[Condition]) -> None:
        conditions = _simplify_conditions(path)
        coverage, precision, matched = _score(conditions, data, inside)
        # drop a condition whenever that costs (almost) no precision: shorter rules read better
        improved = True
        while improved and len(conditions) > 1:
            improved = False
            best: tuple[float, list[Condition], tuple[float, float, int]] | None = None
            for i in range(len(conditions)):
                fewer = conditions[:i] + conditions[i + 1:]
                score = _score(fewer, data, inside)
                if score[1] >= precision - 0.02 and (best is None or _f1(*score[:2]) > best[0]):
                    best = (_f1(*score[:2]), fewer, score)
            if best is not None:
                conditions, (coverage, precision, matched) = best[1], best[2]
                improved = True
        if not conditions or matched == 0:
            return
        text = _rule_text(conditions, data)
        if text not in candidates:
            candidates[text] = Rule(text=text, coverage=float(coverage), outsider_share=float(1 - precision),
                                    precision=float(precision), conditions=tuple(conditions), matched=matched)

    walk(0, [])
    # the best balance of coverage and precision, with a small price per condition: shorter rules read better
    ranked = sorted(candidates.values(), key=lambda r: (-(_f1(r.coverage, r.precision) - 0.02 * len(r.conditions)),
                                                        r.text))
    chosen: list[Rule] = []
    for rule in ranked:
        columns = {c.column for c in rule.conditions}
        if chosen and (rule.coverage < 0.1 or rule.precision < 0.5
                       or any(columns <= (other_columns := {c.column for c in other.conditions})
                              or other_columns <= columns for other in chosen)):
            continue   # a weak rule, or a variant of a better one on the same columns
        chosen.append(rule)
    return tuple(chosen[:max_rules])


# --------------------------------------------------------------------------------------------------------------------
# Names, descriptions, actions
# --------------------------------------------------------------------------------------------------------------------
def _category_phrase(column: str, value: str) -> str:
    low = str(value).strip().lower()
    if low in _YES or low in _NO:
        return f"{_pretty(column)}: {value}"
    return f"{value} {_pretty(column)}"


def _trait_parts(profile: SegmentProfile) -> list[tuple[float, str]]:
    """(strength, short phrase) for the notable traits, strongest first; d and h share one scale."""
    parts: list[tuple[float, str]] = []
    numeric = _notable_numeric(profile.numeric)
    if numeric is not None:
        for row in numeric.itertuples():
            kind = column_kind(str(row.feature))
            if kind == "recency":
                phrase = "lapsed" if row.effect > 0 else "recently active"
            elif kind == "frequency":
                phrase = f"{'many' if row.effect > 0 else 'few'} {_pretty(row.feature)}"
            else:
                phrase = f"{'high' if row.effect > 0 else 'low'} {_pretty(row.feature)}"
            parts.append((abs(float(row.effect)), phrase))
    categories = _notable_categories(profile.categories)
    if categories is not None:
        seen: set[str] = set()
        for row in categories.itertuples():
            if row.column in seen:
                continue
            seen.add(row.column)
            strength = float(row.effect) if "effect" in categories else float(row.lift) - 1
            parts.append((strength, _category_phrase(str(row.column), str(row.value))))
    return sorted(parts, key=lambda p: -p[0])


def suggest_name(profile: SegmentProfile, parts: int = 2) -> str:
    """A short provisional name from the strongest significant traits and themes; the analyst is expected to edit it.

    ``parts`` is how many traits the name joins ("Lapsed, low total spend").
    """
    if profile.is_noise:
        return NOISE_NAME
    prefix = "Unhappy" if profile.action == "Fix the complaint first" else ""
    phrases = [p for _, p in _trait_parts(profile)[:max(parts - bool(prefix), 1)]]
    if prefix and phrases:
        return _capitalise(f"{prefix}, {', '.join(phrases)}")
    if prefix:
        talk = f" about {profile.keywords[0]}" if profile.keywords else ""
        return f"Unhappy{talk}"
    if phrases:
        return _capitalise(", ".join(phrases))
    if profile.keywords:
        return f"Talks about {profile.keywords[0]}"
    return segment_label(profile.segment)


def _numeric_phrase(row: Any, share_column: bool) -> str:
    def fmt(v: float) -> str:
        return format_number(v, percent=share_column)

    use_median = np.isfinite(row.rest_median) and row.segment_median != row.rest_median
    inside, outside = (row.segment_median, row.rest_median) if use_median else (row.segment_mean, row.rest_mean)
    stat = "median" if use_median else "average"
    column = _pretty(row.feature)
    if column_kind(str(row.feature)) == "recency":
        head = "a longer time since their last activity" if row.effect > 0 else "more recent activity"
        return f"{head} ({stat} {fmt(inside)} vs {fmt(outside)} {column})"
    if column_kind(str(row.feature)) == "frequency":
        return f"{'more' if row.effect > 0 else 'fewer'} {column} ({stat} {fmt(inside)} vs {fmt(outside)})"
    return f"{'higher' if row.effect > 0 else 'lower'} {column} ({stat} {fmt(inside)} vs {fmt(outside)})"


def _describe(profile: SegmentProfile, share_columns: set[str], complaint: _Complaint | None) -> str:
    """Two sentences: who they are (size, value, strongest traits), then what they say or what else marks them."""
    if profile.is_noise:
        return (f"{profile.size:,} customers ({_pct(profile.share)}) fit no segment closely. They stay in every "
                f"export as “{NOISE_NAME}”; review them or assign them to the nearest segment.")
    phrases: list[tuple[float, str]] = []
    numeric = _notable_numeric(profile.numeric)
    for row in numeric.itertuples():
        phrases.append((abs(float(row.effect)), _numeric_phrase(row, row.feature in share_columns)))
    categories = _notable_categories(profile.categories)
    seen: set[str] = set()
    for row in categories.itertuples():
        if row.column in seen:
            continue
        seen.add(row.column)
        phrases.append((float(row.effect), f"{_pretty(row.column)}: {row.value} for {_pct(row.segment_share)} "
                                           f"(vs {_pct(row.rest_share)})"))
    phrases = [p for _, p in sorted(phrases, key=lambda p: -p[0])]
    who = f"{profile.size:,} customers ({_pct(profile.share)} of all"
    if profile.value_share is not None and profile.value_column:
        who += f", {_pct(profile.value_share)} of {_pretty(profile.value_column)}"
    who += ")"
    first = f"{who} with {_join(phrases[:3])}." if phrases else \
        f"{who} who differ little from the other customers on the columns profiled."
    if complaint is not None and complaint.flagged:
        terms = f" ({', '.join(complaint.terms[:3])})" if complaint.terms else ""
        second = (f"{_pct(complaint.share)} of them describe a problem{terms}, against "
                  f"{_pct(complaint.rest_share)} of the others.")
    elif profile.keywords:
        second = "They talk about " + _join([f"“{k}”" for k in profile.keywords[:4]]) + "."
    elif len(phrases) > 3:
        second = f"They also show {_join(phrases[3:5])}."
    else:
        second = "Nothing else sets them clearly apart."
    return f"{_capitalise(first)} {second}"


@dataclass(frozen=True)
class _Complaint:
    share: float
    rest_share: float
    terms: tuple[str, ...]
    flagged: bool


def _complaints(texts: Sequence[str] | None, labels: np.ndarray, rows: np.ndarray,
                keywords: Mapping[int, tuple[str, ...]]) -> dict[int, _Complaint]:
    """Share of each segment's texts (read at ``rows``) that describe a problem, against the rest, and the words."""
    if texts is None:
        return {}
    labels = labels[rows]
    found = [complaint_terms(texts[i]) for i in rows]
    has = np.array([bool(f) for f in found], dtype=bool)
    has_text = np.array([bool(texts[i].strip()) for i in rows], dtype=bool)
    out: dict[int, _Complaint] = {}
    for segment in sorted(set(labels.tolist())):
        inside = labels == segment
        n_in, n_out = int((inside & has_text).sum()), int((~inside & has_text).sum())
        if n_in == 0:
            out[segment] = _Complaint(0.0, 0.0, (), False)
            continue
        share = float((has & inside).sum() / n_in)
        rest = float((has & ~inside).sum() / n_out) if n_out else 0.0
        words = pd.Series([w.lower() for i in np.flatnonzero(inside & has) for w in found[i]], dtype=object)
        terms = tuple(words.value_counts(sort=False).sort_values(ascending=False, kind="stable").index[:5]) \
            if len(words) else ()
        pooled = (has & has_text).sum() / max(n_in + n_out, 1)
        se = math.sqrt(pooled * (1 - pooled) * (1 / n_in + 1 / max(n_out, 1))) if 0 < pooled < 1 else 0.0
        p_value = _two_sided((share - rest) / se) if se > 0 else 1.0
        keyword_hits = sum(1 for k in keywords.get(segment, ())[:8] if _COMPLAINT.search(k))
        # more complaints than elsewhere, clearly, and either common in the segment or among its keywords
        flagged = p_value < 0.01 and share >= 1.5 * rest and (share >= 0.25 or keyword_hits >= 2)
        out[segment] = _Complaint(share, rest, terms, bool(flagged))
    return out


def _traits_by_kind(profile: SegmentProfile) -> dict[str, Any]:
    """The strongest notable numeric trait of each kind (value, recency, frequency, tenure)."""
    out: dict[str, Any] = {}
    for row in _notable_numeric(profile.numeric).itertuples():
        kind = "value" if row.feature == profile.value_column else column_kind(str(row.feature))
        if kind == "value" and row.feature != profile.value_column:
            continue   # another money column: the value signal is the chosen value column
        if kind is not None and kind not in out:
            out[kind] = row
    return out


def _suggest_action(profile: SegmentProfile, complaint: _Complaint | None, share_columns: set[str]
                    ) -> tuple[str, str]:
    """One of :data:`ACTIONS` with a one-line reason, from complaints, recency, value and engagement."""
    if profile.is_noise:
        return "", ""
    traits = _traits_by_kind(profile)
    recency, value = traits.get("recency"), traits.get("value")
    frequency, tenure = traits.get("frequency"), traits.get("tenure")
    value_index = profile.value_share / profile.share if profile.value_share is not None and profile.share else None

    def said(row: Any) -> str:
        return _numeric_phrase(row, row.feature in share_columns)

    if complaint is not None and complaint.flagged:
        terms = f" ({', '.join(complaint.terms[:3])})" if complaint.terms else ""
        return ("Fix the complaint first",
                f"{_pct(complaint.share)} of their comments describe a problem{terms} against "
                f"{_pct(complaint.rest_share)} of other customers; solve it before selling to them.")
    if recency is not None and recency.effect >= 0.5:
        worth = f"; they hold {_pct(profile.value_share)} of {_pretty(profile.value_column)}" \
            if profile.value_share is not None and profile.value_column else ""
        return "Win back", f"Gone quiet: {said(recency)}{worth}."
    high_value = (value_index is not None and value_index >= 1.5) or (value is not None and value.effect >= 0.5)
    if high_value:
        why = (f"{_pct(profile.value_share)} of {_pretty(profile.value_column)} from {_pct(profile.share)} of "
               "customers") if value_index is not None else said(value)
        active = f", and {said(recency)}" if recency is not None and recency.effect < 0 else ""
        return "Retain and reward", f"Most valuable customers: {why}{active}."
    newcomer = (frequency is not None and frequency.effect <= -0.5) or (tenure is not None and tenure.effect <= -0.5)
    if newcomer:
        row = tenure if tenure is not None and tenure.effect <= -0.5 else frequency
        return "Onboard", f"Early in their relationship: {said(row)}; help them to a second and third order."
    engaged = (recency is not None and recency.effect <= -0.2) or (frequency is not None and frequency.effect >= 0.3)
    if engaged and (value_index is None or value_index < 1.2):
        row = frequency if frequency is not None and frequency.effect >= 0.3 else recency
        worth = f" but only {_pct(profile.value_share)} of {_pretty(profile.value_column)}" \
            if profile.value_share is not None and profile.value_column else ""
        return "Upsell", f"Active customers with {said(row)}{worth}: room to grow the basket."
    return "Nurture", "No strong value, recency or complaint signal: keep them warm with regular, relevant contact."


# --------------------------------------------------------------------------------------------------------------------
# The profile run
# --------------------------------------------------------------------------------------------------------------------
def _columns(table: pd.DataFrame, roles: Mapping[str, str], role: str) -> list[str]:
    return [c for c, r in roles.items() if r == role and c in table.columns]


def _row_ids(table: pd.DataFrame, roles: Mapping[str, str]) -> np.ndarray:
    id_columns = _columns(table, roles, "id")
    if id_columns:
        return table[id_columns[0]].astype("string").fillna("").to_numpy(dtype=object).astype(str)
    return np.array([f"row {i + 1}" for i in range(len(table))], dtype=object).astype(str)


def _check_lengths(table: pd.DataFrame, labels: np.ndarray, texts: Sequence[str] | None,
                   embedding: np.ndarray | None) -> None:
    if len(labels) != len(table):
        raise DataError(f"There are {len(labels)} segment labels for {len(table)} customers; give one label per "
                        "customer (row i of the labels is row i of the table).")
    if texts is not None and len(texts) != len(table):
        raise DataError(f"There are {len(texts)} texts for {len(table)} customers; give one text per customer "
                        "(an empty string where a customer wrote nothing).")
    if embedding is not None and (np.ndim(embedding) != 2 or len(embedding) != len(table)):
        raise DataError(f"The embedding has shape {np.shape(embedding)} but there are {len(table)} customers; give "
                        "one row per customer (the cluster space of the same run).")


def profile_segments(table: pd.DataFrame, roles: Mapping[str, str], labels: np.ndarray,
                     texts: Sequence[str] | None = None, embedding: np.ndarray | None = None,
                     value_column: str | None = None, random_state: int = 0) -> tuple[SegmentProfile, ...]:
    """One profile per segment, in id order, Unassigned (-1) last.

    ``table`` holds the customers with values as loaded; ``roles`` says which columns are numeric and
    categorical (traits, rules) and which is the id (representatives). ``texts`` (one per customer, "" for
    none) add keywords, quotes and complaint detection. ``embedding`` (the cluster space, one row per
    customer) decides who is nearest the centre; without it standardised numeric columns are used.
    ``value_column`` names the column whose share each segment holds (default: detected from names such as
    spend, revenue, monetary). ``random_state`` seeds every sample and tree: same inputs, same profiles.
    """
    labels = np.asarray(labels).astype(int)
    _check_lengths(table, labels, texts, embedding)
    if len(labels) == 0:
        return ()
    numeric = _columns(table, roles, "numeric")
    categorical = _columns(table, roles, "categorical")
    if value_column is not None:
        if value_column not in table.columns:
            raise DataError(f"The value column {value_column!r} is not in the data. Choose one of: "
                            f"{', '.join(map(repr, numeric[:20])) or 'no numeric column'}.")
    else:
        value_column = detect_value_column(table, roles)
    texts = None if texts is None else [t if isinstance(t, str) else "" for t in texts]
    numeric_arrays, category_arrays = _arrays(table, numeric, categorical)
    segments, num, cat = _contrasts(numeric_arrays, category_arrays, labels)
    text_rows = _keyword_sample(labels, random_state)
    keywords = _keywords(texts, labels, text_rows) if texts is not None else {}
    complaints = _complaints(texts, labels, text_rows, keywords)
    n = len(labels)
    rng = np.random.default_rng(random_state)
    sample = np.sort(rng.choice(n, SAMPLE_ROWS, replace=False)) if n > SAMPLE_ROWS else np.arange(n)
    share_columns = {c for c, v in numeric_arrays.items() if _is_share_column(c, v)}
    data = _RuleData(numeric=numeric_arrays, sorted_numeric={c: np.sort(v[np.isfinite(v)])
                                                             for c, v in numeric_arrays.items()},
                     share_columns=share_columns, categories=category_arrays, sample=sample, labels=labels)
    value = None
    if value_column is not None:
        value = np.nan_to_num(numeric_values(table[value_column]), nan=0.0)
        value = value if value.sum() > 0 else None
    space = _space(table, numeric, embedding)
    ids = _row_ids(table, roles)
    num_by = dict(tuple(num.groupby("segment", sort=False)))
    cat_by = dict(tuple(cat.groupby("segment", sort=False)))
    profiles = []
    for segment in segments:
        mask = labels == segment
        rows = np.flatnonzero(mask)
        seg_num = num_by.get(segment, num.iloc[:0])
        seg_cat = cat_by.get(segment, cat.iloc[:0])
        ordered = _by_distance(space, rows) if space is not None and segment >= 0 else rows
        representatives = tuple(int(r) for r in ordered[:N_REPRESENTATIVES]) if segment >= 0 else ()
        far = [int(r) for r in ordered[::-1] if int(r) not in representatives][:N_REPRESENTATIVES] \
            if segment >= 0 and space is not None else []
        profile = SegmentProfile(
            segment=int(segment), size=int(mask.sum()), share=float(mask.sum() / n),
            numeric=_rank_numeric(seg_num), categories=_rank_categories(seg_cat),
            keywords=keywords.get(segment, ()),
            value_share=float(value[mask].sum() / value.sum()) if value is not None else None,
            value_column=value_column if value is not None else None,
            quotes=_quotes(texts, ordered, keywords.get(segment, ())) if texts is not None else (),
            representatives=representatives, representative_ids=tuple(str(ids[r]) for r in representatives),
            outliers=tuple(far), outlier_ids=tuple(str(ids[r]) for r in far),
            rules=_segment_rules(segment, data, seg_num, seg_cat, random_state) if segment >= 0 else (),
        )
        action, reason = _suggest_action(profile, complaints.get(segment), share_columns)
        profile = replace(profile, action=action, action_reason=reason)
        profile = replace(profile, name=suggest_name(profile),
                          description=_describe(profile, share_columns, complaints.get(segment)))
        profiles.append(profile)
    return tuple(_distinct_names(profiles))


def _distinct_names(profiles: list[SegmentProfile]) -> list[SegmentProfile]:
    """Two segments never get the same suggested name: add a trait, else the segment's number."""
    counts = pd.Series([p.name for p in profiles]).value_counts()
    out = []
    for p in profiles:
        if not p.is_noise and counts.get(p.name, 0) > 1:
            longer = suggest_name(p, parts=3)
            name = longer if longer != p.name and longer not in counts else f"{p.name} ({segment_label(p.segment)})"
            p = replace(p, name=name)
        out.append(p)
    return out


# --------------------------------------------------------------------------------------------------------------------
# Tables for the page, the report and the export
# --------------------------------------------------------------------------------------------------------------------
def profiles_table(profiles: Sequence[SegmentProfile], names: Mapping[int, str] | None = None) -> pd.DataFrame:
    """One row per segment for export: id, name, size, shares, top traits, keywords, description, action, rule."""
    rows = []
    for p in profiles:
        numeric = _notable_numeric(p.numeric) if "significant" in p.numeric else p.numeric
        categories = _notable_categories(p.categories) if "significant" in p.categories else p.categories
        traits = [f"{r.feature} {'+' if r.effect > 0 else '-'}{abs(r.effect):.1f} sd" for r in
                  numeric.head(3).itertuples()]
        cats = [f"{r.column} = {r.value} (x{r.lift:.1f})" for r in categories.head(3).itertuples()]
        rule = p.rules[0] if p.rules else None
        rows.append({
            "segment_id": p.segment,
            "segment_name": (names or {}).get(p.segment) or (p.name if not p.is_noise else NOISE_NAME),
            "customers": p.size,
            "share": round(p.share, 4),
            "value_share": None if p.value_share is None else round(p.value_share, 4),
            "top_traits": "; ".join(traits),
            "top_categories": "; ".join(cats),
            "keywords": ", ".join(p.keywords),
            "description": p.description,
            "action": p.action,
            "action_reason": p.action_reason,
            "rule": rule.text if rule else "",
            "rule_coverage": None if rule is None else round(rule.coverage, 4),
            "rule_precision": None if rule is None else round(rule.precision, 4),
        })
    return pd.DataFrame(rows)


def selection_profile(table: pd.DataFrame, roles: Mapping[str, str], rows: Sequence[int] | np.ndarray
                      ) -> pd.DataFrame:
    """What sets an arbitrary selection (e.g. a lasso on the map) apart from everyone else.

    ``rows`` are row positions (or a boolean mask). One row per trait, significant and strongest first:
    kind ("numeric" | "category"), column, value (category value, else ""), trait (readable), selection and
    others (mean, or share for a category value), effect (Cohen's d / h), lift (categories), p_value,
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
    _, num, cat = _contrasts(*_arrays(table, _columns(table, roles, "numeric"), _columns(table, roles, "categorical")),
                             mask.astype(int))
    num, cat = num[num["segment"] == 1], cat[(cat["segment"] == 1) & (cat["lift"] > 1)]
    out = pd.concat([
        pd.DataFrame({"kind": "numeric", "column": num["feature"], "value": "", "trait": num["feature"].map(_pretty),
                      "selection": num["segment_mean"], "others": num["rest_mean"], "effect": num["effect"],
                      "lift": np.nan, "p_value": num["p_value"], "p_adjusted": num["p_adjusted"],
                      "significant": num["significant"]}),
        pd.DataFrame({"kind": "category", "column": cat["column"], "value": cat["value"].astype(str),
                      "trait": [f"{_pretty(c)} is {v}" for c, v in zip(cat["column"], cat["value"])],
                      "selection": cat["segment_share"], "others": cat["rest_share"], "effect": cat["effect"],
                      "lift": cat["lift"], "p_value": cat["p_value"], "p_adjusted": cat["p_adjusted"],
                      "significant": cat["significant"]}),
    ], ignore_index=True) if len(num) or len(cat) else pd.DataFrame(columns=columns)
    if out.empty:
        return pd.DataFrame(columns=columns)
    key = pd.DataFrame({"s": ~out["significant"].astype(bool), "e": -out["effect"].abs()})
    return out.loc[key.sort_values(["s", "e"], kind="stable").index, columns].reset_index(drop=True)


def heatmap_frame(table: pd.DataFrame, roles: Mapping[str, str], labels: np.ndarray) -> pd.DataFrame:
    """Segment x numeric column: how far each segment's mean sits from the overall mean, in standard deviations.

    Rows are segment ids (Unassigned -1 last), columns the numeric columns; 0 means "like everyone".
    """
    labels = np.asarray(labels).astype(int)
    _check_lengths(table, labels, None, None)
    numeric = _columns(table, roles, "numeric")
    segments = sorted(set(labels.tolist()), key=lambda s: (s < 0, s))
    frame = pd.DataFrame(index=pd.Index(segments, name="segment"))
    for column in numeric:
        values = numeric_values(table[column])
        finite = np.isfinite(values)
        std = float(np.std(values[finite])) if finite.any() else 0.0
        mean = float(np.mean(values[finite])) if finite.any() else 0.0
        means = pd.Series(values[finite]).groupby(labels[finite]).mean()
        frame[column] = [(float(means.get(s, np.nan)) - mean) / std if std > 1e-12 else 0.0 for s in segments]
    return frame


def category_crosstab(table: pd.DataFrame, column: str, labels: np.ndarray, top: int = 12) -> pd.DataFrame:
    """Segment x category value: the share of each segment's customers with each value (rows sum to 1).

    The ``top`` most frequent values get their own column; the rest are pooled as "(other)".
    """
    labels = np.asarray(labels).astype(int)
    _check_lengths(table, labels, None, None)
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
