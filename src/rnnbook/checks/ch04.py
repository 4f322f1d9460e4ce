"""Checks for the exercises of Chapter 4, Backpropagation through time.

Each ``check_*`` function takes the learner's answer (a function), calls it on small float64
inputs whose answer it computes itself, and either prints one ``passed: ...`` line or raises
:class:`CheckFailed`. Where a typical slip can be recognised (a missing transpose, the tanh
derivative taken at the wrong step, the path through ``h_{t+1}`` dropped, a gradient that is not
summed over time, a token mean instead of the book's sum over time), the message names it.

Shapes follow the book's notation, batch-major: ``x`` (N, T, D), states (N, H), ``W_xh`` (H, D),
``W_hh`` (H, H), ``b`` (H,), ``W_hy`` (M, H), ``b_y`` (M,).

Every check calls the answer through :func:`call_unchanged` (the book's one policy): an answer
that changes one of its arguments fails with the argument's name before any value is judged, and
the expected values always come from the untouched originals.
"""

import numpy as np

from rnnbook.checks._core import (
    CheckFailed,
    _distinct,
    as_array,
    call_answer,
    call_unchanged,
    diagnose,
    expect_close,
    expect_numeric,
    expect_shape,
    fail,
    passed,
)
from rnnbook.scratch.gradcheck import numerical_gradient as central_difference
from rnnbook.scratch.gradcheck import relative_error

__all__ = [
    "check_bptt_with_output",
    "check_clip_global_norm",
    "check_grad_h0",
    "check_jacobian_norms_by_k",
    "check_numerical_gradient",
    "check_rnn_step_backward",
    "check_truncated_grad_W_hh",
]


def _rng(seed):
    return np.random.default_rng(seed)


def _diagnose(name, value, wrong_answers):
    """:func:`diagnose` at this chapter's tolerance (gradients compared to 1e-9)."""
    __tracebackhide__ = True
    diagnose(name, value, wrong_answers, atol=1e-9)


def _float32_atol(expected):
    """The absolute tolerance of the gradient checks: 1e-5 of the largest entry of ``expected``
    (any shape), plus 1e-10. A float32 answer (rounding 6e-8) is wrong by a part of the size of
    the terms it sums, not of each result, so an entry that cancels to near 0 needs this slack;
    the hidden tests use the same tolerance."""
    return 1e-5 * float(np.max(np.abs(expected), initial=0.0)) + 1e-10


def _tuple(name, result, n, names):
    __tracebackhide__ = True
    if not isinstance(result, tuple | list) or len(result) != n:
        fail(f"`{name}` should return a tuple of {n} arrays ({', '.join(names)}); got "
             f"{type(result).__name__}.", f"end the function with `return {', '.join(names)}`.")
    return result


def _params(rng, D, H, rho=0.9):
    W_xh = rng.normal(size=(H, D)) / np.sqrt(D)
    W = rng.normal(size=(H, H))
    W_hh = W * rho / np.max(np.abs(np.linalg.eigvals(W)))
    return W_xh, W_hh, rng.normal(size=H) * 0.2


def _forward(x, h0, W_xh, W_hh, b, reset_every=None):
    """States (N, T + 1, H) including h0; with ``reset_every`` the state restarts from h0."""
    N, T, _ = x.shape
    h = [h0]
    for t in range(T):
        prev = h0 if reset_every and t % reset_every == 0 else h[-1]
        h.append(np.tanh(x[:, t] @ W_xh.T + prev @ W_hh.T + b))
    return np.stack(h, axis=1)


def _backward(x, hs, W_xh, W_hh, dh, recurrent=True, prev=None, cut=None):
    """Reference BPTT given all states hs (N, T + 1, H) and the direct gradients dh (N, T, H).

    ``recurrent=False`` drops the path through h_{t+1}; ``cut`` (a chunk length) drops the
    gradient across chunk boundaries; ``prev`` replaces the h_{t-1} used in dW_hh.
    Returns (dx, dh0, dW_xh, dW_hh, db, deltas).
    """
    N, T, _ = x.shape
    prev = hs[:, :-1] if prev is None else prev
    dW_xh, dW_hh, db = np.zeros_like(W_xh), np.zeros_like(W_hh), np.zeros(W_hh.shape[0])
    dx = np.zeros_like(x)
    carry = np.zeros_like(hs[:, 0])
    deltas = np.zeros_like(dh)
    for t in reversed(range(T)):
        total = dh[:, t] + (carry if recurrent else 0.0)
        delta = total * (1 - hs[:, t + 1] ** 2)
        deltas[:, t] = delta
        dW_xh += delta.T @ x[:, t]
        dW_hh += delta.T @ prev[:, t]
        db += delta.sum(axis=0)
        dx[:, t] = delta @ W_xh
        carry = delta @ W_hh
        if cut and t % cut == 0:
            carry = np.zeros_like(carry)
            if t == 0:
                carry = delta @ W_hh
    return dx, carry, dW_xh, dW_hh, db, deltas


