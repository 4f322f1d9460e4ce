"""One time step of the vanilla RNN, the LSTM and the GRU, written from the equations.

Each step is split in two, because the two halves behave differently over a sequence:

1. the *input projection* ``gx = W_ih x_t + b_ih`` depends only on the input, so a layer can compute
   it for all time steps at once with one large matrix product;
2. the *recurrent update* (the ``*_step`` functions below) needs the previous state and must run one
   step after the other.

The ``*Cell`` modules do both halves for a single step and are drop-in replacements for
``torch.nn.RNNCell``, ``torch.nn.LSTMCell`` and ``torch.nn.GRUCell``: same constructor, parameter
names and shapes, initialisation, call signature and return values, so that ``load_state_dict``
copies weights in both directions.

Shapes: N is the batch size, D the input size, H the hidden size. A weight matrix is stored as
(out_features, in_features), so a batch of row vectors ``x`` of shape (N, D) is multiplied as
``x @ W.T``. The gates are stacked in PyTorch's order: LSTM (i, f, g, o), GRU (r, z, n).
"""

import math

import torch
from torch import nn

from rnnbook.modules._validation import (
    check_cell_input,
    check_nonlinearity,
    check_sizes,
)


def affine(x, weight, bias=None):
    """``x @ weight.T + bias``: the map ``W x + b`` applied to each row of ``x``.

    Args:
        x: tensor of shape (..., in_features).
        weight: tensor of shape (out_features, in_features).
        bias: tensor of shape (out_features,) or None.

    Returns:
        Tensor of shape (..., out_features).
    """
    y = x @ weight.T
    return y if bias is None else y + bias


def rnn_step(gx, h, weight_hh, bias_hh=None, nonlinearity="tanh"):
    """Recurrent update of the vanilla (Elman) RNN.

    ``h' = act(gx + W_hh h + b_hh)`` with ``gx = W_ih x + b_ih`` and act = tanh or ReLU.

    Args:
        gx: input projection, shape (N, H) (or (H,) for one example).
        h: previous hidden state, shape (N, H).
        weight_hh: shape (H, H).
        bias_hh: shape (H,) or None.
        nonlinearity: ``"tanh"`` or ``"relu"``.

    Returns:
        The new hidden state h', shape (N, H).
    """
    pre = gx + affine(h, weight_hh, bias_hh)
    return torch.tanh(pre) if nonlinearity == "tanh" else torch.relu(pre)


def lstm_step(gx, h, c, weight_hh, bias_hh=None):
    """Recurrent update of the LSTM.

    With ``gx = W_ih x + b_ih`` stacked as the four gates (i, f, g, o)::

        [i, f, g, o] = gx + W_hh h + b_hh            each (N, H)
        i, f, o = sigmoid(i), sigmoid(f), sigmoid(o)  input, forget, output gates
        g = tanh(g)                                   candidate cell state
        c' = f * c + i * g                            (* is the elementwise product)
        h' = o * tanh(c')

    Args:
        gx: input projection, shape (N, 4H).
        h: previous hidden state, shape (N, H).
        c: previous cell state, shape (N, H).
        weight_hh: shape (4H, H).
        bias_hh: shape (4H,) or None.

    Returns:
        ``(h', c')``, each of shape (N, H).
    """
    gates = gx + affine(h, weight_hh, bias_hh)
    i, f, g, o = gates.chunk(4, dim=-1)
    i, f, g, o = torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)
    c = f * c + i * g
    h = o * torch.tanh(c)
    return h, c


def gru_step(gx, h, weight_hh, bias_hh=None):
    """Recurrent update of the GRU, in PyTorch's variant.

    With ``gx = W_ih x + b_ih`` stacked as (r, z, n) and ``gh = W_hh h + b_hh`` likewise::

        r = sigmoid(gx_r + gh_r)             reset gate
        z = sigmoid(gx_z + gh_z)             update gate
        n = tanh(gx_n + r * gh_n)            candidate state
        h' = (1 - z) * n + z * h

    PyTorch (like cuDNN) applies the reset gate *after* the matrix product, ``r * (W_hn h + b_hn)``;
    Cho et al. (2014) apply it before, ``W_hn (r * h)``. The two are different functions, so weights
    do not carry over between them.

    Args:
        gx: input projection, shape (N, 3H).
        h: previous hidden state, shape (N, H).
        weight_hh: shape (3H, H).
        bias_hh: shape (3H,) or None.

    Returns:
        The new hidden state h', shape (N, H).
    """
    gh = affine(h, weight_hh, bias_hh)
    gx_r, gx_z, gx_n = gx.chunk(3, dim=-1)
    gh_r, gh_z, gh_n = gh.chunk(3, dim=-1)
    r = torch.sigmoid(gx_r + gh_r)
    z = torch.sigmoid(gx_z + gh_z)
    n = torch.tanh(gx_n + r * gh_n)
    return (1 - z) * n + z * h


