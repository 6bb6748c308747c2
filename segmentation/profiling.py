"""Per-segment profiles: size, share, what sets each segment apart, and what its customers say."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from .features import category_values, numeric_values

NOISE_NAME = "Unassigned"


@dataclass(frozen=True)
class SegmentProfile:
    """Everything the Profiles page and the report show for one segment (-1 = Unassigned)."""

    segment: int
    size: int
    share: float
    numeric: pd.DataFrame = field(repr=False)      # feature, segment_mean, rest_mean, overall_mean, effect
    categories: pd.DataFrame = field(repr=False)   # column, value, segment_share, overall_share, lift
    keywords: tuple[str, ...] = ()
    name: str = ""

    @property
    def is_noise(self) -> bool:
        return self.segment < 0


def segment_label(segment: int, names: Mapping[int, str] | None = None) -> str:
    """The label shown to people: the analyst's name, else 'Segment N' (1-based), 'Unassigned' for noise."""
    if segment < 0:
        return NOISE_NAME
    if names and names.get(segment):
        return names[segment]
    return f"Segment {segment + 1}"


def numeric_contrast(table: pd.DataFrame, columns: Sequence[str], mask: np.ndarray) -> pd.DataFrame:
    """Segment mean against everyone else, with a standardised effect size (Cohen's d)."""
    rows = []
    for column in columns:
        values = numeric_values(table[column])
        inside, outside = values[mask], values[~mask]
        inside, outside = inside[np.isfinite(inside)], outside[np.isfinite(outside)]
        if inside.size == 0 or outside.size == 0:
            continue
        pooled = np.sqrt(((inside.var(ddof=1) if inside.size > 1 else 0.0) * max(inside.size - 1, 0)
                          + (outside.var(ddof=1) if outside.size > 1 else 0.0) * max(outside.size - 1, 0))
                         / max(inside.size + outside.size - 2, 1))
        effect = (inside.mean() - outside.mean()) / pooled if pooled > 1e-12 else 0.0
        rows.append({"feature": column, "segment_mean": float(inside.mean()),
                     "segment_median": float(np.median(inside)), "rest_mean": float(outside.mean()),
                     "overall_mean": float(np.nanmean(values)), "effect": float(effect)})
    frame = pd.DataFrame(rows, columns=["feature", "segment_mean", "segment_median", "rest_mean", "overall_mean",
                                        "effect"])
    return frame.reindex(frame["effect"].abs().sort_values(ascending=False).index).reset_index(drop=True)


def category_contrast(table: pd.DataFrame, columns: Sequence[str], mask: np.ndarray, top: int = 3
                      ) -> pd.DataFrame:
    """Over-represented values: share in the segment against the share overall (lift)."""
    rows = []
    for column in columns:
        values = category_values(table[column])
        overall = values.value_counts(normalize=True)
        inside = values[mask].value_counts(normalize=True)
        for value, share in inside.head(top).items():
            rows.append({"column": column, "value": value, "segment_share": float(share),
                         "overall_share": float(overall[value]), "lift": float(share / overall[value])})
    frame = pd.DataFrame(rows, columns=["column", "value", "segment_share", "overall_share", "lift"])
    return frame.sort_values(["lift", "segment_share"], ascending=False).reset_index(drop=True)


def segment_keywords(texts: Sequence[str], labels: np.ndarray, top: int = 8) -> dict[int, tuple[str, ...]]:
    """Distinctive words and phrases per segment with class-based TF-IDF (one document per segment)."""
    from sklearn.feature_extraction.text import CountVectorizer

    labels = np.asarray(labels)
    segments = sorted(set(labels.tolist()))
    docs = [" ".join(t for t, lab in zip(texts, labels) if lab == s and t) for s in segments]
    if not any(doc.strip() for doc in docs):
        return {s: () for s in segments}
    try:
        vectorizer = CountVectorizer(ngram_range=(1, 2), stop_words="english", min_df=1, max_features=20_000,
                                     token_pattern=r"(?u)\b[a-zA-Z][a-zA-Z]+\b")
        counts = vectorizer.fit_transform(docs).toarray().astype(float)
    except ValueError:
        return {s: () for s in segments}
    terms = np.asarray(vectorizer.get_feature_names_out())
    tf = counts / np.maximum(counts.sum(1, keepdims=True), 1.0)
    avg_words = counts.sum() / max(len(segments), 1)
    idf = np.log(1 + avg_words / np.maximum(counts.sum(0), 1.0))
    scores = tf * idf
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


def suggest_name(profile: SegmentProfile) -> str:
    """A short provisional name from the strongest trait; the analyst is expected to edit it."""
    if profile.is_noise:
        return NOISE_NAME
    if not profile.numeric.empty and abs(profile.numeric.iloc[0]["effect"]) >= 0.5:
        top = profile.numeric.iloc[0]
        word = "High" if top["effect"] > 0 else "Low"
        return f"{word} {top['feature'].replace('_', ' ')}"
    if not profile.categories.empty and profile.categories.iloc[0]["lift"] >= 1.3:
        top = profile.categories.iloc[0]
        return f"{top['value']} ({str(top['column']).replace('_', ' ')})"
    if profile.keywords:
        return f"Talks about {profile.keywords[0]}"
    return segment_label(profile.segment)


def profile_segments(table: pd.DataFrame, roles: Mapping[str, str], labels: np.ndarray,
                     texts: Sequence[str] | None = None) -> tuple[SegmentProfile, ...]:
    """One profile per segment, largest first, Unassigned last."""
    labels = np.asarray(labels)
    numeric = [c for c, r in roles.items() if r == "numeric" and c in table.columns]
    categorical = [c for c, r in roles.items() if r == "categorical" and c in table.columns]
    keywords = segment_keywords(texts, labels) if texts is not None else {}
    n = len(labels)
    profiles = []
    for segment in sorted(set(labels.tolist()), key=lambda s: (s < 0, s)):
        mask = labels == segment
        profile = SegmentProfile(
            segment=int(segment), size=int(mask.sum()), share=float(mask.sum() / n),
            numeric=numeric_contrast(table, numeric, mask),
            categories=category_contrast(table, categorical, mask),
            keywords=keywords.get(segment, ()),
        )
        profiles.append(SegmentProfile(**{**profile.__dict__, "name": suggest_name(profile)}))
    return tuple(profiles)


def profiles_table(profiles: Sequence[SegmentProfile], names: Mapping[int, str] | None = None) -> pd.DataFrame:
    """One row per segment for export: id, name, size, share, top traits and keywords."""
    rows = []
    for p in profiles:
        traits = [f"{r.feature} {'+' if r.effect > 0 else '-'}{abs(r.effect):.1f} sd" for r in
                  p.numeric.head(3).itertuples()]
        cats = [f"{r.column} = {r.value} (x{r.lift:.1f})" for r in p.categories.head(3).itertuples()]
        rows.append({
            "segment_id": p.segment,
            "segment_name": (names or {}).get(p.segment) or (p.name if not p.is_noise else NOISE_NAME),
            "customers": p.size,
            "share": round(p.share, 4),
            "top_traits": "; ".join(traits),
            "top_categories": "; ".join(cats),
            "keywords": ", ".join(p.keywords),
        })
    return pd.DataFrame(rows)
