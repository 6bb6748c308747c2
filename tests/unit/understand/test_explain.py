"""The profile run on planted structure: effects, lifts, significance, rules, names, actions, quotes, Unassigned."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from segmentation.choose.curate import CurationHistory, CurationStep
from segmentation.common import NOISE_NAME, segment_label
from segmentation.config import ClusterConfig, ReduceConfig, RunConfig, TextConfig
from segmentation.errors import DataError
from segmentation.ingest.read import load_table
from segmentation.pipeline import run
from segmentation.understand.explain import profile_segments
from segmentation.understand.naming import ACTIONS
from segmentation.understand.phrases import segment_keywords
from segmentation.understand.profile import SegmentProfile, profiles_table

DEMO = Path(__file__).resolve().parents[3] / "assets" / "demo_customers.csv"

# A: rich (income +1.5 sd), often in the North, spends more. B: lapsed. C: complains. D: new (few orders).
SIZES = {0: 200, 1: 150, 2: 150, 3: 100, -1: 30}
COMPLAINTS = ["My parcel arrived damaged and I want a refund.", "Delivery was late again, very disappointed.",
              "Still waiting for my refund, worst service ever.", "The kettle arrived broken, I want a refund now.",
              "Never arrived and nobody answers, a complaint is filed."]
PRAISE = {0: ["Premium quality fabric, lovely fit.", "Beautiful premium coat, worth every penny.",
              "Lovely packaging and premium feel."],
          1: ["Used to shop here a lot years ago.", "Have not ordered for ages, used to like it.",
              "Bought something here ages ago."],
          3: ["Just placed my first order, how do I track it?", "First order, the welcome code worked.",
              "New here, first order went through fine."],
          -1: ["Okay I guess.", "Nothing to say really.", "It was fine overall."]}


def planted(seed: int = 0) -> tuple[pd.DataFrame, dict[str, str], np.ndarray, list[str], np.ndarray]:
    """(table, roles, labels, texts, embedding) with the structure described above."""
    rng = np.random.default_rng(seed)
    labels = np.concatenate([np.full(n, s) for s, n in SIZES.items()])
    n = len(labels)
    income = 40_000 + 10_000 * rng.standard_normal(n) + 15_000 * (labels == 0)
    region = np.array(["South", "East", "West"], dtype=object)[rng.integers(0, 3, n)]
    region[rng.choice(np.flatnonzero(labels == 0), 120, replace=False)] = "North"     # 60% of A
    region[rng.choice(np.flatnonzero(labels != 0), 26, replace=False)] = "North"      # 6% of the others
    noise_col = np.concatenate([np.tile(np.arange(10.0), size // 10) for size in SIZES.values()])
    spend = np.where(labels == 0, rng.uniform(150, 750, n), rng.uniform(100, 500, n))   # higher, but overlapping
    days = np.where(labels == 1, rng.integers(200, 400, n), rng.integers(0, 60, n))
    orders = np.where(labels == 3, rng.integers(1, 3, n), rng.integers(5, 20, n))
    texts = []
    for segment in labels:
        pool = COMPLAINTS if segment == 2 else PRAISE[int(segment)]
        texts.append(pool[int(rng.integers(0, len(pool)))])
    texts[int(np.flatnonzero(labels == 2)[0])] = "Write to jane.doe@example.com about my refund, it arrived damaged."
    table = pd.DataFrame({"customer_id": [f"C{i:04d}" for i in range(n)], "annual_income": income.round(-2),
                          "region": region, "noise_col": noise_col, "total_spend": spend.round(2),
                          "days_since_last_order": days, "orders": orders},
                         index=pd.RangeIndex(100, 100 + n))   # an index that is not 0..n-1, as after cleaning
    roles = {"customer_id": "id", "annual_income": "numeric", "region": "categorical", "noise_col": "numeric",
             "total_spend": "numeric", "days_since_last_order": "numeric", "orders": "numeric"}
    centres = {0: (0, 0), 1: (6, 0), 2: (0, 6), 3: (6, 6), -1: (3, 3)}
    embedding = np.array([centres[int(s)] for s in labels], dtype=float) + rng.normal(0, 0.7, (n, 2))
    return table, roles, labels, texts, embedding


@pytest.fixture(scope="module")
def profiles() -> dict[int, SegmentProfile]:
    table, roles, labels, texts, embedding = planted()
    return {p.segment: p for p in profile_segments(table, roles, labels, texts, embedding=embedding, random_state=0)}


def numeric_row(profile: SegmentProfile, feature: str) -> pd.Series:
    return profile.numeric.set_index("feature").loc[feature]


# --------------------------------------------------------------------------- what sets a segment apart
def test_planted_income_effect_and_region_lift_are_recovered(profiles: dict[int, SegmentProfile]) -> None:
    a = profiles[0]
    income = numeric_row(a, "annual_income")
    assert 1.2 < income["effect"] < 1.8 and income["significant"]
    assert income["segment_median"] > income["rest_median"] + 10_000
    north = a.categories.set_index("value").loc["North"]
    assert north["segment_share"] == pytest.approx(0.6)
    assert 2.2 < north["lift"] < 2.8 and north["significant"]
    assert north["p_adjusted"] >= north["p_value"]


def test_the_feature_without_a_difference_is_not_significant(profiles: dict[int, SegmentProfile]) -> None:
    for profile in profiles.values():
        row = numeric_row(profile, "noise_col")
        assert abs(row["effect"]) < 1e-9 and not row["significant"] and row["p_adjusted"] > 0.5
        assert "noise" not in profile.name.lower() and "noise" not in profile.description.lower()
        assert all("noise" not in rule.text for rule in profile.rules)


def test_traits_are_ranked_significant_first_then_by_strength(profiles: dict[int, SegmentProfile]) -> None:
    numeric = profiles[0].numeric
    assert list(numeric.columns) == ["feature", "segment_mean", "segment_median", "rest_mean", "rest_median",
                                     "overall_mean", "effect", "p_value", "p_adjusted", "significant"]
    flags = numeric["significant"].tolist()
    assert flags == sorted(flags, reverse=True)
    strengths = numeric.loc[numeric["significant"], "effect"].abs().tolist()
    assert strengths == sorted(strengths, reverse=True)
    assert (profiles[0].categories["lift"] > 1).all()   # over-represented values only


# --------------------------------------------------------------------------- rules
def test_rule_for_the_rich_segment_uses_income_near_the_planted_boundary(profiles: dict[int, SegmentProfile]) -> None:
    rules = profiles[0].rules
    assert rules, "segment A must get a rule"
    income_rules = [r for r in rules if "annual income" in r.text]
    assert income_rules
    rule = income_rules[0]
    found = re.search(r"annual income (?:above|\S+ or more) ([\d.]+)k", rule.text)
    assert found, rule.text
    assert 42 <= float(found.group(1)) <= 53            # A ~ N(55k, 10k) against N(40k, 10k)
    assert rule.coverage >= 0.6 and rules[0].coverage >= 0.7
    assert rule.precision + rule.outsider_share == pytest.approx(1.0)
    table, _, labels, _, _ = planted()
    matched = rule.mask(table)                           # the rule's text is what it counts
    assert matched.sum() == rule.matched
    assert (matched & (labels == 0)).sum() / (labels == 0).sum() == pytest.approx(rule.coverage)


def test_rules_read_like_sentences(profiles: dict[int, SegmentProfile]) -> None:
    lapsed = profiles[1].rules[0]
    assert lapsed.text.startswith("days since last order") and lapsed.coverage > 0.95
    assert re.fullmatch(r"days since last order (above \d+|\d+ or more)", lapsed.text), lapsed.text
    assert "covers" in str(lapsed) and "outsiders" in str(lapsed)
    assert profiles[-1].rules == ()                      # Unassigned gets no rule


# --------------------------------------------------------------------------- names, descriptions, actions
def test_names_and_actions_follow_the_planted_signals(profiles: dict[int, SegmentProfile]) -> None:
    assert profiles[0].action == "Retain and reward"
    assert "total spend" in profiles[0].action_reason
    assert profiles[1].action == "Win back" and profiles[1].name.startswith("Lapsed")
    assert profiles[2].action == "Fix the complaint first" and profiles[2].name.startswith("Unhappy")
    assert "refund" in profiles[2].action_reason
    assert profiles[3].action == "Onboard" and "orders" in profiles[3].action_reason
    assert all(p.action in ACTIONS for p in profiles.values() if not p.is_noise)
    names = [p.name for p in profiles.values()]
    assert len(set(names)) == len(names)


def test_value_share_and_two_sentence_description(profiles: dict[int, SegmentProfile]) -> None:
    a = profiles[0]
    table, roles, labels, _, _ = planted()
    assert a.value_column == "total_spend"
    expected = table["total_spend"][labels == 0].sum() / table["total_spend"].sum()
    assert a.value_share == pytest.approx(expected)
    assert sum(p.value_share for p in profiles.values()) == pytest.approx(1.0)
    assert a.description.startswith("200 customers (32% of all, ")
    assert a.description.count(". ") == 1 and a.description.endswith(".")
    assert "annual income" in a.description


def test_value_column_can_be_chosen_and_must_exist() -> None:
    table, roles, labels, _, _ = planted()
    chosen = profile_segments(table, roles, labels, value_column="orders")
    assert chosen[0].value_column == "orders"
    with pytest.raises(DataError, match="value column 'revenue' is not in the data"):
        profile_segments(table, roles, labels, value_column="revenue")


# --------------------------------------------------------------------------- what customers say, who is typical
def test_keywords_and_quotes_come_from_the_segment(profiles: dict[int, SegmentProfile]) -> None:
    table, roles, labels, texts, _ = planted()
    c = profiles[2]
    assert "refund" in c.keywords
    assert 3 <= len(c.quotes) <= 5
    assert all(q in set(COMPLAINTS) or "refund" in q for q in c.quotes)
    assert not any("@" in q for q in c.quotes)           # PII masked even when the caller did not
    assert set(profiles[0].quotes) <= set(PRAISE[0])
    assert segment_keywords(texts, labels)[2] == c.keywords


def test_representatives_are_central_members_and_outliers_the_farthest(profiles: dict[int, SegmentProfile]) -> None:
    table, _, labels, _, embedding = planted()
    for segment in (0, 1, 2, 3):
        p = profiles[segment]
        assert len(p.representatives) == 5 and len(p.outliers) == 5
        assert all(labels[r] == segment for r in p.representatives + p.outliers)
        assert p.representative_ids == tuple(table["customer_id"].iloc[list(p.representatives)])
        centre = embedding[labels == segment].mean(axis=0)
        distance = np.linalg.norm(embedding - centre, axis=1)
        members = np.flatnonzero(labels == segment)
        assert max(distance[list(p.representatives)]) <= np.sort(distance[members])[4] + 1e-12
        assert min(distance[list(p.outliers)]) >= np.sort(distance[members])[-5] - 1e-12


def test_unassigned_is_kept_last_with_its_size(profiles: dict[int, SegmentProfile]) -> None:
    assert list(profiles) == [0, 1, 2, 3, -1]
    noise = profiles[-1]
    assert noise.name == NOISE_NAME and noise.size == 30 and noise.is_noise
    assert noise.description.startswith("30 customers") and noise.action == ""
    assert segment_label(-1) == NOISE_NAME and segment_label(2) == "Segment 3"
    export = profiles_table(list(profiles.values()), {0: "Rich North"})
    assert export["segment_name"].tolist()[0] == "Rich North" and export["segment_name"].tolist()[-1] == NOISE_NAME
    assert export["customers"].sum() == 630 and {"description", "action", "rule"} <= set(export.columns)


def test_same_inputs_same_profiles() -> None:
    table, roles, labels, texts, embedding = planted()
    first = profiles_table(profile_segments(table, roles, labels, texts, embedding=embedding, random_state=3))
    second = profiles_table(profile_segments(table, roles, labels, texts, embedding=embedding, random_state=3))
    pd.testing.assert_frame_equal(first, second)


def test_without_texts_or_embedding_profiles_still_work() -> None:
    table, roles, labels, _, _ = planted()
    profiles = {p.segment: p for p in profile_segments(table, roles, labels)}
    assert profiles[0].quotes == () and profiles[0].keywords == ()
    assert len(profiles[0].representatives) == 5            # centre measured on standardised numeric columns
    assert profiles[1].action == "Win back" and profiles[2].action != "Fix the complaint first"


def test_mismatched_lengths_are_refused() -> None:
    table, roles, labels, texts, embedding = planted()
    with pytest.raises(DataError, match="labels for 630 customers"):
        profile_segments(table, roles, labels[:-1])
    with pytest.raises(DataError, match="texts for 630 customers"):
        profile_segments(table, roles, labels, texts[:-1])
    with pytest.raises(DataError, match="embedding has shape"):
        profile_segments(table, roles, labels, embedding=embedding[:-1])


# --------------------------------------------------------------------------- demo data end to end
@pytest.fixture(scope="module")
def demo_result():
    dataset = load_table(DEMO)
    config = RunConfig(text=TextConfig(columns=("review",), model="tfidf", tfidf_dims=64),
                       reduce=ReduceConfig(method="pca", map_method="pca", n_components=8),
                       cluster=ClusterConfig.make("kmeans", n_clusters=6), random_state=42)
    result = run(dataset.table, config, cache=None)
    profiles = profile_segments(result.table, result.roles, result.labels, list(result.texts),
                                embedding=result.embedding, random_state=config.random_state)
    return result, profiles


def test_demo_profiles_explain_every_segment(demo_result) -> None:
    result, profiles = demo_result
    assert len(profiles) == result.n_segments == 6
    for p in profiles:
        assert p.name and p.description and p.action in ACTIONS and p.action_reason and p.rules, p.segment
        assert p.rules[0].coverage >= 0.5
        assert 3 <= len(p.quotes) <= 5
    actions = {p.action for p in profiles}
    # the demo's hidden personas include loyal big spenders, lapsed and unhappy customers
    assert {"Retain and reward", "Win back", "Fix the complaint first"} <= actions
    assert len({p.name for p in profiles}) == 6


def test_curated_labels_get_fresh_profiles(demo_result) -> None:
    result, _ = demo_result
    history = CurationHistory().push(CurationStep("merge", {"segments": [4, 5]}))
    curated = result.with_labels(history.replay(result.labels, result.embedding).labels)
    assert curated.n_segments == 5
    assert [p.segment for p in curated.profiles] == [0, 1, 2, 3, 4]
    merged = next(p for p in curated.profiles if p.segment == 4)
    assert merged.size == int(np.isin(result.labels, [4, 5]).sum())
