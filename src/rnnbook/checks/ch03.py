"""Checks for the exercises of Chapter 3, Formulas.

Each ``check_*`` function takes the learner's answer (a function), calls it on small inputs of
known answer, and either prints one ``passed: ...`` line or raises :class:`CheckFailed` with a
message that says what is wrong and, where a typical mistake can be recognised (a missing tanh,
a transposed weight, a mean instead of a sum), what to look at.

Shapes follow the book's notation: batch-major arrays ``x`` (N, T, D), states (N, H), weights
stored as (out_features, in_features): ``W_xh`` (H, D), ``W_hh`` (H, H), ``W_hy`` (M, H).
"""

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
from rnnbook.checks.ch01 import FLOAT32_TOL

__all__ = [
    "check_batched_shapes",
    "check_halving_radius",
    "check_linear_rnn_matrix",
    "check_output_layer",
    "check_rnn_step",
    "check_sequence_loss",
    "check_stacked_parameter_count",
]


def _rng(seed):
    return np.random.default_rng(seed)


def _expect_shape(name, value, shape, hint):
    """expect_shape, but a transposed answer gets the core's "it looks transposed" hint."""
    __tracebackhide__ = True
    got = tuple(as_array(name, value).shape)
    transposed = len(got) == len(shape) == 2 and got == tuple(shape)[::-1]
    return expect_shape(name, value, shape, None if transposed else hint)


def _softmax(s, axis=-1):
    shifted = s - s.max(axis=axis, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=axis, keepdims=True)


# ---------------------------------------------------------------------------------------------
# One RNN step, batch-major
# ---------------------------------------------------------------------------------------------


def check_rnn_step(rnn_step):
    """Check ``rnn_step(x, h_prev, W_xh, W_hh, b_h) -> h_next`` of shape (N, H).

    Expected: ``tanh(x @ W_xh.T + h_prev @ W_hh.T + b_h)`` with ``x`` (N, D), ``h_prev`` (N, H).
    """
    __tracebackhide__ = True
    rng = _rng(30)
    N, D, H = 4, 3, 5
    x, h_prev = rng.normal(size=(N, D)), rng.normal(size=(N, H))
    W_xh, W_hh, b_h = rng.normal(size=(H, D)), rng.normal(size=(H, H)), rng.normal(size=H)
    name = "rnn_step(x, h_prev, W_xh, W_hh, b_h)"
    out = call_answer("rnn_step", rnn_step, x, h_prev, W_xh, W_hh, b_h)
    out = _expect_shape(name, out, (N, H),
                       hint="with x of shape (N, D) the batch-major product is x @ W_xh.T, "
                            "of shape (N, H); the state keeps one row per example.")
    out = expect_numeric(name, out)
    a = x @ W_xh.T + h_prev @ W_hh.T + b_h
    diagnose(name, out, [
        (a, "is the pre-activation a_t: the tanh is missing.",
         "h_t = tanh(a_t); without the nonlinearity the network collapses to one linear map."),
        (np.tanh(x @ W_xh.T + h_prev @ W_hh.T),
         "leaves out the bias b_h.", "add b_h (shape (H,)); broadcasting adds it to every row."),
        (np.tanh(x @ W_xh.T + h_prev @ W_hh + b_h),
         "multiplies the state by W_hh instead of W_hh.T.",
         "batch-major code computes h_prev @ W_hh.T (each row is a state h^T)."),
        (np.tanh(x @ W_xh.T + b_h),
         "ignores the previous state h_prev.", "the recurrence adds h_prev @ W_hh.T."),
        (np.tanh(x @ W_xh.T + b_h) + h_prev @ W_hh.T,
         "applies tanh before adding the recurrent term.",
         "tanh acts on the whole pre-activation a_t = x W_xh^T + h W_hh^T + b_h."),
    ])
    expect_close(name, out, np.tanh(a), rtol=1e-6, atol=1e-8)
    single = call_answer("rnn_step", rnn_step, x[:1], h_prev[:1], W_xh, W_hh, b_h)
    expect_close("rnn_step on a batch of one", single, np.tanh(a[:1]), rtol=1e-6, atol=1e-8,
                 hint="a batch of N = 1 must give shape (1, H); do not squeeze the batch axis.")
    passed("rnn_step: values and shape (N, H) are right")