# ---------------------------------------------------------------------------------------------
# 1. One step backward
# ---------------------------------------------------------------------------------------------


def check_rnn_step_backward(rnn_step_backward):
    """Check ``rnn_step_backward(dh_next, x, h_prev, h_next, W_xh, W_hh)``.

    Expected, with ``da = dh_next * (1 - h_next**2)``: ``(da @ W_xh, da @ W_hh, da.T @ x,
    da.T @ h_prev, da.sum(axis=0))`` of shapes (N, D), (N, H), (H, D), (H, H), (H,).
    """
    __tracebackhide__ = True
    rng = _rng(40)
    N, D, H = 3, 4, 5
    x, h_prev = rng.normal(size=(N, D)), np.tanh(rng.normal(size=(N, H)))
    W_xh, W_hh, b = _params(rng, D, H)
    h_next = np.tanh(x @ W_xh.T + h_prev @ W_hh.T + b)
    dh_next = rng.normal(size=(N, H))
    names = ("dx", "dh_prev", "dW_xh", "dW_hh", "db")
    result = call_unchanged("rnn_step_backward", rnn_step_backward,
                            ["dh_next", "x", "h_prev", "h_next", "W_xh", "W_hh"],
                            dh_next, x, h_prev, h_next, W_xh, W_hh)
    result = _tuple("rnn_step_backward", result, 5, names)
    da = dh_next * (1 - h_next**2)
    expected = (da @ W_xh, da @ W_hh, da.T @ x, da.T @ h_prev, da.sum(axis=0))
    no_deriv = dh_next
    bad_deriv = dh_next * (1 - h_prev**2)
    for name, value, exp in zip(names, result, expected, strict=True):
        value = expect_shape(name, value, exp.shape,
                             hint="db sums over the batch: shape (H,)." if name == "db" else None)
        value = expect_numeric(name, value)
        _diagnose(name, value, [
            ({"dx": no_deriv @ W_xh, "dh_prev": no_deriv @ W_hh, "dW_xh": no_deriv.T @ x,
              "dW_hh": no_deriv.T @ h_prev, "db": no_deriv.sum(0)}[name],
             "leaves out the derivative of tanh.",
             "first compute da = dh_next * (1 - h_next**2): the gradient of the pre-activation."),
            ({"dx": bad_deriv @ W_xh, "dh_prev": bad_deriv @ W_hh, "dW_xh": bad_deriv.T @ x,
              "dW_hh": bad_deriv.T @ h_prev, "db": bad_deriv.sum(0)}[name],
             "takes the tanh derivative at h_prev.",
             "h_next = tanh(a), so tanh'(a) = 1 - h_next**2, from the output of this step."),
        ])
        if name == "dh_prev":
            _diagnose(name, value, [(da @ W_hh.T, "multiplies by W_hh.T: a missing transpose "
                                     "the other way.", "the forward pass computes h_prev @ "
                                     "W_hh.T, so the gradient is da @ W_hh (no .T).")])
        if name == "dW_hh":
            _diagnose(name, value, [
                (h_prev.T @ da, "is transposed.",
                 "dW_hh has W_hh's layout (out, in): da.T @ h_prev, rows for the outputs."),
                (da.T @ h_next, "uses h_next; W_hh multiplies the previous state.",
                 "dW_hh = da.T @ h_prev."),
            ])
        expect_close(name, value, exp, rtol=1e-5, atol=_float32_atol(exp))
    passed("rnn_step_backward: all five gradients and their shapes are right")


# ---------------------------------------------------------------------------------------------
# 2. Full BPTT of a sequence with an output layer
# ---------------------------------------------------------------------------------------------

_PARAM_NAMES = ("W_xh", "W_hh", "b_h", "W_hy", "b_y")
_LM_ARGS = ("x", "targets", "h0", "W_xh", "W_hh", "b_h", "W_hy", "b_y")


