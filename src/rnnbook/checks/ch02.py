"""Checks for the exercises of Chapter 2, Core concepts.

Each ``check_*`` function takes the learner's answer, tries it on small inputs of known answer,
and prints one ``passed: ...`` line or raises :class:`CheckFailed` with a message that names the
typical mistake it recognises (a mask off by one, the state at ``T`` instead of the last valid
step, a mean over the padding, a state reset between chunks, a target shifted the wrong way, a
forgotten bias or recurrent matrix in a parameter count).

Shapes follow the book's notation: batch-major ``(N, T, ...)`` arrays, ``lengths`` of shape
``(N,)``, masks of shape ``(N, T)`` that are True (1) on the real steps.
"""

import numpy as np

from rnnbook.checks._core import (
    as_array,
    call_answer,
    expect_close,
    expect_equal,
    expect_numeric,
    expect_shape,
    fail,
    passed,
)
from rnnbook.checks.ch01 import FLOAT32_TOL

__all__ = [
    "check_decoder_inputs",
    "check_last_state",
    "check_masked_mean",
    "check_padding_mask",
    "check_rnn_parameter_count",
    "check_run_in_chunks",
    "check_score_shapes",
]


def _same(a, b):
    return a.shape == b.shape and np.allclose(a, b)


# ------------------------------------------------------------------------- parameter count


def _rnn_count(D, H, M):
    return H * D + H * H + 2 * H + M * H + M


def _window_count(T, D, H, M):
    return T * D * H + H + M * H + M


#: The sizes of the break-even question of the parameter-count exercise.
BREAK_EVEN_SIZES = {"D": 3, "H": 16, "M": 2}


def check_rnn_parameter_count(rnn_parameter_count, break_even_T=None):
    """Check ``rnn_parameter_count(D, H, M) -> int``: the parameters of ``nn.RNN(D, H)`` and
    ``nn.Linear(H, M)``, ``HD + H^2 + 2H + MH + M`` (PyTorch keeps two bias vectors).

    With ``break_even_T``, also check the exercise's number: the smallest window length ``T`` for
    which a window network ``Linear(T D, H), tanh, Linear(H, M)`` has more parameters than the RNN,
    for the sizes in ``BREAK_EVEN_SIZES``.
    """
    __tracebackhide__ = True
    for D, H, M in [(3, 16, 5), (1, 5, 7), (10, 4, 1)]:    # sizes where each slip is unique
        name = f"rnn_parameter_count({D}, {H}, {M})"
        got = call_answer("rnn_parameter_count", rnn_parameter_count, D, H, M)
        got = expect_numeric(name, as_array(name, got))
        if got.size != 1:
            fail(f"your `{name}` has shape {got.shape}; expected a single number.",
                 "add the sizes of all parameter tensors into one count.")
        value = float(got.reshape(()))
        expected = _rnn_count(D, H, M)
        wrong = {
            expected - H: ("counts one recurrent bias vector.",
                           "nn.RNN keeps two, bias_ih_l0 and bias_hh_l0 (only their sum "
                           "matters, but both are parameters)."),
            expected - H * H: ("leaves out the recurrent matrix W_hh (H x H).", None),
            expected - M * H - M: ("leaves out the read-out layer nn.Linear(H, M).", None),
            expected - M: ("leaves out the read-out bias b_y (M numbers).", None),
            expected - 2 * H - M: ("leaves out every bias vector.",
                                   "nn.RNN has two bias vectors of H numbers, nn.Linear one of M."),
            expected - H * D + D * D: ("sizes W_xh as D x D.",
                                       "W_xh maps D inputs to H units: H x D."),
        }
        for wrong_value, (message, hint) in wrong.items():
            if abs(value - wrong_value) < 1e-9 and wrong_value != expected:
                fail(f"your `{name}` = {value:g} {message}", hint)
        expect_equal(name, int(value) if value.is_integer() else value, expected,
                     hint="count W_xh (H x D), W_hh (H x H), two biases of H, W_hy (M x H) and "
                          "b_y (M); none of them depends on the sequence length T.")
    if break_even_T is not None:
        sizes = BREAK_EVEN_SIZES
        rnn = _rnn_count(sizes["D"], sizes["H"], sizes["M"])
        expected_T = next(T for T in range(1, 10_000)
                          if _window_count(T, sizes["D"], sizes["H"], sizes["M"]) > rnn)
        value = float(expect_numeric("break_even_T", as_array("break_even_T", break_even_T)))
        if value != int(value):
            fail(f"your `break_even_T` is {value:g}, not a whole number of steps.",
                 "a window has a whole number of steps: take the smallest integer T that "
                 "satisfies the inequality.")
        if int(value) == expected_T - 1:
            fail(f"your `break_even_T` = {int(value)} gives a window network with "
                 f"{_window_count(int(value), **sizes)} parameters, not more than the RNN's "
                 f"{rnn}.", "the question asks for strictly more parameters.")
        expect_equal("break_even_T", int(value), expected_T,
                     hint="the window network has T D H + H weights and biases in its first "
                          "layer and M H + M in its second; compare with the RNN's count.")
    passed("rnn_parameter_count: HD + H^2 + 2H + MH + M, for any length")


