"""rnnbook.checks.ch04: each check accepts the reference answer and rejects plausible wrong ones."""

import numpy as np
import pytest
import torch

from rnnbook.checks import CheckFailed, ch04


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
    (not_restored, "changed its argument"),
    (restored_by_arithmetic, "last bits"),
    (lambda f, x, eps=1e-5: np.full_like(x, (f(x + eps) - f(x - eps)) / (2 * eps)), "differs"),
    (lambda f, x, eps=1e-5: central(f, x, eps).ravel(), "shape"),
    (not_written, "not written yet"),
])
def test_numerical_gradient_wrong_answers(answer, words):
    assert words in failure(ch04.check_numerical_gradient, answer)


# -------------------------------------------------------------------------- 5. jacobian norms

def jacobian_norms(W_hh, h):
    T = h.shape[0] - 1
    J, norms = np.eye(W_hh.shape[0]), [1.0]
    for t in range(T, 0, -1):
        J = J @ ((1 - h[t] ** 2)[:, None] * W_hh)
        norms.append(np.linalg.norm(J, 2))
    return np.array(norms[::-1])


def test_jacobian_norms_reference_passes(capsys):
    ch04.check_jacobian_norms(jacobian_norms)
    assert "passed: jacobian_norms" in capsys.readouterr().out


@pytest.mark.parametrize("variant, words", [
    ("prev_deriv", "h_(t-1)"), ("no_deriv", "power of W_hh"), ("reversed", "reverse order"),
    ("fro", "Frobenius"),
])
def test_jacobian_norms_wrong_variants(variant, words):
    assert words in failure(ch04.check_jacobian_norms,
                            lambda W, h: ch04.jacobian_norms_reference(W, h, variant))


def test_jacobian_norms_other_wrong_answers():
    assert "shape" in failure(ch04.check_jacobian_norms, lambda W, h: jacobian_norms(W, h)[:-1])
    assert "identity" in failure(ch04.check_jacobian_norms,
                                 lambda W, h: jacobian_norms(W, h)[::-1])
    assert "differs" in failure(ch04.check_jacobian_norms,
                                lambda W, h: np.abs(np.linalg.eigvals(W)).max()
                                ** np.arange(h.shape[0])[::-1])
    assert "not written yet" in failure(ch04.check_jacobian_norms, not_written)


# ------------------------------------------------------------------------ 6. clip global norm

def clip_global_norm(grads, max_norm):
    norm = float(np.sqrt(sum(np.sum(g**2) for g in grads)))
    scale = min(1.0, max_norm / norm)
    return [g * scale for g in grads], norm


def test_clip_reference_passes(capsys):
    ch04.check_clip_global_norm(clip_global_norm)
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
    (in_place, "modified"),
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