def _lm_case(seed):
    rng = _rng(seed)
    N, T, D, H, M = 3, 5, 2, 4, 3
    x = rng.normal(size=(N, T, D))
    targets = rng.integers(0, M, size=(N, T))
    h0 = np.tanh(rng.normal(size=(N, H)))
    W_xh, W_hh, b_h = _params(rng, D, H)
    W_hy, b_y = rng.normal(size=(M, H)) / np.sqrt(H), rng.normal(size=M) * 0.1
    return x, targets, h0, W_xh, W_hh, b_h, W_hy, b_y


def lm_gradients(x, targets, h0, W_xh, W_hh, b_h, W_hy, b_y, *, variant=None):
    """Reference gradients of the loss summed over time and averaged over the batch.

    ``variant`` gives a known wrong answer: "no_recurrent", "last_step", "token_mean",
    "batch_sum", "h_t_in_dW_hh".
    """
    N, T, _ = x.shape
    M = W_hy.shape[0]
    hs = _forward(x, h0, W_xh, W_hh, b_h)
    scores = hs[:, 1:] @ W_hy.T + b_y
    p = np.exp(scores - scores.max(axis=-1, keepdims=True))
    p /= p.sum(axis=-1, keepdims=True)
    ds = (p - np.eye(M)[targets]) / N
    if variant == "token_mean":
        ds = ds / T
    if variant == "batch_sum":
        ds = ds * N
    if variant == "last_step":
        ds = ds.copy()
        ds[:, :-1] = 0.0
    dh = ds @ W_hy
    prev = hs[:, 1:] if variant == "h_t_in_dW_hh" else None
    _, _, dW_xh, dW_hh, db_h, _ = _backward(x, hs, W_xh, W_hh, dh,
                                            recurrent=variant != "no_recurrent", prev=prev)
    dW_hy = np.einsum("ntm,nth->mh", ds, hs[:, 1:])
    return {"W_xh": dW_xh, "W_hh": dW_hh, "b_h": db_h, "W_hy": dW_hy, "b_y": ds.sum(axis=(0, 1))}


_LM_WRONG = {
    "no_recurrent": ("drops the path through h_(t+1): dL/dh_t is more than W_hy.T (y_hat_t - y_t).",
                     "add W_hh.T delta_(t+1), carried back from the step after (batch-major: "
                     "delta_next @ W_hh), before multiplying by 1 - h_t**2."),
    "last_step": ("keeps the last step only; the weights are shared, so their gradient is "
                  "summed over all time steps.", "accumulate the contribution of every step."),
    "token_mean": ("is the gradient of the mean over tokens, T times too small.",
                   "the loss sums over time and averages over the batch only."),
    "batch_sum": ("is N times too large: the loss averages over the batch.",
                  "divide the output gradient y_hat - y by N."),
    "h_t_in_dW_hh": ("uses h_t in dW_hh; W_hh multiplies the previous state h_(t-1).",
                     "dW_hh = sum over t of delta_t.T @ h_(t-1)."),
}


def check_bptt_with_output(bptt_with_output):
    """Check ``bptt_with_output(x, targets, h0, W_xh, W_hh, b_h, W_hy, b_y) -> dict``.

    The dict maps "W_xh", "W_hh", "b_h", "W_hy", "b_y" to the gradients of the loss
    ``(1/N) sum_n sum_t -log softmax(W_hy h_t + b_y)[y_t]``.
    """
    __tracebackhide__ = True
    for seed in (41, 42):
        case = _lm_case(seed)
        result = call_unchanged("bptt_with_output", bptt_with_output, _LM_ARGS, *case)
        if not isinstance(result, dict) or set(result) != set(_PARAM_NAMES):
            fail(f"`bptt_with_output` should return a dict with the keys {list(_PARAM_NAMES)}; "
                 f"got {type(result).__name__}"
                 f"{' with keys ' + str(sorted(result)) if isinstance(result, dict) else ''}.",
                 "return {'W_xh': dW_xh, 'W_hh': dW_hh, 'b_h': db_h, 'W_hy': dW_hy, "
                 "'b_y': db_y}.")
        expected = lm_gradients(*case)
        wrong = {v: lm_gradients(*case, variant=v) for v in _LM_WRONG}
        for name in ("W_hy", "b_y", "W_hh", "W_xh", "b_h"):
            value = expect_shape(f"dL/d{name}", result[name], expected[name].shape)
            value = expect_numeric(f"dL/d{name}", value)
            _diagnose(f"dL/d{name}", value, [(wrong[v][name], *_LM_WRONG[v]) for v in _LM_WRONG
                                             if not np.allclose(wrong[v][name], expected[name])])
            expect_close(f"dL/d{name}", value, expected[name], rtol=1e-5,
                         atol=_float32_atol(expected[name]))
    passed("bptt_with_output: the five gradients of the loss summed over time")


