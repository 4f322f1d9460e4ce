"""Checks for the exercises of Chapter 1, Background.

Each ``check_*`` function takes the learner's answer (a function or a number), tries it on small
inputs of known answer, and either prints one ``passed: ...`` line or raises
:class:`CheckFailed` with a message that says what is wrong and, where a typical mistake can be
recognised (a lag off by one, a target inside its own window, a missing intercept, a window cut
from the test part only), what to look at.

Series are 1-D arrays of shape ``(T,)``; windows are the rows of ``X`` of shape ``(n, p)`` and
their targets ``y`` have shape ``(n,)``, as in :mod:`rnnbook.data.windows`.
"""

import numbers

import numpy as np

from rnnbook.checks._core import (
    CheckFailed,
    as_array,
    call_answer,
    expect_close,
    expect_equal,
    expect_numeric,
    expect_raises,
    expect_shape,
    fail,
    passed,
)

__all__ = [
    "BEST_WINDOW_PROTOCOL",
    "check_autocorrelation",
    "check_best_window",
    "check_ema",
    "check_ema_forgetting",
    "check_fit_ar",
    "check_make_windows",
    "check_split_windows",
    "check_window_parameters",
]


#: Tolerances for a float result: an answer computed in float32 (about seven significant digits,
#: fewer after sums and solves) passes, and each wrong answer the unit tests try still fails.
#: The hidden tests of the exercises use the same numbers.
FLOAT32_TOL = {"rtol": 1e-4, "atol": 1e-5}


def _rng(seed):
    return np.random.default_rng(seed)


def _scalar(name, value, hint=None):
    """``value`` as a Python float; fails unless it is one finite number."""
    __tracebackhide__ = True
    array = as_array(name, value)
    if array.size != 1:
        fail(f"your `{name}` has shape {array.shape}; expected one number.", hint)
    return float(expect_numeric(name, array.reshape(()), hint))


def _integer(name, value, hint=None):
    """``value`` as a Python int; fails unless it is a whole number (not a bool)."""
    __tracebackhide__ = True
    if isinstance(value, bool) or value is None:
        fail(f"your `{name}` is {value!r}; expected an integer.", hint)
    if isinstance(value, numbers.Integral):
        return int(value)
    number = _scalar(name, value, hint)
    if number != int(number):
        fail(f"your `{name}` is {number!r}; expected a whole number.", hint)
    return int(number)


def _pair(name, result, what):
    __tracebackhide__ = True
    if not isinstance(result, tuple | list) or len(result) != 2:
        fail(f"`{name}` should return a pair {what}; got {type(result).__name__}.",
             f"end the function with `return {what.strip('()')}`.")
    return result


# ---------------------------------------------------------------------------------------------
# Lag-k autocorrelation
# ---------------------------------------------------------------------------------------------


def _acf(x, k):
    d = x - x.mean()
    return float(d[: x.size - k] @ d[k:] / (d @ d))


