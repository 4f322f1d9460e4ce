"""Embedding, affine output over time and the masked softmax loss: gradients, torch, edge cases."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import example, given, settings
from hypothesis import strategies as st

from rnnbook.scratch import (
    embedding_backward,
    embedding_forward,
    numerical_gradient,
    relative_error,
    rnn_backward,
    rnn_forward,
    temporal_affine_backward,
    temporal_affine_forward,
    temporal_softmax_loss_backward,
    temporal_softmax_loss_forward,
)

GRAD_TOL = 1e-7


# ------------------------------------------------------------------------------------- embedding


def test_embedding_looks_up_rows():
    W = np.arange(12.0).reshape(4, 3)
    out, _ = embedding_forward(np.array([[0, 3], [3, 1]]), W)
    np.testing.assert_array_equal(out, [[W[0], W[3]], [W[3], W[1]]])


def test_embedding_backward_accumulates_repeated_tokens():
    rng = np.random.default_rng(0)
    tokens = np.array([[1, 1, 0], [1, 4, 0]])  # token 1 three times, 2 and 3 never
    W = rng.standard_normal((5, 3))
    out, cache = embedding_forward(tokens, W)
    dout = rng.standard_normal(out.shape)
    dW = embedding_backward(dout, cache)
    np.testing.assert_allclose(dW[1], dout[0, 0] + dout[0, 1] + dout[1, 0], rtol=0, atol=1e-15)
    np.testing.assert_array_equal(dW[[2, 3]], 0.0)
    num = numerical_gradient(lambda w: embedding_forward(tokens, w)[0], W, dout)
    assert relative_error(dW, num) < GRAD_TOL


def test_embedding_matches_torch():
    rng = np.random.default_rng(1)
    tokens = rng.integers(0, 6, size=(3, 4))
    W = rng.standard_normal((6, 5))
    out, cache = embedding_forward(tokens, W)
    dout = rng.standard_normal(out.shape)
    W_t = torch.tensor(W, requires_grad=True)
    out_t = F.embedding(torch.from_numpy(tokens), W_t)
    out_t.backward(torch.from_numpy(dout))
    np.testing.assert_array_equal(out, out_t.detach().numpy())
    np.testing.assert_allclose(embedding_backward(dout, cache), W_t.grad.numpy(), rtol=0,
                               atol=1e-12)


@pytest.mark.parametrize("tokens, message", [
    (np.array([[0, 5]]), r"tokens: expected token ids in \[0, 5\), got values from 0 to 5"),
    (np.array([[-1, 2]]), r"tokens: expected token ids in \[0, 5\), got values from -1 to 2"),
    (np.array([[0.0, 1.0]]), r"tokens: expected integer token ids, got dtype float64"),
    (np.array([0, 1]), r"tokens: expected 2 axes \(N, T\), got shape \(2,\)"),
    (np.zeros((2, 0), dtype=int), r"tokens: axis 1 \(T\) has length 0"),
])
def test_embedding_rejects_bad_tokens(tokens, message):
    with pytest.raises(ValueError, match=message):
        embedding_forward(tokens, np.zeros((5, 3)))


# -------------------------------------------------------------------------- affine over time


def test_temporal_affine_gradient_check_and_torch():
    rng = np.random.default_rng(2)
    h, W, b = rng.standard_normal((2, 3, 4)), rng.standard_normal((5, 4)), rng.standard_normal(5)
    out, cache = temporal_affine_forward(h, W, b)
    dout = rng.standard_normal(out.shape)
    grads = temporal_affine_backward(dout, cache)

    def f(_):
        return temporal_affine_forward(h, W, b)[0]

    for name, value, grad in zip(["h", "W", "b"], [h, W, b], grads, strict=True):
        assert grad.shape == value.shape, name
        assert relative_error(grad, numerical_gradient(f, value, dout)) < GRAD_TOL, name
    linear = torch.nn.Linear(4, 5).double()
    with torch.no_grad():
        linear.weight.copy_(torch.from_numpy(W))
        linear.bias.copy_(torch.from_numpy(b))
    np.testing.assert_allclose(out, linear(torch.from_numpy(h)).detach().numpy(), rtol=0,
                               atol=1e-12)


def test_temporal_affine_rejects_a_transposed_weight():
    with pytest.raises(ValueError, match=r"W: expected shape \(M, H\) = \(M, 4\), got \(4, 5\)"
                                         r".*transposed"):
        temporal_affine_forward(np.zeros((2, 3, 4)), np.zeros((4, 5)), np.zeros(5))


# ----------------------------------------------------------------------------- softmax loss


def make_loss_inputs(rng, N=2, T=3, V=4):
    scores = rng.standard_normal((N, T, V))
    targets = rng.integers(0, V, size=(N, T))
    mask = rng.random((N, T)) < 0.7
    mask[0, 0] = True  # at least one step counts
    return scores, targets, mask


def test_softmax_loss_value_against_torch():
    """loss = (masked sum of per-step cross-entropies) / N."""
    rng = np.random.default_rng(3)
    scores, targets, mask = make_loss_inputs(rng, N=3, T=5, V=6)
    loss, _ = temporal_softmax_loss_forward(scores, targets, mask)
    per_step = F.cross_entropy(torch.from_numpy(scores).reshape(15, 6),
                               torch.from_numpy(targets).reshape(15), reduction="none")
    expected = (per_step.numpy() * mask.reshape(15)).sum() / 3
    assert loss == pytest.approx(expected, rel=1e-12)
    unmasked, _ = temporal_softmax_loss_forward(scores, targets)
    assert unmasked == pytest.approx(F.cross_entropy(
        torch.from_numpy(scores).reshape(15, 6), torch.from_numpy(targets).reshape(15),
        reduction="sum").item() / 3, rel=1e-12)


def test_softmax_loss_of_uniform_scores_is_log_v():
    loss, _ = temporal_softmax_loss_forward(np.zeros((2, 3, 5)), np.zeros((2, 3), dtype=int))
    assert loss == pytest.approx(3 * np.log(5), rel=1e-14)  # T steps of log V, mean over N


@pytest.mark.parametrize("mask_dtype", [bool, int, float])
def test_softmax_loss_gradient_check(mask_dtype):
    rng = np.random.default_rng(4)
    scores, targets, mask = make_loss_inputs(rng)
    mask = mask.astype(mask_dtype)
    _, cache = temporal_softmax_loss_forward(scores, targets, mask)
    dscores = temporal_softmax_loss_backward(1.0, cache)
    num = numerical_gradient(lambda s: temporal_softmax_loss_forward(s, targets, mask)[0], scores)
    assert relative_error(dscores, num) < GRAD_TOL
    np.testing.assert_array_equal(dscores[~mask.astype(bool)], 0.0)
    dscores_2 = temporal_softmax_loss_backward(2.0, cache)
    np.testing.assert_allclose(dscores_2, 2 * dscores, rtol=0, atol=1e-15)


def test_softmax_loss_ignores_targets_at_masked_steps():
    rng = np.random.default_rng(5)
    scores, targets, mask = make_loss_inputs(rng)
    padded = np.where(mask, targets, -1)  # a padding id outside [0, V)
    loss, cache = temporal_softmax_loss_forward(scores, padded, mask)
    loss_ref, cache_ref = temporal_softmax_loss_forward(scores, targets, mask)
    assert loss == loss_ref
    np.testing.assert_array_equal(temporal_softmax_loss_backward(1.0, cache),
                                  temporal_softmax_loss_backward(1.0, cache_ref))


def test_softmax_loss_is_stable_for_huge_scores():
    scores = np.array([[[1000.0, 0.0, -1000.0]]])
    for dtype in (np.float32, np.float64):
        with np.errstate(over="raise", divide="raise", invalid="raise"):
            loss, cache = temporal_softmax_loss_forward(scores.astype(dtype), np.array([[2]]))
            dscores = temporal_softmax_loss_backward(1.0, cache)
        assert loss == pytest.approx(2000.0)
        np.testing.assert_allclose(dscores, [[[1.0, 0.0, -1.0]]], atol=1e-6)


@pytest.mark.parametrize("kwargs, message", [
    (dict(targets=np.array([[0, 4]])), r"targets \(where mask is set\): expected token ids in "
                                       r"\[0, 4\), got values from 0 to 4"),
    (dict(targets=np.zeros((1, 3), dtype=int)), r"targets: expected shape \(N, T\) = \(1, 2\), "
                                                r"got \(1, 3\)"),
    (dict(mask=np.array([[1, 2]])), r"mask: expected booleans or 0/1 values"),
    (dict(mask=np.ones((2, 1), dtype=bool)), r"mask: expected shape \(N, T\) = \(1, 2\), "
                                             r"got \(2, 1\)"),
    (dict(scores=np.array([[[0.0, np.nan, 0, 0], [0, 0, 0, 0]]])), r"scores: contains NaN"),
    (dict(scores=np.zeros((1, 2, 4), dtype=int)), r"scores: expected a floating-point array"),
])
def test_softmax_loss_rejects_bad_inputs(kwargs, message):
    args = dict(scores=np.zeros((1, 2, 4)), targets=np.array([[0, 1]]), mask=None) | kwargs
    with pytest.raises(ValueError, match=message):
        temporal_softmax_loss_forward(**args)


def test_softmax_loss_backward_needs_a_scalar():
    _, cache = temporal_softmax_loss_forward(np.zeros((1, 2, 3)), np.array([[0, 1]]))
    with pytest.raises(ValueError, match=r"dloss: expected a scalar, got shape \(2,\)"):
        temporal_softmax_loss_backward(np.ones(2), cache)


def test_backward_functions_check_the_upstream_shape():
    _, cache = embedding_forward(np.array([[0, 1, 2]]), np.zeros((4, 5)))
    with pytest.raises(ValueError, match=r"dout: expected shape \(N, T, D\) = \(1, 3, 5\), "
                                         r"got \(1, 3, 4\)"):
        embedding_backward(np.zeros((1, 3, 4)), cache)
    _, cache = temporal_affine_forward(np.zeros((2, 3, 4)), np.zeros((5, 4)), np.zeros(5))
    with pytest.raises(ValueError, match=r"dout: expected shape \(N, T, M\) = \(2, 3, 5\), "
                                         r"got \(2, 3, 4\)"):
        temporal_affine_backward(np.zeros((2, 3, 4)), cache)


# ------------------------------------------------------- a whole model against torch autograd

sizes = st.integers(min_value=1, max_value=4)


@settings(max_examples=30, deadline=None)
@given(N=sizes, T=sizes, V=st.integers(2, 6), D=sizes, H=sizes, seed=st.integers(0, 2**32 - 1))
@example(N=1, T=1, V=2, D=1, H=1, seed=0)
def test_language_model_gradients_match_autograd(N, T, V, D, H, seed):
    """tokens -> embedding -> RNN -> affine -> masked softmax loss, every gradient against torch."""
    rng = np.random.default_rng(seed)
    tokens, targets = rng.integers(0, V, size=(N, T)), rng.integers(0, V, size=(N, T))
    mask = rng.random((N, T)) < 0.8
    p = dict(W_embed=rng.standard_normal((V, D)), h0=rng.standard_normal((N, H)),
             W_xh=0.5 * rng.standard_normal((H, D)), W_hh=0.5 * rng.standard_normal((H, H)),
             b=rng.standard_normal(H), W_out=rng.standard_normal((V, H)),
             b_out=rng.standard_normal(V))

    emb, emb_cache = embedding_forward(tokens, p["W_embed"])
    h, rnn_cache = rnn_forward(emb, p["h0"], p["W_xh"], p["W_hh"], p["b"])
    scores, out_cache = temporal_affine_forward(h, p["W_out"], p["b_out"])
    loss, loss_cache = temporal_softmax_loss_forward(scores, targets, mask)
    dscores = temporal_softmax_loss_backward(1.0, loss_cache)
    dh, dW_out, db_out = temporal_affine_backward(dscores, out_cache)
    demb, dh0, dW_xh, dW_hh, db = rnn_backward(dh, rnn_cache)
    grads = dict(W_embed=embedding_backward(demb, emb_cache), h0=dh0, W_xh=dW_xh, W_hh=dW_hh,
                 b=db, W_out=dW_out, b_out=db_out)

    t = {k: torch.tensor(v, requires_grad=True) for k, v in p.items()}
    h_t, hs = t["h0"], []
    x_t = F.embedding(torch.from_numpy(tokens), t["W_embed"])
    for step in range(T):
        h_t = torch.tanh(x_t[:, step] @ t["W_xh"].T + h_t @ t["W_hh"].T + t["b"])
        hs.append(h_t)
    scores_t = torch.stack(hs, dim=1) @ t["W_out"].T + t["b_out"]
    nll = F.cross_entropy(scores_t.reshape(N * T, V), torch.from_numpy(targets).reshape(N * T),
                          reduction="none")
    loss_t = (nll * torch.from_numpy(mask.reshape(N * T))).sum() / N
    loss_t.backward()
    assert loss == pytest.approx(loss_t.item(), rel=1e-12, abs=1e-12)
    for name, grad in grads.items():
        np.testing.assert_allclose(grad, t[name].grad.numpy(), rtol=0, atol=1e-10, err_msg=name)