# ---------------------------------------------------------------------------------------------
# Output layer and softmax over time
# ---------------------------------------------------------------------------------------------


def check_output_layer(output_layer):
    """Check ``output_layer(h, W_hy, b_y) -> (scores, y_hat)``, both of shape (N, T, M).

    Expected: ``scores = h @ W_hy.T + b_y`` and ``y_hat = softmax(scores)`` over the last axis,
    computed without overflow for large scores.
    """
    __tracebackhide__ = True
    rng = _rng(31)
    N, T, H, M = 2, 3, 4, 5
    h = np.tanh(rng.normal(size=(N, T, H)))
    W_hy, b_y = rng.normal(size=(M, H)), rng.normal(size=M)
    result = call_answer("output_layer", output_layer, h, W_hy, b_y)
    if not isinstance(result, tuple | list) or len(result) != 2:
        fail(f"`output_layer` should return a pair (scores, y_hat); got {type(result).__name__}.",
             "end the function with `return scores, y_hat`.")
    scores, y_hat = result
    scores = expect_shape("scores", scores, (N, T, M),
                          hint="h has shape (N, T, H); h @ W_hy.T acts on the last axis and "
                               "gives (N, T, M).")
    y_hat = expect_shape("y_hat", y_hat, (N, T, M))
    expected_scores = h @ W_hy.T + b_y
    diagnose("scores", scores, [
        (h @ W_hy.T, "leaves out the bias b_y.", "add b_y of shape (M,)."),
    ])
    expect_close("scores", scores, expected_scores)
    y_hat = expect_numeric("y_hat", y_hat)
    diagnose("y_hat", y_hat, [
        (expected_scores, "equals the scores: the softmax is missing.", None),
        (_softmax(expected_scores, axis=1), "normalises over the time axis (axis 1).",
         "the softmax runs over the classes, the last axis: keepdims=True and axis=-1."),
        (_softmax(expected_scores, axis=0), "normalises over the batch axis (axis 0).",
         "the softmax runs over the classes, the last axis."),
    ])
    expect_close("y_hat", y_hat, _softmax(expected_scores))
    big = call_answer("output_layer", output_layer, h, 1000.0 * W_hy, b_y)[1]
    big = expect_numeric("y_hat for scores in the thousands", big,
                         hint="exp(1000) overflows: subtract each row's maximum score before "
                              "exponentiating (softmax(s - c) = softmax(s)); one maximum for the "
                              "whole array (s.max()) leaves rows far below it as 0 / 0.")
    expect_close("y_hat for scores in the thousands", big,
                 _softmax(h @ (1000.0 * W_hy).T + b_y))
    passed("output_layer: scores and a stable softmax over the classes")


# ---------------------------------------------------------------------------------------------
# Masked loss over time
# ---------------------------------------------------------------------------------------------


def _nll(scores, targets):
    log_probs = np.log(_softmax(scores))
    safe = np.where(targets >= 0, targets, 0)
    return -np.take_along_axis(log_probs, safe[..., None], axis=-1)[..., 0]