def check_autocorrelation(autocorrelation):
    """Check ``autocorrelation(x, k) -> float``, the sample autocorrelation at lag ``k``.

    Expected: ``sum_{t} (x_t - m)(x_{t+k} - m) / sum_t (x_t - m)^2`` with ``m`` the mean of the
    whole series, for ``0 <= k < T``.
    """
    __tracebackhide__ = True
    rng = _rng(101)
    x = np.cumsum(rng.normal(size=40)) + 5.0      # a wandering series with a non-zero mean
    name = "autocorrelation(x, 0)"
    lag0_hint = "with k = 0, `x[:-k]` is empty: slice with `x[:len(x) - k]` instead."
    try:
        r0 = call_answer("autocorrelation", autocorrelation, x, 0)
    except CheckFailed:
        raise
    except Exception as exc:  # a learner's bug at k = 0: explain the usual cause
        fail(f"`{name}` raised {type(exc).__name__}: {exc}", lag0_hint)
    r0 = _scalar(name, r0, hint="return one number (a float), not an array.")
    if not np.isclose(r0, 1.0):
        fail(f"your `{name}` is {r0:.6g}; expected 1 (a series is perfectly correlated with "
             "itself).", lag0_hint)
    for k in (1, 3, 10):
        name = f"autocorrelation(x, {k})"
        got = _scalar(name, call_answer("autocorrelation", autocorrelation, x, k))
        expected = _acf(x, k)
        d = x - x.mean()
        wrong = [
            (float(np.corrcoef(x[:-k], x[k:])[0, 1]), "is the Pearson correlation of the two "
             "shifted segments, each with its own mean and spread.",
             "use the mean and the sum of squares of the whole series, as in the formula."),
            (float((d[:-k] @ d[k:]) / (x.size - k) / ((d @ d) / x.size)),
             "divides the numerator by T - k and the denominator by T.",
             "both sums are divided by the same thing (or by nothing): use the plain sums."),
            (float(x[:-k] @ x[k:] / (x @ x)), "does not subtract the mean.",
             "subtract the mean of the whole series before multiplying."),
            (_acf(x, k + 1), f"is the autocorrelation at lag {k + 1}: the lag is off by one.",
             "pair x_t with x_{t+k}: `d[:len(d) - k] @ d[k:]`."),
            (_acf(x, k - 1), f"is the autocorrelation at lag {k - 1}: the "
             "lag is off by one.", "pair x_t with x_{t+k}: `d[:len(d) - k] @ d[k:]`."),
        ]
        for value, message, hint in wrong:
            if np.isfinite(value) and np.isclose(got, value) and not np.isclose(value, expected):
                fail(f"your `{name}` {message}", hint)
        expect_close(name, got, expected, **FLOAT32_TOL)
    shifted = _scalar("autocorrelation(x + 100, 3)",
                      call_answer("autocorrelation", autocorrelation, x + 100.0, 3))
    expect_close("autocorrelation(x + 100, 3)", shifted, _acf(x, 3), **FLOAT32_TOL,
                 hint="adding a constant must not change an autocorrelation: subtract the mean.")
    passed("autocorrelation: r_0 = 1 and the lags 1, 3, 10 are right")


# ---------------------------------------------------------------------------------------------
# make_windows
# ---------------------------------------------------------------------------------------------


def check_make_windows(make_windows):
    """Check ``make_windows(series, p, horizon=1) -> (X, y)``.

    Expected: ``X[i] = series[i:i+p]`` and ``y[i] = series[i + p - 1 + horizon]`` for
    ``i = 0 .. T - p - horizon``, so ``X`` is (n, p) and ``y`` is (n,) with
    ``n = T - p - horizon + 1``; a ``ValueError`` when ``T < p + horizon``.
    """
    __tracebackhide__ = True
    series = np.arange(10.0) * 10                 # values are 10 times their position
    for p, horizon in ((3, 1), (4, 2), (1, 1), (9, 1)):
        label = f"make_windows(series, p={p}, horizon={horizon})"
        X, y = _pair(label, call_answer("make_windows", make_windows, series, p, horizon),
                     "(X, y)")
        n = series.size - p - horizon + 1
        X = np.asarray(as_array(f"X of {label}", X), dtype=float)
        y = np.asarray(as_array(f"y of {label}", y), dtype=float)
        if X.shape == (n + horizon, p) or y.shape == (n + horizon,):
            fail(f"`{label}` returns {X.shape[0]} windows; expected {n}.",
                 "the last windows have no target inside the series: stop at "
                 "i = T - p - horizon.")
        transposed = X.shape == (p, n) and p != n
        X = expect_shape(f"X of {label}", X, (n, p),
                         hint="it looks transposed: one row per window, one column per value."
                         if transposed else f"one row per window: n = T - p - horizon + 1 = "
                                            f"{n} rows of p = {p} values.")
        y = expect_shape(f"y of {label}", y, (n,),
                         hint="one target per window, as a 1-D array.")
        expected_X = np.stack([series[i:i + p] for i in range(n)])
        expected_y = series[np.arange(n) + p - 1 + horizon]
        expect_close(f"X of {label}", X, expected_X,
                     hint="row i holds series[i], ..., series[i + p - 1], oldest first.")
        if np.allclose(y, X[:, -1]):
            fail(f"your targets of `{label}` are the last values of their own windows.",
                 "the target lies after the window: y[i] = series[i + p - 1 + horizon]. A "
                 "model fed its own target would look perfect and predict nothing.")
        if horizon > 1 and np.allclose(y, series[np.arange(n) + p]):
            fail(f"your targets of `{label}` ignore the horizon.",
                 "y[i] = series[i + p - 1 + horizon]: horizon steps after the window's end.")
        expect_close(f"y of {label}", y, expected_y,
                     hint="y[i] = series[i + p - 1 + horizon].")
    expect_raises("make_windows(np.arange(5.0), p=4, horizon=2)", make_windows,
                  (np.arange(5.0), 4, 2),
                  hint="a series of T = 5 has no window of p = 4 with a target 2 steps later: "
                       "raise ValueError when T < p + horizon.")
    passed("make_windows: windows, targets and the too-short case are right")


