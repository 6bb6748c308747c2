"""An amount column that mixes currencies ("$12", "€15"): kept as text at load, refused by name when rolled up or
predicted from, the cells untouched."""

import re
from pathlib import Path

import pandas as pd
import pytest

from segmentation.errors import DataError
from segmentation.ingest.layout import TransactionSchema, layout_from_mapping
from segmentation.ingest.orders import rollup
from segmentation.ingest.parse import currency_counts
from segmentation.ingest.read import load_table
from segmentation.value.clv import predict_value

LINES = "customer_id,order_date,amount\nC1,2023-01-01,$12.00\nC1,2023-02-01,€15.00\nC2,2023-01-05,$3.50\n" \
        "C2,2023-03-05,$4.00\n"
LAYOUT = TransactionSchema(customer="customer_id", date="order_date", amount="amount", quantity=None, price=None,
                           order=None, product=None, category=None, text=None)
MIXED = r"Column 'amount' mixes currencies \(\$ in 3 cells, € in 1 cell\): amounts in different currencies cannot"


@pytest.fixture()
def loaded(tmp_path: Path):
    source = tmp_path / "orders.csv"
    source.write_text(LINES, encoding="utf-8")
    return load_table(source)


def test_currencies_are_counted_once_whatever_their_spelling():
    assert currency_counts(pd.Series(["$12", "€15", "15 EUR", "3 USD", "7", None])) == {"$": 2, "€": 2}
    assert currency_counts(pd.Series([12.0, 15.0])) == {}


def test_a_mixed_column_is_kept_as_text_with_a_warning_that_names_the_currencies(loaded):
    assert loaded.table["amount"].tolist() == ["$12.00", "€15.00", "$3.50", "$4.00"]   # nothing lost
    assert any(re.match(MIXED + r".*kept as text", w) for w in loaded.report.warnings)


def test_one_currency_still_reads_as_numbers(tmp_path: Path):
    source = tmp_path / "one.csv"
    source.write_text(LINES.replace("€", "$"), encoding="utf-8")
    assert load_table(source).table["amount"].tolist() == [12.0, 15.0, 3.5, 4.0]


def test_rolling_up_or_predicting_from_a_mixed_column_says_why(loaded):
    with pytest.raises(DataError, match=MIXED + r".*nothing was rolled up"):
        rollup(loaded.table, LAYOUT)
    with pytest.raises(DataError, match=MIXED + r".*no value was predicted"):
        predict_value(loaded.table, LAYOUT)
    with pytest.raises(DataError, match=MIXED):
        layout_from_mapping(loaded.table, {"customer": "customer_id", "date": "order_date", "amount": "amount"})
