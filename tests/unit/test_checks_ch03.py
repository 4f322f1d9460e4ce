"""rnnbook.checks.ch03: each check accepts the reference answer and explains typical wrong ones."""

import pathlib

import nbformat
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from rnnbook.checks import CheckFailed, ch03

EXERCISES = pathlib.Path(__file__).parents[2] / "chapters" / "03_formulas" / "exercises.ipynb"


def hidden_test(grade_id, **answers):
    """Run the hidden part of the notebook's test cell ``grade_id`` with the given answers.

    The set-up cell runs first; the visible check is skipped, so the hidden logic alone decides.
    """
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
    (lambda h, W, b: _global_max_softmax_layer(h, W, b), "one maximum for the whole array"),
    (lambda h, W, b: _mean_shift_softmax_layer(h, W, b), "subtract each row's maximum"),
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


def log_of_stable_softmax(scores, targets, mask):
    """np.log of a softmax stabilised per step: log(0) where a probability underflows."""
    with np.errstate(divide="ignore"):
        nll = -np.log(np.take_along_axis(softmax(scores), np.where(mask > 0, targets, 0)[..., None],
                                         axis=-1)[..., 0])
    return float((nll * mask).sum() / scores.shape[0])


def global_max_shift(scores, targets, mask):
    """A log-softmax shifted by the maximum of the whole array instead of each step's."""
    with np.errstate(divide="ignore", invalid="ignore"):
        shifted = scores - scores.max()
        log_probs = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
        safe = np.where(mask > 0, targets, 0)
        nll = -np.take_along_axis(log_probs, safe[..., None], axis=-1)[..., 0]
        return float((nll * mask).sum() / scores.shape[0])


def mean_shift(scores, targets, mask):
    """A log-softmax shifted by each step's mean: exp overflows when a score is far above it."""
    with np.errstate(over="ignore", invalid="ignore"):
        shifted = scores - scores.mean(axis=-1, keepdims=True)
        log_probs = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
        safe = np.where(mask > 0, targets, 0)
        nll = -np.take_along_axis(log_probs, safe[..., None], axis=-1)[..., 0]
        return float((nll * mask).sum() / scores.shape[0])


def min_shift(scores, targets, mask):
    """A log-softmax shifted by each step's minimum: exp(max - min) overflows."""
    with np.errstate(over="ignore", invalid="ignore"):
        shifted = scores - scores.min(axis=-1, keepdims=True)
        log_probs = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
        safe = np.where(mask > 0, targets, 0)
        nll = -np.take_along_axis(log_probs, safe[..., None], axis=-1)[..., 0]
        return float((nll * mask).sum() / scores.shape[0])


def log_softmax_plus_eps(scores, targets, mask):
    """np.log(softmax + 1e-12): finite, but wrong by orders of magnitude on a wide step."""
    p = softmax(scores)
    nll = -np.log(np.take_along_axis(p, np.where(mask > 0, targets, 0)[..., None], axis=-1)[..., 0]
                  + 1e-12)
    return float((nll * mask).sum() / scores.shape[0])


def test_sequence_loss_reference_passes(capsys):
    ch03.check_sequence_loss(sequence_loss)
    assert "passed: sequence_loss" in capsys.readouterr().out
    hidden_test("ch03-masked-loss-tests", sequence_loss=sequence_loss)


def test_sequence_loss_probes_match_torch():
    for probe in ch03.SEQUENCE_LOSS_PROBES:
        s, y, m = (np.asarray(probe[k]) for k in ("scores", "targets", "mask"))
        expected = torch.nn.functional.cross_entropy(
            torch.tensor(s).reshape(-1, s.shape[-1]), torch.tensor(y).reshape(-1),
            reduction="sum").item() / s.shape[0]
        assert sequence_loss(s, y, m) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("answer, words", [
    (log_of_stable_softmax, "underflowed to 0"),
    (global_max_shift, "every step by its own maximum"),
    (log_softmax_plus_eps, "never take np.log of a softmax"),
    (mean_shift, "shift by each step's mean"),
    (min_shift, "something below the step's maximum"),
])
def test_sequence_loss_unstable_answers_fail_check_and_hidden_test(answer, words, capsys):
    assert words in failure(ch03.check_sequence_loss, answer)
    with pytest.raises(AssertionError):
        hidden_test("ch03-masked-loss-tests", sequence_loss=answer)
    assert capsys.readouterr().err == ""


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


