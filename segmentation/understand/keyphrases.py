"""What each segment talks about, in phrases a marketer recognises: "lost baggage", "flight delays", "rude staff".

Candidates are the words and two- and three-word phrases of the customers' texts (stop words, filler, @handles,
URLs, e-mail addresses, numbers and masked identifiers such as <EMAIL> removed; a phrase never spans a sentence
break). Each segment's candidates are ranked with class-based TF-IDF (one document per segment, as BERTopic does)
and must be used clearly more in the segment than elsewhere (lift and a corrected significance test). Phrases
that are common in *every* segment are the dataset's boilerplate ("thank you", the brand's name) and never
count. A word mostly said inside a longer phrase gives way to the phrase ("baggage" -> "lost baggage").

With a sentence-embedding model the final choice follows BERTopic's KeyBERTInspired: embed the best candidates
and the segment's representative texts, keep the candidates nearest the segment's meaning, then pick a diverse
set with Maximal Marginal Relevance. With the TF-IDF model (or no model) the c-TF-IDF ranking is used as it is.
Everything is seeded: same texts, labels, model and ``random_state``, same phrases.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from segmentation.config import TFIDF_MODEL
from segmentation.errors import DataError, SegmentationError
from segmentation.understand.contrast import ALPHA, benjamini_hochberg
from segmentation.understand.phrases import _keyword_sample

EmbedFn = Callable[[Sequence[str]], np.ndarray]

N_PHRASES = 6
"""Key phrases kept per segment."""
N_CANDIDATES = 30
"""Best c-TF-IDF candidates per segment handed to the embedding model (BERTopic's KeyBERTInspired uses 30-100)."""
DIVERSITY = 0.3
"""Maximal Marginal Relevance trade-off: 0 keeps the phrases nearest the segment's meaning, 1 the most varied."""
MIN_LIFT = 1.5
"""A phrase must be found in at least 1.5 times as large a share of the segment's texts as of the others'."""
BOILERPLATE_SHARE = 0.05
"""A phrase found in at least 5% of the texts of every segment is the dataset's boilerplate, never a key phrase."""
ABSORB = 0.3
"""A word gives way to a longer candidate containing it when that phrase is in 30% of the word's texts."""
PHRASE_BONUS = 0.5
"""Rank bonus of a two- or three-word phrase: "lost baggage" beats "baggage" unless the word is far more
distinctive; two and three words rank alike, so the shorter wins a tie ("welcome emails", not "welcome emails
explaining")."""
REPRESENTATIVE_TEXTS = 40
"""Texts per segment embedded for its meaning (those using its best candidates first), as KeyBERTInspired does."""

_FILLER = frozenset("""
just really also got get gets getting one would could us im ive id dont didnt doesnt isnt wasnt arent werent cant
couldnt wont wouldnt shouldnt youre theyre thats whats theres lets its hes shes weve youve theyve ill youll well
like even still much many lot lots use used using uses keep keeps kept make makes made say says said go goes going
went gone come comes came thing things way ever always know think thought want wanted wants need needed needs try
tried trying day days time times today yesterday tomorrow week weeks month months year years hi hello hey dear sir
madam ok okay yes yeah yep via amp rt pls please thank thanks thx going gonna wanna let look looks looked able
actually definitely probably maybe sure little bit quite pretty lol oh ah did does doing done bought purchased
purchase ordered item items product products review reviews reviewer right super hit spot absolutely totally
""".split())
"""Words too common in customer texts to say anything on their own ("just", "used", "keeps", "does")."""
_OTHER_LANGUAGES = frozenset("""
le la les de des du et un une est pas que qui pour dans sur avec ce cette il elle je vous nous mais ou au aux
ne ni mon ma mes ton ta tes sa ses notre nos votre vos leur leurs ils elles on ces cet se lui y en par
moins tres très tout tous toute toutes encore aussi toujours jamais rien deja déjà depuis entre sans sous chez
été etre être avoir ai as avons avez ont suis es sommes êtes sont était fait faire peu bien donc alors
quand comme si où quoi
el los las y en por con para del lo se su es al una mas más pero muy como mi mis tu tus sus nuestro nuestra
le les me te nos os ya sin sobre entre hasta desde también tambien todo toda todos todas esto esta este eso esa
ese estos estas fue ser estar está estoy están he ha han hay hace nada siempre nunca porque cuando donde
der die das und ist nicht ein eine zu mit den dem von sie es ich wir auf auch aber wie einen einem einer eines
des im am um für fur über aus bei nach vor noch schon sehr nur mein meine dein sein ihr unser waren sind
habe haben wird werden kann dass wenn weil oder doch mal immer nie nichts etwas alle
il di che e per non con una sono della lo gli le un uno del dei delle nel nella sul alla al da ma anche molto
mio mia suo sua loro questo questa quello quella stato ho ha hanno sempre mai niente perché quando
o os as um uma com não nao para por mais mas muito meu minha seu sua isso esta este foi ser estar tem tinha
""".split())
"""Function words of French, Spanish, German, Italian and Portuguese (articles, pronouns, possessives,
prepositions, auxiliaries, common adverbs), so that reviews in them give key phrases of content words: "mon
remboursement" and "client ne" were key phrases of a French file. Words that are also English content words
("plus", "car", "war", "hat", "dont" from "don't") are left out."""
_ELISION = re.compile(r"^(?:[cdjlmnst]|qu)['’](?=\w)")
"""French and Italian elided articles and pronouns ("j'attends", "l'hôtel", "qu'il", "l'ordine"): the letter
before the apostrophe is dropped, not glued to the word ("jattends")."""
NEGATIONS = frozenset({"not", "no", "never", "nothing", "nobody"})
"""Kept inside phrases ("never arrived", "not working") but never a phrase's last word or a phrase alone."""

_JOINERS = frozenset("and or but nor yet so because then than although though while whereas which that who whom "
                     "whose when where if".split())
"""Words that end a phrase: "lovely packaging and premium feel" holds "lovely packaging" and "premium feel" only."""

_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_EMAIL = re.compile(r"\S+@\S+\.\S+")
_HANDLE = re.compile(r"(?<![\w@])@\w+")
_MASK = re.compile(r"<[A-Z_]+>")
_BREAK = re.compile(r"[.!?;:,()\[\]{}\"“”«»…|/\\\n\r\t]+|\s[-–—]+\s")
_TOKEN = re.compile(r"\w+(?:['’]\w+)*")


def _stop_words() -> frozenset[str]:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return frozenset(ENGLISH_STOP_WORDS) - NEGATIONS | _FILLER | _OTHER_LANGUAGES


STOP_WORDS = _stop_words()
"""Never part of a key phrase: scikit-learn's English list (negations excepted), filler, other languages'."""


def clean_for_phrases(text: Any) -> str:
    """``text`` without URLs, e-mail addresses, @handles and masked identifiers (<EMAIL>, <PHONE>, ...)."""
    if not isinstance(text, str):
        return ""
    for pattern in (_URL, _EMAIL, _HANDLE, _MASK):
        text = pattern.sub(" . ", text)
    return text


def phrase_candidates(text: Any, max_words: int = 3, only: frozenset[str] | None = None) -> list[str]:
    """The candidate phrases of one text (1 to ``max_words`` words), each once, in order of appearance.

    Words are lower-cased; tokens with digits, single letters and stop words are dropped; phrases never span
    a sentence break and never end with a negation ("The bag was lost! Never again." gives "bag", "lost",
    "bag lost"; "@united lost my bag" gives "lost", "bag", "lost bag"). ``only``: keep just the phrases made
    of these words (faster when matching a known vocabulary).
    """
    out: dict[str, None] = {}
    for chunk in _BREAK.split(clean_for_phrases(text).lower()):
        runs: list[list[str]] = [[]]
        gap = 0
        for token in _TOKEN.findall(chunk):
            token = _ELISION.sub("", token).replace("’", "").replace("'", "")
            if token in _JOINERS:
                gap = 2
                continue
            if len(token) < 2 or not token.isalpha() or token in STOP_WORDS:
                gap += 1
                continue
            if gap > 1 or (only is not None and token not in only):
                runs.append([])     # "lost my baggage" is one phrase, "news on my lost baggage" is not
            if only is None or token in only:
                runs[-1].append(token)
            gap = 0
        for words in runs:
            for start, word in enumerate(words):
                if word not in NEGATIONS:
                    out[word] = None
                for end in range(start + 2, min(start + max_words, len(words)) + 1):
                    gram = words[start:end]
                    if gram[-1] not in NEGATIONS and len(set(gram)) == len(gram):
                        out[" ".join(gram)] = None
    return list(out)


def _stem(word: str) -> str:
    """A crude stem so that "delay", "delays" and "delayed" (or "dress" and "dresses") count as one idea when
    phrases are de-duplicated."""
    if len(word) > 5 and word.endswith(("sses", "shes", "ches", "xes")):
        return word[:-2]
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    for suffix in ("ing", "ed"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)]
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def phrase_idea(phrase: str) -> frozenset[str]:
    return frozenset(_stem(w) for w in phrase.split())