# ---------------------------------------------------------------------------------- masks


def check_padding_mask(padding_mask):
    """Check ``padding_mask(lengths, T) -> (N, T)`` booleans, True where ``t < lengths[n]``."""
    __tracebackhide__ = True
    for lengths, T in [(np.array([3, 1, 4]), 5), (np.array([2, 2]), 2), (np.array([1]), 3)]:
        expected = np.arange(T)[None, :] < lengths[:, None]
        name = f"padding_mask({lengths.tolist()}, T={T})"
        got = call_answer("padding_mask", padding_mask, lengths, T)
        got = expect_shape(name, got, expected.shape,
                           hint="one row per sequence and one column per step: shape (N, T).")
        if got.dtype != bool:
            if not np.all(np.isin(got, (0, 1))):
                fail(f"your `{name}` holds values other than 0/1 (or True/False).",
                     "compare the step index with each length: `t < lengths[n]`.")
            got = got.astype(bool)
        steps = np.arange(T)[None, :]
        for wrong, message, hint in [
            (~expected, "is inverted: True on the padding.",
             "the book's mask is True (1) on the real steps, where the loss counts."),
            (steps <= lengths[:, None], "marks one step too many per sequence (t <= length).",
             "steps are numbered 0 .. T-1, so a sequence of length L fills 0 .. L-1."),
            (steps < lengths[:, None] - 1, "marks one step too few per sequence (t < length - 1).",
             "a sequence of length L fills the steps 0 .. L-1: that is L True entries."),
        ]:
            if np.array_equal(got, wrong) and not np.array_equal(wrong, expected):
                fail(f"your `{name}` {message}", hint)
        expect_equal(name, got, expected)
    passed("padding_mask: (N, T), True on each sequence's first lengths[n] steps")


# ---------------------------------------------------------------------------- last state


def check_last_state(last_state):
    """Check ``last_state(h, lengths) -> (N, H)``: ``h[n, lengths[n] - 1]`` for every ``n``."""
    __tracebackhide__ = True
    rng = np.random.default_rng(20)
    N, T, H = 4, 6, 3
    h = rng.normal(size=(N, T, H))
    lengths = np.array([6, 2, 4, 1])
    name = "last_state(h, lengths)"
    got = call_answer("last_state", last_state, h, lengths)
    got = expect_shape(name, got, (N, H),
                       hint="pick one state per sequence: the result has shape (N, H).")
    got = expect_numeric(name, got)
    if _same(got, h[:, -1]):
        fail(f"your `{name}` is the state at step T for every sequence, h[:, -1].",
             "for a padded sequence the state at T has also read the padding; take "
             "h[n, lengths[n] - 1] instead.")
    if _same(got, h[np.arange(N), np.minimum(lengths, T - 1)]):
        fail(f"your `{name}` takes h[n, lengths[n]], one step after the last real one.",
             "steps are numbered from 0: the last real step of a sequence of length L is L - 1.")
    if _same(got, h[np.arange(N), lengths[::-1] - 1]) or _same(got, h[:, 0]):
        fail(f"your `{name}` picks the wrong steps.", "row n must be h[n, lengths[n] - 1].")
    expect_close(name, got, h[np.arange(N), lengths - 1], **FLOAT32_TOL,
                 hint="row n must be h[n, lengths[n] - 1].")
    passed("last_state: the state at each sequence's own last step, shape (N, H)")


