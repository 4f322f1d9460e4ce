"""Scores and tests for probabilistic and point forecasts.

    crps_gaussian(mean, std, y) -> (n,)     CRPS of N(mean, std^2) at y, closed form
    interval_score(low, high, y, level) -> (n,)   the interval (Winkler) score
    pit_gaussian(mean, std, y) -> (n,)      probability integral transform, Phi((y - mean) / std)
    scale_test(z) -> p                      two-sided chi-square test of mean(z^2) = 1
    coverage_test(hits, n, level) -> (p, low, high)   exact binomial test and Clopper-Pearson CI
    diebold_mariano(loss_a, loss_b, lags) -> (mean difference, p)   paired test of equal loss
    coverage_power(n, level, factor) -> power of coverage_test when every std is scaled by factor
    scale_power(n, factor) -> power of scale_test when every std is scaled by factor
    rejection_rate(test, n, scale, reps, seed) -> power of ``test`` by simulation

All scores are negatively oriented (lower is better) and proper: in expectation they are minimised
by forecasting the true distribution (Gneiting and Raftery 2007).
"""

import math
import numbers

import numpy as np
from scipy import stats

__all__ = ["coverage_power", "coverage_test", "crps_gaussian", "diebold_mariano",
           "interval_score", "pit_gaussian", "rejection_rate", "scale_power", "scale_test"]


def _arrays(**named):
    """Float64 1-D arrays of one length, finite; a ValueError names the first bad argument."""
    out = []
    for name, value in named.items():
        a = np.asarray(value, dtype=np.float64)
        if a.ndim != 1 or a.size == 0 or not np.all(np.isfinite(a)):
            raise ValueError(f"{name}: expected a non-empty finite array of shape (n,), got "
                             f"shape {a.shape}")
        out.append(a)
    if len({a.size for a in out}) != 1:
        raise ValueError(f"expected arrays of one length, got {[a.size for a in out]} for "
                         f"{list(named)}")
    return out


def _positive(name, std):
    if np.any(std <= 0):
        raise ValueError(f"{name}: expected positive standard deviations")


def crps_gaussian(mean, std, y):
    """Continuous ranked probability score of ``N(mean, std^2)`` at ``y``, elementwise.

    ``std * (w (2 Phi(w) - 1) + 2 phi(w) - 1 / sqrt(pi))`` with ``w = (y - mean) / std``, in the
    units of ``y``; for ``std -> 0`` it tends to ``|y - mean|``. Arrays of shape ``(n,)``.
    """
    mean, std, y = _arrays(mean=mean, std=std, y=y)
    _positive("std", std)
    w = (y - mean) / std
    return std * (w * (2 * stats.norm.cdf(w) - 1) + 2 * stats.norm.pdf(w) - 1 / math.sqrt(math.pi))


def interval_score(low, high, y, level):
    """Interval score of central ``level`` intervals ``[low, high]``: width plus miss penalties.

    ``(high - low) + (2 / alpha) (low - y)_+ + (2 / alpha) (y - high)_+`` with
    ``alpha = 1 - level``. Arrays of shape ``(n,)`` with ``low <= high``.
    """
    low, high, y = _arrays(low=low, high=high, y=y)
    if not isinstance(level, numbers.Real) or not 0 < level < 1:
        raise ValueError(f"level: expected a probability in (0, 1), got {level!r}")
    if np.any(low > high):
        raise ValueError("low: expected low <= high everywhere")
    alpha = 1 - float(level)
    return ((high - low) + 2 / alpha * np.maximum(low - y, 0)
            + 2 / alpha * np.maximum(y - high, 0))


def pit_gaussian(mean, std, y):
    """Probability integral transform ``Phi((y - mean) / std)``: uniform if calibrated, ``(n,)``."""
    mean, std, y = _arrays(mean=mean, std=std, y=y)
    _positive("std", std)
    return stats.norm.cdf((y - mean) / std)


def scale_test(z):
    """Two-sided p-value of ``sum(z^2) ~ chi^2_n``: are the standardised errors of unit scale?

    ``z`` of shape ``(n,)`` are ``(y - mean) / std``; small p-values mean the predicted standard
    deviations are too small (sum large) or too large (sum small). Assumes independent errors.
    """
    (z,) = _arrays(z=z)
    s, n = float(np.sum(z ** 2)), z.size
    return float(min(1.0, 2 * min(stats.chi2.cdf(s, n), stats.chi2.sf(s, n))))


