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


def test_numbers_are_written_out_in_full_never_in_scientific_notation() -> None:
    from segmentation.understand.wording import MISSING, readable_number

    assert readable_number(1.03e4) == "10,300" and readable_number(1.72e5) == "172,000"
    assert readable_number(float("nan")) == "—" == MISSING and readable_number(None) == "—"
    assert readable_number("nan") == "—"   # text that is not a number is missing too, never "nan"
    assert readable_number(1_234_567.8) == "1,234,568" and readable_number(-1_500) == "-1,500"
    assert readable_number(29.5) == "29.5" and readable_number(3.14159) == "3.14" and readable_number(30.0) == "30"
    assert readable_number(0.01234) == "0.0123" and readable_number(1e-7) == "0.0000001"
    assert readable_number(9.99e14) == "999,000,000,000,000" and readable_number(2e15) == "2e+15"
    assert readable_number(0.456, decimals=2) == "0.46" and readable_number(1234.5, decimals=1) == "1,234.5"


def test_every_percentage_has_one_decimal_so_shares_side_by_side_line_up() -> None:
    from segmentation.understand.wording import share_text

    assert [share_text(s) for s in (0.1088, 0.361, 0.5, 1.0)] == ["10.9%", "36.1%", "50.0%", "100.0%"]
    assert share_text(0) == "0.0%" and share_text(-0.0001) == "0.0%" and share_text(float("nan")) == "—"
    assert share_text(0.1088, decimals=0) == "11%" and share_text(None) == "—"


def test_money_columns_are_written_as_money() -> None:
    from segmentation.understand.wording import currency_symbol, is_money_column, money_text, value_text

    assert is_money_column("total_spend") and is_money_column("Revenue") and is_money_column("Monetary")
    assert not is_money_column("orders") and not is_money_column("total_orders") and not is_money_column("age")
    assert currency_symbol("spend_eur") == "€" and currency_symbol("revenue_usd") == "$"
    assert currency_symbol("total_spend") == ""
    assert money_text(29.5) == "29.50" and money_text(1_250) == "1,250" and money_text(-3, "£") == "-£3.00"
    assert money_text(None) == "—"
    assert value_text(140.8, "total_spend") == "140.80" and value_text(12.5, "spend_gbp") == "£12.50"
    assert value_text(0.2, "returns_share", share=True) == "20.0%" and value_text(10300.0, "age") == "10,300"
    assert value_text("north", "region") == "north"


def test_setting_names_become_plain_words() -> None:
    from segmentation.understand.wording import SETTING_LABELS, setting_label, settings_text

    assert settings_text("n_clusters=4") == "4 segments"
    assert settings_text("min_cluster_size=25, min_samples=3") == "smallest segment size 25, neighbours needed 3"
    assert settings_text("eps=0.4321, min_samples=10") == "radius 0.432, neighbours needed 10"
    assert settings_text([("n_clusters", 6)]) == "6 segments"
    assert setting_label("missing_share") == "empty cells" and setting_label("days_since") == "days since"
    assert all("_" not in label for label in SETTING_LABELS.values())


def test_column_labels_keep_acronyms_and_write_out_short_words() -> None:
    # issue 15: the profiles showed "Rfm group", "Predicted clv" and "Avg order value"
    from segmentation.understand.wording import column_label

    assert column_label("rfm_group") == "RFM group"
    assert column_label("predicted_clv") == "Predicted CLV"
    assert column_label("avg_order_value") == "Average order value"
    assert column_label("Review Text") == "Review Text"   # a name with its own capitals keeps them
    assert pretty_column("customer_id") == "customer ID"


def test_a_negative_value_share_reads_as_returns_not_minus_one_percent() -> None:
    from segmentation.understand.wording import value_share_words

    assert value_share_words(-0.01, "monetary") == "no net monetary (returns and credits outweigh purchases)"
    assert value_share_words(0.23, "total_spend") == "23% of total spend"
    assert value_share_words(0.0004, "spend") == "<0.1% of spend"
    assert value_share_words(float("nan"), "spend") == ""


def test_model_label_and_middle_ellipsis() -> None:
    from segmentation.understand.wording import model_label, shorten_middle

    assert model_label("tfidf") == "word counts (TF-IDF)"
    assert model_label("/models/all-MiniLM-L6-v2/") == "all-MiniLM-L6-v2"
    short = shorten_middle("online_retail_30k.csv (per customer)", 20)
    assert len(short) == 20 and short.startswith("online_ret") and short.endswith("customer)") and "…" in short
    assert shorten_middle("a.csv", 20) == "a.csv"


def test_a_column_inside_a_sentence_is_lower_case_but_for_its_acronyms() -> None:
    from segmentation.understand.wording import column_in_sentence

    assert column_in_sentence("Department Name") == "department name"
    assert column_in_sentence("rfm_group") == "RFM group"
