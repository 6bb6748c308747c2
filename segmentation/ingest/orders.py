"""From order lines to one row per customer: recency, frequency, monetary value, tenure, RFM groups.

A transaction file is recognised by a customer id that repeats, a date, and an
amount (or quantity and unit price); columns are found by name patterns and
dtype, so exports with other column names work too (:func:`detect_transactions`),
or named by hand when they are not (:func:`layout_from_mapping`). The roll-up is
a handful of vectorised group-bys, never a Python loop per customer, and adds
RFM scores and groups (:func:`rfm_scores`). The app and the command line both
call :func:`rollup_dataset`, so the same file gives the same customers and digest.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, fields, replace

import numpy as np
import pandas as pd

from segmentation.common import name_tokens
from segmentation.errors import ConfigError, DataError
from segmentation.ingest.read import Dataset

RFM_GROUPS: tuple[str, ...] = (
    "Champions",
    "Loyal",
    "Potential loyalists",
    "New",
    "At risk",
    "Can't lose them",
    "Hibernating",
    "Lost",
)

# Rows: recency score 1..5; columns: the mean of the frequency and monetary scores (rounded half up) 1..5.
# The rule in words is in ``rfm_scores``' docstring; a test checks the two agree.
_RFM_GRID: tuple[tuple[str, ...], ...] = (
    ("Lost", "Lost", "At risk", "At risk", "Can't lose them"),
    ("Hibernating", "Hibernating", "At risk", "At risk", "Can't lose them"),
    ("Hibernating", "Potential loyalists", "Potential loyalists", "Loyal", "Loyal"),
    ("New", "Potential loyalists", "Potential loyalists", "Loyal", "Champions"),
    ("New", "Potential loyalists", "Potential loyalists", "Champions", "Champions"),
)
RFM_COLUMNS: tuple[str, ...] = ("rfm_r", "rfm_f", "rfm_m", "rfm_group")
"""What :func:`rollup` adds to every customer: the three 1-5 scores (numbers) and the named group (text)."""

TEXT_SEPARATOR = "; "

_CUSTOMER = (
    r"^(customer|client|cust|buyer|shopper|member|user|account|subscriber|household|consumer|patron)"
    r"(id|no|nr|num|number|code|key|ref)?$",
    r"(customer|client|cust|buyer|shopper|member|user|account|subscriber|household|consumer)(id|no|nr|num|number|code|key)",
)
_DATE = (
    r"^(invoice|order|transaction|purchase|sale|sales|payment|booking|txn|trans)?(date|time|datetime|timestamp|dt|day)$",
    r"(date|time|timestamp|datetime)",
)
_AMOUNT = (
    r"^(amount|total|revenue|sales|spend|spent|value|linetotal|lineamount|net|gross|subtotal|turnover|paid|payment)$",
    r"(amount|revenue|sales|spend|linetotal|lineamount|subtotal|turnover|totalprice|totalvalue|ordervalue|netvalue)",
)
_QUANTITY = (r"^(quantity|qty|units|unitssold|pieces|count|items|itemcount|volume)$", r"(quantity|qty|units)")
_PRICE = (r"^(unitprice|price|unitcost|priceeach|rate|itemprice|cost|saleprice|salesprice)$", r"(price|unitcost)")
_ORDER = (
    r"^(invoice|order|transaction|receipt|basket|ticket|bill|checkout|txn|sale)(id|no|nr|num|number|code|ref)?$",
    r"(invoice|order|transaction|receipt|basket|ticket|txn)(id|no|nr|num|number|code|ref)",
)
_PRODUCT = (
    r"^(stockcode|sku|product|productid|productcode|item|itemid|itemcode|article|articleid|ean|upc|gtin|asin)$",
    r"(stockcode|sku|productid|productcode|itemid|itemcode|articleid)",
)
_CATEGORY = (
    r"^(category|productcategory|itemcategory|department|subcategory|family|productline|productgroup|class)$",
    r"^(country|region|channel|store|city|state|market|territory|segment|brand)$",
    r"(category|country|region)",
)
_TEXT = (
    r"^(description|productdescription|itemdescription|comment|comments|review|reviewtext|note|notes|text|message|"
    r"feedback|productname|itemname|title)$",
    r"(description|comment|review|feedback|message)",
)


@dataclass(frozen=True)
class TransactionSchema:
    """Which columns of an order-line table play which part; ``None`` where the file has no such column."""

    customer: str
    date: str
    amount: str | None
    quantity: str | None
    price: str | None
    order: str | None
    product: str | None
    category: str | None
    text: str | None

    def describe(self) -> str:
        """One sentence naming the columns, for the analyst to confirm."""
        value = f"amount {self.amount!r}" if self.amount else f"amount = {self.quantity!r} × {self.price!r}"
        parts = [f"customer {self.customer!r}", f"date {self.date!r}", value]
        for label, column in (
            ("order", self.order),
            ("product", self.product),
            ("category", self.category),
            ("text", self.text),
        ):
            if column:
                parts.append(f"{label} {column!r}")
        return "Order lines with " + ", ".join(parts) + "."


LAYOUT_PARTS: tuple[str, ...] = tuple(f.name for f in fields(TransactionSchema))
"""The parts :func:`layout_from_mapping` accepts: customer and date, and amount or quantity and price, are needed."""


def _joined(column: object) -> str:
    return "".join(name_tokens(str(column)))


def _pick(
    table: pd.DataFrame, patterns: tuple[str, ...], accept: Callable[[pd.Series], bool], taken: set[str]
) -> str | None:
    for pattern in patterns:
        for column in table.columns:
            if column in taken or not re.search(pattern, _joined(column)):
                continue
            if accept(table[column]):
                return str(column)
    return None


def _is_numeric(series: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)


def _is_key(series: pd.Series) -> bool:
    if pd.api.types.is_datetime64_any_dtype(series) or pd.api.types.is_bool_dtype(series):
        return False
    if _is_numeric(series):
        present = series.dropna().to_numpy(dtype="float64")
        return bool(np.all(np.mod(present, 1) == 0))
    return True


def _is_date(series: pd.Series) -> bool:
    if pd.api.types.is_datetime64_any_dtype(series):
        return True
    if not (pd.api.types.is_string_dtype(series) or series.dtype == object):
        return False
    sample = series.dropna().head(200)
    if sample.empty:
        return False
    parsed = pd.to_datetime(sample.astype(str), errors="coerce", format="mixed")
    return bool(parsed.notna().mean() >= 0.9)


def _is_text(series: pd.Series) -> bool:
    return pd.api.types.is_string_dtype(series) or series.dtype == object


def detect_transactions(table: pd.DataFrame) -> TransactionSchema | None:
    """The columns of an order-line table, or None when ``table`` is not one.

    It is one when a customer-id column repeats (several rows per customer), a
    date column exists, and there is an amount or both a quantity and a unit price.
    """
    taken: set[str] = set()
    customer = _pick(table, _CUSTOMER, _is_key, taken)
    if customer is None:
        return None
    ids = table[customer].dropna()
    if ids.empty or ids.nunique() >= len(ids):
        return None  # one row per customer already
    taken.add(customer)
    date = next(
        (
            str(c)
            for c in table.columns
            if c not in taken and pd.api.types.is_datetime64_any_dtype(table[c]) and re.search(_DATE[0], _joined(c))
        ),
        None,
    )
    date = date or _pick(table, _DATE, _is_date, taken)
    date = date or next((str(c) for c in table.columns if pd.api.types.is_datetime64_any_dtype(table[c])), None)
    if date is None:
        return None
    taken.add(date)
    quantity = _pick(table, _QUANTITY, _is_numeric, taken)
    taken |= {quantity} if quantity else set()
    price = _pick(table, _PRICE, _is_numeric, taken)
    taken |= {price} if price else set()
    amount = _pick(table, _AMOUNT, _is_numeric, taken)
    if amount is None and not (quantity and price):
        return None
    taken |= {amount} if amount else set()
    order = _pick(table, _ORDER, lambda s: _is_key(s) and not pd.api.types.is_datetime64_any_dtype(s), taken)
    taken |= {order} if order else set()
    text = _pick(table, _TEXT, _is_text, taken)
    taken |= {text} if text else set()
    product = _pick(table, _PRODUCT, _is_key, taken)
    taken |= {product} if product else set()
    category = _pick(table, _CATEGORY, _is_text, taken)
    return TransactionSchema(customer, date, amount, quantity, price, order, product, category, text)


def layout_from_mapping(table: pd.DataFrame, mapping: Mapping[str, str]) -> TransactionSchema:
    """The order-line layout named by hand, for files whose columns :func:`detect_transactions` does not recognise.

    ``mapping`` maps parts of :data:`LAYOUT_PARTS` to column names of ``table``: ``customer`` and ``date`` are
    needed, and ``amount`` or both ``quantity`` and ``price`` (with all three, ``amount`` is the value and a
    negative ``quantity`` marks a return); ``order``, ``product``, ``category`` and ``text`` are optional.
    Raises :class:`ConfigError` naming the part and the column when a part is unknown or missing, a column is
    not in the table or named twice, or a value column holds no numbers or the date column no dates.
    """
    columns = [str(c) for c in table.columns]
    shown = ", ".join(map(repr, columns[:30])) + (", …" if len(columns) > 30 else "")
    unknown = [part for part in mapping if part not in LAYOUT_PARTS]
    if unknown:
        raise ConfigError(
            f"The order-line part {unknown[0]!r} is not one of {', '.join(LAYOUT_PARTS)}. "
            "Name the columns as part=column, e.g. customer=CustomerID,date=InvoiceDate,amount=Total."
        )
    for part in ("customer", "date"):
        if not mapping.get(part):
            raise ConfigError(f"Naming the columns of order lines needs the {part!r} column. The columns are: {shown}.")
    if not mapping.get("amount") and not (mapping.get("quantity") and mapping.get("price")):
        raise ConfigError(
            "Naming the columns of order lines needs the 'amount' column, or both the 'quantity' and the 'price' "
            f"column. The columns are: {shown}."
        )
    seen: dict[str, str] = {}
    for part, column in mapping.items():
        if column not in columns:
            raise ConfigError(f"The {part!r} column {column!r} is not in the table. The columns are: {shown}.")
        if column in seen:
            raise ConfigError(f"The column {column!r} is named as both {seen[column]!r} and {part!r}; name it once.")
        seen[column] = part
        values = table[column].dropna()
        if part in ("amount", "quantity", "price") and not _is_numeric(values):
            if not values.empty and pd.to_numeric(values, errors="coerce").isna().all():
                raise ConfigError(
                    f"The {part!r} column {column!r} holds no numbers (e.g. {values.iloc[0]!r}). "
                    "Name a column of numbers."
                )
        if part == "date" and not values.empty and not pd.api.types.is_datetime64_any_dtype(values):
            parsed = pd.to_datetime(values.head(200).astype(str), errors="coerce", format="mixed")
            if parsed.isna().all():
                raise ConfigError(
                    f"The 'date' column {column!r} holds no dates (e.g. {values.iloc[0]!r}). Name a column of dates."
                )
    return TransactionSchema(**{part: mapping.get(part) or None for part in LAYOUT_PARTS})  # type: ignore[arg-type]


def _snake(name: str) -> str:
    return "_".join(name_tokens(name)) or "value"


def rollup(
    table: pd.DataFrame, schema: TransactionSchema, as_of: pd.Timestamp | None = None
) -> tuple[pd.DataFrame, list[str]]:
    """One row per customer from order lines, plus plain notes about what was left out and how.

    Columns: the customer id (its original name, first), ``recency_days`` and
    ``tenure_days`` (days from the last and the first order line to ``as_of``,
    default the last date in the file), ``frequency`` (distinct purchase orders;
    distinct purchase days without an order column), ``monetary`` (net value,
    returns subtract), ``avg_order_value`` (gross purchases per order),
    ``order_lines``, ``return_share`` (share of lines that are returns or
    cancellations: negative quantity, or an invoice starting with 'C'), and when
    the columns exist ``distinct_products``, ``favourite_<category>`` (the most
    frequent value) and the customer's texts joined into one (distinct, in order
    of first appearance, under the text column's name); last, the RFM scores
    ``rfm_r``, ``rfm_f``, ``rfm_m`` (1-5) and the named ``rfm_group`` of
    :func:`rfm_scores`.
    """
    used = [c for c in asdict(schema).values() if c]
    missing_columns = [c for c in used if c not in table.columns]
    if missing_columns:
        raise DataError(
            f"The transaction columns {', '.join(map(repr, missing_columns))} are not in the table. "
            "Choose the columns again."
        )
    if schema.amount is None and not (schema.quantity and schema.price):
        raise ConfigError("Rolling up order lines needs an amount column, or both a quantity and a unit price column.")
    notes: list[str] = []
    n_lines = len(table)

    customer = table[schema.customer]
    no_customer = customer.isna().to_numpy(dtype=bool, copy=True)
    if _is_text(customer):
        no_customer |= (customer.astype("str").str.strip() == "").to_numpy(dtype=bool, na_value=False)
    dates = table[schema.date]
    if not pd.api.types.is_datetime64_any_dtype(dates):
        dates = pd.to_datetime(dates, errors="coerce", format="mixed")
    if getattr(dates.dt, "tz", None) is not None:
        dates = dates.dt.tz_localize(None)
    quantity = pd.to_numeric(table[schema.quantity], errors="coerce") if schema.quantity else None
    if schema.amount:
        value = pd.to_numeric(table[schema.amount], errors="coerce").astype("float64")
    else:
        price = pd.to_numeric(table[schema.price], errors="coerce")  # type: ignore[index]
        value = (quantity * price).astype("float64")  # type: ignore[operator]

    no_date = dates.isna().to_numpy() & ~no_customer
    no_value = value.isna().to_numpy() & ~no_customer & ~no_date
    for count, what in (
        (int(no_customer.sum()), "no customer id"),
        (int(no_date.sum()), "no readable date"),
        (int(no_value.sum()), "no amount (or no quantity and price)"),
    ):
        if count:
            notes.append(f"{count:,} order lines have {what} and were left out.")
    keep = ~(no_customer | no_date | no_value)
    if not keep.any():
        raise DataError(
            f"None of the {n_lines:,} order lines has a customer id, a date and an amount together; nothing to roll up."
        )

    key = customer[keep].to_numpy()
    when = dates[keep].to_numpy()
    amount = value[keep].to_numpy()
    is_return = amount < 0 if quantity is None else quantity[keep].to_numpy(dtype="float64") < 0
    if schema.order:
        order = table[schema.order][keep]
        is_return |= order.astype("str").str.strip().str.upper().str.startswith("C").fillna(False).to_numpy(dtype=bool)
    lines = pd.DataFrame({"key": key, "when": when, "amount": amount, "is_return": is_return})
    n_returns = int(is_return.sum())
    if n_returns:
        notes.append(
            f"{n_returns:,} order lines are returns or cancellations "
            "(negative quantity or an invoice starting with 'C'); "
            "they reduce the monetary value and count in return_share."
        )

    as_of = pd.Timestamp(as_of) if as_of is not None else pd.Timestamp(lines["when"].max())
    groups = lines.groupby("key", sort=True)
    customers = pd.DataFrame(index=groups.size().index)
    customers.index.name = None
    as_of_day = as_of.normalize()
    customers["recency_days"] = (as_of_day - groups["when"].max().dt.normalize()).dt.days.astype("int64")
    purchases = lines.loc[~lines["is_return"]]
    if schema.order:
        purchases = purchases.assign(order=table[schema.order][keep].to_numpy()[~lines["is_return"].to_numpy()])
        frequency = purchases.groupby("key")["order"].nunique()
    else:
        frequency = purchases.assign(day=purchases["when"].dt.normalize()).groupby("key")["day"].nunique()
    customers["frequency"] = frequency.reindex(customers.index, fill_value=0).astype("int64")
    customers["monetary"] = groups["amount"].sum().round(2)
    customers["tenure_days"] = (as_of_day - groups["when"].min().dt.normalize()).dt.days.astype("int64")
    gross = purchases.groupby("key")["amount"].sum().reindex(customers.index, fill_value=0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        average = np.where(customers["frequency"] > 0, gross / customers["frequency"].replace(0, 1), 0.0)
    customers["avg_order_value"] = np.round(average, 2)
    customers["order_lines"] = groups.size().astype("int64")
    customers["return_share"] = groups["is_return"].mean().astype("float64").round(4)

    if schema.product:
        products = pd.Series(table[schema.product][keep].to_numpy(), name="product")
        customers["distinct_products"] = (
            lines.assign(product=products).groupby("key")["product"].nunique().astype("int64")
        )
    if schema.category:
        category = pd.Series(table[schema.category][keep].to_numpy())
        counted = (
            lines.assign(category=category)
            .dropna(subset=["category"])
            .groupby(["key", "category"])
            .size()
            .rename("n")
            .reset_index()
            # Ties go to the alphabetically first value, so the result never depends on row order.
            .sort_values(["key", "n", "category"], ascending=[True, False, True], kind="mergesort")
            .drop_duplicates("key")
            .set_index("key")["category"]
        )
        customers[f"favourite_{_snake(schema.category)}"] = counted.reindex(customers.index)
    if schema.text:
        texts = pd.Series(table[schema.text][keep].to_numpy()).astype("str").str.strip()
        distinct = (
            lines[["key"]]
            .assign(text=texts)
            .loc[lambda f: f["text"].notna() & (f["text"] != "")]
            .drop_duplicates(["key", "text"])
        )
        # Plain Python strings join far faster than Arrow-backed ones.
        gathered = (
            distinct.assign(text=distinct["text"].astype(object))
            .groupby("key", sort=True)["text"]
            .agg(TEXT_SEPARATOR.join)
        )
        customers[schema.text] = gathered.reindex(customers.index)

    ids = pd.Series(customers.index.to_numpy())
    if pd.api.types.is_float_dtype(customer) and bool(np.all(np.mod(ids.to_numpy(dtype="float64"), 1) == 0)):
        ids = ids.astype("int64")  # ids stored as floats only because some lines had none
    elif _is_text(customer):
        ids = ids.astype("str")
    customers.insert(0, schema.customer, ids.to_numpy())
    # The three-digit rfm_score repeats the three scores as a 125-value code: a poor feature, so it stays out.
    customers = rfm_scores(customers.reset_index(drop=True)).drop(columns="rfm_score")
    notes.insert(0, f"{int(keep.sum()):,} order lines were rolled up into {len(customers):,} customers.")
    notes.append(
        "Each customer has RFM scores from 1 to 5 (rfm_r recency, rfm_f frequency, rfm_m monetary value; "
        "5 is best) and an RFM group in rfm_group (Champions, Loyal, ... Lost)."
    )
    notes.append(f"Recency and tenure are counted in days up to {as_of:%Y-%m-%d}.")
    return customers, notes


def rollup_dataset(dataset: Dataset, layout: TransactionSchema) -> tuple[Dataset, tuple[str, ...]]:
    """The order lines of ``dataset`` rolled up to one row per customer, as a new Dataset, with the notes.

    The one path from order lines to customers for the app and the command line, so both segment the same table
    under the same digest. The new Dataset keeps the load report, is named "<name> (per customer)", and its
    digest is ``sha256("rollup:<source digest>:<layout as sorted JSON>")``: the same file rolled up with other
    columns is another dataset. ``layout`` is :func:`detect_transactions`' or :func:`layout_from_mapping`'s answer;
    the notes (see :func:`rollup`) say what was left out and how values were counted.
    """
    customers, notes = rollup(dataset.table, layout)
    key = f"rollup:{dataset.digest}:{json.dumps(asdict(layout), sort_keys=True)}"
    rolled = replace(
        dataset,
        table=customers.reset_index(drop=True),
        name=f"{dataset.name} (per customer)",
        digest=hashlib.sha256(key.encode()).hexdigest(),
    )
    return rolled, tuple(notes)


def rfm_scores(
    customers: pd.DataFrame, recency: str = "recency_days", frequency: str = "frequency", monetary: str = "monetary"
) -> pd.DataFrame:
    """``customers`` with RFM quintile scores and named groups added.

    ``rfm_r``, ``rfm_f`` and ``rfm_m`` are 1-5 (5 = most recent, most frequent,
    highest value), from ranks so that ties are broken by row order and the five
    groups stay equal in size even when many customers share a value (e.g.
    frequency 1). ``rfm_score`` is the three digits as text ("545"), and
    ``rfm_group`` one of :data:`RFM_GROUPS` (text, so it can colour the map and
    appear in profiles as a category), from R, the recency score, and FM, the
    mean of the frequency and monetary scores rounded half up:

    - Champions: R 4-5 and FM 5, or R 5 and FM 4 (bought lately, often, for a lot)
    - Loyal: R 3-4 and FM 4-5, other than Champions
    - Potential loyalists: R 3-5 and FM 2-3
    - New: R 4-5 and FM 1 (bought lately, little so far)
    - At risk: R 1-2 and FM 3-4 (good customers who have not bought for a while)
    - Can't lose them: R 1-2 and FM 5 (the best customers, gone quiet)
    - Hibernating: R 3 and FM 1, or R 2 and FM 1-2
    - Lost: R 1 and FM 1-2
    """
    for name, column in (("recency", recency), ("frequency", frequency), ("monetary", monetary)):
        if column not in customers.columns:
            raise ConfigError(
                f"The '{name}' column for RFM scores must be a column of the table. "
                f"Got {column!r}, which it does not have."
            )
    out = customers.copy()
    n = len(out)
    if n == 0:
        for column in ("rfm_r", "rfm_f", "rfm_m"):
            out[column] = pd.Series(dtype="int64")
        out["rfm_score"] = pd.Series(dtype="str")
        out["rfm_group"] = pd.Series(dtype="str")
        return out

    def quintile(values: pd.Series, higher_is_better: bool) -> np.ndarray:
        numbers = pd.to_numeric(values, errors="coerce").astype("float64")
        worst = -np.inf if higher_is_better else np.inf
        numbers = numbers.fillna(worst)  # a missing value scores lowest
        ranks = (numbers if higher_is_better else -numbers).rank(method="first").to_numpy()
        return np.clip(np.ceil(ranks * 5 / n), 1, 5).astype("int64")

    r = quintile(out[recency], higher_is_better=False)
    f = quintile(out[frequency], higher_is_better=True)
    m = quintile(out[monetary], higher_is_better=True)
    fm = (f + m + 1) // 2
    grid = np.array(_RFM_GRID, dtype=object)
    out["rfm_r"] = r
    out["rfm_f"] = f
    out["rfm_m"] = m
    out["rfm_score"] = pd.Series(r * 100 + f * 10 + m, index=out.index).astype("str")
    out["rfm_group"] = pd.Series(grid[r - 1, fm - 1], index=out.index, dtype="str")
    return out
