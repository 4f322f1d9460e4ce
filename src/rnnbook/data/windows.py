"""Fixed windows over a series, and linear autoregressive models fitted on them.

    make_windows(series, p, horizon=1)   series (T,) -> X (n, p), y (n,), n = T - p - horizon + 1
    split_windows(series, p, split)      windows whose target lies before / from index ``split``
    fit_linear_ar(X, y, ridge=0.0)       least squares: y ~ X @ w + b  -> (w (p,), b)
    predict_linear_ar(X, w, b)           X (n, p) -> predictions (n,)
    iterate_linear_ar(history, w, b, steps)  run the model on its own predictions, (steps,)

Window ``i`` holds the ``p`` values ``series[i], ..., series[i + p - 1]`` and its target is the
value ``horizon`` steps after the last of them, ``series[i + p - 1 + horizon]``. A model of the
window sees nothing older than ``p`` steps: that is the limitation Chapter 1 measures.
"""

import numbers

import numpy as np

__all__ = ["fit_linear_ar", "iterate_linear_ar", "make_windows", "predict_linear_ar",
           "split_windows"]


def _positive_int(name, value):
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name}: expected a positive integer, got {value!r}")
    return int(value)


def _series(name, series):
    if hasattr(series, "detach"):
        series = series.detach().cpu().numpy()
    x = np.asarray(series)
    if x.dtype == object or x.dtype.kind not in "biuf" or x.dtype == bool:
        raise ValueError(f"{name}: expected an array of numbers, got dtype {x.dtype}")
    if x.ndim != 1:
        raise ValueError(f"{name}: expected shape (T,), got shape {x.shape}")
    if x.size == 0:
        raise ValueError(f"{name}: expected a non-empty series, got shape (0,)")
    if x.dtype.kind == "f" and not np.all(np.isfinite(x)):
        raise ValueError(f"{name}: contains NaN or infinity; fill or drop missing values first")
    return x


def make_windows(series, p, horizon=1, return_index=False):
    """Cut a series into overlapping windows of ``p`` values and their targets.

    Args:
        series: array-like of shape ``(T,)``, finite numbers.
        p: window length, a positive integer.
        horizon: how many steps after a window's last value its target lies (positive integer;
            1 = the next value).
        return_index: also return the position of each target in ``series``.

    Returns:
        X: array of shape ``(n, p)`` with ``n = T - p - horizon + 1``, ``X[i] = series[i:i+p]``
            (a copy, in the dtype of ``series``).
        y: array of shape ``(n,)``, ``y[i] = series[i + p - 1 + horizon]``.
        index: (only with ``return_index``) int64 array of shape ``(n,)``, the target positions
            ``i + p - 1 + horizon``.

    Raises:
        ValueError: for a series that is not 1-D, empty or not finite, a bad ``p`` or
            ``horizon``, or a series too short to give one window (``T < p + horizon``).
    """
    x = _series("series", series)
    p = _positive_int("p", p)
    horizon = _positive_int("horizon", horizon)
    n = x.size - p - horizon + 1
    if n < 1:
        raise ValueError(
            f"series: length T = {x.size} is too short for p = {p} and horizon = {horizon}: "
            f"need T >= p + horizon = {p + horizon}"
        )
    X = np.lib.stride_tricks.sliding_window_view(x, p)[:n].copy()
    index = np.arange(n, dtype=np.int64) + p - 1 + horizon
    y = x[index].copy()
    return (X, y, index) if return_index else (X, y)


def split_windows(series, p, split, horizon=1):
    """Windows for training (target before ``split``) and testing (target at ``split`` or later).

    Training windows lie wholly before ``split``: neither their values nor their targets come
    from the test period. A test window may *start* before ``split``: at forecast time the recent
    past is known, and only the target must be new. Every ``p`` therefore gets the same test
    targets, ``series[split:]``, so test errors for different ``p`` are comparable.

    Args:
        series: array-like of shape ``(T,)``.
        p: window length (positive integer).
        split: integer with ``p + horizon <= split < T``: the first test target's position.
        horizon: as in :func:`make_windows`.

    Returns:
        X_train (n_train, p), y_train (n_train,), X_test (T - split, p), y_test (T - split,).
    """
    x = _series("series", series)
    p = _positive_int("p", p)
    horizon = _positive_int("horizon", horizon)
    if not isinstance(split, numbers.Integral) or isinstance(split, bool) or \
            not p + horizon <= split < x.size:
        raise ValueError(
            f"split: expected an integer with p + horizon <= split < T, i.e. in "
            f"[{p + horizon}, {x.size}), got {split!r}"
        )
    X, y, index = make_windows(x, p, horizon, return_index=True)
    train, test = index < split, index >= split
    return X[train], y[train], X[test], y[test]