def check_sequence_loss(sequence_loss):
    """Check ``sequence_loss(scores, targets, mask) -> float``.

    Expected: ``(1 / N) * sum over n, t of mask[n, t] * ell[n, t]`` with
    ``ell[n, t] = -log softmax(scores[n, t])[targets[n, t]]``, ``scores`` (N, T, M), ``targets``
    (N, T) integers (anything, e.g. -1, where the mask is 0) and ``mask`` (N, T) of 0/1.
    """
    __tracebackhide__ = True
    rng = _rng(32)
    N, T, M = 3, 4, 5
    scores = rng.normal(size=(N, T, M))
    lengths = np.array([4, 2, 3])
    mask = (np.arange(T)[None, :] < lengths[:, None]).astype(float)
    targets = np.where(mask > 0, rng.integers(0, M, size=(N, T)), -1)
    nll = _nll(scores, targets)
    nll_last = _nll(scores, np.where(mask > 0, targets, M - 1))   # what index -1 picks
    expected = float((nll * mask).sum() / N)
    name = "sequence_loss(scores, targets, mask)"
    value = call_answer("sequence_loss", sequence_loss, scores, targets, mask)
    value = as_array(name, value)
    if value.size != 1:
        fail(f"your `{name}` has shape {value.shape}; expected one number.",
             "sum over the steps, then average over the sequences of the batch.")
    value = expect_numeric(name, value.reshape(()))
    diagnose(name, value, [
        ((nll * mask).sum() / mask.sum(), "averages over the unmasked steps instead of the N "
         "sequences.", "the book's loss sums over time and averages over the batch: divide by N."),
        ((nll * mask).sum(), "is the total over the batch; it should be averaged over the N "
         "sequences.", "divide by N."),
        (nll.sum() / N, "includes the padded steps.", "multiply each step's loss by the mask."),
        (nll_last.sum() / N, "includes the padded steps.",
         "multiply each step's loss by the mask."),
        ((nll * mask).sum() / (N * T), "divides by N * T.",
         "the loss of a sequence is the sum over its steps; only the batch is averaged."),
        (-(nll * mask).sum() / N, "has the wrong sign.", "the loss is -log of the probability."),
    ])
    expect_close(name, value, expected, **FLOAT32_TOL)
    _check_mask_is_read(sequence_loss, rng)
    shifted = scores + 800.0
    big = call_answer("sequence_loss", sequence_loss, shifted, targets, mask)
    expect_close(f"{name} with every score raised by 800", big, expected, **FLOAT32_TOL,
                 hint="adding a constant to all scores of a step does not change the softmax; "
                      "compute log-softmax as s - max(s) - log(sum(exp(s - max(s)))).")
    for probe in SEQUENCE_LOSS_PROBES:
        _check_loss_probe(sequence_loss, **probe)
    passed("sequence_loss: masked, summed over time, averaged over the batch")


def _check_mask_is_read(sequence_loss, rng):
    """Masked steps that hold a valid class id (0, as with a padding id of 0), and a real step
    hidden by the mask: an answer that takes its mask from ``targets`` (``ignore_index``,
    ``targets >= 0``) instead of reading ``mask`` gets these wrong."""
    __tracebackhide__ = True
    scores = rng.normal(size=(2, 3, 4))
    targets = np.array([[1, 2, 0], [3, 0, 1]])
    mask = np.array([[1.0, 1.0, 0.0], [1.0, 0.0, 1.0]])
    nll = _stable_nll(scores, targets)
    name = "sequence_loss on padding that holds the class id 0"
    value = call_answer("sequence_loss", sequence_loss, scores, targets, mask)
    value = expect_numeric(name, as_array(name, value).reshape(-1)[:1].reshape(()))
    diagnose(name, value, [
        (nll.sum() / 2, "ignores `mask`: it uses the padding value of `targets` instead.",
         "multiply each step's loss by mask[n, t]; where the mask is 0 the target may be any "
         "class id, 0 included."),
    ], expected=(nll * mask).sum() / 2, **FLOAT32_TOL)
    expect_close(name, value, (nll * mask).sum() / 2, **FLOAT32_TOL,
                 hint="multiply each step's loss by mask[n, t], whatever targets holds there.")


