"""Bad arguments to rnnbook.modules: clear errors that name the argument and the shapes."""

import numpy as np
import pytest
import torch
from torch.nn.utils.rnn import pack_padded_sequence

from rnnbook import modules

LAYERS = [modules.RNN, modules.LSTM, modules.GRU]
CELLS = [modules.RNNCell, modules.LSTMCell, modules.GRUCell]


def states(cls, *shape):
    """hx for a layer or cell class: a tuple (h_0, c_0) for the LSTM, one tensor otherwise."""
    if cls in (modules.LSTM, modules.LSTMCell):
        return torch.zeros(*shape), torch.zeros(*shape)
    return torch.zeros(*shape)


# -------------------------------------------------------------------------------------------------
# Multi-step layers


@pytest.mark.parametrize("cls", LAYERS)
def test_wrong_input_width(cls):
    layer = cls(10, 4)
    with pytest.raises(ValueError, match=r"input.*\(5, 3, 7\)") as info:
        layer(torch.randn(5, 3, 7))
    assert "10" in str(info.value) and "input_size" in str(info.value)


@pytest.mark.parametrize("cls", LAYERS)
def test_wrong_input_width_batch_first_and_unbatched(cls):
    with pytest.raises(ValueError, match=r"input.*\(3, 5, 7\)"):
        cls(10, 4, batch_first=True)(torch.randn(3, 5, 7))
    with pytest.raises(ValueError, match=r"input.*\(5, 7\)"):
        cls(10, 4)(torch.randn(5, 7))


@pytest.mark.parametrize("cls", LAYERS)
@pytest.mark.parametrize("shape", [(4,), (2, 5, 3, 4)])
def test_wrong_number_of_input_axes(cls, shape):
    with pytest.raises(ValueError, match=r"input: expected 3 axes") as info:
        cls(4, 3)(torch.randn(*shape))
    assert str(shape) in str(info.value)


@pytest.mark.parametrize("cls", LAYERS)
@pytest.mark.parametrize("batch_first", [False, True])
def test_empty_sequence(cls, batch_first):
    x = torch.randn(3, 0, 4) if batch_first else torch.randn(0, 3, 4)
    with pytest.raises(ValueError, match=r"input.*empty sequence"):
        cls(4, 5, batch_first=batch_first)(x)
    with pytest.raises(ValueError, match=r"input.*empty sequence"):
        cls(4, 5)(torch.randn(0, 4))


@pytest.mark.parametrize("cls", LAYERS)
def test_integer_input(cls):
    with pytest.raises(ValueError, match=r"input.*int64") as info:
        cls(4, 5)(torch.ones(6, 2, 4, dtype=torch.int64))
    assert "float" in str(info.value)


@pytest.mark.parametrize("cls", LAYERS)
def test_input_dtype_must_match_the_parameters(cls):
    layer = cls(4, 5, dtype=torch.float64)
    with pytest.raises(ValueError, match=r"input") as info:
        layer(torch.randn(6, 2, 4))
    assert "float32" in str(info.value) and "float64" in str(info.value)


@pytest.mark.parametrize("cls", LAYERS)
def test_input_must_be_a_tensor(cls):
    with pytest.raises(TypeError, match=r"input: expected a torch.Tensor, got ndarray"):
        cls(4, 5)(np.zeros((6, 2, 4), dtype=np.float32))


@pytest.mark.parametrize("cls", LAYERS)
def test_transposed_hx(cls):
    """hx is (num_layers * num_directions, N, H) even with batch_first; (N, L, H) is rejected."""
    layer = cls(4, 5, num_layers=2, batch_first=True)
    x = torch.randn(3, 6, 4)  # N = 3
    hx = states(cls, 3, 2, 5)
    name = "h_0" if cls is modules.LSTM else "hx"
    with pytest.raises(ValueError, match=rf"{name}.*\(3, 2, 5\)") as info:
        layer(x, hx)
    assert "(2, 3, 5)" in str(info.value)  # the expected shape, with the numbers filled in


@pytest.mark.parametrize("cls", LAYERS)
def test_hx_wrong_hidden_size_and_batch(cls):
    layer = cls(4, 5)
    name = "h_0" if cls is modules.LSTM else "hx"
    with pytest.raises(ValueError, match=rf"{name}.*\(1, 2, 6\)"):
        layer(torch.randn(6, 2, 4), states(cls, 1, 2, 6))
    with pytest.raises(ValueError, match=rf"{name}.*\(1, 3, 5\)"):
        layer(torch.randn(6, 2, 4), states(cls, 1, 3, 5))


@pytest.mark.parametrize("cls", LAYERS)
def test_hx_for_bidirectional_needs_two_directions(cls):
    layer = cls(4, 5, num_layers=2, bidirectional=True)
    name = "h_0" if cls is modules.LSTM else "hx"
    with pytest.raises(ValueError, match=rf"{name}.*\(2, 3, 5\)") as info:
        layer(torch.randn(6, 3, 4), states(cls, 2, 3, 5))
    assert "num_layers * num_directions" in str(info.value)


@pytest.mark.parametrize("cls", LAYERS)
def test_batched_hx_with_unbatched_input(cls):
    name = "h_0" if cls is modules.LSTM else "hx"
    with pytest.raises(ValueError, match=rf"{name}.*\(1, 1, 5\)"):
        cls(4, 5)(torch.randn(6, 4), states(cls, 1, 1, 5))


