"""Names, portraits, actions, retention strategies and tags written by a language model, grounded and checked.

Per segment the model gets only aggregates and PII-masked quotes (:func:`llm_payload`: the evidence, each item
with an id) and answers JSON in which every sentence lists the evidence ids it rests on. Every number it states
(percentages, multipliers, counts) must match a figure of the evidence within rounding; a field that states one
that does not, or cites no evidence, falls back to the offline text, and the result says which and why. Names
that clash are made distinct in a second pass (the model once more, with every name), else by the offline
names. Answers are cached by payload hash, in memory and in ``cache_dir() / "llm"``, so a re-run asks nothing.
"""

from __future__ import annotations

import hashlib
import json
import re
import urllib.parse
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from segmentation.common import segment_label, segment_number
from segmentation.ingest.privacy import mask_text
from segmentation.understand.llm_client import LanguageModelOffTopic, LanguageModelSettings, ask_json
from segmentation.understand.profile import SegmentProfile
from segmentation.understand.wording import pretty_column

PROMPT_VERSION = "segment-texts-1"
FIELDS: tuple[str, ...] = ("name", "portrait", "action", "retention", "tags")

SYSTEM = (
    "You are a marketing analyst. You write for one customer segment, using ONLY the evidence given as JSON. "
    "Every number you write must be copied from the evidence (you may round it); never invent a figure. "
    "Answer with one JSON object and nothing else, with these keys:\n"
    '{"name": "a short persona-like name, 2 to 5 words, no numbers",\n'
    ' "portrait": [{"text": "one sentence", "evidence": ["ids"]}, ...2 or 3 sentences],\n'
    ' "action": {"text": "one marketing action", "evidence": ["ids"]},\n'
    ' "retention": {"text": "one retention strategy", "evidence": ["ids"]},\n'
    ' "tags": ["3 to 5 short tags"]}\n'
    'Each "evidence" lists the ids of the evidence items (e.g. "T1", "K2", "Q1") that the sentence rests on.'
)
NAMES_SYSTEM = (
    "You rename customer segments so that no two names are the same. Keep each name short (2 to 5 words), "
    "grounded in its key phrases and portrait, and without numbers. Answer with one JSON object and nothing "
    'else: {"names": {"<segment>": "name", ...}} with every segment given.'
)

_MEMORY: OrderedDict[str, dict[str, Any]] = OrderedDict()
_MEMORY_SIZE = 512
# a number not glued to a word ("T1", "Q2" are evidence ids) though "x2.1" and "2.1x" are multipliers, "72k" 72,000
_NUMBER = re.compile(r"(?<![A-WYZa-wyz0-9_.,])(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?(?:([kKmM]|bn)(?![A-Za-z]))?(?![\d,])")
_SCALE = {"k": 1e3, "m": 1e6, "bn": 1e9}


@dataclass(frozen=True)
class WrittenSegment:
    """What the model wrote for one segment, after the checks.

    ``evidence``: field -> ((sentence, evidence ids), ...) for the fields the model's text was kept for.
    ``fallbacks``: field -> why the offline text was used instead. ``payload``: exactly what was sent.
    """

    segment: int
    name: str
    portrait: str
    action: str
    retention: str
    tags: tuple[str, ...]
    evidence: dict[str, tuple[tuple[str, tuple[str, ...]], ...]] = field(default_factory=dict)
    fallbacks: dict[str, str] = field(default_factory=dict)
    payload: dict[str, Any] = field(default_factory=dict, repr=False)
    cached: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"segment": segment_number(self.segment), "name": self.name, "portrait": self.portrait,
                "action": self.action, "retention": self.retention, "tags": list(self.tags),
                "evidence": {k: [{"text": t, "evidence": list(ids)} for t, ids in v]
                             for k, v in self.evidence.items()},
                "fallbacks": dict(self.fallbacks), "cached": self.cached}


