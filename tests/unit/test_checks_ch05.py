"""rnnbook.checks.ch05: each check accepts the reference answer and explains typical wrong ones.

The wrong answers of the chapter's review (and those tried since) are kept here, each run through
the visible check and, where the hidden tests judge it differently from the reference, through
the hidden tests of exercises.ipynb as well.
"""

import contextlib
import io
import pathlib
import re

import numpy as np
import pytest
import torch
from exercise_harness import HIDDEN, ExerciseCells

from rnnbook.checks import CheckFailed, ch05
from rnnbook.checks.partial import NoCredit
from rnnbook.exercise_copies import strip_regions
from rnnbook.scratch.gru import gru_step_backward as scratch_gru_backward
from rnnbook.scratch.gru import gru_step_forward
from rnnbook.scratch.lstm import lstm_step_backward as scratch_lstm_backward
from rnnbook.scratch.lstm import lstm_step_forward

EXERCISES = pathlib.Path(__file__).parents[2] / "chapters" / "05_lstm_gru" / "exercises.ipynb"


def failure(check, answer):
    """The message of the CheckFailed raised by ``check(answer)``."""
    with pytest.raises(CheckFailed) as info:
        check(answer)
    return str(info.value)


def not_written(*args):
    raise NotImplementedError()


CELLS = ExerciseCells(EXERCISES, "ch05")
notebook_cells = CELLS.cells
hidden_test = CELLS.hidden_test
run_cell = CELLS.run_cell


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


def running_product_in_place(f):
    # the review's answer: the right matrix, but the caller's forget gates are overwritten
    for s in range(1, len(f)):
        f[s] *= f[s - 1]
    return np.diag(f[-1])


def cumprod_in_place(f):
    return np.diag(np.cumprod(f, axis=0, out=f)[-1])


def test_cell_path_jacobian_accepts_a_float32_answer(capsys):
    ch05.check_cell_path_jacobian(lambda f: np.diag(np.prod(f.astype(np.float32), axis=0)))
    assert capsys.readouterr().out.startswith("passed: cell_path_jacobian")


@pytest.mark.parametrize("answer", [running_product_in_place, cumprod_in_place])
def test_cell_path_jacobian_in_place_fails_visible_and_hidden_alike(answer):
    # the visible check and the hidden test used to disagree here (review of chapter 5)
    assert "changes its argument `f` in place" in failure(ch05.check_cell_path_jacobian, answer)
    with pytest.raises(AssertionError, match="leaves its inputs unchanged"):
        hidden_test("ch05-cell-path-tests", cell_path_jacobian=answer)


def test_cell_path_jacobian_in_place_on_one_step_only_is_caught():
    def in_place_when_k_is_1(f):
        if len(f) == 1:
            f *= 1.0
            f[0, 0] = 0.5
            return np.diag(f[0])
        return np.diag(np.prod(f, axis=0))
    assert "in place" in failure(ch05.check_cell_path_jacobian, in_place_when_k_is_1)


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


# ------------------------------------------- every exercise: in place fails the hidden test too

def in_place_lstm_step(x, h, c, W_xh, W_hh, b):
    return lstm_step_in_place(x, h, c, W_xh, W_hh, b)


def in_place_gru_step(x, h, W_xh, W_hh, b_xh, b_hh):
    out = gru_step(x, h, W_xh, W_hh, b_xh, b_hh)
    h[...] = out  # overwrites the caller's state, returns the right values
    return h


def in_place_summary(h_n, num_layers):
    out = bidirectional_summary(h_n.copy(), num_layers)
    h_n *= 0.0
    return out


@pytest.mark.parametrize("grade_id, answers", [
    ("ch05-lstm-step-tests", {"lstm_step": in_place_lstm_step}),
    ("ch05-gru-step-tests", {"gru_step": in_place_gru_step}),
    ("ch05-gate-order-tests", {"torch_to_onnx_order": onnx_order_in_place}),
    ("ch05-bidirectional-final-tests", {"bidirectional_summary": in_place_summary}),
])
def test_an_answer_that_changes_its_inputs_fails_a_named_hidden_case(grade_id, answers):
    with pytest.raises(AssertionError, match="leaves its inputs unchanged"):
        hidden_test(grade_id, **answers)


@pytest.mark.parametrize("check, answer, argument", [
    (ch05.check_gru_step, in_place_gru_step, "h_prev"),
    (ch05.check_bidirectional_summary, in_place_summary, "h_n"),
])
def test_an_answer_that_changes_its_inputs_fails_the_visible_check_by_name(check, answer,
                                                                           argument):
    assert f"changes its argument `{argument}` in place" in failure(check, answer)


