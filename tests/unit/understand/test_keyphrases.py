"""Key phrases on planted texts: the planted phrases come out, handles, URLs, numbers and boilerplate never do."""

from __future__ import annotations

import re

import numpy as np
import pytest

from segmentation.config import DEFAULT_MODEL
from segmentation.errors import DataError
from segmentation.understand import keyphrases
from segmentation.understand.keyphrases import phrase_candidates, phrase_idea, segment_key_phrases

# three groups of airline complaints, each written to the company's handle and signed off with the same line
PLANTED = {
    0: ["they lost my baggage again", "lost baggage and nobody calls back", "my lost baggage claim is ignored",
        "still no trace of the lost baggage", "lost baggage for days, where is it"],
    1: ["late flight again, missed my meeting", "another late flight and no explanation",
        "the late flight ruined the wedding", "late flight, the crew blamed the weather",
        "why is every one a late flight"],
    2: ["rude staff at the gate", "the rude staff laughed at my mother", "rude staff shouted at the queue",
        "rude staff, never again", "the check-in desk had rude staff"],
}
BOILERPLATE = "Thank you for flying Acme Air."


def planted(per_group: int = 40, seed: int = 0) -> tuple[list[str], np.ndarray]:
    rng = np.random.default_rng(seed)
    texts, labels = [], []
    for segment, pool in PLANTED.items():
        for i in range(per_group):
            handle = ["@AcmeAir", "@acme_help", "@AcmeAir @airport"][i % 3]
            extra = f" see https://t.co/x{i}y and www.acme-air.com/claims ref 40{i} <EMAIL>" if i % 2 else ""
            texts.append(f"{handle} {pool[int(rng.integers(len(pool)))]}{extra} {i % 7 + 2} hours. {BOILERPLATE}")
            labels.append(segment)
    return texts, np.array(labels)


def test_candidates_drop_handles_urls_numbers_masks_and_stop_words() -> None:
    found = phrase_candidates("@AcmeAir they lost my baggage!! http://t.co/abc www.x.com 3 hours <EMAIL> a@b.com")
    assert "lost baggage" in found and "lost" in found and "baggage" in found
    joined = " ".join(found)
    assert not re.search(r"acme|http|www|t\.co|\d|email|they|my", joined), found


def test_candidates_respect_sentences_joiners_and_negations() -> None:
    found = phrase_candidates("The parcel never arrived. Refund please")
    assert "never arrived" in found and "arrived refund" not in found   # no phrase across a sentence break
    assert "never" not in found                                         # a negation is never a phrase alone
    assert "lovely packaging" in phrase_candidates("lovely packaging and premium feel")
    assert "packaging premium" not in phrase_candidates("lovely packaging and premium feel")
    assert "lost baggage" in phrase_candidates("lost my baggage")           # one skipped small word is fine
    assert "news lost" not in phrase_candidates("no news on my lost baggage")   # two are not


def test_planted_phrases_are_the_key_phrases_and_lead_each_segment() -> None:
    texts, labels = planted()
    phrases = segment_key_phrases(texts, labels)
    assert phrases[0][0] == "lost baggage"
    assert phrases[1][0] == "late flight"
    assert phrases[2][0] == "rude staff"
    everything = " | ".join(p for v in phrases.values() for p in v)
    assert not re.search(r"acme|http|www|t co|\d|email|hours|flying|thank", everything), everything
    for values in phrases.values():   # no two phrases of one segment say the same thing
        ideas = [phrase_idea(p) for p in values]
        assert not any(a <= b for i, a in enumerate(ideas) for b in ideas[i + 1:])


def test_boilerplate_present_in_every_segment_is_never_a_key_phrase(monkeypatch: pytest.MonkeyPatch) -> None:
    texts, labels = planted()
    # in every text of segment 0 but also in a fifth of the others': distinctive of 0, yet boilerplate
    texts = [t + (" Rate your customer experience." if s == 0 or i % 5 == 0 else "")
             for i, (t, s) in enumerate(zip(texts, labels))]
    phrases = segment_key_phrases(texts, labels)
    assert not any("experience" in p for v in phrases.values() for p in v), phrases
    monkeypatch.setattr(keyphrases, "BOILERPLATE_SHARE", 1.01)   # the rule, not chance, keeps it out
    assert any("experience" in p for p in segment_key_phrases(texts, labels)[0])


