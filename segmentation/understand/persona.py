"""Persona-like names and one-line portraits: what a segment says, how it feels, who it is and what it is worth.

A name joins up to three things, each only when the evidence is there:

- the segment's lead key phrase (:mod:`keyphrases`), different for every segment: "lost baggage";
- the tone of its words: "Unhappy about lost baggage" when it complains (see :func:`complaint_heavy`), "Happy
  with soft fabric" when it praises, and the rating split when the data holds a rating;
- who the customers are, from significant traits only: "Loyal big spenders", "Lapsed customers", and the
  category most of them share ("mostly app channel").

So a text-only file gets "Unhappy about lost baggage" or "Card payment & exchange rate", a file of numbers "Loyal
big spenders, mostly app channel", never "Segment 3" while there is any evidence. Names are distinct across
segments. The analyst's own names live beside the result and always win.

Tone comes from small, documented word lists (:mod:`segmentation.understand.tone`; English plus the
commonest words of French, Spanish, German, Italian and Portuguese), with negation handled ("not good" is a
complaint, "not bad" is nothing). They are cheap and transparent; they miss sarcasm.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from segmentation.common import NOISE_NAME, segment_label
from segmentation.represent.features import numeric_values
from segmentation.understand.columns import column_kind, role_columns
from segmentation.understand.contrast import notable_categories, notable_numeric
from segmentation.understand.keyphrases import phrase_idea
from segmentation.understand.profile import SegmentProfile
from segmentation.understand.tone import COMPLAINT_WORDS, PRAISE_WORDS, text_tone
from segmentation.understand.wording import capitalise, join_words, percent, pretty_column, value_share_words

COMPLAINT_MAJORITY = 0.5
"""A segment where at least half the texts complain is complaint-heavy, whatever the others do (a file of
complaints)."""
COMPLAINT_SHARE = 0.25
COMPLAINT_LIFT = 1.5
"""Or: at least 25% of its texts complain and 1.5 times the share of the other customers."""
PRAISE_SHARE = 0.4
PRAISE_LIFT = 1.3
"""Praise-heavy: at least 40% of its texts praise, 1.3 times the share of the others, and it is not complaint-heavy."""
LOW_RATING_SHARE = 0.3
LOW_RATING_LIFT = 1.5
"""Low-rated: at least 30% of its ratings in the low band, 1.5 times the others' share."""
MIN_TEXTS = 10
"""Fewer texts than this say nothing about a segment's tone."""

_RATING_NAME = re.compile(r"rating|stars?\b|score|grade|satisfaction|\bnps\b|review", re.IGNORECASE)
_NOT_RATING = re.compile(r"count|number|\bnum|qty|quantity|\bid\b|total|feedback|helpful", re.IGNORECASE)
_YES = {"yes", "y", "true", "1"}
_NO = {"no", "n", "false", "0"}


# --------------------------------------------------------------------------- tone and ratings
def rating_column(table: pd.DataFrame, roles: Mapping[str, str]) -> str | None:
    """The column holding a 1-5 or 0/1-10 rating, or None.

    Whole numbers from 0-1 up to at most 10 with at least three levels, in a column named like a rating
    ("Rating", "stars", "review_score", "NPS"); without such a name, a column whose values run exactly 1-5 or
    1-10 (0-10) with at least four levels, unless its name says it counts something.
    """
    named, unnamed = [], []
    for column in role_columns(table, roles, "numeric") + role_columns(table, roles, "categorical"):
        values = numeric_values(table[column])
        finite = values[np.isfinite(values)]
        if finite.size < 0.5 * len(values) or finite.size == 0 or not np.all(finite == np.round(finite)):
            continue
        low, high, levels = float(finite.min()), float(finite.max()), len(np.unique(finite))
        if low < 0 or high > 10 or low > 1 or levels < 3 or _NOT_RATING.search(str(column)):
            continue
        if _RATING_NAME.search(str(column)):
            named.append(column)
        elif high in (5, 10) and levels >= 4:
            unnamed.append(column)
    return (named or unnamed or [None])[0]


def rating_bands(values: np.ndarray) -> tuple[tuple[str, ...], np.ndarray]:
    """(band labels, band of each value: 0 low, 1 middle, 2 high, -1 missing) for a 1-5 or 0-10 scale.

    1-5: low 1-2, middle 3, high 4-5. 0-10: low 0-6, middle 7-8, high 9-10 (the Net Promoter bands).
    """
    finite = values[np.isfinite(values)]
    ten = finite.size and finite.max() > 5
    labels, edges = (("0–6", "7–8", "9–10"), (6, 8)) if ten else (("1–2", "3", "4–5"), (2, 3))
    bands = np.where(values <= edges[0], 0, np.where(values <= edges[1], 1, 2))
    return labels, np.where(np.isfinite(values), bands, -1)


