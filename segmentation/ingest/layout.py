"""Which columns of a table are order lines: found from names and values, or named by hand.

A table holds order lines when a customer id repeats (several rows per customer), a
date varies, and there is an amount (or a quantity and a unit price). Names in
English and a few other languages ("CustomerID", "Kunde", "Betrag", "fecha") are
recognised, but values decide where names say nothing: an id-like code whose
values repeat and whose rows span several dates is the customer, a column of
dates is the date, a numeric with decimals and mostly positive values is money and
a numeric of small positive whole numbers a count. :func:`guess_layout` says how
sure it is and why, one sentence per part, for the analyst to confirm;
:func:`layout_from_mapping` takes the columns named by hand.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields

import numpy as np
import pandas as pd

from segmentation.common import name_tokens
from segmentation.errors import ConfigError
from segmentation.ingest.roles import DATE_LIKE, free_text_words

_CUSTOMER = (
    r"^(customer|client|cliente|cust|buyer|shopper|member|user|account|subscriber|household|consumer|patron|kunde|"
    r"kunden|klant|kd)(id|no|nr|num|number|code|key|ref|nummer)?$",
    r"(customer|client|cust|buyer|shopper|member|user|account|subscriber|household|consumer|kunde|klant)"
    r"(id|no|nr|num|number|code|key|nummer)",
)
_DATE = (
    r"^(invoice|order|transaction|purchase|sale|sales|payment|booking|txn|trans|bestell|rechnungs|kauf|buchungs)?"
    r"(date|time|datetime|timestamp|dt|day|datum|fecha|zeit|tag)$",
    r"(date|time|timestamp|datetime|datum|fecha)",
)
_AMOUNT = (
    r"^(amount|total|revenue|sales|spend|spent|value|val|linetotal|lineamount|net|gross|subtotal|turnover|paid|"
    r"payment|betrag|umsatz|summe|gesamt|wert|montant|importe|bedrag|valor)$",
    r"(amount|revenue|sales|spend|linetotal|lineamount|subtotal|turnover|totalprice|totalvalue|ordervalue|netvalue|"
    r"betrag|umsatz|gesamtpreis)",
)
_QUANTITY = (
    r"^(quantity|qty|units|unitssold|pieces|count|items|itemcount|volume|menge|anzahl|stueck|stuck|cantidad|"
    r"quantite|aantal|n)$",
    r"(quantity|qty|units|menge|anzahl)",
)
_PRICE = (
    r"^(unitprice|price|unitcost|priceeach|rate|itemprice|cost|saleprice|salesprice|preis|einzelpreis|prix|precio|"
    r"prijs)$",
    r"(price|unitcost|preis)",
)
_ORDER = (
    r"^(invoice|order|transaction|receipt|basket|ticket|bill|checkout|txn|sale|rechnung|bestellung|beleg|auftrag)"
    r"(id|no|nr|num|number|code|ref|nummer)?$",
    r"(invoice|order|transaction|receipt|basket|ticket|txn|rechnung|bestell|beleg|auftrag)(id|no|nr|num|number|code|"
    r"ref|nummer)",
)
_PRODUCT = (
    r"^(stockcode|sku|product|productid|productcode|item|itemid|itemcode|article|articleid|ean|upc|gtin|asin|artikel|"
    r"artikelnr|artikelnummer|produkt|produktnr)$",
    r"(stockcode|sku|productid|productcode|itemid|itemcode|articleid|artikelnummer)",
)
_CATEGORY = (
    r"^(category|productcategory|itemcategory|department|subcategory|family|productline|productgroup|class|kategorie|"
    r"warengruppe)$",
    r"^(country|region|channel|store|city|state|market|territory|segment|brand|land|filiale)$",
    r"(category|country|region|kategorie)",
)
_TEXT = (
    r"^(description|productdescription|itemdescription|comment|comments|review|reviewtext|note|notes|text|message|"
    r"feedback|productname|itemname|title|beschreibung|bezeichnung|kommentar)$",
    r"(description|comment|review|feedback|message|beschreibung)",
)
# Tokens of a column name that say it is not a customer id, whatever its values ("year", "zip", "age").
_NOT_CUSTOMER = frozenset("year jahr age zip postcode postal plz phone telefon".split())
_LINE_TOKENS = frozenset("line row item position pos zeile".split())


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
            ("quantity", self.quantity if self.amount else None),
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


@dataclass(frozen=True)
class LayoutGuess:
    """A detected order-line layout, how sure the detection is, and why, for the analyst to confirm or correct.

    ``confidence`` is "high" when the customer, date and value columns were all recognised by name and their
    values fit, "medium" when some were found from their values alone, "low" when none was named like its
    part. ``reasons`` has one sentence per part found.
    """

    layout: TransactionSchema
    confidence: str
    reasons: tuple[str, ...]

    def describe(self) -> str:
        """The layout in one sentence and the confidence in words."""
        return f"{self.layout.describe()} Confidence: {self.confidence}."


def _joined(column: object) -> str:
    return "".join(name_tokens(str(column)))


def _named(column: object, patterns: tuple[str, ...]) -> bool:
    return any(re.search(pattern, _joined(column)) for pattern in patterns)


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


def _sample(series: pd.Series, n: int = 2_000) -> pd.Series:
    present = series.dropna()
    if len(present) <= n:
        return present
    return present.iloc[np.linspace(0, len(present) - 1, n).astype(int)]


def _looks_dated(series: pd.Series) -> bool:
    """Dates by their values: a datetime column, or text where nine in ten values read as dates."""
    if pd.api.types.is_datetime64_any_dtype(series):
        return series.dropna().nunique() > 1
    if not _is_text(series):
        return False
    sample = _sample(series, 200).astype(str)
    if sample.empty or float(sample.str.match(DATE_LIKE.pattern).mean()) < 0.9:
        return False
    parsed = pd.to_datetime(sample, errors="coerce", format="mixed")
    return bool(parsed.notna().mean() >= 0.9 and parsed.nunique() > 1)


def _as_dates(series: pd.Series) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(series):
        return series
    return pd.to_datetime(series, errors="coerce", format="mixed")


def _code_like(series: pd.Series) -> bool:
    """Values that could be customer codes: whole numbers that are not years, or digit-bearing single words."""
    if pd.api.types.is_datetime64_any_dtype(series) or pd.api.types.is_bool_dtype(series):
        return False
    sample = _sample(series)
    if sample.empty:
        return False
    if _is_numeric(series):
        values = sample.to_numpy(dtype="float64")
        if not np.all(np.mod(values, 1) == 0) or values.min() < 0:
            return False
        year_like = values.min() >= 1900 and values.max() <= 2100
        return bool(np.median(values) >= 100 and not year_like)
    text = sample.astype(str).str.strip()
    return bool(text.str.fullmatch(r"[\w\-./#]+").mean() >= 0.95 and text.str.contains(r"\d").mean() >= 0.9)


def _repeats(series: pd.Series) -> bool:
    present = series.dropna()
    distinct = present.nunique()
    return bool(distinct >= 2 and len(present) >= 1.3 * distinct)


def _per_customer_key(table: pd.DataFrame) -> str | None:
    """A column unique on every row and named like an identifier that is not an order or a line: a customer table."""
    for column in table.columns:
        tokens = set(name_tokens(str(column)))
        id_named = _named(column, _CUSTOMER) or bool(tokens & {"id", "key", "uid", "uuid", "guid"})
        if not id_named or _named(column, _ORDER) or tokens & _LINE_TOKENS:
            continue
        present = table[column].dropna()
        if len(present) >= 3 and len(present) == len(table) and present.is_unique:
            return str(column)
    return None


def _dated_share(keys: pd.Series, dates: pd.Series) -> float:
    """The share of a key's values whose rows fall on more than one day (customers do, orders do not)."""
    frame = pd.DataFrame({"key": keys.to_numpy(), "day": dates.dt.normalize().to_numpy()}).dropna()
    if frame.empty:
        return 0.0
    days = frame.groupby("key", sort=False)["day"].nunique()
    return float((days > 1).mean())


