"""rnnbook.data.windows: windows, the leakage-free split and linear AR models."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from rnnbook.data.windows import (
    fit_linear_ar,
    iterate_linear_ar,
    make_windows,
    predict_linear_ar,
    split_windows,
)


def test_make_windows_small_example():
    X, y, index = make_windows(np.arange(8.0), 3, return_index=True)
    assert X.tolist() == [[0, 1, 2], [1, 2, 3], [2, 3, 4], [3, 4, 5], [4, 5, 6]]
    assert y.tolist() == [3, 4, 5, 6, 7] and index.tolist() == [3, 4, 5, 6, 7]


def test_make_windows_with_a_horizon():
    X, y, index = make_windows(np.arange(10.0), 4, horizon=3, return_index=True)
    assert X.shape == (4, 4) and y.tolist() == [6, 7, 8, 9]
    assert np.array_equal(X[:, -1] + 3, y) and np.array_equal(index, y.astype(int))


def test_make_windows_returns_copies_and_keeps_dtype():
    series = np.arange(6, dtype=np.int32)
    X, y = make_windows(series, 2)
    X[0, 0] = 99
    assert series[0] == 0 and X.dtype == y.dtype == np.int32
    Xt, _ = make_windows(torch.arange(6.0), 2)
    assert isinstance(Xt, np.ndarray) and Xt.shape == (4, 2)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 40), st.integers(1, 10), st.integers(1, 10))
def test_make_windows_shapes_and_values(T, p, horizon):
    series = np.arange(T, dtype=float) * 2 + 1
    if T < p + horizon:
        with pytest.raises(ValueError, match="too short"):
            make_windows(series, p, horizon)
        return
    X, y = make_windows(series, p, horizon)
    n = T - p - horizon + 1
    assert X.shape == (n, p) and y.shape == (n,)
    for i in range(n):
        assert np.array_equal(X[i], series[i:i + p])
        assert y[i] == series[i + p - 1 + horizon]


@pytest.mark.parametrize("args, words", [
    ((np.ones((4, 2)), 2), r"shape \(T,\)"),
    ((np.array([]), 1), "non-empty"),
    ((np.array(["a", "b", "c"]), 1), "numbers"),
    ((np.array([True, False, True]), 1), "numbers"),
    ((np.array([1.0, np.nan, 2.0, 3.0]), 1), "NaN"),
    ((np.arange(5.0), 0), "p: expected a positive integer"),
    ((np.arange(5.0), 2.0), "p: expected a positive integer"),
    ((np.arange(5.0), 2, 0), "horizon"),
    ((np.arange(5.0), 5), "need T >= p \\+ horizon = 6"),
])
def test_make_windows_rejects_bad_input(args, words):
    with pytest.raises(ValueError, match=words):
        make_windows(*args)


def test_split_windows_has_no_leakage_and_fixed_test_targets():
    series = np.arange(30.0)
    for p in (1, 4, 10):
        X_tr, y_tr, X_te, y_te = split_windows(series, p, 20)
        assert y_tr.max() < 20 and X_tr.max() < 20
        assert np.array_equal(y_te, series[20:]) and X_te.shape == (10, p)
        assert X_tr.shape == (20 - p, p) and np.array_equal(y_tr, np.arange(p, 20.0))
        assert np.array_equal(X_te[0], series[20 - p:20])          # may reach back before split


@pytest.mark.parametrize("p, split", [(3, 3), (3, 30), (3, 2.0), (2, True)])
def test_split_windows_rejects_bad_split(p, split):
    with pytest.raises(ValueError, match="split"):
        split_windows(np.arange(30.0), p, split)


def test_fit_linear_ar_recovers_a_noise_free_model():
    rng = np.random.default_rng(0)
    x = np.zeros(300)
    x[:2] = rng.normal(size=2)
    for t in range(2, 300):
        x[t] = 2.0 + 1.2 * x[t - 1] - 0.5 * x[t - 2] + 0.1 * rng.normal()
    X, y = make_windows(x, 2)
    w, b = fit_linear_ar(X, y)
    assert w.shape == (2,) and isinstance(b, float)
    assert np.allclose(w, [-0.5, 1.2], atol=0.05) and abs(b - 2.0) < 0.3   # w[-1]: newest value
    assert np.allclose(predict_linear_ar(X, w, b), X @ w + b)


def test_fit_linear_ar_equals_lstsq_and_ridge_shrinks():
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(50, 4)), rng.normal(size=50)
    w, b = fit_linear_ar(X, y)
    A = np.hstack([X, np.ones((50, 1))])
    coef = np.linalg.lstsq(A, y, rcond=None)[0]
    assert np.allclose(w, coef[:4]) and np.isclose(b, coef[4])
    w_ridge, _ = fit_linear_ar(X, y, ridge=100.0)
    assert np.linalg.norm(w_ridge) < np.linalg.norm(w)
    w_small, _ = fit_linear_ar(X[:3], y[:3], ridge=1.0)           # underdetermined but penalised
    assert w_small.shape == (4,)


@pytest.mark.parametrize("X, y, kwargs, words", [
    (np.ones((5,)), np.ones(5), {}, "X: expected shape"),
    (np.ones((5, 2)), np.ones(4), {}, r"y: expected shape \(n,\) = \(5,\)"),
    (np.ones((5, 2)), np.ones(5), {"ridge": -1.0}, "ridge"),
    (np.ones((2, 2)), np.ones(2), {}, "cannot determine"),
    (np.full((5, 2), np.nan), np.ones(5), {}, "NaN"),
    (np.ones((5, 2)), np.full(5, np.inf), {}, "NaN"),
])
def test_fit_linear_ar_rejects_bad_input(X, y, kwargs, words):
    with pytest.raises(ValueError, match=words):
        fit_linear_ar(X, y, **kwargs)


def test_predict_linear_ar_checks_the_weights():
    with pytest.raises(ValueError, match=r"w: expected shape \(p,\) = \(3,\)"):
        predict_linear_ar(np.ones((4, 3)), np.ones(2), 0.0)


def test_iterate_linear_ar_is_the_recurrence_and_settles():
    w, b = np.array([-0.5, 1.2]), 2.0
    out = iterate_linear_ar([1.0, 3.0], w, b, steps=4)
    expected, window = [], [1.0, 3.0]
    for _ in range(4):
        expected.append(-0.5 * window[0] + 1.2 * window[1] + 2.0)
        window = [window[1], expected[-1]]
    assert np.allclose(out, expected)
    long = iterate_linear_ar([1.0, 3.0], w, b, steps=500)
    assert np.isclose(long[-1], b / (1 - w.sum()))


@pytest.mark.parametrize("history, w, steps, words", [
    ([1.0], np.ones(2), 3, "at least p = 2"),
    ([1.0, 2.0], np.ones((2, 1)), 3, "w: expected shape"),
    ([1.0, 2.0], np.ones(2), 0, "steps"),
])
def test_iterate_linear_ar_rejects_bad_input(history, w, steps, words):
    with pytest.raises(ValueError, match=words):
        iterate_linear_ar(history, w, 0.0, steps)
