"""rnnbook.checks.ch02: each check accepts the reference answer and explains typical wrong ones."""

import pathlib

import nbformat
import numpy as np
import pytest
import torch

from rnnbook.checks import CheckFailed, ch02


def failure(check, answer):
    """The message of the CheckFailed raised by ``check(answer)``."""
    with pytest.raises(CheckFailed) as info:
        check(answer)
    return str(info.value)


def not_written(*args):
    raise NotImplementedError()


# ---------------------------------------------------------------------- rnn_parameter_count

def rnn_parameter_count(D, H, M):
    return H * D + H * H + 2 * H + M * H + M


def test_rnn_parameter_count_reference_passes(capsys):
    ch02.check_rnn_parameter_count(rnn_parameter_count, break_even_T=7)
    assert capsys.readouterr().out.startswith("passed: rnn_parameter_count")


def test_rnn_parameter_count_matches_torch_and_break_even():
    D, H, M = ch02.BREAK_EVEN_SIZES["D"], ch02.BREAK_EVEN_SIZES["H"], ch02.BREAK_EVEN_SIZES["M"]

    def count(*modules):
        return sum(p.numel() for m in modules for p in m.parameters())

    assert count(torch.nn.RNN(D, H), torch.nn.Linear(H, M)) == rnn_parameter_count(D, H, M)
    windows = [count(torch.nn.Linear(T * D, H), torch.nn.Linear(H, M)) for T in (6, 7)]
    assert windows[0] <= rnn_parameter_count(D, H, M) < windows[1]


@pytest.mark.parametrize("answer, words", [
    (lambda D, H, M: H * D + H * H + H + M * H + M, "one recurrent bias"),
    (lambda D, H, M: H * D + 2 * H + M * H + M, "recurrent matrix W_hh"),
    (lambda D, H, M: H * D + H * H + 2 * H, "read-out layer"),
    (lambda D, H, M: H * D + H * H + 2 * H + M * H, "read-out bias"),
    (lambda D, H, M: H * D + H * H + M * H, "every bias"),
    (lambda D, H, M: D * D + H * H + 2 * H + M * H + M, "D x D"),
    (lambda D, H, M: 10 * (H * D + H * H) + 2 * H + M * H + M, "expected 421"),
    (lambda D, H, M: [H * D, H * H], "single number"),
    (lambda D, H, M: None, "expected an array"),
    (not_written, "not written yet"),
])
def test_rnn_parameter_count_wrong_answers(answer, words):
    assert words in failure(ch02.check_rnn_parameter_count, answer)


@pytest.mark.parametrize("T, words", [(6, "strictly more"), (6.67, "whole number"),
                                      (8, "expected 7"), (None, None)])
def test_break_even_wrong_answers(T, words):
    if words is None:                       # not given: only the function is checked
        ch02.check_rnn_parameter_count(rnn_parameter_count)
        return
    with pytest.raises(CheckFailed, match=words):
        ch02.check_rnn_parameter_count(rnn_parameter_count, break_even_T=T)


# --------------------------------------------------------------------------- padding_mask

def padding_mask(lengths, T):
    return np.arange(T)[None, :] < np.asarray(lengths)[:, None]


def test_padding_mask_reference_passes(capsys):
    ch02.check_padding_mask(padding_mask)
    assert capsys.readouterr().out.startswith("passed: padding_mask")


def test_padding_mask_accepts_torch_and_int_masks():
    ch02.check_padding_mask(lambda lengths, T: torch.arange(T)[None, :]
                            < torch.as_tensor(lengths)[:, None])
    ch02.check_padding_mask(lambda lengths, T: padding_mask(lengths, T).astype(int))


