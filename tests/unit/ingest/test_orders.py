"""Order lines roll up to one row per customer with RFM scores and groups."""

from __future__ import annotations

import hashlib
import json
import re
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from segmentation.errors import ConfigError, DataError
from segmentation.ingest.orders import (
    LAYOUT_PARTS,
    RFM_COLUMNS,
    RFM_GROUPS,
    TransactionSchema,
    detect_transactions,
    guess_layout,
    layout_from_mapping,
    rfm_scores,
    rollup,
    rollup_dataset,
)
from segmentation.ingest.read import load_table
from segmentation.ingest.roles import infer_roles

DATA = Path(__file__).resolve().parents[4] / "shared" / "data"


def order_lines() -> pd.DataFrame:
    """Two customers, a return, and a line without a customer, with the UCI column names."""
    return pd.DataFrame(
        {
            "InvoiceNo": ["1", "1", "2", "C3", "4", "5"],
            "StockCode": ["A", "B", "A", "A", "C", "A"],
            "Description": ["MUG", "PLATE", "MUG", "MUG", "BOWL", "MUG"],
            "Quantity": [2, 1, 3, -1, 1, 5],
            "InvoiceDate": pd.to_datetime(
                [
                    "2021-01-01 10:00",
                    "2021-01-01 10:00",
                    "2021-01-10 09:00",
                    "2021-01-12 09:00",
                    "2021-01-05 12:00",
                    "2021-01-20 08:00",
                ]
            ),
            "UnitPrice": [5.0, 10.0, 5.0, 5.0, 20.0, 1.0],
            "CustomerID": pd.Series(["c1", "c1", "c1", "c1", "c2", None], dtype="str"),
            "Country": ["UK", "UK", "France", "France", "Spain", "UK"],
        }
    )


def test_detect_uci_schema() -> None:
    schema = detect_transactions(order_lines())
    assert schema == TransactionSchema(
        customer="CustomerID",
        date="InvoiceDate",
        amount=None,
        quantity="Quantity",
        price="UnitPrice",
        order="InvoiceNo",
        product="StockCode",
        category="Country",
        text="Description",
    )
    assert "amount = 'Quantity' × 'UnitPrice'" in schema.describe()


def test_detect_other_column_names() -> None:
    frame = pd.DataFrame(
        {
            "client_id": [1, 1, 2, 2, 3],
            "order_date": pd.Series(
                ["2021-01-01", "2021-02-01", "2021-01-05", "2021-03-01", "2021-03-02"], dtype="str"
            ),
            "order_id": ["o1", "o2", "o3", "o4", "o5"],
            "total": [10.0, 20.0, 5.0, 7.5, 1.0],
            "category": ["toys", "toys", "books", "toys", "books"],
            "sku": ["x", "y", "x", "z", "x"],
        }
    )
    schema = detect_transactions(frame)
    assert schema is not None
    assert (schema.customer, schema.date, schema.amount, schema.order, schema.product, schema.category) == (
        "client_id",
        "order_date",
        "total",
        "order_id",
        "sku",
        "category",
    )
    customers, _ = rollup(frame, schema, as_of=pd.Timestamp("2021-03-02"))
    assert customers["client_id"].tolist() == [1, 2, 3]
    assert customers["monetary"].tolist() == [30.0, 12.5, 1.0]
    assert customers["recency_days"].tolist() == [29, 1, 0]
    assert customers["favourite_category"].tolist() == ["toys", "books", "books"]  # tie: alphabetically first


@pytest.mark.parametrize(
    "frame",
    [
        pd.DataFrame(
            {"CustomerID": ["a", "b"], "date": pd.to_datetime(["2021-01-01", "2021-01-02"]), "amount": [1, 2]}
        ),
        pd.DataFrame({"customer_id": ["a", "a"], "amount": [1, 2]}),  # no date
        pd.DataFrame({"customer_id": ["a", "a"], "date": pd.to_datetime(["2021-01-01", "2021-01-02"])}),  # no value
        pd.DataFrame({"age": [1, 2], "income": [3, 4]}),
    ],
    ids=["one-row-per-customer", "no-date", "no-amount", "customer-table"],
)
def test_not_transactions(frame: pd.DataFrame) -> None:
    assert detect_transactions(frame) is None


