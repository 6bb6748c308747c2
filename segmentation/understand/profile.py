"""A segment's profile: the record the Profiles page, the report and the exports read, and its export table.

Profiles are made by :func:`segmentation.understand.explain.profile_segments`; this module only holds the
record, so that the modules that fill it in (naming, explain) can share it without an import cycle.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pandas as pd

from segmentation.common import NOISE_NAME
from segmentation.understand.contrast import notable_categories, notable_numeric
from segmentation.understand.rules import Rule


@dataclass(frozen=True, eq=False)
class SegmentProfile:
    """Everything the Profiles page and the report show for one segment (-1 = Unassigned).

    ``numeric``: feature, segment_mean, segment_median, rest_mean, rest_median, overall_mean, effect (the
    segment's mean against everyone else's, in standard deviations of the column:
    :func:`segmentation.understand.contrast.mean_contrast`), p_value, p_adjusted, significant; significant
    traits first, then by |effect|.
    ``categories``: over-represented values only: column, value, segment_share, rest_share, overall_share, lift
    (segment share / overall share), effect (Cohen's h), p_value, p_adjusted, significant; same order.
    ``representatives`` / ``outliers``: row positions of the customers nearest to / farthest from the segment's
    centre (ids in ``representative_ids`` / ``outlier_ids``). ``quotes``: PII-masked texts of customers near
    the centre. ``value_share``: the segment's share of the value column (``value_column``), None without one.
    ``key_phrases``: its distinctive phrases (:mod:`segmentation.understand.keyphrases`); ``portrait``: one line
    (:mod:`segmentation.understand.persona`); ``complaint_share`` / ``praise_share``: share of its texts that
    complain / praise (``*_rest_share``: the other customers'); ``rating_split``: its rating bands.
    ``described``: the columns with the role "describe" (RFM group, predicted value), shown in ``numeric`` and
    ``categories`` but never used for names or rules. ``outcomes``: one row per outcome column (column, kind,
    positive, customers, rate, low, high, overall, lift; :mod:`segmentation.understand.outcomes`), None without.
    """

    segment: int
    size: int
    share: float
    numeric: pd.DataFrame = field(repr=False)
    categories: pd.DataFrame = field(repr=False)
    keywords: tuple[str, ...] = ()
    name: str = ""
    value_share: float | None = None
    value_column: str | None = None
    quotes: tuple[str, ...] = ()
    representatives: tuple[int, ...] = ()
    representative_ids: tuple[str, ...] = ()
    outliers: tuple[int, ...] = ()
    outlier_ids: tuple[str, ...] = ()
    rules: tuple[Rule, ...] = ()
    description: str = ""
    action: str = ""
    action_reason: str = ""
    # what the segment says and how it feels (understand.keyphrases, understand.persona); None/() without texts
    key_phrases: tuple[str, ...] = ()
    portrait: str = ""
    complaint_share: float | None = None
    complaint_rest_share: float | None = None
    praise_share: float | None = None
    praise_rest_share: float | None = None
    rating_column: str | None = None
    rating_split: tuple[tuple[str, float, float], ...] = ()   # (band, segment share, others' share): low, mid, high
    # columns with the role "describe" (in numeric/categories, never in names or rules), and outcome rates
    described: tuple[str, ...] = ()
    outcomes: pd.DataFrame | None = field(default=None, repr=False)

    @property
    def is_noise(self) -> bool:
        return self.segment < 0

    @property
    def notable_numeric(self) -> pd.DataFrame:
        """Numeric traits that passed the corrected test and are large enough to matter."""
        return notable_numeric(self.numeric)

    @property
    def notable_categories(self) -> pd.DataFrame:
        """Over-represented values that passed the corrected test and are large enough to matter."""
        return notable_categories(self.categories)


def profiles_table(profiles: Sequence[SegmentProfile], names: Mapping[int, str] | None = None) -> pd.DataFrame:
    """One row per segment for export: id, name, size, shares, top traits, keywords, description, action, rule.

    ``names`` (segment -> name) replaces the suggested names, e.g. with the analyst's.
    """
    rows = []
    for p in profiles:
        # profiles saved before traits were tested have no "significant" column: list their traits as they are
        numeric = notable_numeric(p.numeric) if "significant" in p.numeric else p.numeric
        categories = notable_categories(p.categories) if "significant" in p.categories else p.categories
        traits = [f"{r.feature} {'+' if r.effect > 0 else '-'}{abs(r.effect):.1f} sd" for r in
                  numeric.head(3).itertuples()]
        cats = [f"{r.column} = {r.value} (x{r.lift:.1f})" for r in categories.head(3).itertuples()]
        rule = p.rules[0] if p.rules else None
        rows.append({
            "segment_id": p.segment,
            "segment_name": (names or {}).get(p.segment) or (p.name if not p.is_noise else NOISE_NAME),
            "customers": p.size,
            "share": round(p.share, 4),
            "value_share": None if p.value_share is None else round(p.value_share, 4),
            "top_traits": "; ".join(traits),
            "top_categories": "; ".join(cats),
            "keywords": ", ".join(p.keywords),
            "description": p.description,
            "action": p.action,
            "action_reason": p.action_reason,
            "rule": rule.text if rule else "",
            "rule_coverage": None if rule is None else round(rule.coverage, 4),
            "rule_precision": None if rule is None else round(rule.precision, 4),
        })
    return pd.DataFrame(rows)
