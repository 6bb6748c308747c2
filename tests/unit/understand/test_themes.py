import re

import numpy as np
import pandas as pd
import pytest

from segmentation.errors import DataError
from segmentation.understand.themes import ThemeProfile, describe_themes

TOPICS = {   # theme id -> (segment, texts that say the same thing in a few ways)
    0: (0, ["my card has not arrived yet", "still waiting for my new card to arrive",
            "card not arrived after two weeks", "when will my card arrive, it has not arrived"]),
    1: (0, ["my card was declined at the shop", "card declined again when paying", "why is my card declined online",
            "payment declined with my card today"]),
    2: (1, ["the refund is still pending", "refund pending for a week now", "where is my refund, still pending",
            "pending refund never came"]),
    3: (1, ["the exchange rate was wrong", "bad exchange rate on my transfer", "exchange rate charged is too high",
            "which exchange rate do you use"]),
}


def text_run():
    texts, themes = [], []
    for theme, (_, sentences) in TOPICS.items():
        for repeat in range(3):
            texts += [f"{s} {'please help' if repeat else ''}".strip() for s in sentences]
            themes += [theme] * len(sentences)
    themes = np.array(themes)
    table = pd.DataFrame({"customer": [f"C{i:03d}" for i in range(len(texts))], "message": texts})
    roles = {"customer": "id", "message": "text"}
    parent = {t: s for t, (s, _) in TOPICS.items()}
    embedding = np.eye(4)[themes] + np.arange(len(themes))[:, None] % 4 * 0.01
    return table, roles, texts, themes, parent, embedding


def test_theme_names_come_from_their_own_words_and_are_distinct_within_a_segment():
    table, roles, texts, themes, parent, embedding = text_run()
    found = describe_themes(table, roles, themes, parent, texts, embedding=embedding,
                            row_ids=table["customer"].tolist())
    assert [p.theme for p in found] == [0, 1, 2, 3] and [p.segment for p in found] == [0, 0, 1, 1]
    assert [p.code for p in found] == ["1.1", "1.2", "2.1", "2.2"]
    names = [p.name.lower() for p in found]
    assert not [n for n in names if re.match(r"^theme\b", n)]
    assert "arrived" in names[0] and "declined" in names[1], names
    assert "pending" in names[2] or "refund" in names[2], names
    assert "exchange" in names[3] or "rate" in names[3], names
    assert len(set(names[:2])) == 2 and len(set(names[2:])) == 2
    for profile in found:
        assert profile.size == 12 and profile.share_of_segment == pytest.approx(0.5)
        assert 1 <= len(profile.quotes) <= 3 and len(profile.representative_ids) == 3
        assert profile.key_phrases and profile.name.lower().startswith(profile.key_phrases[0].lower())
    assert found[0].representative_ids[0].startswith("C")


def test_a_segment_of_one_theme_is_named_against_everyone_else():
    table, roles, texts, themes, _, embedding = text_run()
    segments = {0: 0, 1: 0, 2: 1, 3: 2}                  # themes 2 and 3 are each a segment of their own
    found = describe_themes(table, roles, themes, segments, texts, embedding=embedding)
    assert "refund" in found[2].name.lower() or "pending" in found[2].name.lower()
    assert found[3].code == "3.1"


def test_without_text_themes_are_named_by_the_traits_that_set_them_apart_in_their_segment():
    rng = np.random.default_rng(0)
    n = 120
    themes = np.repeat([0, 1, 2], 40)
    table = pd.DataFrame({"balance": np.where(themes == 1, 5000.0, 100.0) + rng.normal(0, 10, n),
                          "tier": np.where(themes == 0, "Gold", "Basic")})
    roles = {"balance": "numeric", "tier": "categorical"}
    found = describe_themes(table, roles, themes, {0: 0, 1: 0, 2: 1})
    assert found[0].name == "Gold tier" and found[1].name == "Basic tier"      # the strongest trait names it
    assert "high balance" in found[1].traits
    assert found[0].traits[0] == "Gold tier" and found[0].quotes == ()
    assert found[2].name == "Theme 2.1"          # alone in its segment and without text: nothing to contrast


def test_the_unassigned_have_no_theme_and_mismatched_inputs_are_refused():
    table, roles, texts, themes, parent, _ = text_run()
    themes = themes.copy()
    themes[:3] = -1
    found = describe_themes(table, roles, themes, parent, texts)
    assert sum(p.size for p in found) == len(themes) - 3
    assert isinstance(found[0], ThemeProfile)
    with pytest.raises(DataError, match="There are 2 theme labels for 48 customers"):
        describe_themes(table, roles, themes[:2], parent, texts)