@pytest.mark.parametrize("grade_id, answers", [
    ("ch05-lstm-step-tests", {"lstm_step": lstm_step}),
    ("ch05-gru-step-tests", {"gru_step": gru_step}),
    ("ch05-cell-path-tests", {"cell_path_jacobian": cell_path_jacobian}),
    ("ch05-parameter-count-tests", {"gated_parameter_count": gated_parameter_count}),
    ("ch05-gate-order-tests", {"torch_to_onnx_order": torch_to_onnx_order}),
    ("ch05-bidirectional-final-tests", {"bidirectional_summary": bidirectional_summary}),
])
def test_reference_answers_pass_the_hidden_tests(grade_id, answers):
    assert hidden_test(grade_id, **answers) == (None, [])


# --------------------------------------------------------------------- lstm_step_backward

LSTM_GRADS = ["dx", "dh_prev", "dc_prev", "dW_xh", "dW_hh", "db"]
LSTM_ARGS = ["dh_next", "dc_next", "x", "h_prev", "c_prev", "W_xh", "W_hh", "b"]


def lstm_step_backward(dh_next, dc_next, x, h_prev, c_prev, W_xh, W_hh, b, slip=None):
    """A learner's backward step, written as CS231n does, with one named slip or none."""
    a = x @ W_xh.T + h_prev @ W_hh.T + b
    a_i, a_f, a_g, a_o = np.split(a, 4, axis=1)
    i, f, o, g = sigmoid(a_i), sigmoid(a_f), sigmoid(a_o), np.tanh(a_g)
    c_next = f * c_prev + i * g
    tc = np.tanh(c_next)
    dc = {"no h path": dc_next, "no tanh'": dc_next + dh_next * o,
          "no dc_next": dh_next * o * (1 - tc**2)}.get(slip, dc_next + dh_next * o * (1 - tc**2))

    def dsig(s, pre):
        return {"tanh'": 1 - s**2, "pre": pre * (1 - pre)}.get(slip, s * (1 - s))

    di = dc * g * dsig(i, a_i)
    df = dc * (c_next if slip == "df with c_next" else c_prev) * dsig(f, a_f)
    dg = dc * i * (g * (1 - g) if slip == "sigmoid' for g" else 1 - g**2)
    do = dh_next * tc * dsig(o, a_o)
    blocks = {"ifog": [di, df, do, dg], "figo": [df, di, dg, do]}.get(slip, [di, df, dg, do])
    da = np.concatenate(blocks, axis=1)
    dc_prev = dc if slip == "no f" else dc * f
    dW_xh = x.T @ da if slip == "dW transposed" else da.T @ x
    db = da if slip == "db not summed" else da.sum(axis=0)
    grads = [da @ W_xh, da @ W_hh, dc_prev, dW_xh, da.T @ h_prev, db]
    if slip == "dh and dc swapped":
        grads[1], grads[2] = grads[2], grads[1]
    return tuple(grads[:5]) if slip == "five" else tuple(grads)


def lstm_backward_in_place(dh_next, dc_next, x, h_prev, c_prev, W_xh, W_hh, b):
    # right numbers, but dc_next (the caller's running gradient) is overwritten: dc += ...
    a = x @ W_xh.T + h_prev @ W_hh.T + b
    a_i, a_f, a_g, a_o = np.split(a, 4, axis=1)
    i, f, o, g = sigmoid(a_i), sigmoid(a_f), sigmoid(a_o), np.tanh(a_g)
    tc = np.tanh(f * c_prev + i * g)
    dc = dc_next
    dc += dh_next * o * (1 - tc**2)
    da = np.concatenate([dc * g * i * (1 - i), dc * c_prev * f * (1 - f), dc * i * (1 - g**2),
                         dh_next * tc * o * (1 - o)], axis=1)
    return da @ W_xh, da @ W_hh, dc * f, da.T @ x, da.T @ h_prev, da.sum(axis=0)


def lstm_backward_float32(*args):
    return lstm_step_backward(*[a.astype(np.float32) for a in args])