def _one_per_moment(keys: pd.Series, dates: pd.Series) -> float:
    """The share of moments (exact timestamps with several lines) whose lines all carry one value of ``keys``.

    The lines of one checkout share a customer but not a product: customers score near 1, products far lower.
    NaN when no timestamp holds two lines (dates without a time of day on one line per day).
    """
    frame = pd.DataFrame({"key": keys.to_numpy(), "when": dates.to_numpy()}).dropna()
    sizes = frame.groupby("when", sort=False)["key"].agg(["size", "nunique"])
    shared = sizes[sizes["size"] >= 2]
    return float((shared["nunique"] == 1).mean()) if len(shared) else float("nan")


def _rank_correlation(a: pd.Series, b: pd.Series) -> float:
    frame = pd.DataFrame({"a": a.to_numpy(), "b": b.to_numpy()}).dropna()
    frame = frame.iloc[np.linspace(0, len(frame) - 1, min(len(frame), 20_000)).astype(int)] if len(frame) else frame
    if len(frame) < 3 or frame["a"].nunique() < 2 or frame["b"].nunique() < 2:
        return float("nan")
    return float(frame["a"].rank().corr(frame["b"].rank()))


def _money_like(series: pd.Series) -> bool:
    if not _is_numeric(series):
        return False
    values = _sample(series).to_numpy(dtype="float64")
    if values.size == 0:
        return False
    return bool(np.mean(np.mod(values, 1) != 0) >= 0.1 and np.mean(values > 0) >= 0.7)


