"""What each theme inside a segment is about: size, a name from its own words, quotes and representative customers.

A theme is contrasted with the rest of *its segment* (not with everyone): the segment already says "card
problems"; its themes say "card not arrived", "card declined", "pin blocked". Names come from the theme's
distinctive key phrases (``keyphrases.segment_key_phrases``, c-TF-IDF, stop words, handles and boilerplate
excluded), are distinct within a segment, and are never "Theme N" when the customers have text. Without text a
theme is named by the structured traits that set it apart within its segment ("high balance, Gold tier").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from segmentation.common import NOISE, segment_number
from segmentation.errors import DataError
from segmentation.understand.columns import role_columns
from segmentation.understand.contrast import column_arrays, contrasts, notable_categories, notable_numeric
from segmentation.understand.keyphrases import phrase_idea, segment_key_phrases
from segmentation.understand.phrases import quotes
from segmentation.understand.wording import capitalise, pretty_column

N_QUOTES = 3
"""Masked quotes kept per theme."""
N_REPRESENTATIVES = 3
"""Customers nearest the theme's centre kept per theme."""
N_PHRASES = 4
"""Key phrases kept per theme."""


@dataclass(frozen=True)
class ThemeProfile:
    """One theme, described. ``theme`` is the global 0-based id (``Themes.labels``), ``segment`` its segment's
    0-based id, ``number`` its 1-based position in the segment (largest first): people read "theme 2.3" as
    segment 2, theme 3 (``code``). ``representatives`` are row positions, nearest the theme centre first;
    ``representative_ids`` the matching customer ids."""

    theme: int
    segment: int
    number: int
    size: int
    share_of_segment: float
    name: str
    key_phrases: tuple[str, ...] = ()
    traits: tuple[str, ...] = ()
    quotes: tuple[str, ...] = ()
    representatives: tuple[int, ...] = ()
    representative_ids: tuple[str, ...] = ()

    @property
    def code(self) -> str:
        """The theme's number for people: "<segment number>.<theme number>", e.g. "2.3"."""
        return f"{segment_number(self.segment)}.{self.number}"


def _traits(table: pd.DataFrame, roles: Mapping[str, str], rows: np.ndarray, local: np.ndarray
            ) -> dict[int, tuple[str, ...]]:
    """Per local theme: its notable structured traits against the rest of the segment, strongest first."""
    numeric = role_columns(table, roles, "numeric")
    categorical = role_columns(table, roles, "categorical")
    if not (numeric or categorical) or len(set(local.tolist())) < 2:
        return {}
    num_arrays, cat_arrays = column_arrays(table.iloc[rows], numeric, categorical)
    _, num, cat = contrasts(num_arrays, cat_arrays, local)
    out: dict[int, list[tuple[float, str]]] = {}
    numeric_rows = notable_numeric(num)
    for row in numeric_rows.itertuples() if numeric_rows is not None else ():
        words = f"{'high' if row.effect > 0 else 'low'} {pretty_column(row.feature)}"
        out.setdefault(int(row.segment), []).append((abs(float(row.effect)), words))
    category_rows = notable_categories(cat)
    for row in category_rows.itertuples() if category_rows is not None else ():
        words = f"{row.value} {pretty_column(row.column)}"
        out.setdefault(int(row.segment), []).append((float(row.effect), words))
    return {t: tuple(w for _, w in sorted(parts, key=lambda p: -p[0])) for t, parts in out.items()}


def _with_detail(phrases: Sequence[str]) -> list[str]:
    """Each key phrase as a name; a single word gets the first longer phrase about something else beside it
    ("Waiting, not arrived"): one word rarely says what a theme is about."""
    out = []
    for phrase in phrases:
        extra = next((p for p in phrases if " " in p and not phrase_idea(p) & phrase_idea(phrase)), None) \
            if " " not in phrase else None
        out.append(capitalise(f"{phrase}, {extra}" if extra else phrase))
    return out


def _name(phrases: Sequence[str], traits: Sequence[str], taken: set[str], code: str) -> str:
    """The first key phrase (else trait) not already a name in the segment; two joined when all are taken."""
    words = _with_detail(phrases) or [capitalise(t) for t in traits[:3]]
    for word in words:
        if word.lower() not in taken:
            return word
    for first, second in zip(words, words[1:]):
        joined = f"{first}, {second.lower()}"
        if joined.lower() not in taken:
            return joined
    base = words[0] if words else "Theme"
    return f"{base} ({code})"