def lstm_backward_autograd(*args):
    # a learner who lets torch do it: autograd through torch.nn.LSTMCell
    dh, dc, x, h, c, W_xh, W_hh, b = (torch.from_numpy(a) for a in args)
    cell = torch.nn.LSTMCell(x.shape[1], h.shape[1], dtype=torch.float64)
    with torch.no_grad():
        cell.weight_ih.copy_(W_xh)
        cell.weight_hh.copy_(W_hh)
        cell.bias_ih.copy_(b)
        cell.bias_hh.zero_()
    x, h, c = (t.clone().requires_grad_() for t in (x, h, c))
    h_next, c_next = cell(x, (h, c))
    ((h_next * dh).sum() + (c_next * dc).sum()).backward()
    return tuple(t.grad.numpy() for t in (x, h, c, cell.weight_ih, cell.weight_hh, cell.bias_ih))


def lstm_backward_args(seed, N=3, D=4, H=5):
    return ch05._lstm_backward_inputs(np.random.default_rng(seed), N, D, H)


@pytest.mark.parametrize("seed, N, D, H", [(0, 3, 4, 5), (1, 1, 1, 1), (2, 4, 6, 6)])
def test_lstm_backward_reference_equals_scratch_and_autograd(seed, N, D, H):
    args = lstm_backward_args(seed, N, D, H)
    dh, dc, x, h, c, W_xh, W_hh, b = args
    scratch = scratch_lstm_backward(dh, dc, lstm_step_forward(x, h, c, W_xh, W_hh, b)[2])
    for ours, theirs, auto in zip(ch05._lstm_backward(*args), scratch,
                                  lstm_backward_autograd(*args), strict=True):
        assert np.allclose(ours, theirs, atol=1e-12) and np.allclose(ours, auto, atol=1e-12)


LSTM_WRONG = [
    # (answer, words of the visible check, hidden cases it fails)
    ("no f", "without the forget gate (dc_prev = dc)", ["dc_prev"]),
    ("no h path", "path from h_next into the cell", LSTM_GRADS),
    ("no tanh'", "leaves out tanh'", LSTM_GRADS),
    ("no dc_next", "leaves out dc_next", LSTM_GRADS),
    ("tanh'", "1 - s**2, the derivative of tanh", ["dx", "dh_prev", "dW_xh", "dW_hh", "db"]),
    ("pre", "to the pre-activation", ["dx", "dh_prev", "dW_xh", "dW_hh", "db"]),
    ("sigmoid' for g", "sigmoid derivative g * (1 - g)",
     ["dx", "dh_prev", "dW_xh", "dW_hh", "db"]),
    ("df with c_next", "by c_next", ["dx", "dh_prev", "dW_xh", "dW_hh", "db"]),
    ("ifog", "stacks the gate gradients in the order (i, f, o, g)",
     ["dx", "dh_prev", "dW_xh", "dW_hh", "db"]),
    ("figo", "stacks the gate gradients in the order (f, i, g, o)",
     ["dx", "dh_prev", "dW_xh", "dW_hh", "db"]),
    ("dh and dc swapped", "is the expected `dc_prev`", ["dh_prev", "dc_prev"]),
    ("dW transposed", "has shape (4, 20); expected (20, 4).\nHint: it looks transposed",
     ["dW_xh"]),
    ("db not summed", "has shape (3, 20); expected (20,).\nHint: one axis too many", ["db"]),
    ("five", "should return 6 values (dx, dh_prev, dc_prev, dW_xh, dW_hh, db); got 5", LSTM_GRADS),
]
UNCHANGED = "leaves its inputs unchanged"


# ---------------------------------------------------------------------- gru_step_backward

GRU_GRADS = ["dx", "dh_prev", "dW_xh", "dW_hh", "db_xh", "db_hh"]


