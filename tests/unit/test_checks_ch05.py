"""rnnbook.checks.ch05: each check accepts the reference answer and explains typical wrong ones."""

import numpy as np
import pytest
import torch

from rnnbook.checks import CheckFailed, ch05


def failure(check, answer):
    """The message of the CheckFailed raised by ``check(answer)``."""
    with pytest.raises(CheckFailed) as info:
        check(answer)
    return str(info.value)


def not_written(*args):
    raise NotImplementedError()


def sigmoid(u):
    return 1.0 / (1.0 + np.exp(-u))


# ------------------------------------------------------------------------------- lstm_step

def lstm_step(x, h, c, W_xh, W_hh, b, order="ifgo", squash=True, use_i=True, swap=False):
    a = x @ W_xh.T + h @ W_hh.T + b
    blocks = dict(zip(order, np.split(a, 4, axis=1), strict=True))
    i, f, g, o = (sigmoid(blocks["i"]), sigmoid(blocks["f"]), np.tanh(blocks["g"]),
                  sigmoid(blocks["o"]))
    c_next = f * c + (i * g if use_i else g)
    h_next = o * (np.tanh(c_next) if squash else c_next)
    return (c_next, h_next) if swap else (h_next, c_next)


def lstm_step_in_place(x, h, c, W_xh, W_hh, b):
    # right numbers, but the caller's c_prev is overwritten: c *= f; c += i * g
    a = x @ W_xh.T + h @ W_hh.T + b
    a_i, a_f, a_g, a_o = np.split(a, 4, axis=1)
    c *= sigmoid(a_f)
    c += sigmoid(a_i) * np.tanh(a_g)
    return sigmoid(a_o) * np.tanh(c), c


def test_lstm_step_reference_passes(capsys):
    ch05.check_lstm_step(lstm_step)
    assert capsys.readouterr().out.startswith("passed: lstm_step")


def test_lstm_step_accepts_torch_lstm_cell():
    def torch_step(x, h, c, W_xh, W_hh, b):
        cell = torch.nn.LSTMCell(x.shape[1], h.shape[1], dtype=torch.float64)
        with torch.no_grad():
            cell.weight_ih.copy_(torch.from_numpy(W_xh))
            cell.weight_hh.copy_(torch.from_numpy(W_hh))
            cell.bias_ih.copy_(torch.from_numpy(b))
            cell.bias_hh.zero_()
            return cell(torch.from_numpy(x), (torch.from_numpy(h), torch.from_numpy(c)))
    ch05.check_lstm_step(torch_step)


@pytest.mark.parametrize("answer, words", [
    (lambda *a: lstm_step(*a, order="ifog"), "(i, f, o, g)"),
    (lambda *a: lstm_step(*a, order="figo"), "swaps the input and forget"),
    (lambda *a: lstm_step(*a, order="iofg"), "differs"),
    (lambda *a: lstm_step(*a, use_i=False), "without the input gate"),
    (lambda *a: lstm_step(*a, squash=False), "tanh of the cell state is missing"),
    (lambda *a: lstm_step(*a, swap=True), "wrong order"),
    (lambda *a: lstm_step(*a)[0], "pair"),
    (lambda x, h, c, W_xh, W_hh, b: lstm_step(x, h, c, W_xh, W_hh, 0 * b), "differs"),
    (lstm_step_in_place, "changes its argument `c_prev` in place"),
    (not_written, "not written yet"),
])
def test_lstm_step_wrong_answers_get_advice(answer, words):
    assert words in failure(ch05.check_lstm_step, answer)


# -------------------------------------------------------------------------------- gru_step

def gru_step(x, h, W_xh, W_hh, b_xh, b_hh, reset="after", z_old=True, bias_inside=True,
             order="rzn"):
    H = h.shape[1]
    bx = dict(zip(order, np.split(x @ W_xh.T + b_xh, 3, axis=1), strict=True))
    bh = dict(zip(order, np.split(h @ W_hh.T + b_hh, 3, axis=1), strict=True))
    r, z = sigmoid(bx["r"] + bh["r"]), sigmoid(bx["z"] + bh["z"])
    if reset == "before":
        n = np.tanh(bx["n"] + (r * h) @ W_hh[2 * H:].T + b_hh[2 * H:])
    elif bias_inside:
        n = np.tanh(bx["n"] + r * bh["n"])
    else:
        n = np.tanh(bx["n"] + r * (h @ W_hh[2 * H:].T) + b_hh[2 * H:])
    return (1 - z) * n + z * h if z_old else z * n + (1 - z) * h


