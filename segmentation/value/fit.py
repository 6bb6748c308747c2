"""Maximum-likelihood fits of the purchase (MBG/NBD) and spend (Gamma-Gamma) models with scipy.

Why not pymc-marketing's own fit: its first fit on a machine compiles the model with pytensor (about 33 s measured
here on Online Retail, 4–6 s for later fits), while the same likelihood maximised here takes well under a second
with the same parameters (``bench/value.py``). pymc-marketing stays the reference: the tests fit its
``ModifiedBetaGeoModel`` and ``GammaGammaModel`` (flat priors, MAP) on a small log and check that the parameters
and predictions agree with these.

The optimiser is L-BFGS-B on the logarithms of the parameters (so they stay positive), with the analytic gradient,
from a fixed start on data rescaled to a unit scale (time so the longest history is 10, spend so the mean is 1),
as ``lifetimes`` does: the same data always gives the same parameters. scipy is imported when a fit runs.
"""

from __future__ import annotations

import numpy as np

from segmentation.errors import DataError

LOG_BOUND = 18.0
"""Log-parameters are kept within ±this (about 1.5e-8 to 6.6e7 on the rescaled data): far beyond any fitted value
on real histories, close enough to stop a flat likelihood from running off to overflow."""
TIME_SCALE = 10.0
MAX_LOG_SHAPE = float(np.log(400.0))
"""The purchase-rate Gamma's shape ``r`` stops at 400 (a coefficient of variation of 5%: practically one rate for
everyone). When customers buy at nearly the same rate the likelihood keeps rising towards an infinite shape, and the
expected-purchases formula (a hypergeometric function of ``r``) overflows to NaN long before; found on a synthetic
Spanish order log where ``r`` ran to 2e7 and every prediction came back empty."""


def _minimise(objective, start: np.ndarray,  # noqa: ANN001 - (theta) -> (value, gradient)
              bounds: list[tuple[float, float]] | None = None) -> np.ndarray:
    from scipy.optimize import minimize

    bounds = bounds or [(-LOG_BOUND, LOG_BOUND)] * len(start)
    found = minimize(objective, start, jac=True, method="L-BFGS-B", bounds=bounds,
                     options={"maxiter": 2000, "ftol": 1e-13, "gtol": 1e-9})
    if not np.all(np.isfinite(found.x)) or not np.isfinite(found.fun):
        raise DataError("The purchase and spend models did not settle on this history (the likelihood could not "
                        "be evaluated); no value was predicted.")
    return found.x


def mbgnbd_log_likelihood(theta: np.ndarray, x: np.ndarray, t_x: np.ndarray, big_t: np.ndarray,
                          weight: np.ndarray) -> tuple[float, np.ndarray]:
    """The MBG/NBD log-likelihood (Batislam, Denizel & Filiztekin 2007; pymc-marketing's ``ModifiedBetaGeoNBD``)
    summed over customers with ``weight`` each, and its gradient, at ``theta`` = log(r, alpha, a, b)."""
    from scipy.special import digamma, expit, gammaln

    r, alpha, a, b = np.exp(theta)
    log_span = np.log(alpha + big_t) - np.log(alpha + t_x)
    leave = np.log(a) - np.log(b + x) + (r + x) * log_span      # log of A4: left after the last purchase
    ll = (gammaln(r + x) - gammaln(r) + r * np.log(alpha)
          + gammaln(a + b) + gammaln(b + x + 1) - gammaln(b) - gammaln(a + b + x + 1)
          - (r + x) * np.log(alpha + big_t) + np.logaddexp(leave, 0.0))
    s = expit(leave)
    d_r = digamma(r + x) - digamma(r) + np.log(alpha) - np.log(alpha + big_t) + s * log_span
    d_alpha = r / alpha - (r + x) / (alpha + big_t) + s * (r + x) * (1 / (alpha + big_t) - 1 / (alpha + t_x))
    d_a = digamma(a + b) - digamma(a + b + x + 1) + s / a
    d_b = digamma(a + b) + digamma(b + x + 1) - digamma(b) - digamma(a + b + x + 1) - s / (b + x)
    gradient = np.array([r * weight @ d_r, alpha * weight @ d_alpha, a * weight @ d_a, b * weight @ d_b])
    return float(weight @ ll), gradient