def test_with_an_embedding_model_the_choice_is_diverse_and_keeps_the_planted_phrases() -> None:
    texts, labels = planted()
    vocabulary: dict[str, int] = {}

    def bag_of_words(items):   # a stand-in model: texts sharing words point the same way
        vectors = np.zeros((len(items), 256))
        for row, item in enumerate(items):
            for word in re.findall(r"[a-z]+", item.lower()):
                vectors[row, vocabulary.setdefault(word, len(vocabulary) % 256)] += 1.0
        return vectors

    phrases = segment_key_phrases(texts, labels, embed=bag_of_words)
    assert "lost baggage" in phrases[0][:3] and "late flight" in phrases[1][:3] and "rude staff" in phrases[2][:3]
    assert phrases == segment_key_phrases(texts, labels, embed=bag_of_words)   # seeded


def test_segments_without_text_get_no_phrase_and_lengths_must_match() -> None:
    texts, labels = planted(per_group=20)
    texts = texts + [""] * 5
    labels = np.concatenate([labels, np.full(5, 3)])
    phrases = segment_key_phrases(texts, labels)
    assert phrases[3] == () and phrases[0]
    assert segment_key_phrases([""] * 4, np.array([0, 0, 1, 1])) == {0: (), 1: ()}
    with pytest.raises(DataError, match="3 texts for 4 customers"):
        segment_key_phrases(["a", "b", "c"], np.array([0, 0, 1, 1]))


def test_tfidf_model_uses_the_ranking_as_it_is() -> None:
    texts, labels = planted(per_group=20)
    assert segment_key_phrases(texts, labels, model="tfidf") == segment_key_phrases(texts, labels)


@pytest.mark.slow
def test_the_packaged_model_keeps_the_planted_phrases() -> None:
    texts, labels = planted()
    phrases = segment_key_phrases(texts, labels, model=DEFAULT_MODEL)
    assert "lost baggage" in phrases[0][:3], phrases
    assert "late flight" in phrases[1][:3], phrases
    assert "rude staff" in phrases[2][:3], phrases
    everything = " | ".join(p for v in phrases.values() for p in v)
    assert not re.search(r"acme|http|\d|email|flying|thank", everything), everything


def test_every_candidate_word_is_found_in_the_folded_text() -> None:
    # the key-phrase choice skips texts that lack a phrase's words before splitting them into candidates:
    # that shortcut is only exact if every candidate word appears in the folded text
    from segmentation.understand.keyphrases import _folded

    texts = ["Don’t LIKE the zipper!! It's too big; wasn't worth it.", "@acme Lost my BAG at http://x.io — never again",
             "L'hôtel était très sale, personne n'a aidé.", "Runs small... true-to-size? No. 2 stars", ""]
    for text in texts:
        folded = _folded(text)
        for phrase in phrase_candidates(text):
            assert all(word in folded for word in phrase.split()), (text, phrase)
    assert set(phrase_candidates(texts[1])) == {"lost", "bag", "lost bag"}  # the handle and the address are not words


def test_french_and_spanish_function_words_and_elisions_are_not_key_phrases() -> None:
    # a French file's key phrases were "mon remboursement", "client ne" and "jattends"
    french = phrase_candidates("J'attends toujours mon remboursement depuis un mois. Le service client ne répond "
                               "pas. L'hôtel était sale.")
    assert {"remboursement", "service client", "hôtel sale"} <= set(french), french
    assert not {"mon remboursement", "client ne", "jattends", "lhôtel", "toujours", "depuis"} & set(french), french
    spanish = phrase_candidates("Todavía estoy esperando mi reembolso, nadie me contesta desde hace un mes")
    assert "reembolso" in spanish and "mi reembolso" not in spanish and "desde" not in spanish, spanish
    # English contractions are read as before, and English words that are French function words elsewhere stay
    assert phrase_candidates("I've been waiting, I'll return it") == ["waiting", "return"]
    assert "plus size" in phrase_candidates("Great plus size dress")
