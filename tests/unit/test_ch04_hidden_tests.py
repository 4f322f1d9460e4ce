"""The hidden tests of chapter 4's exercises reject wrong answers without using rnnbook.checks.

Each hidden block is cut out of ``chapters/04_bptt/exercises.ipynb`` and run on its own, with only
NumPy and torch in its namespace: the reference answers pass, and plausible wrong answers (the
ones the visible checks diagnose) fail.
"""

import pathlib

import nbformat
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from rnnbook.checks import ch04

NOTEBOOK = pathlib.Path(__file__).resolve().parents[2] / "chapters" / "04_bptt" / "exercises.ipynb"


def hidden_blocks():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    blocks = {}
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade"):
            src = cell.source
            start = src.index("### BEGIN HIDDEN TESTS")
            end = src.index("### END HIDDEN TESTS")
            blocks[meta["grade_id"]] = src[start:end]
    return blocks


BLOCKS = hidden_blocks()


def run_hidden(grade_id, name, answer):
    torch.manual_seed(0)
    namespace = {"np": np, "torch": torch, "F": F, "nn": nn, name: answer}
    assert "ch04" not in BLOCKS[grade_id]          # the hidden tests do not use the checks
    exec(compile(BLOCKS[grade_id], grade_id, "exec"), namespace)


def step_backward(dh, x, hp, hn, Wx, Wh, deriv=None, dh_W=None, dW=None):
    da = dh * (1 - (hn if deriv is None else deriv) ** 2)
    dW_hh = da.T @ hp if dW is None else dW(da, hp, hn)
    return da @ Wx, da @ (Wh if dh_W is None else dh_W(Wh)), da.T @ x, dW_hh, da.sum(0)


def central(f, x, eps=1e-5):
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + eps
        plus = f(x)
        x[i] = old - eps
        minus = f(x)
        x[i] = old
        g[i] = (plus - minus) / (2 * eps)
    return g


def one_sided(f, x, eps=1e-5):
    g, base = np.zeros_like(x), f(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + eps
        g[i] = (f(x) - base) / eps
        x[i] = old
    return g


def restored_by_arithmetic(f, x, eps=1e-5):
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        x[i] += eps
        plus = f(x)
        x[i] -= 2 * eps
        minus = f(x)
        x[i] += eps
        g[i] = (plus - minus) / (2 * eps)
    return g


def clip_same_arrays(grads, m):
    norm = float(np.sqrt(sum(np.sum(g**2) for g in grads)))
    return (grads if norm <= m else [g * (m / norm) for g in grads]), norm


def clip_torch_style(grads, m):
    norm = float(np.sqrt(sum(np.sum(g**2) for g in grads)))
    return [g * min(1.0, m / (norm + 1e-6)) for g in grads], norm


def clip(grads, m):
    norm = float(np.sqrt(sum(np.sum(g**2) for g in grads)))
    return [g * min(1.0, m / norm) for g in grads], norm


REFERENCES = {
    "ch04-step-backward-tests": ("rnn_step_backward", step_backward),
    "ch04-bptt-output-tests": ("bptt_with_output", ch04.lm_gradients),
    "ch04-grad-h0-tests": ("grad_h0", ch04.grad_h0_reference),
    "ch04-numerical-gradient-tests": ("numerical_gradient", central),
    "ch04-jacobian-norms-tests": ("jacobian_norms", ch04.jacobian_norms_reference),
    "ch04-clip-tests": ("clip_global_norm", clip),
    "ch04-truncated-tests": ("truncated_grad_W_hh", ch04.truncated_reference),
}

WRONG = [
    ("ch04-step-backward-tests", lambda dh, x, hp, hn, Wx, Wh: step_backward(dh, x, hp, hn, Wx, Wh,
                                                                             deriv=hp)),
    ("ch04-step-backward-tests", lambda *a: step_backward(*a, dh_W=lambda W: W.T)),
    ("ch04-step-backward-tests", lambda *a: step_backward(*a, dW=lambda da, hp, hn: hp.T @ da)),
    ("ch04-bptt-output-tests", lambda *a: ch04.lm_gradients(*a, variant="no_recurrent")),
    ("ch04-bptt-output-tests", lambda *a: ch04.lm_gradients(*a, variant="last_step")),
    ("ch04-bptt-output-tests", lambda *a: ch04.lm_gradients(*a, variant="token_mean")),
    ("ch04-bptt-output-tests", lambda *a: ch04.lm_gradients(*a, variant="h_t_in_dW_hh")),
    ("ch04-grad-h0-tests", lambda *a: ch04.grad_h0_reference(*a, variant="transpose")),
    ("ch04-grad-h0-tests", lambda *a: ch04.grad_h0_reference(*a, variant="prev_deriv")),
    ("ch04-grad-h0-tests", lambda *a: ch04.grad_h0_reference(*a, variant="one_short")),
    ("ch04-numerical-gradient-tests", one_sided),
    ("ch04-numerical-gradient-tests", lambda f, x, eps=1e-5: central(f, x, eps) / 2),
    ("ch04-numerical-gradient-tests", lambda f, x, eps=1e-5: central(f, x, eps).ravel()),
    ("ch04-numerical-gradient-tests", restored_by_arithmetic),
    ("ch04-jacobian-norms-tests", lambda W, h: ch04.jacobian_norms_reference(W, h, "prev_deriv")),
    ("ch04-jacobian-norms-tests", lambda W, h: ch04.jacobian_norms_reference(W, h, "reversed")),
    ("ch04-jacobian-norms-tests", lambda W, h: ch04.jacobian_norms_reference(W, h, "fro")),
    ("ch04-clip-tests", lambda g, m: ([np.clip(a, -m, m) for a in g], clip(g, m)[1])),
    ("ch04-clip-tests", lambda g, m: ([a * min(1, m / np.linalg.norm(a)) for a in g],
                                      clip(g, m)[1])),
    ("ch04-clip-tests", lambda g, m: ([a * m / clip(g, m)[1] for a in g], clip(g, m)[1])),
    ("ch04-clip-tests", clip_same_arrays),
    ("ch04-clip-tests", clip_torch_style),
    ("ch04-truncated-tests", lambda *a: ch04.truncated_reference(*a, variant="full")),
    ("ch04-truncated-tests", lambda *a: ch04.truncated_reference(*a, variant="reset")),
    ("ch04-truncated-tests", lambda *a: ch04.truncated_reference(*a, variant="mean")),
    ("ch04-truncated-tests", lambda *a: ch04.truncated_reference(*a, variant="last_chunk")),
]


def test_every_exercise_has_a_hidden_block():
    assert set(BLOCKS) == set(REFERENCES)


@pytest.mark.parametrize("grade_id", sorted(REFERENCES))
def test_hidden_tests_accept_the_reference(grade_id):
    name, answer = REFERENCES[grade_id]
    run_hidden(grade_id, name, answer)


@pytest.mark.parametrize("index", range(len(WRONG)))
def test_hidden_tests_reject_wrong_answers(index):
    grade_id, answer = WRONG[index]
    with pytest.raises((AssertionError, ValueError, IndexError)):
        run_hidden(grade_id, REFERENCES[grade_id][0], answer)