@pytest.mark.parametrize("answer, words", [
    (lambda L, T: ~padding_mask(L, T), "inverted"),
    (lambda L, T: np.arange(T)[None, :] <= np.asarray(L)[:, None], "one step too many"),
    (lambda L, T: np.arange(T)[None, :] < np.asarray(L)[:, None] - 1, "one step too few"),
    (lambda L, T: padding_mask(L, T).T, "shape"),
    (lambda L, T: padding_mask(L, T) * 2, "other than 0/1"),
    (lambda L, T: np.ones((len(L), T), dtype=bool), "differs"),
    (not_written, "not written yet"),
])
def test_padding_mask_wrong_answers(answer, words):
    assert words in failure(ch02.check_padding_mask, answer)


# ----------------------------------------------------------------------------- last_state

def last_state(h, lengths):
    return h[np.arange(len(lengths)), np.asarray(lengths) - 1]


def test_last_state_reference_passes(capsys):
    ch02.check_last_state(last_state)
    assert capsys.readouterr().out.startswith("passed: last_state")


@pytest.mark.parametrize("answer, words", [
    (lambda h, L: h[:, -1], "state at step T"),
    (lambda h, L: h[np.arange(len(L)), np.minimum(L, h.shape[1] - 1)], "one step after"),
    (lambda h, L: h[:, 0], "wrong steps"),
    (lambda h, L: h[np.arange(len(L)), np.asarray(L) - 1].T, "has shape (3, 4)"),
    (lambda h, L: h[np.arange(len(L)), np.asarray(L) - 1][None], "shape"),
    (lambda h, L: None, "expected an array"),
])
def test_last_state_wrong_answers(answer, words):
    assert words in failure(ch02.check_last_state, answer)


# ---------------------------------------------------------------------------- score_shapes

def score_shapes(N, T_in, T_out, K):
    return {"one-to-many": (N, T_out, K), "many-to-one": (N, K),
            "many-to-many, aligned": (N, T_in, K), "many-to-many, unaligned": (N, T_out, K)}


def test_score_shapes_reference_passes(capsys):
    ch02.check_score_shapes(score_shapes)
    assert capsys.readouterr().out.startswith("passed: score_shapes")


def changed(key, value):
    def answer(N, T_in, T_out, K):
        shapes = score_shapes(N, T_in, T_out, K)
        shapes[key] = value(N, T_in, T_out, K)
        return shapes
    return answer


@pytest.mark.parametrize("answer, words", [
    (changed("many-to-one", lambda N, Ti, To, K: (N, Ti, K)), "keeps a time axis"),
    (changed("many-to-many, aligned", lambda N, Ti, To, K: (N, To, K)), "uses T_out"),
    (changed("many-to-many, unaligned", lambda N, Ti, To, K: (N, Ti, K)), "input length"),
    (changed("one-to-many", lambda N, Ti, To, K: (N, K)), "lost the time axis"),
    (changed("one-to-many", lambda N, Ti, To, K: (To, N, K)), "batch-major"),
    (changed("one-to-many", lambda N, Ti, To, K: None), "tuple of ints"),
    (lambda N, Ti, To, K: {"many-to-one": (N, K)}, "lacks the keys"),
    (lambda N, Ti, To, K: [(N, K)], "expected a dict"),
    (not_written, "not written yet"),
])
def test_score_shapes_wrong_answers(answer, words):
    assert words in failure(ch02.check_score_shapes, answer)


# ----------------------------------------------------------------------------- masked_mean

def masked_mean(losses, mask):
    mask = np.asarray(mask, dtype=float)
    return float((losses * mask).sum() / mask.sum())


def test_masked_mean_reference_passes(capsys):
    ch02.check_masked_mean(masked_mean)
    assert capsys.readouterr().out.startswith("passed: masked_mean")


def test_masked_mean_overstatement():
    plain = ch02.EXERCISE_LOSSES.mean()
    right = plain - ch02.EXERCISE_LOSSES[ch02.EXERCISE_MASK].mean()
    ch02.check_masked_mean(masked_mean, overstatement=right)
    assert "wrong sign" in failure(lambda a: ch02.check_masked_mean(a, overstatement=-right),
                                   masked_mean)
    assert "overstatement" in failure(lambda a: ch02.check_masked_mean(a, overstatement=plain),
                                      masked_mean)