# --------------------------------------------------------------------- input/output shapes


def _expected_score_shapes(N, T_in, T_out, M):
    return {"one-to-many": (N, T_out, M), "many-to-one": (N, M),
            "many-to-many, aligned": (N, T_in, M), "many-to-many, unaligned": (N, T_out, M)}


def check_score_shapes(score_shapes):
    """Check ``score_shapes(N, T_in, T_out, M) -> dict``: the output scores' shape per pattern.

    Keys: ``"one-to-many"``, ``"many-to-one"``, ``"many-to-many, aligned"``,
    ``"many-to-many, unaligned"``; values: tuples of ints.
    """
    __tracebackhide__ = True
    for N, T_in, T_out, M in [(16, 40, 25, 5000), (2, 3, 7, 4)]:
        name = f"score_shapes({N}, {T_in}, {T_out}, {M})"
        answer = call_answer("score_shapes", score_shapes, N, T_in, T_out, M)
        if not isinstance(answer, dict):
            fail(f"your `{name}` returned a {type(answer).__name__}; expected a dict.",
                 "map each of the four pattern names to a tuple of ints.")
        expected = _expected_score_shapes(N, T_in, T_out, M)
        missing = [key for key in expected if key not in answer]
        if missing:
            fail(f"your `{name}` lacks the keys {missing}.",
                 "use the four pattern names of the exercise, spelled exactly.")
        for key, shape in expected.items():
            try:
                got = tuple(int(v) for v in answer[key])
            except (TypeError, ValueError):
                fail(f"your `{name}['{key}']` is {answer[key]!r}; expected a tuple of ints.")
            if key == "many-to-one" and got in ((N, T_in, M), (N, 1, M)):
                fail(f"your `{name}['{key}']` keeps a time axis.",
                     "many-to-one: one output per sequence, read from the final state: (N, M).")
            if key == "many-to-many, aligned" and got == (N, T_out, M):
                fail(f"your `{name}['{key}']` uses T_out.",
                     "aligned: one output for every input step, so the time axis is T_in.")
            if key == "many-to-many, unaligned" and got == (N, T_in, M):
                fail(f"your `{name}['{key}']` uses the input length T_in.",
                     "unaligned: the output sequence has its own length T_out.")
            if got == (N, M) and len(shape) == 3:
                fail(f"your `{name}['{key}']` has lost the time axis.",
                     "this pattern emits a sequence of outputs: (N, time, M).")
            if len(got) == len(shape) and got[0] != N and N in got:
                fail(f"your `{name}['{key}']` is not batch-major.",
                     "the book's arrays put the batch axis first: (N, ...).")
            expect_equal(f"{name}['{key}']", got, shape)
    passed("score_shapes: the output shape of each of the four patterns is right")


# --------------------------------------------------------------------------- masked mean


#: The batch of the masked-mean exercise: per-step losses and the mask of its real steps.
EXERCISE_LOSSES = np.array([[0.5, 0.7, 0.2, 0.4], [0.9, 0.3, 4.0, 4.0], [0.6, 4.0, 4.0, 4.0]])
EXERCISE_MASK = np.array([[1, 1, 1, 1], [1, 1, 0, 0], [1, 0, 0, 0]], dtype=bool)