def gamma_gamma_log_likelihood(theta: np.ndarray, x: np.ndarray, z: np.ndarray,
                               weight: np.ndarray) -> tuple[float, np.ndarray]:
    """The Gamma-Gamma log-likelihood of mean repeat spend ``z`` over ``x`` repeat purchases (Fader & Hardie 2013;
    pymc-marketing's ``GammaGammaModel``) summed with ``weight``, and its gradient, at ``theta`` = log(p, q, v)."""
    from scipy.special import digamma, gammaln

    p, q, v = np.exp(theta)
    px = p * x
    log_total = np.log(x * z + v)
    ll = (gammaln(px + q) - gammaln(px) - gammaln(q) + q * np.log(v) + (px - 1) * np.log(z) + px * np.log(x)
          - (px + q) * log_total)
    d_p = x * (digamma(px + q) - digamma(px) + np.log(z) + np.log(x) - log_total)
    d_q = digamma(px + q) - digamma(q) + np.log(v) - log_total
    d_v = q / v - (px + q) / (x * z + v)
    gradient = np.array([p * weight @ d_p, q * weight @ d_q, v * weight @ d_v])
    return float(weight @ ll), gradient


def _distinct(*columns: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """The distinct rows of ``columns`` and how often each occurs: customers with the same history share a term."""
    rows, counts = np.unique(np.column_stack(columns), axis=0, return_counts=True)
    return [rows[:, i] for i in range(rows.shape[1])], counts.astype("float64")


def fit_purchases(frequency: np.ndarray, recency: np.ndarray, T: np.ndarray) -> dict[str, float]:
    """MBG/NBD ``r``, ``alpha`` (purchase rate: Gamma shape and rate, in days) and ``a``, ``b`` (Beta chance of
    leaving at each purchase, the first one included) by maximum likelihood. ``frequency``: repeat purchase days;
    ``recency``: days from the first to the last purchase; ``T``: days from the first purchase to the end."""
    big_t = np.asarray(T, dtype="float64")
    scale = TIME_SCALE / max(float(big_t.max()), 1.0)
    (x, t_x, big_t), weight = _distinct(np.asarray(frequency, dtype="float64"),
                                        np.asarray(recency, dtype="float64") * scale, big_t * scale)
    total = weight.sum()

    def negative(theta: np.ndarray) -> tuple[float, np.ndarray]:
        value, gradient = mbgnbd_log_likelihood(theta, x, t_x, big_t, weight)
        return -value / total, -gradient / total

    bounds = [(-LOG_BOUND, MAX_LOG_SHAPE)] + [(-LOG_BOUND, LOG_BOUND)] * 3
    r, alpha, a, b = np.exp(_minimise(negative, np.zeros(4), bounds))
    return {"r": float(r), "alpha": float(alpha / scale), "a": float(a), "b": float(b)}


def fit_spend(frequency: np.ndarray, monetary_value: np.ndarray) -> dict[str, float]:
    """Gamma-Gamma ``p``, ``q``, ``v`` by maximum likelihood from customers with at least one repeat purchase:
    ``frequency`` (repeat purchase days, > 0) and ``monetary_value`` (their mean value, > 0)."""
    x = np.asarray(frequency, dtype="float64")
    z = np.asarray(monetary_value, dtype="float64")
    scale = 1.0 / float(z.mean())
    (x, z), weight = _distinct(x, z * scale)
    total = weight.sum()

    def negative(theta: np.ndarray) -> tuple[float, np.ndarray]:
        value, gradient = gamma_gamma_log_likelihood(theta, x, z, weight)
        return -value / total, -gradient / total

    # start where the population's mean spend p v / (q - 1) is the data's (1 after rescaling)
    p, q, v = np.exp(_minimise(negative, np.array([0.0, np.log(2.0), 0.0])))
    return {"p": float(p), "q": float(q), "v": float(v / scale)}
