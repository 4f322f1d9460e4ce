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


# ------------------------------------------------------------------------------ review's answers
# Right answers written differently must pass the visible check and the hidden tests alike; the
# wrong ones the review tried must be rejected by both.

def _bits_torch32(t, n):
    import torch
    return float(torch.tensor(t) / n / math.log(2))


BITS_RIGHT = {
    "float32 torch": _bits_torch32,
    "float32 numpy": lambda t, n: np.float32(t) / np.float32(n) / np.float32(LN2),
    "times log2 e": lambda t, n: t / n * math.log2(math.e),
}

BITS_MORE_WRONG = {
    "log2 of the mean": (lambda t, n: math.log2(t / n), "expected"),
    "n - 1": (lambda t, n: t / (n - 1) / LN2, "expected"),
    "n + 1": (lambda t, n: t / (n + 1) / LN2, "expected"),
    "rounded": (lambda t, n: round(t / n / LN2, 2), "expected"),
}


@pytest.mark.parametrize("name", sorted(BITS_RIGHT))
def test_bits_right_answers_written_differently_pass_both(name, capsys):
    ch06.check_bits_per_char(BITS_RIGHT[name])
    assert capsys.readouterr().out.startswith("passed: bits_per_char")
    hidden_test("ch06-bits-per-char-tests", bits_per_char=BITS_RIGHT[name])


@pytest.mark.parametrize("slip", sorted(BITS_MORE_WRONG))
def test_bits_more_wrong_answers_rejected_by_both(slip):
    answer, message = BITS_MORE_WRONG[slip]
    assert message in failure(ch06.check_bits_per_char, answer)
    with pytest.raises(AssertionError):
        hidden_test("ch06-bits-per-char-tests", bits_per_char=answer)


def _topk_naive_exp(logits, T, k):
    logits = np.asarray(logits, dtype=float)
    keep = np.argsort(-logits)[:k]
    out = np.zeros_like(logits)
    with np.errstate(over="ignore", invalid="ignore"):
        e = np.exp(logits[keep] / T)
        out[keep] = e / e.sum()
    return out


def _topk_in_place(logits, T, k):
    logits /= T                        # changes the caller's array: still a right answer
    keep = np.argsort(-logits)[:k]
    logits -= logits[keep].max()
    out = np.zeros_like(logits)
    out[keep] = np.exp(logits[keep]) / np.exp(logits[keep]).sum()
    return out


def _topk_torch32(logits, T, k):
    import torch
    x = torch.tensor(logits, dtype=torch.float32)
    top = torch.topk(x, k).indices
    out = torch.zeros_like(x)
    out[top] = torch.softmax(x[top] / T, 0)
    return out.numpy()


def _topk_power(logits, T, k):
    p = softmax(np.asarray(logits, dtype=float)) ** (1 / T)
    keep = np.argsort(-p)[:k]
    out = np.zeros_like(p)
    out[keep] = p[keep] / p[keep].sum()
    return out


@pytest.mark.parametrize("answer", [_topk_in_place, _topk_torch32, _topk_power])
def test_topk_right_answers_written_differently_pass_both(answer, capsys):
    ch06.check_tempered_top_k(answer)
    assert capsys.readouterr().out.startswith("passed: tempered_top_k")
    hidden_test("ch06-tempered-top-k-tests", tempered_top_k=answer)


def test_topk_exp_without_the_max_subtracted_overflows_and_is_rejected_by_both():
    assert "NaN or infinite" in failure(ch06.check_tempered_top_k, _topk_naive_exp)
    with pytest.raises(AssertionError):
        hidden_test("ch06-tempered-top-k-tests", tempered_top_k=_topk_naive_exp)


def _beam_reversed_argsort(scores, log_probs, K):
    total = (scores[:, None] + log_probs).reshape(-1)
    flat = np.argsort(total, kind="stable")[::-1][:K]
    V = log_probs.shape[1]
    return flat // V, flat % V, total[flat]


def _beam_topk(scores, log_probs, K):
    import torch
    total = torch.tensor(scores[:, None] + log_probs).reshape(-1)
    flat = torch.topk(total, K).indices.numpy()
    V = log_probs.shape[1]
    return flat // V, flat % V, total.numpy()[flat]


def _beam_float32(scores, log_probs, K):
    total = (scores[:, None] + log_probs).astype(np.float32).reshape(-1)
    flat = np.argsort(-total, kind="stable")[:K]
    V = log_probs.shape[1]
    return flat // V, flat % V, total[flat]


def _beam_in_place(scores, log_probs, K):
    log_probs += scores[:, None]          # changes the caller's array: still a right answer
    flat = np.argsort(-log_probs.reshape(-1), kind="stable")[:K]
    V = log_probs.shape[1]
    return flat // V, flat % V, log_probs.reshape(-1)[flat]


def test_beam_tie_rule_is_checked_by_both():
    message = failure(ch06.check_beam_step, _beam_reversed_argsort)
    assert "ties" in message
    with pytest.raises(AssertionError, match="ties"):
        hidden_test("ch06-beam-step-tests", beam_step=_beam_reversed_argsort)


def test_beam_tie_case_of_the_review():
    scores = np.array([-1.0, -1.0])
    log_probs = np.log(np.array([[0.5, 0.25, 0.25]] * 2))
    beams, tokens, _ = beam_step(scores, log_probs, 3)
    assert beams.tolist() == [0, 1, 0] and tokens.tolist() == [0, 0, 1]
    b, t, _ = _beam_reversed_argsort(scores, log_probs, 3)
    assert (b.tolist(), t.tolist()) != ([0, 1, 0], [0, 0, 1])


