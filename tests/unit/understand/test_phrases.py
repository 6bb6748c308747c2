"""What customers say: complaints flagged against the other segments, on hand-made texts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from segmentation.errors import DataError
from segmentation.understand.explain import profile_segments
from segmentation.understand.persona import complaint_heavy, segment_voices
from segmentation.understand.phrases import quotes, segment_keywords


def test_the_segment_that_complains_is_flagged_with_its_words() -> None:
    """One complaint signal (understand.tone via persona.segment_voices) drives the description and the action."""
    labels = np.repeat([0, 1], 40)
    texts = ["Lovely fabric and a quick delivery."] * 40 + ["It arrived damaged, I want a refund."] * 30 + [""] * 10
    table = pd.DataFrame({"id": range(80), "comment": texts})
    voices = segment_voices(texts, labels, table, {"id": "id", "comment": "text"})
    assert voices[1]["complaint_share"] == pytest.approx(1.0)   # of the 30 who wrote something
    assert voices[1]["complaint_rest_share"] == 0.0 and voices[0]["complaint_share"] == 0.0
    profiles = profile_segments(table, {"id": "id", "comment": "text"}, labels, texts=texts)
    unhappy, happy = profiles[1], profiles[0]
    assert complaint_heavy(unhappy) and not complaint_heavy(happy)
    assert unhappy.action == "Fix the complaint first" and happy.action != "Fix the complaint first"
    assert "100% of them describe a problem" in unhappy.description
    with pytest.raises(DataError, match="79 texts for 80 customers"):
        segment_keywords(texts[:-1], labels)


def test_quotes_are_masked_and_prefer_the_segments_words() -> None:
    texts = ["Nice enough shop overall.", "Write to jane.doe@example.com about the refund please.", "ok"]
    chosen = quotes(texts, [0, 1, 2], ["refund"])
    assert len(chosen) == 2 and "refund" in chosen[0] and "@" not in chosen[0]
