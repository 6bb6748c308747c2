"""From order lines to one row per customer: recency, frequency, monetary value, tenure, RFM groups.

Which columns are order lines is found from names and values
(:mod:`segmentation.ingest.layout`: :func:`guess_layout`, :func:`detect_transactions`)
or named by hand (:func:`layout_from_mapping`); those names are re-exported here. The roll-up is
a handful of vectorised group-bys, never a Python loop per customer, and adds
RFM scores and groups (:func:`rfm_scores`). The app and the command line both
call :func:`rollup_dataset`, so the same file gives the same customers and digest.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, replace

import numpy as np
import pandas as pd

from segmentation.common import name_tokens
from segmentation.errors import ConfigError, DataError
from segmentation.ingest.layout import (
    LAYOUT_PARTS,
    LayoutGuess,
    TransactionSchema,
    detect_transactions,
    guess_layout,
    layout_from_mapping,
)
from segmentation.ingest.lines import read_order_fields
from segmentation.ingest.parse import currency_counts, mixed_currencies
from segmentation.ingest.read import Dataset, LoadReport

__all__ = [
    "LAYOUT_PARTS", "RFM_COLUMNS", "RFM_GROUPS", "TEXT_SEPARATOR", "LayoutGuess", "TransactionSchema",
    "detect_transactions", "guess_layout", "layout_from_mapping", "preview_rollup", "rfm_scores", "rollup",
    "rollup_dataset",
]

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
LISTED_LEFT_OUT = 10_000
"""Lines left out of a roll-up listed one by one in the load report (all are counted)."""


def _is_text(series: pd.Series) -> bool:
    return pd.api.types.is_string_dtype(series) or series.dtype == object


def _snake(name: str) -> str:
    return "_".join(name_tokens(name)) or "value"


def rollup(
    table: pd.DataFrame, schema: TransactionSchema, as_of: pd.Timestamp | None = None, predict: bool = False,
    value_model: object = None,
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

    Lines without a customer id, a readable date or a value, and lines with a quantity of 0, are left out;
    the notes count each reason (:func:`rollup_dataset` also lists the lines in the load report).

    ``predict=True`` also fits the purchase and spend models (``value.clv``, scipy: about a second for Online
    Retail's 4,300 customers) and adds ``p_alive``, ``expected_purchases`` (next 365 days), ``predicted_clv`` and
    ``value_at_risk`` to every customer who bought; when the history cannot support them a note says why and the
    roll-up comes without them. ``value_model`` (a ``value.clv.ValueModel``, e.g. from a saved segmentation
    model) predicts with those parameters instead of fitting new ones. How the table was rolled up (the layout,
    the fitted parameters) is kept in ``customers.attrs`` (``value.clv.rollup_record``).
    """
    customers, notes, _ = _rollup(table, schema, as_of, predict, value_model)
    return customers, notes


def _rollup(
    table: pd.DataFrame, schema: TransactionSchema, as_of: pd.Timestamp | None = None, predict: bool = False,
    value_model: object = None,
) -> tuple[pd.DataFrame, list[str], np.ndarray]:
    """:func:`rollup`, plus each line's reason for being left out ("" for lines rolled up)."""
    used = [c for c in asdict(schema).values() if c]
    missing_columns = [c for c in used if c not in table.columns]
    if missing_columns:
        raise DataError(
            f"The transaction columns {', '.join(map(repr, missing_columns))} are not in the table. "
            "Choose the columns again."
        )
    if schema.amount is None and not (schema.quantity and schema.price):
        raise ConfigError("Rolling up order lines needs an amount column, or both a quantity and a unit price column.")
    check_one_currency(table, schema)
    notes: list[str] = []
    n_lines = len(table)

    fields = read_order_fields(table, schema)
    customer, no_customer, dates, quantity, value = (fields.customer, fields.no_customer, fields.dates,
                                                      fields.quantity, fields.value)

    no_date = dates.isna().to_numpy() & ~no_customer
    no_value = value.isna().to_numpy() & ~no_customer & ~no_date
    zero = np.zeros(n_lines, dtype=bool) if quantity is None else quantity.eq(0).to_numpy(dtype=bool, na_value=False)
    zero = zero & ~(no_customer | no_date | no_value)
    reasons = np.full(n_lines, "", dtype=object)
    for mask, what in (
        (no_customer, "no customer id"),
        (no_date, "no readable date"),
        (no_value, "no amount (or no quantity and price)"),
        (zero, "a quantity of 0"),
    ):
        reasons[mask] = what
        if mask.any():
            notes.append(f"{int(mask.sum()):,} order lines have {what} and were left out.")
    keep = reasons == ""
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
    fitted = None
    if predict:
        from segmentation.value.clv import value_columns  # lazy: scipy is imported only for a prediction

        predicted, value_notes, fitted = value_columns(lines, as_of, unreadable_dates=int(no_date.sum()),
                                                       model=value_model)  # type: ignore[arg-type]
        customers, notes = customers.join(predicted), notes + value_notes

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
    from segmentation.value.clv import VALUE_ATTR, rollup_record

    customers.attrs[VALUE_ATTR] = rollup_record(schema, fitted)
    return customers, notes, reasons


