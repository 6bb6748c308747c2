"""Quality report and reproducible cleaning: only duplicate customers are ever dropped, text is never filled."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from segmentation.config import CleanConfig
from segmentation.errors import ConfigError
from segmentation.ingest.clean import MISSING_CATEGORY, CleaningLog, clean_table, quality_report

ROLES = {
    "id": "id",
    "spend": "numeric",
    "visits": "numeric",
    "plan": "categorical",
    "comment": "text",
    "flag": "categorical",
}


def table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": ["a", "b", "c", "c", "d", "e", "f", "g"],
            "spend": [10.0, 12.0, np.nan, np.nan, 11.0, 9.0, 1000.0, 13.0],
            "visits": [1, 2, 3, 3, 4, 5, 6, 7],
            "plan": ["basic", None, "pro", "pro", "basic", "basic", "pro", "basic"],
            "comment": ["nice", None, "ok", "ok", None, "meh", "wow", "fine"],
            "flag": [1.0, 0.0, np.nan, np.nan, 1.0, 0.0, 1.0, 1.0],
        },
        index=[10, 11, 12, 13, 14, 15, 16, 17],
    )


def test_quality_report_counts() -> None:
    report = quality_report(table(), ROLES)
    assert report.n_rows == 8
    assert report.n_duplicate_ids == 1
    assert report.n_duplicate_rows == 1
    columns = report.columns.set_index("column")
    assert list(report.columns.columns) == ["column", "role", "missing_share", "distinct", "skewness", "outlier_share"]
    assert columns.loc["spend", "missing_share"] == pytest.approx(0.25)
    assert columns.loc["plan", "distinct"] == 2
    assert columns.loc["spend", "skewness"] > 2
    assert columns.loc["spend", "outlier_share"] == pytest.approx(1 / 6)
    assert np.isnan(columns.loc["plan", "skewness"])
    kinds = {(i.column, i.kind) for i in report.issues}
    assert {("spend", "missing"), ("spend", "skewed"), ("spend", "outliers"), (None, "duplicate_rows")} <= kinds
    assert ("id", "duplicate_ids") in kinds
    assert all(i.severity in ("info", "warning") for i in report.issues)


def test_quality_report_flags_constant_empty_and_many_categories() -> None:
    frame = pd.DataFrame(
        {
            "same": [3] * 100,
            "empty": [np.nan] * 100,
            "code": [f"x{i}" for i in range(100)],
        }
    )
    report = quality_report(frame, {"same": "ignore", "empty": "ignore", "code": "categorical"})
    messages = {i.kind: i.message for i in report.issues}
    assert "same value on every row" in messages["constant"]
    assert "'empty' is empty" in messages["empty"]
    assert "100 different categories" in messages["high_cardinality"]


def test_clean_table_defaults() -> None:
    assert CleanConfig().drop_duplicates is False  # nothing is dropped unless the analyst asks
    cleaned, log = clean_table(table(), ROLES, CleanConfig(log_skewed=False, drop_duplicates=True))
    assert cleaned.index.tolist() == [10, 11, 12, 14, 15, 16, 17]  # original index kept; duplicate id 'c' dropped
    assert log.rows_before == 8 and log.rows_after == 7 and log.duplicates_dropped == 1
    assert cleaned.loc[12, "spend"] == pytest.approx(11.5)  # median of 9, 10, 11, 12, 13, 1000
    assert cleaned.loc[11, "plan"] == MISSING_CATEGORY
    assert cleaned.loc[12, "flag"] == MISSING_CATEGORY and cleaned.loc[10, "flag"] == "1"
    assert cleaned["comment"].isna().sum() == 2  # text is never filled
    assert log.imputed == {"spend": 1, "plan": 1, "flag": 1}


def test_no_row_is_dropped_without_drop_duplicates() -> None:
    cleaned, log = clean_table(table(), ROLES, CleanConfig(drop_duplicates=False))
    assert cleaned.index.tolist() == table().index.tolist()
    assert log.duplicates_dropped == 0


def test_identical_rows_are_the_duplicates_when_there_is_no_id() -> None:
    roles = {k: v for k, v in ROLES.items() if k != "id"}
    frame = table().drop(columns="id")
    frame.loc[18] = frame.loc[10]
    cleaned, log = clean_table(frame, roles, CleanConfig(drop_duplicates=True))
    assert log.duplicates_dropped == 2  # rows 13 (copy of 12) and 18 (copy of 10)
    assert 13 not in cleaned.index and 18 not in cleaned.index


def test_log_transform_and_clipping_touch_numeric_columns_only() -> None:
    cleaned, log = clean_table(table(), ROLES, CleanConfig(clip_quantile=0.1, log_skewed=True, drop_duplicates=True))
    assert set(log.clipped) <= {"spend", "visits"}
    assert cleaned["spend"].max() < 1000
    cleaned, log = clean_table(table(), ROLES, CleanConfig(clip_quantile=0.0, log_skewed=True, drop_duplicates=True))
    assert log.log_transformed == ("spend",)
    assert cleaned.loc[16, "spend"] == pytest.approx(np.log1p(1000.0))
    assert cleaned["visits"].tolist() == [1, 2, 3, 4, 5, 6, 7]


@pytest.mark.parametrize(("how", "value"), [("median", 11.5), ("mean", 175.833333), ("zero", 0.0)])
def test_numeric_imputation_choices(how: str, value: float) -> None:
    cleaned, _ = clean_table(table(), ROLES, CleanConfig(impute_numeric=how, log_skewed=False))
    assert cleaned.loc[12, "spend"] == pytest.approx(value)


def test_most_frequent_category() -> None:
    cleaned, _ = clean_table(table(), ROLES, CleanConfig(impute_categorical="most_frequent"))
    assert cleaned.loc[11, "plan"] == "basic"


def test_drop_columns() -> None:
    cleaned, log = clean_table(table(), ROLES, CleanConfig(drop_columns=("comment", "flag")))
    assert "comment" not in cleaned.columns and "flag" not in cleaned.columns
    assert log.dropped_columns == ("comment", "flag")
    with pytest.raises(ConfigError, match=r"'drop_columns' .* names 'nope', which the table does not have"):
        clean_table(table(), ROLES, CleanConfig(drop_columns=("nope",)))


def test_numeric_role_on_text_numbers_counts_unreadable_cells_as_filled() -> None:
    frame = pd.DataFrame({"total": pd.Series(["1.5", "x", "2.5"], dtype="str")})
    cleaned, log = clean_table(frame, {"total": "numeric"}, CleanConfig(log_skewed=False))
    assert cleaned["total"].tolist() == [1.5, 2.0, 2.5]
    assert log.imputed == {"total": 1}


def test_cleaning_is_deterministic_and_leaves_the_input_alone() -> None:
    original = table()
    first = clean_table(original, ROLES, CleanConfig(clip_quantile=0.05))
    second = clean_table(original, ROLES, CleanConfig(clip_quantile=0.05))
    pd.testing.assert_frame_equal(first[0], second[0])
    assert first[1] == second[1] or first[1].summary_lines() == second[1].summary_lines()
    pd.testing.assert_frame_equal(original, table())


def test_summary_lines() -> None:
    _, log = clean_table(table(), ROLES, CleanConfig(drop_duplicates=True))
    lines = log.summary_lines()
    assert lines[0] == "7 of 8 rows kept."
    assert any("1 duplicate customers were dropped" in line for line in lines)
    assert any("Spend: 1 empty value was filled." == line for line in lines)
    assert CleaningLog(3, 3, 0).summary_lines() == ["3 of 3 rows kept.", "Nothing else needed cleaning."]


CONFIG_NAMES = r"missing_share|outlier_share|log_skewed|clip_quantile|impute_numeric|n_clusters|IQR|\w+_\w+="


def test_the_quality_report_speaks_plain_words_not_setting_names() -> None:
    import re

    rng = np.random.default_rng(0)
    skewed = pd.DataFrame({"id": [f"c{i}" for i in range(200)], "spend": rng.lognormal(3, 1.5, 200),
                           "visits": np.r_[rng.normal(10, 1, 190), np.full(10, 500.0)]})
    report = quality_report(skewed, {"id": "id", "spend": "numeric", "visits": "numeric"})
    kinds = {issue.kind for issue in report.issues}
    assert {"skewed", "outliers"} <= kinds
    for issue in report.issues:
        assert not re.search(CONFIG_NAMES, issue.message), issue.message
    assert re.search(r"logarithms", next(i.message for i in report.issues if i.kind == "skewed"))
    assert re.search(r"trimming extreme values", next(i.message for i in report.issues if i.kind == "outliers"))
    headers = list(report.column_statistics().columns)
    assert headers == ["Column", "Role", "Empty cells", "Different values", "Skewness", "Far-out values"]
    log = CleaningLog(rows_before=2, rows_after=2, duplicates_dropped=0, log_transformed=("spend",))
    assert any(re.match(r"Evened out by taking logarithms .*: spend\.", line) for line in log.summary_lines())


def test_notes_name_columns_by_their_labels() -> None:
    # issue 15: the quality notes listed raw names ("avg_order_value, total_spend")
    log = CleaningLog(5, 5, 0, imputed={"annual_income": 2}, clipped={"avg_order_value": 1},
                      log_transformed=("avg_order_value", "total_spend"), dropped_columns=("rfm_group",))
    lines = log.summary_lines()
    assert "Annual income: 2 empty values were filled." in lines
    assert "Average order value: 1 extreme value was clipped." in lines
    assert "Columns dropped: RFM group." in lines
    assert any(line.endswith(": average order value, total spend.") for line in lines)
    assert not any("_" in line for line in lines)