def test_gru_step_reference_passes(capsys):
    ch05.check_gru_step(gru_step)
    assert capsys.readouterr().out.startswith("passed: gru_step")


def test_gru_step_accepts_torch_gru_cell():
    def torch_step(x, h, W_xh, W_hh, b_xh, b_hh):
        cell = torch.nn.GRUCell(x.shape[1], h.shape[1], dtype=torch.float64)
        with torch.no_grad():
            for p, v in zip(cell.parameters(), (W_xh, W_hh, b_xh, b_hh), strict=True):
                p.copy_(torch.from_numpy(v))
            return cell(torch.from_numpy(x), torch.from_numpy(h))
    ch05.check_gru_step(torch_step)


@pytest.mark.parametrize("answer, words", [
    (lambda *a: gru_step(*a, reset="before"), "Cho et al."),
    (lambda *a: gru_step(*a, z_old=False), "update gate on the candidate"),
    (lambda *a: gru_step(*a, bias_inside=False), "b_hn outside"),
    (lambda *a: gru_step(*a, order="zrn"), "(z, r, n)"),
    (lambda x, h, *p: gru_step(x, h, *p)[0], "shape"),
    (lambda x, h, *p: np.tanh(gru_step(x, h, *p)), "differs"),
    (not_written, "not written yet"),
])
def test_gru_step_wrong_answers_get_advice(answer, words):
    assert words in failure(ch05.check_gru_step, answer)


# ---------------------------------------------------------------------- cell_path_jacobian

def cell_path_jacobian(f):
    return np.diag(np.prod(f, axis=0))


def test_cell_path_jacobian_reference_passes(capsys):
    ch05.check_cell_path_jacobian(cell_path_jacobian)
    assert capsys.readouterr().out.startswith("passed: cell_path_jacobian")


def test_cell_path_jacobian_agrees_with_autograd():
    # the reference answer is the autograd Jacobian of k steps c <- f_s * c + u_s
    rng = np.random.default_rng(0)
    f = torch.from_numpy(rng.uniform(0.2, 1.0, size=(5, 3)))
    u = torch.from_numpy(rng.normal(size=(5, 3)))

    def cells(c0):
        c = c0
        for s in range(5):
            c = f[s] * c + u[s]
        return c

    J = torch.autograd.functional.jacobian(cells, torch.zeros(3, dtype=torch.float64))
    assert np.allclose(J.numpy(), cell_path_jacobian(f.numpy()))


@pytest.mark.parametrize("answer, words", [
    (lambda f: np.diag(f.sum(axis=0)), "sums"),
    (lambda f: np.diag(f[-1]), "last step only"),
    (lambda f: np.diag(f.mean(axis=0) ** len(f)), "mean gate"),
    (lambda f: np.prod(f, axis=0), "(H,)"),
    (lambda f: np.outer(np.prod(f, axis=0), np.ones(f.shape[1])), "whole rows"),
    (lambda f: np.diag(np.prod(f, axis=1)), "shape"),
    (not_written, "not written yet"),
])
def test_cell_path_jacobian_wrong_answers_get_advice(answer, words):
    assert words in failure(ch05.check_cell_path_jacobian, answer)


# ------------------------------------------------------------------- gated_parameter_count

GATES = {"rnn": 1, "gru": 3, "lstm": 4}


def gated_parameter_count(cell, D, H, num_layers, bidirectional, deep=True, biases=2, dirs=None,
                          gates=GATES):
    K = (2 if bidirectional else 1) if dirs is None else dirs
    return sum(K * gates[cell] * H * ((D if layer == 0 or not deep else K * H) + H + biases)
               for layer in range(num_layers))


def test_gated_parameter_count_reference_passes(capsys):
    ch05.check_gated_parameter_count(gated_parameter_count)
    assert capsys.readouterr().out.startswith("passed: gated_parameter_count")


def test_gated_parameter_count_accepts_numpy_integers(capsys):
    ch05.check_gated_parameter_count(lambda *a: np.int64(gated_parameter_count(*a)))
    assert capsys.readouterr().out.startswith("passed: gated_parameter_count")


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
@pytest.mark.parametrize("L, bi", [(1, False), (2, True), (3, False)])
def test_gated_parameter_count_reference_matches_torch(cell, L, bi):
    module = {"rnn": torch.nn.RNN, "gru": torch.nn.GRU, "lstm": torch.nn.LSTM}[cell](
        3, 4, num_layers=L, bidirectional=bi)
    assert gated_parameter_count(cell, 3, 4, L, bi) == sum(p.numel() for p in module.parameters())


