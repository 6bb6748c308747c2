"""Words for a segment: a provisional name, a two-sentence description and a suggested marketing action.

All three rest only on notable traits (significant after correction and large enough to matter, see
:func:`segmentation.understand.contrast.notable_numeric`), on the segment's share of value and on its
complaints, so that noise is never named. Columns that only describe segments (role "describe": the RFM group,
predicted value) never name them, but the action reads predicted value, value at risk and the chance of being
still active when a roll-up added them: no "Win back" for accounts whose purchases net to nothing (returns-only
or internal accounts such as bank charges), "Protect" for valuable customers at risk, "Reactivate" for lapsed
ones who were worth something. The analyst is expected to edit the names.

:func:`display_names` is the one place that says what a segment is called on screen, in every file, the report and
the saved model: the analyst's own name (or a language model's) where given, else the suggested one, every name
different; "Segment N" only for a segment with no evidence at all.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from segmentation.common import NOISE_NAME, name_tokens, segment_label
from segmentation.understand.columns import column_kind
from segmentation.understand.contrast import notable_categories, notable_numeric
from segmentation.understand.persona import complaint_evidence, complaint_heavy, complaint_theme
from segmentation.understand.profile import SegmentProfile
from segmentation.understand.wording import (
    capitalise,
    format_number,
    join_words,
    percent,
    pretty_column,
    value_share_words,
)

ACTIONS: tuple[str, ...] = ("Retain and reward", "Win back", "Onboard", "Fix the complaint first", "Upsell",
                            "Nurture", "Protect", "Reactivate", "Check the accounts")
"""The marketing actions a profile can suggest."""

_FREQUENCY_NOUNS = {"frequency", "rate"}   # a frequency is higher or lower, never "fewer"
_YES = {"yes", "y", "true", "1"}
_NO = {"no", "n", "false", "0"}


def _category_phrase(column: str, value: str) -> str:
    low = str(value).strip().lower()
    if low in _YES or low in _NO:
        return f"{pretty_column(column)}: {value}"
    return f"{value} {pretty_column(column)}"


def _trait_parts(profile: SegmentProfile) -> list[tuple[float, str]]:
    """(strength, short phrase) for the notable traits, strongest first; d and h share one scale."""
    parts: list[tuple[float, str]] = []
    numeric = notable_numeric(profile.numeric)
    if numeric is not None:
        for row in numeric.itertuples():
            if row.feature in profile.described:
                continue
            kind = column_kind(str(row.feature))
            if kind == "recency":
                phrase = "lapsed" if row.effect > 0 else "recently active"
            elif kind == "frequency" and _is_rate(row.feature):
                phrase = f"{'high' if row.effect > 0 else 'low'} {pretty_column(row.feature)}"
            elif kind == "frequency":
                phrase = f"{'many' if row.effect > 0 else 'few'} {pretty_column(row.feature)}"
            else:
                phrase = f"{'high' if row.effect > 0 else 'low'} {pretty_column(row.feature)}"
            parts.append((abs(float(row.effect)), phrase))
    categories = notable_categories(profile.categories)
    if categories is not None:
        seen: set[str] = set()
        for row in categories.itertuples():
            if row.column in seen or row.column in profile.described:
                continue
            seen.add(row.column)
            strength = float(row.effect) if "effect" in categories else float(row.lift) - 1
            parts.append((strength, _category_phrase(str(row.column), str(row.value))))
    return sorted(parts, key=lambda p: -p[0])


def suggest_name(profile: SegmentProfile, parts: int = 2) -> str:
    """A short provisional name from the strongest significant traits and themes; the analyst is expected to edit it.

    ``parts`` is how many traits the name joins ("Lapsed, low total spend").
    """
    if profile.is_noise:
        return NOISE_NAME
    prefix = "Unhappy" if profile.action == "Fix the complaint first" else ""
    phrases = [p for _, p in _trait_parts(profile)[:max(parts - bool(prefix), 1)]]
    if prefix and phrases:
        return capitalise(f"{prefix}, {', '.join(phrases)}")
    if prefix:
        talk = f" about {profile.keywords[0]}" if profile.keywords else ""
        return f"Unhappy{talk}"
    if phrases:
        return capitalise(", ".join(phrases))
    if profile.keywords:
        return f"Talks about {profile.keywords[0]}"
    if profile.key_phrases:
        return f"Talks about {profile.key_phrases[0]}"
    if profile.quotes:   # words, but none that sets them apart: the first words of the most typical text
        words = str(profile.quotes[0]).split()
        return f"Writes “{' '.join(words[:4])}{'…' if len(words) > 4 else ''}”"
    return segment_label(profile.segment)


def _numeric_phrase(row: Any, share_column: bool) -> str:
    def fmt(v: float) -> str:
        return format_number(v, percent=share_column)

    use_median = np.isfinite(row.rest_median) and row.segment_median != row.rest_median
    inside, outside = (row.segment_median, row.rest_median) if use_median else (row.segment_mean, row.rest_mean)
    stat = "median" if use_median else "average"
    column = pretty_column(row.feature)
    if column_kind(str(row.feature)) == "recency":
        head = "a longer time since their last activity" if row.effect > 0 else "more recent activity"
        return f"{head} ({stat} {fmt(inside)} vs {fmt(outside)} {column})"
    if column_kind(str(row.feature)) == "frequency" and not _is_rate(row.feature):
        return f"{'more' if row.effect > 0 else 'fewer'} {column} ({stat} {fmt(inside)} vs {fmt(outside)})"
    return f"{'higher' if row.effect > 0 else 'lower'} {column} ({stat} {fmt(inside)} vs {fmt(outside)})"


def _is_rate(column: Any) -> bool:
    """A column of how often ("frequency", "purchase rate"): more or less of it is "higher"/"lower", not "fewer"."""
    return bool(set(name_tokens(str(column))) & _FREQUENCY_NOUNS)


def _value_words(profile: SegmentProfile) -> str:
    """The segment's share of the value column in words; a net negative share says that returns outweigh buying."""
    return value_share_words(profile.value_share, profile.value_column, profile.size)


