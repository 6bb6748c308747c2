"""Predicted value per customer: P(alive), expected purchases, predicted lifetime value, value at risk.

Purchases follow the MBG/NBD model (Batislam, Denizel & Filiztekin 2007), the BG/NBD of Fader, Hardie & Lee (2005)
with one change: a customer may leave after any purchase, the first one included. Plain BG/NBD lets a customer
leave only after a repeat purchase, so everyone who bought once is certainly active (P(alive) = 1): on Online
Retail, where a third of the customers bought on one day only, value at risk came out near zero. The value of a
purchase follows the Gamma-Gamma model (Fader & Hardie 2013). Both are fitted by maximum likelihood with scipy
(:mod:`segmentation.value.fit`, under a second) and predict in closed form with numpy, as pymc-marketing's
``ModifiedBetaGeoModel`` and ``GammaGammaModel`` do: tests check parameters and predictions against theirs.

A purchase is a customer's day with at least one order line that is not a return and has a positive amount (the
roll-up's rules: a return has a negative quantity, or a negative amount without a quantity column, or an invoice
starting with 'C'); its value is the sum of those lines. Time is counted in days.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from segmentation.errors import ConfigError, DataError
from segmentation.ingest.lines import OrderColumns, read_order_fields

VALUE_COLUMNS: tuple[str, ...] = ("p_alive", "expected_purchases", "predicted_clv", "value_at_risk")
"""What a roll-up with predictions adds to every customer who bought (see :func:`predict`)."""
HISTORY_COLUMNS: tuple[str, ...] = ("frequency", "recency", "T", "monetary_value")
DEFAULT_HORIZON_DAYS = 365
MIN_REPEAT_CUSTOMERS = 20
"""Fewer customers who bought on two days or more leave the purchase model's four numbers to chance."""
MAX_UNREADABLE_SHARE = 0.10
"""Above this share of order lines with unreadable dates, the purchase counts would be too low to predict from."""
LINE_COLUMNS: tuple[str, ...] = ("key", "when", "amount", "is_return")
"""The order lines the models read: customer key, timestamp, amount, and whether the line is a return."""


@dataclass(frozen=True)
class ValueModel:
    """The fitted models: MBG/NBD ``r``, ``alpha`` (purchase rate), ``a``, ``b`` (chance of leaving at each
    purchase) and Gamma-Gamma ``p``, ``q``, ``v`` (value of a purchase), with the number of customers they were
    fitted on."""

    r: float
    alpha: float
    a: float
    b: float
    p: float
    q: float
    v: float
    customers: int
    repeat_customers: int

    def parameters(self) -> dict[str, float | int]:
        return {name: (round(value, 8) if isinstance(value, float) else value) for name, value in asdict(self).items()}


@dataclass(frozen=True)
class ValuePrediction:
    """Per customer (index: the customer key) the purchase history (``frequency`` = repeat purchase days,
    ``recency`` = days from the first to the last purchase, ``T`` = days from the first purchase to ``as_of``,
    ``monetary_value`` = mean value of the repeat purchases), ``expected_spend`` per future purchase and the
    :data:`VALUE_COLUMNS`; the fitted model, the date and horizon it predicts from, and notes in words."""

    customers: pd.DataFrame
    model: ValueModel
    as_of: pd.Timestamp
    horizon_days: int
    notes: tuple[str, ...]
    fit_seconds: float


