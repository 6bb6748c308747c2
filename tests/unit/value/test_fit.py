"""The scipy fits: exact gradients, determinism, and agreement with pymc-marketing's models (the reference)."""

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import check_grad

from segmentation.value.clv import (
    ValueModel,
    expected_purchases,
    expected_spend,
    fit_value_model,
    order_lines,
    p_alive,
    purchase_history,
)
from segmentation.value.fit import fit_purchases, fit_spend, gamma_gamma_log_likelihood, mbgnbd_log_likelihood
from tests.unit.value.conftest import LAYOUT


@pytest.fixture(scope="module")
def history(orders):
    lines, _ = order_lines(orders, LAYOUT)
    return purchase_history(lines, lines["when"].max())


def _columns(history):
    return (history[c].to_numpy("float64") for c in ("frequency", "recency", "T"))


@pytest.mark.parametrize("theta", [np.zeros(4), np.array([0.3, -1.0, 0.5, 1.2]), np.array([-2.0, 1.5, -4.0, 3.0])])
def test_the_purchase_likelihood_gradient_is_exact(history, theta):
    x, t_x, big_t = _columns(history)
    weight = np.arange(len(x)) % 3 + 1.0
    value = lambda t: mbgnbd_log_likelihood(t, x, t_x / 37, big_t / 37, weight)[0]  # noqa: E731
    gradient = lambda t: mbgnbd_log_likelihood(t, x, t_x / 37, big_t / 37, weight)[1]  # noqa: E731
    assert check_grad(value, gradient, theta) < 1e-4 * max(1.0, np.abs(gradient(theta)).max())


@pytest.mark.parametrize("theta", [np.zeros(3), np.array([1.0, 0.5, -0.3])])
def test_the_spend_likelihood_gradient_is_exact(history, theta):
    repeat = history[history["frequency"] > 0]
    x, z = repeat["frequency"].to_numpy("float64"), repeat["monetary_value"].to_numpy() / 50
    value = lambda t: gamma_gamma_log_likelihood(t, x, z, np.ones(len(x)))[0]  # noqa: E731
    gradient = lambda t: gamma_gamma_log_likelihood(t, x, z, np.ones(len(x)))[1]  # noqa: E731
    assert check_grad(value, gradient, theta) < 1e-4 * max(1.0, np.abs(gradient(theta)).max())


def test_the_fit_is_deterministic_and_does_not_depend_on_the_unit_of_time_or_money(history):
    x, t_x, big_t = _columns(history)
    first, again = fit_purchases(x, t_x, big_t), fit_purchases(x, t_x, big_t)
    assert first == again
    # the same history counted in weeks: the purchase rate's scale alpha is 7 times smaller, nothing else moves
    weeks = fit_purchases(x, t_x / 7, big_t / 7)
    assert weeks == pytest.approx({**first, "alpha": first["alpha"] / 7}, rel=1e-4)
    repeat = x > 0
    euros = fit_spend(x[repeat], history["monetary_value"].to_numpy()[repeat])
    cents = fit_spend(x[repeat], history["monetary_value"].to_numpy()[repeat] * 100)
    assert cents == pytest.approx({**euros, "v": euros["v"] * 100}, rel=1e-4)


def _pymc_reference(history):
    """pymc-marketing's ModifiedBetaGeoModel and GammaGammaModel fitted by MAP with flat priors."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pymc_extras.prior import Prior
        from pymc_marketing.clv import GammaGammaModel, ModifiedBetaGeoModel

        data = pd.DataFrame({"customer_id": np.arange(len(history)), "frequency": history["frequency"].to_numpy(),
                             "recency": history["recency"].to_numpy(), "T": history["T"].to_numpy(),
                             "monetary_value": history["monetary_value"].to_numpy()})
        purchases = ModifiedBetaGeoModel(model_config={k: Prior("HalfFlat") for k in ("r", "alpha", "a", "b")})
        purchases.fit(data=data[["customer_id", "frequency", "recency", "T"]], method="map", progressbar=False)
        spend = GammaGammaModel()   # its default priors are flat (HalfFlat) already
        spend.fit(data=data.query("frequency > 0")[["customer_id", "frequency", "monetary_value"]], method="map",
                  progressbar=False)
    return purchases, spend, data


def test_parameters_and_predictions_agree_with_pymc_marketing(history):
    purchases, spend, data = _pymc_reference(history)
    theirs = {k: float(purchases.fit_result[k].values.squeeze()) for k in ("r", "alpha", "a", "b")}
    theirs |= {k: float(spend.fit_result[k].values.squeeze()) for k in ("p", "q", "v")}
    mine = fit_value_model(history)
    # both maximise the same likelihood; pymc's optimiser stops a little earlier than ours
    assert {k: getattr(mine, k) for k in theirs} == pytest.approx(theirs, rel=2e-3)
    assert mine.a > 0.1  # a real chance of leaving on this log, so the comparison is not at a boundary

    x, t_x, big_t = _columns(history)
    money = history["monetary_value"].to_numpy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        their_alive = purchases.expected_probability_alive().values.squeeze()
        their_purchases = purchases.expected_purchases(future_t=365).values.squeeze()
        their_spend = spend.expected_customer_spend(data).values.squeeze()
    # the closed forms at their parameters give their numbers ...
    at_theirs = ValueModel(**theirs, customers=len(x), repeat_customers=int((x > 0).sum()))
    assert np.allclose(p_alive(at_theirs, x, t_x, big_t), their_alive, rtol=1e-9)
    assert np.allclose(expected_purchases(at_theirs, x, t_x, big_t, 365), their_purchases, rtol=1e-9)
    assert np.allclose(expected_spend(at_theirs, x, money), their_spend, rtol=1e-9)
    # ... and at ours, numbers within a fraction of a percent of theirs
    assert np.allclose(p_alive(mine, x, t_x, big_t), their_alive, rtol=2e-3, atol=1e-4)
    assert np.allclose(expected_purchases(mine, x, t_x, big_t, 365), their_purchases, rtol=5e-3, atol=1e-3)
    assert np.allclose(expected_spend(mine, x, money), their_spend, rtol=2e-3)


def test_customers_who_all_buy_at_one_rate_still_get_finite_predictions():
    """Homogeneous purchase rates push the Gamma shape r towards infinity, where the expected-purchases formula
    overflowed to NaN for everyone (found on a synthetic order log); the shape is capped at 400."""
    from segmentation.value.clv import predict
    from segmentation.value.fit import MAX_LOG_SHAPE

    rng = np.random.default_rng(3)
    n = 300
    frequency = rng.poisson(3.0, n).astype(float)            # one rate for everyone: no Gamma spread to find
    big_t = np.full(n, 360.0)
    recency = np.where(frequency > 0, rng.uniform(200, 360, n), 0.0)
    fitted = fit_purchases(frequency, recency, big_t)
    assert fitted["r"] <= np.exp(MAX_LOG_SHAPE) * (1 + 1e-9)
    history = pd.DataFrame({"frequency": frequency, "recency": recency, "T": big_t,
                            "monetary_value": np.where(frequency > 0, rng.gamma(2.0, 20.0, n), 0.0)})
    spend = fit_spend(frequency[frequency > 0], history["monetary_value"][frequency > 0].to_numpy())
    model = ValueModel(**fitted, **spend, customers=n, repeat_customers=int((frequency > 0).sum()))
    predicted = predict(history, model, 365)
    assert np.isfinite(predicted["expected_purchases"]).all() and np.isfinite(predicted["predicted_clv"]).all()
    # about the 3 purchase days a year they make, not a runaway number
    assert 2.0 < predicted["expected_purchases"].mean() < 4.5