def gru_step_backward(dh_next, x, h_prev, W_xh, W_hh, b_xh, b_hh, slip=None):
    """A learner's GRU backward step (torch.nn.GRU), with one named slip or none."""
    H = h_prev.shape[1]
    xr, xz, xn = np.split(x @ W_xh.T + b_xh, 3, axis=1)
    hr, hz, hn = np.split(h_prev @ W_hh.T + b_hh, 3, axis=1)
    r, z = sigmoid(xr + hr), sigmoid(xz + hz)
    W_hn, b_hn = W_hh[2 * H:], b_hh[2 * H:]
    if slip == "cho":  # Cho et al.'s GRU: n = tanh(xn + (r * h) W_hn^T + b_hn)
        n = np.tanh(xn + (r * h_prev) @ W_hn.T + b_hn)
    else:
        n = np.tanh(xn + r * hn)
    if slip == "z on candidate":
        dn, dz, dh_prev = dh_next * z, dh_next * (n - h_prev), dh_next * (1 - z)
    else:
        dn, dz, dh_prev = dh_next * (1 - z), dh_next * (h_prev - n), dh_next * z
    if slip == "no direct path":
        dh_prev = 0 * dh_prev
    dan = dn if slip == "no tanh'" else dn * (1 - n**2)

    def dsig(s, pre):
        return {"tanh'": 1 - s**2, "pre": pre * (1 - pre)}.get(slip, s * (1 - s))

    if slip == "cho":
        d_rh = dan @ W_hn
        dar = d_rh * h_prev * dsig(r, xr + hr)
        daz = dz * dsig(z, xz + hz)
        dax = np.concatenate([dar, daz, dan], axis=1)
        dah = np.concatenate([dar, daz], axis=1)
        dW_hh = np.concatenate([dah.T @ h_prev, dan.T @ (r * h_prev)])
        dh_prev = dh_prev + dah @ W_hh[:2 * H] + d_rh * r
        return (dax @ W_xh, dh_prev, dax.T @ x, dW_hh, dax.sum(0),
                np.concatenate([dah.sum(0), dan.sum(0)]))
    dar = dan * (hn - b_hn if slip == "b_hn outside" else hn) * dsig(r, xr + hr)
    daz = dz * dsig(z, xz + hz)
    dhn = dan if slip == "no r on hn" else dan * r
    order = [1, 0, 2] if slip == "zrn" else [0, 1, 2]
    dax = np.concatenate([[dar, daz, dan][k] for k in order], axis=1)
    dah = np.concatenate([[dar, daz, dhn][k] for k in order], axis=1)
    grads = [dax @ W_xh, dh_prev + dah @ W_hh, dax.T @ x, dah.T @ h_prev, dax.sum(0), dah.sum(0)]
    if slip == "biases swapped":
        grads[4], grads[5] = grads[5], grads[4]
    if slip == "db_hh is db_xh":  # the n block of db_hh without the factor r, alone
        grads[5] = grads[4]
    return tuple(grads)


def gru_backward_aliased(dh_next, x, h_prev, W_xh, W_hh, b_xh, b_hh):
    # right numbers, but dh_prev aliases dh_next: `dh_prev *= z` changes the caller's gradient
    xr, xz, xn = np.split(x @ W_xh.T + b_xh, 3, axis=1)
    hr, hz, hn = np.split(h_prev @ W_hh.T + b_hh, 3, axis=1)
    r, z = sigmoid(xr + hr), sigmoid(xz + hz)
    n = np.tanh(xn + r * hn)
    dan = dh_next * (1 - z) * (1 - n**2)
    dar, daz = dan * hn * r * (1 - r), dh_next * (h_prev - n) * z * (1 - z)
    dax = np.concatenate([dar, daz, dan], axis=1)
    dah = np.concatenate([dar, daz, dan * r], axis=1)
    dh_prev = dh_next
    dh_prev *= z
    dh_prev += dah @ W_hh
    return dax @ W_xh, dh_prev, dax.T @ x, dah.T @ h_prev, dax.sum(0), dah.sum(0)


def gru_backward_float32(*args):
    return gru_step_backward(*[a.astype(np.float32) for a in args])


def gru_backward_autograd(*args, cho=False):
    """Autograd through torch.nn.GRUCell, or through Cho et al.'s GRU written out."""
    dh, x, h, W_xh, W_hh, b_xh, b_hh = (torch.from_numpy(a).clone() for a in args)
    leaves = [t.requires_grad_() for t in (x, h, W_xh, W_hh, b_xh, b_hh)]
    if cho:
        H = h.shape[1]
        xr, xz, xn = (x @ W_xh.T + b_xh).chunk(3, dim=1)
        hr, hz, _ = (h @ W_hh.T + b_hh).chunk(3, dim=1)
        r, z = torch.sigmoid(xr + hr), torch.sigmoid(xz + hz)
        n = torch.tanh(xn + (r * h) @ W_hh[2 * H:].T + b_hh[2 * H:])
        h_next = (1 - z) * n + z * h
    else:
        h_next = torch._VF.gru_cell(x, h, W_xh, W_hh, b_xh, b_hh)
    (h_next * dh).sum().backward()
    return tuple(t.grad.numpy() for t in leaves)


def gru_backward_args(seed, N=3, D=4, H=5):
    return ch05._gru_backward_inputs(np.random.default_rng(seed), N, D, H)


