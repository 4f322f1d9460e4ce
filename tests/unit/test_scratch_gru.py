"""The scratch GRU: gradient checks, equality with torch.nn.GRU, random shapes."""

import numpy as np
import pytest
import torch
from hypothesis import example, given, settings
from hypothesis import strategies as st

from rnnbook.scratch import (
    gru_backward,
    gru_forward,
    gru_step_backward,
    gru_step_forward,
    numerical_gradient,
    relative_error,
)
from rnnbook.scratch.gru import gru_state_jacobian

GRAD_TOL = 1e-7
TORCH_TOL = 1e-10
NAMES = ["x", "h0", "W_xh", "W_hh", "b_xh", "b_hh"]


def make_gru(rng, N=2, T=3, D=3, H=4, dtype=np.float64):
    """Random inputs and parameters of a GRU."""
    return dict(x=rng.standard_normal((N, T, D)).astype(dtype),
                h0=rng.standard_normal((N, H)).astype(dtype),
                W_xh=(0.5 * rng.standard_normal((3 * H, D))).astype(dtype),
                W_hh=(0.5 * rng.standard_normal((3 * H, H))).astype(dtype),
                b_xh=(0.5 * rng.standard_normal(3 * H)).astype(dtype),
                b_hh=(0.5 * rng.standard_normal(3 * H)).astype(dtype))


def torch_gru(p, dh):
    """Forward and backward of torch.nn.GRU with the weights of ``p``."""
    N, T, D = p["x"].shape
    H = p["h0"].shape[1]
    gru = torch.nn.GRU(D, H, batch_first=True).double()
    with torch.no_grad():
        for name, key in [("weight_ih_l0", "W_xh"), ("weight_hh_l0", "W_hh"),
                          ("bias_ih_l0", "b_xh"), ("bias_hh_l0", "b_hh")]:
            getattr(gru, name).copy_(torch.from_numpy(p[key]))
    x = torch.tensor(p["x"], requires_grad=True)
    h0 = torch.tensor(p["h0"][None], requires_grad=True)
    out, _ = gru(x, h0)
    out.backward(torch.from_numpy(dh))
    grads = (x.grad, h0.grad[0], gru.weight_ih_l0.grad, gru.weight_hh_l0.grad,
             gru.bias_ih_l0.grad, gru.bias_hh_l0.grad)
    return out.detach().numpy(), [g.numpy() for g in grads]


def test_step_forward_matches_the_equations():
    rng = np.random.default_rng(0)
    H = 3
    p = make_gru(rng, H=H)
    x, h = p["x"][:, 0], p["h0"]
    h_next, _ = gru_step_forward(x, h, p["W_xh"], p["W_hh"], p["b_xh"], p["b_hh"])
    W_xh, W_hh, b_xh, b_hh = p["W_xh"], p["W_hh"], p["b_xh"], p["b_hh"]
    rows = {"r": slice(0, H), "z": slice(H, 2 * H), "n": slice(2 * H, 3 * H)}
    for n in range(x.shape[0]):
        def pre(gate, n=n):  # the input and hidden terms of one block, column-vector form
            k = rows[gate]
            return W_xh[k] @ x[n] + b_xh[k], W_hh[k] @ h[n] + b_hh[k]
        r = 1 / (1 + np.exp(-sum(pre("r"))))
        z = 1 / (1 + np.exp(-sum(pre("z"))))
        xn, hn = pre("n")
        cand = np.tanh(xn + r * hn)
        np.testing.assert_allclose(h_next[n], (1 - z) * cand + z * h[n], rtol=0, atol=1e-15)


def test_step_backward_gradient_check():
    rng = np.random.default_rng(1)
    p = make_gru(rng)
    args = dict(x=p["x"][:, 0], h_prev=p["h0"], W_xh=p["W_xh"], W_hh=p["W_hh"],
                b_xh=p["b_xh"], b_hh=p["b_hh"])
    h_next, cache = gru_step_forward(**args)
    dh_next = rng.standard_normal(h_next.shape)
    grads = gru_step_backward(dh_next, cache)

    def f(_):
        return gru_step_forward(**args)[0]

    for (name, value), grad in zip(args.items(), grads, strict=True):
        assert grad.shape == value.shape, name
        assert relative_error(grad, numerical_gradient(f, value, dh_next)) < GRAD_TOL, name