# ------------------------------------------------------- stacked, bidirectional parameter count

def stacked_rnn_parameter_count(D, H, L, bidirectional):
    dirs = 2 if bidirectional else 1
    return sum(dirs * (H * (D if layer == 0 else dirs * H) + H * H + 2 * H) for layer in range(L))


def test_stacked_count_reference_passes_and_matches_torch(capsys):
    ch03.check_stacked_parameter_count(stacked_rnn_parameter_count)
    assert "passed" in capsys.readouterr().out
    for D, H, L, b in [(10, 32, 2, True), (3, 5, 3, False), (4, 2, 4, True)]:
        rnn = torch.nn.RNN(D, H, num_layers=L, bidirectional=b)
        assert stacked_rnn_parameter_count(D, H, L, b) == sum(p.numel() for p in rnn.parameters())
    hidden_test("ch03-stacked-count-tests", stacked_rnn_parameter_count=stacked_rnn_parameter_count)


def _every_layer_reads_D(D, H, L, b):
    return (2 if b else 1) * L * (H * D + H * H + 2 * H)


def _upper_layers_read_H(D, H, L, b):
    d = 2 if b else 1
    return d * sum(H * (D if layer == 0 else H) + H * H + 2 * H for layer in range(L))


def _one_direction_per_layer(D, H, L, b):
    d = 2 if b else 1
    return sum(H * (D if layer == 0 else d * H) + H * H + 2 * H for layer in range(L))


def _one_bias(D, H, L, b):
    return stacked_rnn_parameter_count(D, H, L, b) - (2 if b else 1) * L * H


@pytest.mark.parametrize("answer, words", [
    (_every_layer_reads_D, "every layer the input size D"),
    (_upper_layers_read_H, "concatenated: 2H"),
    (_one_direction_per_layer, "own weights for each direction"),
    (lambda D, H, L, b: stacked_rnn_parameter_count(D, H, L, False), "ignores bidirectional"),
    (_one_bias, "one bias per direction"),
    (lambda D, H, L, b: stacked_rnn_parameter_count(D, H, 1, b), "first layer only"),
    (lambda D, H, L, b: float(stacked_rnn_parameter_count(D, H, L, b)), "integer"),
    (lambda D, H, L, b: 0, "expected"),
    (not_written, "not written yet"),
])
def test_stacked_count_wrong_answers_fail_check_and_hidden_test(answer, words):
    assert words in failure(ch03.check_stacked_parameter_count, answer)
    if answer is not not_written:
        with pytest.raises(AssertionError):
            hidden_test("ch03-stacked-count-tests", stacked_rnn_parameter_count=answer)


# ----------------------------------------------------------------------- halving radius

def test_halving_radius_reference_passes():
    ch03.check_halving_radius(lambda k: 0.5 ** (1 / k))
    ch03.check_halving_radius(lambda k: np.exp(-np.log(2) / k), rho_10=0.933, c_limit=np.log(2))
    hidden_test("ch03-halving-radius-tests", halving_radius=lambda k: 0.5 ** (1 / k),
                rho_10=0.5 ** 0.1, c_limit=np.log(2))


@pytest.mark.parametrize("rho_10, c_limit, words", [
    (None, np.log(2), "`rho_10` is not set yet"),
    (0.5 ** 0.1, None, "`c_limit` is not set yet"),
    (0.5 ** 10, np.log(2), "factor after ten steps"),
    (0.95, np.log(2), "about 0.933"),
    (0.5 ** 0.1, 0.5, "1 - 0.5 / k"),
    (0.5 ** 0.1, 1 / np.log(2), "ln 2 itself"),
    (0.5 ** 0.1, np.log10(2), "natural logarithm"),
    (0.5 ** 0.1, 1.0, "expected 0.693"),
])
def test_halving_radius_numbers_wrong_answers(rho_10, c_limit, words):
    message = failure(lambda f: ch03.check_halving_radius(f, rho_10=rho_10, c_limit=c_limit),
                      lambda k: 0.5 ** (1 / k))
    assert words in message
    with pytest.raises((AssertionError, TypeError)):      # None: float(None) fails, scoring 0
        hidden_test("ch03-halving-radius-tests", halving_radius=lambda k: 0.5 ** (1 / k),
                    rho_10=rho_10, c_limit=c_limit)