# ---------------------------------------------------------------------------------------------
# A split without leakage
# ---------------------------------------------------------------------------------------------


def check_split_windows(split_windows):
    """Check ``split_windows(series, p, split) -> (X_train, y_train, X_test, y_test)``.

    Expected: the windows of ``make_windows(series, p)``, split by the position of their target:
    training windows have targets before ``split`` (so all their values are before it too), test
    windows have targets at ``split`` or later; every ``p`` gets the ``T - split`` test targets
    ``series[split:]``, in order.
    """
    __tracebackhide__ = True
    T, split = 30, 20
    series = np.arange(T, dtype=float)            # each value is its own position
    for p in (1, 3, 5):
        label = f"split_windows(series, p={p}, split={split})"
        result = call_answer("split_windows", split_windows, series, p, split)
        if not isinstance(result, tuple | list) or len(result) != 4:
            fail(f"`split_windows` should return four arrays (X_train, y_train, X_test, "
                 f"y_test); got {type(result).__name__}.")
        X_tr, y_tr, X_te, y_te = (np.asarray(as_array(name, value), dtype=float) for name, value
                                  in zip(("X_train", "y_train", "X_test", "y_test"), result,
                                         strict=True))
        latest = max([v.max() for v in (X_tr, y_tr) if v.size], default=-1)
        if latest >= split:
            fail(f"`{label}`: a training window uses the value at position {int(latest)}, at or "
                 f"after split = {split}: the test period leaks into training.",
                 "keep only the windows whose target position is below split.")
        if y_te.shape == (T - split - p,):
            fail(f"`{label}` gives {T - split - p} test targets; expected {T - split}.",
                 "you seem to cut the series first and window the test part alone, which loses "
                 "its first p targets. Window the whole series and split by target position: "
                 "a test window may start before split.")
        expect_shape(f"y_test of {label}", y_te, (T - split,),
                     hint="every target from position split to T - 1 is a test target.")
        expect_shape(f"X_test of {label}", X_te, (T - split, p))
        expect_close(f"y_test of {label}", y_te, series[split:],
                     hint="the test targets are series[split:], in order.")
        expect_close(f"X_test of {label}", X_te,
                     np.stack([series[t - p:t] for t in range(split, T)]),
                     hint="each test window holds the p values just before its target.")
        expected_targets = np.arange(p, split, dtype=float)
        if y_tr.shape == (split - p - 1,) or (y_tr.size and y_tr.max() < split - 1):
            fail(f"`{label}` drops the last training window (target at position "
                 f"{split - 1}).", "a window whose target is at split - 1 is a training window.")
        expect_shape(f"y_train of {label}", y_tr, expected_targets.shape,
                     hint="every target before split that has p values before it is a training "
                          "target.")
        expect_shape(f"X_train of {label}", X_tr, (expected_targets.size, p))
        expect_close(f"y_train of {label}", y_tr, expected_targets)
        expect_close(f"X_train of {label}", X_tr,
                     np.stack([series[t - p:t] for t in range(p, split)]))
    passed("split_windows: no leakage, and the same test targets for every p")


