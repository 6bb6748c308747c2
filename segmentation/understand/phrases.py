"""What a segment's customers say: distinctive keywords (class-based TF-IDF), quotes and complaints.

Texts are read as given (one per customer, "" for none); masked identifiers (<EMAIL>, ...) are ignored and
quotes are masked again before they are shown. Above :data:`MAX_KEYWORD_TEXTS` texts each segment keeps a
seeded share, so the same inputs and ``random_state`` give the same words.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np

from segmentation.errors import DataError
from segmentation.ingest.privacy import mask_text
from segmentation.understand.contrast import ALPHA, benjamini_hochberg

MAX_KEYWORD_TEXTS = 8_000
"""Texts read for keywords and complaints; above it each segment keeps a seeded share (at least 500 texts)."""

N_QUOTES = 5
"""Quotes kept per segment."""

_MASK_TOKEN = re.compile(r"<[A-Z]+>")
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


def _shorten(text: str, limit: int = 240) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0]
    return cut.rstrip(",;:. ") + "…"


def quotes(texts: Sequence[str], ordered_rows: Sequence[int], keywords: Sequence[str], count: int = N_QUOTES
           ) -> tuple[str, ...]:
    """Up to ``count`` PII-masked texts of the customers at ``ordered_rows`` (nearest the segment's centre first);
    among the nearest, those that use the segment's ``keywords`` come first."""
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