@dataclass(frozen=True)
class WrittenTexts:
    """Every segment's written texts, the payloads sent (``payloads``) and notes on the second pass."""

    model: str
    segments: tuple[WrittenSegment, ...]
    notes: tuple[str, ...] = ()
    names_payload: dict[str, Any] | None = None

    @property
    def names(self) -> dict[int, str]:
        """segment id -> name, as the analyst's names are kept."""
        return {w.segment: w.name for w in self.segments}

    @property
    def descriptions(self) -> dict[int, str]:
        """segment id -> portrait, as the analyst's descriptions are kept (``choose.curate.apply_descriptions``)."""
        return {w.segment: w.portrait for w in self.segments if w.portrait}

    def payloads(self) -> dict[str, Any]:
        """Exactly what was sent (the system prompts, each segment's evidence, the second pass), to show and log."""
        return {"prompt_version": PROMPT_VERSION, "model": self.model, "system": SYSTEM,
                "segments": [w.payload for w in self.segments],
                "names_system": NAMES_SYSTEM if self.names_payload else None, "names": self.names_payload}

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model, "segments": [w.to_dict() for w in self.segments], "notes": list(self.notes)}


# ----------------------------------------------------------------------------------------------------------------
# The payload: aggregates and masked quotes only
# ----------------------------------------------------------------------------------------------------------------
def _num(value: Any) -> str:
    value = float(value)
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if value == round(value):
        return str(int(round(value)))
    return f"{value:.3g}" if abs(value) >= 0.01 else f"{value:.4f}".rstrip("0")


def _pct(share: Any) -> str:
    return f"{float(share) * 100:.1f}%"


def _finite(*values: Any) -> bool:
    return all(v is not None and np.isfinite(float(v)) for v in values)


def llm_payload(profile: SegmentProfile, region: str = "GB", max_traits: int = 6, max_quotes: int = 5
                ) -> dict[str, Any]:
    """What is sent about ``profile``: its size, significant traits with effect sizes, over-represented values with
    lift, rules, key phrases, complaint/praise and rating shares, value and outcome figures, the offline texts, and
    at most ``max_quotes`` quotes masked again with :func:`segmentation.ingest.privacy.mask_text` (``region``
    decides which phone formats count). Aggregates only: no customer's row, id or unmasked text is ever in it."""
    items: list[dict[str, str]] = []

    def add(prefix: str, kind: str, text: str) -> None:
        number = sum(1 for i in items if i["id"].startswith(prefix)) + 1
        items.append({"id": f"{prefix}{number}", "kind": kind, "text": text})

    add("S", "size", f"{profile.size:,} customers, {_pct(profile.share)} of all customers")
    numeric = profile.notable_numeric if "significant" in profile.numeric else profile.numeric
    for row in numeric.head(max_traits).itertuples():
        if _finite(row.segment_mean, row.rest_mean, row.effect):
            add("T", "trait", f"{pretty_column(row.feature)}: average {_num(row.segment_mean)} against "
                              f"{_num(row.rest_mean)} for other customers (effect {float(row.effect):+.2f} "
                              "standard deviations)")
    categories = profile.notable_categories if "significant" in profile.categories else profile.categories
    for row in categories.head(max_traits).itertuples():
        if _finite(row.segment_share, row.rest_share, row.lift):
            add("C", "category", f"{pretty_column(row.column)} = {row.value}: {_pct(row.segment_share)} of the "
                                 f"segment against {_pct(row.rest_share)} of other customers "
                                 f"(x{float(row.lift):.2f} the overall share)")
    for rule in profile.rules[:3]:
        add("R", "rule", f"{rule.text} (covers {_pct(rule.coverage)} of the segment; {_pct(rule.precision)} of "
                         "the customers it matches are in it)")
    for phrase in profile.key_phrases[:8]:
        add("K", "key phrase", mask_text(str(phrase), region))
    if _finite(profile.complaint_share, profile.complaint_rest_share):
        add("W", "complaints", f"{_pct(profile.complaint_share)} of their texts complain, against "
                               f"{_pct(profile.complaint_rest_share)} of other customers' texts")
    if _finite(profile.praise_share, profile.praise_rest_share):
        add("W", "praise", f"{_pct(profile.praise_share)} of their texts praise, against "
                           f"{_pct(profile.praise_rest_share)} of other customers' texts")
    for band, mine, others in profile.rating_split:
        add("G", "rating", f"{band} {pretty_column(profile.rating_column or 'rating')}: {_pct(mine)} of the "
                           f"segment against {_pct(others)} of other customers")
    if profile.value_share is not None and _finite(profile.value_share):
        add("V", "value", f"{_pct(profile.value_share)} of {pretty_column(profile.value_column or 'value')} "
                          f"from {_pct(profile.share)} of customers")
    if profile.outcomes is not None:
        for row in profile.outcomes.itertuples():
            if _finite(row.rate, row.overall, row.lift):
                add("O", "outcome", f"{pretty_column(row.column)}: rate {_pct(row.rate)} against "
                                    f"{_pct(row.overall)} overall (x{float(row.lift):.2f})")
    for quote in profile.quotes[:max_quotes]:
        text = mask_text(" ".join(str(quote).split()), region)
        add("Q", "quote", text if len(text) <= 280 else text[:277] + "...")
    for kind, text in (("offline name", profile.name), ("offline portrait", profile.portrait or profile.description),
                       ("offline action", " ".join(t for t in (profile.action, profile.action_reason) if t))):
        if text:
            add("A", kind, text)
    return {"segment": segment_number(profile.segment), "evidence": items}


