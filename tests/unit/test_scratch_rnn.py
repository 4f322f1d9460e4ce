"""The scratch vanilla RNN: gradient checks, equality with torch.nn.RNN, random shapes."""

import numpy as np
import pytest
import torch
from hypothesis import example, given, settings
from hypothesis import strategies as st

from rnnbook.scratch import (
    numerical_gradient,
    relative_error,
    rnn_backward,
    rnn_forward,
    rnn_step_backward,
    rnn_step_forward,
)

GRAD_TOL = 1e-7
TORCH_TOL = 1e-10


def make_rnn(rng, N=2, T=3, D=3, H=4, dtype=np.float64):
    """Random inputs and parameters of a vanilla RNN, scaled so that tanh is not saturated."""
    return dict(x=rng.standard_normal((N, T, D)).astype(dtype),
                h0=rng.standard_normal((N, H)).astype(dtype),
                W_xh=(0.5 * rng.standard_normal((H, D))).astype(dtype),
                W_hh=(0.5 * rng.standard_normal((H, H))).astype(dtype),
                b=(0.5 * rng.standard_normal(H)).astype(dtype))


def torch_rnn(p, dh):
    """Forward and backward of torch.nn.RNN with the weights of ``p`` (b split into two biases)."""
    N, T, D = p["x"].shape
    H = p["h0"].shape[1]
    rnn = torch.nn.RNN(D, H, nonlinearity="tanh", batch_first=True).double()
    b_ih = np.linspace(-1, 1, H)  # any split of b into b_ih + b_hh gives the same network
    with torch.no_grad():
        rnn.weight_ih_l0.copy_(torch.from_numpy(p["W_xh"]))
        rnn.weight_hh_l0.copy_(torch.from_numpy(p["W_hh"]))
        rnn.bias_ih_l0.copy_(torch.from_numpy(b_ih))
        rnn.bias_hh_l0.copy_(torch.from_numpy(p["b"] - b_ih))
    x = torch.tensor(p["x"], requires_grad=True)
    h0 = torch.tensor(p["h0"][None], requires_grad=True)
    out, h_n = rnn(x, h0)
    out.backward(torch.from_numpy(dh))
    assert torch.equal(h_n[0], out[:, -1])
    grads = (x.grad, h0.grad[0], rnn.weight_ih_l0.grad, rnn.weight_hh_l0.grad, rnn.bias_ih_l0.grad)
    return out.detach().numpy(), [g.numpy() for g in grads]


def test_step_forward_matches_the_equation():
    rng = np.random.default_rng(0)
    p = make_rnn(rng)
    x = p["x"][:, 0]
    h_next, _ = rnn_step_forward(x, p["h0"], p["W_xh"], p["W_hh"], p["b"])
    for n in range(x.shape[0]):  # one example at a time, column-vector form of the notation page
        a = p["W_xh"] @ x[n] + p["W_hh"] @ p["h0"][n] + p["b"]
        np.testing.assert_allclose(h_next[n], np.tanh(a), rtol=0, atol=1e-15)


def test_step_backward_gradient_check():
    rng = np.random.default_rng(1)
    p = make_rnn(rng)
    x, h_prev, W_xh, W_hh, b = p["x"][:, 0], p["h0"], p["W_xh"], p["W_hh"], p["b"]
    h_next, cache = rnn_step_forward(x, h_prev, W_xh, W_hh, b)
    dh_next = rng.standard_normal(h_next.shape)
    grads = rnn_step_backward(dh_next, cache)

    def f(_):
        return rnn_step_forward(x, h_prev, W_xh, W_hh, b)[0]

    for name, value, grad in zip(["x", "h_prev", "W_xh", "W_hh", "b"],
                                 [x, h_prev, W_xh, W_hh, b], grads, strict=True):
        assert grad.shape == value.shape, name
        assert relative_error(grad, numerical_gradient(f, value, dh_next)) < GRAD_TOL, name


