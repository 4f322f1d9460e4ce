"""Bad inputs to the recurrent layers: a ValueError that names the argument and both shapes."""

import re

import numpy as np
import pytest

from rnnbook.scratch import (
    gru_forward,
    gru_step_forward,
    lstm_forward,
    lstm_step_forward,
    rnn_forward,
    rnn_step_forward,
)

N, T, D, H = 2, 3, 3, 4
CELLS = {"rnn": (rnn_forward, 1), "lstm": (lstm_forward, 4), "gru": (gru_forward, 3)}


def valid_args(cell):
    """Valid float64 arguments of ``cell``'s sequence forward function, as a dict."""
    G = CELLS[cell][1]
    rng = np.random.default_rng(0)
    args = dict(x=rng.standard_normal((N, T, D)), h0=rng.standard_normal((N, H)),
                W_xh=rng.standard_normal((G * H, D)), W_hh=rng.standard_normal((G * H, H)))
    if cell == "gru":
        args.update(b_xh=rng.standard_normal(G * H), b_hh=rng.standard_normal(G * H))
    else:
        args.update(b=rng.standard_normal(G * H))
    return args


def gh(cell):
    """The symbol and size of the stacked gate axis, e.g. ("4H", 16) for the LSTM."""
    G = CELLS[cell][1]
    return ("H" if G == 1 else f"{G}H"), G * H


def expect_error(cell, message, **changes):
    forward = CELLS[cell][0]
    with pytest.raises(ValueError, match=re.escape(message)):
        forward(**(valid_args(cell) | changes))


@pytest.mark.parametrize("cell", CELLS)
def test_valid_arguments_pass(cell):
    h, _ = CELLS[cell][0](**valid_args(cell))
    assert h.shape == (N, T, H)


@pytest.mark.parametrize("cell", CELLS)
def test_transposed_input_weight(cell):
    symbol, size = gh(cell)
    W_xh = valid_args(cell)["W_xh"].T
    expect_error(cell, f"W_xh: expected shape ({symbol}, D) = ({size}, {D}), got ({D}, {size}) "
                       f"(H = {H} from h0); is it transposed?", W_xh=W_xh)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_transposed_recurrent_weight(cell):
    symbol, size = gh(cell)
    W_hh = valid_args(cell)["W_hh"].T
    expect_error(cell, f"W_hh: expected shape ({symbol}, H) = ({size}, {H}), got ({H}, {size}) "
                       f"(H = {H} from h0); is it transposed?", W_hh=W_hh)


@pytest.mark.parametrize("cell", CELLS)
def test_mismatched_batch(cell):
    expect_error(cell, f"h0: expected shape (N, H) = ({N}, H), got ({N + 1}, {H}) "
                       f"(N = {N} from x)", h0=np.zeros((N + 1, H)))


@pytest.mark.parametrize("cell", CELLS)
def test_mismatched_input_width(cell):
    symbol, size = gh(cell)
    expect_error(cell, f"W_xh: expected shape ({symbol}, D) = ({size}, {D + 1}), "
                       f"got ({size}, {D}) (D = {D + 1} from x)", x=np.zeros((N, T, D + 1)))


@pytest.mark.parametrize("cell", CELLS)
def test_missing_time_axis(cell):
    expect_error(cell, f"x: expected 3 axes (N, T, D), got shape ({N}, {D})",
                 x=np.zeros((N, D)))


@pytest.mark.parametrize("cell", CELLS)
def test_empty_sequence(cell):
    expect_error(cell, f"x: axis 1 (T) has length 0 in shape ({N}, 0, {D}); an empty sequence "
                       "is not allowed", x=np.zeros((N, 0, D)))


@pytest.mark.parametrize("cell, other", [("rnn", "lstm"), ("lstm", "rnn"), ("gru", "lstm"),
                                         ("lstm", "gru")])
def test_weights_of_another_cell(cell, other):
    symbol, size = gh(cell)
    W_xh = valid_args(other)["W_xh"]
    expect_error(cell, f"W_xh: expected shape ({symbol}, D) = ({size}, {D}), "
                       f"got ({W_xh.shape[0]}, {D}) (H = {H} from h0)", W_xh=W_xh)


@pytest.mark.parametrize("cell", CELLS)
def test_wrong_bias_length(cell):
    symbol, size = gh(cell)
    name = "b_hh" if cell == "gru" else "b"
    expect_error(cell, f"{name}: expected shape ({symbol},) = ({size},), got ({size + 1},)",
                 **{name: np.zeros(size + 1)})


@pytest.mark.parametrize("cell", CELLS)
def test_integer_input(cell):
    expect_error(cell, "x: expected a floating-point array, got dtype int64",
                 x=np.zeros((N, T, D), dtype=np.int64))


@pytest.mark.parametrize("cell", CELLS)
def test_mixed_dtypes(cell):
    W_hh = valid_args(cell)["W_hh"].astype(np.float32)
    expect_error(cell, "expected one dtype for all arrays, got x is float64, h0 is float64",
                 W_hh=W_hh)
    expect_error(cell, "W_hh is float32", W_hh=W_hh)


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("name", ["x", "h0", "W_hh"])
def test_nan_input(cell, name):
    value = valid_args(cell)[name].copy()
    value.flat[1] = np.nan
    expect_error(cell, f"{name}: contains NaN or infinity", **{name: value})


def test_lstm_initial_cell_state():
    expect_error("lstm", f"c0: expected shape (N, H) = ({N}, {H}), got ({H}, {N}) "
                         f"(N = {N} from x); is it transposed?", c0=np.zeros((H, N)))
    expect_error("lstm", "c0: contains NaN", c0=np.full((N, H), np.nan))


def test_not_an_array():
    expect_error("rnn", "x: expected an array of shape (N, T, D), got list",
                 x=np.zeros((N, T, D)).tolist())


def test_step_functions_check_their_arguments():
    rng = np.random.default_rng(1)
    x, h = rng.standard_normal((N, D)), rng.standard_normal((N, H))
    with pytest.raises(ValueError, match=re.escape(
            f"W_xh: expected shape (H, D) = ({H}, {D}), got ({D}, {H}) (H = {H} from h_prev)")):
        rnn_step_forward(x, h, np.zeros((D, H)), np.zeros((H, H)), np.zeros(H))
    with pytest.raises(ValueError, match=re.escape(
            f"c_prev: expected shape (N, H) = ({N}, {H}), got ({N}, {H + 1}) "
            f"(H = {H} from h_prev)")):
        lstm_step_forward(x, h, np.zeros((N, H + 1)), np.zeros((4 * H, D)), np.zeros((4 * H, H)),
                          np.zeros(4 * H))
    with pytest.raises(ValueError, match=re.escape("x: expected 2 axes (N, D), got shape")):
        gru_step_forward(x[:, None], h, np.zeros((3 * H, D)), np.zeros((3 * H, H)),
                         np.zeros(3 * H), np.zeros(3 * H))
    with pytest.raises(ValueError, match="b_xh: expected a floating-point array"):
        gru_step_forward(x, h, np.zeros((3 * H, D)), np.zeros((3 * H, H)),
                         np.zeros(3 * H, dtype=int), np.zeros(3 * H))