def _beam_default_argsort(scores, log_probs, K):
    total = (scores[:, None] + log_probs).reshape(-1)
    flat = np.argsort(-total)[:K]         # the default sort is not stable beyond 16 entries
    V = log_probs.shape[1]
    return flat // V, flat % V, total[flat]


def test_beam_default_argsort_breaks_the_tie_rule_on_48_entries_and_both_checks_say_so():
    log_probs = np.log(np.array(ch06.TIED_48) / 28)
    np.testing.assert_allclose(np.exp(log_probs).sum(1), 1)
    b, t, _ = beam_step(np.full(4, -2.0), log_probs, 5)
    assert (b * 12 + t).tolist() == [1, 6, 7, 11, 16]
    assert "ties" in failure(ch06.check_beam_step, _beam_default_argsort)
    with pytest.raises(AssertionError, match="ties, B=4, V=12"):
        hidden_test("ch06-beam-step-tests", beam_step=_beam_default_argsort)


def test_beam_torch_topk_breaks_the_stated_tie_rule_and_both_checks_say_so():
    # torch.topk promises no order among ties; on these cases it breaks the stated rule
    assert "ties" in failure(ch06.check_beam_step, _beam_topk)
    with pytest.raises(AssertionError, match="ties"):
        hidden_test("ch06-beam-step-tests", beam_step=_beam_topk)


@pytest.mark.parametrize("answer", [_beam_float32, _beam_in_place])
def test_beam_right_answers_written_differently_pass_both(answer, capsys):
    ch06.check_beam_step(answer)
    assert capsys.readouterr().out.startswith("passed: beam_step")
    hidden_test("ch06-beam-step-tests", beam_step=answer)


# ------------------------------------------------------------------------------ masked bits

def _log_softmax(logits):
    z = logits - logits.max(-1, keepdims=True)
    return z - np.log(np.exp(z).sum(-1, keepdims=True))


def masked_bits_per_token(logits, ids, mask):
    log_p = _log_softmax(np.asarray(logits, float))
    picked = np.take_along_axis(log_p[:, :-1], ids[:, 1:, None], -1)[..., 0]
    real = mask[:, 1:]
    return float(-(picked * real).sum() / real.sum() / LN2)


def _masked_torch32(logits, ids, mask):
    import torch
    x = torch.tensor(logits, dtype=torch.float32)
    nats = torch.nn.functional.cross_entropy(
        x[:, :-1].reshape(-1, x.shape[-1]), torch.tensor(ids)[:, 1:].reshape(-1),
        reduction="none")
    return float(nats[torch.tensor(mask)[:, 1:].reshape(-1)].mean() / math.log(2))


def _masked_loop(logits, ids, mask):
    total, count = 0.0, 0
    for n in range(ids.shape[0]):
        for t in range(ids.shape[1] - 1):
            if mask[n, t + 1]:
                total -= _log_softmax(logits[n, t])[ids[n, t + 1]]
                count += 1
    return total / count / LN2


def _picked(logits, ids, shift=1):
    log_p = _log_softmax(np.asarray(logits, float))
    if shift == 1:
        return np.take_along_axis(log_p[:, :-1], ids[:, 1:, None], -1)[..., 0]
    if shift == 0:
        return np.take_along_axis(log_p, ids[..., None], -1)[..., 0]
    return np.take_along_axis(log_p[:, 1:], ids[:, :-1, None], -1)[..., 0]


def _no_shift(logits, ids, mask):
    p = _picked(logits, ids, 0)
    return float(-(p * mask).sum() / mask.sum() / LN2)


def _wrong_way(logits, ids, mask):
    p = _picked(logits, ids, -1)
    return float(-(p * mask[:, 1:]).sum() / mask[:, 1:].sum() / LN2)


def _per_sequence(logits, ids, mask):
    p = _picked(logits, ids)
    return float(np.mean([-p[n][mask[n, 1:]].mean() for n in range(len(ids))]) / LN2)


def _padding_counted(logits, ids, mask):
    return float(-_picked(logits, ids).mean() / LN2)


def _input_mask(logits, ids, mask):
    p = _picked(logits, ids)
    return float(-(p * mask[:, :-1]).sum() / mask[:, :-1].sum() / LN2)


def _masked_nats(logits, ids, mask):
    return masked_bits_per_token(logits, ids, mask) * LN2


MASKED_WRONG = {
    "no shift": (_no_shift, "not shifted"),
    "shifted the wrong way": (_wrong_way, "wrong way"),
    "mean of sequence means": (_per_sequence, "per sequence"),
    "padding counted": (_padding_counted, "padding"),
    "mask of the inputs": (_input_mask, "mask of the inputs"),
    "nats": (_masked_nats, "nats"),
}


@pytest.mark.parametrize("answer", [masked_bits_per_token, _masked_torch32, _masked_loop])
def test_masked_right_answers_pass_both(answer, capsys):
    ch06.check_masked_bits_per_token(answer)
    assert capsys.readouterr().out.startswith("passed: masked_bits_per_token")
    hidden_test("ch06-masked-bits-tests", masked_bits_per_token=answer)


@pytest.mark.parametrize("slip", sorted(MASKED_WRONG))
def test_masked_wrong_answers_rejected_by_both(slip):
    answer, message = MASKED_WRONG[slip]
    assert message in failure(ch06.check_masked_bits_per_token, answer)
    with pytest.raises(AssertionError):
        hidden_test("ch06-masked-bits-tests", masked_bits_per_token=answer)


def test_masked_not_written():
    assert "not written yet" in failure(ch06.check_masked_bits_per_token, not_written)
