"""rnnbook.checks.ch06.language_models: each check accepts the reference answer and rejects the
plausible wrong ones (also through the hidden tests of the exercises notebook)."""

import math
import pathlib

import nbformat
import numpy as np
import pytest

from rnnbook.checks import CheckFailed
from rnnbook.checks.ch06 import language_models as ch06

EXERCISES = pathlib.Path(__file__).parents[2] / "chapters" / "06_applications" / "exercises.ipynb"
LN2 = math.log(2)


def hidden_test(grade_id, **answers):
    """Run the hidden part of the test cell ``grade_id`` after the set-up cell, with ``answers``."""
    nb = nbformat.read(EXERCISES, as_version=4)
    setup = next(c.source for c in nb.cells if c.cell_type == "code")
    cell = next(c.source for c in nb.cells
                if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)
    hidden = cell.split("### BEGIN HIDDEN TESTS")[1].split("### END HIDDEN TESTS")[0]
    namespace = {}
    exec(setup, namespace)
    namespace.update(answers)
    exec(hidden, namespace)


def failure(check, answer):
    with pytest.raises(CheckFailed) as info:
        check(answer)
    return str(info.value)


def not_written(*args):
    raise NotImplementedError()


def softmax(s):
    e = np.exp(s - s.max())
    return e / e.sum()


# ------------------------------------------------------------------------------ bits per char

def bits_per_char(total_nats, num_chars):
    return total_nats / num_chars / math.log(2)


BITS_WRONG = {
    "nats": (lambda t, n: t / n, "nats, not bits"),
    "times ln 2": (lambda t, n: t / n * LN2, "multiplies by ln 2"),
    "total": (lambda t, n: t / LN2, "total over the text"),
    "perplexity": (lambda t, n: math.exp(t / n), "perplexity"),
    "log10": (lambda t, n: t / n / math.log(10), "ln 10"),
    "array": (lambda t, n: np.full(n, t / n / LN2), "expected one number"),
}


def test_bits_reference_passes(capsys):
    ch06.check_bits_per_char(bits_per_char)
    assert capsys.readouterr().out.startswith("passed: bits_per_char")
    if EXERCISES.exists():
        hidden_test("ch06-bits-per-char-tests", bits_per_char=bits_per_char)


@pytest.mark.parametrize("slip", sorted(BITS_WRONG))
def test_bits_wrong_answers_rejected(slip):
    answer, message = BITS_WRONG[slip]
    assert message in failure(ch06.check_bits_per_char, answer)
    if EXERCISES.exists():
        with pytest.raises(AssertionError):
            hidden_test("ch06-bits-per-char-tests", bits_per_char=answer)


def test_bits_not_written():
    assert "not written yet" in failure(ch06.check_bits_per_char, not_written)


# ------------------------------------------------------------------------------ tempered top-k

def tempered_top_k(logits, temperature, top_k):
    logits = np.asarray(logits, dtype=float)
    keep = np.argsort(-logits, kind="stable")[:top_k]
    probs = np.zeros_like(logits)
    z = logits[keep] / temperature
    e = np.exp(z - z.max())
    probs[keep] = e / e.sum()
    return probs


def _no_renorm(logits, T, k):
    p = softmax(logits / T)
    keep = np.argsort(-logits)[:k]
    out = np.zeros_like(p)
    out[keep] = p[keep]
    return out


def _least(logits, T, k):
    return _keep(logits, T, np.argsort(-logits)[-k:])


def _keep(logits, T, keep):
    out = np.zeros_like(logits, dtype=float)
    out[keep] = softmax(logits[keep] / T)
    return out


TOPK_WRONG = {
    "not renormalised": (_no_renorm, "renormalised"),
    "times T": (lambda s, T, k: tempered_top_k(s * T, 1.0, k), "multiplies the logits"),
    "least likely": (_least, "least"),
    "no top-k": (lambda s, T, k: softmax(s / T), "ignores top_k"),
    "no temperature": (lambda s, T, k: tempered_top_k(s, 1.0, k), "ignores the temperature"),
    "k + 1": (lambda s, T, k: tempered_top_k(s, T, k + 1), "k + 1"),
    "only kept": (lambda s, T, k: tempered_top_k(s, T, k)[np.argsort(-s)[:k]], "shape"),
}


def test_topk_reference_passes(capsys):
    ch06.check_tempered_top_k(tempered_top_k)
    assert capsys.readouterr().out.startswith("passed: tempered_top_k")
    if EXERCISES.exists():
        hidden_test("ch06-tempered-top-k-tests", tempered_top_k=tempered_top_k)


@pytest.mark.parametrize("slip", sorted(TOPK_WRONG))
def test_topk_wrong_answers_rejected(slip):
    answer, message = TOPK_WRONG[slip]
    assert message in failure(ch06.check_tempered_top_k, answer)
    if EXERCISES.exists():
        with pytest.raises((AssertionError, ValueError, IndexError)):
            hidden_test("ch06-tempered-top-k-tests", tempered_top_k=answer)


# ------------------------------------------------------------------------------ beam step

def beam_step(scores, log_probs, beam_size):
    total = (scores[:, None] + log_probs).reshape(-1)
    flat = np.argsort(-total, kind="stable")[:beam_size]
    V = log_probs.shape[1]
    return flat // V, flat % V, total[flat]


def _lp_only(scores, log_probs, K):
    b, t, _ = beam_step(np.zeros_like(scores), log_probs, K)
    return b, t, log_probs[b, t]


def _per_beam(scores, log_probs, K):
    best = log_probs.argmax(1)
    total = scores + log_probs.max(1)
    order = np.argsort(-total)[:K]
    return order, best[order], total[order]


def _ascending(scores, log_probs, K):
    total = (scores[:, None] + log_probs).reshape(-1)
    flat = np.argsort(total)[:K]
    V = log_probs.shape[1]
    return flat // V, flat % V, total[flat]


def _flat_tokens(scores, log_probs, K):
    b, t, s = beam_step(scores, log_probs, K)
    return b, b * log_probs.shape[1] + t, s


def _product(scores, log_probs, K):
    total = (scores[:, None] * log_probs).reshape(-1)
    flat = np.argsort(-total)[:K]
    V = log_probs.shape[1]
    return flat // V, flat % V, total[flat]


def _swapped(scores, log_probs, K):
    b, t, s = beam_step(scores, log_probs, K)
    return t, b, s


BEAM_WRONG = {
    "log-probs only": (_lp_only, "alone"),
    "best token per beam": (_per_beam, "only the best token of each beam"),
    "ascending": (_ascending, "increasing order"),
    "flat index as token": (_flat_tokens, "outside"),
    "product": (_product, "multiplies"),
    "beams and tokens swapped": (_swapped, "beam"),
}


def test_beam_reference_passes(capsys):
    ch06.check_beam_step(beam_step)
    assert capsys.readouterr().out.startswith("passed: beam_step")
    if EXERCISES.exists():
        hidden_test("ch06-beam-step-tests", beam_step=beam_step)


@pytest.mark.parametrize("slip", sorted(BEAM_WRONG))
def test_beam_wrong_answers_rejected(slip):
    answer, message = BEAM_WRONG[slip]
    assert message in failure(ch06.check_beam_step, answer)
    if EXERCISES.exists():
        with pytest.raises((AssertionError, ValueError, IndexError)):
            hidden_test("ch06-beam-step-tests", beam_step=answer)


def test_beam_wrong_return_type():
    assert "three arrays" in failure(ch06.check_beam_step, lambda s, lp, k: None)