def _count_like(series: pd.Series) -> bool:
    if not _is_numeric(series):
        return False
    values = _sample(series).to_numpy(dtype="float64")
    if values.size == 0 or not np.all(np.mod(values, 1) == 0):
        return False
    return bool(np.mean(values > 0) >= 0.7 and 1 <= np.median(values) <= 100 and np.mean(values != 0) >= 0.9)


def _product_of(table: pd.DataFrame, total: str, count: str, unit: str) -> bool:
    """Is ``total`` about ``count`` × ``unit`` on nine in ten rows (a line amount, not a unit price)?"""
    frame = table[[total, count, unit]].dropna()
    if frame.empty:
        return False
    frame = frame.iloc[np.linspace(0, len(frame) - 1, min(len(frame), 2_000)).astype(int)].to_numpy(dtype="float64")
    close = np.abs(frame[:, 0] - frame[:, 1] * frame[:, 2]) <= 0.01 * np.abs(frame[:, 0]) + 0.01
    return bool(close.mean() >= 0.9)


def _find_customer(table: pd.DataFrame, date: str | None) -> tuple[str | None, str]:
    """The customer column by name, else by its values, with the reason; None when the table is not order lines."""
    named = _pick(table, _CUSTOMER, _is_key, set())
    if named is not None:
        present = table[named].dropna()
        if present.empty or present.nunique() >= len(present):
            return None, ""  # one row per customer already
        return named, f"customer {named!r}: named like a customer id; {_per_id(present)}."
    if _per_customer_key(table) is not None or date is None:
        return None, ""
    dates = _as_dates(table[date])
    best: tuple[float, float, str] | None = None
    for column in table.columns:
        column = str(column)
        if column == date or set(name_tokens(column)) & _NOT_CUSTOMER or _named(column, _ORDER + _PRODUCT):
            continue
        series = table[column]
        if not (_code_like(series) and _repeats(series)):
            continue
        spread = _dated_share(series, dates)
        if spread < 0.2:
            continue
        moment = _one_per_moment(series, dates)
        score = (0.0 if np.isnan(moment) else moment, spread, column)
        if best is None or score[:2] > best[:2]:
            best = score
    if best is None:
        return None, ""
    _, spread, column = best
    present = table[column].dropna()
    return column, (f"customer {column!r}: found from its values, codes that repeat ({_per_id(present)}) "
                    f"with {spread:.0%} of them on more than one day.")


def _per_id(present: pd.Series) -> str:
    distinct = present.nunique()
    return f"{distinct:,} distinct values in {len(present):,} rows, {len(present) / max(distinct, 1):.1f} rows each"


def _find_text(table: pd.DataFrame, taken: set[str]) -> str | None:
    """The column of the customers' own words, found from its values in any language (``roles.free_text_words``:
    "comentario", "avis"); the most words per value wins and a name ("comment", "Kommentar") only breaks a tie.
    Columns named as another part (product, category, order, customer) are left to it. Without such a column,
    a text column named like one is kept (product descriptions that repeat on every line)."""
    scored = []
    for column in table.columns:
        if column in taken or not _is_text(table[column]) or any(
                _named(column, patterns) for patterns in (_PRODUCT, _CATEGORY, _ORDER, _CUSTOMER)):
            continue
        words = free_text_words(table[column])
        if words is not None:
            scored.append((round(words), _named(column, _TEXT), str(column)))
    if scored:
        return max(scored, key=lambda s: s[:2])[2]
    return _pick(table, _TEXT, _is_text, taken)


def _find_date(table: pd.DataFrame, taken: set[str]) -> tuple[str | None, bool]:
    """The date column (by name first, else the first column of dates) and whether its name said so."""
    for column in table.columns:
        if column not in taken and pd.api.types.is_datetime64_any_dtype(table[column]) and re.search(
            _DATE[0], _joined(column)
        ):
            return str(column), True
    named = _pick(table, _DATE, _is_date, taken)
    if named is not None:
        return named, True
    for column in table.columns:
        if column not in taken and _looks_dated(table[column]):
            return str(column), False
    return None, False