class _CellBase(nn.Module):
    """Parameters and initialisation shared by the three cells.

    ``num_gates`` is the number of H-sized blocks stacked in the weights: 1 (RNN), 4 (LSTM),
    3 (GRU).
    """

    num_gates = 1

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__()
        check_sizes(input_size, hidden_size)
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        rows = self.num_gates * hidden_size
        factory = {"device": device, "dtype": dtype}
        self.weight_ih = nn.Parameter(torch.empty(rows, input_size, **factory))
        self.weight_hh = nn.Parameter(torch.empty(rows, hidden_size, **factory))
        if bias:
            self.bias_ih = nn.Parameter(torch.empty(rows, **factory))
            self.bias_hh = nn.Parameter(torch.empty(rows, **factory))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self):
        """Draw every parameter from U(-1/sqrt(H), 1/sqrt(H)), as torch.nn does."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for parameter in self.parameters():
            nn.init.uniform_(parameter, -bound, bound)

    def extra_repr(self):
        text = f"{self.input_size}, {self.hidden_size}"
        if not self.bias:
            text += ", bias=False"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            text += f", nonlinearity={self.nonlinearity!r}"
        return text

    def _zeros(self, input):
        """A zero state shaped like one step of hidden state for ``input``."""
        return input.new_zeros(*input.shape[:-1], self.hidden_size)


class RNNCell(_CellBase):
    r"""One step of the vanilla (Elman) RNN: ``h' = act(W_ih x + b_ih + W_hh h + b_hh)``.

    act is tanh (default) or ReLU. A drop-in replacement for ``torch.nn.RNNCell``.

    Args:
        input_size: D, the number of features of x.
        hidden_size: H, the number of features of h.
        bias: if False, the cell has no ``bias_ih`` and ``bias_hh``.
        nonlinearity: ``"tanh"`` or ``"relu"``.
        device, dtype: where and in which precision to create the parameters.

    Parameters:
        weight_ih: (H, D).  weight_hh: (H, H).  bias_ih, bias_hh: (H,).
        All drawn from U(-1/sqrt(H), 1/sqrt(H)).

    Call:
        ``cell(input, hx=None)`` with input (N, D) or (D,), hx (N, H) or (H,) (zeros if omitted).
        Returns h' of the same shape as hx.
    """

    num_gates = 1

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None,
                 dtype=None):
        check_nonlinearity(nonlinearity)
        super().__init__(input_size, hidden_size, bias, device=device, dtype=dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        check_cell_input(input, hx, self.input_size, self.hidden_size, self.weight_ih, 1)
        h = self._zeros(input) if hx is None else hx
        gx = affine(input, self.weight_ih, self.bias_ih)
        return rnn_step(gx, h, self.weight_hh, self.bias_hh, self.nonlinearity)


class LSTMCell(_CellBase):
    r"""One step of the LSTM (Hochreiter & Schmidhuber 1997; forget gate: Gers et al. 2000).

    A drop-in replacement for ``torch.nn.LSTMCell``. With the gates stacked as (i, f, g, o)::

        [i, f, g, o] = W_ih x + b_ih + W_hh h + b_hh          each (N, H)
        c' = sigmoid(f) * c + sigmoid(i) * tanh(g)
        h' = sigmoid(o) * tanh(c')

    Args:
        input_size: D.  hidden_size: H.  bias: if False, no ``bias_ih`` and ``bias_hh``.
        device, dtype: where and in which precision to create the parameters.

    Parameters:
        weight_ih: (4H, D).  weight_hh: (4H, H).  bias_ih, bias_hh: (4H,).
        Rows [0:H] belong to i, [H:2H] to f, [2H:3H] to g, [3H:4H] to o.
        All drawn from U(-1/sqrt(H), 1/sqrt(H)).

    Call:
        ``cell(input, hx=None)`` with input (N, D) or (D,) and hx a tuple ``(h, c)`` of tensors
        (N, H) or (H,) (zeros if omitted). Returns ``(h', c')`` of the same shapes.
    """

    num_gates = 4

    def forward(self, input, hx=None):
        check_cell_input(input, hx, self.input_size, self.hidden_size, self.weight_ih, 2)
        h, c = (self._zeros(input), self._zeros(input)) if hx is None else hx
        gx = affine(input, self.weight_ih, self.bias_ih)
        return lstm_step(gx, h, c, self.weight_hh, self.bias_hh)


class GRUCell(_CellBase):
    r"""One step of the gated recurrent unit, in PyTorch's variant.

    A drop-in replacement for ``torch.nn.GRUCell``. With the gates stacked as (r, z, n)::

        r = sigmoid(W_ir x + b_ir + W_hr h + b_hr)
        z = sigmoid(W_iz x + b_iz + W_hz h + b_hz)
        n = tanh(W_in x + b_in + r * (W_hn h + b_hn))
        h' = (1 - z) * n + z * h

    Cho et al. (2014) place the reset gate inside the product, ``W_hn (r * h)``; see
    :func:`gru_step`.

    Args:
        input_size: D.  hidden_size: H.  bias: if False, no ``bias_ih`` and ``bias_hh``.
        device, dtype: where and in which precision to create the parameters.

    Parameters:
        weight_ih: (3H, D).  weight_hh: (3H, H).  bias_ih, bias_hh: (3H,).
        Rows [0:H] belong to r, [H:2H] to z, [2H:3H] to n.
        All drawn from U(-1/sqrt(H), 1/sqrt(H)).

    Call:
        ``cell(input, hx=None)`` with input (N, D) or (D,), hx (N, H) or (H,) (zeros if omitted).
        Returns h' of the same shape as hx.
    """

    num_gates = 3

    def forward(self, input, hx=None):
        check_cell_input(input, hx, self.input_size, self.hidden_size, self.weight_ih, 1)
        h = self._zeros(input) if hx is None else hx
        gx = affine(input, self.weight_ih, self.bias_ih)
        return gru_step(gx, h, self.weight_hh, self.bias_hh)