def order_lines(table: pd.DataFrame, layout: OrderColumns) -> tuple[pd.DataFrame, int]:
    """The order lines of ``table`` as :data:`LINE_COLUMNS`, and how many lines with a customer and an amount
    have a date that cannot be read. Lines without a customer, a date or an amount are left out, as the roll-up
    (``ingest.orders.rollup``) leaves them out."""
    from segmentation.ingest.parse import currency_counts, mixed_currencies

    for column in (layout.amount, layout.price):
        counts = currency_counts(table[column]) if column else {}
        if len(counts) > 1:
            raise DataError(mixed_currencies(str(column), counts) + "; no value was predicted. Convert the amounts "
                            "to one currency (or split the file by currency) and load it again.")
    if layout.amount is None and not (layout.quantity and layout.price):
        raise ConfigError("Predicting value needs an amount column, or both a quantity and a unit price column.")
    fields = read_order_fields(table, layout)   # the same lines as the roll-up's
    customer, no_customer, dates, quantity, value = (fields.customer, fields.no_customer, fields.dates,
                                                      fields.quantity, fields.value)
    no_date = dates.isna().to_numpy()
    no_value = value.isna().to_numpy()
    keep = ~(no_customer | no_date | no_value)
    amount = value[keep].to_numpy()
    is_return = amount < 0 if quantity is None else quantity[keep].to_numpy(dtype="float64") < 0
    if layout.order:
        invoice = table[layout.order][keep].astype("str").str.strip().str.upper()
        is_return |= invoice.str.startswith("C").fillna(False).to_numpy(dtype=bool)
    lines = pd.DataFrame({"key": customer[keep].to_numpy(), "when": dates[keep].to_numpy(), "amount": amount,
                          "is_return": is_return})
    return lines, int((no_date & ~no_customer & ~no_value).sum())


def check_lines(lines: pd.DataFrame, unreadable_dates: int = 0, today: pd.Timestamp | None = None) -> None:
    """Raise :class:`DataError` with one sentence when the order lines cannot support a prediction: dates after
    ``today`` (default: the clock), too many unreadable dates, or no purchase with a positive amount."""
    today = (pd.Timestamp(today) if today is not None else pd.Timestamp.now()).normalize()
    future = lines["when"] >= today + pd.Timedelta(days=1)
    if future.any():
        raise DataError(
            f"{int(future.sum()):,} order lines are dated after today (the latest {lines['when'].max():%Y-%m-%d}); "
            "predicting value needs a history that ends today or earlier. Correct those dates and load the file "
            "again.")
    total = len(lines) + unreadable_dates
    if total and unreadable_dates / total > MAX_UNREADABLE_SHARE:
        raise DataError(
            f"{unreadable_dates:,} of {total:,} order lines ({unreadable_dates / total:.0%}) have dates that could "
            "not be read, so purchases would be undercounted; no value was predicted. Write the dates as "
            "YYYY-MM-DD (or one consistent format) and load the file again.")
    if not (~lines["is_return"] & (lines["amount"] > 0)).any():
        raise DataError(
            "No order line is a purchase with a positive amount (all are zero, negative or returns); predicting "
            "value needs purchases. Check that the amount column holds the value of each line.")