# ----------------------------------------------------------------------------------------------------------------
# The checks
# ----------------------------------------------------------------------------------------------------------------
def stated_numbers(text: str) -> list[tuple[float, float]]:
    """(value, rounding tolerance) of every number in ``text``: "45%" -> (45, 0.5), "2.1x" -> (2.1, 0.05),
    "1,200" -> (1200, 50) (round thousands may be rounded to their last non-zero digit), "72k" -> (72000, 500)."""
    out = []
    for whole, decimals, suffix in _NUMBER.findall(text):
        digits = whole.replace(",", "")
        value = float(digits + decimals)
        tolerance = 0.5 * 10.0 ** -(len(decimals) - 1) if decimals else 0.5
        if not decimals and value >= 1000:
            tolerance = 0.5 * 10.0 ** (len(digits) - len(digits.rstrip("0")))
        scale = _SCALE.get(suffix.lower(), 1.0) if suffix else 1.0
        out.append((value * scale, tolerance * scale))
    return out


def evidence_figures(payload: dict[str, Any]) -> list[float]:
    """Every figure the evidence states (absolute values: "-1.2 standard deviations" may be said "1.2 below")."""
    return [abs(v) for item in payload.get("evidence", []) for v, _ in stated_numbers(item["text"])]


def ungrounded(text: str, figures: Sequence[float]) -> list[str]:
    """The numbers in ``text`` that match no figure of the evidence within rounding."""
    bad = []
    for value, tolerance in stated_numbers(text):
        if not any(abs(value - f) <= tolerance + 1e-9 for f in figures):
            bad.append(f"{value:g}")
    return bad


def _sentences(value: Any, known: set[str], figures: Sequence[float], label: str
               ) -> tuple[tuple[tuple[str, tuple[str, ...]], ...], str | None]:
    """((sentence, ids), ...) of a field answered as {text, evidence} or a list of them; or why it fails."""
    parts = value if isinstance(value, list) else [value]
    out = []
    for part in parts:
        if not isinstance(part, dict) or not str(part.get("text", "")).strip():
            return (), f"the model gave no {label} text"
        text = " ".join(str(part["text"]).split())
        ids = tuple(str(i).strip() for i in (part.get("evidence") or []) if str(i).strip() in known)
        if not ids:
            return (), f"the {label} sentence {text[:60]!r} cites no evidence item that was given"
        bad = ungrounded(text, figures)
        if bad:
            return (), f"the {label} states {', '.join(bad)}, which is not a figure of the evidence"
        out.append((text, ids))
    if not out:
        return (), f"the model gave no {label} text"
    return tuple(out), None


