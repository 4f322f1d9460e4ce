"""Forecasting data done without leakage: a chronological split, training-only scaling, windows.

    chronological_split(T, valid, test)      -> (train_end, valid_end): [0, a) [a, b) [b, T)
    Scaler.fit(train_values)                 mean and std of the training part only
    forecast_windows(series, p, start, stop, horizon=1)
                                             X (n, p), Y (n, horizon), index (n,): every target
                                             lies in [start, stop), inputs may reach back before
    monthly_co2()                            month starts (T,), monthly mean CO2 (T,), ppm
    yearly_sunspots()                        years (T,), sunspot numbers (T,)

The rule behind all of them: nothing computed from the validation or test periods (a mean, a
standard deviation, a target) may reach the training of a model. Windows for a period may *start*
before it (at forecast time the past is known) but their targets lie inside it, so a test target
is never also a training target and the training windows never contain a test value.
"""

import numbers

import numpy as np
import torch

from rnnbook.data.series import load_co2, load_sunspots
from rnnbook.data.windows import _series

__all__ = ["Scaler", "chronological_split", "forecast_windows", "monthly_co2", "random_batches",
           "yearly_sunspots"]


def _count(name, value, low, high):
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or \
            not low <= value <= high:
        raise ValueError(f"{name}: expected an integer in [{low}, {high}], got {value!r}")
    return int(value)


def chronological_split(T, valid, test):
    """Boundaries of a chronological train / validation / test split of ``T`` steps.

    The last ``test`` steps are the test period, the ``valid`` steps before them the validation
    period, and everything earlier the training period. No shuffling: the future stays unseen.

    Args:
        T: length of the series (integer >= 3).
        valid: number of validation steps (integer >= 1).
        test: number of test steps (integer >= 1), with ``valid + test < T``.

    Returns:
        ``(train_end, valid_end)``: training is ``[0, train_end)``, validation
        ``[train_end, valid_end)``, test ``[valid_end, T)``.
    """
    T = _count("T", T, 3, np.iinfo(np.int64).max)
    test = _count("test", test, 1, T - 2)
    valid = _count("valid", valid, 1, T - 1 - test)
    return T - valid - test, T - test


class Scaler:
    """Standardise with the mean and standard deviation of the training part of a series.

    ``transform(x) = (x - mean) / std`` and ``inverse(z) = z * std + mean``; both accept arrays of
    any shape (and torch tensors for ``inverse``). ``inverse_std`` rescales a standard deviation.
    """

    def __init__(self, mean=0.0, std=1.0):
        if not np.isfinite(mean) or not (np.isfinite(std) and std > 0):
            raise ValueError(f"std: expected a finite number > 0 (and a finite mean), "
                             f"got mean={mean!r}, std={std!r}")
        self.mean, self.std = float(mean), float(std)

    @classmethod
    def fit(cls, train_values):
        """A scaler from the training values, shape ``(T_train,)`` with at least two values."""
        x = _series("train_values", train_values).astype(np.float64)
        if x.size < 2 or x.std() == 0:
            raise ValueError(f"train_values: expected at least two distinct values, got shape "
                             f"{x.shape}")
        return cls(x.mean(), x.std())

    def transform(self, x):
        return (np.asarray(x, dtype=np.float64) - self.mean) / self.std

    def inverse(self, z):
        return z * self.std + self.mean

    def inverse_std(self, s):
        return s * self.std

    def __repr__(self):
        return f"Scaler(mean={self.mean:.4g}, std={self.std:.4g})"


def forecast_windows(series, p, start, stop, horizon=1):
    """Windows of ``p`` values whose ``horizon`` targets all lie in ``[start, stop)``.

    Window ``i`` ends at position ``e`` (its last input is ``series[e]``) and its targets are
    ``series[e + 1], ..., series[e + horizon]``. All windows with ``start <= e + 1`` and
    ``e + horizon < stop`` and ``e - p + 1 >= 0`` are returned, in time order.

    Args:
        series: array-like of shape ``(T,)``, finite.
        p: window length (positive integer).
        start, stop: integers with ``0 <= start < stop <= T``: the period whose values are targets.
        horizon: number of consecutive targets per window (positive integer).

    Returns:
        X: float64 ``(n, p)``; Y: float64 ``(n, horizon)``; index: int64 ``(n,)``, the position of
        each window's first target.

    Raises:
        ValueError: for bad arguments or a period too short to give one window.
    """
    x = _series("series", series).astype(np.float64)
    T = x.size
    p = _count("p", p, 1, T - 1)
    horizon = _count("horizon", horizon, 1, T - 1)
    stop = _count("stop", stop, 1, T)
    start = _count("start", start, 0, stop - 1)
    first = max(start, p)
    last = stop - horizon
    if last < first:
        raise ValueError(f"series: the period [{start}, {stop}) gives no window with p = {p} and "
                         f"horizon = {horizon}")
    index = np.arange(first, last + 1, dtype=np.int64)
    X = np.stack([x[i - p:i] for i in index])
    Y = np.stack([x[i:i + horizon] for i in index])
    return X, Y, index


def yearly_sunspots():
    """Yearly sunspot numbers 1700-2008 (statsmodels): years (309,), values (309,), float64."""
    return load_sunspots()


def monthly_co2():
    """Monthly means of the weekly Mauna Loa CO2 series (statsmodels), March 1958 - December 2001.

    Missing weeks are first filled by linear interpolation in time (``load_co2("interpolate")``;
    a few months have no measured week at all), then each calendar month's weeks are averaged.
    Returns the first day of each month, ``datetime64[D]`` of shape ``(T,)``, and the
    mean concentration in ppm, float64 of shape ``(T,)`` (T = 526).
    """
    dates, values = load_co2(missing="interpolate")
    months = dates.astype("datetime64[M]")
    unique, inverse = np.unique(months, return_inverse=True)
    sums = np.bincount(inverse, weights=values)
    counts = np.bincount(inverse)
    return unique.astype("datetime64[D]"), sums / counts


def random_batches(arrays, batch_size, seed=0):
    """A callable ``step -> batch`` of rows drawn at random, for ``rnnbook.training.fit``.

    Args:
        arrays: tuple of arrays (or tensors) with the same first dimension ``n``.
        batch_size: rows per batch (positive integer; capped at ``n``).
        seed: seed of the ``torch.Generator`` that draws the rows, so a run is repeatable.

    Returns:
        ``batches(step)`` -> tuple of float32 tensors, each ``(batch_size, ...)``. Rows are drawn
        in a random permutation per pass, so every row is seen once a pass.
    """
    tensors = tuple(torch.as_tensor(np.asarray(a), dtype=torch.float32) for a in arrays)
    if not tensors or len({t.shape[0] for t in tensors}) != 1 or tensors[0].shape[0] == 0:
        raise ValueError(f"arrays: expected arrays with one non-zero first dimension, got shapes "
                         f"{[tuple(t.shape) for t in tensors]}")
    n = tensors[0].shape[0]
    size = min(_count("batch_size", batch_size, 1, np.iinfo(np.int64).max), n)
    per_pass = n // size
    generator = torch.Generator().manual_seed(int(seed))
    order = {}

    def batches(step):
        epoch, k = divmod(int(step), per_pass)
        if epoch not in order:
            order.clear()
            order[epoch] = torch.randperm(n, generator=generator)
        rows = order[epoch][k * size:(k + 1) * size]
        return tuple(t[rows] for t in tensors)

    return batches