def check_one_currency(table: pd.DataFrame, schema: TransactionSchema) -> None:
    """Raise :class:`DataError` naming the column and the currencies when the amount (or price) column mixes
    currencies ("$12", "€15"): such amounts cannot be added up, so nothing is rolled up; the file is untouched."""
    for column in (schema.amount, schema.price):
        counts = currency_counts(table[column]) if column else {}
        if len(counts) > 1:
            raise DataError(mixed_currencies(str(column), counts) + "; nothing was rolled up. Convert the amounts "
                            "to one currency (or split the file by currency) and load it again.")


def rollup_dataset(
    dataset: Dataset, layout: TransactionSchema, predict: bool = False
) -> tuple[Dataset, tuple[str, ...]]:
    """The order lines of ``dataset`` rolled up to one row per customer, as a new Dataset, with the notes.

    The one path from order lines to customers for the app and the command line, so both segment the same table
    under the same digest. The new Dataset keeps the load report, is named "<name> (per customer)", and its
    digest is ``sha256("rollup:<source digest>:<layout as sorted JSON>")``: the same file rolled up with other
    columns is another dataset. ``layout`` is :func:`detect_transactions`' or :func:`layout_from_mapping`'s answer;
    the notes (see :func:`rollup`) say what was left out and how values were counted.

    The load report stays with the dataset for good (the workspace keeps it): its rows are the order lines,
    ``rows_kept`` those rolled up, ``rows_rejected`` the loader's rejects plus the lines left out, each listed
    (the first :data:`LISTED_LEFT_OUT`) with its line and reason, and its warnings say how many lines were left
    out for which reason and how returns and cancellations were counted. ``predict``: add predicted value, as
    :func:`rollup` does (the digest then ends in ":value", as the table differs).
    """
    customers, notes, reasons = _rollup(dataset.table, layout, predict=predict)
    key = f"rollup:{dataset.digest}:{json.dumps(asdict(layout), sort_keys=True)}" + (":value" if predict else "")
    rolled = replace(
        dataset,
        table=customers.reset_index(drop=True),
        name=f"{dataset.name} (per customer)",
        digest=hashlib.sha256(key.encode()).hexdigest(),
        report=_rollup_report(dataset.table, dataset.report, reasons, notes),
    )
    return rolled, tuple(notes)


def preview_rollup(table: pd.DataFrame, layout: TransactionSchema, customers: int = 20) -> pd.DataFrame:
    """The roll-up of the first ``customers`` customers' lines (all of their lines), for the analyst to check a
    layout before rolling up a large file. Recency counts up to the last date of the whole table; the RFM
    scores are ranked among these customers only. Raises like :func:`rollup` when the layout does not fit.
    """
    ids = table[layout.customer]
    first = pd.Series(ids.dropna().unique()[:customers])
    lines = table[ids.isin(first).to_numpy()]
    dates = table[layout.date]
    as_of = dates.max() if pd.api.types.is_datetime64_any_dtype(dates) else None
    as_of = None if as_of is None or pd.isna(as_of) else pd.Timestamp(as_of).tz_localize(None)
    rolled, _ = rollup(lines.reset_index(drop=True), layout, as_of=as_of)
    return rolled


def _rollup_report(table: pd.DataFrame, report: LoadReport, reasons: np.ndarray, notes: list[str]) -> LoadReport:
    """The load report of the order lines with the lines the roll-up left out added, and why."""
    left = np.flatnonzero(reasons != "")
    listed = left[:LISTED_LEFT_OUT]
    shown = table.iloc[listed].astype("string").fillna("")
    raw = shown.agg(",".join, axis=1) if len(listed) and len(table.columns) else pd.Series([""] * len(listed))
    # the file line when the loader kept every line: the header is line 1
    lines = pd.DataFrame({"line": (listed + 2).astype("int64"),
                          "reason": [f"left out of the roll-up: {r}" for r in reasons[listed]],
                          "raw": raw.to_numpy(dtype=object)})
    rejected = pd.concat([report.rejected, lines], ignore_index=True) if len(report.rejected) else lines
    said = [n for n in notes if "left out" in n or "returns or cancellations" in n]
    if not len(left) and not said:
        return report  # nothing to add: the report of the lines says it all
    if len(left) > len(listed):
        said.append(f"The first {len(listed):,} of the {len(left):,} lines left out are listed with their reason.")
    return replace(report, rows_kept=report.rows_kept - len(left), rows_rejected=report.rows_rejected + len(left),
                   rejected=rejected, warnings=tuple(report.warnings) + tuple(said))


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
