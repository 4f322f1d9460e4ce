"""Sequence models for the long-range tasks of chapter 5 (and the classifiers of chapter 6).

A recurrent layer of a chosen kind reads the whole sequence; a linear readout turns either its
final state (many-to-one) or its state at every step (many-to-many) into the prediction:

    recurrent_layer(kind, D, H, ...)      a batch-first torch.nn or rnnbook.modules RNN/LSTM/GRU
    RecurrentEncoder(D, H, kind, ...)     (N, T, D) -> outputs (N, T, H*dirs), final (N, H*dirs)
    SequenceRegressor(D, H, out, ...)     (N, T, D) -> (N, out), from the final state
    SequenceClassifier(D, H, C, ...)      (N, T, D) -> logits (N, C), from the final state
    SequenceTagger(V, H, C, ...)          tokens (N, T) -> logits (N, T, C), one per step
    lstm_gate_trace(lstm, x)              the gates and cell states of an LSTM's first layer
    gru_gate_trace(gru, x)                the gates of a GRU's first layer

``kind`` is ``"rnn"`` (tanh Elman RNN), ``"lstm"`` or ``"gru"``; ``impl="torch"`` (default) builds
the layer from ``torch.nn`` (fast), ``impl="book"`` from ``rnnbook.modules`` (the same parameters,
names and numbers, written from the equations). Shapes: N batch, T steps, D input features, H
hidden size, dirs = 2 if bidirectional else 1, L = num_layers.

The final state of a layer is read from ``h_n`` (never from ``output[:, -1]``, which for the
reverse direction is the state after reading one step only): ``h_n.view(L, dirs, N, H)[-1]`` is
the last layer's final state of each direction, the forward one after step T-1 and the reverse one
after step 0; the encoder concatenates them as ``[forward; reverse]``.
"""

import numbers

import torch
from torch import nn

from rnnbook import modules as book_modules

__all__ = [
    "IMPLS",
    "KINDS",
    "RecurrentEncoder",
    "SequenceClassifier",
    "SequenceRegressor",
    "SequenceTagger",
    "gru_gate_trace",
    "lstm_gate_trace",
    "recurrent_layer",
]

KINDS = ("rnn", "lstm", "gru")
IMPLS = ("torch", "book")

_TORCH = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}
_BOOK = {"rnn": book_modules.RNN, "lstm": book_modules.LSTM, "gru": book_modules.GRU}


def _check_choice(name, value, choices):
    if value not in choices:
        raise ValueError(f"{name}: expected one of {choices}, got {value!r}")


def _check_positive_int(name, value):
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name}: expected a positive integer, got {value!r}")
    return int(value)


def recurrent_layer(kind, input_size, hidden_size, num_layers=1, bidirectional=False,
                    dropout=0.0, impl="torch"):
    """A batch-first recurrent layer: ``torch.nn.RNN/LSTM/GRU`` or its ``rnnbook.modules`` twin.

    Args:
        kind: ``"rnn"``, ``"lstm"`` or ``"gru"``.
        input_size: D.  hidden_size: H.  num_layers: L, stacked layers.
        bidirectional: add a reverse direction (the output then has 2H features).
        dropout: dropout probability on the outputs of every layer but the last (training only);
            must be 0 when ``num_layers == 1``, where it would do nothing.
        impl: ``"torch"`` or ``"book"``.

    Returns:
        The module, called as ``layer(x)`` with x of shape (N, T, D).
    """
    _check_choice("kind", kind, KINDS)
    _check_choice("impl", impl, IMPLS)
    _check_positive_int("input_size", input_size)
    _check_positive_int("hidden_size", hidden_size)
    L = _check_positive_int("num_layers", num_layers)
    if not isinstance(dropout, numbers.Real) or not 0 <= dropout < 1:
        raise ValueError(f"dropout: expected a probability in [0, 1), got {dropout!r}")
    if dropout > 0 and L == 1:
        raise ValueError(
            f"dropout: acts between stacked layers only, so it needs num_layers > 1 "
            f"(got dropout={dropout!r}, num_layers=1)"
        )
    cls = (_TORCH if impl == "torch" else _BOOK)[kind]
    return cls(input_size, hidden_size, num_layers=L, batch_first=True,
               bidirectional=bool(bidirectional), dropout=float(dropout))


def _check_sequence(name, x, size):
    if not isinstance(x, torch.Tensor) or x.dim() != 3 or x.shape[-1] != size or x.shape[1] < 1:
        shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise ValueError(f"{name}: expected a tensor of shape (N, T, {size}) with T >= 1, "
                         f"got {shape}")