# ---------------------------------------------------------------------------------------------
# Least-squares AR(p)
# ---------------------------------------------------------------------------------------------


def check_fit_ar(fit_ar):
    """Check ``fit_ar(X, y) -> (w, b)``: least squares for ``y ~ X @ w + b``, w of shape (p,)."""
    __tracebackhide__ = True
    rng = _rng(102)
    n, p = 60, 3
    X = rng.normal(size=(n, p)) + 2.0
    w_true, b_true = np.array([0.5, -1.0, 2.0]), 3.0
    y = X @ w_true + b_true
    w, b = _pair("fit_ar", call_answer("fit_ar", fit_ar, X, y), "(w, b)")
    w = expect_shape("w", w, (p,),
                     hint="one weight per column of X, as a 1-D array; return the intercept "
                          "separately as b.")
    b = _scalar("b", b, hint="b is one number, the intercept.")
    if np.allclose(w, w_true[::-1]):
        fail("your `w` is reversed.", "w[j] multiplies X[:, j], the j-th oldest value.")
    A_first = np.hstack([np.ones((n, 1)), X])
    c_first = np.linalg.lstsq(A_first, y, rcond=None)[0]
    if np.allclose(w, c_first[:-1], atol=1e-6) and not np.allclose(w, w_true, atol=1e-6):
        fail("your `w` starts with the intercept: the ones column stands first in your design "
             "matrix, but you read b from its last coefficient.",
             "put the ones column last (np.hstack([X, ones])) and split coef[:-1], coef[-1], "
             "or read b = coef[0] and w = coef[1:].")
    if abs(b) < 1e-12:
        fail("your `b` is 0, but these data have an intercept of 3.",
             "append a column of ones to X and fit it with the weights; b is its coefficient.")
    expect_close("w (noise-free data)", w, w_true, **FLOAT32_TOL,
                 hint="solve the least-squares problem with the ones column, e.g. with "
                      "np.linalg.lstsq([X, 1], y).")
    expect_close("b (noise-free data)", b, b_true, **FLOAT32_TOL)
    noisy = y + rng.normal(size=n)
    w, b = _pair("fit_ar", call_answer("fit_ar", fit_ar, X, noisy), "(w, b)")
    A = np.hstack([X, np.ones((n, 1))])
    coef = np.linalg.solve(A.T @ A, A.T @ noisy)
    expect_close("w (noisy data)", w, coef[:p], **FLOAT32_TOL,
                 hint="minimise the sum of squared errors over w and b together.")
    expect_close("b (noisy data)", _scalar("b", b), coef[p], **FLOAT32_TOL)
    passed("fit_ar: least-squares weights and intercept")


# ---------------------------------------------------------------------------------------------
# Which window? (sunspots)
# ---------------------------------------------------------------------------------------------

BEST_WINDOW_PROTOCOL = {
    "train_years": (1730, 1879),    # target years, both included
    "valid_years": (1880, 1929),
    "windows": (1, 30),             # p from 1 to 30, both included
}


def _best_window():
    from rnnbook.data.series import load_sunspots
    from rnnbook.data.windows import fit_linear_ar, make_windows, predict_linear_ar

    years, values = load_sunspots()
    (t0, t1), (v0, v1) = BEST_WINDOW_PROTOCOL["train_years"], BEST_WINDOW_PROTOCOL["valid_years"]
    lo, hi = BEST_WINDOW_PROTOCOL["windows"]
    errors = {}
    for p in range(lo, hi + 1):
        X, y, index = make_windows(values, p, return_index=True)
        target_year = years[index]
        train = (target_year >= t0) & (target_year <= t1)
        valid = (target_year >= v0) & (target_year <= v1)
        w, b = fit_linear_ar(X[train], y[train])
        errors[p] = float(np.sqrt(np.mean((predict_linear_ar(X[valid], w, b) - y[valid]) ** 2)))
    best = min(errors, key=errors.get)
    return best, errors