def segment_voices(texts: Sequence[str] | None, labels: np.ndarray, table: pd.DataFrame,
                   roles: Mapping[str, str]) -> dict[int, dict[str, Any]]:
    """Per segment, the profile fields of its voice: the share of its texts that complain or praise against the
    other customers' (``complaint_share``, ``complaint_rest_share``, ``praise_share``, ``praise_rest_share``; None
    without texts) and, where the data holds a rating (:func:`rating_column`), ``rating_column`` and
    ``rating_split``: (band, segment share, others' share) for the low, middle and high bands."""
    labels = np.asarray(labels).astype(int)
    segments = sorted(set(labels.tolist()))
    out: dict[int, dict[str, Any]] = {s: {} for s in segments}
    if texts is not None:
        tones = np.array([text_tone(t) for t in texts], dtype=bool).reshape(-1, 2)
        has_text = np.array([isinstance(t, str) and bool(t.strip()) for t in texts], dtype=bool)
        for segment in segments:
            inside, outside = has_text & (labels == segment), has_text & (labels != segment)
            if inside.sum() == 0:
                continue
            for k, key in enumerate(("complaint", "praise")):
                out[segment][f"{key}_share"] = float(tones[inside, k].mean())
                out[segment][f"{key}_rest_share"] = float(tones[outside, k].mean()) if outside.any() else 0.0
    column = rating_column(table, roles)
    if column is not None:
        band_labels, bands = rating_bands(numeric_values(table[column]))
        for segment in segments:
            inside, outside = (labels == segment) & (bands >= 0), (labels != segment) & (bands >= 0)
            if not inside.any():
                continue
            split = tuple((band_labels[b], float((bands[inside] == b).mean()),
                           float((bands[outside] == b).mean()) if outside.any() else 0.0) for b in range(3))
            out[segment].update(rating_column=str(column), rating_split=split)
    return out


def complaint_heavy(profile: SegmentProfile) -> bool:
    """Does the segment mostly complain? Half its texts or more, or a quarter and 1.5 times the others' share
    (:data:`COMPLAINT_MAJORITY`, :data:`COMPLAINT_SHARE`, :data:`COMPLAINT_LIFT`); too few texts never count."""
    share, rest = profile.complaint_share, profile.complaint_rest_share or 0.0
    if share is None or profile.is_noise or profile.size < MIN_TEXTS:
        return False
    return share >= COMPLAINT_MAJORITY or (share >= COMPLAINT_SHARE and share >= COMPLAINT_LIFT * rest)


def praise_heavy(profile: SegmentProfile) -> bool:
    """Does the segment mostly praise (:data:`PRAISE_SHARE`, :data:`PRAISE_LIFT`) without being complaint-heavy?"""
    share, rest = profile.praise_share, profile.praise_rest_share or 0.0
    if share is None or profile.is_noise or profile.size < MIN_TEXTS or complaint_heavy(profile):
        return False
    return share >= PRAISE_SHARE and share >= PRAISE_LIFT * rest


def low_rated(profile: SegmentProfile) -> bool:
    """Are the segment's ratings clearly lower (:data:`LOW_RATING_SHARE`, :data:`LOW_RATING_LIFT`)?"""
    if not profile.rating_split or profile.is_noise:
        return False
    _, share, rest = profile.rating_split[0]
    return share >= LOW_RATING_SHARE and share >= LOW_RATING_LIFT * rest


def complaint_theme(profile: SegmentProfile) -> str | None:
    """What a complaint-heavy (or low-rated) segment complains about: its lead key phrase, else None."""
    if not (complaint_heavy(profile) or low_rated(profile)) or not profile.key_phrases:
        return None
    return profile.key_phrases[0]


def complaint_evidence(profile: SegmentProfile) -> str:
    """Why the segment counts as unhappy, in words: "92% of their comments complain (vs 30% of the others)",
    else the low rating band ("58% rate 1–2 on Rating (vs 20%)"); "" when it does not."""
    if complaint_heavy(profile):
        return (f"{percent(profile.complaint_share)} of their comments complain (vs "
                f"{percent(profile.complaint_rest_share)} of the others)")
    if low_rated(profile):
        band, share, rest = profile.rating_split[0]
        return f"{percent(share)} rate {band} on {pretty_column(profile.rating_column)} (vs {percent(rest)})"
    return ""