@pytest.mark.parametrize("answer, words", [
    (lambda *a: gated_parameter_count(*a, deep=False), "input size D"),
    (lambda *a: gated_parameter_count(*a, biases=1), "one bias vector"),
    (lambda *a: gated_parameter_count(*a, dirs=1), "one direction"),
    (lambda *a: gated_parameter_count(*a, gates={"rnn": 1, "gru": 4, "lstm": 3}),
     "number of gate blocks"),
    (lambda *a: float(gated_parameter_count(*a)) + 0.5, "expected an int"),
    (lambda *a: float(gated_parameter_count(*a)), "expected an int"),
    (lambda *a: str(gated_parameter_count(*a)), "expected an int"),
    (lambda *a: gated_parameter_count(*a) + 1, "expected"),
    (not_written, "not written yet"),
])
def test_gated_parameter_count_wrong_answers_get_advice(answer, words):
    assert words in failure(ch05.check_gated_parameter_count, answer)


# --------------------------------------------------------------------- torch_to_onnx_order

def torch_to_onnx_order(W):
    i, f, g, o = np.split(W, 4, axis=0)
    return np.concatenate([i, o, f, g], axis=0)


def permute(perm):
    return lambda W: np.concatenate([np.split(W, 4, axis=0)[k] for k in perm], axis=0)


def onnx_order_in_place(W):
    # right numbers, but the caller's array (a model's weights) is overwritten
    W[:] = torch_to_onnx_order(W.copy())
    return W


def test_torch_to_onnx_order_reference_passes(capsys):
    ch05.check_torch_to_onnx_order(torch_to_onnx_order)
    assert capsys.readouterr().out.startswith("passed: torch_to_onnx_order")


@pytest.mark.parametrize("answer, words", [
    (lambda W: W, "unchanged"),
    (permute([0, 2, 3, 1]), "inverse permutation"),
    (permute([0, 3, 2, 1]), "(i, o, g, f)"),
    (permute([0, 1, 3, 2]), "only g and o"),
    (permute([3, 0, 1, 2]), "differs"),
    (lambda W: torch_to_onnx_order(W).T, "shape"),
    (onnx_order_in_place, "changes its argument `W` in place"),
    (not_written, "not written yet"),
])
def test_torch_to_onnx_order_wrong_answers_get_advice(answer, words):
    assert words in failure(ch05.check_torch_to_onnx_order, answer)


# ------------------------------------------------------------------- bidirectional_summary

def bidirectional_summary(h_n, num_layers):
    last = h_n.reshape(num_layers, 2, *h_n.shape[1:])[-1]
    return np.concatenate([last[0], last[1]], axis=1)


def test_bidirectional_summary_reference_passes(capsys):
    ch05.check_bidirectional_summary(bidirectional_summary)
    assert capsys.readouterr().out.startswith("passed: bidirectional_summary")


def test_bidirectional_summary_reference_matches_torch_outputs():
    gru = torch.nn.GRU(2, 3, num_layers=2, bidirectional=True, batch_first=True)
    with torch.no_grad():
        out, h_n = gru(torch.randn(4, 6, 2))
    summary = bidirectional_summary(h_n.numpy(), 2)
    assert np.allclose(summary[:, :3], out[:, -1, :3].numpy())
    assert np.allclose(summary[:, 3:], out[:, 0, 3:].numpy())


@pytest.mark.parametrize("answer, words", [
    (lambda h, L: np.concatenate([h[-1], h[-2]], axis=1), "backward first"),
    (lambda h, L: np.concatenate([h[-1], h[-1]], axis=1), "repeats h_n[-1]"),
    (lambda h, L: np.concatenate([h[0], h[1]], axis=1), "first layer"),
    (lambda h, L: np.concatenate([h.reshape(2, L, *h.shape[1:])[0, -1],
                                  h.reshape(2, L, *h.shape[1:])[1, -1]], axis=1),
     "(direction, layer)"),
    (lambda h, L: h[-1], "shape"),
    (lambda h, L: np.stack([h[-2], h[-1]]), "shape"),
    (not_written, "not written yet"),
])
def test_bidirectional_summary_wrong_answers_get_advice(answer, words):
    assert words in failure(ch05.check_bidirectional_summary, answer)