# ---------------------------------------------------------------------------------------------
# 3. The gradient of h_0
# ---------------------------------------------------------------------------------------------


def _h0_case(seed):
    rng = _rng(seed)
    N, T, D, H = 2, 4, 3, 4
    x = rng.normal(size=(N, T, D))
    h0 = np.tanh(rng.normal(size=(N, H)))
    W_xh, W_hh, b = _params(rng, D, H, rho=1.1)
    dh_T = rng.normal(size=(N, H))
    return x, h0, W_xh, W_hh, b, dh_T


def grad_h0_reference(x, h0, W_xh, W_hh, b, dh_T, variant=None):
    """dL/dh0 for L = sum(dh_T * h_T); ``variant`` gives a known wrong answer."""
    hs = _forward(x, h0, W_xh, W_hh, b)
    T = x.shape[1]
    g = dh_T
    for t in reversed(range(T)):
        if variant == "no_deriv":
            da = g
        elif variant == "prev_deriv":
            da = g * (1 - hs[:, t] ** 2)
        else:
            da = g * (1 - hs[:, t + 1] ** 2)
        if variant == "one_short" and t == 0:
            return g
        g = da @ (W_hh.T if variant == "transpose" else W_hh)
    return g


_H0_WRONG = {
    "transpose": ("multiplies by W_hh.T at each step.",
                  "the forward pass computes h @ W_hh.T, so each backward step is "
                  "da @ W_hh (batch-major)."),
    "no_deriv": ("leaves out the tanh derivative.",
                 "at each step multiply by 1 - h_t**2 before going through W_hh."),
    "prev_deriv": ("takes the tanh derivative at h_(t-1).",
                   "step t's derivative is 1 - h_t**2, from the state that step produced."),
    "one_short": ("stops one step early: it is the gradient of h_1, not h_0.",
                  "go back through all T steps, including the first."),
}


def check_grad_h0(grad_h0):
    """Check ``grad_h0(x, h0, W_xh, W_hh, b, dh_T) -> dh0`` of shape (N, H), the gradient of
    ``L = sum(dh_T * h_T)`` (only the final state is scored) with respect to ``h0``."""
    __tracebackhide__ = True
    for seed in (43, 44):
        case = _h0_case(seed)
        expected = grad_h0_reference(*case)
        value = call_unchanged("grad_h0", grad_h0, ["x", "h0", "W_xh", "W_hh", "b", "dh_T"],
                               *case)
        value = expect_shape("grad_h0(...)", value, expected.shape)
        value = expect_numeric("grad_h0(...)", value)
        _diagnose("grad_h0(...)", value, [(grad_h0_reference(*case, variant=v), *_H0_WRONG[v])
                                          for v in _H0_WRONG])
        expect_close("grad_h0(...)", value, expected, rtol=1e-5, atol=_float32_atol(expected))
    passed("grad_h0: the gradient reaches h_0 through all T steps")


# ---------------------------------------------------------------------------------------------
# 4. A numerical gradient
# ---------------------------------------------------------------------------------------------


def _curvy(v):
    return float(np.sum(np.sin(3.0 * v) * v**2) + np.prod(np.cos(v[:2])))


def _curvy_grad(v):
    g = 3.0 * np.cos(3.0 * v) * v**2 + 2.0 * v * np.sin(3.0 * v)
    c = np.cos(v[:2])
    s = np.sin(v[:2])
    g[0] -= s[0] * c[1]
    g[1] -= c[0] * s[1]
    return g


def _call_numerical(numerical_gradient, f, x, eps=None):
    """The answer called through call_unchanged; a changed x is told apart from x left a few
    rounding errors off (restored by arithmetic instead of by assignment)."""
    __tracebackhide__ = True
    args = (f, x) if eps is None else (f, x, eps)
    try:
        return call_unchanged("numerical_gradient", numerical_gradient,
                              ["f", "x", "eps"][:len(args)], *args)
    except CheckFailed as error:
        if "argument `x`" not in str(error):
            raise
    probe = np.array(x, copy=True)
    call_answer("numerical_gradient", numerical_gradient, f, probe, *args[2:])
    if np.allclose(probe, x, rtol=1e-12, atol=1e-15):
        fail("`numerical_gradient` left x changed in its last bits: adding and subtracting eps "
             "does not give back the same float.",
             "save the entry first (old = x[i]) and assign it back (x[i] = old).")
    fail("`numerical_gradient` changed its argument x.",
         "restore each entry after evaluating f at x + eps and x - eps.")


