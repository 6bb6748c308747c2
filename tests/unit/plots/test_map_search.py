"""The map's "Find customers" search also finds customers by their tags (the key phrases they wrote)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from segmentation.act.tables import labelled_customers, result_tags
from segmentation.plots import map as plots
from segmentation.understand.profile import SegmentProfile
from tests.unit.plots.test_map import make_result

IDS = ["C1", "C2", "C3", "C4"]
TEXTS = ["They lost my baggage again", "Rude staff at the gate", "Lovely crew", "no words"]
TAGS = ["lost baggage", "rude staff", "", "lost baggage; refund"]


def test_a_tag_finds_customers_whose_text_has_the_words_apart() -> None:
    # "lost baggage" as written is in no text, but customers 1 and 4 carry the tag
    rows, how = plots.find_customers(IDS, TEXTS, '"lost baggage"', TAGS)
    assert rows.tolist() == [0, 3] and how == "tags"
    assert plots.find_customers(IDS, TEXTS, '"lost baggage"')[0].tolist() == []  # without tags: nothing


def test_text_and_tags_are_searched_together_and_ids_still_come_first() -> None:
    rows, how = plots.find_customers(IDS, TEXTS, "baggage", TAGS)
    assert rows.tolist() == [0, 3] and how == "text"  # customer 1 by text, customer 4 by its tag only
    assert plots.find_customers(IDS, TEXTS, "refund", TAGS)[0].tolist() == [3]
    assert plots.find_customers(IDS, TEXTS, "c2", TAGS) == (plots.find_customers(IDS, TEXTS, "c2")[0], "id")
    rows, how = plots.find_customers(IDS, TEXTS, "luggage", TAGS)
    assert rows.tolist() == [] and how == ""
    # "staff" must start a word of the tag: "taff" finds nothing
    assert plots.find_customers(IDS, TEXTS, "taff", TAGS)[0].tolist() == []


def test_tags_of_another_length_are_ignored_rather_than_misaligned() -> None:
    rows, how = plots.find_customers(IDS, TEXTS, "refund", TAGS[:2])
    assert rows.tolist() == [] and how == ""


def profile(segment: int, phrases: tuple[str, ...]) -> SegmentProfile:
    return SegmentProfile(segment=segment, size=2, share=0.5, numeric=pd.DataFrame(), categories=pd.DataFrame(),
                          key_phrases=phrases)


def test_result_tags_are_the_export_tags_and_none_without_text() -> None:
    texts = ["lost baggage at the desk", "my baggage was lost", "rude staff and rude pilot", "staff were rude"]
    result = replace(make_result([0, 0, 1, 1], texts),
                     profiles=(profile(0, ("lost baggage",)), profile(1, ("rude staff",))))
    tags = result_tags(result)
    assert tags[0] == "lost baggage" and tags[2] == "rude staff"
    assert tags == labelled_customers(result, with_distance=False)["tags"].tolist()
    rows, how = plots.find_customers(result.row_ids, result.texts, '"rude staff"', tags)
    assert 2 in rows.tolist() and how == "text"
    assert result_tags(make_result(np.array([0, 1]))) is None
