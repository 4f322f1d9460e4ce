"""The scratch LSTM: gradient checks, the fast sequence path against the readable steps, torch."""

import numpy as np
import pytest
import torch
from hypothesis import example, given, settings
from hypothesis import strategies as st

from rnnbook.scratch import (
    lstm_backward,
    lstm_backward_by_steps,
    lstm_final_state,
    lstm_forward,
    lstm_forward_by_steps,
    lstm_step_backward,
    lstm_step_forward,
    numerical_gradient,
    relative_error,
    sigmoid,
)

GRAD_TOL = 1e-7
TORCH_TOL = 1e-10


def make_lstm(rng, N=2, T=3, D=3, H=4, dtype=np.float64):
    """Random inputs and parameters of an LSTM (c0 included), scaled to keep the gates lively."""
    return dict(x=rng.standard_normal((N, T, D)).astype(dtype),
                h0=rng.standard_normal((N, H)).astype(dtype),
                W_xh=(0.5 * rng.standard_normal((4 * H, D))).astype(dtype),
                W_hh=(0.5 * rng.standard_normal((4 * H, H))).astype(dtype),
                b=(0.5 * rng.standard_normal(4 * H)).astype(dtype),
                c0=rng.standard_normal((N, H)).astype(dtype))


def lstm_by_steps(p, dh):
    """Forward and full BPTT through the readable step loop: (h, c_T, grads, dc0)."""
    h, c_T, caches = lstm_forward_by_steps(p["x"], p["h0"], p["W_xh"], p["W_hh"], p["b"], p["c0"])
    *grads, dc0 = lstm_backward_by_steps(dh, caches)
    return h, c_T, tuple(grads), dc0


def torch_lstm(p, dh):
    """Forward and backward of torch.nn.LSTM with the weights of ``p``."""
    N, T, D = p["x"].shape
    H = p["h0"].shape[1]
    lstm = torch.nn.LSTM(D, H, batch_first=True).double()
    b_ih = np.linspace(-1, 1, 4 * H)
    with torch.no_grad():
        lstm.weight_ih_l0.copy_(torch.from_numpy(p["W_xh"]))
        lstm.weight_hh_l0.copy_(torch.from_numpy(p["W_hh"]))
        lstm.bias_ih_l0.copy_(torch.from_numpy(b_ih))
        lstm.bias_hh_l0.copy_(torch.from_numpy(p["b"] - b_ih))
    x = torch.tensor(p["x"], requires_grad=True)
    h0 = torch.tensor(p["h0"][None], requires_grad=True)
    c0 = torch.tensor(p["c0"][None], requires_grad=True)
    out, (h_n, c_n) = lstm(x, (h0, c0))
    out.backward(torch.from_numpy(dh))
    grads = (x.grad, h0.grad[0], lstm.weight_ih_l0.grad, lstm.weight_hh_l0.grad,
             lstm.bias_ih_l0.grad)
    return (out.detach().numpy(), c_n[0].detach().numpy(), [g.numpy() for g in grads],
            c0.grad[0].numpy())


def test_step_forward_matches_the_equations():
    rng = np.random.default_rng(0)
    p = make_lstm(rng, H=3)
    H = 3
    x, h_prev, c_prev = p["x"][:, 0], p["h0"], p["c0"]
    h_next, c_next, _ = lstm_step_forward(x, h_prev, c_prev, p["W_xh"], p["W_hh"], p["b"])
    for n in range(x.shape[0]):  # column-vector form, one example at a time
        a = p["W_xh"] @ x[n] + p["W_hh"] @ h_prev[n] + p["b"]
        i, f = 1 / (1 + np.exp(-a[:H])), 1 / (1 + np.exp(-a[H:2 * H]))
        g, o = np.tanh(a[2 * H:3 * H]), 1 / (1 + np.exp(-a[3 * H:]))
        c = f * c_prev[n] + i * g
        np.testing.assert_allclose(c_next[n], c, rtol=0, atol=1e-15)
        np.testing.assert_allclose(h_next[n], o * np.tanh(c), rtol=0, atol=1e-15)


