"""PyTorch modules written from the equations, compatible with ``torch.nn``.

Cells (one time step) and layers (whole sequences, deep and bidirectional) with the parameter names,
shapes, initialisation and call conventions of ``torch.nn``, so weights copy both ways with
``load_state_dict``:

    RNNCell, LSTMCell, GRUCell     drop-in for torch.nn.RNNCell, LSTMCell, GRUCell
    RNN, LSTM, GRU                 drop-in for torch.nn.RNN, LSTM, GRU (no PackedSequence, no
                                   proj_size)

The recurrent updates themselves, as plain functions of tensors:

    affine(x, W, b)                       x @ W.T + b
    rnn_step, lstm_step, gru_step         one step given the input projection W_ih x + b_ih
    fused_lstm_layer                      a whole LSTM layer with a hand-written backward pass
"""

from rnnbook.modules.cells import (
    GRUCell,
    LSTMCell,
    RNNCell,
    affine,
    gru_step,
    lstm_step,
    rnn_step,
)
from rnnbook.modules.fused_lstm import fused_lstm_layer
from rnnbook.modules.recurrent import GRU, LSTM, RNN

__all__ = [
    "GRU",
    "GRUCell",
    "LSTM",
    "LSTMCell",
    "RNN",
    "RNNCell",
    "affine",
    "fused_lstm_layer",
    "gru_step",
    "lstm_step",
    "rnn_step",
]