def _describe(profile: SegmentProfile, share_columns: set[str]) -> str:
    """Two sentences: who they are (size, value, strongest traits), then what they say or what else marks them."""
    if profile.is_noise:
        return (f"{profile.size:,} customers ({percent(profile.share)}) fit no segment closely. They stay in every "
                f"export as “{NOISE_NAME}”; review them or assign them to the nearest segment.")
    phrases: list[tuple[float, str]] = []
    numeric = notable_numeric(profile.numeric)
    for row in numeric.itertuples():
        if row.feature not in profile.described:
            phrases.append((abs(float(row.effect)), _numeric_phrase(row, row.feature in share_columns)))
    categories = notable_categories(profile.categories)
    seen: set[str] = set()
    for row in categories.itertuples():
        if row.column in seen or row.column in profile.described:
            continue
        seen.add(row.column)
        phrases.append((float(row.effect), f"{pretty_column(row.column)}: {row.value} for "
                                           f"{percent(row.segment_share)} (vs {percent(row.rest_share)})"))
    phrases = [p for _, p in sorted(phrases, key=lambda p: -p[0])]
    who = f"{profile.size:,} customers ({percent(profile.share)} of all"
    if profile.value_share is not None and profile.value_column:
        who += f", {_value_words(profile)}"
    who += ")"
    first = f"{who} with {join_words(phrases[:3])}." if phrases else \
        f"{who} who differ little from the other customers on the columns profiled."
    if complaint_heavy(profile):
        theme = f" about {profile.key_phrases[0]}" if profile.key_phrases else ""
        second = (f"{percent(profile.complaint_share)} of them describe a problem{theme}, against "
                  f"{percent(profile.complaint_rest_share)} of the others.")
    elif profile.keywords:
        second = "They talk about " + join_words([f"“{k}”" for k in profile.keywords[:4]]) + "."
    elif len(phrases) > 3:
        second = f"They also show {join_words(phrases[3:5])}."
    else:
        second = "Nothing else sets them clearly apart."
    return f"{capitalise(first)} {second}"


