"""rnnbook.checks.ch04: each check accepts the reference answer and rejects plausible wrong ones.

``REVIEW_WRONG`` holds the wrong answers that the review of chapter 4 (part 2) tried, one entry
per answer, with words the visible check's message must contain; test_ch04_hidden_tests.py runs
the same answers through the hidden tests.
"""

import numpy as np
import pytest
import torch

from rnnbook.checks import CheckFailed, ch04
from rnnbook.checks.partial import Credit
from rnnbook.scratch.gradcheck import relative_error


def failure(check, answer):
    """The message of the CheckFailed raised by ``check(answer)``."""
    with pytest.raises(CheckFailed) as info:
        check(answer)
    return str(info.value)


def not_written(*args, **kwargs):
    raise NotImplementedError()


# ------------------------------------------------------------------------- 1. step backward

def step_backward(dh_next, x, h_prev, h_next, W_xh, W_hh, deriv=None, dh_W=None, dW=None):
    da = dh_next * (1 - (h_next if deriv is None else deriv) ** 2)
    dW_hh = da.T @ h_prev if dW is None else dW(da, h_prev, h_next)
    return (da @ W_xh, da @ (W_hh if dh_W is None else dh_W(W_hh)), da.T @ x, dW_hh,
            da.sum(axis=0))


def test_step_backward_reference_passes(capsys):
    ch04.check_rnn_step_backward(step_backward)
    assert capsys.readouterr().out.startswith("passed: rnn_step_backward")


def test_step_backward_accepts_torch_autograd():
    def autograd_step(dh_next, x, h_prev, h_next, W_xh, W_hh):
        t = [torch.tensor(v, requires_grad=True) for v in (x, h_prev, W_xh, W_hh)]
        b = torch.zeros(W_hh.shape[0], dtype=torch.float64, requires_grad=True)
        # recover b from h_next: a = atanh(h_next) - x W_xh^T - h W_hh^T
        b_val = np.arctanh(h_next) - x @ W_xh.T - h_prev @ W_hh.T
        with torch.no_grad():
            b_full = torch.tensor(b_val)
        out = torch.tanh(t[0] @ t[2].T + t[1] @ t[3].T + b_full + b)
        out.backward(torch.tensor(dh_next))
        return t[0].grad, t[1].grad, t[2].grad, t[3].grad, torch.tensor(
            (dh_next * (1 - h_next**2)).sum(0))
    ch04.check_rnn_step_backward(autograd_step)


@pytest.mark.parametrize("answer, words", [
    (lambda dh, x, hp, hn, Wx, Wh: (dh @ Wx, dh @ Wh, dh.T @ x, dh.T @ hp, dh.sum(0)),
     "derivative of tanh"),
    (lambda dh, x, hp, hn, Wx, Wh: step_backward(dh, x, hp, hn, Wx, Wh, deriv=hp), "at h_prev"),
    (lambda dh, x, hp, hn, Wx, Wh: step_backward(dh, x, hp, hn, Wx, Wh, dh_W=lambda W: W.T),
     "W_hh.T"),
    (lambda dh, x, hp, hn, Wx, Wh: step_backward(dh, x, hp, hn, Wx, Wh,
                                                 dW=lambda da, hp, hn: hp.T @ da), "transposed"),
    (lambda dh, x, hp, hn, Wx, Wh: step_backward(dh, x, hp, hn, Wx, Wh,
                                                 dW=lambda da, hp, hn: da.T @ hn), "h_next"),
    (lambda *a: step_backward(*a)[:4], "tuple of 5"),
    (lambda *a: (*step_backward(*a)[:4], (a[0] * (1 - a[3] ** 2))), "shape"),
    (not_written, "not written yet"),
])
def test_step_backward_wrong_answers(answer, words):
    assert words in failure(ch04.check_rnn_step_backward, answer)


# ------------------------------------------------------------------- 2. BPTT with output layer

def bptt_with_output(x, targets, h0, W_xh, W_hh, b_h, W_hy, b_y):
    return ch04.lm_gradients(x, targets, h0, W_xh, W_hh, b_h, W_hy, b_y)


def torch_bptt_with_output(x, targets, h0, W_xh, W_hh, b_h, W_hy, b_y):
    p = {k: torch.tensor(v, requires_grad=True) for k, v in
         dict(W_xh=W_xh, W_hh=W_hh, b_h=b_h, W_hy=W_hy, b_y=b_y).items()}
    h, loss = torch.tensor(h0), 0.0
    for t in range(x.shape[1]):
        h = torch.tanh(torch.tensor(x[:, t]) @ p["W_xh"].T + h @ p["W_hh"].T + p["b_h"])
        s = h @ p["W_hy"].T + p["b_y"]
        loss = loss + torch.nn.functional.cross_entropy(s, torch.tensor(targets[:, t]),
                                                        reduction="sum")
    (loss / x.shape[0]).backward()
    return {k: v.grad.numpy() for k, v in p.items()}