def check_best_window(best_p, best_rmse):
    """Check the window length ``best_p`` with the lowest validation RMSE and that RMSE.

    Protocol (:data:`BEST_WINDOW_PROTOCOL`): yearly sunspots; for each p in 1..30 fit AR(p) with
    an intercept by least squares on the windows whose target year is in 1730-1879, and compute
    the RMSE on the windows whose target year is in 1880-1929.
    """
    __tracebackhide__ = True
    best, errors = _best_window()
    p = _integer("best_p", best_p, hint="best_p is the window length, an integer from 1 to 30.")
    if p not in errors:
        fail(f"your `best_p` is {p}; expected a window length from 1 to 30.")
    rmse = _scalar("best_rmse", best_rmse)
    if p != best:
        if np.isclose(rmse, errors[p], rtol=1e-4):
            fail(f"your `best_p` = {p} has validation RMSE {errors[p]:.3f}, but a lower one "
                 "exists.", "loop over every p from 1 to 30 and keep the one with the smallest "
                 "validation error (np.argmin returns a 0-based index: add 1).")
        fail(f"your `best_p` is {p}; that is not the window with the lowest validation error.",
             "train only on windows whose target year is 1730-1879, validate on target years "
             "1880-1929, fit an intercept, and compare RMSE (the square root of the mean "
             "squared error).")
    if not np.isclose(rmse, errors[best], rtol=1e-4):
        if np.isclose(rmse, errors[best] ** 2, rtol=1e-4):
            fail("your `best_rmse` is the mean squared error; take its square root.")
        fail(f"your `best_rmse` is {rmse:.4g}; expected the validation RMSE of AR({best}).",
             "evaluate on the validation windows only (target years 1880-1929).")
    passed(f"best_window: AR({best}) has the lowest validation RMSE")


# ---------------------------------------------------------------------------------------------
# Exponential moving average
# ---------------------------------------------------------------------------------------------


def _ema(x, a, s0):
    out, s = np.empty(len(x)), s0
    for t, value in enumerate(x):
        s = a * s + (1 - a) * value
        out[t] = s
    return out


def check_ema(ema):
    """Check ``ema(x, a, s0=0.0) -> s`` of shape (T,): ``z_t = a z_{t-1} + (1 - a) x_t``."""
    __tracebackhide__ = True
    rng = _rng(103)
    x = rng.normal(size=25) + 1.0
    for a, s0 in ((0.8, 0.0), (0.5, 2.0), (0.0, 1.0)):
        label = f"ema(x, a={a}, s0={s0})"
        got = as_array(label, call_answer("ema", ema, x, a, s0))
        if got.shape == (x.size + 1,):
            fail(f"your `{label}` has {x.size + 1} values; expected {x.size}.",
                 "return z_1, ..., z_T, not the starting value z_0.")
        got = expect_shape(label, got, (x.size,), hint="one smoothed value per input.")
        got = expect_numeric(label, got)
        expected = _ema(x, a, s0)
        wrong = [
            (_ema(x, 1 - a, s0), "swaps a and 1 - a.",
             "the old state is multiplied by a, the new input by 1 - a."),
            (np.concatenate([x[:1], _ema(x[1:], a, x[0])]), "starts from z_1 = x_1 instead of "
             "from s0.", "start from the given s0 and apply the update to every input, the "
                         "first one too."),
            (_ema(x, a, 0.0), "ignores s0.", "the first step is z_1 = a * s0 + (1 - a) * x_1."),
        ]
        for value, message, hint in wrong:
            if np.allclose(got, value) and not np.allclose(value, expected):
                fail(f"your `{label}` {message}", hint)
        expect_close(label, got, expected, **FLOAT32_TOL)
    passed("ema: z_t = a z_(t-1) + (1 - a) x_t from z_0")


