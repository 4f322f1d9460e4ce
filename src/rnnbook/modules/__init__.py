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

Chapter 7's linear recurrences, each with a scan form (``forward``) and a step form checked equal
(their helpers live in the submodules ``min_rnn``, ``lru``, ``selective_ssm``,
``linear_attention``):

    MinGRU, MinLSTM, MinRNN        minGRU and minLSTM layers and a stack of them
    LRU                            the linear recurrent unit
    SelectiveSSM                   a selective (or time-invariant) diagonal state-space layer
    LinearAttention                causal linear attention, as attention or as an RNN
    SoftmaxAttention               causal softmax attention with a key-value cache, to compare
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
from rnnbook.modules.linear_attention import LinearAttention, SoftmaxAttention
from rnnbook.modules.lru import LRU
from rnnbook.modules.min_rnn import MinGRU, MinLSTM, MinRNN
from rnnbook.modules.recurrent import GRU, LSTM, RNN
from rnnbook.modules.selective_ssm import SelectiveSSM

__all__ = [
    "GRU",
    "GRUCell",
    "LSTM",
    "LSTMCell",
    "LRU",
    "LinearAttention",
    "MinGRU",
    "MinLSTM",
    "MinRNN",
    "RNN",
    "RNNCell",
    "SelectiveSSM",
    "SoftmaxAttention",
    "affine",
    "fused_lstm_layer",
    "gru_step",
    "lstm_step",
    "rnn_step",
]