def check_answer(answer: dict[str, Any], profile: SegmentProfile, payload: dict[str, Any], cached: bool = False
                 ) -> WrittenSegment:
    """The model's ``answer`` for ``profile``, every field checked; a field that fails keeps the offline text."""
    known = {item["id"] for item in payload.get("evidence", [])}
    figures = evidence_figures(payload)
    offline = {"name": profile.name, "portrait": profile.portrait or profile.description, "action": profile.action,
               "retention": "", "tags": tuple(profile.key_phrases[:5] or profile.keywords[:5])}
    kept: dict[str, Any] = {}
    evidence: dict[str, tuple[tuple[str, tuple[str, ...]], ...]] = {}
    fallbacks: dict[str, str] = {}
    name = " ".join(str(answer.get("name") or "").split())
    if not name or len(name) > 80:
        fallbacks["name"] = "the model gave no name" if not name else "the model's name is longer than 80 characters"
    elif ungrounded(name, figures):
        fallbacks["name"] = f"the name states {', '.join(ungrounded(name, figures))}, not a figure of the evidence"
    else:
        kept["name"] = name
    for key, label in (("portrait", "portrait"), ("action", "action"), ("retention", "retention strategy")):
        sentences, why = _sentences(answer.get(key), known, figures, label)
        if why:
            fallbacks[key] = why
        else:
            evidence[key] = sentences
            kept[key] = " ".join(text for text, _ in sentences)
    tags = answer.get("tags")
    tags = [" ".join(str(t).split()) for t in tags if str(t).strip()] if isinstance(tags, list) else []
    bad = [t for t in tags if ungrounded(t, figures)]
    if not tags or bad:
        fallbacks["tags"] = "the model gave no tags" if not tags else f"the tag {bad[0]!r} states a figure that " \
                                                                     "is not in the evidence"
    else:
        kept["tags"] = tuple(dict.fromkeys(tags))[:5]
    texts = {**offline, **kept}
    return WrittenSegment(profile.segment, texts["name"], texts["portrait"], texts["action"], texts["retention"],
                          tuple(texts["tags"]), evidence, fallbacks, payload, cached)


# ----------------------------------------------------------------------------------------------------------------
# The cache and the calls
# ----------------------------------------------------------------------------------------------------------------
def endpoint_key(url: str) -> str:
    """The endpoint as the cache knows it: scheme and host in lower case, no default port, no trailing slash.

    Two servers may serve different weights under one model name ("llama3" on a laptop and on a GPU box), so
    an answer is only reused from the endpoint that gave it; ``HTTP://Host:80/v1/`` and ``http://host/v1`` are one.
    """
    parts = urllib.parse.urlsplit(str(url).strip())
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    port = parts.port
    if port is not None and (scheme, port) not in {("http", 80), ("https", 443)}:
        host = f"{host}:{port}"
    return urllib.parse.urlunsplit((scheme, host, parts.path.rstrip("/"), parts.query, ""))