def _traits_by_kind(profile: SegmentProfile) -> dict[str, Any]:
    """The strongest notable numeric trait of each kind (value, recency, frequency, tenure), features only."""
    out: dict[str, Any] = {}
    for row in notable_numeric(profile.numeric).itertuples():
        if row.feature in profile.described:
            continue
        kind = "value" if row.feature == profile.value_column else column_kind(str(row.feature))
        if kind == "value" and row.feature != profile.value_column:
            continue   # another money column: the value signal is the chosen value column
        if kind is not None and kind not in out:
            out[kind] = row
    return out


def _predicted(profile: SegmentProfile, column: str) -> Any:
    """The segment's row of a predicted-value column (p_alive, predicted_clv, value_at_risk), None without one."""
    rows = profile.numeric[profile.numeric["feature"] == column] if len(profile.numeric) else profile.numeric
    return next(rows.itertuples(), None) if len(rows) else None


def _index(row: Any) -> float | None:
    """A segment's mean against everyone's (1 = average), when both are positive numbers."""
    if row is None or not np.isfinite(row.segment_mean) or not np.isfinite(row.overall_mean) or row.overall_mean <= 0:
        return None
    return float(row.segment_mean / row.overall_mean)


def _suggest_action(profile: SegmentProfile, share_columns: set[str]) -> tuple[str, str]:
    """One of :data:`ACTIONS` with a one-line reason, from complaints, value, risk, recency and engagement."""
    if profile.is_noise:
        return "", ""
    traits = _traits_by_kind(profile)
    recency, value = traits.get("recency"), traits.get("value")
    frequency, tenure = traits.get("frequency"), traits.get("tenure")
    value_index = profile.value_share / profile.share if profile.value_share is not None and profile.share else None
    value_row = _predicted(profile, profile.value_column) if profile.value_column else None
    alive, clv, at_risk = (_predicted(profile, c) for c in ("p_alive", "predicted_clv", "value_at_risk"))
    clv_index, risk_index = _index(clv), _index(at_risk)
    column = pretty_column(profile.value_column)

    def said(row: Any) -> str:
        return _numeric_phrase(row, row.feature in share_columns)

    theme = complaint_theme(profile)   # complaint-heavy or low-rated (understand.persona), and about what
    if theme is not None:
        return ("Fix the complaint first", f"{capitalise(complaint_evidence(profile))}. Resolve the complaints "
                f"about {theme} first, then follow up with a goodwill gesture before selling to them.")
    if complaint_heavy(profile):   # complaint-heavy without a key phrase to name the theme
        return ("Fix the complaint first", f"{capitalise(complaint_evidence(profile))}; solve the problem before "
                "selling to them.")
    no_value = (profile.value_share is not None and profile.value_share <= 0) or (
        value_row is not None and np.isfinite(value_row.segment_median) and value_row.segment_median <= 0)
    if no_value:
        median = f" (median {format_number(value_row.segment_median)} {column})" if value_row is not None else ""
        return ("Check the accounts",
                f"Their purchases net to nothing or less{median}: returns, cancellations, fees or internal "
                "accounts rather than customers to win back; check them before any campaign.")
    high_value = (value_index is not None and value_index >= 1.5) or (value is not None and value.effect >= 0.5) \
        or (clv_index is not None and clv_index >= 1.5)
    risky = (alive is not None and alive.effect <= -0.5) or (risk_index is not None and risk_index >= 1.5)
    lapsed = recency is not None and recency.effect >= 0.5
    if high_value and risky and not lapsed:
        if risk_index is not None:   # mean against everyone's mean × share of customers = share of the total
            why = (f"{percent(risk_index * profile.share)} of the value at risk from {percent(profile.share)} "
                   "of customers")
        else:
            why = (f"a lower chance of still being active ({format_number(alive.segment_mean, percent=True)} vs "
                   f"{format_number(alive.rest_mean, percent=True)})")
        return "Protect", f"Valuable customers who may be leaving: {why}; reach them before they go."
    if lapsed:
        worth = f"; they hold {_value_words(profile)}" if profile.value_share is not None and column else ""
        with_value = (value_index is not None and value_index >= 1.0) or (value is not None and value.effect > 0) \
            or (clv_index is not None and clv_index >= 1.0)
        if with_value:
            return "Reactivate", f"Lapsed but worth it: {said(recency)}{worth}."
        return "Win back", f"Gone quiet: {said(recency)}{worth}."
    if high_value:
        why = (f"{_value_words(profile)} from {percent(profile.share)} of customers") if value_index is not None \
            else said(value) if value is not None else f"predicted lifetime value {format_number(clv_index)} times " \
            "the average"
        active = f", and {said(recency)}" if recency is not None and recency.effect < 0 else ""
        return "Retain and reward", f"Most valuable customers: {why}{active}."
    newcomer = (frequency is not None and frequency.effect <= -0.5) or (tenure is not None and tenure.effect <= -0.5)
    if newcomer:
        row = tenure if tenure is not None and tenure.effect <= -0.5 else frequency
        return "Onboard", f"Early in their relationship: {said(row)}; help them to a second and third order."
    engaged = (recency is not None and recency.effect <= -0.2) or (frequency is not None and frequency.effect >= 0.3)
    if engaged and (value_index is None or value_index < 1.2):
        row = frequency if frequency is not None and frequency.effect >= 0.3 else recency
        worth = f" but only {_value_words(profile)}" if profile.value_share is not None and profile.value_column \
            else ""
        return "Upsell", f"Active customers with {said(row)}{worth}: room to grow the basket."
    return "Nurture", "No strong value, recency or complaint signal: keep them warm with regular, relevant contact."


