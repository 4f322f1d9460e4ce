"""Scores and tests of rnnbook.forecast_scores against definitions and simulation."""

import numpy as np
import pytest
from scipy import integrate, stats

from rnnbook.forecast_scores import (
    coverage_power,
    coverage_test,
    crps_gaussian,
    diebold_mariano,
    interval_score,
    pit_gaussian,
    rejection_rate,
    scale_power,
    scale_test,
)


def test_crps_gaussian_matches_the_integral_of_the_squared_cdf_difference():
    for mean, std, y in ((0.0, 1.0, 0.3), (2.0, 0.5, -1.0), (-1.0, 3.0, 4.0)):
        cdf = stats.norm(mean, std).cdf
        below, _ = integrate.quad(lambda t, f=cdf: f(t) ** 2, -np.inf, y)
        above, _ = integrate.quad(lambda t, f=cdf: (1 - f(t)) ** 2, y, np.inf)
        got = crps_gaussian([mean], [std], [y])[0]
        assert abs(got - (below + above)) < 1e-7


def test_crps_gaussian_tends_to_the_absolute_error_and_is_minimised_by_the_truth():
    assert abs(crps_gaussian([1.0], [1e-9], [3.5])[0] - 2.5) < 1e-6
    y = np.random.default_rng(0).normal(0, 2, 20000)
    scores = [crps_gaussian(np.zeros_like(y), np.full_like(y, s), y).mean() for s in (1, 2, 4)]
    assert scores[1] < scores[0] and scores[1] < scores[2]


def test_interval_score_is_width_plus_the_scaled_misses():
    got = interval_score([0.0, 0.0, 0.0], [2.0, 2.0, 2.0], [1.0, -1.0, 3.0], 0.8)
    assert np.allclose(got, [2.0, 2.0 + 10.0, 2.0 + 10.0])


def test_interval_score_prefers_the_true_quantiles():
    y = np.random.default_rng(1).standard_normal(50000)
    def mean_score(z):
        return interval_score(np.full_like(y, -z), np.full_like(y, z), y, 0.8).mean()
    z = stats.norm.ppf(0.9)
    assert mean_score(z) < mean_score(0.8 * z) and mean_score(z) < mean_score(1.25 * z)


def test_pit_is_uniform_for_a_calibrated_forecast():
    rng = np.random.default_rng(2)
    mean, std = rng.normal(size=5000), rng.uniform(0.5, 2, 5000)
    u = pit_gaussian(mean, std, mean + std * rng.standard_normal(5000))
    assert stats.kstest(u, "uniform").pvalue > 0.01
    assert np.allclose(pit_gaussian([0.0], [1.0], [1.959964]), [0.975], atol=1e-6)


def test_scale_test_keeps_its_level_and_rejects_wrong_scales():
    assert 0.02 < rejection_rate(scale_test, 120, 1.0, reps=2000) < 0.08
    assert rejection_rate(scale_test, 120, 1 / 0.82, reps=1000) > 0.8
    assert rejection_rate(scale_test, 120, 1 / 1.53, reps=1000) > 0.99


def test_exact_powers_match_simulation():
    for n, factor in ((40, 0.82), (120, 1.53), (120, 1.0)):
        simulated = rejection_rate(scale_test, n, 1 / factor, reps=800, seed=4)
        assert abs(scale_power(n, factor) - simulated) < 0.05
        for level in (0.8, 0.95):
            q = stats.norm.ppf((1 + level) / 2)

            def test(w, level=level, q=q):
                return coverage_test(int(np.sum(np.abs(w) <= q)), len(w), level)[0]
            simulated = rejection_rate(test, n, 1 / factor, reps=800, seed=5)
            assert abs(coverage_power(n, level, factor) - simulated) < 0.05
    assert scale_power(120, 1.0) < 0.051


def test_coverage_test_gives_the_clopper_pearson_interval():
    p, low, high = coverage_test(31, 40, 0.8)
    assert p > 0.5 and abs(low - 0.615) < 1e-3 and abs(high - 0.892) < 1e-3
    assert coverage_test(10, 40, 0.8)[0] < 1e-6


def test_diebold_mariano_agrees_with_a_t_test_without_lags_and_finds_a_real_difference():
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=200), rng.normal(size=200)
    mean, p = diebold_mariano(a, b)
    assert abs(mean - np.mean(a - b)) < 1e-12
    z = np.mean(a - b) / (np.std(a - b) / np.sqrt(200))
    assert abs(p - 2 * stats.norm.sf(abs(z))) < 1e-9
    assert diebold_mariano(a, a + 0.5 + 0.1 * b, lags=2)[1] < 1e-6


@pytest.mark.parametrize("call, name", [
    (lambda: crps_gaussian([0.0], [0.0], [1.0]), "std"),
    (lambda: crps_gaussian([0.0, 1.0], [1.0], [1.0]), "one length"),
    (lambda: interval_score([1.0], [0.0], [0.5], 0.8), "low"),
    (lambda: interval_score([0.0], [1.0], [0.5], 1.0), "level"),
    (lambda: pit_gaussian([[0.0]], [1.0], [1.0]), "mean"),
    (lambda: coverage_test(41, 40, 0.8), "hits"),
    (lambda: coverage_test(3, 0, 0.8), "n"),
    (lambda: diebold_mariano([1.0, 2.0, 3.0], [1.0, 2.0, 4.0], lags=5), "lags"),
    (lambda: rejection_rate(scale_test, 10, 0.0), "scale"),
    (lambda: scale_power(10, -1.0), "factor"),
    (lambda: coverage_power(10, 0.8, 0), "factor"),
    (lambda: scale_power(0, 1.0), "n"),
])
def test_bad_arguments_are_rejected_by_name(call, name):
    with pytest.raises(ValueError, match=name):
        call()
