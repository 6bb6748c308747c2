"""Column roles are inferred with a readable reason, and the analyst's overrides are checked."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from segmentation.common import name_tokens
from segmentation.config import ROLES
from segmentation.errors import ConfigError
from segmentation.ingest.roles import ColumnRole, infer_roles, resolve_roles, roles_table

N = 60
RNG = np.random.default_rng(0)


def customers() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": [f"C{i:04d}" for i in range(N)],
            "age": RNG.integers(18, 80, N),
            "income": RNG.normal(50_000, 10_000, N).round(2),
            "member": RNG.integers(0, 2, N),
            "plan": pd.Series(RNG.choice(["basic", "plus", "pro"], N), dtype="str"),
            "comment": [f"I really liked the service number {i} but delivery was slow" for i in range(N)],
            "joined": pd.date_range("2021-01-01", periods=N, freq="D"),
            "email": [f"person{i}@example.com" for i in range(N)],
            "country": ["UK"] * N,
            "notes": [np.nan] * N,
            "year": RNG.integers(1950, 2005, N),
            "rating": RNG.integers(1, 6, N),
        }
    )


@pytest.mark.parametrize(
    ("column", "role", "reason"),
    [
        ("customer_id", "id", r"unique"),
        ("age", "numeric", r"Numbers with \d+ distinct values"),
        ("income", "numeric", r"Numbers"),
        ("member", "categorical", r"Only two values \(0 and 1\): a yes/no flag"),
        ("plan", "categorical", r"3 distinct short values"),
        ("comment", "text", r"100% unique strings averaging 11 words → free text"),
        ("joined", "date", r"Dates from 2021-01-01"),
        ("email", "pii", r"e-mail addresses"),
        ("country", "ignore", r"same value \('UK'\)"),
        ("notes", "ignore", r"Every value is empty"),
        ("year", "numeric", r"Numbers"),
        ("rating", "numeric", r"score or count"),
    ],
)
def test_roles_and_reasons(column: str, role: str, reason: str) -> None:
    roles = infer_roles(customers())
    assert roles[column].role == role
    assert roles[column].column == column
    assert pd.Series([roles[column].reason]).str.contains(reason, regex=True).all(), roles[column].reason


def test_roles_keep_column_order_and_use_known_roles_only() -> None:
    table = customers()
    roles = infer_roles(table)
    assert list(roles) == list(table.columns)
    assert all(r.role in ROLES for r in roles.values())
    assert "label" not in {r.role for r in roles.values()}  # only the analyst sets a label
    assert roles["email"].pii_kind == "email" and roles["age"].pii_kind is None


def test_row_number_column_is_an_id() -> None:
    table = pd.DataFrame({"column_1": np.arange(100), "value": RNG.normal(size=100)})
    assert infer_roles(table)["column_1"].role == "id"


def test_year_integers_are_never_dates() -> None:
    table = pd.DataFrame({"Year_Birth": RNG.integers(1940, 2000, 200)})
    assert infer_roles(table)["Year_Birth"].role == "numeric"


def test_text_dates_are_recognised() -> None:
    table = pd.DataFrame({"signup": pd.Series(["2021-03-04", "2021-05-06", "2022-01-02"] * 10, dtype="str")})
    assert infer_roles(table)["signup"].role == "date"


def test_repeating_customer_id_is_still_an_id() -> None:
    table = pd.DataFrame({"CustomerID": pd.Series(["1", "1", "2", "3", "3", "3"] * 5, dtype="str")})
    role = infer_roles(table)["CustomerID"]
    assert role.role == "id" and "several rows" in role.reason


def test_numeric_codes_with_many_values_are_categories() -> None:
    table = pd.DataFrame({"Clothing ID": pd.Series([str(i % 300) for i in range(2000)], dtype="str")})
    role = infer_roles(table)["Clothing ID"]
    assert role.role == "categorical" and "300" in role.reason


def test_names_of_products_are_not_person_names() -> None:
    table = pd.DataFrame(
        {
            "Class Name": pd.Series(RNG.choice(["Dresses", "Knits", "Blouses"], 100), dtype="str"),
            "Customer Name": pd.Series([f"Ann Smith{chr(97 + i % 26)}" for i in range(100)], dtype="str"),
        }
    )
    roles = infer_roles(table)
    assert roles["Class Name"].role == "categorical"
    assert (roles["Customer Name"].role, roles["Customer Name"].pii_kind) == ("pii", "name")


def test_resolve_roles_applies_overrides() -> None:
    table = customers()
    resolved = resolve_roles(table, {"plan": "label", "comment": "ignore"})
    assert resolved["plan"] == "label"
    assert resolved["comment"] == "ignore"
    assert resolved["age"] == "numeric"
    assert list(resolved) == list(table.columns)


def test_resolve_roles_refuses_unknown_columns_and_roles() -> None:
    with pytest.raises(ConfigError, match=r"names column 'nope', which is not in the table.*'customer_id'"):
        resolve_roles(customers(), {"nope": "numeric"})
    with pytest.raises(ConfigError, match=r"role of column 'age' must be one of .* Got 'number'"):
        resolve_roles(customers(), {"age": "number"})


def test_roles_table_for_editing() -> None:
    frame = roles_table(infer_roles(customers()))
    assert list(frame.columns) == ["column", "role", "reason"]
    assert len(frame) == len(customers().columns)
    assert roles_table({"a": ColumnRole("a", "numeric", "why")}).iloc[0].tolist() == ["a", "numeric", "why"]


@pytest.mark.parametrize(
    ("name", "tokens"),
    [
        ("CustomerID", ["customer", "id"]),
        ("customerID", ["customer", "id"]),
        ("Dt_Customer", ["dt", "customer"]),
        ("Annual Income (k$)", ["annual", "income", "k"]),
        ("E-mail", ["e", "mail"]),
        ("IDNumber", ["id", "number"]),
    ],
)
def test_name_tokens(name: str, tokens: list[str]) -> None:
    assert name_tokens(name) == tokens


# The name outweighs a coincidence of values (issue 12): "spend" holding 0, 1, 2, … is money, not a row number.
@pytest.mark.parametrize(
    "column", ["spend", "Total_Amount", "numberOfVisits", "AGE", "customer_score", "order_count", "Revenue"]
)
def test_measure_names_stay_numeric_even_with_consecutive_values(column: str) -> None:
    role = infer_roles(pd.DataFrame({column: np.arange(100)}))[column]
    assert role.role == "numeric", role.reason
    assert pd.Series([role.reason]).str.contains(r"name says it is a measure").all(), role.reason


@pytest.mark.parametrize(
    ("column", "values"), [("customer_id", np.arange(100)), ("order_number", np.arange(1000, 1100))]
)
def test_identifier_names_with_unique_whole_numbers_are_ids(column: str, values: np.ndarray) -> None:
    assert infer_roles(pd.DataFrame({column: values}))[column].role == "id"


def test_without_a_telling_name_the_values_decide() -> None:
    table = pd.DataFrame(
        {
            "x1": np.arange(50, 150),  # consecutive whole numbers, one per row: a row number
            "x2": RNG.normal(size=100).round(3),  # measurements
            "x3": pd.Series([f"K{i:05d}" for i in RNG.permutation(100)], dtype="str"),  # unique codes
            "x4": pd.Series(RNG.choice(["red", "green", "blue"], 100), dtype="str"),  # a few repeating words
        }
    )
    roles = infer_roles(table)
    assert [roles[c].role for c in table.columns] == ["id", "numeric", "id", "categorical"]
    assert "row number" in roles["x1"].reason


def test_grouping_names_stay_categorical_in_a_tiny_table() -> None:
    table = pd.DataFrame({"value_group": pd.Series(["Champions", "Loyal", "Lost"], dtype="str")})
    role = infer_roles(table)["value_group"]
    assert role.role == "categorical", role.reason
    # the roll-up's own RFM group describes segments without driving them (issue 17)
    assert infer_roles(table.rename(columns={"value_group": "rfm_group"}))["rfm_group"].role == "describe"
    unnamed = infer_roles(table.rename(columns={"value_group": "x"}))["x"]
    assert unnamed.role == "id"  # without the name, three distinct single words look like codes


# issue 15: the clothing reviews' unnamed index ("Unnamed: 0", a shuffled sample of 0..23,485) was a feature
@pytest.mark.parametrize("column", ["", "index", "nr", "#", "Unnamed: 0"])
@pytest.mark.parametrize("kind", ["from_zero", "from_one", "rising_with_gaps", "shuffled_with_gaps"])
def test_row_numbers_are_found_from_the_values_whatever_the_name(column: str, kind: str) -> None:
    values = {"from_zero": np.arange(60), "from_one": np.arange(1, 61),
              "rising_with_gaps": np.arange(0, 600, 10) + RNG.integers(0, 9, 60),
              "shuffled_with_gaps": RNG.permutation(np.arange(0, 600, 10))}[kind]
    table = pd.DataFrame({column: values, "spend": RNG.normal(50, 10, 60).round(2)})
    role = infer_roles(table)[column]
    assert role.role == "id" and re.search("row number|named like an identifier", role.reason), role.reason


def test_a_named_column_of_shuffled_unique_numbers_is_not_taken_for_a_row_number() -> None:
    table = pd.DataFrame({"x": RNG.permutation(np.arange(0, 600, 10)), "spend": RNG.normal(size=60)})
    assert infer_roles(table)["x"].role == "numeric"
    assert infer_roles(table.rename(columns={"x": "spend_total"}))["spend_total"].role == "numeric"
