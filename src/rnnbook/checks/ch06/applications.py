"""Checks for the exercises of Chapter 6, part 2: forecasting, classification, attention.

    check_split_and_scale(split_and_scale)        a chronological split, scaled on training only
    check_interval_coverage(interval_coverage)    empirical coverage of Gaussian intervals
    check_masked_last_state(masked_last_state)    each row's state at its own last real step
    check_attention_step(attention_step)          one step of additive (Bahdanau) attention

Each check calls the learner's function on small inputs of known answer, prints one ``passed: ...``
line, or raises :class:`rnnbook.checks.CheckFailed` naming the likely slip.
"""

import math

import numpy as np

from rnnbook.checks._core import (
    as_array,
    call_answer,
    diagnose,
    expect_close,
    expect_numeric,
    expect_shape,
    fail,
    passed,
)

__all__ = ["check_attention_step", "check_interval_coverage", "check_masked_last_state",
           "check_split_and_scale"]


def _matches(value, wrong, rtol=1e-6, atol=1e-8):
    wrong = np.asarray(wrong)
    return value.shape == wrong.shape and np.allclose(value, wrong, rtol=rtol, atol=atol)


def check_split_and_scale(split_and_scale):
    """Check ``split_and_scale(series, n_valid, n_test) -> (train, valid, test)``.

    Expected: the last ``n_test`` values are the test part, the ``n_valid`` before them the
    validation part, the rest the training part, in time order; all three standardised with the
    mean and the (population, ``np.std``) standard deviation of the training part.
    """
    __tracebackhide__ = True
    rng = np.random.default_rng(60)
    series = np.cumsum(rng.normal(size=30)) + np.linspace(0.0, 12.0, 30)
    result = call_answer("split_and_scale", split_and_scale, series.copy(), 5, 7)  # may mutate
    if not isinstance(result, tuple | list) or len(result) != 3:
        fail(f"`split_and_scale` should return three arrays (train, valid, test); got "
             f"{type(result).__name__}.", "end with `return train, valid, test`.")
    parts = [as_array(n, v) for n, v in zip(("train", "valid", "test"), result, strict=True)]
    for name, part, size in zip(("train", "valid", "test"), parts, (18, 5, 7), strict=True):
        expect_shape(name, part, (size,),
                     hint="the last n_test values are the test part and the n_valid values "
                          "before them the validation part; the training part is the rest.")
        expect_numeric(name, part)
    train, valid, test = series[:18], series[18:23], series[23:]
    mean, std = train.mean(), train.std()
    whole = (series - series.mean()) / series.std()
    got = np.concatenate(parts)
    diagnose("split", got, [
        (series, "is not scaled at all.", "subtract the training mean and divide by the "
                                          "training standard deviation."),
        (whole, "is scaled with the mean and std of the whole series: that leaks the test period "
                "into the scale.", "compute mean and std from the training part only."),
        ((series - mean) / train.std(ddof=1), "uses the sample standard deviation (ddof=1).",
         "use the population standard deviation, np.std(train) (ddof=0)."),
        (np.concatenate([(p - p.mean()) / p.std() for p in (train, valid, test)]),
         "scales each part with its own mean and std.",
         "the validation and test parts must be scaled with the training statistics."),
        (series - mean, "subtracts the training mean but does not divide by the std.", None),
    ])
    if not _matches(np.sort(got), np.sort((series - mean) / std)) and \
            _matches(np.sort(got), np.sort(whole)):
        fail("your parts are shuffled and scaled with the whole series.",
             "keep time order: no shuffling, and fit the scale on the training part.")
    expected = (series - mean) / std
    if _matches(np.sort(got), np.sort(expected)) and not _matches(got, expected):
        fail("your values are right but not in time order, or not in the right parts.",
             "do not shuffle: train = series[:T - n_valid - n_test], then valid, then test.")
    expect_close("train", parts[0], expected[:18], atol=1e-6)      # float32 answers pass
    expect_close("valid", parts[1], expected[18:23], atol=1e-6)
    expect_close("test", parts[2], expected[23:], atol=1e-6)
    passed("split_and_scale: chronological parts, scaled by training mean and std")


# ---------------------------------------------------------------------------------------------
# Coverage of Gaussian intervals
# ---------------------------------------------------------------------------------------------