def test_bptt_reference_and_torch_pass(capsys):
    ch04.check_bptt_with_output(bptt_with_output)
    ch04.check_bptt_with_output(torch_bptt_with_output)
    assert "passed: bptt_with_output" in capsys.readouterr().out


@pytest.mark.parametrize("variant, words", [
    ("no_recurrent", "path through h_(t+1)"),
    ("last_step", "last step only"),
    ("token_mean", "mean over tokens"),
    ("batch_sum", "N times too large"),
    ("h_t_in_dW_hh", "previous state"),
])
def test_bptt_wrong_variants(variant, words):
    def answer(*case):
        return ch04.lm_gradients(*case, variant=variant)
    assert words in failure(ch04.check_bptt_with_output, answer)


def test_bptt_wrong_structure():
    assert "keys" in failure(ch04.check_bptt_with_output,
                             lambda *a: list(bptt_with_output(*a).values()))
    assert "transpose" in failure(
        ch04.check_bptt_with_output,
        lambda *a: {k: (v.T if k == "W_hy" else v) for k, v in bptt_with_output(*a).items()})
    assert "not written yet" in failure(ch04.check_bptt_with_output, not_written)


# ------------------------------------------------------------------------------ 3. grad of h0

def grad_h0(x, h0, W_xh, W_hh, b, dh_T):
    hs = [h0]
    for t in range(x.shape[1]):
        hs.append(np.tanh(x[:, t] @ W_xh.T + hs[-1] @ W_hh.T + b))
    g = dh_T
    for t in range(x.shape[1], 0, -1):
        g = (g * (1 - hs[t] ** 2)) @ W_hh
    return g


def test_grad_h0_reference_passes(capsys):
    ch04.check_grad_h0(grad_h0)
    assert "passed: grad_h0" in capsys.readouterr().out


@pytest.mark.parametrize("variant, words", [
    ("transpose", "W_hh.T"), ("no_deriv", "tanh derivative"), ("prev_deriv", "h_(t-1)"),
    ("one_short", "one step early"),
])
def test_grad_h0_wrong_variants(variant, words):
    assert words in failure(ch04.check_grad_h0,
                            lambda *a: ch04.grad_h0_reference(*a, variant=variant))


def test_grad_h0_other_wrong_answers():
    assert "shape" in failure(ch04.check_grad_h0, lambda *a: grad_h0(*a)[0])
    assert "differs" in failure(ch04.check_grad_h0, lambda *a: a[5])   # just dh_T
    assert "not written yet" in failure(ch04.check_grad_h0, not_written)


# -------------------------------------------------------------------- 4. numerical gradient

def central(f, x, eps=1e-5):
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + eps
        plus = f(x)
        x[i] = old - eps
        minus = f(x)
        x[i] = old
        g[i] = (plus - minus) / (2 * eps)
    return g


