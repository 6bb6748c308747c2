"""What customers say: complaints flagged against the other segments, on hand-made texts."""

from __future__ import annotations

import numpy as np
import pytest

from segmentation.errors import DataError
from segmentation.understand.phrases import quotes, segment_complaints, segment_keywords


def test_the_segment_that_complains_is_flagged_with_its_words() -> None:
    labels = np.repeat([0, 1], 40)
    texts = ["Lovely fabric and a quick delivery."] * 40 + ["It arrived damaged, I want a refund."] * 30 + [""] * 10
    keywords = segment_keywords(texts, labels)
    complaints = segment_complaints(texts, labels, keywords)
    assert complaints[1].flagged and complaints[1].share == pytest.approx(1.0)   # of the 30 who wrote something
    assert complaints[1].rest_share == 0.0 and set(complaints[1].terms) == {"damaged", "refund"}
    assert not complaints[0].flagged and complaints[0].share == 0.0
    with pytest.raises(DataError, match="79 texts for 80 customers"):
        segment_complaints(texts[:-1], labels, keywords)


def test_quotes_are_masked_and_prefer_the_segments_words() -> None:
    texts = ["Nice enough shop overall.", "Write to jane.doe@example.com about the refund please.", "ok"]
    chosen = quotes(texts, [0, 1, 2], ["refund"])
    assert len(chosen) == 2 and "refund" in chosen[0] and "@" not in chosen[0]