def coverage_test(hits, n, level):
    """Exact binomial test of a coverage: ``(p_value, ci_low, ci_high)``.

    ``hits`` of ``n`` targets fell inside their ``level`` intervals; the confidence interval is
    the 95 % Clopper-Pearson interval of the true coverage.
    """
    for name, value, low in (("n", n, 1), ("hits", hits, 0)):
        if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < low:
            raise ValueError(f"{name}: expected an integer >= {low}, got {value!r}")
    if hits > n:
        raise ValueError(f"hits: expected at most n = {n}, got {hits}")
    if not isinstance(level, numbers.Real) or not 0 < level < 1:
        raise ValueError(f"level: expected a probability in (0, 1), got {level!r}")
    result = stats.binomtest(int(hits), int(n), float(level))
    ci = result.proportion_ci(confidence_level=0.95, method="exact")
    return float(result.pvalue), float(ci.low), float(ci.high)


def _factor(factor):
    if not isinstance(factor, numbers.Real) or not factor > 0:
        raise ValueError(f"factor: expected a positive number, got {factor!r}")
    return float(factor)


def coverage_power(n, level, factor, alpha=0.05):
    """Exact power of ``coverage_test`` at size ``alpha`` against a scaled standard deviation.

    The forecast's ``std`` is the true one multiplied by ``factor``, so its ``level`` interval
    truly covers ``2 Phi(factor z) - 1`` with ``z`` the interval's quantile; the power is the
    binomial probability of the counts that ``coverage_test`` rejects.
    """
    factor = _factor(factor)
    coverage_test(0, n, level)                       # validates n and level
    z = stats.norm.ppf((1 + level) / 2)
    true = 2 * stats.norm.cdf(factor * z) - 1
    hits = np.arange(int(n) + 1)
    rejected = np.array([stats.binomtest(int(h), int(n), float(level)).pvalue < alpha
                         for h in hits])
    return float(np.sum(stats.binom.pmf(hits[rejected], int(n), true)))


def scale_power(n, factor, alpha=0.05):
    """Exact power of ``scale_test`` at size ``alpha`` when every ``std`` is scaled by ``factor``.

    Then ``sum(z^2) = chi^2_n / factor^2``; the test rejects outside the central ``1 - alpha``
    range of ``chi^2_n``.
    """
    factor = _factor(factor)
    if not isinstance(n, numbers.Integral) or isinstance(n, bool) or n < 1:
        raise ValueError(f"n: expected an integer >= 1, got {n!r}")
    low, high = stats.chi2.ppf([alpha / 2, 1 - alpha / 2], n)
    return float(stats.chi2.cdf(low * factor ** 2, n) + stats.chi2.sf(high * factor ** 2, n))


def diebold_mariano(loss_a, loss_b, lags=0):
    """Diebold-Mariano test of equal expected loss for paired forecast losses, shape ``(n,)``.

    Regresses ``d = loss_a - loss_b`` on a constant with Newey-West (HAC) standard errors over
    ``lags`` lags (``h - 1`` for ``h``-step forecasts; statsmodels). Returns
    ``(mean(d), two-sided p-value)``; a negative mean favours ``a``.
    """
    import statsmodels.api as sm

    loss_a, loss_b = _arrays(loss_a=loss_a, loss_b=loss_b)
    if not isinstance(lags, numbers.Integral) or isinstance(lags, bool) or \
            not 0 <= lags < loss_a.size - 1:
        raise ValueError(f"lags: expected an integer in [0, {loss_a.size - 1}), got {lags!r}")
    d = loss_a - loss_b
    if np.all(d == d[0]):
        return float(d[0]), (1.0 if d[0] == 0 else 0.0)
    fit = sm.OLS(d, np.ones_like(d)).fit(cov_type="HAC", cov_kwds={"maxlags": int(lags)})
    return float(d.mean()), float(fit.pvalues[0])


def rejection_rate(test, n, scale, reps=2000, seed=0, alpha=0.05):
    """Fraction of ``reps`` samples ``z ~ N(0, scale^2)`` of size ``n`` where ``test(z) < alpha``.

    ``test`` maps standardised errors ``(n,)`` to a p-value. With ``scale = 1 / c`` this is the
    power against predicted standard deviations multiplied by ``c``; with ``scale = 1`` it is the
    false-alarm rate.
    """
    for name, value in (("n", n), ("reps", reps)):
        if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 2:
            raise ValueError(f"{name}: expected an integer >= 2, got {value!r}")
    if not scale > 0:
        raise ValueError(f"scale: expected a positive number, got {scale!r}")
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((int(reps), int(n))) * scale
    return float(np.mean([test(row) < alpha for row in z]))