def _stable_nll(scores, targets):
    """-log softmax(scores)[target] per step, with each step's own maximum subtracted."""
    shifted = scores - scores.max(axis=-1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    safe = np.where(targets >= 0, targets, 0)
    return -np.take_along_axis(log_probs, safe[..., None], axis=-1)[..., 0]


#: Inputs on which the common unstable answers break (see the message of each): a spread of
#: 1000 *within* one step, two steps whose scales differ by 3000, and a spread of 2000 around 0
#: (which a shift by the mean, rather than the maximum, does not survive).
SEQUENCE_LOSS_PROBES = (
    {"scores": [[[0.0, 1000.0, 0.5]]], "targets": [[0]], "mask": [[1.0]],
     "what": "a step whose scores spread over 1000 (scores [0, 1000, 0.5], target 0)",
     "message": "this looks like the log of a probability that underflowed to 0 "
                "(np.log(softmax(s)) gives -log(0) = inf although the loss is finite, 1000), "
                "or a shift by something below the step's maximum (its minimum, its first "
                "score), whose exp(1000) overflows.",
     "hint": "never take np.log of a softmax; compute the log-softmax directly, "
             "log_probs = s - m - log(sum(exp(s - m))) with m the maximum of each step."},
    {"scores": [[[1000.0, 999.0, 998.0], [-2000.0, -1999.0, -2001.0]]], "targets": [[0, 1]],
     "mask": [[1.0, 1.0]],
     "what": "two steps of very different scale (scores near +1000, then near -2000)",
     "message": "this looks like a shift by one maximum for the whole array (scores.max()): "
                "the step far below it underflows, exp(-3000) = 0 and log(0) = -inf.",
     "hint": "shift every step by its own maximum, scores.max(axis=-1, keepdims=True)."},
    {"scores": [[[-1000.0, 1000.0, 0.0]]], "targets": [[0]], "mask": [[1.0]],
     "what": "a step whose scores spread over 2000 around 0 (scores [-1000, 1000, 0], target 0)",
     "message": "this looks like a shift by each step's mean (or another constant below its "
                "maximum): s - mean(s) still reaches 1000 here, and exp(1000) overflows.",
     "hint": "only the maximum is safe: after subtracting it every exponent is at most 0; "
             "use scores.max(axis=-1, keepdims=True)."},
)


def _check_loss_probe(sequence_loss, scores, targets, mask, what, message, hint):
    __tracebackhide__ = True
    scores, targets, mask = np.asarray(scores), np.asarray(targets), np.asarray(mask)
    expected = float((_stable_nll(scores, targets) * mask).sum() / scores.shape[0])
    with np.errstate(all="ignore"):
        got = call_answer("sequence_loss", sequence_loss, scores, targets, mask)
        got = as_array("sequence_loss", got)
        value = float(got.reshape(-1)[0]) if got.size == 1 else np.nan
    close = abs(value - expected) <= FLOAT32_TOL["rtol"] * abs(expected) + FLOAT32_TOL["atol"]
    if not (np.isfinite(value) and close):
        fail(f"your `sequence_loss` gives {value:.6g} on {what}; expected {expected:.6g}: "
             f"{message}", hint)


# ---------------------------------------------------------------------------------------------
# Parameter count of a stacked, bidirectional RNN
# ---------------------------------------------------------------------------------------------


def stacked_count(D, H, L, bidirectional):
    """Trainable parameters of ``torch.nn.RNN(D, H, num_layers=L, bidirectional=...)``."""
    dirs = 2 if bidirectional else 1
    total = 0
    for layer in range(L):
        d_in = D if layer == 0 else dirs * H
        total += dirs * (H * d_in + H * H + 2 * H)
    return total


def _stacked_wrong(D, H, L, bidirectional):
    """Plausible wrong counts, each with the message that names the slip."""
    dirs = 2 if bidirectional else 1
    one_dir = sum(H * (D if layer == 0 else H) + H * H + 2 * H for layer in range(L))
    return {
        dirs * sum(H * D + H * H + 2 * H for _ in range(L)):
            "gives every layer the input size D; layer l > 0 reads the states of the layer "
            "below, of size H (2H when bidirectional).",
        dirs * sum(H * (D if layer == 0 else H) + H * H + 2 * H for layer in range(L)):
            "gives layer l > 0 the input size H; with two directions it reads both, "
            "concatenated: 2H.",
        sum(H * (D if layer == 0 else dirs * H) + H * H + 2 * H for layer in range(L)):
            "counts one direction per layer; a bidirectional layer has its own weights for "
            "each direction (the `_reverse` parameters).",
        one_dir:
            "ignores bidirectional: it is the count of a one-direction stack; a bidirectional "
            "layer has its own weights for each direction (the `_reverse` parameters).",
        sum(dirs * (H * (D if layer == 0 else dirs * H) + H * H + H) for layer in range(L)):
            "counts one bias per direction and layer; torch.nn.RNN keeps two, bias_ih and "
            "bias_hh, of H entries each.",
        dirs * (H * D + H * H + 2 * H):
            "counts the first layer only; num_layers stacks L layers.",
    }


STACKED_CASES = ((3, 4, 1, True), (3, 4, 2, False), (3, 4, 2, True), (5, 2, 3, True),
                 (4, 3, 3, False))


def check_stacked_parameter_count(stacked_rnn_parameter_count):
    """Check ``stacked_rnn_parameter_count(D, H, L, bidirectional) -> int``, the number of
    trainable parameters of ``torch.nn.RNN(D, H, num_layers=L, bidirectional=bidirectional)``.

    Per layer and direction: ``H * D_l + H * H + 2 * H`` with ``D_0 = D`` and ``D_l = H`` (one
    direction) or ``2 * H`` (bidirectional) for ``l > 0``.
    """
    __tracebackhide__ = True
    for D, H, L, bidirectional in STACKED_CASES:
        name = f"stacked_rnn_parameter_count({D}, {H}, {L}, bidirectional={bidirectional})"
        got = call_answer("stacked_rnn_parameter_count", stacked_rnn_parameter_count,
                          D, H, L, bidirectional)
        if not isinstance(got, int | np.integer) or isinstance(got, bool):
            fail(f"your `{name}` is {got!r}; expected an integer.",
                 "count with integer arithmetic (no division).")
        expected = stacked_count(D, H, L, bidirectional)
        if got == expected:
            continue
        wrong = {value: message for value, message in _stacked_wrong(D, H, L, bidirectional)
                 .items() if value != expected}
        fail(f"your `{name}` is {got}; expected {expected}.",
             wrong.get(got, "per layer and direction: W_ih (H x D_l), W_hh (H x H) and two "
                            "biases of H, with D_0 = D and D_l = H or 2H for l > 0."))
    passed("stacked_rnn_parameter_count matches torch.nn.RNN")


# ---------------------------------------------------------------------------------------------
# Spectral radius for a given half-life
# ---------------------------------------------------------------------------------------------


_NOT_GIVEN = object()


def check_halving_radius(halving_radius, rho_10=_NOT_GIVEN, c_limit=_NOT_GIVEN):
    """Check ``halving_radius(k) -> float``: rho with rho ** k == 1 / 2.

    With ``rho_10`` (the radius for k = 10) and ``c_limit`` (the constant c with
    ``1 - rho ≈ c / k`` for large k, that is ln 2), check those answers too; passing them as
    ``None`` (not yet set) fails.
    """
    __tracebackhide__ = True
    for label, value in (("rho_10", rho_10), ("c_limit", c_limit)):
        if value is None:
            fail(f"`{label}` is not set yet (it is None).",
                 "assign the number to it in the answer cell.")
    rho_10 = None if rho_10 is _NOT_GIVEN else rho_10
    c_limit = None if c_limit is _NOT_GIVEN else c_limit
    for k in (1, 5, 20):
        name = f"halving_radius({k})"
        got = expect_numeric(name, as_array(name, call_answer("halving_radius", halving_radius,
                                                              k)))
        if got.size != 1:
            fail(f"your `{name}` has shape {got.shape}; expected one number.")
        got = float(got.reshape(()))
        expected = 0.5 ** (1 / k)
        wrongs = {0.5 ** k: "is 0.5 ** k: that is the factor after k steps, not per step.",
                  0.5 / k: "is 0.5 / k: the decay is geometric (a product), not linear.",
                  1 - 0.5 / k: "is 1 - 0.5 / k: only a first-order approximation.",
                  1 - np.log(2) / k: "is 1 - ln(2) / k: that is the large-k approximation, "
                                     "not the exact radius.",
                  2 ** (1 / k): "is larger than 1: that radius doubles the norm."}
        for value, message in wrongs.items():
            if np.isclose(got, value, rtol=1e-6, atol=0) and \
                    not np.isclose(value, expected, rtol=1e-6, atol=0):
                fail(f"your `{name}` {message}",
                     "after k steps the norm is rho ** k times its start; solve rho ** k = 1/2.")
        if not np.isclose(got, expected, **FLOAT32_TOL):
            fail(f"your `{name}` is {got:.10g}; expected {expected:.10g}.",
                 "after k steps the norm is rho ** k times its start; solve rho ** k = 1/2.")
    if rho_10 is not None:
        got = float(expect_numeric("rho_10", as_array("rho_10", rho_10)).reshape(-1)[0])
        if abs(got - 0.5 ** 0.1) > 5e-4:
            hint = ("rho_10 is halving_radius(10), about 0.933." if abs(got - 0.5 ** 10) > 1e-6
                    else "0.5 ** 10 is the factor after ten steps; you want the factor per step.")
            fail(f"your `rho_10` is {got:.6g}; expected {0.5 ** 0.1:.4f}.", hint)
    if c_limit is not None:
        got = float(expect_numeric("c_limit", as_array("c_limit", c_limit)).reshape(-1)[0])
        wrong_c = {0.5: "is 0.5: that is the constant of 1 - 0.5 / k, which is not the limit.",
                   1 / np.log(2): "is 1 / ln 2: the constant is ln 2 itself.",
                   np.log10(2): "is log10(2): rho ** k = 1/2 gives k ln(rho) = -ln 2, with the "
                                "natural logarithm."}
        for value, message in wrong_c.items():
            if abs(got - value) < 1e-3:
                fail(f"your `c_limit` {message}",
                     "ln(rho) = -ln(2) / k and ln(rho) ≈ rho - 1 near 1, so k (1 - rho) -> ln 2.")
        if abs(got - np.log(2)) > 1e-3:
            fail(f"your `c_limit` is {got:.6g}; expected {np.log(2):.6g}.",
                 "ln(rho) = -ln(2) / k and ln(rho) ≈ rho - 1 near 1, so k (1 - rho) -> ln 2.")
    passed("halving_radius(k): the norm halves every k steps")


# ---------------------------------------------------------------------------------------------
# A linear RNN is one matrix
# ---------------------------------------------------------------------------------------------


def _blocks(W_xh, W_hh, T, powers):
    return np.concatenate([np.linalg.matrix_power(W_hh, p) @ W_xh for p in powers], axis=1)


def check_linear_rnn_matrix(linear_rnn_matrix):
    """Check ``linear_rnn_matrix(W_xh, W_hh, T) -> A`` of shape (H, T * D).

    For ``h_t = W_hh h_{t-1} + W_xh x_t`` with ``h_0 = 0``: ``h_T = A @ concat(x_1, ..., x_T)``,
    so ``A = [W_hh^(T-1) W_xh, ..., W_hh W_xh, W_xh]``.
    """
    __tracebackhide__ = True
    rng = _rng(33)
    H, D, T = 4, 2, 3
    W_xh, W_hh = rng.normal(size=(H, D)), 0.5 * rng.normal(size=(H, H))
    name = f"linear_rnn_matrix(W_xh, W_hh, T={T})"
    A = call_answer("linear_rnn_matrix", linear_rnn_matrix, W_xh, W_hh, T)
    A = _expect_shape(name, A, (H, T * D),
                     hint="A maps the T stacked inputs (T * D numbers) to h_T (H numbers).")
    A = expect_numeric(name, A)
    expected = _blocks(W_xh, W_hh, T, range(T - 1, -1, -1))
    diagnose(name, A, [
        (_blocks(W_xh, W_hh, T, range(T)), "has its blocks in reverse order.",
         "x_1 passes through T - 1 recurrent steps, so its block is W_hh^(T-1) W_xh; the last "
         "input's block is W_xh itself."),
        (_blocks(W_xh, W_hh, T, range(T, 0, -1)), "has every power of W_hh one too high.",
         "x_T enters at the last step and is never multiplied by W_hh."),
        (_blocks(W_xh, W_hh.T, T, range(T - 1, -1, -1)), "uses W_hh transposed.",
         "in the column-vector equations h_t = W_hh h_{t-1} + W_xh x_t the weights act from "
         "the left, untransposed."),
    ])
    expect_close(name, A, expected)
    passed("linear_rnn_matrix: h_T = A @ concat(x_1, ..., x_T)")


# ---------------------------------------------------------------------------------------------
# Shapes of the batched form
# ---------------------------------------------------------------------------------------------

SHAPE_KEYS = ("x", "h0", "W_xh", "W_hh", "b_h", "h", "W_hy", "b_y", "scores", "targets", "loss")


def _expected_shapes(N, T, D, H, M):
    return {"x": (N, T, D), "h0": (N, H), "W_xh": (H, D), "W_hh": (H, H), "b_h": (H,),
            "h": (N, T, H), "W_hy": (M, H), "b_y": (M,), "scores": (N, T, M),
            "targets": (N, T), "loss": ()}


def check_batched_shapes(batched_shapes):
    """Check ``batched_shapes(N, T, D, H, M) -> dict`` mapping each name of
    :data:`SHAPE_KEYS` to its shape as a tuple of ints, in the batch-major layout of the book."""
    __tracebackhide__ = True
    N, T, D, H, M = 2, 3, 5, 7, 11
    got = call_answer("batched_shapes", batched_shapes, N, T, D, H, M)
    if not isinstance(got, dict):
        fail(f"`batched_shapes` should return a dict; got {type(got).__name__}.")
    missing = [k for k in SHAPE_KEYS if k not in got]
    extra = [k for k in got if k not in SHAPE_KEYS]
    if missing or extra:
        fail(f"your dict's keys differ: missing {missing}, unexpected {extra}.",
             f"use exactly the keys {list(SHAPE_KEYS)}.")
    expected = _expected_shapes(N, T, D, H, M)
    for key in SHAPE_KEYS:
        value = got[key]
        try:
            shape = tuple(int(n) for n in value)
        except TypeError:
            fail(f"`{key}` should be a tuple of ints such as (N, T, D); got {value!r}.",
                 "a scalar's shape is the empty tuple ().")
        if shape != expected[key]:
            hint = None
            if shape == expected[key][::-1] and len(shape) == 2:
                hint = ("weights are stored as (out_features, in_features)."
                        if key.startswith("W") else "the arrays are batch-major: batch first.")
            elif key in ("x", "h", "scores", "targets") and len(shape) == len(expected[key]):
                hint = "batch-major: (N, T, ...), the batch first, then time."
            elif key == "loss":
                hint = "the loss is one number (a mean over the batch): shape ()."
            fail(f"`{key}`: your shape {shape}; expected {expected[key]} for N={N}, T={T}, "
                 f"D={D}, H={H}, M={M}.", hint)
    passed("batched_shapes: every quantity has its batch-major shape")