def test_rollup_values() -> None:
    frame = order_lines()
    customers, notes = rollup(frame, detect_transactions(frame), as_of=pd.Timestamp("2021-01-20"))  # type: ignore[arg-type]
    assert list(customers.columns[:1]) == ["CustomerID"]
    assert customers["CustomerID"].tolist() == ["c1", "c2"]
    c1 = customers.iloc[0]
    assert c1["recency_days"] == 8  # last line 2021-01-12
    assert c1["tenure_days"] == 19  # first line 2021-01-01
    assert c1["frequency"] == 2  # invoices 1 and 2; C3 is a cancellation
    assert c1["monetary"] == pytest.approx(10 + 10 + 15 - 5)
    assert c1["avg_order_value"] == pytest.approx((10 + 10 + 15) / 2)
    assert c1["order_lines"] == 4
    assert c1["return_share"] == pytest.approx(0.25)
    assert c1["distinct_products"] == 2
    assert c1["favourite_country"] == "France"  # France 2 lines, UK 2 lines: tie goes alphabetically
    assert c1["Description"] == "MUG; PLATE"
    assert customers.iloc[1]["favourite_country"] == "Spain"
    assert notes[0] == "5 order lines were rolled up into 2 customers."
    assert "1 order lines have no customer id and were left out." in notes
    assert any(n.startswith("1 order lines are returns or cancellations") for n in notes)
    assert notes[-1] == "Recency and tenure are counted in days up to 2021-01-20."


def test_rollup_with_only_returns_has_zero_frequency() -> None:
    frame = pd.DataFrame(
        {
            "customer": ["a", "a", "b"],
            "date": pd.to_datetime(["2021-01-01", "2021-01-02", "2021-01-03"]),
            "amount": [-5.0, -1.0, 3.0],
        }
    )
    schema = detect_transactions(frame)
    customers, _ = rollup(frame, schema)  # type: ignore[arg-type]
    assert customers["frequency"].tolist() == [0, 1]  # without an order column: distinct purchase days
    assert customers["avg_order_value"].tolist() == [0.0, 3.0]
    assert customers["return_share"].tolist() == [1.0, 0.0]


def test_rollup_refuses_missing_columns_and_empty_input() -> None:
    schema = TransactionSchema("cust", "day", "amount", None, None, None, None, None, None)
    with pytest.raises(DataError, match=r"'cust', 'day', 'amount' are not in the table"):
        rollup(pd.DataFrame({"x": [1]}), schema)
    frame = pd.DataFrame({"cust": [None, None], "day": pd.to_datetime(["2021-01-01"] * 2), "amount": [1.0, 2.0]})
    with pytest.raises(DataError, match="None of the 2 order lines"):
        rollup(frame, schema)
    with pytest.raises(ConfigError, match="needs an amount column"):
        rollup(frame, TransactionSchema("cust", "day", None, None, "amount", None, None, None, None))


def test_rfm_scores_are_quintiles_with_ties_broken_by_rank() -> None:
    customers = pd.DataFrame(
        {
            "recency_days": np.arange(10),
            "frequency": [1] * 10,  # all tied: ranks still spread them over five groups
            "monetary": np.arange(10, 0, -1) * 10.0,
        }
    )
    scored = rfm_scores(customers)
    assert scored["rfm_r"].tolist() == [5, 5, 4, 4, 3, 3, 2, 2, 1, 1]
    assert scored["rfm_f"].tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert scored["rfm_m"].tolist() == [5, 5, 4, 4, 3, 3, 2, 2, 1, 1]
    assert scored["rfm_score"].iloc[0] == "515"
    assert set(scored["rfm_group"]) <= set(RFM_GROUPS)
    assert list(customers.columns) == ["recency_days", "frequency", "monetary"]  # input untouched