def check_masked_mean(masked_mean, overstatement=None):
    """Check ``masked_mean(losses, mask) -> float``: sum(mask * losses) / sum(mask).

    With ``overstatement``, also check the exercise's number: the plain mean of
    ``EXERCISE_LOSSES`` minus its masked mean over ``EXERCISE_MASK``.
    """
    __tracebackhide__ = True
    losses = np.array([[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 100.0, 100.0], [7.0, 50.0, 50.0, 50.0]])
    mask = np.array([[1, 1, 1, 1], [1, 1, 0, 0], [1, 0, 0, 0]], dtype=bool)
    name = "masked_mean(losses, mask)"
    got = call_answer("masked_mean", masked_mean, losses, mask)
    got = expect_numeric(name, as_array(name, got))
    if got.size != 1:
        fail(f"your `{name}` has shape {got.shape}; expected a single number.",
             "sum over both axes (batch and time) before dividing.")
    value = float(got.reshape(()))
    expected = float((losses * mask).sum() / mask.sum())       # 28 / 7 = 4
    wrong = {
        float(losses.mean()): ("averages over every entry, padding included.",
                               "multiply by the mask, then divide by the number of real steps."),
        float((losses * mask).sum() / mask.size): (
            "divides by N * T instead of the number of real steps.",
            "divide by mask.sum(), the count of real steps."),
        float((losses * mask).sum() / mask.shape[0]): (
            "divides by N: that is the mean of the per-sequence sums, another convention.",
            "this exercise asks for the mean over real steps: divide by mask.sum()."),
        float(((losses * mask).sum(1) / mask.sum(1)).mean()): (
            "is the mean of the per-sequence means: short sequences weigh more.",
            "sum every real step's loss once and divide by the total number of real steps."),
        float((losses * mask).sum()): ("is the sum; divide it by the number of real steps.", None),
    }
    for wrong_value, (message, hint) in wrong.items():
        if abs(value - wrong_value) < 1e-9 and abs(wrong_value - expected) > 1e-9:
            fail(f"your `{name}` = {value:.4g} {message}", hint)
    expect_close(name, value, expected, **FLOAT32_TOL)
    zero = call_answer("masked_mean", masked_mean, np.array([[0.0, 2.0, 9.0]]),
                       np.array([[True, True, False]]))
    zero = float(expect_numeric("masked_mean", as_array("masked_mean", zero)).reshape(-1)[0])
    if abs(zero - 2.0) < 1e-6:
        fail("your `masked_mean([[0, 2, 9]], [[1, 1, 0]])` is 2, but the first step is real and "
             "its loss is 0: the mean of 0 and 2 is 1. Your answer counts the steps with a "
             "non-zero loss, not the steps the mask marks.",
             "divide by mask.sum(); never pick the real steps by their loss value.")
    expect_close("masked_mean([[0, 2, 9]], [[1, 1, 0]])", zero, 1.0, **FLOAT32_TOL)
    single = call_answer("masked_mean", masked_mean, np.array([[2.0, 9.0]]),
                         np.array([[1.0, 0.0]]))
    expect_close("masked_mean with a 0/1 float mask", float(np.asarray(single).reshape(())), 2.0,
                 hint="the mask may arrive as 0.0/1.0 floats as well as booleans.")
    if overstatement is not None:
        true_mean = float(EXERCISE_LOSSES[EXERCISE_MASK].mean())
        value = float(expect_numeric("overstatement", as_array("overstatement", overstatement)))
        if np.isclose(value, -(EXERCISE_LOSSES.mean() - true_mean), **FLOAT32_TOL):
            fail("your `overstatement` has the wrong sign.",
                 "compute the plain mean minus the masked mean.")
        expect_close("overstatement", value, EXERCISE_LOSSES.mean() - true_mean, **FLOAT32_TOL,
                     hint="the plain mean is losses.mean(); subtract your masked mean.")
    passed(f"masked_mean: {expected:.4g}, the mean loss over the real steps only")


# ------------------------------------------------------------------------ state over chunks