def guess_layout(table: pd.DataFrame) -> LayoutGuess | None:
    """The columns of an order-line table with how sure the detection is and why, or None when it is not one.

    Names are read first (in English, German and a few other languages); a part no name gives away is found
    from the values: the customer is an id-like column (codes, or whole numbers that are not years) whose values
    repeat and span several days, the date a column of dates, the amount a numeric with decimals and mostly
    positive values, the quantity a numeric of small positive whole numbers. A table with a unique identifier
    column (one row per customer) is never read as order lines unless that column is named as the customer.
    With one money column and no price column, the money column is read as the line amount.
    """
    taken: set[str] = set()
    date_guess, date_named = _find_date(table, taken)
    customer, customer_reason = _find_customer(table, date_guess)
    if customer is None:
        return None
    taken.add(customer)
    date, date_named = _find_date(table, taken)
    if date is None:
        return None
    taken.add(date)
    reasons = [customer_reason, f"date {date!r}: " + ("named like a date." if date_named else
                                                      "found from its values, dates that vary.")]
    quantity = _pick(table, _QUANTITY, _is_numeric, taken)
    taken |= {quantity} if quantity else set()
    price = _pick(table, _PRICE, _is_numeric, taken)
    taken |= {price} if price else set()
    amount = _pick(table, _AMOUNT, _is_numeric, taken)
    value_named = bool(amount or (quantity and price))
    if amount is None and not (quantity and price):
        order_named = _pick(table, _ORDER, lambda s: True, taken)
        free = [str(c) for c in table.columns if c not in taken and c != order_named]
        money = [c for c in free if _money_like(table[c])]
        if quantity is None:
            counts = [c for c in free if c not in money and _count_like(table[c])]
            quantity = counts[0] if counts else None
        if price is not None and quantity is not None:
            amount = None   # named quantity and price, found together
        elif len(money) >= 2 and quantity is not None:
            total = next((m for m in money for u in money if m != u and _product_of(table, m, quantity, u)), None)
            amount = total or money[0]
        elif len(money) == 1 and quantity is not None and _rank_correlation(table[money[0]], table[quantity]) < 0.2:
            price = money[0]  # a line amount grows with the quantity; a unit price does not
        elif money:
            amount = money[0]
        elif quantity is not None and price is None:
            return None
        if amount is None and not (quantity and price):
            return None
    taken |= {c for c in (amount, quantity, price) if c}
    if amount:
        reasons.append(f"amount {amount!r}: " + ("named like an amount." if _named(amount, _AMOUNT) else
                                                  "found from its values, money with decimals, mostly positive "
                                                  "(if it is a unit price, name the columns by hand)."))
    elif value_named:
        reasons.append(f"amount = {quantity!r} × {price!r}: named like a quantity and a unit price.")
    else:
        reasons.append(f"amount = {quantity!r} × {price!r}: found from their values, small whole numbers and money "
                       "that does not grow with them (a unit price).")
    if quantity and amount:
        how = "named like a quantity" if _named(quantity, _QUANTITY) else "found from its values, small whole numbers"
        reasons.append(f"quantity {quantity!r}: {how}; a negative quantity marks a return.")
    order = _pick(table, _ORDER, lambda s: _is_key(s) and not pd.api.types.is_datetime64_any_dtype(s), taken)
    taken |= {order} if order else set()
    text = _find_text(table, taken)
    taken |= {text} if text else set()
    product = _pick(table, _PRODUCT, _is_key, taken)
    taken |= {product} if product else set()
    category = _pick(table, _CATEGORY, _is_text, taken)
    layout = TransactionSchema(customer, date, amount, quantity, price, order, product, category, text)
    by_name = [_named(customer, _CUSTOMER), date_named, value_named]
    confidence = "high" if all(by_name) else "medium" if any(by_name) else "low"
    return LayoutGuess(layout, confidence, tuple(reasons))


def detect_transactions(table: pd.DataFrame) -> TransactionSchema | None:
    """The columns of an order-line table, or None when ``table`` is not one (:func:`guess_layout` without the why).

    It is one when a customer-id column repeats (several rows per customer), a date column exists, and there is
    an amount or both a quantity and a unit price.
    """
    guess = guess_layout(table)
    return guess.layout if guess is not None else None


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
        if not column:
            continue
        if column not in columns:
            raise ConfigError(f"The {part!r} column {column!r} is not in the table. The columns are: {shown}.")
        if column in seen:
            raise ConfigError(f"The column {column!r} is named as both {seen[column]!r} and {part!r}; name it once.")
        seen[column] = part
        values = table[column].dropna()
        if part in ("amount", "quantity", "price") and not _is_numeric(values):
            from segmentation.errors import DataError
            from segmentation.ingest.parse import currency_counts, mixed_currencies

            if len(counts := currency_counts(values)) > 1:
                raise DataError(mixed_currencies(column, counts) + ". Convert the amounts to one currency (or split "
                                "the file by currency) and load it again.")
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