def text_embedder(model: str | None, batch_size: int = 32) -> EmbedFn | None:
    """A function that embeds phrases and texts with ``model`` (sharing the run's disk cache), or None for the
    TF-IDF model and for no model, where the c-TF-IDF ranking is used as it is."""
    if not model or model.strip().lower() == TFIDF_MODEL:
        return None
    from segmentation.paths import cache_dir
    from segmentation.represent.embed import EmbeddingCache, embed_texts, make_embedder

    embedder = make_embedder(model, batch_size)
    store = EmbeddingCache(cache_dir() / "embeddings.sqlite")
    return lambda items: embed_texts(list(items), embedder, store)


def segment_key_phrases(texts: Sequence[str], labels: np.ndarray, *, model: str | None = None,
                        embed: EmbedFn | None = None, top: int = N_PHRASES, random_state: int = 0
                        ) -> dict[int, tuple[str, ...]]:
    """The distinctive key phrases of each segment (Unassigned, -1, included), best first.

    ``texts``: one per customer ("" for none), PII already masked. ``model``: the run's embedding model; with a
    sentence-embedding model (or an ``embed`` function) the choice is KeyBERTInspired-style with MMR diversity,
    with "tfidf" or None it is the c-TF-IDF ranking. ``top`` phrases per segment (4-8 read well). A segment whose
    texts have nothing distinctive gets its most characteristic candidates anyway, and a segment without any
    text gets none. Above 8,000 texts each segment keeps a seeded share (``random_state``).
    """
    labels = np.asarray(labels).astype(int)
    if len(texts) != len(labels):
        raise DataError(f"There are {len(texts)} texts for {len(labels)} customers; give one text per customer.")
    segments = sorted(set(labels.tolist()))
    rows = _keyword_sample(labels, random_state)
    docs = [texts[i] if isinstance(texts[i], str) else "" for i in rows]
    stats = _class_statistics(docs, labels[rows], segments)
    if stats is None:
        return {s: () for s in segments}
    if embed is None and model is not None:
        try:
            embed = text_embedder(model)
        except SegmentationError:
            embed = None
    out: dict[int, tuple[str, ...]] = {}
    for position, segment in enumerate(segments):
        ranked = _ranked_candidates(stats, position)
        chosen: list[str] = []
        if embed is not None and len(ranked) > 1:
            try:
                chosen = _mmr_choice(ranked[:N_CANDIDATES], docs, labels[rows] == segment, embed, top, random_state)
            except SegmentationError:
                chosen = []
        out[segment] = tuple(chosen or _greedy_choice(ranked, top))
    return out


