"""Plain-language rules that pick out a segment ("days since last order above 180"), read from shallow trees.

For each segment a depth-3 decision tree (one segment against the rest) is fitted on the segment's strongest
significant traits; each leaf that votes for the segment becomes a rule, shortened while that costs (almost)
no precision, with round thresholds that change the split for (almost) nobody. Coverage and precision are
measured on every customer. Above :data:`SAMPLE_ROWS` customers the trees see a seeded sample.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from segmentation.represent.features import category_values, numeric_values
from segmentation.understand.wording import format_number, percent, pretty_column

SAMPLE_ROWS = 10_000
"""Above this many customers the rule trees are fitted on a seeded sample of this size (a depth-3 tree needs no
more); their coverage and precision are still measured on every customer."""

MAX_RULE_COLUMNS = 10
"""The rule trees see at most this many numeric columns and this many category values: the strongest traits."""


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
        return (f"{self.text} (covers {percent(self.coverage)} of the segment; {percent(self.outsider_share)} of "
                "the customers it matches are outsiders)")

    def __str__(self) -> str:
        return self.summary

    def mask(self, table: pd.DataFrame) -> np.ndarray:
        """Which customers of ``table`` the rule matches."""
        out = np.ones(len(table), dtype=bool)
        for condition in self.conditions:
            out &= condition.mask(table)
        return out


@dataclass
class RuleData:
    """Columns for the rule trees, computed once per profile run (see :func:`rule_data`)."""

    numeric: dict[str, np.ndarray]
    sorted_numeric: dict[str, np.ndarray]
    share_columns: set[str]
    categories: dict[str, np.ndarray]
    sample: np.ndarray
    labels: np.ndarray


def rule_data(numeric: Mapping[str, np.ndarray], categories: Mapping[str, np.ndarray], labels: np.ndarray,
              share_columns: set[str], random_state: int = 0) -> RuleData:
    """The columns every segment's rules are read from: ``numeric`` as floats, ``categories`` as strings (one
    entry per customer), thresholds of ``share_columns`` written as percentages, and the seeded sample of at
    most :data:`SAMPLE_ROWS` customers the trees are fitted on."""
    n = len(labels)
    rng = np.random.default_rng(random_state)
    sample = np.sort(rng.choice(n, SAMPLE_ROWS, replace=False)) if n > SAMPLE_ROWS else np.arange(n)
    return RuleData(numeric=dict(numeric), sorted_numeric={c: np.sort(v[np.isfinite(v)]) for c, v in numeric.items()},
                    share_columns=set(share_columns), categories=dict(categories), sample=sample, labels=labels)


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


def _snap(data: RuleData, column: str, op: str, threshold: float) -> tuple[str, float]:
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


def _condition_text(condition: Condition, data: RuleData) -> str:
    column = pretty_column(condition.column)
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


def _rule_text(conditions: Sequence[Condition], data: RuleData) -> str:
    parts: list[str] = []
    done: set[int] = set()
    for i, condition in enumerate(conditions):
        if i in done:
            continue
        if condition.op == "is not":
            others = [j for j, c in enumerate(conditions) if c.column == condition.column and c.op == "is not"]
            done.update(others)
            values = [str(conditions[j].value) for j in others]
            parts.append(f"{pretty_column(condition.column)} is not {values[0]}" if len(values) == 1 else
                         f"{pretty_column(condition.column)} is neither {', '.join(values[:-1])} nor {values[-1]}")
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
            parts.append(f"{pretty_column(condition.column)} between {bounds[0]} and {bounds[1]}")
            continue
        parts.append(_condition_text(condition, data))
    return " and ".join(parts)


def _conditions_mask(conditions: Sequence[Condition], data: RuleData) -> np.ndarray:
    out = np.ones(len(data.labels), dtype=bool)
    for c in conditions:
        if c.op in ("is", "is not"):
            hit = data.categories[c.column] == c.value
            out &= hit if c.op == "is" else ~hit
        else:
            out &= _compare(data.numeric[c.column], c.op, float(c.value))
    return out


def _score(conditions: Sequence[Condition], data: RuleData, inside: np.ndarray) -> tuple[float, float, int]:
    """(coverage, precision, matched) of a conjunction on every customer."""
    mask = _conditions_mask(conditions, data)
    matched = int(mask.sum())
    hits = int((mask & inside).sum())
    coverage = hits / max(int(inside.sum()), 1)
    precision = hits / matched if matched else 0.0
    return coverage, precision, matched


def _f1(coverage: float, precision: float) -> float:
    return 2 * coverage * precision / (coverage + precision) if coverage + precision > 0 else 0.0


def segment_rules(segment: int, data: RuleData, numeric: pd.DataFrame, categories: pd.DataFrame,
                   random_state: int, max_depth: int = 3, max_rules: int = 3) -> tuple[Rule, ...]:
    """Up to ``max_rules`` rules for ``segment``, best balance of coverage and precision first.

    ``numeric`` and ``categories`` are the segment's traits (its rows of the profile run's contrasts): only
    significant ones are used, the :data:`MAX_RULE_COLUMNS` strongest of each kind. ``max_depth`` bounds the
    number of conditions of a rule; ``random_state`` seeds the tree.
    """
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