@pytest.mark.parametrize("seed, N, D, H", [(0, 3, 4, 5), (1, 1, 1, 1), (2, 4, 6, 6)])
def test_gru_backward_reference_equals_scratch_and_autograd(seed, N, D, H):
    args = gru_backward_args(seed, N, D, H)
    dh, x, h, W_xh, W_hh, b_xh, b_hh = args
    scratch = scratch_gru_backward(dh, gru_step_forward(x, h, W_xh, W_hh, b_xh, b_hh)[1])
    for ours, theirs, auto in zip(ch05._gru_backward(*args), scratch,
                                  gru_backward_autograd(*args), strict=True):
        assert np.allclose(ours, theirs, atol=1e-12) and np.allclose(ours, auto, atol=1e-12)


def test_the_cho_diagnosis_is_the_gradient_of_chos_gru():
    # the check's "reset gate before the product" is really the gradient of Cho et al.'s model
    args = gru_backward_args(3)
    for ours, auto in zip(ch05._gru_backward(*args, reset="before"),
                          gru_backward_autograd(*args, cho=True), strict=True):
        assert np.allclose(ours, auto, atol=1e-12)


@pytest.mark.parametrize("backward, slips, args", [
    (ch05._lstm_backward, ch05._lstm_slips, lstm_backward_args(55)),
    (ch05._gru_backward, ch05._gru_slips, gru_backward_args(56)),
], ids=["lstm", "gru"])
def test_every_named_slip_is_far_from_the_right_gradients(backward, slips, args):
    # on the visible check's inputs: no diagnosis can hit a right answer, nor the tolerance
    # accept a slip
    right = backward(*args)
    for slip, message, _ in slips(*args):
        worst = max(np.abs(s - r).max() / np.abs(r).max()
                    for s, r in zip(slip, right, strict=True))
        assert worst > 100 * ch05.GRAD_RTOL, message


GRU_WRONG = [
    ("cho", "Cho et al.'s GRU", GRU_GRADS),
    ("b_hn outside", "leaves b_hn out of the reset gate's gradient", GRU_GRADS),
    ("no r on hn", "without the factor r", ["dh_prev", "dW_hh", "db_hh"]),
    ("no direct path", "direct path from h_prev", ["dh_prev"]),
    ("z on candidate", "puts the update gate on the candidate", GRU_GRADS),
    ("tanh'", "1 - s**2, the derivative of tanh", GRU_GRADS),
    ("pre", "to the pre-activation", GRU_GRADS),
    ("no tanh'", "leaves out the derivative of tanh", GRU_GRADS),
    ("zrn", "stacks the gate gradients in the order (z, r, n)", GRU_GRADS),
    ("biases swapped", "is the expected `db_hh`", ["db_xh", "db_hh"]),
    ("db_hh is db_xh", "without the factor r", ["db_hh"]),
]


# ------------------------------------------------------ both backward steps, one test each

BACKWARD = {
    "lstm": dict(name="lstm_step_backward", check=ch05.check_lstm_step_backward,
                 grade_id="ch05-lstm-step-backward-tests", grads=LSTM_GRADS,
                 step=lstm_step_backward, reference=ch05._lstm_backward,
                 args=lstm_backward_args(55),
                 right=[lstm_step_backward, lstm_backward_float32, lstm_backward_autograd],
                 in_place=(lstm_backward_in_place, "dc_next")),
    "gru": dict(name="gru_step_backward", check=ch05.check_gru_step_backward,
                grade_id="ch05-gru-step-backward-tests", grads=GRU_GRADS,
                step=gru_step_backward, reference=ch05._gru_backward,
                args=gru_backward_args(56),
                right=[gru_step_backward, gru_backward_float32, gru_backward_autograd],
                in_place=(gru_backward_aliased, "dh_next")),
}


def run_backward(cell, answer):
    """(visible check's message or 'passed', (points, failed cases) of the hidden tests)."""
    spec = BACKWARD[cell]
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            spec["check"](answer)
        visible = "passed"
    except CheckFailed as error:
        visible = str(error)
    return visible, hidden_test(spec["grade_id"], **{spec["name"]: answer})


@pytest.mark.parametrize("cell", BACKWARD)
def test_right_backward_answers_pass_and_earn_every_point(cell):
    # written out, computed in float32, or left to torch.autograd
    for answer in BACKWARD[cell]["right"]:
        assert run_backward(cell, answer) == ("passed", (7.0, []))


