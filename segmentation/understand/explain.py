"""The profile run: one :class:`SegmentProfile` per segment, what sets it apart and what its customers say.

A profile is meant to let a marketer explain a segment in one sentence and prove it with numbers. Every trait
carries a significance test and the p-values of one run are corrected together (:mod:`contrast`); only traits
that are both significant and large enough to matter feed the suggested names, descriptions, rules and
actions (:mod:`naming`, :mod:`rules`); texts add keywords and quotes (:mod:`phrases`), key phrases and their
tone (:mod:`keyphrases`, :mod:`persona`, :mod:`tone`).

Everything is seeded: the same table, labels and ``random_state`` give the same profiles. Above
:data:`segmentation.understand.rules.SAMPLE_ROWS` customers the rule trees are fitted on a seeded sample (their
coverage is still measured on everyone), and keywords read a seeded sample of each segment's texts; the
statistics use every customer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from segmentation.errors import DataError
from segmentation.represent.features import numeric_values
from segmentation.understand.columns import detect_value_column, is_share_column, role_columns
from segmentation.understand.contrast import check_labels, column_arrays, contrasts, rank_categories, rank_numeric
from segmentation.understand.keyphrases import segment_key_phrases
from segmentation.understand.naming import distinct_names, with_words
from segmentation.understand.outcomes import outcome_columns, outcome_tables
from segmentation.understand.persona import persona_names, segment_voices
from segmentation.understand.phrases import quotes, segment_keywords
from segmentation.understand.profile import SegmentProfile
from segmentation.understand.rules import rule_data, segment_rules

N_REPRESENTATIVES = 5
"""Typical customers (nearest the centre) and outliers (farthest) listed per segment."""


def profile_segments(table: pd.DataFrame, roles: Mapping[str, str], labels: np.ndarray,
                     texts: Sequence[str] | None = None, embedding: np.ndarray | None = None,
                     value_column: str | None = None, random_state: int = 0, phrase_model: str | None = None
                     ) -> tuple[SegmentProfile, ...]:
    """One profile per segment, in id order, Unassigned (-1) last.

    ``table`` holds the customers with values as loaded; ``roles`` says which columns are numeric and
    categorical (traits, rules) and which is the id (representatives). ``texts`` (one per customer, "" for
    none) add keywords, quotes, key phrases and their tone. ``embedding`` (the cluster space, one row per
    customer) decides who is nearest the centre; without it standardised numeric columns are used.
    ``value_column`` names the column whose share each segment holds (default: detected from names such as
    spend, revenue, monetary). ``random_state`` seeds every sample and tree: same inputs, same profiles.
    ``phrase_model``: the run's embedding model, used to choose key phrases (None or "tfidf": c-TF-IDF ranks).
    Columns with the role "describe" are contrasted too (they describe, never name or explain by rules);
    each column with the role "outcome" gets its rate per segment with an interval and lift (``outcomes``).
    """
    labels = np.asarray(labels).astype(int)
    _check_lengths(table, labels, texts, embedding)
    if len(labels) == 0:
        return ()
    numeric = role_columns(table, roles, "numeric")
    categorical = role_columns(table, roles, "categorical")
    if value_column is not None:
        if value_column not in table.columns:
            raise DataError(f"The value column {value_column!r} is not in the data. Choose one of: "
                            f"{', '.join(map(repr, numeric[:20])) or 'no numeric column'}.")
    else:
        value_column = detect_value_column(table, roles)
    texts = None if texts is None else [t if isinstance(t, str) else "" for t in texts]
    # "describe" columns (RFM group, predicted value) are contrasted like the features but drive no name or rule
    described = role_columns(table, roles, "describe")
    described_numeric = [c for c in described if pd.api.types.is_numeric_dtype(table[c])
                         and not pd.api.types.is_bool_dtype(table[c])]
    described_categorical = [c for c in described if c not in described_numeric]
    numeric_arrays, category_arrays = column_arrays(table, numeric + described_numeric,
                                                    categorical + described_categorical)
    segments, num, cat = contrasts(numeric_arrays, category_arrays, labels)
    numeric_arrays = {c: v for c, v in numeric_arrays.items() if c not in described}
    category_arrays = {c: v for c, v in category_arrays.items() if c not in described}
    rule_num, rule_cat = num[~num["feature"].isin(described)], cat[~cat["column"].isin(described)]
    outcomes = outcome_tables(table, outcome_columns(roles, table), labels)
    keywords = segment_keywords(texts, labels, random_state=random_state) if texts is not None else {}
    key_phrases = segment_key_phrases(texts, labels, model=phrase_model, random_state=random_state) \
        if texts is not None else {}
    voices = segment_voices(texts, labels, table, roles)
    share_columns = {c for c in numeric if is_share_column(table, c)}
    data = rule_data(numeric_arrays, category_arrays, labels, share_columns, random_state)
    n = len(labels)
    value = None
    if value_column is not None:
        value = np.nan_to_num(numeric_values(table[value_column]), nan=0.0)
        value = value if value.sum() > 0 else None
    space = _space(table, numeric, embedding)
    ids = _row_ids(table, roles)
    num_by = dict(tuple(num.groupby("segment", sort=False)))
    cat_by = dict(tuple(cat.groupby("segment", sort=False)))
    rule_num_by = dict(tuple(rule_num.groupby("segment", sort=False)))
    rule_cat_by = dict(tuple(rule_cat.groupby("segment", sort=False)))
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
            numeric=rank_numeric(seg_num), categories=rank_categories(seg_cat),
            keywords=keywords.get(segment, ()),
            value_share=float(value[mask].sum() / value.sum()) if value is not None else None,
            value_column=value_column if value is not None else None,
            quotes=quotes(texts, ordered, keywords.get(segment, ())) if texts is not None else (),
            representatives=representatives, representative_ids=tuple(str(ids[r]) for r in representatives),
            outliers=tuple(far), outlier_ids=tuple(str(ids[r]) for r in far),
            rules=segment_rules(segment, data, rule_num_by.get(segment, num.iloc[:0]),
                                rule_cat_by.get(segment, cat.iloc[:0]), random_state) if segment >= 0 else (),
            described=tuple(described), outcomes=outcomes.get(int(segment)),
            key_phrases=key_phrases.get(segment, ()), **voices.get(segment, {}),
        )
        profiles.append(with_words(profile, share_columns))
    return persona_names(distinct_names(profiles))


def _check_lengths(table: pd.DataFrame, labels: np.ndarray, texts: Sequence[str] | None,
                   embedding: np.ndarray | None) -> None:
    check_labels(table, labels)
    if texts is not None and len(texts) != len(table):
        raise DataError(f"There are {len(texts)} texts for {len(table)} customers; give one text per customer "
                        "(an empty string where a customer wrote nothing).")
    if embedding is not None and (np.ndim(embedding) != 2 or len(embedding) != len(table)):
        raise DataError(f"The embedding has shape {np.shape(embedding)} but there are {len(table)} customers; give "
                        "one row per customer (the cluster space of the same run).")


def _row_ids(table: pd.DataFrame, roles: Mapping[str, str]) -> np.ndarray:
    """Each customer's id as text (the first id column), else "row 1", "row 2", ..."""
    id_columns = role_columns(table, roles, "id")
    if id_columns:
        return table[id_columns[0]].astype("string").fillna("").to_numpy(dtype=object).astype(str)
    return np.array([f"row {i + 1}" for i in range(len(table))], dtype=object).astype(str)


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