def _z(level):
    """The (1 + level) / 2 quantile of the standard normal, by bisection on erf."""
    lo, hi = 0.0, 10.0
    for _ in range(100):
        mid = (lo + hi) / 2
        if 0.5 * (1 + math.erf(mid / math.sqrt(2))) < (1 + level) / 2:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def _z_one_sided(level):
    lo, hi = -10.0, 10.0
    for _ in range(100):
        mid = (lo + hi) / 2
        if 0.5 * (1 + math.erf(mid / math.sqrt(2))) < level:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def _coverage(y, mean, half):
    return float(np.mean(np.abs(y - mean) <= half))


def check_interval_coverage(interval_coverage):
    """Check ``interval_coverage(y, mean, std, level) -> float``.

    Expected: the fraction of targets inside the central interval ``mean -/+ z std`` of
    probability ``level``, with ``z`` the ``(1 + level) / 2`` quantile of the standard normal.
    """
    __tracebackhide__ = True
    rng = np.random.default_rng(61)
    n = 400
    mean = rng.normal(size=n)
    std = rng.uniform(0.3, 3.0, size=n)
    y = mean + std * rng.standard_t(df=4, size=n) * 0.8
    name = "interval_coverage(y, mean, std, level)"
    for level in (0.8, 0.95):
        got = call_answer("interval_coverage", interval_coverage, y, mean, std, level)
        got = expect_numeric(name, got)
        if got.size != 1:
            fail(f"your `{name}` returned an array of shape {got.shape}; expected one number.",
                 "average the indicator of 'inside the interval' over all targets.")
        got = float(got.reshape(()))
        z = _z(level)
        right = _coverage(y, mean, z * std)
        wrong = [
            (1 - right, "is the fraction *outside* the interval.", "count the targets inside."),
            (_coverage(y, mean, _z_one_sided(level) * std),
             "uses the level quantile z = Phi^-1(level), a one-sided bound.",
             "a central interval leaves (1 - level) / 2 in each tail: "
             "z = Phi^-1((1 + level) / 2)."),
            (_coverage(y, mean, z * std ** 2), "multiplies z by the variance instead of the "
                                               "standard deviation.", None),
            (_coverage(y, mean, 2.0 * std), "uses z = 2 for every level.",
             "z depends on the level: about 1.28 for 80 % and 1.96 for 95 %."),
            (_coverage(y, mean, z * np.sqrt(std)), "multiplies z by the square root of std.",
             "std is already a standard deviation."),
            (100 * right, "is a percentage.", "return a fraction in [0, 1]."),
        ]
        for value, message, hint in wrong:
            if abs(value - right) > 1e-9 and abs(got - value) < 1e-9:
                fail(f"at level {level}, your `{name}` {message}", hint)
        if abs(got - right) > 1e-9:
            fail(f"at level {level}, your `{name}` is {got:.4f}; expected {right:.4f}.",
                 f"the interval is mean -/+ {z:.4f} * std, ends included.")
    passed("interval_coverage: share of targets in mean -/+ z std, at 80 % and 95 %")


# ---------------------------------------------------------------------------------------------
# A masked readout for a padded batch
# ---------------------------------------------------------------------------------------------


def check_masked_last_state(masked_last_state):
    """Check ``masked_last_state(outputs, lengths) -> (N, H)``: ``outputs[n, lengths[n] - 1]``."""
    __tracebackhide__ = True
    rng = np.random.default_rng(62)
    N, T, H = 4, 6, 3
    outputs = rng.normal(size=(N, T, H))
    lengths = np.array([3, 1, 5, 2])
    name = "masked_last_state(outputs, lengths)"
    got = call_answer("masked_last_state", masked_last_state, outputs, lengths)
    got = expect_shape(name, got, (N, H),
                       hint="one state per row: index row n at time lengths[n] - 1.")
    got = expect_numeric(name, got)
    rows = np.arange(N)
    mask = (np.arange(T)[None, :] < lengths[:, None])[..., None]
    diagnose(name, got, [
        (outputs[:, -1], "reads the last column of the padded batch, a padded step for every "
                         "shorter row.", "use each row's own length: outputs[n, lengths[n] - 1]."),
        (outputs[rows, lengths], "reads one step too late (index lengths[n]), a padded step.",
         "the last real step of a row of length L is at index L - 1."),
        (outputs[rows, lengths - 2], "reads one step too early (index lengths[n] - 2).", None),
        ((outputs * mask).sum(1) / lengths[:, None], "is the mean over the real steps, not the "
                                                     "last state.", None),
        (outputs.mean(1), "is the mean over all steps, padding included.", None),
        (outputs[:, 0], "reads the first step.", None),
    ])
    expect_close(name, got, outputs[rows, lengths - 1])
    full = call_answer("masked_last_state", masked_last_state, outputs, np.full(N, T))
    expect_close("masked_last_state with every row of full length", full, outputs[:, -1])
    passed("masked_last_state: each row's state at its own last real step")


