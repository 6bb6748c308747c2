"""The tone of a customer's text: does it complain, does it praise? One word list for every use.

Lexicon-based (English, then French, Spanish, German, Italian, Portuguese), with negation ("not good" complains,
"not bad" says nothing) and a length rule so an article that mentions one delay does not count as a complaint.
Used by the segment voices (:mod:`segmentation.understand.persona`: complaint and praise shares, names, portraits,
the "Fix the complaint first" action).
"""

from __future__ import annotations

import functools
import re
from typing import Any

COMPLAINT_WORDS = frozenset("""
refund refunds refunded broken late delayed delay delays damaged complain complaint complaints complained complaining
worst disappointed disappointing disappointment terrible awful rude faulty defective missing poor useless scam
horrible cancelled canceled unacceptable ignored lost stuck overcharged wrong error errors fail failed failing fails
failure problem problems bad hate hated annoyed annoying frustrated frustrating angry furious ridiculous pathetic
declined stolen unhappy dissatisfied cheaply flimsy itchy scratchy unflattering returned returning
remboursement retard retardé annulé cassé endommagé décevant déçu déçue nul pire perdu plainte
reembolso retraso retrasado cancelado roto dañado decepcionado decepcionante pésimo peor perdido queja malo mala
erstattung verspätet verspätung storniert kaputt beschädigt enttäuscht enttäuschend schlecht verloren beschwerde
rimborso ritardo cancellato rotto danneggiato deluso pessimo peggiore perso reclamo
atraso atrasado quebrado danificado péssimo pior reclamação
""".split())
"""Words that mark a complaint or a problem report (English, then French, Spanish, German, Italian, Portuguese)."""
COMPLAINT_PHRASES = ("never arrived", "never came", "never received", "still waiting", "not working", "stopped working",
                     "doesnt work", "didnt work", "does not work", "did not work", "waste of money", "waste of time",
                     "no response", "no answer", "sent back", "send back", "sending back", "too small", "too big",
                     "too tight", "too short", "too large", "runs small", "runs large", "charged twice", "on hold")
"""Phrases that mark a complaint, matched on the lower-cased text without apostrophes."""
PRAISE_WORDS = frozenset("""
great love loved loves lovely excellent amazing perfect perfectly happy pleased awesome fantastic wonderful best
beautiful comfortable comfy recommend recommended helpful friendly good nice flattering gorgeous superb brilliant
delighted impressed favorite favourite satisfied soft cute glad enjoy enjoyed enjoying outstanding
merci génial parfait excellent super bravo ravi ravie content contente magnifique
gracias genial perfecto excelente encantado encanta maravilloso bueno buena
danke toll perfekt ausgezeichnet zufrieden wunderbar prima
grazie ottimo perfetto fantastico
obrigado obrigada ótimo perfeito
""".split())
"""Words that mark praise (English, then French, Spanish, German, Italian, Portuguese)."""
NEGATORS = frozenset("not no never dont didnt doesnt isnt wasnt arent werent cant couldnt wont wouldnt hardly "
                     "barely nothing pas jamais nicht kein keine nunca non".split())
"""A tone word within two words after one of these flips: "not good" complains, "not bad" says nothing."""
WORDS_PER_TONE_WORD = 40
"""Up to 40 words one tone word sets a text's tone; a longer text needs one per 40 words (a news article that
mentions one delay does not complain)."""

_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")


def text_tone(text: Any) -> tuple[bool, bool]:
    """(complains, praises) for one text; both can be true ("love the colour, but it arrived damaged")."""
    if not isinstance(text, str) or not text.strip():
        return False, False
    return _tone(text)


@functools.lru_cache(maxsize=1 << 18)
def _tone(text: str) -> tuple[bool, bool]:
    # cached: every new clustering of a run asks again for the same texts (3 s per 100,000 texts otherwise);
    # the keys are the run's own text objects, the values two shared booleans
    words = [w.replace("'", "").replace("’", "") for w in _WORD.findall(text.lower())]
    joined = f" {' '.join(words)} "
    complaints = sum(joined.count(f" {p} ") for p in COMPLAINT_PHRASES)
    praise = 0
    for i, word in enumerate(words):
        negated = any(w in NEGATORS for w in words[max(0, i - 2):i])
        if word in COMPLAINT_WORDS and not negated:
            complaints += 1
        elif word in PRAISE_WORDS:
            complaints, praise = (complaints + 1, praise) if negated else (complaints, praise + 1)
    # a long text (an article, a long review) needs its tone words to be frequent, not merely present
    needed = max(1.0, len(words) / WORDS_PER_TONE_WORD)
    return complaints >= needed, praise >= needed