def test_sequence_backward_gradient_check():
    rng = np.random.default_rng(2)
    p = make_gru(rng, N=2, T=4, D=3, H=3)
    h, cache = gru_forward(**p)
    dh = rng.standard_normal(h.shape)
    grads = gru_backward(dh, cache)

    def f(_):
        return gru_forward(**p)[0]

    for name, grad in zip(NAMES, grads, strict=True):
        assert grad.shape == p[name].shape, name
        assert relative_error(grad, numerical_gradient(f, p[name], dh)) < GRAD_TOL, name


def test_matches_torch_gru():
    rng = np.random.default_rng(3)
    p = make_gru(rng, N=3, T=6, D=5, H=4)
    h, cache = gru_forward(**p)
    dh = rng.standard_normal(h.shape)
    out, torch_grads = torch_gru(p, dh)
    np.testing.assert_allclose(h, out, rtol=0, atol=TORCH_TOL)
    for name, ours, theirs in zip(NAMES, gru_backward(dh, cache), torch_grads, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=0, atol=TORCH_TOL, err_msg="d" + name)


def test_reset_gate_multiplies_the_hidden_bias():
    """b_hn sits inside r * (...): moving it to b_xn changes the output (not so for r and z)."""
    rng = np.random.default_rng(4)
    p = make_gru(rng, H=2)
    moved = dict(p, b_xh=p["b_xh"].copy(), b_hh=p["b_hh"].copy())
    moved["b_xh"][4:] += moved["b_hh"][4:]
    moved["b_hh"][4:] = 0.0
    assert not np.allclose(gru_forward(**p)[0], gru_forward(**moved)[0])
    moved = dict(p, b_xh=p["b_xh"].copy(), b_hh=p["b_hh"].copy())  # r and z blocks: only the sum
    moved["b_xh"][:4] += moved["b_hh"][:4]
    moved["b_hh"][:4] = 0.0
    np.testing.assert_allclose(gru_forward(**p)[0], gru_forward(**moved)[0], rtol=0, atol=1e-15)


def torch_state_jacobian(p):
    """dh_1/dh_0 of torch.nn.GRUCell at the first step of ``p``, by autograd: (N, H, H)."""
    x, h0 = torch.from_numpy(p["x"][:, 0]), torch.from_numpy(p["h0"])
    N, D = x.shape
    H = h0.shape[1]
    cell = torch.nn.GRUCell(D, H).double()
    with torch.no_grad():
        for name, key in [("weight_ih", "W_xh"), ("weight_hh", "W_hh"),
                          ("bias_ih", "b_xh"), ("bias_hh", "b_hh")]:
            getattr(cell, name).copy_(torch.from_numpy(p[key]))
    J = torch.autograd.functional.jacobian(lambda h: cell(x, h), h0)  # (N, H, N, H)
    return J[torch.arange(N), :, torch.arange(N), :].numpy()


def step_args(p):
    return (p["x"][:, 0], p["h0"], p["W_xh"], p["W_hh"], p["b_xh"], p["b_hh"])


def test_state_jacobian_matches_torch_autograd():
    rng = np.random.default_rng(6)
    p = make_gru(rng, N=3, D=4, H=5)
    J = gru_state_jacobian(*step_args(p))
    assert J.shape == (3, 5, 5)
    np.testing.assert_allclose(J, torch_state_jacobian(p), rtol=0, atol=1e-13)