# ---------------------------------------------------------------------------------------------
# One step of additive attention
# ---------------------------------------------------------------------------------------------


def _softmax(e, axis=-1):
    e = e - np.max(e, axis=axis, keepdims=True)
    w = np.exp(e)
    return w / w.sum(axis=axis, keepdims=True)


def check_attention_step(attention_step):
    """Check ``attention_step(s_prev, keys, mask, W_q, W_k, b, v) -> (context, weights)``.

    Shapes: ``s_prev`` (N, Hq), ``keys`` (N, S, Hk), ``mask`` (N, S) bool, ``W_q`` (A, Hq),
    ``W_k`` (A, Hk), ``b`` (A,), ``v`` (A,). Expected: ``e = tanh(s W_q^T + k_j W_k^T + b) v``,
    ``weights = softmax(e)`` over the unmasked positions (0 where masked), and
    ``context = sum_j weights_j k_j`` of shape (N, Hk).
    """
    __tracebackhide__ = True
    rng = np.random.default_rng(63)
    N, S, Hq, Hk, A = 3, 5, 4, 6, 7
    s = rng.normal(size=(N, Hq))
    keys = rng.normal(size=(N, S, Hk))
    mask = np.arange(S)[None, :] < np.array([5, 3, 1])[:, None]
    W_q, W_k = rng.normal(size=(A, Hq)), rng.normal(size=(A, Hk))
    b, v = rng.normal(size=A), rng.normal(size=A)
    result = call_answer("attention_step", attention_step, s, keys, mask, W_q, W_k, b, v)
    if not isinstance(result, tuple | list) or len(result) != 2:
        fail(f"`attention_step` should return a pair (context, weights); got "
             f"{type(result).__name__}.", "end with `return context, weights`.")
    context, weights = result
    weights = expect_shape("weights", weights, (N, S),
                           hint="one weight per (example, source position).")
    weights = expect_numeric("weights", weights)
    context = expect_shape("context", context, (N, Hk),
                           hint="the context is a weighted sum of the keys over the source axis.")
    pre = (s @ W_q.T)[:, None, :] + keys @ W_k.T + b
    e = np.tanh(pre) @ v
    masked = np.where(mask, e, -np.inf)
    w = _softmax(masked)
    diagnose("weights", weights, [
        (_softmax(e), "give weight to padded positions: the mask is not applied.",
         "set the scores of masked positions to -inf before the softmax."),
        (_softmax(np.where(mask, pre @ v, -np.inf)), "leave out the tanh.",
         "e_j = v . tanh(W_q s + W_k k_j + b)."),
        (np.where(mask, _softmax(np.where(mask, e, -np.inf), axis=0), 0),
         "are normalised over the batch axis.", "the softmax runs over the source positions."),
        (np.where(mask, e, 0), "are the raw scores: the softmax is missing.", None),
        (_softmax(np.where(mask, np.tanh((s @ W_q.T)[:, None, :] + keys @ W_k.T) @ v, -np.inf)),
         "leave out the bias b.", None),
    ])
    expect_close("weights", weights, w)
    expected_context = np.einsum("ns,nsh->nh", w, keys)
    context = expect_numeric("context", context)
    diagnose("context", context, [
        (keys.mean(axis=1), "is the plain mean of the keys (padding included).",
         "weight each key by its attention weight."),
        (np.einsum("ns,nsh->nh", np.where(mask, e, 0), keys), "weights the keys by the raw "
                                                             "scores, not the softmax weights.",
         None),
    ])
    expect_close("context", context, expected_context)
    passed("attention_step: masked softmax of additive scores, weighted sum of keys")
