"""Real and synthetic time series, and the sample autocorrelation.

    load_sunspots()                    years (309,), yearly sunspot numbers (309,), 1700-2008
    load_co2(missing="keep")           weekly dates, CO2 at Mauna Loa (ppm), 1958-2001
    sine_signal(length, periods, ...)  a sum of sines, optionally with Gaussian noise, shape (T,)
    autocorrelation(series, max_lag)   sample autocorrelation at lags 0..max_lag, shape (max_lag+1,)

The real series ship with statsmodels, so nothing is downloaded. Arrays are float64.
"""

import numbers

import numpy as np

__all__ = ["autocorrelation", "load_co2", "load_sunspots", "sine_signal"]

_MISSING = ("keep", "drop", "interpolate")


def load_sunspots():
    """Yearly sunspot numbers, 1700 to 2008, as distributed with statsmodels.

    The values are the yearly means of the international (Wolf, Zurich) sunspot number as
    published before SILSO's 2015 revision of the series, so they are smaller than the numbers a
    download of the current series gives. There are no missing years.

    Returns:
        years: float64 array of shape ``(309,)``, ``1700.0 .. 2008.0``.
        values: float64 array of shape ``(309,)``, the sunspot number of each year (>= 0).
    """
    from statsmodels.datasets import sunspots

    data = sunspots.load_pandas().data
    years = data["YEAR"].to_numpy(dtype=np.float64)
    values = data["SUNACTIVITY"].to_numpy(dtype=np.float64)
    return years, values


def load_co2(missing="keep"):
    """Weekly CO2 concentration at Mauna Loa, March 1958 to December 2001, from statsmodels.

    59 of the 2284 weeks have no measurement (the observatory reports no weekly mean when too
    few hours of steady data exist). How to treat them is the caller's decision:

    - ``"keep"``: return them as NaN (the honest default: you see where data are missing);
    - ``"drop"``: remove those weeks; the dates then have gaps, so the steps are no longer equal;
    - ``"interpolate"``: fill each gap linearly in time between the measured weeks around it
      (the first and last weeks are measured, so every gap has a neighbour on both sides).

    Returns:
        dates: ``datetime64[D]`` array of shape ``(T,)``, one Saturday per week.
        values: float64 array of shape ``(T,)``, parts per million by volume.

    Raises:
        ValueError: if ``missing`` is not one of ``"keep"``, ``"drop"``, ``"interpolate"``.
    """
    if missing not in _MISSING:
        raise ValueError(f"missing: expected one of {_MISSING}, got {missing!r}")
    from statsmodels.datasets import co2

    data = co2.load_pandas().data
    dates = data.index.to_numpy().astype("datetime64[D]")
    values = data["co2"].to_numpy(dtype=np.float64)
    gaps = np.isnan(values)
    if missing == "drop":
        return dates[~gaps], values[~gaps]
    if missing == "interpolate" and gaps.any():
        days = dates.astype(np.int64).astype(np.float64)
        values = values.copy()
        values[gaps] = np.interp(days[gaps], days[~gaps], values[~gaps])
    return dates, values


def _positive_int(name, value):
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name}: expected a positive integer, got {value!r}")
    return int(value)


def sine_signal(length, periods=(20.0,), amplitudes=None, phases=None, noise_std=0.0, rng=None):
    """A sum of sampled sines plus optional Gaussian noise.

    ``x_t = sum_k amplitudes[k] * sin(2 pi t / periods[k] + phases[k]) + noise_t`` for
    ``t = 0 .. length - 1``, with ``noise_t ~ N(0, noise_std^2)`` drawn from ``rng``.

    Args:
        length: ``T``, positive integer.
        periods: sequence of ``K`` periods in steps, each > 0.
        amplitudes: sequence of ``K`` amplitudes (default: all 1).
        phases: sequence of ``K`` phases in radians (default: all 0).
        noise_std: standard deviation of the noise, >= 0.
        rng: ``numpy.random.Generator``; required when ``noise_std > 0``.

    Returns:
        float64 array of shape ``(T,)``.
    """
    T = _positive_int("length", length)
    periods = np.atleast_1d(np.asarray(periods, dtype=np.float64))
    if periods.ndim != 1 or periods.size == 0 or not np.all(periods > 0):
        raise ValueError(f"periods: expected a non-empty sequence of positive numbers, "
                         f"got {periods.tolist()!r}")
    K = periods.size
    amplitudes = np.ones(K) if amplitudes is None else np.atleast_1d(
        np.asarray(amplitudes, dtype=np.float64))
    phases = np.zeros(K) if phases is None else np.atleast_1d(np.asarray(phases, dtype=np.float64))
    for name, value in (("amplitudes", amplitudes), ("phases", phases)):
        if value.shape != (K,):
            raise ValueError(f"{name}: expected shape ({K},), one per period, got {value.shape}")
    if not (isinstance(noise_std, numbers.Real) and noise_std >= 0):
        raise ValueError(f"noise_std: expected a number >= 0, got {noise_std!r}")
    t = np.arange(T, dtype=np.float64)[:, None]
    x = (amplitudes * np.sin(2 * np.pi * t / periods + phases)).sum(axis=1)
    if noise_std > 0:
        if not isinstance(rng, np.random.Generator):
            raise ValueError(f"rng: expected a numpy.random.Generator when noise_std > 0, "
                             f"got {type(rng).__name__}")
        x = x + rng.normal(0.0, float(noise_std), size=T)
    return x


def autocorrelation(series, max_lag):
    """Sample autocorrelation of a 1-D series at lags ``0 .. max_lag``.

    ``r_k = sum_{t=0}^{T-1-k} (x_t - m)(x_{t+k} - m) / sum_{t=0}^{T-1} (x_t - m)^2`` with ``m`` the
    mean of the whole series: the usual estimator (as in ``statsmodels.tsa.stattools.acf``), for
    which ``r_0 = 1`` and ``|r_k| <= 1``.

    Args:
        series: float array-like of shape ``(T,)``, finite, not constant.
        max_lag: integer with ``0 <= max_lag < T``.

    Returns:
        float64 array of shape ``(max_lag + 1,)``.
    """
    x = np.asarray(series, dtype=np.float64) if not hasattr(series, "detach") else \
        series.detach().cpu().numpy().astype(np.float64)
    if x.ndim != 1 or x.size < 2:
        raise ValueError(f"series: expected shape (T,) with T >= 2, got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError("series: contains NaN or infinity; fill or drop missing values first")
    if not isinstance(max_lag, numbers.Integral) or isinstance(max_lag, bool) or \
            not 0 <= max_lag < x.size:
        raise ValueError(f"max_lag: expected an integer in [0, T) = [0, {x.size}), "
                         f"got {max_lag!r}")
    d = x - x.mean()
    denom = d @ d
    if denom == 0:
        raise ValueError("series: is constant, so its autocorrelation is undefined")
    return np.array([d[: x.size - k] @ d[k:] / denom for k in range(int(max_lag) + 1)])