def test_sequence_backward_gradient_check():
    rng = np.random.default_rng(2)
    p = make_rnn(rng, N=2, T=4, D=3, H=4)
    h, cache = rnn_forward(**p)
    dh = rng.standard_normal(h.shape)
    grads = rnn_backward(dh, cache)

    def f(_):
        return rnn_forward(**p)[0]

    for name, grad in zip(["x", "h0", "W_xh", "W_hh", "b"], grads, strict=True):
        assert grad.shape == p[name].shape, name
        assert relative_error(grad, numerical_gradient(f, p[name], dh)) < GRAD_TOL, name


def test_sequence_equals_the_loop_of_steps():
    rng = np.random.default_rng(3)
    p = make_rnn(rng, T=5)
    h, _ = rnn_forward(**p)
    h_t = p["h0"]
    for t in range(5):
        h_t, _ = rnn_step_forward(p["x"][:, t], h_t, p["W_xh"], p["W_hh"], p["b"])
        np.testing.assert_array_equal(h[:, t], h_t)


def test_matches_torch_rnn():
    rng = np.random.default_rng(4)
    p = make_rnn(rng, N=3, T=6, D=5, H=4)
    h, cache = rnn_forward(**p)
    dh = rng.standard_normal(h.shape)
    out, torch_grads = torch_rnn(p, dh)
    np.testing.assert_allclose(h, out, rtol=0, atol=TORCH_TOL)
    for name, ours, theirs in zip(["dx", "dh0", "dW_xh", "dW_hh", "db"], rnn_backward(dh, cache),
                                  torch_grads, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=0, atol=TORCH_TOL, err_msg=name)


def test_float32_stays_float32():
    rng = np.random.default_rng(5)
    p = make_rnn(rng, dtype=np.float32)
    h, cache = rnn_forward(**p)
    grads = rnn_backward(rng.standard_normal(h.shape).astype(np.float32), cache)
    assert h.dtype == np.float32
    assert all(g.dtype == np.float32 for g in grads)


def test_backward_rejects_a_wrong_upstream_shape():
    rng = np.random.default_rng(6)
    p = make_rnn(rng, N=2, T=3, H=4)
    h, cache = rnn_forward(**p)
    with pytest.raises(ValueError, match=r"dh: expected shape \(N, T, H\) = \(2, 3, 4\), "
                                         r"got \(2, 4, 3\)"):
        rnn_backward(np.zeros((2, 4, 3)), cache)
    _, step_cache = rnn_step_forward(p["x"][:, 0], p["h0"], p["W_xh"], p["W_hh"], p["b"])
    with pytest.raises(ValueError, match=r"dh_next: expected shape \(N, H\) = \(2, 4\)"):
        rnn_step_backward(np.zeros((2, 5)), step_cache)


sizes = st.integers(min_value=1, max_value=4)


@settings(max_examples=50, deadline=None)
@given(N=sizes, T=sizes, D=sizes, H=sizes, seed=st.integers(0, 2**32 - 1))
@example(N=1, T=1, D=1, H=1, seed=0)
def test_random_shapes_match_torch(N, T, D, H, seed):
    rng = np.random.default_rng(seed)
    p = make_rnn(rng, N, T, D, H)
    h, cache = rnn_forward(**p)
    assert h.shape == (N, T, H)
    dh = rng.standard_normal(h.shape)
    out, torch_grads = torch_rnn(p, dh)
    np.testing.assert_allclose(h, out, rtol=0, atol=TORCH_TOL)
    for ours, theirs in zip(rnn_backward(dh, cache), torch_grads, strict=True):
        assert ours.shape == theirs.shape
        np.testing.assert_allclose(ours, theirs, rtol=0, atol=TORCH_TOL)


@settings(max_examples=20, deadline=None)
@given(N=sizes, T=sizes, D=sizes, H=sizes, seed=st.integers(0, 2**32 - 1))
@example(N=1, T=1, D=1, H=1, seed=0)
def test_random_shapes_gradient_check(N, T, D, H, seed):
    rng = np.random.default_rng(seed)
    p = make_rnn(rng, N, T, D, H)
    h, cache = rnn_forward(**p)
    dh = rng.standard_normal(h.shape)
    dW_hh = rnn_backward(dh, cache)[3]
    num = numerical_gradient(lambda _: rnn_forward(**p)[0], p["W_hh"], dh)
    assert relative_error(dW_hh, num) < GRAD_TOL
