"""rnnbook.models.forecaster: shapes, the Gaussian loss and intervals, the AR baseline."""

import numpy as np
import pytest
import torch
from statsmodels.tsa.ar_model import AutoReg

from rnnbook.data.forecasting import forecast_windows
from rnnbook.models.forecaster import (
    RNNForecaster,
    autoreg_predict,
    autoreg_recursive,
    coverage,
    fit_autoreg,
    gaussian_interval,
    gaussian_nll,
    predict,
    rmse,
    select_autoreg_order,
    train_forecaster,
)


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
@pytest.mark.parametrize("horizon", [1, 3])
def test_output_shapes(cell, horizon):
    x = torch.randn(5, 7)
    point = RNNForecaster(cell, 8, horizon=horizon)
    assert point(x).shape == (5, horizon) and point(x[..., None]).shape == (5, horizon)
    mean, std = RNNForecaster(cell, 8, horizon=horizon, gaussian=True)(x)
    assert mean.shape == std.shape == (5, horizon) and torch.all(std > 0)


def test_recursive_feeds_back_its_own_forecasts():
    torch.manual_seed(0)
    model = RNNForecaster("gru", 8)
    x = torch.randn(3, 6)
    out = model.recursive(x, 3)
    with torch.no_grad():
        first = model(x)
        second = model(torch.cat([x[:, 1:], first], 1))
    assert torch.allclose(out[:, 0], first[:, 0]) and torch.allclose(out[:, 1], second[:, 0])
    with pytest.raises(ValueError):
        RNNForecaster(horizon=2).recursive(x, 3)
    with pytest.raises(ValueError):
        model.recursive(x, 0)


@pytest.mark.parametrize("kwargs", [dict(cell="cnn"), dict(hidden_size=0), dict(horizon=1.0)])
def test_bad_constructor_arguments(kwargs):
    with pytest.raises(ValueError):
        RNNForecaster(**kwargs)


def test_bad_input_shape():
    with pytest.raises(ValueError):
        RNNForecaster()(torch.randn(2, 3, 2))


def test_gaussian_nll_matches_torch():
    mu, sd, y = torch.randn(20), torch.rand(20) + 0.1, torch.randn(20)
    expected = torch.nn.functional.gaussian_nll_loss(mu, y, sd ** 2, full=True)
    assert torch.allclose(gaussian_nll(mu, sd, y), expected, atol=1e-6)
    with pytest.raises(ValueError):
        gaussian_nll(mu, -sd, y)
    with pytest.raises(ValueError):
        gaussian_nll(mu, sd, y[:3])


def test_interval_and_coverage():
    low, high = gaussian_interval(np.zeros(3), np.ones(3), 0.95)
    assert np.allclose(high, 1.959964, atol=1e-5) and np.allclose(low, -high)
    draws = np.random.default_rng(0).normal(size=20000)
    lo, hi = gaussian_interval(np.zeros_like(draws), np.ones_like(draws), 0.8)
    assert abs(coverage(draws, lo, hi) - 0.8) < 0.01
    for bad in (0, 1, 1.5):
        with pytest.raises(ValueError):
            gaussian_interval(0.0, 1.0, bad)
    with pytest.raises(ValueError):
        coverage(np.zeros(3), np.zeros(2), np.zeros(3))


def test_autoreg_wrappers_match_statsmodels():
    x = np.cumsum(np.random.default_rng(1).normal(size=200)) * 0.1 + np.sin(np.arange(200) / 3)
    c, phi = fit_autoreg(x[:150], 3)
    result = AutoReg(x[:150], lags=3, trend="c").fit()
    X, Y, index = forecast_windows(x, 5, 3, 150)
    assert np.allclose(autoreg_predict(X, c, phi), result.predict(start=index[0], end=149))
    rec = autoreg_recursive(X[:2], c, phi, 2)
    assert np.allclose(rec[:, 0], autoreg_predict(X[:2], c, phi))
    order, errors = select_autoreg_order(x, 150, 180, 6)
    assert errors.shape == (6,) and order == int(np.argmin(errors)) + 1
    with pytest.raises(ValueError):
        fit_autoreg(x[:10], 6)
    with pytest.raises(ValueError):
        autoreg_predict(X[:, :2], c, phi)


def test_training_lowers_the_validation_loss():
    torch.manual_seed(0)
    x = np.sin(np.arange(300) / 4.0)
    X, Y, _ = forecast_windows(x, 10, 0, 250)
    Xv, Yv, _ = forecast_windows(x, 10, 250, 300)
    model = RNNForecaster("gru", 16)
    before = rmse(predict(model, Xv), Yv)
    history = train_forecaster(model, X, Y, Xv, Yv, steps=150, lr=1e-2)
    assert rmse(predict(model, Xv), Yv) < 0.3 * before and history.best_step is not None
    g = RNNForecaster("gru", 8, gaussian=True)
    train_forecaster(g, X, Y, Xv, Yv, steps=20)
    mean, std = predict(g, Xv)
    assert mean.shape == std.shape == (len(Xv), 1)