def check_ema_forgetting(k_forgotten):
    """Check ``k_forgotten``: the smallest k with 0.95 ** k < 0.01, i.e. the age beyond which all
    older inputs of an EMA with a = 0.95 together weigh less than 1%."""
    __tracebackhide__ = True
    k = _integer("k_forgotten", k_forgotten,
                 hint="the answer is a number of steps, a whole number.")
    expected = int(np.ceil(np.log(0.01) / np.log(0.95)))
    if k == expected - 1:
        fail(f"your `k_forgotten` is {k}; at that age 0.95 ** {k} = {0.95 ** k:.4f} is not yet "
             "below 0.01.", "round up, not down: take the smallest k with 0.95 ** k < 0.01.")
    single = int(np.ceil(np.log(0.01 / 0.05) / np.log(0.95)))    # (1 - a) a ** k < 0.01
    if k == single:
        fail(f"your `k_forgotten` is {k}: that is where the weight of the single input x_(t-k), "
             "(1 - a) a ** k, drops below 1%.",
             "the question is about all inputs k or more steps old together: their weights sum "
             "to a ** k.")
    if k != expected:
        fail(f"your `k_forgotten` is {k}; expected the smallest k with 0.95 ** k < 0.01.",
             "the inputs older than k steps together carry the weight a ** k; solve "
             "a ** k < 0.01 for k with logarithms.")
    passed(f"k_forgotten: after {expected} steps less than 1% of the weight remains")


# ---------------------------------------------------------------------------------------------
# Parameters of a window model and of a recurrent model
# ---------------------------------------------------------------------------------------------


def _mlp(p, H):
    return H * p + H + H + 1


def check_window_parameters(window_mlp_param_count, p_more):
    """Check ``window_mlp_param_count(p, H)`` and ``p_more``.

    ``window_mlp_param_count(p, H)`` counts the parameters of
    ``nn.Sequential(nn.Linear(p, H), nn.Tanh(), nn.Linear(H, 1))``; ``p_more`` is the smallest
    window length for which that network, with H = 32, has more parameters than
    ``nn.RNN(1, 32)`` plus ``nn.Linear(32, 1)``.
    """
    __tracebackhide__ = True
    for p, H in ((4, 8), (10, 32), (100, 16), (1, 1)):
        name = f"window_mlp_param_count({p}, {H})"
        got = _integer(name, call_answer("window_mlp_param_count", window_mlp_param_count, p, H),
                       hint="a count is a whole number.")
        expected = _mlp(p, H)
        wrong = [
            (H * p + H, "counts the first layer only: add nn.Linear(H, 1), H weights and 1 "
                        "bias."),
            (H * p + 2 * H, "leaves out the output bias (1 number)."),
            (H * p + H + 1, "leaves out the H biases of the first layer."),
            (H * p + H * H + H + H, "gives the output layer H outputs; it has 1."),
        ]
        matches = [message for value, message in wrong if value == got != expected]
        if len(matches) == 1:        # diagnose only when the mistake is unambiguous
            fail(f"your `{name}` is {got}; expected {expected}.", matches[0])
        expect_equal(name, got, expected,
                     hint="nn.Linear(p, H) has H * p weights and H biases; nn.Linear(H, 1) has "
                          "H weights and 1 bias; nn.Tanh has none.")
    rnn = 32 * 1 + 32 * 32 + 32 + 32 + 32 + 1
    expected_p = next(p for p in range(1, 1000) if _mlp(p, 32) > rnn)
    p = _integer("p_more", p_more, hint="p_more is a window length, a whole number.")
    if p != expected_p:
        if p == expected_p - 1:
            fail(f"your `p_more` is {p}; at p = {p} the window network has {_mlp(p, 32)} "
                 f"parameters, not more than the {rnn} of the RNN.",
                 "nn.RNN(1, 32) keeps two bias vectors (bias_ih_l0 and bias_hh_l0), so with its "
                 f"read-out it has {rnn} parameters; and 'more than' is strict.")
        fail(f"your `p_more` is {p}; that is not the first window length where the window "
             f"network outgrows the recurrent one ({rnn} parameters).",
             "count nn.RNN(1, 32) + nn.Linear(32, 1) with sum(t.numel() for t in "
             "m.parameters()) and compare.")
    passed(f"window_mlp_param_count, p_more: the network is larger "
                     f"from p = {expected_p}")