class RecurrentEncoder(nn.Module):
    """A recurrent layer that returns its states at every step and its final state.

    Args:
        input_size: D.  hidden_size: H.
        kind: ``"rnn"``, ``"lstm"`` (default) or ``"gru"``.
        num_layers: L.  bidirectional: read the sequence in both directions.
        dropout: between stacked layers (see :func:`recurrent_layer`).
        impl: ``"torch"`` or ``"book"``.
        forget_bias: LSTM only: if given, the forget gate's total bias
            ``b_ih + b_hh`` starts at this value in every layer (1.0 as in Jozefowicz, Zaremba and
            Sutskever 2015); None keeps the default initialisation.

    Attributes:
        rnn: the recurrent layer.  output_size: H * dirs, the feature size of both outputs.

    Call:
        ``encoder(x)`` with x (N, T, D) float returns ``(outputs, final)``: outputs (N, T, H*dirs),
        the last layer's state at every step; final (N, H*dirs), the last layer's final hidden
        state ``[forward after step T-1; reverse after step 0]``.
    """

    def __init__(self, input_size, hidden_size, kind="lstm", num_layers=1, bidirectional=False,
                 dropout=0.0, impl="torch", forget_bias=None):
        super().__init__()
        self.kind, self.impl = kind, impl
        self.rnn = recurrent_layer(kind, input_size, hidden_size, num_layers, bidirectional,
                                   dropout, impl)
        self.input_size, self.hidden_size = input_size, hidden_size
        self.num_layers = num_layers
        self.num_directions = 2 if bidirectional else 1
        self.output_size = hidden_size * self.num_directions
        if forget_bias is not None:
            if kind != "lstm":
                raise ValueError(f"forget_bias: only an LSTM has a forget gate, got kind={kind!r}")
            self.set_forget_bias(float(forget_bias))

    @torch.no_grad()
    def set_forget_bias(self, value):
        """Set the forget gate's bias ``b_ih + b_hh`` (rows H..2H, gate order i, f, g, o)."""
        H = self.hidden_size
        for name, param in self.rnn.named_parameters():
            if name.startswith("bias_ih"):
                param[H:2 * H] = value
            elif name.startswith("bias_hh"):
                param[H:2 * H] = 0.0

    def forward(self, x):
        _check_sequence("x", x, self.input_size)
        outputs, state = self.rnn(x)
        h_n = state[0] if self.kind == "lstm" else state  # (L * dirs, N, H)
        N = x.shape[0]
        last = h_n.view(self.num_layers, self.num_directions, N, self.hidden_size)[-1]
        final = last.transpose(0, 1).reshape(N, self.output_size)  # [forward; reverse]
        return outputs, final


class SequenceRegressor(nn.Module):
    """Many-to-one regression: a recurrent encoder and a linear map of its final state.

    Args:
        input_size: D.  hidden_size: H.  output_size: outputs per sequence (default 1).
        **encoder_kwargs: ``kind``, ``num_layers``, ``bidirectional``, ``dropout``, ``impl``,
            ``forget_bias``, as in :class:`RecurrentEncoder`.

    Call:
        ``model(x)`` with x (N, T, D) returns (N, output_size).  ``model.encoder`` is the encoder.
    """

    def __init__(self, input_size, hidden_size, output_size=1, **encoder_kwargs):
        super().__init__()
        _check_positive_int("output_size", output_size)
        self.encoder = RecurrentEncoder(input_size, hidden_size, **encoder_kwargs)
        self.readout = nn.Linear(self.encoder.output_size, output_size)

    def forward(self, x):
        _, final = self.encoder(x)
        return self.readout(final)


class SequenceClassifier(SequenceRegressor):
    """Many-to-one classification: the final state mapped to ``num_classes`` logits.

    Args:
        input_size: D.  hidden_size: H.  num_classes: C.
        **encoder_kwargs: as in :class:`RecurrentEncoder`.

    Call:
        ``model(x)`` with x (N, T, D) returns logits (N, C) (use ``nn.functional.cross_entropy``).
    """

    def __init__(self, input_size, hidden_size, num_classes, **encoder_kwargs):
        _check_positive_int("num_classes", num_classes)
        super().__init__(input_size, hidden_size, num_classes, **encoder_kwargs)
        self.num_classes = num_classes


class SequenceTagger(nn.Module):
    """Many-to-many classification of token sequences: one set of logits per step.

    The tokens enter one-hot encoded (no embedding to learn), so the recurrent layer sees
    ``vocab_size`` input features.

    Args:
        vocab_size: V, the number of token kinds (ids ``0 .. V-1``).
        hidden_size: H.  num_classes: C, the classes predicted at each step.
        **encoder_kwargs: as in :class:`RecurrentEncoder`.

    Call:
        ``model(tokens)`` with tokens (N, T) int64 returns logits (N, T, C); with a bidirectional
        encoder the logits at step t see the whole sequence, otherwise steps 0..t only.
    """

    def __init__(self, vocab_size, hidden_size, num_classes, **encoder_kwargs):
        super().__init__()
        self.vocab_size = _check_positive_int("vocab_size", vocab_size)
        self.num_classes = _check_positive_int("num_classes", num_classes)
        self.encoder = RecurrentEncoder(vocab_size, hidden_size, **encoder_kwargs)
        self.readout = nn.Linear(self.encoder.output_size, num_classes)

    def forward(self, tokens):
        if (not isinstance(tokens, torch.Tensor) or tokens.dim() != 2
                or tokens.dtype != torch.int64):
            got = (f"{tuple(tokens.shape)} {tokens.dtype}" if isinstance(tokens, torch.Tensor)
                   else type(tokens).__name__)
            raise ValueError(f"tokens: expected an int64 tensor of shape (N, T), got {got}")
        if tokens.numel() and (tokens.min() < 0 or tokens.max() >= self.vocab_size):
            raise ValueError(f"tokens: expected ids in 0 .. {self.vocab_size - 1}, got "
                             f"{int(tokens.min())} .. {int(tokens.max())}")
        x = nn.functional.one_hot(tokens, self.vocab_size).to(self.readout.weight.dtype)
        outputs, _ = self.encoder(x)
        return self.readout(outputs)