def one_sided(f, x, eps=1e-5):
    g = np.zeros_like(x)
    base = f(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + eps
        g[i] = (f(x) - base) / eps
        x[i] = old
    return g


def not_restored(f, x, eps=1e-5):
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        x[i] += eps
        plus = f(x)
        x[i] -= 2 * eps
        g[i] = (plus - f(x)) / (2 * eps)
    return g


def restored_by_arithmetic(f, x, eps=1e-5):
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        x[i] += eps
        plus = f(x)
        x[i] -= 2 * eps
        minus = f(x)
        x[i] += eps                  # back only up to rounding
        g[i] = (plus - minus) / (2 * eps)
    return g


def test_numerical_gradient_reference_passes(capsys):
    ch04.check_numerical_gradient(central)
    assert "passed: numerical_gradient" in capsys.readouterr().out


@pytest.mark.parametrize("answer, words", [
    (one_sided, "one-sided"),
    (lambda f, x, eps=1e-5: central(f, x, eps) / 2, "half"),
    (lambda f, x, eps=1e-5: central(f, x, eps) * 2, "twice"),
    (not_restored, "changed its argument x"),
    (restored_by_arithmetic, "last bits"),
    (lambda f, x, eps=1e-5: np.full_like(x, (f(x + eps) - f(x - eps)) / (2 * eps)), "differs"),
    (lambda f, x, eps=1e-5: central(f, x, eps).ravel(), "shape"),
    (not_written, "not written yet"),
])
def test_numerical_gradient_wrong_answers(answer, words):
    assert words in failure(ch04.check_numerical_gradient, answer)


# -------------------------------------------------------------------------- 5. jacobian norms

def jacobian_norms_by_k(W_hh, h):
    T = h.shape[0] - 1
    J, norms = np.eye(W_hh.shape[0]), [1.0]
    for t in range(T, 0, -1):
        J = J @ ((1 - h[t] ** 2)[:, None] * W_hh)
        norms.append(np.linalg.norm(J, 2))
    return np.array(norms[::-1])


def test_jacobian_norms_reference_passes(capsys):
    ch04.check_jacobian_norms_by_k(jacobian_norms_by_k)
    assert "passed: jacobian_norms_by_k" in capsys.readouterr().out


@pytest.mark.parametrize("variant, words", [
    ("prev_deriv", "h_(t-1)"), ("no_deriv", "power of W_hh"), ("reversed", "reverse order"),
    ("fro", "Frobenius"),
])
def test_jacobian_norms_wrong_variants(variant, words):
    assert words in failure(ch04.check_jacobian_norms_by_k,
                            lambda W, h: ch04.jacobian_norms_reference(W, h, variant))


def test_jacobian_norms_other_wrong_answers():
    assert "shape" in failure(ch04.check_jacobian_norms_by_k,
                              lambda W, h: jacobian_norms_by_k(W, h)[:-1])
    assert "identity" in failure(ch04.check_jacobian_norms_by_k,
                                 lambda W, h: jacobian_norms_by_k(W, h)[::-1])
    assert "differs" in failure(ch04.check_jacobian_norms_by_k,
                                lambda W, h: np.abs(np.linalg.eigvals(W)).max()
                                ** np.arange(h.shape[0])[::-1])
    assert "not written yet" in failure(ch04.check_jacobian_norms_by_k, not_written)


# ------------------------------------------------------------------------ 6. clip global norm

def clip_global_norm(grads, max_norm):
    norm = float(np.sqrt(sum(np.sum(g**2) for g in grads)))
    scale = min(1.0, max_norm / norm)
    return [g * scale for g in grads], norm


def test_clip_reference_passes(capsys):
    ch04.check_clip_global_norm(clip_reference)
    assert "passed: clip_global_norm" in capsys.readouterr().out


def in_place(grads, max_norm):
    clipped, norm = clip_global_norm(grads, max_norm)
    for g, c in zip(grads, clipped, strict=True):
        g[...] = c
    return grads, norm


def same_arrays_when_small(grads, max_norm):
    norm = float(np.sqrt(sum(np.sum(g**2) for g in grads)))
    if norm <= max_norm:
        return grads, norm                   # the inputs themselves, not new arrays
    return [g * (max_norm / norm) for g in grads], norm


def torch_style(grads, max_norm):
    norm = float(np.sqrt(sum(np.sum(g**2) for g in grads)))
    return [g * min(1.0, max_norm / (norm + 1e-6)) for g in grads], norm


@pytest.mark.parametrize("answer, words", [
    (lambda g, m: ([np.clip(a, -m, m) for a in g], clip_global_norm(g, m)[1]), "by value"),
    (lambda g, m: ([a * min(1, m / np.linalg.norm(a)) for a in g], clip_global_norm(g, m)[1]),
     "its own norm"),
    (lambda g, m: ([a * m / clip_global_norm(g, m)[1] for a in g], clip_global_norm(g, m)[1]),
     "already below"),
    (lambda g, m: (clip_global_norm(g, m)[0], clip_global_norm(g, m)[1] ** 2), "squared"),
    (lambda g, m: (clip_global_norm(g, m)[0], sum(np.linalg.norm(a) for a in g)),
     "sum of the arrays' norms"),
    (lambda g, m: (clip_global_norm(g, m)[0], min(m, clip_global_norm(g, m)[1])),
     "after clipping"),
    (in_place, "changes its argument `grads`"),
    (same_arrays_when_small, "not a new array"),
    (torch_style, "1e-6"),
    (lambda g, m: clip_global_norm(g, m)[0], "tuple of 2"),
    (not_written, "not written yet"),
])
def test_clip_wrong_answers(answer, words):
    assert words in failure(ch04.check_clip_global_norm, answer)


# ------------------------------------------------------------------ 7. truncated gradient

def truncated_grad_W_hh(x, h0, W_xh, W_hh, b, dh, k):
    from rnnbook.scratch import rnn_tbptt

    def loss_grad(h_chunk, steps):
        return float(np.sum(dh[:, steps] * h_chunk)), dh[:, steps]
    return rnn_tbptt(x, h0, W_xh, W_hh, b, k, loss_grad)[1][3]


def torch_truncated(x, h0, W_xh, W_hh, b, dh, k):
    W = torch.tensor(W_hh, requires_grad=True)
    h = torch.tensor(h0)
    for start in range(0, x.shape[1], k):
        h = h.detach()
        loss = 0.0
        for t in range(start, min(start + k, x.shape[1])):
            h = torch.tanh(torch.tensor(x[:, t] @ W_xh.T + b) + h @ W.T)
            loss = loss + (torch.tensor(dh[:, t]) * h).sum()
        loss.backward()
    return W.grad


def test_truncated_reference_and_torch_pass(capsys):
    ch04.check_truncated_grad_W_hh(truncated_grad_W_hh)
    ch04.check_truncated_grad_W_hh(torch_truncated)
    assert "passed: truncated_grad_W_hh" in capsys.readouterr().out


@pytest.mark.parametrize("variant, words", [
    ("full", "full BPTT"), ("reset", "restarts every chunk"), ("mean", "averages"),
    ("last_chunk", "only the last chunk"),
])
def test_truncated_wrong_variants(variant, words):
    assert words in failure(ch04.check_truncated_grad_W_hh,
                            lambda *a: ch04.truncated_reference(*a, variant=variant))


def test_truncated_other_wrong_answers():
    assert "transposed" in failure(ch04.check_truncated_grad_W_hh,
                                   lambda *a: truncated_grad_W_hh(*a).T)
    assert "not written yet" in failure(ch04.check_truncated_grad_W_hh, not_written)


def test_reference_helpers_agree_with_scratch():
    """The checks' own references equal rnnbook.scratch (an independent implementation)."""
    from rnnbook.scratch import rnn_backward, rnn_forward
    x, h0, W_xh, W_hh, b, dh = ch04._tbptt_case(5)
    h, cache = rnn_forward(x, h0, W_xh, W_hh, b)
    assert np.allclose(ch04.truncated_reference(x, h0, W_xh, W_hh, b, dh, 100),
                       rnn_backward(dh, cache)[3])
    assert np.allclose(ch04.truncated_reference(x, h0, W_xh, W_hh, b, dh, 3),
                       truncated_grad_W_hh(x, h0, W_xh, W_hh, b, dh, 3))


# ------------------------------------------------- the wrong answers of the review (part 2)

def step_in_place(dh_next, x, h_prev, h_next, W_xh, W_hh):
    da = dh_next
    da *= 1 - h_next**2                      # right values, but the caller's dh_next is gone
    return da @ W_xh, da @ W_hh, da.T @ x, da.T @ h_prev, da.sum(axis=0)


def step_batch_mean(*a):
    dx, dh_prev, dW_xh, dW_hh, db = step_backward(*a)
    N = a[0].shape[0]
    return dx, dh_prev, dW_xh / N, dW_hh / N, db / N


def bptt(x, targets, h0, W_xh, W_hh, b_h, W_hy, b_y, slip=None):
    """BPTT with the output layer; ``slip`` makes one of the review's wrong answers."""
    N, T, _ = x.shape
    M = W_hy.shape[0]
    if slip == "shifted":
        targets = np.roll(targets, -1, axis=1)
    hs = [np.zeros_like(h0) if slip == "zero_h0" else h0]
    for t in range(T):
        hs.append(np.tanh(x[:, t] @ W_xh.T + hs[-1] @ W_hh.T + b_h))
    grads = {k: np.zeros_like(v) for k, v in dict(W_xh=W_xh, W_hh=W_hh, b_h=b_h, W_hy=W_hy,
                                                   b_y=b_y).items()}
    carry = np.zeros_like(h0)
    for t in range(T, 0, -1):
        s = hs[t] @ W_hy.T + b_y
        p = np.exp(s - s.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        ds = (p - np.eye(M)[targets[:, t - 1]]) / N
        grads["W_hy"] += ds.T @ hs[t]
        grads["b_y"] += ds.sum(axis=0)
        direct = ds @ W_hy
        deriv = 1 - (hs[t - 1] if slip == "prev_deriv" else hs[t]) ** 2
        total = direct + carry
        delta = deriv * direct + carry if slip == "direct_only" else deriv * total
        grads["W_hh"] += delta.T @ hs[t - 1]
        grads["W_xh"] += delta.T @ x[:, t - 1]
        grads["b_h"] += delta.sum(axis=0)
        carry = (total if slip == "carry_dh" else delta) @ (W_hh.T if slip == "transpose"
                                                            else W_hh)
    return grads


def h0_grad(x, h0, W_xh, W_hh, b, dh_T, slip=None):
    """dL/dh0 (exercise 3); ``slip`` makes one of the review's wrong answers."""
    T = x.shape[1]
    hs = [np.zeros_like(h0) if slip == "zero_h0" else h0]
    for t in range(T):
        hs.append(np.tanh(x[:, t] @ W_xh.T + hs[-1] @ W_hh.T + b))
    if slip == "matrix_power":
        return (dh_T * (1 - hs[T] ** 2)) @ np.linalg.matrix_power(W_hh, T)
    g = dh_T
    for t in range(T, 0, -1):
        if slip == "after":                  # derivative after W_hh, at h_(t-1)
            g = (g @ W_hh) * (1 - hs[t - 1] ** 2)
        elif slip == "in_place":
            g *= 1 - hs[t] ** 2              # the first pass writes into dh_T
            g = g @ W_hh
        else:
            g = (g * (1 - hs[t] ** 2)) @ W_hh
    return g * (1 - hs[0] ** 2) if slip == "extra_h0" else g


def via_reshape(f, x, eps=1e-5):
    flat = x.reshape(-1)                     # a copy when x is not contiguous
    g = np.zeros(x.size)
    for j in range(x.size):
        old = flat[j]
        flat[j] = old + eps
        plus = f(x)
        flat[j] = old - eps
        minus = f(x)
        flat[j] = old
        g[j] = (plus - minus) / (2 * eps)
    return g.reshape(x.shape)


def first_axis_only(f, x, eps=1e-5):
    g = np.zeros_like(x)
    for i in range(x.shape[0]):
        old = x[i].copy()
        x[i] = old + eps
        plus = f(x)
        x[i] = old - eps
        minus = f(x)
        x[i] = old
        g[i] = (plus - minus) / (2 * eps)
    return g


def integer_result(f, x, eps=1e-5):
    g = np.zeros(x.shape, dtype=int)
    g[...] = central(f, x, eps)
    return g


def jac_norms(W_hh, h, slip=None):
    """Exercise 5's norms; ``slip`` makes one of the review's wrong answers."""
    T = h.shape[0] - 1
    J, norms, factors = np.eye(W_hh.shape[0]), np.ones(T + 1), 1.0
    for k in range(T - 1, -1, -1):
        d = 1 - h[k + 1] ** 2
        step = {"transpose": d[:, None] * W_hh.T, "columns": W_hh * d[None, :]}.get(
            slip, d[:, None] * W_hh)
        J = J @ step
        factors *= np.linalg.norm(step, 2)
        if slip == "radius":
            norms[k] = np.max(np.abs(np.linalg.eigvals(J)))
        elif slip == "factors":
            norms[k] = factors
        elif slip == "max_entry":
            norms[k] = np.max(np.abs(J))
        else:
            norms[k] = np.linalg.norm(J, 2)
    return norms


def global_norm(grads):
    return float(np.sqrt(sum(np.sum(g**2) for g in grads)))


def clip_scale_in_place(grads, max_norm):
    norm = global_norm(grads)
    for g in grads:
        g *= max_norm / norm if norm > max_norm else 1.0
    return grads, norm


def clip_in_place_then_copy(grads, max_norm):
    clipped, norm = clip_scale_in_place(grads, max_norm)
    return [g.copy() for g in clipped], norm


def clip_float32(grads, max_norm):
    small = [g.astype(np.float32) for g in grads]
    norm = float(np.sqrt(sum(np.sum(g**2) for g in small)))
    return [g * np.float32(min(1.0, max_norm / norm)) for g in small], norm


def clip_list_of_inputs(grads, max_norm):
    norm = global_norm(grads)
    if norm <= max_norm:
        return list(grads), norm
    return [g * (max_norm / norm) for g in grads], norm


def clip_norm_l1(grads, max_norm):
    norm = float(sum(np.abs(g).sum() for g in grads))
    return [g * min(1.0, max_norm / norm) for g in grads], norm


def clip_spectral(grads, max_norm):
    norm = float(np.sqrt(sum(np.linalg.norm(g, 2) ** 2 for g in grads)))
    return [g * min(1.0, max_norm / norm) for g in grads], norm


def truncated(x, h0, W_xh, W_hh, b, dh, k, slip=None):
    """dW_hh by truncated BPTT (exercise 7); ``slip`` makes one of the review's wrong answers."""
    T = x.shape[1]
    h, prevs, outs = h0, [], []
    for t in range(T):
        if slip == "zeros" and t % k == 0:
            h = np.zeros_like(h0)
        prevs.append(h)
        h = np.tanh(x[:, t] @ W_xh.T + h @ W_hh.T + b)
        outs.append(h)
    dW = np.zeros_like(W_hh)
    if slip == "window":                     # each loss reaches back k steps, chunks ignored
        for s in range(T):
            g = dh[:, s]
            for t in range(s, max(s - k, -1), -1):
                delta = g * (1 - outs[t] ** 2)
                dW += delta.T @ prevs[t]
                g = delta @ W_hh
        return dW
    carry = np.zeros_like(h0)
    for t in reversed(range((T // k) * k if slip == "drop_last" else T)):
        if slip == "in_place":
            total = dh[:, t]                 # a view: += writes into the caller's dh
            total += carry
        else:
            total = dh[:, t] + carry
        delta = total * (1 - outs[t] ** 2)
        dW += delta.T @ (np.zeros_like(h0) if slip == "zero_first" and t % k == 0 else prevs[t])
        carry = delta @ W_hh
        if (t - (slip == "off_by_one")) % k == 0:
            carry = np.zeros_like(carry)
    return dW


def clip_reference(grads, max_norm):
    norm = global_norm(grads)
    scale = max_norm / norm if norm > max_norm else 1.0
    return [g * scale for g in grads], norm


# (grade_id, what, answer, words the visible message contains). In-place answers come first in
# each exercise's group only where the review tried one.
REVIEW_WRONG = [
    ("ch04-step-backward-tests", "dh_prev = da @ W_hh.T",
     lambda *a: step_backward(*a, dh_W=lambda W: W.T), "W_hh.T"),
    ("ch04-step-backward-tests", "dW_hh = da.T @ h_next",
     lambda *a: step_backward(*a, dW=lambda da, hp, hn: da.T @ hn), "h_next"),
    ("ch04-step-backward-tests", "db = da.sum(axis=1)",
     lambda *a: (*step_backward(*a)[:4], (a[0] * (1 - a[3] ** 2)).sum(axis=1)), "shape"),
    ("ch04-step-backward-tests", "tanh applied twice",
     lambda *a: step_backward(*a, deriv=np.tanh(a[3])), "differs"),
    ("ch04-step-backward-tests", "batch mean for the weight gradients", step_batch_mean,
     "times"),
    ("ch04-step-backward-tests", "dx and dh_prev swapped",
     lambda *a: (step_backward(*a)[1], step_backward(*a)[0], *step_backward(*a)[2:]), "shape"),
    ("ch04-step-backward-tests", "dW_xh = x.T @ da",
     lambda *a: (*step_backward(*a)[:2], step_backward(*a)[2].T, *step_backward(*a)[3:]),
     "transposed"),
    ("ch04-step-backward-tests", "in place: da = dh_next; da *= ...", step_in_place,
     "changes its argument `dh_next`"),
    ("ch04-bptt-output-tests", "no recurrent path",
     lambda *a: ch04.lm_gradients(*a, variant="no_recurrent"), "path through h_(t+1)"),
    ("ch04-bptt-output-tests", "recurrence through W_hh.T",
     lambda *a: bptt(*a, slip="transpose"), "differs"),
    ("ch04-bptt-output-tests", "tanh derivative on the direct term only",
     lambda *a: bptt(*a, slip="direct_only"), "differs"),
    ("ch04-bptt-output-tests", "carrying dh instead of delta",
     lambda *a: bptt(*a, slip="carry_dh"), "differs"),
    ("ch04-bptt-output-tests", "dW_hh with h_t",
     lambda *a: ch04.lm_gradients(*a, variant="h_t_in_dW_hh"), "previous state"),
    ("ch04-bptt-output-tests", "ignoring h0", lambda *a: bptt(*a, slip="zero_h0"), "differs"),
    ("ch04-bptt-output-tests", "tanh derivative at h_(t-1)",
     lambda *a: bptt(*a, slip="prev_deriv"), "differs"),
    ("ch04-bptt-output-tests", "token mean",
     lambda *a: ch04.lm_gradients(*a, variant="token_mean"), "mean over tokens"),
    ("ch04-bptt-output-tests", "targets shifted by one step",
     lambda *a: bptt(*a, slip="shifted"), "differs"),
    ("ch04-grad-h0-tests", "tanh derivative after W_hh, at h_(t-1)",
     lambda *a: h0_grad(*a, slip="after"), "differs"),
    ("ch04-grad-h0-tests", "W_hh.T",
     lambda *a: ch04.grad_h0_reference(*a, variant="transpose"), "W_hh.T"),
    ("ch04-grad-h0-tests", "one step short",
     lambda *a: ch04.grad_h0_reference(*a, variant="one_short"), "one step early"),
    ("ch04-grad-h0-tests", "no tanh derivative",
     lambda *a: ch04.grad_h0_reference(*a, variant="no_deriv"), "tanh derivative"),
    ("ch04-grad-h0-tests", "an extra factor at h_0",
     lambda *a: h0_grad(*a, slip="extra_h0"), "differs"),
    ("ch04-grad-h0-tests", "matrix_power(W_hh, T) with one derivative",
     lambda *a: h0_grad(*a, slip="matrix_power"), "differs"),
    ("ch04-grad-h0-tests", "forward from a zero state",
     lambda *a: h0_grad(*a, slip="zero_h0"), "differs"),
    ("ch04-grad-h0-tests", "in place: g = dh_T; g *= ...",
     lambda *a: h0_grad(*a, slip="in_place"), "changes its argument `dh_T`"),
    ("ch04-numerical-gradient-tests", "forward difference", one_sided, "one-sided"),
    ("ch04-numerical-gradient-tests", "perturbs x.reshape(-1)", via_reshape, "transposed x"),
    ("ch04-numerical-gradient-tests", "ignores eps (1e-6 hard-coded)",
     lambda f, x, eps=1e-5: central(f, x, 1e-6), "does not use the eps"),
    ("ch04-numerical-gradient-tests", "loops over the first axis only", first_axis_only,
     "differs"),
    ("ch04-numerical-gradient-tests", "restores x by arithmetic", restored_by_arithmetic,
     "last bits"),
    ("ch04-numerical-gradient-tests", "an integer-typed result", integer_result, "differs"),
    ("ch04-jacobian-norms-tests", "W_hh.T in each factor",
     lambda W, h: jac_norms(W, h, "transpose"), "differs"),
    ("ch04-jacobian-norms-tests", "W_hh @ diag(d): columns scaled",
     lambda W, h: jac_norms(W, h, "columns"), "differs"),
    ("ch04-jacobian-norms-tests", "spectral radius instead of spectral norm",
     lambda W, h: jac_norms(W, h, "radius"), "differs"),
    ("ch04-jacobian-norms-tests", "factors in reverse order",
     lambda W, h: ch04.jacobian_norms_reference(W, h, "reversed"), "reverse order"),
    ("ch04-jacobian-norms-tests", "derivative at h_k",
     lambda W, h: ch04.jacobian_norms_reference(W, h, "prev_deriv"), "h_(t-1)"),
    ("ch04-jacobian-norms-tests", "product of the factors' norms",
     lambda W, h: jac_norms(W, h, "factors"), "differs"),
    ("ch04-jacobian-norms-tests", "Frobenius norm",
     lambda W, h: ch04.jacobian_norms_reference(W, h, "fro"), "Frobenius"),
    ("ch04-jacobian-norms-tests", "largest absolute entry",
     lambda W, h: jac_norms(W, h, "max_entry"), "differs"),
    ("ch04-jacobian-norms-tests", "entries in distance order",
     lambda W, h: jac_norms(W, h)[::-1], "identity"),
    ("ch04-clip-tests", "clip by value",
     lambda g, m: ([np.clip(a, -m, m) for a in g], global_norm(g)), "by value"),
    ("ch04-clip-tests", "per-array norm",
     lambda g, m: ([a * min(1, m / np.linalg.norm(a)) for a in g], global_norm(g)),
     "its own norm"),
    ("ch04-clip-tests", "g *= scale in place", clip_scale_in_place,
     "changes its argument `grads`"),
    ("ch04-clip-tests", "the inputs returned when not clipping", same_arrays_when_small,
     "not a new array"),
    ("ch04-clip-tests", "np.linalg.norm(g, 2): spectral norm of each matrix", clip_spectral,
     "expected"),
    ("ch04-clip-tests", "always rescale",
     lambda g, m: ([a * m / global_norm(g) for a in g], global_norm(g)), "already below"),
    ("ch04-clip-tests", "the norm after clipping",
     lambda g, m: (clip_reference(g, m)[0], min(m, global_norm(g))), "after clipping"),
    ("ch04-clip-tests", "float32 arithmetic", clip_float32, "float32"),
    ("ch04-clip-tests", "L1 global norm", clip_norm_l1, "expected"),
    ("ch04-clip-tests", "list(grads) returned when not clipping", clip_list_of_inputs,
     "not a new array"),
    ("ch04-clip-tests", "clip in place, then return copies", clip_in_place_then_copy,
     "changes its argument `grads`"),
    ("ch04-clip-tests", "all-zero gradients: min(1, max_norm / norm) divides by zero",
     clip_global_norm, "divides by zero"),
    ("ch04-truncated-tests", "restart each chunk from h0",
     lambda *a: ch04.truncated_reference(*a, variant="reset"), "restarts every chunk"),
    ("ch04-truncated-tests", "restart each chunk from zeros",
     lambda *a: truncated(*a, slip="zeros"), "differs"),
    ("ch04-truncated-tests", "drop the last partial chunk",
     lambda *a: truncated(*a, slip="drop_last"), "differs"),
    ("ch04-truncated-tests", "zero previous state in each chunk's first dW_hh term",
     lambda *a: truncated(*a, slip="zero_first"), "differs"),
    ("ch04-truncated-tests", "transposed", lambda *a: truncated(*a).T, "transposed"),
    ("ch04-truncated-tests", "a sliding window of k steps per loss",
     lambda *a: truncated(*a, slip="window"), "differs"),
    ("ch04-truncated-tests", "cut one step off the chunk boundary",
     lambda *a: truncated(*a, slip="off_by_one"), "differs"),
    ("ch04-truncated-tests", "in place: total = dh[:, t]; total += carry",
     lambda *a: truncated(*a, slip="in_place"), "changes its argument `dh`"),
]

CHECKS = {
    "ch04-step-backward-tests": ch04.check_rnn_step_backward,
    "ch04-bptt-output-tests": ch04.check_bptt_with_output,
    "ch04-grad-h0-tests": ch04.check_grad_h0,
    "ch04-numerical-gradient-tests": ch04.check_numerical_gradient,
    "ch04-jacobian-norms-tests": ch04.check_jacobian_norms_by_k,
    "ch04-clip-tests": ch04.check_clip_global_norm,
    "ch04-truncated-tests": ch04.check_truncated_grad_W_hh,
}

# The right answers, written as a learner might: the visible checks and the hidden tests pass
# them (test_ch04_hidden_tests.py reuses this table).
RIGHT = {
    "ch04-step-backward-tests": step_backward,
    "ch04-bptt-output-tests": bptt,
    "ch04-grad-h0-tests": h0_grad,
    "ch04-numerical-gradient-tests": central,
    "ch04-jacobian-norms-tests": jac_norms,
    "ch04-clip-tests": clip_reference,
    "ch04-truncated-tests": truncated,
}


@pytest.mark.parametrize("grade_id", sorted(RIGHT))
def test_the_right_answers_pass(grade_id, capsys):
    CHECKS[grade_id](RIGHT[grade_id])
    assert capsys.readouterr().out.startswith("passed: ")


@pytest.mark.parametrize("index", range(len(REVIEW_WRONG)),
                         ids=[f"{g[5:-6]}: {w}" for g, w, _, _ in REVIEW_WRONG])
def test_the_reviews_wrong_answers_fail_the_visible_check(index):
    grade_id, _, answer, words = REVIEW_WRONG[index]
    message = failure(CHECKS[grade_id], answer)
    assert words in message


@pytest.mark.parametrize("index", [i for i, entry in enumerate(REVIEW_WRONG)
                                   if "in place" in entry[1] or "g *= scale" in entry[1]])
def test_an_answer_that_changes_its_input_is_told_so_and_nothing_else(index):
    """The check names the changed argument before judging a value: it never blames tanh (or
    anything else) for the numbers an in-place answer computed from the caller's array."""
    grade_id, _, answer, _ = REVIEW_WRONG[index]
    message = failure(CHECKS[grade_id], answer)
    assert "in place" in message
    assert "tanh" not in message and "differs" not in message


def test_the_in_place_step_answer_returns_the_right_gradients():
    """The review's in-place answer of exercise 1 is right in value: only the input changes."""
    rng = np.random.default_rng(0)
    args = [rng.normal(size=s) for s in ((2, 3), (2, 4), (2, 3), (2, 3), (3, 4), (3, 3))]
    want = step_backward(*args)
    got = step_in_place(*[a.copy() for a in args])
    assert all(np.allclose(g, w) for g, w in zip(got, want, strict=True))


def test_numerical_gradient_is_checked_with_a_transposed_x():
    """call_unchanged's copy keeps a transposed x non-contiguous, so x.reshape(-1) is a copy."""
    x = np.random.default_rng(0).normal(size=(3, 4)).T
    copy = np.array(x, copy=True)
    assert not copy.flags.c_contiguous
    assert not np.shares_memory(copy.reshape(-1), copy)


def test_numerical_gradient_at_eps_1e_3_differs_from_the_gradient():
    """The eps=1e-3 case can tell a fixed step from the one given: the two differ by far more
    than the check's tolerance (1e-9)."""
    x = np.random.default_rng(1).normal(size=(2, 3))

    def f(v):
        return ch04._curvy(v.reshape(-1))
    exact = ch04._curvy_grad(x.reshape(-1)).reshape(x.shape)
    assert relative_error(central(f, x.copy(), 1e-3), exact) > 1e-7
    assert relative_error(central(f, x.copy(), 1e-6), exact) < 1e-9


def test_the_clipping_reference_handles_all_zero_gradients():
    zeros = [np.zeros((3, 4)), np.zeros(5)]
    clipped, norm = clip_reference(zeros, 1.0)
    assert norm == 0.0 and all(np.array_equal(c, z) for c, z in zip(clipped, zeros, strict=True))
    with pytest.raises(ZeroDivisionError):
        clip_global_norm(zeros, 1.0)          # the chapter's old reference solution


def test_the_float32_norm_message_tells_the_two_numbers_apart():
    message = failure(ch04.check_clip_global_norm, clip_float32)
    got, expected = message.split("your `norm` is ")[1].split("; expected ")
    assert got != expected.split(",")[0]
    assert "float32" in message


def test_jacobian_norms_by_k_is_the_library_version_reversed():
    """entry k here is entry d - 1 = T - k - 1 of rnnbook.scratch.jacobian.jacobian_norms."""
    from rnnbook.scratch.jacobian import jacobian_norms
    rng = np.random.default_rng(3)
    W, h = rng.normal(size=(4, 4)), np.tanh(rng.normal(size=(7, 4)))
    by_k = ch04.jacobian_norms_reference(W, h)
    assert np.allclose(by_k[:-1], jacobian_norms(1 - h[1:] ** 2, W)[::-1])
    assert by_k[-1] == 1.0


def test_a_failed_check_in_a_graded_cell_is_printed_and_the_cell_goes_on(capsys):
    """Inside ``credit.visible()`` after a hidden case, as in the test cells of exercises.ipynb."""
    credit = Credit(points=2)
    with credit.case("a hidden case"):
        pass
    with credit.visible():
        ch04.check_rnn_step_backward(step_in_place)
    with credit.visible():
        raise TypeError("a bug in the answer")
    out, err = capsys.readouterr()
    assert out.startswith("failed: the visible check: your `rnn_step_backward` changes")
    assert "failed: the visible check: TypeError: a bug in the answer" in out
    assert err == "" and max(len(line) for line in out.splitlines()) <= 79
    assert credit.earned() == 2.0
    with pytest.raises(KeyboardInterrupt), credit.visible():
        raise KeyboardInterrupt


def test_a_failed_check_in_the_learners_copy_fails_the_cell():
    """No hidden case ran (nbgrader removed them): the check raises as it does on its own."""
    with pytest.raises(CheckFailed, match="changes"), Credit(points=2).visible():
        ch04.check_rnn_step_backward(step_in_place)


def clip_torch_style_answer(grads, max_norm):
    """Divides by norm + 1e-6, as torch does: the norm is right, the clipped arrays are not."""
    return torch_style(grads, max_norm)