def test_rfm_groups_cover_the_marketing_vocabulary() -> None:
    grid = pd.DataFrame(
        [(r, f, m) for r in range(1, 6) for f in range(1, 6) for m in range(1, 6)],
        columns=["r", "f", "m"],
    )
    # recency scores 5 for the smallest recency, so feed the reverse
    customers = pd.DataFrame(
        {
            "recency_days": (6 - grid["r"]) * 1000 + np.arange(125),
            "frequency": grid["f"] * 1000 + np.arange(125),
            "monetary": grid["m"] * 1000.0 + np.arange(125),
        }
    )
    scored = rfm_scores(customers)
    assert (scored["rfm_r"].to_numpy() == grid["r"].to_numpy()).all()
    assert set(scored["rfm_group"]) == set(RFM_GROUPS)
    champions = scored[(scored.rfm_r == 5) & (scored.rfm_f == 5) & (scored.rfm_m == 5)]
    assert champions["rfm_group"].tolist() == ["Champions"]
    lost = scored[(scored.rfm_r == 1) & (scored.rfm_f == 1) & (scored.rfm_m == 1)]
    assert lost["rfm_group"].tolist() == ["Lost"]


def test_rfm_scores_edge_cases() -> None:
    assert rfm_scores(pd.DataFrame({"recency_days": [], "frequency": [], "monetary": []})).empty
    one = rfm_scores(pd.DataFrame({"recency_days": [3], "frequency": [2], "monetary": [10.0]}))
    assert one[["rfm_r", "rfm_f", "rfm_m"]].iloc[0].tolist() == [5, 5, 5]
    with pytest.raises(ConfigError, match=r"'monetary' column .* Got 'value'"):
        rfm_scores(pd.DataFrame({"recency_days": [1], "frequency": [1]}), monetary="value")


@pytest.mark.skipif(not (DATA / "online_retail").exists(), reason="shared data folder not available")
def test_online_retail_full_rollup() -> None:
    started = time.perf_counter()
    dataset = load_table(DATA / "online_retail" / "online_retail.csv.gz")
    assert dataset.report.rows_read == dataset.report.rows_kept == 541_909
    schema = detect_transactions(dataset.table)
    assert schema is not None and schema.customer == "CustomerID" and schema.order == "InvoiceNo"
    customers, notes = rollup(dataset.table, schema)
    scored = rfm_scores(customers)
    elapsed = time.perf_counter() - started
    assert len(customers) == 4372
    assert customers["CustomerID"].is_unique
    assert "135,080 order lines have no customer id and were left out." in notes
    assert scored["rfm_group"].isin(RFM_GROUPS).all()
    assert elapsed < 30, f"load + rollup took {elapsed:.1f} s"
    # The roll-up itself carries the scores and groups, the same as scoring afterwards.
    assert set(RFM_COLUMNS) <= set(customers.columns) and "rfm_score" not in customers.columns
    pd.testing.assert_frame_equal(customers[list(RFM_COLUMNS)], scored[list(RFM_COLUMNS)])
    assert set(customers["rfm_group"]) == set(RFM_GROUPS)  # 4,372 customers fill every group
    assert customers[["rfm_r", "rfm_f", "rfm_m"]].stack().value_counts().sort_index().index.tolist() == [1, 2, 3, 4, 5]
    roles = infer_roles(customers)
    assert roles["CustomerID"].role == "id"
    # issue 17: the scores restate recency, frequency and monetary (features already): kept out of the features;
    # the group describes segments (profiles, map, exports) without driving them
    assert {c: roles[c].role for c in RFM_COLUMNS} == {
        "rfm_r": "ignore",
        "rfm_f": "ignore",
        "rfm_m": "ignore",
        "rfm_group": "describe",
    }
    assert {roles[c].role for c in ("recency_days", "frequency", "monetary", "tenure_days", "order_lines")} == {
        "numeric"
    }