def _first_layer(layer, kind, x):
    expected = {"lstm": (nn.LSTM, book_modules.LSTM), "gru": (nn.GRU, book_modules.GRU)}[kind]
    if not isinstance(layer, expected):
        raise ValueError(f"{kind}: expected a torch.nn or rnnbook.modules {kind.upper()}, "
                         f"got {type(layer).__name__}")
    if not layer.batch_first:
        raise ValueError(f"{kind}: expected a batch_first layer (as recurrent_layer builds)")
    _check_sequence("x", x, layer.input_size)
    rows = layer.weight_ih_l0.shape[0]
    zeros = layer.weight_ih_l0.new_zeros(rows)
    return (layer.weight_ih_l0, layer.weight_hh_l0, getattr(layer, "bias_ih_l0", zeros),
            getattr(layer, "bias_hh_l0", zeros))


@torch.no_grad()
def lstm_gate_trace(lstm, x):
    """The gates and states of an LSTM's first layer (forward direction) at every step.

    Recomputes the layer from its weights with the equations of ``rnnbook.modules.lstm_step``
    (gate order i, f, g, o), from zero initial states.

    Args:
        lstm: a batch-first ``torch.nn.LSTM`` or ``rnnbook.modules.LSTM``.
        x: input of shape (N, T, D).

    Returns:
        dict of tensors, each of shape (N, T, H): ``"i"``, ``"f"``, ``"o"`` (the sigmoid gates),
        ``"g"`` (the tanh candidate), ``"c"`` (the cell state after the step) and ``"h"`` (the
        hidden state after the step, equal to the layer's output for a one-layer unidirectional
        LSTM).
    """
    W_ih, W_hh, b_ih, b_hh = _first_layer(lstm, "lstm", x)
    N, T, _ = x.shape
    H = lstm.hidden_size
    h = x.new_zeros(N, H)
    c = x.new_zeros(N, H)
    gx = x @ W_ih.T + b_ih  # (N, T, 4H)
    trace = {key: [] for key in "ifgoch"}
    for t in range(T):
        i, f, g, o = (gx[:, t] + h @ W_hh.T + b_hh).chunk(4, dim=-1)
        i, f, g, o = torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)
        c = f * c + i * g
        h = o * torch.tanh(c)
        for key, value in zip("ifgoch", (i, f, g, o, c, h), strict=True):
            trace[key].append(value)
    return {key: torch.stack(values, dim=1) for key, values in trace.items()}


@torch.no_grad()
def gru_gate_trace(gru, x):
    """The gates and states of a GRU's first layer (forward direction) at every step.

    PyTorch's GRU (gate order r, z, n; the reset gate multiplies ``W_hn h + b_hn``), from a zero
    initial state.

    Args:
        gru: a batch-first ``torch.nn.GRU`` or ``rnnbook.modules.GRU``.
        x: input of shape (N, T, D).

    Returns:
        dict of tensors, each (N, T, H): ``"r"`` (reset gate), ``"z"`` (update gate: the share of
        the old state kept), ``"n"`` (candidate) and ``"h"`` (the state after the step).
    """
    W_ih, W_hh, b_ih, b_hh = _first_layer(gru, "gru", x)
    N, T, _ = x.shape
    h = x.new_zeros(N, gru.hidden_size)
    gx = x @ W_ih.T + b_ih  # (N, T, 3H)
    trace = {key: [] for key in "rznh"}
    for t in range(T):
        gx_r, gx_z, gx_n = gx[:, t].chunk(3, dim=-1)
        gh_r, gh_z, gh_n = (h @ W_hh.T + b_hh).chunk(3, dim=-1)
        r = torch.sigmoid(gx_r + gh_r)
        z = torch.sigmoid(gx_z + gh_z)
        n = torch.tanh(gx_n + r * gh_n)
        h = (1 - z) * n + z * h
        for key, value in zip("rznh", (r, z, n, h), strict=True):
            trace[key].append(value)
    return {key: torch.stack(values, dim=1) for key, values in trace.items()}