# --------------------------------------------------------------------------- who they are
def _kinds(profile: SegmentProfile) -> dict[str, float]:
    """The strongest significant effect of each kind of column (value, recency, frequency, tenure)."""
    out: dict[str, float] = {}
    for row in notable_numeric(profile.numeric).itertuples():
        if row.feature in profile.described:   # RFM group, predicted value: they describe, never name
            continue
        kind = "value" if row.feature == profile.value_column else column_kind(str(row.feature))
        if kind == "value" and row.feature != profile.value_column:
            continue
        if kind is not None and kind not in out:
            out[kind] = float(row.effect)
    return out


def who_they_are(profile: SegmentProfile, strong_only: bool = False) -> str:
    """"Loyal big spenders", "Lapsed customers", "New customers", or the strongest other trait ("High annual
    income customers"); "" when no significant trait sets the segment apart. One adjective at most, the most
    telling: lapsed, new, loyal, occasional, long-standing, then recently active. ``strong_only`` leaves out a
    weak description ("recently active customers", another trait) that would only lengthen a name."""
    kinds = _kinds(profile)
    value_index = profile.value_share / profile.share if profile.value_share is not None and profile.share else None
    recency, frequency, tenure = kinds.get("recency"), kinds.get("frequency"), kinds.get("tenure")
    adjectives = [("lapsed", recency is not None and recency >= 0.5),
                  ("new", tenure is not None and tenure <= -0.5),
                  ("loyal", frequency is not None and frequency >= 0.5),
                  ("occasional", frequency is not None and frequency <= -0.5),
                  ("long-standing", tenure is not None and tenure >= 0.5),
                  ("recently active", recency is not None and recency <= -0.5)]
    adjective = next((word for word, holds in adjectives if holds), "")
    if strong_only and adjective == "recently active":
        adjective = ""
    value = kinds.get("value")
    if (value_index is not None and value_index >= 1.5) or (value is not None and value >= 0.5):
        noun = "big spenders"
    elif (value_index is not None and value_index <= 0.5) or (value is not None and value <= -0.5):
        noun = "small spenders"
    else:
        noun = "customers"
    if noun == "customers" and (not adjective or adjective == "recently active") and strong_only:
        return ""
    if adjective or noun != "customers":
        return capitalise(f"{adjective} {noun}".strip())
    numeric = notable_numeric(profile.numeric)
    numeric = numeric[~numeric["feature"].isin(profile.described)] if len(numeric) else numeric
    if len(numeric):
        row = numeric.iloc[0]
        return capitalise(f"{'high' if row['effect'] > 0 else 'low'} {pretty_column(row['feature'])} customers")
    return ""


def _category_phrase(column: str, value: str) -> str:
    low = str(value).strip().lower()
    if low in _YES or low in _NO:
        return f"{pretty_column(column)}: {value}"
    return f"{value} {pretty_column(column)}"


def _main_category(profile: SegmentProfile, least: float = 0.5) -> tuple[str, float] | None:
    """("app channel", 0.82): the significant category value that at least ``least`` of the segment shares."""
    for row in notable_categories(profile.categories).itertuples():
        if float(row.segment_share) >= least and row.column not in profile.described:
            return _category_phrase(str(row.column), str(row.value)), float(row.segment_share)
    return None


# --------------------------------------------------------------------------- names and portraits
def _tone(profile: SegmentProfile) -> str:
    if complaint_heavy(profile) or low_rated(profile):
        return "unhappy"
    return "happy" if praise_heavy(profile) else ""


TONE_ADVERBS = frozenset("unfortunately sadly luckily fortunately honestly".split())
"""Words that carry a tone but name no topic (not complaint or praise by themselves: "unfortunately" also opens
neutral sentences)."""


def _tone_only(phrase: str) -> bool:
    """Whether every word of ``phrase`` is a tone word ("unfortunately", "disappointed", "love"): such a phrase
    names a feeling, not what the feeling is about."""
    return all(w in COMPLAINT_WORDS or w in PRAISE_WORDS or w in TONE_ADVERBS for w in phrase.split())