@pytest.mark.parametrize("cell", BACKWARD)
def test_backward_float32_errors_are_far_inside_the_tolerance(cell):
    spec = BACKWARD[cell]
    float32 = spec["right"][1](*spec["args"])
    for got, want in zip(float32, spec["reference"](*spec["args"]), strict=True):
        assert np.allclose(got, want, rtol=ch05.GRAD_RTOL / 10, atol=ch05.GRAD_ATOL / 10)


def expected_hidden(failed, grads):
    """(points, failed cases) of the hidden tests for an answer whose ``failed`` gradients are
    wrong: one point per right gradient, one for the unchanged inputs once any is right."""
    if failed == grads:
        return 0.0, grads + [UNCHANGED]
    return 7.0 - len(failed), failed


SLIPS = [("lstm", *w) for w in LSTM_WRONG] + [("gru", *w) for w in GRU_WRONG]


@pytest.mark.parametrize("cell, slip, words, failed", SLIPS, ids=[f"{w[0]}-{w[1]}" for w in SLIPS])
def test_backward_slips_are_named_and_cost_their_gradients(cell, slip, words, failed):
    spec = BACKWARD[cell]
    visible, hidden = run_backward(cell, lambda *args: spec["step"](*args, slip=slip))
    assert words in visible
    assert hidden == expected_hidden(failed, spec["grads"])


@pytest.mark.parametrize("cell", BACKWARD)
def test_a_backward_step_that_changes_its_inputs_is_named_and_loses_one_point(cell):
    answer, argument = BACKWARD[cell]["in_place"]
    visible, hidden = run_backward(cell, answer)
    assert f"changes its argument `{argument}` in place" in visible
    assert hidden == (6.0, [UNCHANGED])


@pytest.mark.parametrize("cell", BACKWARD)
@pytest.mark.parametrize("answer, words", [
    (not_written, "not written yet"),
    (lambda *args: None, "should return 6 values (dx, dh_prev, d"),
    (lambda *args: tuple(np.zeros_like(a) for a in args[-6:]), "differs"),
], ids=["not-written", "none", "zeros"])
def test_blank_backward_answers_earn_nothing(cell, answer, words):
    visible, hidden = run_backward(cell, answer)
    assert words in visible
    assert hidden == (0.0, BACKWARD[cell]["grads"] + [UNCHANGED])




@pytest.mark.parametrize("cell", BACKWARD)
def test_a_backward_cell_has_the_partial_credit_form(cell):
    _, source = notebook_cells(BACKWARD[cell]["grade_id"])
    first, last = HIDDEN.findall(source)
    assert source.startswith("credit = Credit(points=7)\n### BEGIN HIDDEN TESTS\n")
    assert last == "credit.earned()\n" and "credit.earned()" not in first
    assert strip_regions(source) == (
        f"credit = Credit(points=7)\nwith credit.visible():\n"
        f"    ch05.check_{BACKWARD[cell]['name']}({BACKWARD[cell]['name']})\n")


@pytest.mark.parametrize("cell, slip, words, failed", SLIPS, ids=[f"{w[0]}-{w[1]}" for w in SLIPS])
def test_the_learners_copy_of_a_backward_cell_fails_on_a_wrong_answer(cell, slip, words, failed):
    """No hidden case ran: the visible check raises, so the cell fails and Validate says so."""
    spec = BACKWARD[cell]
    answer = {spec["name"]: lambda *args: spec["step"](*args, slip=slip)}
    with pytest.raises(CheckFailed, match=re.escape(words.split("\n")[0])):
        run_cell(spec["grade_id"], learner=True, **answer)


@pytest.mark.parametrize("cell", BACKWARD)
def test_the_learners_copy_of_a_backward_cell_passes_a_right_answer(cell):
    spec = BACKWARD[cell]
    namespace, printed = run_cell(spec["grade_id"], learner=True, **{spec["name"]: spec["step"]})
    assert printed.startswith(f"passed: {spec['name']}") and namespace["credit"].results == []


@pytest.mark.parametrize("cell, slip, words, failed", SLIPS, ids=[f"{w[0]}-{w[1]}" for w in SLIPS])
def test_a_graded_backward_cell_prints_the_visible_failure_and_scores_the_cases(cell, slip,
                                                                                 words, failed):
    spec = BACKWARD[cell]
    answer = {spec["name"]: lambda *args: spec["step"](*args, slip=slip)}
    try:
        namespace, printed = run_cell(spec["grade_id"], **answer)
        earned = namespace["credit"].earned()
    except NoCredit:  # the cell's last line raises it: the grader scores the cell 0
        earned, printed = 0.0, None
    assert earned == expected_hidden(failed, spec["grads"])[0]
    if printed is not None:
        assert "failed: the visible check: " in printed
        assert max(len(line) for line in printed.splitlines()) <= 79


