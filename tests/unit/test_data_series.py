"""rnnbook.data.series: the sunspot and CO2 loaders, the sine signal and the autocorrelation."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.tsa.stattools import acf

from rnnbook.data.series import autocorrelation, load_co2, load_sunspots, sine_signal


def test_sunspots_are_yearly_1700_to_2008():
    years, values = load_sunspots()
    assert years.shape == values.shape == (309,)
    assert years.dtype == values.dtype == np.float64
    assert np.array_equal(years, np.arange(1700.0, 2009.0))
    assert np.all(np.isfinite(values)) and values.min() >= 0
    assert values[0] == 5.0                         # the first value of the distributed series


def test_co2_keeps_missing_weeks_as_nan_by_default():
    dates, values = load_co2()
    assert dates.shape == values.shape == (2284,)
    assert dates.dtype == np.dtype("datetime64[D]")
    assert np.all(np.diff(dates) == np.timedelta64(7, "D"))      # one value per week
    assert np.isnan(values).sum() == 59
    assert str(dates[0]) == "1958-03-29" and str(dates[-1]) == "2001-12-29"
    assert 310 < np.nanmin(values) < np.nanmax(values) < 380


def test_co2_drop_removes_the_missing_weeks():
    dates, values = load_co2(missing="drop")
    assert dates.shape == values.shape == (2284 - 59,)
    assert not np.isnan(values).any()
    assert np.diff(dates).max() > np.timedelta64(7, "D")          # the gaps show in the dates


def test_co2_interpolate_fills_gaps_linearly_and_keeps_measurements():
    dates, raw = load_co2()
    _, filled = load_co2(missing="interpolate")
    measured = ~np.isnan(raw)
    assert not np.isnan(filled).any()
    assert np.array_equal(filled[measured], raw[measured])
    i = int(np.flatnonzero(~measured)[0])                         # a single missing week
    assert measured[i - 1] and measured[i + 1]
    assert np.isclose(filled[i], (raw[i - 1] + raw[i + 1]) / 2)


def test_co2_rejects_an_unknown_missing_policy():
    with pytest.raises(ValueError, match="missing"):
        load_co2(missing="zero")


def test_sine_signal_values():
    x = sine_signal(100, periods=(20.0,))
    assert x.shape == (100,) and x.dtype == np.float64
    assert np.allclose(x, np.sin(2 * np.pi * np.arange(100) / 20))
    y = sine_signal(50, periods=(10.0, 5.0), amplitudes=(2.0, 0.5), phases=(0.0, np.pi / 2))
    t = np.arange(50)
    assert np.allclose(y, 2 * np.sin(2 * np.pi * t / 10) + 0.5 * np.cos(2 * np.pi * t / 5))


def test_sine_signal_noise_needs_and_uses_a_generator():
    a = sine_signal(500, noise_std=0.5, rng=np.random.default_rng(1))
    b = sine_signal(500, noise_std=0.5, rng=np.random.default_rng(1))
    assert np.array_equal(a, b)
    assert 0.4 < np.std(a - sine_signal(500)) < 0.6
    with pytest.raises(ValueError, match="rng"):
        sine_signal(10, noise_std=0.1)


@pytest.mark.parametrize("kwargs, words", [
    ({"length": 0}, "length"),
    ({"length": 2.5}, "length"),
    ({"length": 10, "periods": (0.0,)}, "periods"),
    ({"length": 10, "periods": ()}, "periods"),
    ({"length": 10, "periods": (5.0, 6.0), "amplitudes": (1.0,)}, "amplitudes"),
    ({"length": 10, "phases": (0.0, 1.0)}, "phases"),
    ({"length": 10, "noise_std": -1.0}, "noise_std"),
])
def test_sine_signal_rejects_bad_arguments(kwargs, words):
    with pytest.raises(ValueError, match=words):
        sine_signal(**kwargs)


def test_autocorrelation_matches_statsmodels():
    _, values = load_sunspots()
    assert np.allclose(autocorrelation(values, 40), acf(values, nlags=40, fft=False))


def test_autocorrelation_of_a_sine_and_a_torch_tensor():
    x = np.sin(2 * np.pi * np.arange(400) / 20)
    r = autocorrelation(torch.from_numpy(x), 20)
    assert r[0] == pytest.approx(1.0)
    assert r[10] < -0.9 and r[20] > 0.9            # half and full period


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(-1e3, 1e3), min_size=3, max_size=60), st.floats(-1e3, 1e3))
def test_autocorrelation_properties(values, shift):
    x = np.array(values)
    if np.ptp(x) < 1e-3:
        return
    r = autocorrelation(x, len(x) - 1)
    assert r[0] == pytest.approx(1.0)
    assert np.all(np.abs(r) <= 1 + 1e-9)
    assert np.allclose(autocorrelation(x + shift, len(x) - 1), r, atol=1e-6)


@pytest.mark.parametrize("series, max_lag, words", [
    (np.ones((3, 2)), 1, r"shape \(T,\)"),
    (np.array([1.0]), 0, r"shape \(T,\)"),
    (np.array([1.0, np.nan, 2.0]), 1, "NaN"),
    (np.arange(5.0), 5, "max_lag"),
    (np.arange(5.0), -1, "max_lag"),
    (np.arange(5.0), 1.0, "max_lag"),
    (np.full(5, 3.0), 1, "constant"),
])
def test_autocorrelation_rejects_bad_input(series, max_lag, words):
    with pytest.raises(ValueError, match=words):
        autocorrelation(series, max_lag)
