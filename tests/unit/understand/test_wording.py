"""Numbers and column names as a person would write them."""

from __future__ import annotations

from segmentation.understand.wording import capitalise, format_number, join_words, percent, pretty_column


def test_format_number_for_people() -> None:
    assert format_number(72_000) == "72k"
    assert format_number(1_500_000) == "1.5M"
    assert format_number(0.35, percent=True) == "35%"
    assert format_number(1_250) == "1,250"
    assert format_number(29.5) == "29.5"
    assert format_number(30.0) == "30"
    assert format_number(float("nan")) == "n/a"


def test_shares_lists_and_names_in_words() -> None:
    assert percent(0.35) == "35%" and percent(0.004) == "0.4%" and percent(None) == "n/a"
    assert join_words(["a", "", "b", "c"]) == "a, b and c" and join_words(["a"]) == "a"
    assert pretty_column("days_since_last_order") == "days since last order"
    assert capitalise("app channel") == "App channel"
