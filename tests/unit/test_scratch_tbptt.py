"""Truncated BPTT: k = T is full BPTT, carried states reproduce the full forward, no gradient
crosses a chunk boundary."""

import numpy as np
import pytest

from rnnbook.scratch import (
    chunk_sequence,
    gru_backward,
    gru_forward,
    gru_tbptt,
    lstm_backward,
    lstm_final_state,
    lstm_forward,
    lstm_tbptt,
    rnn_backward,
    rnn_forward,
    rnn_tbptt,
)

N, T, D, H = 2, 7, 3, 4


def params(rng, G):
    return dict(W_xh=0.5 * rng.standard_normal((G * H, D)),
                W_hh=0.5 * rng.standard_normal((G * H, H)))


class LinearLoss:
    """loss = sum(target * h) over the whole sequence, so dh = target whatever the chunking.

    It records the hidden states of every chunk so that a test can reassemble the forward pass.
    """

    def __init__(self, target):
        self.target = target
        self.chunks = []

    def __call__(self, h_chunk, steps):
        self.chunks.append(h_chunk)
        dh = self.target[:, steps]
        return float(np.sum(dh * h_chunk)), dh


def run_cell(cell, rng):
    """Inputs, parameters, a full forward/backward, and a function running TBPTT with chunk k."""
    x, h0 = rng.standard_normal((N, T, D)), rng.standard_normal((N, H))
    target = rng.standard_normal((N, T, H))
    if cell == "rnn":
        p = params(rng, 1) | dict(b=rng.standard_normal(H))
        h, cache = rnn_forward(x, h0, **p)
        full = rnn_backward(target, cache)
        h_T = h[:, -1]

        def tbptt(k, loss):
            return rnn_tbptt(x, h0, p["W_xh"], p["W_hh"], p["b"], k, loss)
    elif cell == "lstm":
        c0 = rng.standard_normal((N, H))
        p = params(rng, 4) | dict(b=rng.standard_normal(4 * H))
        h, cache = lstm_forward(x, h0, **p, c0=c0)
        full = lstm_backward(target, cache)
        h_T = lstm_final_state(cache)

        def tbptt(k, loss):
            return lstm_tbptt(x, h0, p["W_xh"], p["W_hh"], p["b"], k, loss, c0=c0)
    else:
        p = params(rng, 3) | dict(b_xh=rng.standard_normal(3 * H), b_hh=rng.standard_normal(3 * H))
        h, cache = gru_forward(x, h0, **p)
        full = gru_backward(target, cache)
        h_T = h[:, -1]

        def tbptt(k, loss):
            return gru_tbptt(x, h0, p["W_xh"], p["W_hh"], p["b_xh"], p["b_hh"], k, loss)
    return h, full, h_T, target, tbptt


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("k", [T, T + 5])
def test_one_chunk_is_full_bptt(cell, k):
    h, full, _, target, tbptt = run_cell(cell, np.random.default_rng(0))
    loss, grads, _ = tbptt(k, LinearLoss(target))
    assert loss == pytest.approx(np.sum(target * h), rel=1e-14)
    for ours, reference in zip(grads, full, strict=True):
        np.testing.assert_allclose(ours, reference, rtol=0, atol=1e-14)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("k", [1, 2, 3])
def test_carried_states_reproduce_the_full_forward(cell, k):
    h, full, h_T, target, tbptt = run_cell(cell, np.random.default_rng(1))
    loss_fn = LinearLoss(target)
    loss, grads, state = tbptt(k, loss_fn)
    assert [c.shape[1] for c in loss_fn.chunks] == [k] * (T // k) + ([T % k] if T % k else [])
    np.testing.assert_allclose(np.concatenate(loss_fn.chunks, axis=1), h, rtol=0, atol=1e-14)
    assert loss == pytest.approx(np.sum(target * h), rel=1e-12)
    for ours, reference in zip(state if cell == "lstm" else [state],
                               h_T if cell == "lstm" else [h_T], strict=True):
        np.testing.assert_allclose(ours, reference, rtol=0, atol=1e-14)
    # the gradient of the first chunk's initial state cannot see later chunks: it differs
    assert not np.allclose(grads[1], full[1])


def test_rnn_chunks_of_one_step_treat_the_previous_state_as_a_constant():
    """With k = 1, dW_hh is the sum over steps of (dh_t * tanh'(a_t)).T @ h_{t-1}: nothing more."""
    rng = np.random.default_rng(2)
    x, h0, target = (rng.standard_normal((N, T, D)), rng.standard_normal((N, H)),
                     rng.standard_normal((N, T, H)))
    p = params(rng, 1) | dict(b=rng.standard_normal(H))
    _, grads, _ = rnn_tbptt(x, h0, p["W_xh"], p["W_hh"], p["b"], 1, LinearLoss(target))
    h, _ = rnn_forward(x, h0, **p)
    h_prev = np.concatenate([h0[:, None], h[:, :-1]], axis=1)
    da = target * (1 - h**2)
    np.testing.assert_allclose(grads[3], np.einsum("nti,ntj->ij", da, h_prev), rtol=0,
                               atol=1e-13)
    np.testing.assert_allclose(grads[0], da @ p["W_xh"], rtol=0, atol=1e-13)  # dx: local only


def test_chunk_sequence():
    x = np.arange(2 * 5).reshape(2, 5)
    chunks = chunk_sequence(x, 3)
    assert [steps for steps, _ in chunks] == [slice(0, 3), slice(3, 5)]
    np.testing.assert_array_equal(chunks[1][1], x[:, 3:5])
    assert len(chunk_sequence(x, 5)) == len(chunk_sequence(x, 50)) == 1
    for k in [0, -1, 1.5, True]:
        with pytest.raises(ValueError, match="k: expected a positive integer chunk length"):
            chunk_sequence(x, k)
    with pytest.raises(ValueError, match=r"x: axis 1 \(T\) has length 0"):
        chunk_sequence(np.zeros((2, 0, 3)), 2)
    with pytest.raises(ValueError, match=r"x: expected an array of shape \(N, T, ...\)"):
        chunk_sequence(np.zeros(3), 2)