# ----------------------------- the review's wrong answers: rejected by visible and hidden alike

def hidden_rejects(grade_id, **answers):
    """True if the hidden tests of ``grade_id`` fail the answers (an assertion or an error)."""
    try:
        earned, _ = hidden_test(grade_id, **answers)
    except Exception:  # an assertion of the hidden tests, or an error of the answer they run
        return True
    return earned == 0


def lstm_blocks(x, h, W_xh, W_hh, b):
    return np.split(x @ W_xh.T + h @ W_hh.T + b, 4, axis=1)


def lstm_from_gates(c, i, f, g, o, h_of=lambda o, c: o * np.tanh(c)):
    c_next = f * c + i * g
    return h_of(o, c_next), c_next


def gru_blocks(x, h, W_xh, W_hh, b_xh, b_hh):
    return np.split(x @ W_xh.T + b_xh, 3, axis=1), np.split(h @ W_hh.T + b_hh, 3, axis=1)


def gru_tanh_reset(x, h, *p):
    (xr, xz, xn), (hr, hz, hn) = gru_blocks(x, h, *p)
    r, z = sigmoid(xr + hr), sigmoid(xz + hz)
    return (1 - z) * np.tanh(r * (xn + hn)) + z * h


def gru_drops_h(x, h, *p):
    (xr, xz, xn), (hr, hz, hn) = gru_blocks(x, h, *p)
    r, z = sigmoid(xr + hr), sigmoid(xz + hz)
    n = np.tanh(xn + r * hn)
    return (1 - z) * n + z * n


def lstm_review(slip):
    def answer(x, h, c, W_xh, W_hh, b):
        a_i, a_f, a_g, a_o = lstm_blocks(x, h, W_xh, W_hh, b)
        i, f, g, o = sigmoid(a_i), sigmoid(a_f), np.tanh(a_g), sigmoid(a_o)
        if slip == "tf1 forget bias":
            f = sigmoid(a_f + 1)
        if slip == "sigmoid candidate":
            g = sigmoid(a_g)
        if slip == "cifg":
            i = 1 - f
        if slip == "interleaved":
            a = (x @ W_xh.T + h @ W_hh.T + b).reshape(len(x), -1, 4)
            i, f, g, o = (sigmoid(a[..., 0]), sigmoid(a[..., 1]), np.tanh(a[..., 2]),
                          sigmoid(a[..., 3]))
        if slip == "h from c_prev":
            return o * np.tanh(c), f * c + i * g
        if slip == "tanh of o c":
            return lstm_from_gates(c, i, f, g, o, lambda o, c: np.tanh(o * c))
        return lstm_from_gates(c, i, f, g, o)
    return answer


def f32(answer):
    return lambda *args: answer(*[np.asarray(a, dtype=np.float32) if isinstance(a, np.ndarray)
                                  else a for a in args])


def summary_without_transpose(h_n, L):
    return h_n.reshape(L, 2, *h_n.shape[1:])[-1].reshape(h_n.shape[1], -1)