def test_masked_mean_accepts_torch():
    ch02.check_masked_mean(lambda x, m: (torch.as_tensor(x) * torch.as_tensor(m)).sum()
                           / torch.as_tensor(m).sum())


@pytest.mark.parametrize("answer, words", [
    (lambda x, m: x.mean(), "padding included"),
    (lambda x, m: (x * m).sum() / m.size, "divides by N * T"),
    (lambda x, m: (x * m).sum() / m.shape[0], "divides by N"),
    (lambda x, m: ((x * m).sum(1) / m.sum(1)).mean(), "per-sequence means"),
    (lambda x, m: (x * m).sum(), "is the sum"),
    (lambda x, m: (x * m).sum(1) / m.sum(1), "single number"),
    (lambda x, m: float(np.mean(x[m])) if m.dtype == bool else float(x.mean()),
     "0/1 float mask"),
])
def test_masked_mean_wrong_answers(answer, words):
    assert words in failure(ch02.check_masked_mean, answer)


# --------------------------------------------------------------------------- run_in_chunks

def run_in_chunks(rnn, x, chunk_size):
    outputs, h = [], None
    for start in range(0, x.shape[1], chunk_size):
        out, h = rnn(x[:, start:start + chunk_size], h)
        outputs.append(out)
    return torch.cat(outputs, dim=1), h


def test_run_in_chunks_reference_passes(capsys):
    ch02.check_run_in_chunks(run_in_chunks)
    assert capsys.readouterr().out.startswith("passed: run_in_chunks")


def reset_every_chunk(rnn, x, chunk_size):
    outs = [rnn(x[:, s:s + chunk_size])[0] for s in range(0, x.shape[1], chunk_size)]
    return torch.cat(outs, dim=1), rnn(x[:, -(x.shape[1] % chunk_size or chunk_size):])[1]


def drops_last_partial_chunk(rnn, x, chunk_size):
    outputs, h = [], None
    for start in range(0, x.shape[1] - chunk_size + 1, chunk_size):
        out, h = rnn(x[:, start:start + chunk_size], h)
        outputs.append(out)
    return torch.cat(outputs, dim=1), h


@pytest.mark.parametrize("answer, words", [
    (reset_every_chunk, "zero state"),
    (drops_last_partial_chunk, "shape"),
    (lambda rnn, x, k: run_in_chunks(rnn, x, k)[0], "expected a pair"),
    (lambda rnn, x, k: (run_in_chunks(rnn, x, k)[0], run_in_chunks(rnn, x, k)[1][0]),
     "(num_layers, N, H)"),
    (lambda rnn, x, k: (run_in_chunks(rnn, x, k)[0], torch.zeros(1, 3, 4, dtype=x.dtype)),
     "h_n"),
    (not_written, "not written yet"),
])
def test_run_in_chunks_wrong_answers(answer, words):
    assert words in failure(ch02.check_run_in_chunks, answer)


# -------------------------------------------------------------------------- decoder_inputs

def decoder_inputs(targets, start_token):
    start = np.full((targets.shape[0], 1), start_token)
    return np.concatenate([start, targets[:, :-1]], axis=1)


def test_decoder_inputs_reference_passes(capsys):
    ch02.check_decoder_inputs(decoder_inputs)
    assert capsys.readouterr().out.startswith("passed: decoder_inputs")


def in_place(targets, start_token):
    targets[:, 1:] = targets[:, :-1].copy()
    targets[:, 0] = start_token
    return targets