def _ordered(space: np.ndarray | None, rows: np.ndarray) -> np.ndarray:
    """``rows`` from nearest to farthest from their centre in ``space`` (file order without a space)."""
    if space is None or len(rows) == 0:
        return rows
    points = space[rows]
    distance = np.sqrt(((points - points.mean(axis=0)) ** 2).sum(axis=1))
    return rows[np.argsort(distance, kind="stable")]


def describe_themes(table: pd.DataFrame, roles: Mapping[str, str], theme_labels: np.ndarray,
                    parent: Mapping[int, int], texts: Sequence[str] | None = None,
                    embedding: np.ndarray | None = None, row_ids: Sequence[str] | None = None,
                    phrase_model: str | None = None, random_state: int = 0) -> tuple[ThemeProfile, ...]:
    """One ``ThemeProfile`` per theme of ``parent`` (theme id -> segment id), in theme id order.

    ``table`` holds the customers (values as loaded) and ``roles`` their column roles; ``theme_labels`` gives each
    customer's theme (-1 for the Unassigned). ``texts`` (one per customer, PII masked, "" for none) give key
    phrases, names and quotes; ``embedding`` (the cluster space) decides who is nearest a theme's centre;
    ``row_ids`` are the customer ids shown to people (default "row 1", "row 2", ...). ``phrase_model``: an
    embedding model for a KeyBERT-style choice of phrases; None (the default) keeps the c-TF-IDF ranking, which is
    fast enough to follow the detail control live. Same inputs and ``random_state``, same descriptions.
    """
    theme_labels = np.asarray(theme_labels, dtype=int)
    if len(theme_labels) != len(table) or (texts is not None and len(texts) != len(table)):
        raise DataError(f"There are {len(theme_labels)} theme labels for {len(table)} customers; give one theme "
                        "(and one text) per customer.")
    texts = None if texts is None or not any(isinstance(t, str) and t.strip() for t in texts) else \
        [t if isinstance(t, str) else "" for t in texts]
    ids = np.asarray(row_ids, dtype=object).astype(str) if row_ids is not None else \
        np.array([f"row {i + 1}" for i in range(len(table))], dtype=object).astype(str)
    space = None if embedding is None else np.asarray(embedding, dtype=float)
    by_segment: dict[int, list[int]] = {}
    for theme, segment in sorted(parent.items()):
        by_segment.setdefault(int(segment), []).append(int(theme))
    overall: dict[int, tuple[str, ...]] | None = None
    profiles: list[ThemeProfile] = []
    for segment, themes in by_segment.items():
        rows = np.flatnonzero(np.isin(theme_labels, themes))
        local = theme_labels[rows]
        phrases: dict[int, tuple[str, ...]] = {}
        if texts is not None and len(themes) > 1:
            phrases = segment_key_phrases([texts[r] for r in rows], local, model=phrase_model, top=N_PHRASES,
                                          random_state=random_state)
        elif texts is not None:
            # a segment of one theme: its words against every other customer
            if overall is None:
                overall = segment_key_phrases(texts, np.where(theme_labels < 0, NOISE, theme_labels),
                                              model=phrase_model, top=N_PHRASES, random_state=random_state)
            phrases = {themes[0]: overall.get(themes[0], ())}
        traits = _traits(table, roles, rows, local)
        taken: set[str] = set()
        for number, theme in enumerate(themes, start=1):
            members = rows[local == theme]
            code = f"{segment_number(segment)}.{number}"
            name = _name(phrases.get(theme, ()), traits.get(theme, ()), taken, code)
            if name == f"Theme ({code})":
                name = f"Theme {code}"
            taken.add(name.lower())
            ordered = _ordered(space, members)
            representatives = tuple(int(r) for r in ordered[:N_REPRESENTATIVES])
            profiles.append(ThemeProfile(
                theme=theme, segment=segment, number=number, size=int(len(members)),
                share_of_segment=float(len(members) / max(len(rows), 1)), name=name,
                key_phrases=phrases.get(theme, ()), traits=traits.get(theme, ())[:4],
                quotes=quotes(texts, ordered, phrases.get(theme, ()), count=N_QUOTES) if texts is not None else (),
                representatives=representatives, representative_ids=tuple(str(ids[r]) for r in representatives)))
    return tuple(sorted(profiles, key=lambda p: p.theme))