def _expect_gradient(value, expected):
    """Fail with the likely slip unless ``value`` is the gradient to a relative 1e-8."""
    __tracebackhide__ = True
    diff = relative_error(value, expected)
    if diff <= 1e-8:
        return
    if np.allclose(2 * value, expected, rtol=1e-4):
        fail("your `numerical_gradient` is half the gradient.",
             "the central difference divides by 2 eps: (f(x+eps) - f(x-eps)) / (2 eps).")
    if np.allclose(value / 2, expected, rtol=1e-4):
        fail("your `numerical_gradient` is twice the gradient.",
             "the two evaluations are 2 eps apart: divide by 2 * eps.")
    if diff < 1e-3:
        fail(f"your `numerical_gradient` has relative error {diff:.1e} against the exact "
             "gradient; central differences reach about 1e-10.",
             "a one-sided difference (f(x + eps) - f(x)) / eps is only accurate to "
             "O(eps); use f(x + eps) and f(x - eps).")
    fail(f"your `numerical_gradient` differs from the gradient (relative error {diff:.2g}).",
         "move one entry at a time: x[i] += eps, evaluate, x[i] -= 2 eps, evaluate, "
         "restore x[i].")


def check_numerical_gradient(numerical_gradient):
    """Check ``numerical_gradient(f, x, eps=1e-5)``: the central-difference gradient of a scalar
    function ``f`` at the float64 array ``x``, with the shape of ``x``; ``x`` must be unchanged
    afterwards.

    Four calls: a vector and a matrix at the default step; a transposed (non-contiguous) matrix,
    where perturbing ``x.reshape(-1)``, a copy, gives zeros; and ``eps=1e-3``, compared with the
    central difference at that step, which differs from the gradient by about 1e-6.
    """
    __tracebackhide__ = True
    rng = _rng(45)
    name = "numerical_gradient(f, x)"

    def f(v):
        return _curvy(v.reshape(-1))

    for x in (rng.normal(size=6), rng.normal(size=(2, 3)), rng.normal(size=(3, 4)).T):
        expected = _curvy_grad(x.reshape(-1)).reshape(x.shape)
        value = _call_numerical(numerical_gradient, f, x)
        value = expect_shape(name, value, x.shape)
        value = expect_numeric(name, value)
        if not x.flags.c_contiguous and not np.any(value):
            fail("your `numerical_gradient` returns zeros for a transposed x (not contiguous "
                 "in memory): x.reshape(-1) or x.ravel() of such an array is a copy, so "
                 "changing its entries leaves x, and f(x), unchanged.",
                 "index x itself: for i in np.ndindex(x.shape): x[i] = ...")
        _expect_gradient(value, expected)
    x = rng.normal(size=(2, 3))
    value = _call_numerical(numerical_gradient, f, x, 1e-3)
    value = expect_shape("numerical_gradient(f, x, eps=1e-3)", value, x.shape)
    value = expect_numeric("numerical_gradient(f, x, eps=1e-3)", value)
    at_step = central_difference(f, np.array(x, copy=True), eps=1e-3)
    if relative_error(value, at_step) > 1e-9:
        if relative_error(value, _curvy_grad(x.reshape(-1)).reshape(x.shape)) < 1e-8:
            fail("your `numerical_gradient(f, x, eps=1e-3)` does not use the eps it is given: "
                 "it matches the gradient to 1e-8, but the central difference with a step of "
                 "1e-3 is off by about 1e-6.",
                 "use the argument eps, not a fixed step.")
        _expect_gradient(value, at_step)
        fail("your `numerical_gradient(f, x, eps=1e-3)` differs from the central difference "
             f"with that step (relative error {relative_error(value, at_step):.2g}).",
             "(f(x + eps e_i) - f(x - eps e_i)) / (2 eps), with the eps given.")
    passed("numerical_gradient: central differences at the step given")


# ---------------------------------------------------------------------------------------------
# 5. The norm of dh_T / dh_k
# ---------------------------------------------------------------------------------------------


