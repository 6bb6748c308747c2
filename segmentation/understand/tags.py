"""Tags per customer: the key phrases each customer actually wrote, for the ``tags`` column of the customer export.

No model runs per customer: each text is matched against the key-phrase vocabulary of the run (every segment's
key phrases, :mod:`segmentation.understand.keyphrases`), with the same candidate extraction that found them, so a
tag is always a phrase the customer used ("lost baggage" from "they lost my baggage again"). The customer's own
segment's phrases come first, in their rank order, then other segments' phrases.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from segmentation.errors import DataError
from segmentation.understand.keyphrases import phrase_candidates, phrase_idea

MAX_TAGS = 3
"""Tags kept per customer."""
SEPARATOR = "; "
"""Between the tags of one customer in the export ("lost baggage; claim form")."""


def customer_tags(texts: Sequence[str], labels: np.ndarray, phrases: Mapping[int, Sequence[str]],
                  top: int = MAX_TAGS) -> list[str]:
    """For each customer, up to ``top`` key phrases found in their own text, joined with "; " ("" for none).

    ``phrases``: segment -> its key phrases, best first (``SegmentProfile.key_phrases``). A phrase that repeats
    the idea of a tag already kept ("baggage" after "lost baggage") is skipped. Costs one pass over the texts.
    """
    from sklearn.feature_extraction.text import CountVectorizer

    labels = np.asarray(labels).astype(int)
    if len(texts) != len(labels):
        raise DataError(f"There are {len(texts)} texts for {len(labels)} customers; give one text per customer.")
    # the global order interleaves the segments' lists: every segment's best phrase first, then the second ...
    ranked = [list(dict.fromkeys(p.lower() for p in v)) for _, v in sorted(phrases.items())]
    depth = max(map(len, ranked), default=0)
    vocabulary = list(dict.fromkeys(r[d] for d in range(depth) for r in ranked if d < len(r)))
    if not vocabulary:
        return [""] * len(labels)
    column = {p: i for i, p in enumerate(vocabulary)}
    own = {int(s): {column[p.lower()]: rank for rank, p in enumerate(v)} for s, v in phrases.items()}
    words = frozenset(w for p in vocabulary for w in p.split())
    size = max(p.count(" ") + 1 for p in vocabulary)
    found = CountVectorizer(analyzer=lambda t: phrase_candidates(t, size, words), vocabulary=vocabulary,
                            binary=True).transform([t if isinstance(t, str) else "" for t in texts]).tocsr()
    ideas = [phrase_idea(p) for p in vocabulary]
    out = []
    for row, segment in enumerate(labels.tolist()):
        hits = found.indices[found.indptr[row]:found.indptr[row + 1]]
        if not len(hits):
            out.append("")
            continue
        ranks = own.get(segment, {})
        chosen: list[int] = []
        for j in sorted(hits.tolist(), key=lambda j: (j not in ranks, ranks.get(j, 0), j)):
            if any(ideas[j] <= ideas[c] or ideas[c] <= ideas[j] for c in chosen):
                continue
            chosen.append(j)
            if len(chosen) >= top:
                break
        out.append(SEPARATOR.join(vocabulary[j] for j in chosen))
    return out