def rfm_rule(r: int, fm: int) -> str:
    """The RFM groups as rfm_scores' docstring states them in words."""
    if (r >= 4 and fm == 5) or (r == 5 and fm == 4):
        return "Champions"
    if r >= 3 and fm >= 4:
        return "Loyal"
    if r >= 3 and fm in (2, 3):
        return "Potential loyalists"
    if r >= 4:
        return "New"
    if r <= 2 and fm in (3, 4):
        return "At risk"
    if r <= 2 and fm == 5:
        return "Can't lose them"
    if r == 3 or r == 2:
        return "Hibernating"
    return "Lost"


def test_rfm_groups_follow_the_documented_rule() -> None:
    scores = [(r, f, m) for r in range(1, 6) for f in range(1, 6) for m in range(1, 6)]
    grid = pd.DataFrame(scores, columns=["r", "f", "m"])
    customers = pd.DataFrame(
        {
            "recency_days": (6 - grid["r"]) * 1000 + np.arange(125),
            "frequency": grid["f"] * 1000 + np.arange(125),
            "monetary": grid["m"] * 1000.0 + np.arange(125),
        }
    )
    scored = rfm_scores(customers)
    fm = (scored["rfm_f"] + scored["rfm_m"] + 1) // 2  # the mean rounded half up
    expected = [rfm_rule(r, x) for r, x in zip(scored["rfm_r"], fm)]
    assert scored["rfm_group"].tolist() == expected
    assert set(expected) == set(RFM_GROUPS)


def five_customers() -> pd.DataFrame:
    """a buys most, most often and last; e least, once and longest ago: every score is the customer's rank."""
    rows = []
    for customer, n_orders, amount, last_day in (("a", 5, 100.0, 10), ("b", 4, 50.0, 9), ("c", 3, 20.0, 8),
                                                 ("d", 2, 10.0, 7), ("e", 1, 5.0, 1)):
        for k in range(n_orders):
            rows.append((customer, pd.Timestamp(2021, 1, last_day - k), amount))
    return pd.DataFrame(rows, columns=["customer", "date", "amount"])


def test_rollup_adds_rfm_scores_and_named_groups() -> None:
    frame = five_customers()
    customers, notes = rollup(frame, detect_transactions(frame))  # type: ignore[arg-type]
    assert customers["customer"].tolist() == ["a", "b", "c", "d", "e"]
    assert customers["frequency"].tolist() == [5, 4, 3, 2, 1]
    assert customers["recency_days"].tolist() == [0, 1, 2, 3, 9]
    for score in ("rfm_r", "rfm_f", "rfm_m"):
        assert customers[score].tolist() == [5, 4, 3, 2, 1]
    assert customers["rfm_group"].tolist() == ["Champions", "Loyal", "Potential loyalists", "Hibernating", "Lost"]
    assert "rfm_score" not in customers.columns  # the three-digit code repeats the scores; not a feature
    assert any(note.startswith("Each customer has RFM scores from 1 to 5") for note in notes)
    roles = infer_roles(customers)
    assert [roles[c].role for c in RFM_COLUMNS] == ["ignore", "ignore", "ignore", "describe"]
    assert "already features" in roles["rfm_r"].reason and "does not drive them" in roles["rfm_group"].reason


def odd_order_lines() -> pd.DataFrame:
    """Order lines whose column names detection does not recognise."""
    return pd.DataFrame(
        {
            "who": ["k1", "k1", "k2", "k2", "k2"],
            "when": pd.Series(["2021-01-01", "2021-01-05", "2021-01-02", "2021-01-03", "2021-01-09"], dtype="str"),
            "eur": [10.0, 5.0, 1.0, 2.0, 3.0],
            "pcs": [1, 1, 2, 1, -1],
            "what": ["tea", "mug", "tea", "tea", "pot"],
        }
    )