def jacobian_norms_reference(W_hh, h, variant=None):
    """``norms[k] = ||dh_T / dh_k||_2`` for states ``h`` (T + 1, H) = h_0 ... h_T."""
    T = h.shape[0] - 1
    H = W_hh.shape[0]
    J = np.eye(H)
    norms = np.zeros(T + 1)
    norms[T] = 1.0
    for k in range(T - 1, -1, -1):
        d = 1 - (h[k] if variant == "prev_deriv" else h[k + 1]) ** 2
        step = W_hh if variant == "no_deriv" else d[:, None] * W_hh
        J = step @ J if variant == "reversed" else J @ step
        norms[k] = np.linalg.norm(J, "fro" if variant == "fro" else 2)
    return norms


_JAC_WRONG = {
    "prev_deriv": ("uses 1 - h_(t-1)**2 in step t's factor.",
                   "dh_t/dh_(t-1) = diag(1 - h_t**2) W_hh: the derivative at the state "
                   "the step produced."),
    "no_deriv": ("leaves out the tanh derivatives: it is the norm of a power of W_hh.",
                 "each factor is diag(1 - h_t**2) @ W_hh."),
    "reversed": ("multiplies the factors in the reverse order.",
                 "dh_T/dh_k = J_T J_(T-1) ... J_(k+1): the latest step on the left."),
    "fro": ("uses the Frobenius norm.", "use the spectral norm, np.linalg.norm(J, 2)."),
}


def check_jacobian_norms_by_k(jacobian_norms_by_k):
    """Check ``jacobian_norms_by_k(W_hh, h) -> norms`` of shape (T + 1,), with ``h`` (T + 1, H)
    the states h_0 ... h_T of one sequence and ``norms[k]`` the spectral norm of dh_T/dh_k.

    Unlike :func:`rnnbook.scratch.jacobian.jacobian_norms` (arguments ``(fprime, W_hh)``, entry
    d - 1 for the distance d = T - k), the exercise indexes by the earlier step k.
    """
    __tracebackhide__ = True
    rng = _rng(46)
    H, T = 4, 6
    W = rng.normal(size=(H, H))
    W_hh = 1.2 * W / np.max(np.abs(np.linalg.eigvals(W)))
    h = np.tanh(rng.normal(size=(T + 1, H)))
    expected = jacobian_norms_reference(W_hh, h)
    name = "jacobian_norms_by_k(W_hh, h)"
    value = call_unchanged("jacobian_norms_by_k", jacobian_norms_by_k, ["W_hh", "h"], W_hh, h)
    value = expect_shape(name, value, (T + 1,),
                         hint="one norm per k = 0 ... T, the last (k = T) being 1.")
    value = expect_numeric(name, value)
    _diagnose(name, value,
              [(jacobian_norms_reference(W_hh, h, v), *_JAC_WRONG[v]) for v in _JAC_WRONG])
    if abs(value[-1] - 1.0) > 1e-9:
        fail(f"your `jacobian_norms_by_k(W_hh, h)[T]` is {value[-1]:.6g}; dh_T/dh_T is the "
             "identity, of norm 1.", "entry k = T is the empty product.")
    expect_close(name, value, expected, rtol=1e-7, atol=1e-12)
    passed("jacobian_norms_by_k: the spectral norms of dh_T/dh_k, k = 0 ... T")


# ---------------------------------------------------------------------------------------------
# 6. Clipping by global norm
# ---------------------------------------------------------------------------------------------


def _expect_norm(got_norm, norm, max_norm, per_array):
    """Fail with the likely slip unless ``got_norm`` is the global norm ``norm``."""
    __tracebackhide__ = True
    if abs(got_norm - norm) <= 1e-9 * norm:
        return
    if abs(got_norm - norm**2) < 1e-9 * norm**2:
        fail("your `norm` is the squared norm.", "take the square root of the sum.")
    if abs(got_norm - sum(per_array)) < 1e-9 * norm:
        fail("your `norm` is the sum of the arrays' norms.",
             "the global norm is sqrt(sum over arrays of sum(g**2)).")
    if abs(got_norm - min(norm, max_norm)) < 1e-9 * norm:
        fail("your `norm` is the norm after clipping; return the one before.")
    got, want = _distinct(got_norm, norm)
    if abs(got_norm - norm) < 1e-5 * norm:
        fail(f"your `norm` is {got}; expected {want}, a relative difference of "
             f"{abs(got_norm - norm) / norm:.1e}: float32 rounding.",
             "compute in float64, the gradients' own type (no .astype(np.float32)).")
    fail(f"your `norm` is {got}; expected {want}.",
         "the global norm is sqrt(sum over arrays of sum(g**2)).")