def with_words(profile: SegmentProfile, share_columns: set[str]) -> SegmentProfile:
    """``profile`` with its suggested action (and the reason), name and description filled in.

    The profile's voice (complaint and praise shares, rating split, key phrases: :mod:`persona`) is its complaint
    signal; numbers of ``share_columns`` are written as percentages.
    """
    action, reason = _suggest_action(profile, share_columns)
    profile = replace(profile, action=action, action_reason=reason)   # the name reads the action ("Unhappy, ...")
    return replace(profile, name=suggest_name(profile), description=_describe(profile, share_columns))


def distinct_names(profiles: list[SegmentProfile]) -> list[SegmentProfile]:
    """Two segments never get the same suggested name: add a trait, else the segment's number."""
    counts = pd.Series([p.name for p in profiles]).value_counts()
    out = []
    for p in profiles:
        if not p.is_noise and counts.get(p.name, 0) > 1:
            longer = suggest_name(p, parts=3)
            name = longer if longer != p.name and longer not in counts else f"{p.name} ({segment_label(p.segment)})"
            p = replace(p, name=name)
        out.append(p)
    return out


def display_names(profiles: Sequence[SegmentProfile], names: Mapping[int, str] | None = None) -> dict[int, str]:
    """What each segment is called everywhere (screen, customer files, zip, report, model): segment id -> name.

    ``names`` are the analyst's own names (or a language model's), keyed by segment id; they always win, blank
    ones do not count. Every other segment gets its suggested name (``profile.name``: persona, then traits). A
    suggestion that an analyst's name (or a bigger segment's suggestion) already uses gets "· group 2", so the
    names stay distinct; two names the analyst typed alike are kept as typed. Noise is never in the result
    (``common.segment_label`` calls it "Unassigned"). Calling it again on its own result changes nothing, so
    the app and the command line can both pass names through it.
    """
    chosen = {int(s): " ".join(str(n).split()) for s, n in (names or {}).items()
              if n is not None and str(n).strip() and int(s) >= 0}
    with_text = any(getattr(p, field, ()) for p in profiles for field in ("key_phrases", "keywords", "quotes"))
    out = dict(chosen)
    taken = {n.casefold() for n in chosen.values()}
    for p in sorted(profiles, key=lambda p: (-p.size, p.segment)):
        if p.is_noise or p.segment in chosen:
            continue
        base = " ".join(str(getattr(p, "name", "") or "").split()) or segment_label(p.segment)
        if with_text and base == segment_label(p.segment) and isinstance(p, SegmentProfile):   # never with text
            base = suggest_name(p)
            base = "Customers who wrote little" if base == segment_label(p.segment) else base
        name, group = base, 1
        while name.casefold() in taken:
            group += 1
            name = f"{base} · group {group}"
        taken.add(name.casefold())
        out[p.segment] = name
    return out