@pytest.mark.parametrize("answer, words", [
    (lambda k: 0.5 ** k, "factor after k steps"),
    (lambda k: 0.5 / k, "geometric"),
    (lambda k: 1 - 0.5 / k, "first-order"),
    (lambda k: 2 ** (1 / k), "doubles"),
    (lambda k: 1 - np.log(2) / k, "large-k approximation"),
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


# ------------------------------------------------ the hidden tests reject the wrong answers too

def _naive_softmax_layer(h, W, b):
    s = h @ W.T + b
    with np.errstate(over="ignore", invalid="ignore"):
        return s, np.exp(s) / np.exp(s).sum(axis=-1, keepdims=True)


def _mean_shift_softmax_layer(h, W, b):
    s = h @ W.T + b
    with np.errstate(over="ignore", invalid="ignore"):
        e = np.exp(s - s.mean(axis=-1, keepdims=True))
        return s, e / e.sum(axis=-1, keepdims=True)


def _global_max_softmax_layer(h, W, b):
    s = h @ W.T + b
    with np.errstate(under="ignore", invalid="ignore"):
        e = np.exp(s - s.max())
        return s, e / e.sum(axis=-1, keepdims=True)


@pytest.mark.parametrize("grade_id, name, answer", [
    ("ch03-rnn-step-tests", "rnn_step", lambda x, h, Wx, Wh, b: x @ Wx.T + h @ Wh.T + b),
    ("ch03-rnn-step-tests", "rnn_step", lambda x, h, Wx, Wh, b: np.tanh(x @ Wx.T + h @ Wh + b)),
    ("ch03-rnn-step-tests", "rnn_step",
     lambda x, h, Wx, Wh, b: np.tanh(x @ Wx.T + b) + h @ Wh.T),
    ("ch03-rnn-step-tests", "rnn_step",
     lambda x, h, Wx, Wh, b: np.squeeze(rnn_step(x, h, Wx, Wh, b))),
    ("ch03-output-softmax-tests", "output_layer",
     lambda h, W, b: (h @ W.T + b, softmax(np.swapaxes(h @ W.T + b, 1, -1)).swapaxes(1, -1))),
    ("ch03-output-softmax-tests", "output_layer", _naive_softmax_layer),
    ("ch03-output-softmax-tests", "output_layer", _global_max_softmax_layer),
    ("ch03-output-softmax-tests", "output_layer", _mean_shift_softmax_layer),
    ("ch03-masked-loss-tests", "sequence_loss", _mean_over_tokens),
    ("ch03-masked-loss-tests", "sequence_loss",
     lambda s, y, m: sequence_loss(s, y, np.ones_like(m))),
    ("ch03-masked-loss-tests", "sequence_loss",
     lambda s, y, m: sequence_loss(s, y, m) / s.shape[1]),
    ("ch03-halving-radius-tests", "halving_radius", lambda k: 0.5 ** k),
    ("ch03-halving-radius-tests", "halving_radius", lambda k: 1 - 0.5 / k),
    ("ch03-halving-radius-tests", "halving_radius", lambda k: 1 - np.log(2) / k),
    ("ch03-linear-collapse-tests", "linear_rnn_matrix",
     lambda Wx, Wh, T: _powers(Wx, Wh, range(T))),
    ("ch03-linear-collapse-tests", "linear_rnn_matrix",
     lambda Wx, Wh, T: _powers(Wx, Wh, range(T, 0, -1))),
    ("ch03-linear-collapse-tests", "linear_rnn_matrix",
     lambda Wx, Wh, T: _powers(Wx, Wh.T, range(T - 1, -1, -1))),
    ("ch03-batched-shapes-tests", "batched_shapes",
     _with("W_xh", lambda N, T, D, H, M: (D, H))),
    ("ch03-batched-shapes-tests", "batched_shapes",
     _with("h0", lambda N, T, D, H, M: (1, N, H))),
    ("ch03-batched-shapes-tests", "batched_shapes", _with("loss", lambda N, T, D, H, M: (N,))),
])
def test_hidden_tests_reject_wrong_answers(grade_id, name, answer):
    extra = {"rho_10": 0.5 ** 0.1, "c_limit": np.log(2)} if name == "halving_radius" else {}
    with pytest.raises(AssertionError):
        hidden_test(grade_id, **{name: answer}, **extra)


@pytest.mark.parametrize("answer, words", [
    (_with("h0", lambda N, T, D, H, M: (1, N, H)), "h0"),
    (_with("h", lambda N, T, D, H, M: (N, H)), "h"),
    (_with("scores", lambda N, T, D, H, M: (N, T, H)), "scores"),
])
def test_batched_shapes_more_wrong_answers(answer, words):
    assert f"`{words}`" in failure(ch03.check_batched_shapes, answer)


# ------------------------------------------- sequence_loss must read the mask (review 2)

def _ignore_index_loss(scores, targets, mask):
    """The natural torch answer that never reads ``mask``."""
    s = torch.as_tensor(np.asarray(scores))
    y = torch.as_tensor(np.asarray(targets))
    return F.cross_entropy(s.reshape(-1, s.shape[-1]), y.reshape(-1), ignore_index=-1,
                           reduction="sum").item() / s.shape[0]


def _targets_as_mask(scores, targets, mask):
    return sequence_loss(scores, targets, (np.asarray(targets) >= 0).astype(float))


def _float32_loss(scores, targets, mask):
    s = torch.as_tensor(np.asarray(scores), dtype=torch.float32)
    m = torch.as_tensor(np.asarray(mask), dtype=torch.float32)
    y = torch.as_tensor(np.where(np.asarray(mask) > 0, targets, 0))
    nll = -torch.log_softmax(s, dim=-1).gather(-1, y[..., None])[..., 0]
    return float((nll * m).sum() / s.shape[0])


@pytest.mark.parametrize("answer", [_ignore_index_loss, _targets_as_mask],
                         ids=["ignore_index", "targets >= 0"])
def test_sequence_loss_that_ignores_the_mask_fails_check_and_hidden_test(answer):
    assert "ignores `mask`" in failure(ch03.check_sequence_loss, answer)
    with pytest.raises(AssertionError, match="padding holds class 0"):
        hidden_test("ch03-masked-loss-tests", sequence_loss=answer)


def test_sequence_loss_in_float32_passes_check_and_hidden_test(capsys):
    ch03.check_sequence_loss(_float32_loss)
    assert "passed: sequence_loss" in capsys.readouterr().out
    hidden_test("ch03-masked-loss-tests", sequence_loss=_float32_loss)


def test_review_example_of_a_mask_ignoring_answer():
    # the reviewer's example: padding id 0 under mask 0
    scores = np.random.default_rng(0).normal(size=(1, 3, 4))
    targets, mask = np.array([[1, 2, 0]]), np.array([[1.0, 1.0, 0.0]])
    assert sequence_loss(scores, targets, mask) < _targets_as_mask(scores, targets, mask) - 1


def test_a_float32_halving_radius_passes_the_visible_check_and_the_hidden_test():
    # found by the re-review: the natural torch answer is float32 and was told it was wrong
    def halving_radius32(k):
        return float(torch.tensor(0.5) ** (1 / k))

    ch03.check_halving_radius(halving_radius32)
    hidden_test("ch03-halving-radius-tests", halving_radius=halving_radius32,
                rho_10=halving_radius32(10), c_limit=np.log(2))
    assert "1 - ln(2) / k" in failure(ch03.check_halving_radius, lambda k: 1 - np.log(2) / k)