def _class_statistics(docs: list[str], labels: np.ndarray, segments: list[int]) -> dict[str, Any] | None:
    """Per segment and candidate: texts using it, c-TF-IDF score, lift, distinctiveness and boilerplate flags."""
    from scipy import sparse
    from sklearn.feature_extraction.text import CountVectorizer

    if not any(d.strip() for d in docs):
        return None
    try:
        vectorizer = CountVectorizer(analyzer=phrase_candidates, binary=True, min_df=2 if len(docs) > 20 else 1,
                                     max_features=60_000)
        counts = vectorizer.fit_transform(docs)
    except ValueError:   # no candidate at all
        return None
    position = {s: i for i, s in enumerate(segments)}
    codes = np.array([position[s] for s in labels.tolist()])
    indicator = sparse.csr_matrix((np.ones(len(docs)), (codes, np.arange(len(docs)))),
                                  shape=(len(segments), len(docs)))
    used = np.asarray((indicator @ counts).todense(), dtype=float)            # texts of the segment using it
    has_text = np.array([bool(d.strip()) for d in docs], dtype=float)
    n_in = np.asarray(indicator @ has_text, dtype=float).reshape(-1, 1)
    n_all = float(n_in.sum())
    tf = used / np.maximum(used.sum(1, keepdims=True), 1.0)
    idf = np.log(1 + used.sum() / max(len(segments), 1) / np.maximum(used.sum(0), 1.0))
    share_in = used / np.maximum(n_in, 1.0)
    rest_used = used.sum(0, keepdims=True) - used
    share_out = rest_used / np.maximum(n_all - n_in, 1.0)
    assigned = [i for i, s in enumerate(segments) if s >= 0 and n_in[i, 0] > 0]
    boilerplate = np.zeros(used.shape[1], dtype=bool)
    if len(assigned) >= 2:
        boilerplate = (share_in[assigned] >= BOILERPLATE_SHARE).all(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        lift = np.where(share_out > 0, share_in / share_out, np.inf)
        pooled = used.sum(0, keepdims=True) / max(n_all, 1.0)
        se = np.sqrt(pooled * (1 - pooled) * (1 / np.maximum(n_in, 1) + 1 / np.maximum(n_all - n_in, 1)))
        z = (share_in - share_out) / se
    from scipy.special import erfc

    testable = (used >= 2) & (lift >= MIN_LIFT) & np.isfinite(z) & (n_all - n_in > 0)
    p_values = np.where(testable, 0.5 * erfc(np.nan_to_num(z) / np.sqrt(2.0)), np.nan)
    significant = benjamini_hochberg(p_values.ravel()).reshape(p_values.shape) < ALPHA
    if len(segments) == 1:
        significant = used >= 1
    terms = vectorizer.get_feature_names_out().astype(str)
    # words common everywhere ("flight" for an airline) may sit inside a phrase ("late flight") but add nothing
    common = {str(t) for t in terms[boilerplate] if " " not in t}
    words = np.array([sum(w not in common for w in t.split()) for t in terms])
    boilerplate |= words == 0
    return {"terms": terms, "words": words, "used": used, "score": tf * idf, "lift": lift,
            "significant": significant & ~boilerplate, "usable": ~boilerplate & (used > 0)}


def _ranked_candidates(stats: dict[str, Any], row: int) -> list[tuple[str, float]]:
    """(phrase, rank score) of one segment, best first: distinctive candidates, else its most characteristic."""
    terms, words, used = stats["terms"], stats["words"], stats["used"][row]
    rank = stats["score"][row] * (1 + PHRASE_BONUS * np.clip(words - 1, 0, 1))
    pool = np.flatnonzero(stats["significant"][row])
    if not len(pool):   # nothing passes the test: the segment's most over-represented candidates
        usable = stats["usable"][row] & (stats["lift"][row] > 1)
        pool = np.flatnonzero(usable if usable.any() else stats["usable"][row])
    order = pool[np.argsort(-rank[pool], kind="stable")][:8 * N_CANDIDATES]
    # ties (common in short, repetitive texts): the shorter phrase, then the one made of more telling words
    single = {str(terms[j]): float(rank[j]) for j in order if words[j] == 1}
    support = np.array([sum(single.get(w, 0.0) for w in str(terms[j]).split()) for j in order])
    order = order[np.lexsort((-support, words[order], -np.round(rank[order], 12)))][:4 * N_CANDIDATES]
    index = {str(terms[j]): int(j) for j in order}
    return [(str(terms[j]), float(rank[j])) for j in order if not _absorbed(str(terms[j]), index, used, words)]


def _absorbed(term: str, index: dict[str, int], used: np.ndarray, words: np.ndarray) -> bool:
    """Is the word ``term`` mostly said inside a longer candidate, which then speaks for it?"""
    j = index[term]
    for other, k in index.items():
        if words[k] <= words[j] or f" {term} " not in f" {other} ":
            continue
        if words[j] == 1 and used[k] >= ABSORB * used[j]:
            return True
    return False


def _greedy_choice(ranked: list[tuple[str, float]], top: int) -> list[str]:
    """The best ``top`` candidates, skipping one that repeats the idea of a better one ("delays" after "delay")."""
    chosen: list[str] = []
    for term, _ in ranked:
        idea = phrase_idea(term)
        if any(idea <= phrase_idea(c) or phrase_idea(c) <= idea for c in chosen):
            continue
        chosen.append(term)
        if len(chosen) >= top:
            break
    return chosen


def _folded(text: str) -> str:
    """``text`` as ``phrase_candidates`` reads its words: lower case, apostrophes dropped."""
    return text.lower().replace("'", "").replace("’", "")


def _mmr_choice(ranked: list[tuple[str, float]], docs: list[str], inside: np.ndarray, embed: EmbedFn, top: int,
                random_state: int) -> list[str]:
    """KeyBERTInspired: the candidates nearest the mean of the segment's representative texts, diversified with
    Maximal Marginal Relevance (BERTopic's ``mmr``); c-TF-IDF rank breaks near-ties."""
    phrases = [t for t, _ in ranked]
    rank = np.array([s for _, s in ranked], dtype=float)
    members = [i for i in np.flatnonzero(inside) if docs[i].strip()]
    if not members:
        return []
    best = phrases[:10]
    # a text can only hold a phrase whose every word is in it: that cheap test skips most texts before the
    # exact one (which splits the text into candidates: seconds per 100,000 texts at every new clustering)
    best_words = [p.split() for p in best]

    def holds_a_best_phrase(doc: str) -> bool:
        folded = _folded(doc)
        if not any(all(w in folded for w in words) for words in best_words):
            return False
        joined = f" {' '.join(phrase_candidates(doc))} "
        return any(f" {p} " in joined for p in best)

    using = [i for i in members if holds_a_best_phrase(docs[i])]
    rng = np.random.default_rng(random_state)
    pool = using if len(using) >= 5 else members
    picked = sorted(rng.choice(pool, size=min(REPRESENTATIVE_TEXTS, len(pool)), replace=False).tolist())
    vectors = np.asarray(embed([docs[i] for i in picked] + phrases), dtype=float)
    centre = vectors[: len(picked)].mean(axis=0)
    words = vectors[len(picked):]
    norms = np.linalg.norm(words, axis=1) * max(float(np.linalg.norm(centre)), 1e-12)
    relevance = (words @ centre) / np.where(norms > 0, norms, 1.0)
    relevance = relevance * (0.7 + 0.3 * rank / max(rank.max(), 1e-12))
    unit = words / np.maximum(np.linalg.norm(words, axis=1, keepdims=True), 1e-12)
    similarity = unit @ unit.T
    chosen = [int(np.argmax(relevance))]
    candidates = [i for i in range(len(phrases)) if i != chosen[0]]
    while candidates and len(chosen) < top:
        redundancy = similarity[np.ix_(candidates, chosen)].max(axis=1)
        scores = (1 - DIVERSITY) * relevance[candidates] - DIVERSITY * redundancy
        for j in [candidates[int(p)] for p in np.argsort(-scores, kind="stable")]:
            idea = phrase_idea(phrases[j])
            candidates.remove(j)
            if not any(idea <= phrase_idea(phrases[c]) or phrase_idea(phrases[c]) <= idea for c in chosen):
                chosen.append(j)
                break
    return [phrases[j] for j in chosen]
