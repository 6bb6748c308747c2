"""Suggested actions read value, value at risk, churn risk and returns; retail wording reads as English (issue 17);
the names shown and exported: the analyst's, else the suggested ones, distinct, never "Segment N" with text
(issue 18)."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from segmentation.understand.contrast import _CATEGORY_COLUMNS, _NUMERIC_COLUMNS
from segmentation.understand.naming import ACTIONS, display_names, with_words
from segmentation.understand.profile import SegmentProfile


def trait(feature: str, segment: float, rest: float, effect: float) -> dict:
    return {"feature": feature, "segment_mean": segment, "segment_median": segment, "rest_mean": rest,
            "rest_median": rest, "overall_mean": (segment + rest) / 2, "effect": effect, "p_value": 1e-9,
            "p_adjusted": 1e-9, "significant": True}


def profile(traits: list[dict], value_share: float | None = 0.1, share: float = 0.1,
            described: tuple[str, ...] = ()) -> SegmentProfile:
    numeric = pd.DataFrame(traits, columns=_NUMERIC_COLUMNS)
    return SegmentProfile(segment=0, size=100, share=share, numeric=numeric,
                          categories=pd.DataFrame(columns=_CATEGORY_COLUMNS), value_share=value_share,
                          value_column="monetary" if value_share is not None else None, described=described)


def words(p: SegmentProfile) -> SegmentProfile:
    return with_words(p, set())


def test_return_only_accounts_are_never_told_to_win_back() -> None:
    bank_charges = words(profile([trait("recency_days", 300, 40, 1.2), trait("monetary", -40.0, 900, -0.9)],
                                 value_share=-0.002))
    assert bank_charges.action == "Check the accounts"
    assert "returns, cancellations, fees or internal accounts" in bank_charges.action_reason
    assert "median -40 monetary" in bank_charges.action_reason
    assert "-0%" not in bank_charges.description
    assert "no net monetary (returns and credits outweigh purchases)" in bank_charges.description


def test_lapsed_with_value_is_reactivated_and_without_value_won_back() -> None:
    lapsed_rich = words(profile([trait("recency_days", 200, 30, 1.0)], value_share=0.15, share=0.1))
    assert lapsed_rich.action == "Reactivate" and lapsed_rich.action_reason.startswith("Lapsed but worth it")
    assert "15% of monetary" in lapsed_rich.action_reason
    lapsed_poor = words(profile([trait("recency_days", 200, 30, 1.0)], value_share=0.02, share=0.1))
    assert lapsed_poor.action == "Win back"


def test_valuable_customers_at_risk_are_protected() -> None:
    traits = [trait("monetary", 5000, 800, 1.1), trait("p_alive", 0.45, 0.8, -0.9),
              trait("value_at_risk", 900, 100, 1.4), trait("predicted_clv", 3000, 500, 1.2)]
    at_risk = words(profile(traits, value_share=0.4, share=0.1,
                            described=("p_alive", "value_at_risk", "predicted_clv")))
    assert at_risk.action == "Protect"
    # value at risk: mean 900 against an overall mean of 500 over 10% of customers = 18% of the total
    assert "18% of the value at risk from 10% of customers" in at_risk.action_reason
    assert "p alive" not in at_risk.name.lower() and "value at risk" not in at_risk.name.lower()
    safe = words(profile(traits[:1], value_share=0.4, share=0.1))
    assert safe.action == "Retain and reward"
    assert {"Protect", "Reactivate", "Check the accounts"} <= set(ACTIONS)


def test_frequency_reads_higher_or_lower_never_fewer() -> None:
    rare = words(profile([trait("frequency", 1, 6, -0.8)], value_share=None))
    assert "fewer frequency" not in rare.description and "few frequency" not in rare.name.lower()
    assert "lower frequency (median 1 vs 6)" in rare.description
    assert rare.name == "Low frequency"
    orders = words(profile([trait("orders", 1, 6, -0.8)], value_share=None))
    assert "fewer orders (median 1 vs 6)" in orders.description


def test_a_tiny_share_of_value_is_never_zero_percent() -> None:
    tiny = words(profile([trait("recency_days", 10, 30, -0.6)], value_share=0.0004))
    assert "<0.1% of monetary" in tiny.description and np.isfinite(tiny.share)


def test_describe_columns_reach_the_profiles_but_never_names_or_rules() -> None:
    from segmentation.understand.explain import profile_segments

    rng = np.random.default_rng(0)
    labels = np.repeat([0, 1], 80)
    table = pd.DataFrame({"spend": np.where(labels == 1, rng.normal(900, 40, 160), rng.normal(100, 20, 160)),
                          "rfm_group": np.where(labels == 1, "Champions", "Lost"),
                          "p_alive": np.where(labels == 1, 0.9, 0.2) + rng.normal(0, 0.01, 160)})
    roles = {"spend": "numeric", "rfm_group": "describe", "p_alive": "describe"}
    profiles = profile_segments(table, roles, labels)
    champions = profiles[1]
    assert champions.described == ("rfm_group", "p_alive")
    assert ("rfm_group", "Champions") in set(zip(champions.categories["column"], champions.categories["value"]))
    assert "p_alive" in champions.numeric["feature"].tolist()
    assert "rfm" not in champions.name.lower() and "alive" not in champions.name.lower()
    assert all("rfm" not in r.text and "alive" not in r.text for r in champions.rules)


# --------------------------------------------------------------------------- the names shown and exported
def named(segment: int, name: str, size: int = 100, **others) -> SegmentProfile:
    return SegmentProfile(segment=segment, size=size, share=0.1, numeric=pd.DataFrame(columns=_NUMERIC_COLUMNS),
                          categories=pd.DataFrame(columns=_CATEGORY_COLUMNS), name=name, **others)


def test_display_names_give_the_suggestion_unless_the_analyst_named_the_segment() -> None:
    profiles = [named(0, "Loyal big spenders", 300), named(1, "Lost baggage", 200), named(-1, "Unassigned", 50)]
    assert display_names(profiles) == {0: "Loyal big spenders", 1: "Lost baggage"}
    own = {1: "  Bag   hunters ", 0: "", 7: "Gone"}   # blank names do not count; spaces are tidied
    assert display_names(profiles, own) == {0: "Loyal big spenders", 1: "Bag hunters", 7: "Gone"}
    shown = display_names(profiles, own)
    assert display_names(profiles, shown) == shown   # idempotent: the app and the CLI may both pass names through


def test_display_names_stay_distinct_and_the_analysts_names_win() -> None:
    profiles = [named(0, "Lost baggage", 300), named(1, "Rude staff", 200), named(2, "Lost baggage", 100)]
    assert display_names(profiles) == {0: "Lost baggage", 1: "Rude staff", 2: "Lost baggage · group 2"}
    # the analyst calls segment 1 "lost baggage": the suggestions make way, the analyst's name is kept as typed
    assert display_names(profiles, {1: "lost baggage"}) == {
        1: "lost baggage", 0: "Lost baggage · group 2", 2: "Lost baggage · group 3"}


def test_segment_n_only_without_any_evidence_and_never_with_text() -> None:
    bare = [named(0, "", 300), named(1, "", 200)]
    assert display_names(bare) == {0: "Segment 1", 1: "Segment 2"}   # nothing at all sets them apart
    texts = [named(0, "Segment 1", 300, key_phrases=("lost baggage",)), named(1, "Segment 2", 200),
             named(2, "", 100, quotes=("Nothing arrived on time, again and again",))]
    shown = display_names(texts)
    assert shown == {0: "Talks about lost baggage", 1: "Customers who wrote little",
                     2: "Writes “Nothing arrived on time,…”"}
    assert not any(re.search(r"Segment \d", n) for n in shown.values())