@pytest.mark.parametrize("answer, words", [
    (lambda y, s: y, "unchanged"),
    (lambda y, s: np.concatenate([y[:, 1:], np.full((len(y), 1), s)], axis=1), "to the left"),
    (lambda y, s: np.concatenate([np.full((len(y), 1), s), y], axis=1), "drop the last target"),
    (in_place, "in place"),
    (lambda y, s: np.concatenate([np.zeros((len(y), 1), int), y[:, :-1]], axis=1), "differs"),
    (not_written, "not written yet"),
])
def test_decoder_inputs_wrong_answers(answer, words):
    assert words in failure(ch02.check_decoder_inputs, answer)


# ------------------------------------- more wrong answers, and the hidden tests reject them too

EXERCISES = pathlib.Path(__file__).parents[2] / "chapters" / "02_core_concepts" / "exercises.ipynb"


def hidden_test(grade_id, **answers):
    """Run only the hidden part of the notebook's test cell ``grade_id``, after the set-up cell."""
    nb = nbformat.read(EXERCISES, as_version=4)
    setup = next(c.source for c in nb.cells if c.cell_type == "code")
    cell = next(c.source for c in nb.cells
                if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)
    namespace = {}
    exec(setup, namespace)
    namespace.update(answers)
    exec(cell.split("### BEGIN HIDDEN TESTS")[1].split("### END HIDDEN TESTS")[0], namespace)


def test_run_in_chunks_single_call():
    assert "in one call" in failure(ch02.check_run_in_chunks, lambda rnn, x, k: rnn(x))


def test_reference_answers_pass_the_hidden_tests():
    hidden_test("ch02-parameter-count-tests", rnn_parameter_count=rnn_parameter_count,
                break_even_T=7)
    hidden_test("ch02-score-shapes-tests", score_shapes=score_shapes)
    hidden_test("ch02-padding-mask-tests", padding_mask=padding_mask)
    hidden_test("ch02-last-state-tests", last_state=last_state)
    hidden_test("ch02-masked-mean-tests", masked_mean=masked_mean,
                overstatement=ch02.EXERCISE_LOSSES.mean() - masked_mean(ch02.EXERCISE_LOSSES,
                                                                        ch02.EXERCISE_MASK))
    hidden_test("ch02-run-in-chunks-tests", run_in_chunks=run_in_chunks)
    hidden_test("ch02-decoder-inputs-tests", decoder_inputs=decoder_inputs)


_OVER = float(ch02.EXERCISE_LOSSES.mean() - masked_mean(ch02.EXERCISE_LOSSES, ch02.EXERCISE_MASK))