def test_step_backward_gradient_check():
    rng = np.random.default_rng(1)
    p = make_lstm(rng)
    args = dict(x=p["x"][:, 0], h_prev=p["h0"], c_prev=p["c0"], W_xh=p["W_xh"], W_hh=p["W_hh"],
                b=p["b"])
    h_next, c_next, cache = lstm_step_forward(**args)
    dh_next, dc_next = rng.standard_normal(h_next.shape), rng.standard_normal(c_next.shape)
    dx, dh_prev, dc_prev, dW_xh, dW_hh, db = lstm_step_backward(dh_next, dc_next, cache)
    grads = dict(x=dx, h_prev=dh_prev, c_prev=dc_prev, W_xh=dW_xh, W_hh=dW_hh, b=db)

    def f(_):  # both outputs feed the loss: sum(dh_next * h_next) + sum(dc_next * c_next)
        h, c, _ = lstm_step_forward(**args)
        return np.stack([h, c])

    upstream = np.stack([dh_next, dc_next])
    for name, grad in grads.items():
        assert grad.shape == args[name].shape, name
        num = numerical_gradient(f, args[name], upstream)
        assert relative_error(grad, num) < GRAD_TOL, name


def test_sequence_backward_gradient_check():
    rng = np.random.default_rng(2)
    p = make_lstm(rng, N=2, T=4, D=3, H=3)
    h, cache = lstm_forward(**p)
    dh = rng.standard_normal(h.shape)
    grads = lstm_backward(dh, cache)

    def f(_):
        return lstm_forward(**p)[0]

    for name, grad in zip(["x", "h0", "W_xh", "W_hh", "b"], grads, strict=True):
        assert grad.shape == p[name].shape, name
        assert relative_error(grad, numerical_gradient(f, p[name], dh)) < GRAD_TOL, name


@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-14), (np.float32, 1e-5)])
def test_fast_sequence_equals_the_readable_steps(dtype, tol):
    rng = np.random.default_rng(3)
    p = make_lstm(rng, N=3, T=7, D=5, H=4, dtype=dtype)
    h, cache = lstm_forward(**p)
    dh = rng.standard_normal(h.shape).astype(dtype)
    h_steps, c_T, grads_steps, _ = lstm_by_steps(p, dh)
    np.testing.assert_allclose(h, h_steps, rtol=0, atol=tol)
    h_T, c_T_fast = lstm_final_state(cache)
    np.testing.assert_array_equal(h_T, h[:, -1])
    np.testing.assert_allclose(c_T_fast, c_T, rtol=0, atol=tol)
    for ours, steps in zip(lstm_backward(dh, cache), grads_steps, strict=True):
        assert ours.dtype == dtype
        np.testing.assert_allclose(ours, steps, rtol=0, atol=tol * 10)


def test_c0_defaults_to_zeros():
    rng = np.random.default_rng(4)
    p = make_lstm(rng)
    p["c0"] = np.zeros_like(p["h0"])
    h_given, _ = lstm_forward(**p)
    del p["c0"]
    h_default, _ = lstm_forward(**p)
    np.testing.assert_array_equal(h_given, h_default)


def test_matches_torch_lstm():
    rng = np.random.default_rng(5)
    p = make_lstm(rng, N=3, T=6, D=5, H=4)
    h, cache = lstm_forward(**p)
    dh = rng.standard_normal(h.shape)
    out, c_n, torch_grads, dc0 = torch_lstm(p, dh)
    np.testing.assert_allclose(h, out, rtol=0, atol=TORCH_TOL)
    np.testing.assert_allclose(lstm_final_state(cache)[1], c_n, rtol=0, atol=TORCH_TOL)
    for name, ours, theirs in zip(["dx", "dh0", "dW_xh", "dW_hh", "db"],
                                  lstm_backward(dh, cache), torch_grads, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=0, atol=TORCH_TOL, err_msg=name)
    # the step functions also give the gradient with respect to c0
    np.testing.assert_allclose(lstm_by_steps(p, dh)[3], dc0, rtol=0, atol=TORCH_TOL)