def purchase_history(lines: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """Per customer who bought up to ``as_of`` (the day included): :data:`HISTORY_COLUMNS`, as pymc-marketing's
    ``rfm_summary`` counts them (a test checks the two agree), plus ``purchase_days``."""
    as_of_day = pd.Timestamp(as_of).normalize()
    days = lines["when"].dt.normalize()
    bought = (~lines["is_return"]) & (lines["amount"] > 0) & (days <= as_of_day)
    daily = (pd.DataFrame({"key": lines["key"][bought], "day": days[bought], "amount": lines["amount"][bought]})
             .groupby(["key", "day"], sort=True)["amount"].sum().reset_index())
    groups = daily.groupby("key", sort=True)
    first, last = groups["day"].min(), groups["day"].max()
    n_days = groups.size()
    first_value = groups["amount"].first()  # rows are sorted by day within each customer
    history = pd.DataFrame(index=n_days.index)
    history.index.name = None
    history["frequency"] = (n_days - 1).astype("int64")
    history["recency"] = (last - first).dt.days.astype("float64")
    history["T"] = (as_of_day - first).dt.days.astype("float64")
    repeat_value = groups["amount"].sum() - first_value
    history["monetary_value"] = np.where(history["frequency"] > 0,
                                         repeat_value / history["frequency"].clip(lower=1), 0.0)
    history["purchase_days"] = n_days.astype("int64")
    return history


def check_history(history: pd.DataFrame) -> None:
    """Raise :class:`DataError` with one sentence when the purchase history is too thin to fit the models."""
    if history.empty:
        raise DataError("No customer bought anything up to the chosen date; predicting value needs purchases.")
    if float(history["T"].max()) == 0.0:
        raise DataError(
            "All purchases fall on one day; predicting purchases needs orders on several days (a history of a "
            "few months or more).")
    repeat = int((history["frequency"] > 0).sum())
    if repeat < MIN_REPEAT_CUSTOMERS:
        raise DataError(
            f"Only {repeat:,} of {len(history):,} customers bought on more than one day; predicting value needs "
            f"at least {MIN_REPEAT_CUSTOMERS} repeat customers. Load a longer order history.")


def fit_value_model(history: pd.DataFrame) -> ValueModel:
    """MBG/NBD and Gamma-Gamma fitted to ``history`` (:func:`purchase_history`) by maximum likelihood
    (:mod:`segmentation.value.fit`). Deterministic: the optimiser starts from the same point on the same data.
    Raises :class:`DataError` when it does not reach finite, positive parameters or a finite mean spend."""
    from segmentation.value.fit import fit_purchases, fit_spend

    frequency = history["frequency"].to_numpy("float64")
    repeat = frequency > 0
    found = {**fit_purchases(frequency, history["recency"].to_numpy("float64"), history["T"].to_numpy("float64")),
             **fit_spend(frequency[repeat], history["monetary_value"].to_numpy("float64")[repeat])}
    if not all(np.isfinite(v) and v > 0 for v in found.values()):
        raise DataError("The purchase and spend models did not settle on this history (a parameter came out "
                        f"{min(found.values()):.3g}); no value was predicted.")
    if found["q"] <= 1:
        raise DataError("The spend model found purchase values too spread out to average (Gamma-Gamma q ≤ 1); "
                        "no value was predicted. Check the amount column for extreme lines.")
    return ValueModel(**found, customers=len(history), repeat_customers=int(repeat.sum()))


def p_alive(model: ValueModel, frequency: np.ndarray, recency: np.ndarray, T: np.ndarray) -> np.ndarray:
    """The chance each customer is still active (MBG/NBD; Batislam et al. 2007, equation 5): lower the longer the
    silence since the last purchase (``T`` − ``recency``) compared with the customer's pace, including for those
    who bought once."""
    x = np.asarray(frequency, dtype="float64")
    with np.errstate(divide="ignore", over="ignore"):
        log_odds = np.log(model.a / (model.b + x)) + (model.r + x) * np.log(
            (model.alpha + np.asarray(T, dtype="float64")) / (model.alpha + np.asarray(recency, dtype="float64")))
        return 1.0 / (1.0 + np.exp(log_odds))


def expected_purchases(model: ValueModel, frequency: np.ndarray, recency: np.ndarray, T: np.ndarray,
                       days: float) -> np.ndarray:
    """Purchase days expected in the ``days`` after ``T`` (MBG/NBD; Batislam et al. 2007, equation 6)."""
    from scipy.special import hyp2f1

    r, alpha, a, b = model.r, model.alpha, model.a, model.b
    x = np.asarray(frequency, dtype="float64")
    big_t, t_x = np.asarray(T, dtype="float64"), np.asarray(recency, dtype="float64")
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        numerator = (a + b + x) / (a - 1) * (1 - ((alpha + big_t) / (alpha + big_t + days)) ** (r + x) * hyp2f1(
            r + x, b + x + 1, a + b + x, days / (alpha + big_t + days)))
        odds = a / (b + x) * ((alpha + big_t) / (alpha + t_x)) ** (r + x)
        return np.clip(numerator / (1 + odds), 0.0, None)


def expected_spend(model: ValueModel, frequency: np.ndarray, monetary_value: np.ndarray) -> np.ndarray:
    """The expected value of each customer's next purchases: their own mean, shrunk towards the population's
    the fewer repeat purchases they made (Gamma-Gamma, Fader & Hardie 2013, equation 5)."""
    x = np.asarray(frequency, dtype="float64")
    weight = model.p * x / (model.p * x + model.q - 1)
    population = model.v * model.p / (model.q - 1)
    return (1 - weight) * population + weight * np.asarray(monetary_value, dtype="float64")


def predict(history: pd.DataFrame, model: ValueModel, horizon_days: int = DEFAULT_HORIZON_DAYS) -> pd.DataFrame:
    """``history`` with ``expected_spend`` and :data:`VALUE_COLUMNS`: ``p_alive`` (0-1), ``expected_purchases``
    (purchase days over the next ``horizon_days``), ``predicted_clv`` (their expected value, undiscounted) and
    ``value_at_risk`` = predicted_clv × (1 − p_alive)."""
    x, t_x, big_t = (history[c].to_numpy("float64") for c in ("frequency", "recency", "T"))
    out = history.copy()
    alive = p_alive(model, x, t_x, big_t)
    purchases = expected_purchases(model, x, t_x, big_t, float(horizon_days))
    spend = expected_spend(model, x, history["monetary_value"].to_numpy())
    clv = purchases * spend
    out["expected_spend"] = np.round(spend, 2)
    out["p_alive"] = np.round(alive, 4)
    out["expected_purchases"] = np.round(purchases, 3)
    out["predicted_clv"] = np.round(clv, 2)
    out["value_at_risk"] = np.round(clv * (1 - alive), 2)
    return out


def _check_horizon(horizon_days: int) -> None:
    if not isinstance(horizon_days, (int, np.integer)) or not 1 <= horizon_days <= 3650:
        raise ConfigError(f"The prediction horizon must be a whole number of days from 1 to 3650 (365 is a year). "
                          f"Got {horizon_days!r}.")


def predict_from_lines(lines: pd.DataFrame, as_of: pd.Timestamp | None = None,
                       horizon_days: int = DEFAULT_HORIZON_DAYS, unreadable_dates: int = 0) -> ValuePrediction:
    """Fit the models to the purchases in ``lines`` (:data:`LINE_COLUMNS`) up to ``as_of`` (default: the last
    date) and predict every customer who bought. Raises :class:`DataError` with one sentence when the lines
    cannot support it (:func:`check_lines`, :func:`check_history`)."""
    _check_horizon(horizon_days)
    check_lines(lines, unreadable_dates)
    as_of = pd.Timestamp(as_of if as_of is not None else lines["when"].max()).normalize()
    history = purchase_history(lines, as_of)
    check_history(history)
    started = time.perf_counter()
    model = fit_value_model(history)
    seconds = time.perf_counter() - started
    customers = predict(history, model, horizon_days)
    one_time = int((history["frequency"] == 0).sum())
    unpredicted = int((~np.isfinite(customers["predicted_clv"].to_numpy(dtype="float64"))).sum())
    notes = [
        f"Predicted value for {len(customers) - unpredicted:,} customers from their purchase days up to "
        f"{as_of:%Y-%m-%d} "
        "(MBG/NBD for purchases, Gamma-Gamma for spend): p_alive is the chance the customer is still active, "
        f"expected_purchases the purchase days expected in the next {horizon_days} days, predicted_clv their "
        "expected value (undiscounted), value_at_risk = predicted_clv × (1 − p_alive)."]
    if unpredicted:
        notes.append(f"{unpredicted:,} customers got no prediction: the fitted models could not be evaluated for "
                     "their histories, so their value columns are empty.")
    if one_time:
        notes.append(f"{one_time:,} customers bought on one day only: their p_alive falls with the time since that "
                     "purchase, and the spend model gives them the average customer's spend per purchase.")
    return ValuePrediction(customers, model, as_of, int(horizon_days), tuple(notes), seconds)


def predict_value(table: pd.DataFrame, layout: OrderColumns, horizon_days: int = DEFAULT_HORIZON_DAYS,
                  as_of: pd.Timestamp | str | None = None) -> ValuePrediction:
    """Predicted value per customer from the order lines of ``table`` laid out as ``layout``
    (``ingest.orders.detect_transactions`` or ``layout_from_mapping``). ``horizon_days``: how far ahead purchases
    and value are predicted (365 = a year; longer horizons lean more on the model). ``as_of``: predict from the
    history up to this day (later lines are not used); default the last date in the file."""
    lines, unreadable = order_lines(table, layout)
    if lines.empty:
        raise DataError("No order line has a customer id, a readable date and an amount; nothing to predict from.")
    return predict_from_lines(lines, as_of, horizon_days, unreadable)


def predict_with(model: ValueModel, lines: pd.DataFrame, as_of: pd.Timestamp | None = None,
                 horizon_days: int = DEFAULT_HORIZON_DAYS, unreadable_dates: int = 0) -> pd.DataFrame:
    """Predict every customer who bought in ``lines`` (:data:`LINE_COLUMNS`) up to ``as_of`` (default: the last
    date) with a model fitted before (no refit): how a saved segmentation model scores new order lines. The same
    columns as :func:`predict`; empty when nobody bought. Raises :class:`DataError` like :func:`check_lines`."""
    _check_horizon(horizon_days)
    check_lines(lines, unreadable_dates)
    as_of = pd.Timestamp(as_of if as_of is not None else lines["when"].max()).normalize()
    return predict(purchase_history(lines, as_of), model, horizon_days)


def value_columns(lines: pd.DataFrame, as_of: pd.Timestamp, unreadable_dates: int = 0,
                  horizon_days: int = DEFAULT_HORIZON_DAYS,
                  model: ValueModel | None = None) -> tuple[pd.DataFrame, list[str], ValueModel | None]:
    """What the roll-up adds: :data:`VALUE_COLUMNS` indexed by customer key (customers without a purchase are
    absent), notes, and the model that predicted them (fitted here, or ``model`` when given: then nothing is
    refitted, as when a saved segmentation model rolls up new order lines). When no prediction can be made the
    frame has no columns, the one note says why and the model is None, so the roll-up carries on without
    predictions."""
    try:
        if model is not None:
            customers = predict_with(model, lines, as_of, horizon_days, unreadable_dates)
            notes = [f"Predicted value for {len(customers):,} customers with the saved purchase and spend models "
                     f"(not refitted), from their purchase days up to {pd.Timestamp(as_of):%Y-%m-%d}."]
        else:
            prediction = predict_from_lines(lines, as_of, horizon_days, unreadable_dates)
            customers, notes, model = prediction.customers, list(prediction.notes), prediction.model
    except DataError as error:
        return pd.DataFrame(index=pd.Index([], dtype=object)), [f"No predicted value was added: {error}"], None
    no_purchase = lines["key"].nunique() - len(customers)
    if no_purchase:
        notes.append(f"{no_purchase:,} customers have no purchase with a positive amount (returns only, or "
                     "zero-value lines), so they have no predicted value.")
    return customers[list(VALUE_COLUMNS)], notes, model


VALUE_ATTR = "value_model"
"""Key of ``rollup_record`` in ``DataFrame.attrs`` of a rolled-up table (see :func:`rollup_record`)."""


def rollup_record(layout: OrderColumns, model: ValueModel | None,
                  horizon_days: int = DEFAULT_HORIZON_DAYS) -> dict[str, object]:
    """How a table was rolled up from order lines, as plain JSON: the ``layout`` (part -> column) and, when value
    was predicted, the fitted ``parameters`` and ``horizon_days``. The roll-up keeps it in the customers table's
    ``attrs[VALUE_ATTR]`` (pandas carries ``attrs`` through selections and Parquet), so a model saved from a run
    on that table can roll up new order lines the same way and predict with the same parameters."""
    parts = ("customer", "date", "amount", "quantity", "price", "order", "product", "category", "text")
    return {"layout": {part: getattr(layout, part, None) for part in parts},
            "value": None if model is None else {"parameters": model.parameters(), "horizon_days": int(horizon_days)}}


def model_from_parameters(parameters: dict[str, float | int]) -> ValueModel:
    """The :class:`ValueModel` of :meth:`ValueModel.parameters` (as saved in a model file)."""
    names = ("r", "alpha", "a", "b", "p", "q", "v")
    return ValueModel(**{n: float(parameters[n]) for n in names}, customers=int(parameters["customers"]),
                      repeat_customers=int(parameters["repeat_customers"]))