def test_lstm_hx_must_be_a_pair():
    lstm = modules.LSTM(4, 5)
    x = torch.randn(6, 2, 4)
    with pytest.raises(TypeError, match=r"hx: expected a tuple \(h_0, c_0\).*Tensor"):
        lstm(x, torch.zeros(1, 2, 5))
    with pytest.raises(TypeError, match=r"hx: expected a tuple.*of length 1"):
        lstm(x, (torch.zeros(1, 2, 5),))


@pytest.mark.parametrize("cls", [modules.RNN, modules.GRU])
def test_rnn_and_gru_hx_is_one_tensor(cls):
    with pytest.raises(TypeError, match=r"hx: expected a tensor, got a tuple"):
        cls(4, 5)(torch.randn(6, 2, 4), (torch.zeros(1, 2, 5), torch.zeros(1, 2, 5)))


def test_lstm_c0_checked_too():
    lstm = modules.LSTM(4, 5)
    with pytest.raises(ValueError, match=r"c_0.*\(1, 2, 4\)"):
        lstm(torch.randn(6, 2, 4), (torch.zeros(1, 2, 5), torch.zeros(1, 2, 4)))
    with pytest.raises(ValueError, match=r"c_0.*int32"):
        lstm(torch.randn(6, 2, 4), (torch.zeros(1, 2, 5), torch.zeros(1, 2, 5, dtype=torch.int32)))


@pytest.mark.parametrize("cls", LAYERS)
def test_packed_sequence_is_not_supported(cls):
    packed = pack_padded_sequence(torch.randn(5, 2, 4), [5, 3])
    with pytest.raises(NotImplementedError, match=r"PackedSequence.*pad_packed_sequence"):
        cls(4, 5)(packed)


def test_proj_size_is_not_supported():
    with pytest.raises(NotImplementedError, match=r"proj_size.*not supported.*proj_size=3"):
        modules.LSTM(4, 5, proj_size=3)
    assert modules.LSTM(4, 5, proj_size=0).proj_size == 0


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"hidden_size": 0}, r"hidden_size: expected a positive integer, got 0"),
        ({"input_size": 2.5}, r"input_size: expected a positive integer, got 2.5"),
        ({"num_layers": 0}, r"num_layers: expected a positive integer, got 0"),
        ({"dropout": 1.5}, r"dropout: expected a probability in \[0, 1\], got 1.5"),
        ({"dropout": -0.1}, r"dropout: expected a probability"),
    ],
)
@pytest.mark.parametrize("cls", LAYERS)
def test_bad_constructor_arguments(cls, kwargs, match):
    arguments = {"input_size": 4, "hidden_size": 5, "num_layers": 2, **kwargs}
    with pytest.raises(ValueError, match=match):
        cls(**arguments)


def test_unknown_nonlinearity():
    with pytest.raises(ValueError, match=r"nonlinearity: expected 'tanh' or 'relu', got 'sigmoid'"):
        modules.RNN(4, 5, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match=r"nonlinearity: expected 'tanh' or 'relu'"):
        modules.RNNCell(4, 5, nonlinearity="gelu")


# -------------------------------------------------------------------------------------------------
# Cells


@pytest.mark.parametrize("cls", CELLS)
def test_cell_wrong_input_width(cls):
    with pytest.raises(ValueError, match=r"input.*\(3, 7\)") as info:
        cls(10, 4)(torch.randn(3, 7))
    assert "input_size" in str(info.value)
    with pytest.raises(ValueError, match=r"input.*\(7,\)"):
        cls(10, 4)(torch.randn(7))


@pytest.mark.parametrize("cls", CELLS)
def test_cell_wrong_number_of_axes(cls):
    with pytest.raises(ValueError, match=r"input: expected 2 axes \(N, D\) or 1 axis.*\(5, 3, 4\)"):
        cls(4, 4)(torch.randn(5, 3, 4))


@pytest.mark.parametrize("cls", CELLS)
def test_cell_hx_batch_must_match_input(cls):
    name = "h_0" if cls is modules.LSTMCell else "hx"
    with pytest.raises(ValueError, match=rf"{name}.*\(2, 4\)") as info:
        cls(3, 4)(torch.randn(5, 3), states(cls, 2, 4))
    assert "(5, 4)" in str(info.value)


@pytest.mark.parametrize("cls", CELLS)
def test_cell_transposed_hx(cls):
    name = "h_0" if cls is modules.LSTMCell else "hx"
    with pytest.raises(ValueError, match=rf"{name}.*\(4, 5\)"):
        cls(3, 4)(torch.randn(5, 3), states(cls, 4, 5))


@pytest.mark.parametrize("cls", CELLS)
def test_cell_empty_batch_and_integer_input(cls):
    with pytest.raises(ValueError, match=r"input.*\(0, 3\)"):
        cls(3, 4)(torch.randn(0, 3))
    with pytest.raises(ValueError, match=r"input.*int32"):
        cls(3, 4)(torch.ones(2, 3, dtype=torch.int32))


def test_lstm_cell_hx_must_be_a_pair():
    with pytest.raises(TypeError, match=r"hx: expected a tuple \(h_0, c_0\)"):
        modules.LSTMCell(3, 4)(torch.randn(2, 3), torch.zeros(2, 4))