def test_state_jacobian_needs_every_term():
    """Dropping the reset-gate or the update-gate term gives a different Jacobian."""
    rng = np.random.default_rng(7)
    p = make_gru(rng, N=2, D=3, H=4)
    J = gru_state_jacobian(*step_args(p))
    _, (_, _, _, _, r, z, n, q) = gru_step_forward(*step_args(p))
    W_hr, W_hz = p["W_hh"][:4], p["W_hh"][4:8]
    reset_term = ((1 - z) * (1 - n**2) * r * (1 - r) * q)[:, :, None] * W_hr
    update_term = ((p["h0"] - n) * z * (1 - z))[:, :, None] * W_hz
    assert np.abs(reset_term).max() > 1e-2 and np.abs(update_term).max() > 1e-2
    only_z = np.broadcast_to(np.eye(4), J.shape) * z[:, :, None]
    assert np.abs(J - only_z).max() > 1e-2


def test_state_jacobian_is_the_identity_when_the_update_gate_is_shut():
    rng = np.random.default_rng(8)
    p = make_gru(rng, N=2, D=3, H=4)
    p["b_hh"][4:8] += 60.0  # z = sigmoid(. + 60) = 1 in float64
    J = gru_state_jacobian(*step_args(p))
    np.testing.assert_allclose(J, np.broadcast_to(np.eye(4), J.shape), rtol=0, atol=1e-15)


def test_state_jacobian_float32_and_bad_input():
    rng = np.random.default_rng(9)
    p = make_gru(rng, N=2, D=3, H=4, dtype=np.float32)
    J = gru_state_jacobian(*step_args(p))
    assert J.dtype == np.float32
    p64 = make_gru(np.random.default_rng(9), N=2, D=3, H=4)
    np.testing.assert_allclose(J, gru_state_jacobian(*step_args(p64)), rtol=0, atol=1e-5)
    with pytest.raises(ValueError, match="W_hh"):
        gru_state_jacobian(p["x"][:, 0], p["h0"], p["W_xh"], p["W_hh"][:8], p["b_xh"],
                           p["b_hh"])
    with pytest.raises(ValueError, match="h_prev"):
        gru_state_jacobian(p["x"][:, 0], p["h0"][0], p["W_xh"], p["W_hh"], p["b_xh"],
                           p["b_hh"])


def test_backward_rejects_a_wrong_upstream_shape():
    rng = np.random.default_rng(5)
    p = make_gru(rng, N=2, T=3, H=4)
    _, cache = gru_forward(**p)
    with pytest.raises(ValueError, match=r"dh: expected 3 axes \(N, T, H\), got shape \(2, 4\)"):
        gru_backward(np.zeros((2, 4)), cache)


sizes = st.integers(min_value=1, max_value=4)


@settings(max_examples=50, deadline=None)
@given(N=sizes, T=sizes, D=sizes, H=sizes, seed=st.integers(0, 2**32 - 1))
@example(N=1, T=1, D=1, H=1, seed=0)
def test_random_shapes_match_torch(N, T, D, H, seed):
    rng = np.random.default_rng(seed)
    p = make_gru(rng, N, T, D, H)
    h, cache = gru_forward(**p)
    assert h.shape == (N, T, H)
    dh = rng.standard_normal(h.shape)
    out, torch_grads = torch_gru(p, dh)
    np.testing.assert_allclose(h, out, rtol=0, atol=TORCH_TOL)
    for ours, theirs in zip(gru_backward(dh, cache), torch_grads, strict=True):
        assert ours.shape == theirs.shape
        np.testing.assert_allclose(ours, theirs, rtol=0, atol=TORCH_TOL)


@settings(max_examples=20, deadline=None)
@given(N=sizes, T=sizes, D=sizes, H=sizes, seed=st.integers(0, 2**32 - 1))
@example(N=1, T=1, D=1, H=1, seed=0)
def test_random_shapes_gradient_check(N, T, D, H, seed):
    rng = np.random.default_rng(seed)
    p = make_gru(rng, N, T, D, H)
    h, cache = gru_forward(**p)
    dh = rng.standard_normal(h.shape)
    dW_hh = gru_backward(dh, cache)[3]
    num = numerical_gradient(lambda _: gru_forward(**p)[0], p["W_hh"], dh)
    assert relative_error(dW_hh, num) < GRAD_TOL