def _design(X, name="X"):
    if hasattr(X, "detach"):
        X = X.detach().cpu().numpy()
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"{name}: expected shape (n, p) with n, p >= 1, got shape {X.shape}")
    if not np.all(np.isfinite(X)):
        raise ValueError(f"{name}: contains NaN or infinity")
    return X


def fit_linear_ar(X, y, ridge=0.0):
    """Least-squares fit of ``y ~ X @ w + b`` (a linear autoregressive model of order ``p``).

    Minimises ``sum_i (X[i] @ w + b - y[i])**2 + ridge * ||w||^2`` (the intercept is not
    penalised), in float64.

    Args:
        X: array of shape ``(n, p)``, the windows.
        y: array of shape ``(n,)``, the targets.
        ridge: penalty on ``w`` (>= 0). Without it, ``n >= p + 1`` windows are needed.

    Returns:
        w: float64 array of shape ``(p,)``; ``w[j]`` multiplies ``X[:, j]``, so ``w[-1]`` is the
            weight of the most recent value.
        b: float, the intercept.
    """
    X = _design(X)
    n, p = X.shape
    y = np.asarray(y.detach().cpu().numpy() if hasattr(y, "detach") else y, dtype=np.float64)
    if y.shape != (n,):
        raise ValueError(f"y: expected shape (n,) = ({n},), got {y.shape} (n = {n} from X)")
    if not np.all(np.isfinite(y)):
        raise ValueError("y: contains NaN or infinity")
    if not (isinstance(ridge, numbers.Real) and ridge >= 0):
        raise ValueError(f"ridge: expected a number >= 0, got {ridge!r}")
    if ridge == 0 and n < p + 1:
        raise ValueError(
            f"X: {n} windows cannot determine p + 1 = {p + 1} coefficients; use more data, "
            "a shorter window or ridge > 0"
        )
    A = np.hstack([X, np.ones((n, 1))])
    if ridge > 0:
        penalty = np.sqrt(ridge) * np.eye(p + 1)[:p]
        A = np.vstack([A, penalty])
        y = np.concatenate([y, np.zeros(p)])
    coef, *_ = np.linalg.lstsq(A, y, rcond=None)
    return coef[:p], float(coef[p])


def predict_linear_ar(X, w, b):
    """Predictions ``X @ w + b`` of a linear AR model: X (n, p), w (p,), b scalar -> (n,)."""
    X = _design(X)
    w = np.asarray(w, dtype=np.float64)
    if w.shape != (X.shape[1],):
        raise ValueError(f"w: expected shape (p,) = ({X.shape[1]},), got {w.shape} "
                         f"(p = {X.shape[1]} from X)")
    return X @ w + float(b)


def iterate_linear_ar(history, w, b, steps):
    """Run a linear AR model on its own predictions (a free-running forecast).

    Starting from the last ``p`` values of ``history``, each new value is
    ``window @ w + b``, and the window slides forward over it. Used this way the model is a
    recurrence whose state is its window.

    Args:
        history: array-like of shape ``(T0,)`` with ``T0 >= p``.
        w: array of shape ``(p,)``; b: scalar.
        steps: number of values to generate (positive integer).

    Returns:
        float64 array of shape ``(steps,)``.
    """
    h = _series("history", history).astype(np.float64)
    w = np.asarray(w, dtype=np.float64)
    if w.ndim != 1 or w.size == 0:
        raise ValueError(f"w: expected shape (p,) with p >= 1, got {w.shape}")
    p = w.size
    if h.size < p:
        raise ValueError(f"history: expected at least p = {p} values, got {h.size}")
    steps = _positive_int("steps", steps)
    window = list(h[-p:])
    out = np.empty(steps)
    for t in range(steps):
        out[t] = np.dot(window, w) + float(b)
        window = window[1:] + [out[t]]
    return out
