"""rnnbook.checks.ch03: each check accepts the reference answer and explains typical wrong ones."""

import numpy as np
import pytest
import torch

from rnnbook.checks import CheckFailed, ch03


def failure(check, answer):
    """The message of the CheckFailed raised by ``check(answer)``."""
    with pytest.raises(CheckFailed) as info:
        check(answer)
    return str(info.value)


def not_written(*args):
    raise NotImplementedError()


def softmax(s):
    e = np.exp(s - s.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


# ------------------------------------------------------------------------------- rnn_step

def rnn_step(x, h_prev, W_xh, W_hh, b_h):
    return np.tanh(x @ W_xh.T + h_prev @ W_hh.T + b_h)


def test_rnn_step_reference_passes(capsys):
    ch03.check_rnn_step(rnn_step)
    assert capsys.readouterr().out.startswith("passed: rnn_step")


def test_rnn_step_accepts_a_torch_answer():
    def torch_step(x, h, W_xh, W_hh, b):
        t = torch.from_numpy
        return torch.tanh(t(x) @ t(W_xh).T + t(h) @ t(W_hh).T + t(b))
    ch03.check_rnn_step(torch_step)


@pytest.mark.parametrize("answer, words", [
    (lambda x, h, Wx, Wh, b: x @ Wx.T + h @ Wh.T + b, "tanh is missing"),
    (lambda x, h, Wx, Wh, b: np.tanh(x @ Wx.T + h @ Wh.T), "bias"),
    (lambda x, h, Wx, Wh, b: np.tanh(x @ Wx.T + h @ Wh + b), "instead of W_hh.T"),
    (lambda x, h, Wx, Wh, b: np.tanh(x @ Wx.T + b), "ignores the previous state"),
    (lambda x, h, Wx, Wh, b: np.tanh(x @ Wx.T + b) + h @ Wh.T, "tanh before"),
    (lambda x, h, Wx, Wh, b: np.tanh(Wx @ x.T + Wh @ h.T + b[:, None]), "transposed"),
    (lambda x, h, Wx, Wh, b: np.tanh(x @ Wx.T + h @ Wh.T + 2 * b), "differs"),
    (lambda x, h, Wx, Wh, b: np.squeeze(rnn_step(x, h, Wx, Wh, b)), "batch of one"),
    (lambda x, h, Wx, Wh, b: None, "`return`"),
    (not_written, "not written yet"),
])
def test_rnn_step_wrong_answers_get_advice(answer, words):
    assert words in failure(ch03.check_rnn_step, answer)


# --------------------------------------------------------------------------- output_layer

def output_layer(h, W_hy, b_y):
    s = h @ W_hy.T + b_y
    return s, softmax(s)


def naive_output_layer(h, W_hy, b_y):
    s = h @ W_hy.T + b_y
    with np.errstate(over="ignore", invalid="ignore"):
        return s, np.exp(s) / np.exp(s).sum(axis=-1, keepdims=True)


def test_output_layer_reference_passes(capsys):
    ch03.check_output_layer(output_layer)
    assert "passed: output_layer" in capsys.readouterr().out


@pytest.mark.parametrize("answer, words", [
    (lambda h, W, b: h @ W.T + b, "pair (scores, y_hat)"),
    (lambda h, W, b: (h @ W.T, softmax(h @ W.T)), "bias b_y"),
    (lambda h, W, b: (h @ W.T + b, h @ W.T + b), "softmax is missing"),
    (lambda h, W, b: (h @ W.T + b, np.exp(h @ W.T + b) / np.exp(h @ W.T + b).sum(
        axis=1, keepdims=True)), "time axis"),
    (lambda h, W, b: (h @ W.T + b, np.exp(h @ W.T + b) / np.exp(h @ W.T + b).sum(
        axis=0, keepdims=True)), "batch axis"),
    (lambda h, W, b: ((h @ W.T + b)[..., :-1], None), "shape (2, 3, 4); expected (2, 3, 5)"),
    (naive_output_layer, "subtract each row's maximum"),
])
def test_output_layer_wrong_answers_get_advice(answer, words):
    assert words in failure(ch03.check_output_layer, answer)


# -------------------------------------------------------------------------- sequence_loss

def sequence_loss(scores, targets, mask):
    shifted = scores - scores.max(axis=-1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    safe = np.where(mask > 0, targets, 0)
    nll = -np.take_along_axis(log_probs, safe[..., None], axis=-1)[..., 0]
    return float((nll * mask).sum() / scores.shape[0])


def naive_loss(scores, targets, mask):
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        p = np.exp(scores) / np.exp(scores).sum(axis=-1, keepdims=True)
        safe = np.where(mask > 0, targets, 0)
        nll = -np.log(np.take_along_axis(p, safe[..., None], axis=-1)[..., 0])
        return float(np.nansum(nll * mask) / scores.shape[0])


def test_sequence_loss_reference_passes(capsys):
    ch03.check_sequence_loss(sequence_loss)
    assert "passed: sequence_loss" in capsys.readouterr().out


def _mean_over_tokens(s, y, m):
    return sequence_loss(s, y, m) * s.shape[0] / m.sum()


@pytest.mark.parametrize("answer, words", [
    (_mean_over_tokens, "unmasked steps instead of the N"),
    (lambda s, y, m: sequence_loss(s, y, m) * s.shape[0], "total over the batch"),
    (lambda s, y, m: sequence_loss(s, y, np.ones_like(m)), "padded steps"),
    (lambda s, y, m: sequence_loss(s, y, m) / s.shape[1], "N * T"),
    (lambda s, y, m: -sequence_loss(s, y, m), "wrong sign"),
    (lambda s, y, m: np.ones(3), "expected one number"),
    (naive_loss, "raised by 800"),
    (not_written, "not written yet"),
])
def test_sequence_loss_wrong_answers_get_advice(answer, words):
    assert words in failure(ch03.check_sequence_loss, answer)


# ---------------------------------------------------------------------- parameter count

def test_parameter_count_reference_passes_and_matches_torch(capsys):
    def count(D, H, M):
        return H * D + H * H + 2 * H + M * H + M
    ch03.check_rnn_parameter_count(count)
    assert "passed" in capsys.readouterr().out
    modules = [torch.nn.RNN(10, 32), torch.nn.Linear(32, 7)]
    assert count(10, 32, 7) == sum(p.numel() for m in modules for p in m.parameters())


@pytest.mark.parametrize("answer, words", [
    (lambda D, H, M: H * D + H * H + H + M * H + M, "two"),
    (lambda D, H, M: H * D + H * H + 2 * H, "output layer"),
    (lambda D, H, M: H * D + H * H + M * H, "biases"),
    (lambda D, H, M: H * D + H * H + 2 * H + M * H, "output bias"),
    (lambda D, H, M: float(H * D + H * H + 2 * H + M * H + M), "integer"),
    (lambda D, H, M: 0, "expected"),
])
def test_parameter_count_wrong_answers_get_advice(answer, words):
    assert words in failure(ch03.check_rnn_parameter_count, answer)


# ----------------------------------------------------------------------- halving radius

def test_halving_radius_reference_passes():
    ch03.check_halving_radius(lambda k: 0.5 ** (1 / k))
    ch03.check_halving_radius(lambda k: np.exp(-np.log(2) / k))


@pytest.mark.parametrize("answer, words", [
    (lambda k: 0.5 ** k, "factor after k steps"),
    (lambda k: 0.5 / k, "geometric"),
    (lambda k: 1 - 0.5 / k, "first-order"),
    (lambda k: 2 ** (1 / k), "doubles"),
    (lambda k: 0.9, "expected"),
    (lambda k: [0.5, 0.5], "one number"),
])
def test_halving_radius_wrong_answers_get_advice(answer, words):
    assert words in failure(ch03.check_halving_radius, answer)


# ---------------------------------------------------------------------- linear collapse

def linear_rnn_matrix(W_xh, W_hh, T):
    return np.concatenate([np.linalg.matrix_power(W_hh, T - k) @ W_xh
                           for k in range(1, T + 1)], axis=1)


def test_linear_rnn_matrix_reference_passes_and_equals_the_recurrence():
    ch03.check_linear_rnn_matrix(linear_rnn_matrix)
    rng = np.random.default_rng(0)
    W_xh, W_hh, xs = rng.normal(size=(3, 2)), rng.normal(size=(3, 3)), rng.normal(size=(5, 2))
    h = np.zeros(3)
    for x in xs:
        h = W_hh @ h + W_xh @ x
    assert np.allclose(linear_rnn_matrix(W_xh, W_hh, 5) @ xs.reshape(-1), h)


def _powers(W_xh, W_hh, powers):
    return np.concatenate([np.linalg.matrix_power(W_hh, p) @ W_xh for p in powers], axis=1)


@pytest.mark.parametrize("answer, words", [
    (lambda Wx, Wh, T: _powers(Wx, Wh, range(T)), "reverse order"),
    (lambda Wx, Wh, T: _powers(Wx, Wh, range(T, 0, -1)), "one too high"),
    (lambda Wx, Wh, T: _powers(Wx, Wh.T, range(T - 1, -1, -1)), "transposed"),
    (lambda Wx, Wh, T: linear_rnn_matrix(Wx, Wh, T).T, "transposed"),
    (lambda Wx, Wh, T: Wx, "stacked inputs"),
])
def test_linear_rnn_matrix_wrong_answers_get_advice(answer, words):
    assert words in failure(ch03.check_linear_rnn_matrix, answer)


# ----------------------------------------------------------------------- batched shapes

def batched_shapes(N, T, D, H, M):
    return {"x": (N, T, D), "h0": (N, H), "W_xh": (H, D), "W_hh": (H, H), "b_h": (H,),
            "h": (N, T, H), "W_hy": (M, H), "b_y": (M,), "scores": (N, T, M),
            "targets": (N, T), "loss": ()}


def test_batched_shapes_reference_passes(capsys):
    ch03.check_batched_shapes(batched_shapes)
    assert "passed" in capsys.readouterr().out


def _with(key, value):
    def answer(N, T, D, H, M):
        shapes = batched_shapes(N, T, D, H, M)
        shapes[key] = value(N, T, D, H, M)
        return shapes
    return answer


@pytest.mark.parametrize("answer, words", [
    (_with("W_xh", lambda N, T, D, H, M: (D, H)), "(out_features, in_features)"),
    (_with("x", lambda N, T, D, H, M: (T, N, D)), "batch-major"),
    (_with("loss", lambda N, T, D, H, M: (N,)), "one number"),
    (_with("loss", lambda N, T, D, H, M: 1), "empty tuple"),
    (lambda *sizes: {k: v for k, v in batched_shapes(*sizes).items() if k != "b_y"}, "missing"),
    (lambda *sizes: list(batched_shapes(*sizes).values()), "dict"),
])
def test_batched_shapes_wrong_answers_get_advice(answer, words):
    assert words in failure(ch03.check_batched_shapes, answer)