REVIEW_WRONG = [
    ("lstm_step", ch05.check_lstm_step, "ch05-lstm-step-tests", lstm_review(slip))
    for slip in ["tf1 forget bias", "sigmoid candidate", "cifg", "interleaved", "h from c_prev",
                 "tanh of o c"]
] + [
    ("gru_step", ch05.check_gru_step, "ch05-gru-step-tests", answer) for answer in [
        lambda *a: gru_step(*a, reset="before"),
        lambda *a: gru_step(*a, z_old=False),
        lambda x, h, W_xh, W_hh, b_xh, b_hh: gru_step(x, h, W_xh, W_hh, b_xh + b_hh, 0 * b_hh),
        lambda *a: gru_step(*a, order="zrn"),
        gru_tanh_reset,
        gru_drops_h,
        lambda x, h, W_xh, W_hh, b_xh, b_hh: gru_step(x, h, W_xh, W_hh, b_hh, b_xh),
    ]
] + [
    ("cell_path_jacobian", ch05.check_cell_path_jacobian, "ch05-cell-path-tests", answer)
    for answer in [
        lambda f: np.diag(np.prod(f[1:], axis=0)),
        lambda f: np.diag(np.prod(f[:-1], axis=0)),
        lambda f: np.diag(np.prod(f, axis=1)),
        lambda f: np.prod(f, axis=0),
        lambda f: np.diag(f.sum(axis=0)),
        lambda f: np.diag(f.mean(axis=0) ** len(f)),
        lambda f: np.diag(f[0] * f[-1]),
        lambda f: np.sqrt(np.outer(np.prod(f, axis=0), np.prod(f, axis=0))),
        running_product_in_place,
        cumprod_in_place,
    ]
] + [
    ("gated_parameter_count", ch05.check_gated_parameter_count, "ch05-parameter-count-tests",
     answer) for answer in [
        lambda *a: gated_parameter_count(*a, deep=False),
        lambda *a: gated_parameter_count(*a, biases=1),
        lambda c, D, H, L, bi: gated_parameter_count(c, D, H, L, bi) - (2 if bi else 1) * L * (
            GATES[c] * H - H),
        lambda c, D, H, L, bi: gated_parameter_count(c, D, H, L, bi) - (
            (2 if bi else 1) * L * 2 * H if c == "gru" else 0),
        lambda c, D, H, L, bi: gated_parameter_count(c, D, H, L, bi) + (L - 1) * H,
        lambda *a: float(gated_parameter_count(*a)),
    ]
] + [
    ("torch_to_onnx_order", ch05.check_torch_to_onnx_order, "ch05-gate-order-tests", answer)
    for answer in [
        permute([0, 1, 3, 2]),
        permute([0, 2, 3, 1]),
        lambda W: W.reshape(W.shape[0] // 4, 4, *W.shape[1:])[:, [0, 3, 1, 2]].reshape(W.shape),
        onnx_order_in_place,
        lambda W: W[[0, 3, 1, 2] + list(range(4, W.shape[0]))],
        permute([0, 3, 2, 1]),
    ]
] + [
    ("bidirectional_summary", ch05.check_bidirectional_summary,
     "ch05-bidirectional-final-tests", answer) for answer in [
        lambda h, L: np.concatenate([h[-1], h[-2]], axis=1),
        lambda h, L: np.concatenate([h.reshape(2, L, *h.shape[1:])[0, -1],
                                     h.reshape(2, L, *h.shape[1:])[1, -1]], axis=1),
        summary_without_transpose,
        lambda h, L: np.concatenate([h[0], h[1]], axis=1),
        lambda h, L: np.stack([h[-2], h[-1]]).reshape(h.shape[1], -1),
        lambda h, L: h[-2] + h[-1],
    ]
]


@pytest.mark.parametrize("name, check, grade_id, answer", REVIEW_WRONG,
                         ids=[f"{w[0]}-{k}" for k, w in enumerate(REVIEW_WRONG)])
def test_the_reviews_wrong_answers_fail_visible_and_hidden(name, check, grade_id, answer):
    with pytest.raises(CheckFailed):
        check(answer)
    assert hidden_rejects(grade_id, **{name: answer})


@pytest.mark.parametrize("name, check, grade_id, answer", [
    ("lstm_step", ch05.check_lstm_step, "ch05-lstm-step-tests", f32(lstm_step)),
    ("gru_step", ch05.check_gru_step, "ch05-gru-step-tests", f32(gru_step)),
    ("cell_path_jacobian", ch05.check_cell_path_jacobian, "ch05-cell-path-tests",
     f32(cell_path_jacobian)),
    ("torch_to_onnx_order", ch05.check_torch_to_onnx_order, "ch05-gate-order-tests",
     lambda W: W[np.r_[0:len(W) // 4, 3 * len(W) // 4:len(W), len(W) // 4:3 * len(W) // 4]]),
    ("torch_to_onnx_order", ch05.check_torch_to_onnx_order, "ch05-gate-order-tests",
     lambda W: torch.cat([torch.as_tensor(W).chunk(4)[i] for i in (0, 3, 1, 2)])),
    ("bidirectional_summary", ch05.check_bidirectional_summary, "ch05-bidirectional-final-tests",
     lambda h, L: h.transpose(1, 0, 2)[:, -2:].reshape(h.shape[1], -1)),
], ids=["lstm_step-float32", "gru_step-float32", "cell_path-float32", "onnx-indexed",
        "onnx-torch-tensor", "summary-transpose"])
def test_right_answers_in_float32_or_another_form_pass_visible_and_hidden(name, check,
                                                                           grade_id, answer):
    check(answer)
    assert hidden_test(grade_id, **{name: answer}) == (None, [])