def payload_key(settings: LanguageModelSettings, system: str, payload: dict[str, Any]) -> str:
    """The cache key: the endpoint (:func:`endpoint_key`), the model, the prompt and the payload."""
    text = json.dumps({"v": PROMPT_VERSION, "endpoint": endpoint_key(settings.url), "model": settings.model,
                       "seed": settings.seed, "system": system, "payload": payload}, sort_keys=True,
                      ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _cache_folder(folder: Path | None) -> Path:
    if folder is None:
        from segmentation.paths import cache_dir

        folder = cache_dir() / "llm"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _ask_cached(settings: LanguageModelSettings, system: str, payload: dict[str, Any], folder: Path | None,
                use_cache: bool) -> tuple[dict[str, Any], bool]:
    """The model's JSON answer to ``payload`` and whether it came from the cache (memory, then disk)."""
    key = payload_key(settings, system, payload)
    path = _cache_folder(folder) / f"{key}.json" if use_cache else None
    if use_cache:
        if key in _MEMORY:
            _MEMORY.move_to_end(key)
            return _MEMORY[key], True
        if path is not None and path.exists():
            try:
                answer = json.loads(path.read_text(encoding="utf-8"))["answer"]
                _remember(key, answer)
                return answer, True
            except (OSError, ValueError, KeyError):
                pass   # a damaged cache file: ask again and overwrite it
    answer = ask_json(settings, system, json.dumps(payload, ensure_ascii=False, indent=1))
    if use_cache and path is not None:
        _remember(key, answer)
        path.write_text(json.dumps({"endpoint": endpoint_key(settings.url), "model": settings.model,
                                    "answer": answer}, ensure_ascii=False),
                        encoding="utf-8")
    return answer, False


def _remember(key: str, answer: dict[str, Any]) -> None:
    _MEMORY[key] = answer
    while len(_MEMORY) > _MEMORY_SIZE:
        _MEMORY.popitem(last=False)


def clear_memory_cache() -> None:
    """Forget the answers held in memory (the files in the cache folder stay)."""
    _MEMORY.clear()


def write_segments(profiles: Sequence[SegmentProfile], settings: LanguageModelSettings, region: str = "GB",
                   cache_folder: Path | None = None, use_cache: bool = True,
                   on_progress: Callable[[str, float], None] | None = None) -> WrittenTexts:
    """Ask the model for every segment of ``profiles`` (Unassigned is skipped), check each answer, then make the
    names distinct. Connection failures raise :class:`~segmentation.understand.llm_client.LanguageModelError`;
    an answer that is not the requested JSON keeps the offline texts for that segment, said in its fallbacks."""
    settings.require()
    chosen = [p for p in profiles if not p.is_noise]
    written = []
    for done, profile in enumerate(chosen):
        payload = llm_payload(profile, region)
        try:
            answer, cached = _ask_cached(settings, SYSTEM, payload, cache_folder, use_cache)
            written.append(check_answer(answer, profile, payload, cached))
        except LanguageModelOffTopic as error:
            written.append(_all_fallback(check_answer({}, profile, payload), str(error)))
        if on_progress:
            on_progress("language model", (done + 1) / max(len(chosen), 1))
    distinct, names_payload, notes = _distinct_names(written, chosen, settings, cache_folder, use_cache)
    return WrittenTexts(settings.model, tuple(distinct), tuple(notes), names_payload)


def _all_fallback(segment: WrittenSegment, reason: str) -> WrittenSegment:
    from dataclasses import replace

    return replace(segment, evidence={}, fallbacks={f: reason for f in FIELDS})


def _clashes(names: Sequence[str]) -> set[str]:
    seen: dict[str, int] = {}
    for name in names:
        seen[name.casefold()] = seen.get(name.casefold(), 0) + 1
    return {n for n, c in seen.items() if c > 1}


def _distinct_names(written: list[WrittenSegment], profiles: Sequence[SegmentProfile],
                    settings: LanguageModelSettings, folder: Path | None, use_cache: bool
                    ) -> tuple[list[WrittenSegment], dict[str, Any] | None, list[str]]:
    """Names made distinct: the model once more with every name, else the offline name, else the number."""
    from dataclasses import replace

    if not _clashes([w.name for w in written]):
        return written, None, []
    payload = {"segments": [{"segment": segment_number(w.segment), "name": w.name, "portrait": w.portrait,
                             "key_phrases": [mask_text(str(k)) for k in p.key_phrases[:5]]}
                            for w, p in zip(written, profiles)]}
    notes = []
    try:
        answer, _ = _ask_cached(settings, NAMES_SYSTEM, payload, folder, use_cache)
        renamed = answer.get("names") if isinstance(answer.get("names"), dict) else {}
        names = [" ".join(str(renamed.get(str(segment_number(w.segment))) or "").split()) for w in written]
        figures = [evidence_figures(w.payload) for w in written]
        if all(n and len(n) <= 80 and not ungrounded(n, f) for n, f in zip(names, figures)) \
                and not _clashes(names):
            notes.append("The model renamed segments whose names clashed, in a second pass.")
            return [replace(w, name=n) for w, n in zip(written, names)], payload, notes
        notes.append("The model's second pass did not give distinct names; the offline names were used instead.")
    except LanguageModelOffTopic:
        notes.append("The model's second pass did not answer JSON; the offline names were used instead.")
    out = list(written)
    for clash in _clashes([w.name for w in out]):
        twins = [i for i, w in enumerate(out) if w.name.casefold() == clash]
        for i in twins[1:]:   # the first (largest, profiles come in size order) keeps the model's name
            offline = profiles[i].name or segment_label(out[i].segment)
            taken = {w.name.casefold() for j, w in enumerate(out) if j != i}
            name = offline if offline.casefold() not in taken else f"{offline} ({segment_label(out[i].segment)})"
            out[i] = replace(out[i], name=name, fallbacks={**out[i].fallbacks,
                                                           "name": f"the model gave the same name as another "
                                                                   f"segment ({out[twins[0]].name!r})"})
    return out, payload, notes