def _compose(profile: SegmentProfile, themes: Sequence[str], detail: int) -> str:
    """The name from a lead theme (and a second when ``detail`` asks), the tone and who they are."""
    tone, who = _tone(profile), who_they_are(profile, strong_only=bool(themes))
    if tone:   # "Unhappy about unfortunately" says the tone twice and no topic: topics lead
        themes = [t for t in themes if not _tone_only(t)] + [t for t in themes if _tone_only(t)]
    category = _main_category(profile)
    theme = themes[0] if themes else ""
    if detail >= 1 and len(themes) > 1:
        theme = f"{theme} & {themes[1]}"
    if theme and tone == "unhappy":
        name = f"Unhappy about {theme}" + (f", {who[0].lower()}{who[1:]}" if who else "")
    elif theme and tone == "happy":
        name = f"Happy with {theme}" + (f", {who[0].lower()}{who[1:]}" if who else "")
    elif theme and who:
        name = f"{who} talking about {theme}"
    elif theme:
        second = f" & {themes[1]}" if len(themes) > 1 and detail == 0 and len(theme.split()) == 1 else ""
        name = capitalise(theme + second)
    elif who:
        name = who if tone != "unhappy" else f"Unhappy {who[0].lower()}{who[1:]}"
    else:
        name = ""
    if name and category and (detail >= 2 or (not theme and len(name.split()) <= 4)):
        name += f", mostly {category[0]}"
    return name


def portrait(profile: SegmentProfile) -> str:
    """One line that shows the segment at a glance: what they write about, their tone and ratings against the
    other customers, the category most of them share and their value."""
    if profile.is_noise:
        return ""
    parts = []
    if profile.key_phrases:
        parts.append("write about " + join_words([f"“{k}”" for k in profile.key_phrases[:3]]))
    complaint, rest = profile.complaint_share, profile.complaint_rest_share or 0.0
    if complaint is not None and (complaint_heavy(profile) or (complaint >= 0.2 and abs(complaint - rest) >= 0.05)):
        parts.append(f"{percent(complaint)} complain (vs {percent(rest)} of the others)")
    elif profile.praise_share is not None and praise_heavy(profile):
        parts.append(f"{percent(profile.praise_share)} praise (vs {percent(profile.praise_rest_share)} of the others)")
    if profile.rating_split and profile.rating_column:
        band, share, rest = max(profile.rating_split, key=lambda b: b[1] - b[2])
        if share - rest >= 0.05:   # the band the segment over-uses most, when it clearly does
            parts.append(f"{percent(share)} rate {band} on {pretty_column(profile.rating_column)} "
                         f"(vs {percent(rest)})")
    who = who_they_are(profile)
    if who and not profile.key_phrases:
        parts.append(f"{who[0].lower()}{who[1:]}")
    category = _main_category(profile)
    if category:
        parts.append(f"mostly {category[0]} ({percent(category[1])})")
    if profile.value_share is not None and profile.value_column and profile.share:
        worth = value_share_words(profile.value_share, profile.value_column, profile.size)
        if worth:
            parts.append(f"{worth} from {percent(profile.share)} of customers" if profile.value_share > 0 else worth)
    if not parts:
        return "Nothing sets them clearly apart on the columns profiled."
    return capitalise("; ".join(parts)) + "."


def persona_names(profiles: Sequence[SegmentProfile]) -> tuple[SegmentProfile, ...]:
    """``profiles`` with persona-like names and portraits, every name different.

    Bigger segments choose their lead key phrase first; a phrase (or its idea: "delay" and "delays") that another
    segment already leads with is skipped. Names that still collide get a second theme, then their main category,
    then their previous name's traits. Without any evidence a segment keeps its previous name.
    """
    order = sorted(range(len(profiles)), key=lambda i: (profiles[i].is_noise, -profiles[i].size, i))
    used: list[frozenset[str]] = []
    themes: dict[int, list[str]] = {}
    for i in order:
        phrases = [] if profiles[i].is_noise else list(profiles[i].key_phrases)
        fresh = [p for p in phrases if not any(phrase_idea(p) == u for u in used)]
        lead = fresh[:1] or phrases[:1]
        themes[i] = lead + [p for p in phrases if p not in lead]
        if lead:
            used.append(phrase_idea(lead[0]))
    names: dict[int, str] = {}
    for i, p in enumerate(profiles):
        names[i] = NOISE_NAME if p.is_noise else (_compose(p, themes[i], 0) or p.name or segment_label(p.segment))
    for detail in (1, 2, 3):
        counts = pd.Series(list(names.values())).value_counts()
        clashes = [i for i, n in names.items() if counts[n] > 1 and not profiles[i].is_noise]
        if not clashes:
            break
        for i in clashes:
            if detail < 3:
                names[i] = _compose(profiles[i], themes[i], detail) or names[i]
            elif profiles[i].name and profiles[i].name not in names[i]:
                names[i] = f"{names[i]} ({profiles[i].name})"
    seen: dict[str, int] = {}
    out = []
    for i, p in enumerate(profiles):
        name = names[i]
        seen[name] = seen.get(name, 0) + 1
        if seen[name] > 1:   # a last resort that still says something: the same persona, a second group of it
            name = f"{name} · group {seen[name]}"
        out.append(replace(p, name=name, portrait=portrait(p)))
    return tuple(out)
