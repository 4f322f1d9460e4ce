"""Tests of rnnbook.scratch.jacobian against torch.autograd."""

import numpy as np
import pytest
import torch

from rnnbook.scratch.jacobian import jacobian_norms, state_jacobian
from rnnbook.scratch.rnn import rnn_forward


def test_state_jacobian_matches_autograd():
    rng = np.random.default_rng(0)
    H, D, T = 4, 3, 7
    W_xh, W_hh = rng.standard_normal((H, D)), rng.standard_normal((H, H)) / 2
    b, x, h0 = rng.standard_normal(H), rng.standard_normal((1, T, D)), rng.standard_normal((1, H))
    h, _ = rnn_forward(x, h0, W_xh, W_hh, b)

    def run(h_start):
        state = h_start
        for t in range(T):
            state = torch.tanh(torch.tensor(W_hh) @ state + torch.tensor(W_xh @ x[0, t] + b))
        return state

    J_torch = torch.autograd.functional.jacobian(run, torch.tensor(h0[0])).numpy()
    J = state_jacobian(1 - h[0] ** 2, W_hh)
    assert np.abs(J - J_torch).max() < 1e-12
    # the last norm of jacobian_norms is the norm of the whole product
    norms = jacobian_norms(1 - h[0] ** 2, W_hh)
    assert norms.shape == (T,)
    assert np.isclose(norms[-1], np.linalg.norm(J, 2))
    assert np.isclose(norms[0], np.linalg.norm((1 - h[0, -1] ** 2)[:, None] * W_hh, 2))


def test_linear_symmetric_recurrence_gives_powers_of_the_radius():
    rng = np.random.default_rng(1)
    A = rng.standard_normal((5, 5))
    W = (A + A.T) / 2
    rho = np.max(np.abs(np.linalg.eigvalsh(W)))
    norms = jacobian_norms(np.ones((6, 5)), W)
    assert np.allclose(norms, rho ** np.arange(1, 7))


def test_bad_shapes():
    with pytest.raises(ValueError, match="W_hh"):
        jacobian_norms(np.ones((3, 2)), np.ones((2, 3)))
    with pytest.raises(ValueError, match="fprime"):
        state_jacobian(np.ones((3, 4)), np.eye(2))
    with pytest.raises(ValueError, match="fprime"):
        state_jacobian(np.ones((0, 2)), np.eye(2))


def test_every_distance_matches_the_product_of_its_last_steps():
    # entry d - 1 of jacobian_norms is the norm of the product of the last d factors only
    rng = np.random.default_rng(2)
    H, T = 4, 9
    W_hh = rng.standard_normal((H, H))
    fprime = rng.uniform(0.1, 1.0, size=(T, H))
    norms = jacobian_norms(fprime, W_hh)
    expected = [np.linalg.norm(state_jacobian(fprime[T - d:], W_hh), 2) for d in range(1, T + 1)]
    assert np.allclose(norms, expected, rtol=1e-12)
    # the order of the factors matters: reversing the steps gives a different product
    assert not np.allclose(state_jacobian(fprime, W_hh), state_jacobian(fprime[::-1], W_hh))