def check_run_in_chunks(run_in_chunks):
    """Check ``run_in_chunks(rnn, x, chunk_size) -> (out (N, T, H), h_n (1, N, H))``.

    ``rnn`` is a batch-first ``torch.nn.RNN``; the answer must carry the state across chunks, so
    that its result equals ``rnn(x)`` over the whole sequence.
    """
    __tracebackhide__ = True
    import torch

    pieces = []                                  # the number of steps of every call of rnn

    class CountingRNN(torch.nn.RNN):
        def forward(self, x, h=None):
            pieces.append(int(x.shape[1]))
            return super().forward(x, h)

    gen = torch.Generator().manual_seed(21)
    rnn = CountingRNN(2, 4, batch_first=True, dtype=torch.float64)
    with torch.no_grad():
        for p in rnn.parameters():
            p.copy_(torch.randn(p.shape, generator=gen, dtype=torch.float64) * 0.5)
        x = torch.randn(3, 10, 2, generator=gen, dtype=torch.float64)
        full_out, full_h = rnn(x)
        name = "run_in_chunks(rnn, x, 4)"
        pieces.clear()
        result = call_answer("run_in_chunks", run_in_chunks, rnn, x, 4)
    if pieces and max(pieces) > 4:
        fail(f"your `{name}` gives rnn {max(pieces)} steps in one call; the point is to run it "
             "on chunks of at most chunk_size steps.",
             "loop over start = 0, chunk_size, 2 * chunk_size, ... and call rnn on "
             "x[:, start:start + chunk_size], passing the state along.")
    if not isinstance(result, tuple) or len(result) != 2:
        fail(f"your `{name}` returned {type(result).__name__}; expected a pair (out, h_n).",
             "return the outputs of all chunks joined along time, and the last state.")
    out, h_n = result
    out = expect_shape(f"{name}[0] (out)", out, (3, 10, 4),
                       hint="join the chunk outputs along the time axis: torch.cat(..., dim=1).")
    h_n = expect_shape(f"{name}[1] (h_n)", h_n, (1, 3, 4),
                       hint="return the state as nn.RNN does: (num_layers, N, H).")
    with torch.no_grad():
        reset = torch.cat([rnn(x[:, s:s + 4])[0] for s in range(0, 10, 4)], dim=1).numpy()
    if _same(out, reset):
        fail(f"your `{name}` starts every chunk from a zero state.",
             "pass the state returned by one chunk as h0 of the next: rnn(chunk, h).")
    expect_close(f"{name}[0] (out)", out, full_out.numpy(), rtol=1e-10, atol=1e-12,
                 hint="every chunk must start from the state the previous chunk ended in.")
    expect_close(f"{name}[1] (h_n)", h_n, full_h.numpy(), rtol=1e-10, atol=1e-12)
    passed("run_in_chunks: with the state carried, the chunks equal one run")


# ---------------------------------------------------------------------- teacher forcing


def check_decoder_inputs(decoder_inputs):
    """Check ``decoder_inputs(targets, start_token) -> (N, T)``: targets shifted right by one."""
    __tracebackhide__ = True
    targets = np.array([[5, 6, 7, 8], [9, 3, 4, 2]])
    original = targets.copy()
    name = "decoder_inputs(targets, start_token=1)"
    got = call_answer("decoder_inputs", decoder_inputs, targets, 1)
    if not np.array_equal(targets, original):
        fail(f"your `{name}` changed `targets` in place.",
             "build a new array (np.concatenate or np.empty_like plus slices); the targets are "
             "still needed for the loss.")
    got = expect_shape(name, got, targets.shape,
                       hint="the decoder reads T inputs for T targets: drop the last target.")
    expected = np.array([[1, 5, 6, 7], [1, 9, 3, 4]])
    if np.array_equal(got, targets):
        fail(f"your `{name}` returns the targets unchanged.",
             "at step t the decoder reads the target of step t - 1 (and the start token at t = 0).")
    if np.array_equal(got, np.array([[6, 7, 8, 1], [3, 4, 2, 1]])):
        fail(f"your `{name}` shifts to the left: the decoder would read the answer it must "
             "predict.",
             "shift right: [start, y_1, ..., y_{T-1}].")
    expect_equal(name, got, expected, hint="expected [start, y_1, ..., y_{T-1}] in every row.")
    passed("decoder_inputs: [start, y_1, ..., y_{T-1}], targets untouched")