def test_layout_from_mapping_names_the_columns_detection_misses() -> None:
    frame = odd_order_lines()
    assert detect_transactions(frame) is None
    layout = layout_from_mapping(frame, {"customer": "who", "date": "when", "amount": "eur", "product": "what"})
    assert layout == TransactionSchema("who", "when", "eur", None, None, None, "what", None, None)
    customers, _ = rollup(frame, layout, as_of=pd.Timestamp("2021-01-10"))
    assert customers["who"].tolist() == ["k1", "k2"]
    assert customers["monetary"].tolist() == [15.0, 6.0]
    assert customers["recency_days"].tolist() == [5, 1]
    assert customers["distinct_products"].tolist() == [2, 2]
    by_quantity = layout_from_mapping(frame, {"customer": "who", "date": "when", "quantity": "pcs", "price": "eur"})
    assert (by_quantity.amount, by_quantity.quantity, by_quantity.price) == (None, "pcs", "eur")
    assert LAYOUT_PARTS == ("customer", "date", "amount", "quantity", "price", "order", "product", "category", "text")


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        ({"client": "who", "date": "when", "amount": "eur"}, r"part 'client' is not one of customer, date, amount"),
        ({"date": "when", "amount": "eur"}, r"needs the 'customer' column\. The columns are: 'who', 'when'"),
        ({"customer": "who", "amount": "eur"}, r"needs the 'date' column"),
        ({"customer": "who", "date": "when"}, r"needs the 'amount' column, or both the 'quantity' and the 'price'"),
        ({"customer": "who", "date": "when", "quantity": "pcs"}, r"or both the 'quantity' and the 'price'"),
        (
            {"customer": "who", "date": "day", "amount": "eur"},
            r"'date' column 'day' is not in the table\. The columns are: 'who', 'when', 'eur', 'pcs', 'what'\.",
        ),
        ({"customer": "who", "date": "when", "amount": "who"}, r"'who' is named as both 'customer' and 'amount'"),
        ({"customer": "who", "date": "when", "amount": "what"}, r"'amount' column 'what' holds no numbers"),
        ({"customer": "who", "date": "what", "amount": "eur"}, r"'date' column 'what' holds no dates \(e\.g\. 'tea'"),
    ],
    ids=["unknown-part", "no-customer", "no-date", "no-value", "quantity-without-price", "missing-column",
         "column-twice", "amount-not-numbers", "date-not-dates"],
)
def test_layout_from_mapping_refuses_with_the_part_and_the_column(mapping: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        layout_from_mapping(odd_order_lines(), mapping)


def test_rollup_dataset_is_the_one_path_for_app_and_cli() -> None:
    content = b"customer_id,order_date,total,product\nc1,2021-01-01,10,tea\nc1,2021-01-03,5,mug\nc2,2021-01-02,7,tea\n"
    dataset = load_table(content, name="orders.csv")
    layout = detect_transactions(dataset.table)
    assert layout is not None
    rolled, notes = rollup_dataset(dataset, layout)
    customers, expected_notes = rollup(dataset.table, layout)
    pd.testing.assert_frame_equal(rolled.table, customers)
    assert isinstance(rolled.table.index, pd.RangeIndex) and rolled.table.index.start == 0
    assert notes == tuple(expected_notes)
    assert rolled.name == "orders.csv (per customer)"
    assert rolled.report is dataset.report
    key = f"rollup:{dataset.digest}:{json.dumps(asdict(layout), sort_keys=True)}"
    assert rolled.digest == hashlib.sha256(key.encode()).hexdigest()
    again, _ = rollup_dataset(load_table(content, name="orders.csv"), layout)
    assert again.digest == rolled.digest  # same file, same layout: same dataset, whoever rolls it up
    parts = {"customer": "customer_id", "date": "order_date", "amount": "total"}
    by_hand = layout_from_mapping(dataset.table, {**parts, "product": "product"})
    assert by_hand == layout and rollup_dataset(dataset, by_hand)[0].digest == rolled.digest
    without_product, _ = rollup_dataset(dataset, layout_from_mapping(dataset.table, parts))
    assert "distinct_products" not in without_product.table.columns
    assert without_product.digest != rolled.digest  # another table from the same file: another digest


# --------------------------------------------------------------------------- issue 17: any shape, and what was left out
def classic_log(names: tuple[str, str, str, str] = ("a", "b", "c", "d"), n_customers: int = 40) -> pd.DataFrame:
    """The classic public 4-column log (customer, date, quantity, amount), seeded, under the given names."""
    rng = np.random.default_rng(7)
    rows = []
    for c in range(n_customers):
        for k in range(int(rng.integers(2, 6))):
            quantity = int(rng.integers(1, 5))
            rows.append((f"K{c:04d}", f"2023-{1 + (c + k) % 12:02d}-{1 + k * 5:02d}", quantity,
                         round(quantity * float(rng.uniform(3, 30)), 2)))
    return pd.DataFrame(rows, columns=list(names))


def test_classic_log_with_meaningless_names_is_found_from_its_values() -> None:
    guess = guess_layout(classic_log())
    assert guess is not None and guess.confidence == "low"
    layout = guess.layout
    assert (layout.customer, layout.date, layout.amount, layout.quantity) == ("a", "b", "d", "c")
    assert guess.layout.price is None
    assert re.search(r"customer 'a': found from its values, codes that repeat \(40 distinct values", guess.reasons[0])
    assert re.search(r"amount 'd': found from its values, money with decimals", " ".join(guess.reasons))
    assert guess.describe().endswith("Confidence: low.")
    customers, _ = rollup(classic_log(), guess.layout)
    assert len(customers) == 40  # the roll-up is exact once the columns are known


def test_short_and_foreign_names_raise_the_confidence() -> None:
    for names in (("cust", "dt", "n", "val"), ("Kunde", "Datum", "Menge", "Betrag")):
        guess = guess_layout(classic_log(names))
        assert guess is not None and guess.confidence == "high", names
        assert asdict(guess.layout) == {**dict.fromkeys(LAYOUT_PARTS), "customer": names[0], "date": names[1],
                                        "quantity": names[2], "amount": names[3]}
    frame = classic_log(("KundenNr", "Bestelldatum", "Anzahl", "Einzelpreis"))
    frame["Einzelpreis"] = (frame["Einzelpreis"] / frame["Anzahl"]).round(2)
    frame["Filiale"], frame["Notiz"] = "Köln", "bitte klingeln"   # extra columns change nothing
    layout = detect_transactions(frame)
    assert layout is not None and (layout.customer, layout.quantity, layout.price, layout.amount) == (
        "KundenNr", "Anzahl", "Einzelpreis", None)


def test_a_unit_price_is_told_from_a_line_amount_by_its_values() -> None:
    frame = classic_log()
    frame["d"] = np.where(frame["c"] > 2, 1.5, 9.75) + np.arange(len(frame)) % 3 * 0.1  # cheaper in bulk
    frame["extra"] = np.arange(len(frame)) % 7   # a stray numeric
    guess = guess_layout(frame)
    assert guess is not None
    assert (guess.layout.amount, guess.layout.quantity, guess.layout.price) == (None, "c", "d")
    assert "a unit price" in guess.reasons[2]


def test_checkout_lines_share_a_customer_not_a_product() -> None:
    """Without names, products repeat over days as customers do; the lines of one moment share the customer."""
    rng = np.random.default_rng(3)
    rows = []
    for visit in range(300):
        customer, moment = f"C{visit % 60:03d}", pd.Timestamp("2023-01-01") + pd.Timedelta(hours=7 * visit)
        for _ in range(3):
            rows.append((f"P{int(rng.integers(0, 40)):03d}", customer, moment, int(rng.integers(1, 4)),
                         round(float(rng.uniform(1, 9)), 2)))
    frame = pd.DataFrame(rows, columns=["x1", "x2", "x3", "x4", "x5"])
    layout = detect_transactions(frame)
    assert layout is not None and layout.customer == "x2" and layout.date == "x3"


@pytest.mark.parametrize("path", [
    Path(__file__).resolve().parents[3] / "assets" / "demo_customers.csv",
    DATA / "mall_customers" / "Mall_Customers.csv",
    DATA / "telco_churn" / "WA_Fn-UseC_-Telco-Customer-Churn.csv",
    DATA / "customer_personality" / "marketing_campaign.csv",
    DATA / "bank_marketing" / "bank-full.csv",
], ids=["demo", "mall", "telco", "personality", "bank"])
def test_customer_tables_are_never_order_lines(path: Path) -> None:
    assert guess_layout(load_table(path).table) is None


def test_lines_left_out_stay_in_the_load_report_with_counts_and_reasons(tmp_path: Path) -> None:
    content = (b"customer,date,qty,price\n"
               b"c1,2021-01-01,2,5.0\n"
               b",2021-01-02,1,5.0\n"          # no customer id
               b"c1,someday,1,5.0\n"           # no readable date
               b"c2,2021-01-03,0,4.0\n"        # quantity 0
               b"c2,2021-01-04,-1,4.0\n"       # a return
               b"c2,2021-01-05,3,4.0\n")
    dataset = load_table(content, name="log.csv")
    layout = layout_from_mapping(dataset.table, {"customer": "customer", "date": "date", "quantity": "qty",
                                                  "price": "price"})
    rolled, notes = rollup_dataset(dataset, layout)
    report = rolled.report
    assert (report.rows_read, report.rows_kept, report.rows_rejected) == (6, 3, 3)
    assert report.rejected[["line", "reason"]].values.tolist() == [
        [3, "left out of the roll-up: no customer id"], [4, "left out of the roll-up: no readable date"],
        [5, "left out of the roll-up: a quantity of 0"]]
    assert report.rejected["raw"].iloc[0].startswith(",2021-01-02")
    said = " ".join(report.summary_lines())
    for sentence in ("6 rows read, 3 kept, 3 rejected.", "1 order lines have no customer id and were left out.",
                     "1 order lines have no readable date and were left out.",
                     "1 order lines have a quantity of 0 and were left out.",
                     "1 order lines are returns or cancellations"):
        assert sentence in said
    assert dataset.report.rows_rejected == 0  # the lines' own report is untouched
    # kept in the workspace: the stored dataset comes back with the same report
    from segmentation.store.workspace import Workspace

    project = Workspace(tmp_path).create_project("orders")
    back = project.load_dataset(project.add_dataset(rolled)).report
    assert (back.rows_kept, back.rows_rejected, back.warnings) == (3, 3, report.warnings)
    assert back.rejected["reason"].tolist() == report.rejected["reason"].tolist()


def test_online_retail_lines_left_out_are_in_the_report() -> None:
    dataset = load_table(DATA / "online_retail" / "online_retail.csv.gz")
    rolled, _ = rollup_dataset(dataset, detect_transactions(dataset.table))  # type: ignore[arg-type]
    report = rolled.report
    assert (report.rows_read, report.rows_kept, report.rows_rejected) == (541_909, 406_829, 135_080)
    assert "135,080 order lines have no customer id and were left out." in report.warnings
    assert len(report.rejected) == 10_000 and "The first 10,000 of the 135,080 lines" in report.warnings[-1]
    assert report.rejected["reason"].eq("left out of the roll-up: no customer id").all()