def _clip_call(clip_global_norm, grads, max_norm):
    """The answer called on copies of ``grads``: (clipped, norm as a float, the copies)."""
    __tracebackhide__ = True
    given = [g.copy() for g in grads]
    result = call_unchanged("clip_global_norm", clip_global_norm, ["grads", "max_norm"], given,
                            max_norm)
    for i, (g, c) in enumerate(zip(grads, given, strict=True)):
        if not np.array_equal(g, c):
            fail(f"your `clip_global_norm` changes its argument `grads` in place (grads[{i}]).",
                 "return new arrays, e.g. [g * scale for g in grads]: the caller still needs "
                 "the gradients it passed.")
    clipped, got_norm = _tuple("clip_global_norm", result, 2, ("clipped", "norm"))
    if not isinstance(clipped, list | tuple) or len(clipped) != len(grads):
        fail(f"`clipped` should be a list of {len(grads)} arrays, one per gradient.")
    got_norm = as_array("norm", got_norm)
    if got_norm.size != 1:
        fail("`norm` should be one number, the global norm of all gradients together.")
    for i, (g, c) in enumerate(zip(given, clipped, strict=True)):
        if c is g or np.shares_memory(np.asarray(c), g):
            fail(f"`clipped[{i}]` is the input array itself (or a view of it), not a new array.",
                 "return new arrays even when no clipping is needed, e.g. "
                 "[g * scale for g in grads] with scale = 1.")
    return clipped, float(got_norm.reshape(())), given


def check_clip_global_norm(clip_global_norm):
    """Check ``clip_global_norm(grads, max_norm) -> (clipped, norm)``: ``grads`` a list of arrays,
    ``clipped`` a list of new arrays of the same shapes, ``norm`` the global norm before clipping.
    Also all-zero gradients: norm 0, nothing scaled, no division by zero.
    """
    __tracebackhide__ = True
    rng = _rng(47)
    grads = [rng.normal(size=(3, 4)) * 3, rng.normal(size=5) * 0.1, rng.normal(size=(2, 2))]
    norm = float(np.sqrt(sum(np.sum(g**2) for g in grads)))
    per_array = [float(np.linalg.norm(g)) for g in grads]
    for max_norm in (norm / 4, 2 * norm):
        clipped, got_norm, given = _clip_call(clip_global_norm, grads, max_norm)
        _expect_norm(got_norm, norm, max_norm, per_array)
        scale = min(1.0, max_norm / norm)
        for i, (g, c) in enumerate(zip(grads, clipped, strict=True)):
            name = f"clipped[{i}]"
            c = expect_shape(name, c, g.shape)
            c = expect_numeric(name, c)
            if (not np.allclose(c, g * scale, rtol=1e-9, atol=1e-12)
                    and np.allclose(c, g * min(1.0, max_norm / (norm + 1e-6)), rtol=1e-12,
                                    atol=1e-15)):
                fail(f"your `{name}` divides by norm + 1e-6, as torch.nn.utils.clip_grad_norm_ "
                     "does; the exercise asks for exactly max_norm / norm.",
                     "scale = min(1, max_norm / norm), with nothing added to the norm.")
            wrong = [
                (np.clip(g, -max_norm, max_norm), "is clipped by value, which changes the "
                 "direction of the gradient.", "multiply every array by one common factor."),
                (g * min(1.0, max_norm / per_array[i]), "is clipped by its own norm; the "
                 "factor must be common to all arrays.",
                 "scale = max_norm / global norm, for every array."),
                (g * max_norm / norm, "is rescaled although the global norm was already "
                 "below max_norm.", "only scale down when norm > max_norm."),
            ]
            _diagnose(name, c, [w for w in wrong if not np.allclose(w[0], g * scale)])
            expect_close(name, c, g * scale, rtol=1e-9, atol=1e-12)
    zeros = [np.zeros_like(g) for g in grads]
    try:
        with np.errstate(divide="ignore", invalid="ignore"):
            clipped, got_norm, _ = _clip_call(clip_global_norm, zeros, 1.0)
    except ZeroDivisionError:
        fail("your `clip_global_norm` divides by zero when all gradients are zero (norm 0).",
             "only divide when clipping is needed: scale = max_norm / norm if norm > max_norm "
             "else 1.0.")
    if got_norm != 0.0:
        fail(f"your `norm` of all-zero gradients is {got_norm:.6g}; expected 0.")
    for i, (g, c) in enumerate(zip(zeros, clipped, strict=True)):
        c = expect_shape(f"clipped[{i}] (all-zero gradients)", c, g.shape)
        c = expect_numeric(f"clipped[{i}] (all-zero gradients)", c,
                           hint="0 / 0 is NaN: with norm 0 there is nothing to scale, so only "
                                "divide when norm > max_norm.")
        expect_close(f"clipped[{i}] (all-zero gradients)", c, g, rtol=0, atol=0)
    passed("clip_global_norm: one common factor, only if the norm exceeds max_norm")