@pytest.mark.parametrize("grade_id, answers", [
    ("ch02-parameter-count-tests",
     {"rnn_parameter_count": lambda D, H, M: H * D + H * H + H + M * H + M, "break_even_T": 7}),
    ("ch02-parameter-count-tests",
     {"rnn_parameter_count": lambda D, H, M: H * D + 2 * H + M * H + M, "break_even_T": 7}),
    ("ch02-parameter-count-tests",
     {"rnn_parameter_count": lambda D, H, M: H * D + H * H + 2 * H, "break_even_T": 7}),
    ("ch02-parameter-count-tests", {"rnn_parameter_count": rnn_parameter_count,
                                    "break_even_T": 6}),
    ("ch02-score-shapes-tests",
     {"score_shapes": changed("many-to-one", lambda N, Ti, To, K: (N, Ti, K))}),
    ("ch02-score-shapes-tests",
     {"score_shapes": changed("many-to-many, aligned", lambda N, Ti, To, K: (N, To, K))}),
    ("ch02-score-shapes-tests",
     {"score_shapes": changed("one-to-many", lambda N, Ti, To, K: (To, N, K))}),
    ("ch02-padding-mask-tests",
     {"padding_mask": lambda L, T: np.arange(T)[None, :] <= np.asarray(L)[:, None]}),
    ("ch02-padding-mask-tests", {"padding_mask": lambda L, T: ~padding_mask(L, T)}),
    ("ch02-padding-mask-tests",
     {"padding_mask": lambda L, T: np.arange(T)[None, :] < np.asarray(L)[:, None] - 1}),
    ("ch02-last-state-tests", {"last_state": lambda h, L: h[:, -1]}),
    ("ch02-last-state-tests",
     {"last_state": lambda h, L: h[np.arange(len(L)), np.minimum(L, h.shape[1] - 1)]}),
    ("ch02-last-state-tests", {"last_state": lambda h, L: h[:, 0]}),
    ("ch02-masked-mean-tests", {"masked_mean": lambda x, m: np.asarray(x).mean(),
                                "overstatement": _OVER}),
    ("ch02-masked-mean-tests", {"masked_mean": lambda x, m: ((x * m).sum(1) / m.sum(1)).mean(),
                                "overstatement": _OVER}),
    ("ch02-masked-mean-tests", {"masked_mean": lambda x, m: (x * m).sum() / np.size(m),
                                "overstatement": _OVER}),
    ("ch02-masked-mean-tests", {"masked_mean": masked_mean, "overstatement": -_OVER}),
    ("ch02-run-in-chunks-tests", {"run_in_chunks": reset_every_chunk}),
    ("ch02-run-in-chunks-tests", {"run_in_chunks": drops_last_partial_chunk}),
    ("ch02-run-in-chunks-tests", {"run_in_chunks": lambda rnn, x, k: rnn(x)}),
    ("ch02-decoder-inputs-tests", {"decoder_inputs": lambda y, s: np.asarray(y)}),
    ("ch02-decoder-inputs-tests", {"decoder_inputs": lambda y, s: np.concatenate(
        [np.asarray(y)[:, 1:], np.full((len(y), 1), s)], axis=1)}),
    ("ch02-decoder-inputs-tests", {"decoder_inputs": in_place}),
])
def test_hidden_tests_reject_wrong_answers(grade_id, answers):
    with pytest.raises((AssertionError, ValueError, IndexError)):   # the grader scores 0
        hidden_test(grade_id, **answers)


# ------------------------------------------------------------- masked_mean (review 2)

def _nonzero_mean(losses, mask):
    kept = np.asarray(losses) * np.asarray(mask)
    return float(kept[kept != 0].mean())


def test_masked_mean_of_nonzero_losses_fails_check_and_hidden_test():
    assert "non-zero loss" in failure(ch02.check_masked_mean, _nonzero_mean)
    with pytest.raises(AssertionError, match="loss 0"):
        hidden_test("ch02-masked-mean-tests", masked_mean=_nonzero_mean,
                    overstatement=ch02.EXERCISE_LOSSES.mean() - masked_mean(
                        ch02.EXERCISE_LOSSES, ch02.EXERCISE_MASK))


def test_masked_mean_in_float32_passes_check_and_hidden_test(capsys):
    def in_float32(losses, mask):
        losses = torch.as_tensor(np.asarray(losses), dtype=torch.float32)
        mask = torch.as_tensor(np.asarray(mask), dtype=torch.float32)
        return float((losses * mask).sum() / mask.sum())
    ch02.check_masked_mean(in_float32)
    assert "passed: masked_mean" in capsys.readouterr().out
    hidden_test("ch02-masked-mean-tests", masked_mean=in_float32,
                overstatement=ch02.EXERCISE_LOSSES.mean() - masked_mean(
                    ch02.EXERCISE_LOSSES, ch02.EXERCISE_MASK))


def test_float32_answers_pass_the_visible_checks_and_the_hidden_tests():
    # found by the re-review: last_state and overstatement demanded float64 to 1e-9 or 1e-12
    def last_state32(h, lengths):
        return np.asarray(h, dtype=np.float32)[np.arange(len(lengths)), np.asarray(lengths) - 1]

    ch02.check_last_state(last_state32)
    hidden_test("ch02-last-state-tests", last_state=last_state32)
    over32 = np.float32(_OVER)
    ch02.check_masked_mean(masked_mean, overstatement=over32)
    hidden_test("ch02-masked-mean-tests", masked_mean=masked_mean, overstatement=over32)

