"""Known outcomes per segment: rates with confidence intervals and lift, and a per-customer propensity.

An outcome is a column the analyst marks with the role "outcome" (churned yes/no, subscribed, returned, a
rating). It is never a feature: the segments are found without it and then read against it. A yes/no outcome
gets, per segment, the share of "yes" with a Wilson interval; a numeric one (a rating) its mean with a
t-interval; both the lift against everyone (segment rate / overall rate). :func:`fit_propensity` adds what the
segments alone cannot say: each customer's own chance (or expected value) from a scikit-learn gradient-boosting
model fitted on three quarters of the customers and judged on the quarter it never saw (AUC for yes/no, R² for
numbers), with the columns that drive it (permutation importance on that held-out quarter). Seeded throughout.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from segmentation.errors import DataError
from segmentation.represent.features import numeric_values

CONFIDENCE = 0.95
"""The level of every interval."""

_POSITIVE = frozenset({"yes", "y", "true", "1", "1.0", "churn", "churned", "subscribed", "returned", "positive",
                       "won", "converted", "left"})
RATE_COLUMNS = ("segment", "customers", "rate", "low", "high", "overall", "lift")


@dataclass(frozen=True)
class Outcome:
    """How an outcome column is read: ``kind`` "binary" (``positive`` is the value counted) or "numeric"."""

    column: str
    kind: str
    positive: str | None = None

    def describe(self) -> str:
        if self.kind == "binary":
            return f"share of {self.column} = {self.positive}"
        return f"average {self.column}"


@dataclass(frozen=True, eq=False)
class Propensity:
    """A held-out-validated model of one outcome and what it says about each customer.

    ``scores``: per customer (table order), the chance of the positive value (binary) or the expected value
    (numeric). ``metric`` is the held-out AUC (binary) or R² (numeric), named by ``metric_name``; ``importance``
    has column, importance (the drop of that metric when the column is shuffled), std, most important first.
    """

    outcome: Outcome
    scores: np.ndarray = field(repr=False)
    metric_name: str
    metric: float
    n_train: int
    n_test: int
    importance: pd.DataFrame = field(repr=False)

    def summary(self) -> str:
        top = ", ".join(self.importance["column"].head(3))
        return (f"A model of {self.outcome.describe()} scores {self.metric_name} {self.metric:.2f} on "
                f"{self.n_test:,} customers it never saw; it leans most on {top or 'no column'}.")


def read_outcome(values: pd.Series, column: str) -> Outcome:
    """Binary when the column has two values (the yes-like one, else the rarer one, is counted), else numeric.

    Raises :class:`DataError` when the column is empty, constant, or neither two-valued nor numeric.
    """
    present = values.dropna()
    if pd.api.types.is_string_dtype(present) or present.dtype == object:
        present = present[present.astype(str).str.strip() != ""]
    distinct = present.astype(str).str.strip().unique() if len(present) else np.array([])
    if len(distinct) < 2:
        raise DataError(f"The outcome column {column!r} has {'no values' if not len(distinct) else 'one value'}; "
                        "mark a column whose values differ between customers (e.g. churned yes/no).")
    if len(distinct) == 2:
        lowered = {str(v).lower(): str(v) for v in distinct}
        yes = [lowered[v] for v in sorted(lowered) if v in _POSITIVE]
        if len(yes) == 1:
            return Outcome(column, "binary", yes[0])
        counts = present.astype(str).str.strip().value_counts()
        return Outcome(column, "binary", str(counts.sort_index(ascending=False).idxmin()))
    numbers = numeric_values(values)
    if np.isfinite(numbers).sum() < 0.9 * len(present):
        raise DataError(f"The outcome column {column!r} has {len(distinct):,} different values that are not numbers; "
                        "mark a yes/no column or a numeric one (a rating, a spend) as the outcome.")
    return Outcome(column, "numeric")


def outcome_values(values: pd.Series, outcome: Outcome) -> np.ndarray:
    """The outcome as floats: 1/0 for binary (NaN where missing), the numbers for numeric."""
    if outcome.kind == "binary":
        text = values.astype("string").str.strip()
        missing = text.isna().to_numpy() | (text == "").to_numpy(dtype=bool, na_value=True)
        hit = (text == outcome.positive).to_numpy(dtype=bool, na_value=False)
        return np.where(missing, np.nan, hit.astype("float64"))
    return numeric_values(values).astype("float64")


def wilson_interval(successes: float, n: float, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """The Wilson score interval of a share: stays within [0, 1] and works for 0 or n successes."""
    if n <= 0:
        return float("nan"), float("nan")
    from scipy.stats import norm

    z = float(norm.ppf(0.5 + confidence / 2))
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return float(max(0.0, centre - half)), float(min(1.0, centre + half))


def mean_interval(values: np.ndarray, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """The mean ± the t-interval half-width (NaN for fewer than two values)."""
    values = values[np.isfinite(values)]
    if len(values) < 2:
        return float("nan"), float("nan")
    from scipy.stats import t

    half = float(t.ppf(0.5 + confidence / 2, len(values) - 1)) * float(values.std(ddof=1)) / np.sqrt(len(values))
    mean = float(values.mean())
    return mean - half, mean + half


def outcome_rates(values: pd.Series, labels: np.ndarray, outcome: Outcome | None = None) -> pd.DataFrame:
    """Per segment (id order, Unassigned last): customers with a value, rate (share or mean), its interval
    (low, high), the overall rate and the lift (rate / overall; NaN when the overall rate is 0)."""
    labels = np.asarray(labels).astype(int)
    if len(labels) != len(values):
        raise DataError(f"There are {len(labels)} segment labels for {len(values)} outcome values; give one each.")
    outcome = outcome or read_outcome(values, str(values.name))
    y = outcome_values(values, outcome)
    known = np.isfinite(y)
    overall = float(y[known].mean()) if known.any() else float("nan")
    rows = []
    for segment in sorted(set(labels.tolist()), key=lambda s: (s < 0, s)):
        part = y[(labels == segment) & known]
        rate = float(part.mean()) if len(part) else float("nan")
        low, high = (wilson_interval(float(part.sum()), len(part)) if outcome.kind == "binary"
                     else mean_interval(part))
        lift = rate / overall if overall and np.isfinite(overall) else float("nan")
        rows.append((int(segment), int(len(part)), rate, low, high, overall, lift))
    return pd.DataFrame(rows, columns=list(RATE_COLUMNS))


def outcome_columns(roles: Mapping[str, str], table: pd.DataFrame) -> list[str]:
    """The columns marked as outcomes, in ``roles`` order."""
    return [c for c, r in roles.items() if r == "outcome" and c in table.columns]


def _design(table: pd.DataFrame, roles: Mapping[str, str]) -> tuple[np.ndarray, list[str], np.ndarray]:
    """The feature columns (numeric and categorical roles) as one float matrix, their names, a categorical mask."""
    columns = [c for c, r in roles.items() if r in ("numeric", "categorical") and c in table.columns]
    if not columns:
        raise DataError("A propensity model needs at least one numeric or categorical column besides the outcome; "
                        "give some columns those roles on the Data page.")
    blocks, categorical = [], []
    for column in columns:
        if roles[column] == "numeric":
            blocks.append(numeric_values(table[column]).astype("float64"))
            categorical.append(False)
        else:
            codes = pd.Series(pd.Categorical(table[column].astype("string"))).cat.codes.to_numpy()
            # the gradient boosting takes at most 255 categories per column: the rest share one code
            blocks.append(np.where((codes < 0) | (codes > 250), np.nan, codes).astype("float64"))
            categorical.append(True)
    return np.column_stack(blocks), columns, np.asarray(categorical)


def fit_propensity(table: pd.DataFrame, roles: Mapping[str, str], column: str, random_state: int = 0,
                   test_share: float = 0.25, n_repeats: int = 5) -> Propensity:
    """Each customer's chance of the outcome (or its expected value) from the feature columns, held-out checked.

    A histogram gradient-boosting model (scikit-learn) learns ``column`` from the numeric and categorical
    columns of ``roles`` on ``1 - test_share`` of the customers with a known outcome (stratified for yes/no)
    and is judged on the rest: AUC (0.5 is chance, above 0.7 is useful) or R². ``n_repeats`` shuffles per column
    for the permutation importance on the held-out customers (0: none, when only the scores are wanted). The
    scores of every customer come from a model refitted on all of them. Raises :class:`DataError` when there are
    too few customers of each kind.
    """
    import sklearn.ensemble  # noqa: F401  (loads OpenMP before the limit below, which only sees loaded libraries)
    from threadpoolctl import threadpool_limits

    # one thread: the model is small, and OpenMP threads fighting over busy cores made it 30 times slower
    with threadpool_limits(limits=1):
        return _fit_propensity(table, roles, column, random_state, test_share, n_repeats)


def _fit_propensity(table: pd.DataFrame, roles: Mapping[str, str], column: str, random_state: int,
                    test_share: float, n_repeats: int) -> Propensity:
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
    from sklearn.inspection import permutation_importance
    from sklearn.model_selection import train_test_split

    if column not in table.columns:
        raise DataError(f"The outcome column {column!r} is not in the data; choose one of its columns.")
    outcome = read_outcome(table[column], column)
    y = outcome_values(table[column], outcome)
    X, names, categorical = _design(table, {c: r for c, r in roles.items() if c != column})
    known = np.flatnonzero(np.isfinite(y))
    binary = outcome.kind == "binary"
    if binary:
        smallest = int(min(y[known].sum(), len(known) - y[known].sum()))
        if smallest < 10:
            raise DataError(f"Only {smallest} customers have the rarer value of {column!r}; a propensity model needs "
                            "at least 10 of each to be checked on customers it never saw.")
    elif len(known) < 40:
        raise DataError(f"Only {len(known)} customers have a value of {column!r}; a model needs at least 40.")
    train, test = train_test_split(known, test_size=test_share, random_state=random_state,
                                   stratify=y[known] if binary else None)

    def model() -> object:
        kind = HistGradientBoostingClassifier if binary else HistGradientBoostingRegressor
        return kind(categorical_features=categorical, random_state=random_state, max_iter=150, max_depth=3,
                    learning_rate=0.05, early_stopping=False)

    held_out = model().fit(X[train], y[train])  # type: ignore[attr-defined]
    if binary:
        from sklearn.metrics import roc_auc_score

        metric_name, metric = "AUC", float(roc_auc_score(y[test], held_out.predict_proba(X[test])[:, 1]))
    else:
        from sklearn.metrics import r2_score

        metric_name, metric = "R²", float(r2_score(y[test], held_out.predict(X[test])))
    importance = pd.DataFrame({"column": pd.Series(dtype=object), "importance": pd.Series(dtype="float64"),
                               "std": pd.Series(dtype="float64")})
    if n_repeats > 0:
        shuffled = permutation_importance(held_out, X[test], y[test], scoring="roc_auc" if binary else "r2",
                                          n_repeats=n_repeats, random_state=random_state)
        importance = pd.DataFrame({"column": names, "importance": shuffled.importances_mean,
                                   "std": shuffled.importances_std}).sort_values(
            ["importance", "column"], ascending=[False, True], kind="mergesort").reset_index(drop=True)
    full = model().fit(X[known], y[known])  # type: ignore[attr-defined]
    scores = full.predict_proba(X)[:, 1] if binary else full.predict(X)
    return Propensity(outcome, np.asarray(scores, dtype="float64"), metric_name, metric, len(train), len(test),
                      importance)


def propensity_columns(table: pd.DataFrame, roles: Mapping[str, str], random_state: int = 0) -> pd.DataFrame:
    """``<outcome>_propensity`` for every outcome column of ``roles``, one row per row of ``table`` (in order): the
    chance of the positive value, or the expected value of a numeric outcome, from :func:`fit_propensity` (rounded
    to 4 decimals). An outcome whose model cannot be fitted (too few customers of a value, no feature column) has
    no column, as it has no propensity; its rates per segment stay in the profiles."""
    out = pd.DataFrame(index=range(len(table)))
    for column in outcome_columns(roles, table):
        try:
            found = fit_propensity(table, roles, column, random_state=random_state, n_repeats=0)
        except DataError:
            continue
        out[f"{column}_propensity"] = np.round(found.scores, 4)
    return out


def outcome_tables(table: pd.DataFrame, columns: list[str], labels: np.ndarray) -> dict[int, pd.DataFrame]:
    """Per segment, one row per outcome column: column, kind, positive and the rates of :func:`outcome_rates`.

    An outcome that cannot be read (one value only, text that is not yes/no) is left out rather than stopping
    the profiles; :func:`read_outcome` says why when asked directly.
    """
    frames = []
    for column in columns:
        try:
            outcome = read_outcome(table[column], column)
        except DataError:
            continue
        rates = outcome_rates(table[column], labels, outcome)
        rates.insert(0, "positive", outcome.positive)
        rates.insert(0, "kind", outcome.kind)
        rates.insert(0, "column", column)
        frames.append(rates)
    if not frames:
        return {}
    every = pd.concat(frames, ignore_index=True)
    return {int(s): part.drop(columns="segment").reset_index(drop=True)
            for s, part in every.groupby("segment", sort=False)}


def segment_outcome_lines(profile: object) -> list[str]:
    """Plain lines for a segment's card and the report: each outcome's rate with its interval and lift.

    ``profile`` is a :class:`~segmentation.understand.profile.SegmentProfile`; its ``outcomes`` are read, nothing
    is recomputed. Predicted value per segment is :func:`segmentation.value.summary.segment_value`'s (one
    definition, counting only customers who have a prediction).
    """
    from segmentation.understand.wording import format_number, percent

    lines = []
    outcomes = getattr(profile, "outcomes", None)
    for row in (outcomes.itertuples() if outcomes is not None else ()):
        if not np.isfinite(row.rate):
            continue
        binary = row.kind == "binary"
        show = (lambda v: percent(v)) if binary else (lambda v: format_number(v))
        what = f"{row.column} = {row.positive}" if binary else f"average {row.column}"
        interval = f" ({int(CONFIDENCE * 100)}% interval {show(row.low)}–{show(row.high)})" \
            if np.isfinite(row.low) else ""
        lift = f" · ×{row.lift:.2f}" if np.isfinite(row.lift) else ""
        lines.append(f"{what}: {show(row.rate)}{interval} vs {show(row.overall)} overall{lift}")
    return lines


def outcome_export_columns(profiles: Sequence[object]) -> pd.DataFrame:
    """One row per profile (same order) with ``<outcome>_rate``, ``_low``, ``_high``, ``_lift`` for every outcome
    column; no columns without outcomes (predicted-value totals come from ``value.summary``)."""
    rows: list[dict[str, float]] = []
    for profile in profiles:
        row: dict[str, float] = {}
        outcomes = getattr(profile, "outcomes", None)
        for o in (outcomes.itertuples() if outcomes is not None else ()):
            for part in ("rate", "low", "high", "lift"):
                row[f"{o.column}_{part}"] = round(float(getattr(o, part)), 4)
        rows.append(row)
    return pd.DataFrame(rows, index=range(len(rows)))
