"""Persona names and portraits: from key phrases, tone, ratings and traits; distinct, never "Segment N" with text."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from segmentation.understand.explain import profile_segments
from segmentation.understand.persona import (
    complaint_heavy,
    complaint_theme,
    persona_names,
    rating_bands,
    rating_column,
    segment_voices,
)
from segmentation.understand.profile import SegmentProfile
from segmentation.understand.tone import text_tone
from tests.unit.understand.test_keyphrases import planted

GENERIC = re.compile(r"^Segment \d+$")


def text_only(per_group: int = 40) -> tuple[pd.DataFrame, dict[str, str], np.ndarray, list[str]]:
    texts, labels = planted(per_group)
    table = pd.DataFrame({"customer_id": [f"C{i:03d}" for i in range(len(texts))], "message": texts})
    return table, {"customer_id": "id", "message": "text"}, labels, texts


def test_tone_reads_complaints_praise_negation_and_other_languages() -> None:
    assert text_tone("The parcel arrived damaged, I want a refund") == (True, False)
    assert text_tone("Love it, perfect fit") == (False, True)
    assert text_tone("Not good at all") == (True, False)         # negated praise complains
    assert text_tone("Not bad, never late") == (False, False)    # negated complaints say nothing
    assert text_tone("It never arrived") == (True, False)
    assert text_tone("Très déçu, colis endommagé") == (True, False)
    assert text_tone("Muy malo") == (True, False) and text_tone("Danke, alles perfekt") == (False, True)
    assert text_tone(None) == (False, False) and text_tone("  ") == (False, False)


def test_rating_columns_are_found_by_name_or_by_their_scale() -> None:
    rng = np.random.default_rng(0)
    table = pd.DataFrame({"Rating": rng.integers(1, 6, 50), "orders": rng.integers(1, 6, 50),
                          "Positive Feedback Count": rng.integers(0, 6, 50), "age": rng.integers(18, 80, 50)})
    roles = {c: "numeric" for c in table.columns}
    assert rating_column(table, roles) == "Rating"
    assert rating_column(table.drop(columns="Rating"), roles) == "orders"   # runs exactly 1-5: read as a rating
    table["orders"] = rng.integers(1, 40, 50)
    assert rating_column(table.drop(columns="Rating"), roles) is None
    labels, bands = rating_bands(np.array([1, 2, 3, 4, 5, np.nan]))
    assert labels == ("1–2", "3", "4–5") and bands.tolist() == [0, 0, 1, 2, 2, -1]
    labels, bands = rating_bands(np.array([0, 6, 7, 9, 10]))
    assert labels == ("0–6", "7–8", "9–10") and bands.tolist() == [0, 0, 1, 2, 2]


def test_a_text_only_file_gets_names_from_its_key_phrases_never_segment_n() -> None:
    table, roles, labels, texts = text_only()
    profiles = profile_segments(table, roles, labels, texts)
    names = [p.name for p in profiles]
    assert not any(GENERIC.match(n) for n in names), names
    assert len(set(names)) == len(names)
    for profile, planted_phrase in zip(profiles, ("lost baggage", "late flight", "rude staff")):
        assert profile.key_phrases[0] == planted_phrase
        assert planted_phrase in profile.name.lower(), profile.name
        assert planted_phrase in profile.portrait
    assert not any(re.search(r"acme|http|\d", n.lower()) for n in names)


def test_complaint_heavy_segments_are_named_unhappy_with_their_theme() -> None:
    table, roles, labels, texts = text_only()
    happy = ["lovely crew, great service, thank you", "perfect flight, friendly staff, love it",
             "great seats and lovely crew"]
    texts = texts + [happy[i % 3] for i in range(40)]
    labels = np.concatenate([labels, np.full(40, 3)])
    table = pd.DataFrame({"customer_id": range(len(texts)), "message": texts})
    profiles = {p.segment: p for p in profile_segments(table, roles, labels, texts)}
    lost = profiles[0]
    assert complaint_heavy(lost) and lost.name.startswith("Unhappy about lost baggage"), lost.name
    assert complaint_theme(lost) == "lost baggage"
    assert lost.complaint_share == pytest.approx(1.0)
    assert re.search(r"100% complain \(vs \d+% of the others\)", lost.portrait), lost.portrait
    assert profiles[3].name.startswith("Happy with"), profiles[3].name
    assert not complaint_heavy(profiles[3]) and complaint_theme(profiles[3]) is None
    # the action fixes the problem first and names it, even where the keyword test misses "lost"
    assert lost.action == "Fix the complaint first"
    assert re.fullmatch(r"100% of their comments complain \(vs \d+% of the others\)\. Resolve the complaints about "
                        r"lost baggage first, then .+\.", lost.action_reason), lost.action_reason
    assert profiles[3].action != "Fix the complaint first"


def test_long_texts_need_frequent_tone_words() -> None:
    article = "The minister spoke about the economy and the budget for the coming year. " * 6
    assert text_tone(article + "One delay was mentioned.") == (False, False)
    assert text_tone(article + "Delay after delay, a terrible, awful, broken process. " * 3)[0]


def test_ratings_split_by_segment_and_a_low_rated_segment_says_so() -> None:
    table, roles, labels, texts = text_only()
    table["stars"] = np.where(labels == 2, 1, 5)
    table.loc[table.index[::7], "stars"] = 3
    roles = {**roles, "stars": "numeric"}
    voices = segment_voices(texts, labels, table, roles)
    band, share, rest = voices[2]["rating_split"][0]
    assert voices[2]["rating_column"] == "stars" and band == "1–2" and share > 0.8 and rest == 0.0
    profiles = profile_segments(table, roles, labels, texts)
    assert re.search(r"\d+% rate 1–2 on stars \(vs 0%\)", profiles[2].portrait), profiles[2].portrait
    assert profiles[2].name.startswith("Unhappy about rude staff"), profiles[2].name


def test_structured_only_personas_name_value_and_loyalty() -> None:
    rng = np.random.default_rng(1)
    n = 300
    labels = np.repeat([0, 1, 2], n // 3)
    table = pd.DataFrame({
        "total_spend": np.where(labels == 0, rng.uniform(800, 1200, n), rng.uniform(50, 200, n)),
        "orders": np.where(labels == 0, rng.integers(20, 30, n), rng.integers(1, 6, n)),
        "days_since_last_order": np.where(labels == 1, rng.integers(300, 400, n), rng.integers(1, 60, n)),
        "channel": np.where(labels == 0, "app", rng.choice(["web", "store"], n)),
    })
    roles = {"total_spend": "numeric", "orders": "numeric", "days_since_last_order": "numeric",
             "channel": "categorical"}
    profiles = profile_segments(table, roles, labels)
    assert profiles[0].name == "Loyal big spenders, mostly app channel", profiles[0].name
    assert profiles[1].name.startswith("Lapsed"), profiles[1].name
    assert len({p.name for p in profiles}) == 3
    assert "mostly app channel (100%)" in profiles[0].portrait


def test_names_stay_distinct_when_segments_share_every_phrase() -> None:
    base = SegmentProfile(segment=0, size=50, share=0.5, numeric=pd.DataFrame(), categories=pd.DataFrame(),
                          key_phrases=("late flight", "lost baggage"), name="Segment 1")
    twin = SegmentProfile(segment=1, size=50, share=0.5, numeric=pd.DataFrame(), categories=pd.DataFrame(),
                          key_phrases=("late flight", "lost baggage"), name="Segment 2")
    named = persona_names([base, twin])
    assert named[0].name != named[1].name
    assert all("late flight" in p.name.lower() or "lost baggage" in p.name.lower() for p in named)
    assert not any(GENERIC.match(p.name) for p in named)


def test_an_unhappy_segment_is_named_after_a_topic_not_after_a_tone_word() -> None:
    # the clothing reviews' complaint segment was "Unhappy about unfortunately": its lead phrase was a tone word
    sad = SegmentProfile(segment=0, size=60, share=0.3, numeric=pd.DataFrame(), categories=pd.DataFrame(),
                         key_phrases=("unfortunately", "disappointed", "return", "price"), name="Segment 1",
                         complaint_share=0.6, complaint_rest_share=0.05)
    plain = SegmentProfile(segment=1, size=140, share=0.7, numeric=pd.DataFrame(), categories=pd.DataFrame(),
                           key_phrases=("comfortable", "sale"), name="Segment 2",
                           complaint_share=0.05, complaint_rest_share=0.6)
    named = persona_names([sad, plain])
    assert complaint_heavy(sad) and named[0].name.startswith("Unhappy about return"), named[0].name
    # without a tone the lead phrase stays first, tone word or not ("comfortable" is a topic in clothing)
    assert named[1].name.lower().startswith("comfortable"), named[1].name