def test_gates_do_not_overflow():
    """Huge pre-activations saturate the gates without warnings or NaN (float32 and float64)."""
    for dtype in (np.float32, np.float64):
        x = np.full((1, 2, 1), 1e4, dtype=dtype)
        h0 = np.zeros((1, 1), dtype=dtype)
        W_xh = np.array([[1.0], [-1.0], [1.0], [-1.0]], dtype=dtype)  # i, f, g, o -> 1, 0, 1, 0
        W_hh = np.zeros((4, 1), dtype=dtype)
        b = np.zeros(4, dtype=dtype)
        with np.errstate(over="raise", divide="raise", invalid="raise"):
            h, cache = lstm_forward(x, h0, W_xh, W_hh, b)
            lstm_backward(np.ones_like(h), cache)
        np.testing.assert_array_equal(h, 0.0)
        np.testing.assert_array_equal(lstm_final_state(cache)[1], 1.0)
        np.testing.assert_array_equal(sigmoid(np.array([-1e4, 0.0, 1e4], dtype=dtype)),
                                      [0.0, 0.5, 1.0])


def test_backward_rejects_a_wrong_upstream_shape():
    rng = np.random.default_rng(6)
    p = make_lstm(rng, N=2, T=3, H=4)
    _, cache = lstm_forward(**p)
    with pytest.raises(ValueError, match=r"dh: expected shape \(N, T, H\) = \(2, 3, 4\), "
                                         r"got \(3, 2, 4\)"):
        lstm_backward(np.zeros((3, 2, 4)), cache)
    _, _, step_cache = lstm_step_forward(p["x"][:, 0], p["h0"], p["c0"], p["W_xh"], p["W_hh"],
                                         p["b"])
    with pytest.raises(ValueError, match=r"dc_next: expected shape \(N, H\) = \(2, 4\), "
                                         r"got \(2, 3\)"):
        lstm_step_backward(np.zeros((2, 4)), np.zeros((2, 3)), step_cache)


sizes = st.integers(min_value=1, max_value=4)


@settings(max_examples=50, deadline=None)
@given(N=sizes, T=sizes, D=sizes, H=sizes, seed=st.integers(0, 2**32 - 1))
@example(N=1, T=1, D=1, H=1, seed=0)
def test_random_shapes_match_torch_and_steps(N, T, D, H, seed):
    rng = np.random.default_rng(seed)
    p = make_lstm(rng, N, T, D, H)
    h, cache = lstm_forward(**p)
    assert h.shape == (N, T, H)
    dh = rng.standard_normal(h.shape)
    grads = lstm_backward(dh, cache)
    out, _, torch_grads, _ = torch_lstm(p, dh)
    h_steps, _, step_grads, _ = lstm_by_steps(p, dh)
    np.testing.assert_allclose(h, out, rtol=0, atol=TORCH_TOL)
    np.testing.assert_allclose(h, h_steps, rtol=0, atol=TORCH_TOL)
    for ours, theirs, steps in zip(grads, torch_grads, step_grads, strict=True):
        assert ours.shape == theirs.shape
        np.testing.assert_allclose(ours, theirs, rtol=0, atol=TORCH_TOL)
        np.testing.assert_allclose(ours, steps, rtol=0, atol=TORCH_TOL)


@settings(max_examples=20, deadline=None)
@given(N=sizes, T=sizes, D=sizes, H=sizes, seed=st.integers(0, 2**32 - 1))
@example(N=1, T=1, D=1, H=1, seed=0)
def test_random_shapes_gradient_check(N, T, D, H, seed):
    rng = np.random.default_rng(seed)
    p = make_lstm(rng, N, T, D, H)
    h, cache = lstm_forward(**p)
    dh = rng.standard_normal(h.shape)
    dW_hh = lstm_backward(dh, cache)[3]
    num = numerical_gradient(lambda _: lstm_forward(**p)[0], p["W_hh"], dh)
    assert relative_error(dW_hh, num) < GRAD_TOL
