"""The profile record and its export table, including profiles saved before traits were tested."""

from __future__ import annotations

import pandas as pd

from segmentation.understand.naming import suggest_name
from segmentation.understand.profile import SegmentProfile, profiles_table


def test_old_style_profiles_still_build_and_name() -> None:
    numeric = pd.DataFrame({"feature": ["income"], "segment_mean": [9.0], "rest_mean": [1.0], "overall_mean": [2.0],
                            "effect": [1.2]})
    categories = pd.DataFrame(columns=["column", "value", "segment_share", "overall_share", "lift"])
    profile = SegmentProfile(segment=0, size=3, share=0.3, numeric=numeric, categories=categories)
    assert profile.rules == () and profile.value_share is None
    assert suggest_name(profile) == "High income"


def test_profiles_table_lists_untested_traits_as_they_are() -> None:
    numeric = pd.DataFrame({"feature": ["income", "age"], "effect": [1.2, -0.1]})
    categories = pd.DataFrame({"column": ["region"], "value": ["North"], "lift": [1.1]})
    profile = SegmentProfile(segment=0, size=3, share=0.3, numeric=numeric, categories=categories, name="Rich")
    row = profiles_table([profile]).iloc[0]
    assert row["top_traits"] == "income +1.2 sd; age -0.1 sd"
    assert row["top_categories"] == "region = North (x1.1)"
    assert row["segment_name"] == "Rich" and row["rule"] == ""
