"""rnnbook.linalg: the spectral radius and rescaling to a chosen radius."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from rnnbook.linalg import scale_to_spectral_radius, spectral_radius


def test_spectral_radius_of_known_matrices():
    assert spectral_radius(np.diag([0.5, -2.0, 1.0])) == pytest.approx(2.0)
    rotation = np.array([[0.0, -1.0], [1.0, 0.0]])  # eigenvalues +-i
    assert spectral_radius(3 * rotation) == pytest.approx(3.0)
    assert spectral_radius(np.array([[0.0, 1.0], [0.0, 0.0]])) == 0.0


def test_spectral_radius_is_not_the_spectral_norm():
    W = np.array([[0.5, 10.0], [0.0, 0.5]])
    assert spectral_radius(W) == pytest.approx(0.5)
    assert np.linalg.norm(W, 2) > 10


def test_spectral_radius_accepts_torch_tensors():
    assert spectral_radius(torch.eye(3, dtype=torch.float64) * 2) == pytest.approx(2.0)


@settings(max_examples=30, deadline=None)
@given(H=st.integers(1, 12), rho=st.floats(0.0, 5.0), seed=st.integers(0, 1000))
def test_scaling_hits_the_requested_radius(H, rho, seed):
    W = np.random.default_rng(seed).normal(size=(H, H))
    scaled = scale_to_spectral_radius(W, rho)
    assert scaled.shape == W.shape and scaled.dtype == W.dtype
    assert spectral_radius(scaled) == pytest.approx(rho, rel=1e-9, abs=1e-12)


def test_scaling_keeps_float32():
    W = np.random.default_rng(0).normal(size=(5, 5)).astype(np.float32)
    scaled = scale_to_spectral_radius(W, 0.9)
    assert scaled.dtype == np.float32
    assert spectral_radius(scaled) == pytest.approx(0.9, rel=1e-5)


def test_linear_recurrence_decays_like_rho_to_the_t():
    rng = np.random.default_rng(1)
    W = scale_to_spectral_radius(rng.normal(size=(32, 32)), 0.8)
    h = rng.normal(size=32)
    norms = []
    for _ in range(300):
        h = W @ h
        norms.append(np.linalg.norm(h))
    rate = (norms[-1] / norms[-101]) ** (1 / 100)
    assert rate == pytest.approx(0.8, rel=1e-3)


@pytest.mark.parametrize("W, message", [
    (np.ones((2, 3)), "W: expected a non-empty square matrix of shape (H, H), got shape (2, 3)"),
    (np.ones(3), "W: expected a non-empty square matrix"),
    (np.ones((0, 0)), "got shape (0, 0)"),
    (np.eye(2, dtype=int), "floating-point"),
    (np.array([[np.nan, 0.0], [0.0, 1.0]]), "NaN"),
    ([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], "got shape (3, 2)"),
])
def test_bad_matrices_are_rejected_with_the_argument_named(W, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        spectral_radius(W)
    with pytest.raises(ValueError):
        scale_to_spectral_radius(W, 1.0)


@pytest.mark.parametrize("rho", [-0.5, float("nan"), float("inf"), "1", None, True, [1.0]])
def test_bad_radius_is_rejected(rho):
    with pytest.raises(ValueError, match="rho: expected a finite number >= 0"):
        scale_to_spectral_radius(np.eye(3), rho)


def test_a_nilpotent_matrix_cannot_be_rescaled():
    with pytest.raises(ValueError, match="spectral radius 0"):
        scale_to_spectral_radius(np.array([[0.0, 1.0], [0.0, 0.0]]), 1.0)