# ---------------------------------------------------------------------------------------------
# 7. The truncated gradient of a chunked sequence
# ---------------------------------------------------------------------------------------------


def _tbptt_case(seed):
    rng = _rng(seed)
    N, T, D, H = 2, 7, 3, 4
    x = rng.normal(size=(N, T, D))
    h0 = np.tanh(rng.normal(size=(N, H)))
    W_xh, W_hh, b = _params(rng, D, H, rho=1.2)
    dh = rng.normal(size=(N, T, H))
    return x, h0, W_xh, W_hh, b, dh


def truncated_reference(x, h0, W_xh, W_hh, b, dh, k, variant=None):
    """dW_hh by truncated BPTT with chunks of k; ``variant`` gives a known wrong answer."""
    T = x.shape[1]
    if variant == "full":
        hs = _forward(x, h0, W_xh, W_hh, b)
        return _backward(x, hs, W_xh, W_hh, dh)[3]
    if variant == "reset":
        hs = _forward(x, h0, W_xh, W_hh, b, reset_every=k)
        prev = hs[:, :-1].copy()
        prev[:, ::k] = h0[:, None]
        return _backward(x, hs, W_xh, W_hh, dh, prev=prev, cut=k)[3]
    hs = _forward(x, h0, W_xh, W_hh, b)
    total = _backward(x, hs, W_xh, W_hh, dh, cut=k)[3]
    if variant == "mean":
        return total / -(-T // k)
    if variant == "last_chunk":
        start = ((T - 1) // k) * k
        dh_last = np.zeros_like(dh)
        dh_last[:, start:] = dh[:, start:]
        return _backward(x, hs, W_xh, W_hh, dh_last, cut=k)[3]
    return total


_TBPTT_WRONG = {
    "full": ("is the full BPTT gradient: the gradient must not cross a chunk boundary.",
             "set the gradient flowing into the state a chunk starts from to zero "
             "(in PyTorch: h = h.detach() between chunks)."),
    "reset": ("restarts every chunk from h0: the state must be carried forward.",
              "each chunk starts from the last state of the previous chunk; only its gradient "
              "is cut."),
    "mean": ("averages over the chunks; the gradients of the chunks add up.",
             "sum the chunk gradients."),
    "last_chunk": ("keeps only the last chunk; every chunk contributes.",
                   "sum the chunk gradients."),
}


def check_truncated_grad_W_hh(truncated_grad_W_hh):
    """Check ``truncated_grad_W_hh(x, h0, W_xh, W_hh, b, dh, k) -> dW_hh`` (H, H): the gradient
    of ``L = sum(dh * h)`` with respect to ``W_hh`` by truncated BPTT with chunks of ``k``."""
    __tracebackhide__ = True
    case = _tbptt_case(48)
    for k in (3, 2, 7):
        expected = truncated_reference(*case, k)
        name = f"truncated_grad_W_hh(..., k={k})"
        value = call_unchanged("truncated_grad_W_hh", truncated_grad_W_hh,
                               ["x", "h0", "W_xh", "W_hh", "b", "dh", "k"], *case, k)
        value = expect_shape(name, value, expected.shape)
        value = expect_numeric(name, value)
        _diagnose(name, value, [(truncated_reference(*case, k, v), *_TBPTT_WRONG[v])
                                for v in _TBPTT_WRONG
                                if not np.allclose(truncated_reference(*case, k, v), expected)])
        _diagnose(name, value, [(expected.T, "is transposed.",
                                 "dW_hh = sum of delta_t.T @ h_(t-1), W_hh's (out, in) layout.")])
        expect_close(name, value, expected, rtol=1e-5, atol=_float32_atol(expected))
    passed("truncated_grad_W_hh: state carried, gradient cut at chunk boundaries")
